"""The conflict pages: both versions with authors; a choice resolves through the engine and syncs."""

import re

import pytest

from server.notes.tables import Note
from server.sync_tables import SyncConflict
from server.visits.tables import VisitLog
from tests.conftest import csrf_headers, login, make_client, signed_in, visible_text
from tests.server.sync.conftest import new_id


async def conflict_on(phones, entity, fields, office_fields, phone_fields):
    phone, office = await phones(), await phones("koordination")
    record_id = new_id()
    await phone.sync(phone.mutation(entity, record_id, fields))
    await office.pull_all()
    await office.sync(office.mutation(entity, record_id, office_fields, base_version=1))
    result = (await phone.sync(phone.mutation(entity, record_id, phone_fields, base_version=1)))["results"][0]
    assert result["status"] == "conflict"
    return phone, office, record_id, result["conflict_id"]


@pytest.fixture
async def desk(app, demo):
    async with signed_in(app, "koordination") as http:
        yield http


async def test_both_versions_are_shown_with_their_authors_and_taking_the_other_syncs(phones, desk):
    phone, _, log, conflict_id = await conflict_on(phones, "visit_log", {"date": "2026-03-02", "duration_minutes": 60},
                                                    {"duration_minutes": 90}, {"duration_minutes": 75})
    listing = visible_text((await desk.get("/conflicts")).text)
    assert "Begleitungsprotokoll: Dauer in Minuten" in listing and "Amina Haddad" in listing
    page = visible_text((await desk.get(f"/conflicts/{conflict_id}")).text)
    assert "Aktuelle Version von Sabine Krüger 90" in page and "Beiseitegelegte Version von Amina Haddad" in page
    response = await desk.post(f"/conflicts/{conflict_id}", data={"choice": "other"}, headers=await csrf_headers(desk))
    assert response.status_code == 303
    assert (await VisitLog.objects().where(VisitLog.id == log).first()).duration_minutes == 75
    assert (await SyncConflict.objects().where(SyncConflict.id == conflict_id).first()).resolved_at is not None
    await phone.pull_all()
    assert phone.records[("visit_log", log)]["duration_minutes"] == 75
    assert phone.records[("conflict", conflict_id)]["resolved"] is True
    assert "Keine offenen Konflikte" in (await desk.get("/conflicts")).text


async def test_the_author_resolves_a_text_conflict_with_a_combined_version(app, phones):
    _, _, note, conflict_id = await conflict_on(phones, "note", {"body": "Termin am Montag."},
                                                {"body": "Termin am Dienstag."}, {"body": "Termin am Mittwoch."})
    async with make_client(app) as browser:
        await login(browser, "lotse1")
        page = await browser.get(f"/conflicts/{conflict_id}")
        assert "Termin am Dienstag." in page.text and "Termin am Mittwoch." in page.text
        response = await browser.post(f"/conflicts/{conflict_id}", data={"choice": "edited", "value": "Termin am Dienstag oder Mittwoch."},
                                      headers=await csrf_headers(browser))
        assert response.status_code == 303
    assert (await Note.objects().where(Note.id == note).first()).body == "Termin am Dienstag oder Mittwoch."


async def test_keeping_the_current_version_changes_nothing_but_closes_the_conflict(phones, desk):
    _, _, note, conflict_id = await conflict_on(phones, "note", {"body": "A"}, {"shared": False}, {"shared": True})
    await desk.post(f"/conflicts/{conflict_id}", data={"choice": "keep"}, headers=await csrf_headers(desk))
    row = await Note.objects().where(Note.id == note).first()
    assert row.shared is False and row.version == 2
    assert (await SyncConflict.objects().where(SyncConflict.id == conflict_id).first()).resolved_at is not None


@pytest.mark.parametrize("choice", ["restore", "keep"])
async def test_an_edit_that_met_a_delete_is_restored_or_left_deleted(phones, desk, choice):
    phone, office = await phones(), await phones("koordination")
    note = new_id()
    await phone.sync(phone.mutation("note", note, {"body": "alt"}))
    await office.pull_all()
    await office.sync(office.mutation("note", note, op="delete", base_version=1))
    conflict_id = (await phone.sync(phone.mutation("note", note, {"body": "neu"}, base_version=1)))["results"][0]["conflict_id"]
    page = visible_text((await desk.get(f"/conflicts/{conflict_id}")).text)
    assert "Gelöscht" in page and "neu" in page
    await desk.post(f"/conflicts/{conflict_id}", data={"choice": choice}, headers=await csrf_headers(desk))
    row = await Note.objects().where(Note.id == note).first()
    assert (row.deleted_at is None) == (choice == "restore")
    assert (await SyncConflict.objects().where(SyncConflict.id == conflict_id).first()).resolved_at is not None


async def test_an_unknown_choice_is_refused_and_changes_nothing(phones, desk):
    _, _, log, conflict_id = await conflict_on(phones, "visit_log", {"date": "2026-03-02"}, {"duration_minutes": 90},
                                               {"duration_minutes": 75})
    response = await desk.post(f"/conflicts/{conflict_id}", data={"choice": "edited", "value": "10"}, headers=await csrf_headers(desk))
    assert response.status_code == 400  # a number is no free text to write over
    assert (await SyncConflict.objects().where(SyncConflict.id == conflict_id).first()).resolved_at is None


async def test_a_volunteer_without_pledge_sees_no_conflicts(app, demo):
    async with make_client(app) as browser:
        await login(browser, "lotse2")
        assert (await browser.get("/conflicts")).status_code == 404
        assert not re.search(r'href="/conflicts"', (await browser.get("/")).text)
