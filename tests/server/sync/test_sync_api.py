"""POST /api/sync through HTTP, on SQLite and PostgreSQL: every rule of sync/RULES.md a user would notice."""

from __future__ import annotations

import json

import pytest

from server.accounts.tables import User
from server.notes.tables import Note
from server.sync_tables import ChangeLog, Revision, SyncClock, SyncConflict
from server.visits.tables import VisitLog
from tests.conftest import csrf_headers, login, make_client
from tests.server.sync.conftest import new_id

LOG = {"date": "2026-03-02", "start_time": "09:00", "duration_minutes": 60, "place_type": "jobcenter",
       "place_name": "Jobcenter Mitte", "topics": ["arbeit"], "outcome": "Antrag abgegeben.", "travel_km": 4.5}


async def test_a_push_whose_response_was_lost_is_retried_without_a_duplicate(phones):
    phone = await phones()
    log = new_id()
    mutation = phone.mutation("visit_log", log, LOG)
    first = (await phone.post([mutation])).json()  # the phone never saw this answer
    again = (await phone.post([mutation])).json()
    assert again["results"] == first["results"] and first["results"][0]["status"] == "applied"
    assert await VisitLog.count() == 1 and await Revision.count() == 1


async def test_the_same_mutation_twice_in_a_batch_and_a_repeated_batch_with_one_more(phones):
    phone = await phones()
    note = new_id()
    create = phone.mutation("note", note, {"body": "Erstgespräch"})
    results = (await phone.post([create, create])).json()["results"]
    assert results[0] == results[1]
    edit = phone.mutation("note", note, {"body": "Erstgespräch geführt"}, base_version=1)
    results = (await phone.post([create, create, edit])).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "applied"]
    assert [r["version"] for r in results] == [1, 1, 2]
    assert await Revision.count() == 2


async def test_two_devices_and_a_coordinator_on_one_field_keep_every_value(phones):
    phone, tablet, office = await phones(), await phones(), await phones("koordination")
    log = new_id()
    await phone.sync(phone.mutation("visit_log", log, LOG))
    await tablet.pull_all()
    await office.pull_all()
    # All three offline, each changes the duration.
    office_result = (await office.sync(office.mutation("visit_log", log, {"duration_minutes": 90}, base_version=1)))["results"][0]
    phone_result = (await phone.sync(phone.mutation("visit_log", log, {"duration_minutes": 75}, base_version=1)))["results"][0]
    tablet_result = (await tablet.sync(tablet.mutation("visit_log", log, {"duration_minutes": 80}, base_version=1)))["results"][0]
    assert office_result["status"] == "applied"
    assert phone_result["status"] == tablet_result["status"] == "conflict"
    row = await VisitLog.objects().where(VisitLog.id == log).first()
    assert row.duration_minutes == 90
    values = [c["client_value"] for c in await SyncConflict.select(SyncConflict.client_value)]
    kept = sorted(json.loads(v) if isinstance(v, str) else v for v in values)
    assert kept == [75, 80]
    # The conflicts reach the author's devices and the coordinator.
    await office.pull_all()
    await phone.pull_all()
    conflicts = [r for (entity, _), r in phone.records.items() if entity == "conflict"]
    assert sorted(c["client_value"] for c in conflicts) == [75, 80]
    assert len([k for k in office.records if k[0] == "conflict"]) == 2


async def test_edits_of_different_fields_merge(phones):
    phone, office = await phones(), await phones("koordination")
    log = new_id()
    await phone.sync(phone.mutation("visit_log", log, LOG))
    await office.pull_all()
    await office.sync(office.mutation("visit_log", log, {"place_name": "Jobcenter Nord"}, base_version=1))
    result = (await phone.sync(phone.mutation("visit_log", log, {"travel_km": 7.0}, base_version=1)))["results"][0]
    assert result == {"mutation_id": 2, "id": log, "status": "applied", "version": 3}
    await phone.pull_all()
    assert phone.records[("visit_log", log)]["place_name"] == "Jobcenter Nord"
    assert phone.records[("visit_log", log)]["travel_km"] == 7.0


async def test_concurrent_text_edits_merge_cleanly_or_become_a_conflict(phones):
    phone, office = await phones(), await phones("koordination")
    note = new_id()
    await phone.sync(phone.mutation("note", note, {"body": "Termin am Montag um 9 Uhr im Sozialamt."}))
    await office.pull_all()
    await office.sync(office.mutation("note", note, {"body": "Termin am Dienstag um 9 Uhr im Sozialamt."}, base_version=1))
    merged = (await phone.sync(phone.mutation("note", note, {"body": "Termin am Montag um 9 Uhr im Sozialamt, Zimmer 12."}, base_version=1)))["results"][0]
    assert merged["status"] == "merged"
    assert (await Note.objects().where(Note.id == note).first()).body == "Termin am Dienstag um 9 Uhr im Sozialamt, Zimmer 12."
    await office.pull_all()
    await office.sync(office.mutation("note", note, {"body": "Termin am Mittwoch um 9 Uhr im Sozialamt, Zimmer 12."}, base_version=3))
    clash = (await phone.sync(phone.mutation("note", note, {"body": "Termin am Freitag um 9 Uhr im Sozialamt, Zimmer 12."}, base_version=3)))["results"][0]
    assert clash["status"] == "conflict"
    body = (await Note.objects().where(Note.id == note).first()).body
    assert body == "Termin am Mittwoch um 9 Uhr im Sozialamt, Zimmer 12." and "<<<" not in body


async def test_an_edit_that_meets_a_delete_is_kept_and_can_restore(phones):
    phone, office = await phones(), await phones("koordination")
    note = new_id()
    await phone.sync(phone.mutation("note", note, {"body": "Wohnungssuche"}))
    await office.pull_all()
    await office.sync(office.mutation("note", note, op="delete", base_version=1))
    result = (await phone.sync(phone.mutation("note", note, {"body": "Wohnungssuche: Besichtigung Freitag"}, base_version=1)))["results"][0]
    assert result["status"] == "conflict"
    row = await Note.objects().where(Note.id == note).first()
    assert row.deleted_at is not None
    conflict = await SyncConflict.objects().where(SyncConflict.id == result["conflict_id"]).first()
    assert conflict.field == "*" and "Besichtigung" in str(conflict.client_value)
    restore = phone.mutation("note", note, {"body": "Wohnungssuche: Besichtigung Freitag"}, base_version=2,
                             resolves=[result["conflict_id"]])
    assert (await phone.sync(restore))["results"][0]["status"] == "applied"
    row = await Note.objects().where(Note.id == note).first()
    assert row.deleted_at is None and row.body == "Wohnungssuche: Besichtigung Freitag"
    assert (await SyncConflict.objects().where(SyncConflict.id == result["conflict_id"]).first()).resolved_at is not None


async def test_a_device_clock_a_year_off_changes_no_outcome(phones, clock):
    outcomes = []
    for skew in ("2027-03-02T09:30:00+00:00", "2025-03-02T09:30:00+00:00", None):
        phone, office = await phones(), await phones("koordination")
        log = new_id()
        await phone.sync(phone.mutation("visit_log", log, LOG, client_time=skew))
        await office.pull_all()
        await office.sync(office.mutation("visit_log", log, {"duration_minutes": 30}, base_version=1))
        result = (await phone.sync(phone.mutation("visit_log", log, {"duration_minutes": 45, "place_name": "Amt"}, base_version=1, client_time=skew)))["results"][0]
        row = await VisitLog.objects().where(VisitLog.id == log).first()
        outcomes.append((result["status"], result["version"], row.duration_minutes, row.place_name))
    assert outcomes[0] == outcomes[1] == outcomes[2] == ("conflict", 3, 30, "Amt")
    times = [r["client_time"] for r in await Revision.select(Revision.client_time).where(Revision.client_time.is_not_null())]
    assert max(times) <= clock() + __import__("datetime").timedelta(minutes=5)


async def test_a_rejected_mutation_does_not_block_the_ones_after_it(phones):
    phone = await phones()
    results = (await phone.sync(
        phone.mutation("visit_log", new_id(), {"status": "approved"}),
        phone.mutation("visit_log", new_id(), {"owner_id": new_id()}),
        phone.mutation("note", new_id(), {"body": "bleibt"}),
    ))["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "coordination" in results[0]["reason"] and "server" in results[1]["reason"]


async def test_a_pull_of_ten_thousand_records_in_pages_returns_each_exactly_once(phones, app, clock):
    phone = await phones()
    created = set()
    for batch in range(20):
        mutations = []
        for _ in range(500):
            record_id = new_id()
            created.add(record_id)
            mutations.append(phone.mutation("note", record_id, {"body": f"Notiz {batch}"}))
        response = await phone.post(mutations, cursor=None, limit=1)
        assert response.status_code == 200
    fresh = await phones()
    seen = []
    while True:
        payload = await fresh.sync(limit=1000)
        seen += [c["id"] for c in payload["changes"]]
        if not payload["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 10_000 and set(seen) == created


async def test_a_cursor_older_than_the_horizon_gets_a_reset_and_the_outbox_survives(phones):
    phone = await phones()
    await phone.sync(phone.mutation("note", new_id(), {"body": "eins"}))
    old_cursor = phone.cursor
    await phone.sync(phone.mutation("note", new_id(), {"body": "zwei"}))
    clock_row = await SyncClock.objects().first()
    await SyncClock.update({SyncClock.horizon: clock_row.seq}).where(SyncClock.organisation == clock_row.organisation)
    await ChangeLog.delete().where(ChangeLog.seq <= clock_row.seq)
    note = new_id()
    payload = (await phone.post([phone.mutation("note", note, {"body": "aus dem Postausgang"})], cursor=old_cursor)).json()
    assert payload["reset_required"] is True and payload["cursor"] is None and payload["changes"] == []
    assert payload["results"][0]["status"] == "applied"  # pushed all the same: nothing in the outbox is lost
    phone.records.clear()
    phone.cursor = None
    await phone.pull_all()
    assert {r["body"] for k, r in phone.records.items()} == {"eins", "zwei", "aus dem Postausgang"}


async def test_losing_sight_of_a_record_sends_removed_and_regaining_it_delivers_it(phones):
    phone, office = await phones(), await phones("koordination")
    note = new_id()
    await phone.sync(phone.mutation("note", note, {"body": "Für die Koordination", "shared": True}))
    await office.pull_all()
    assert ("note", note) in office.records
    await phone.sync(phone.mutation("note", note, {"shared": False}, base_version=1))
    await phone.sync(phone.mutation("note", note, {"body": "Nur für mich"}, base_version=2))
    changes = await office.pull_all()
    assert [(c["op"], c["id"]) for c in changes] == [("removed", note)]
    assert ("note", note) not in office.records
    await phone.sync(phone.mutation("note", note, {"shared": True}, base_version=3))
    await office.pull_all()
    assert office.records[("note", note)]["body"] == "Nur für mich"


async def test_volunteers_see_only_their_own_records(phones, app, clock):
    from server.accounts.store import update_user

    jonas = await User.objects().where(User.username == "lotse2").first()
    await update_user(jonas.id, jonas.organisation, pledge_signed_on=clock().date())
    amina, other = await phones("lotse1"), await phones("lotse2")
    await amina.sync(amina.mutation("note", new_id(), {"body": "Amina"}))
    await other.pull_all()
    assert other.records == {}
    result = (await other.sync(other.mutation("note", next(iter(amina.records))[1], {"body": "fremd"}, base_version=1)))["results"][0]
    assert result["status"] == "rejected"


async def test_a_volunteer_pulls_past_everyone_elses_changes_in_one_round(phones, app, clock):
    """Hundreds of phones coming online at once: each reads its own entries of the change log, not
    the organisation's (the log's audience), yet a coordinator's edit and a conflict still reach it."""
    from server.accounts.store import update_user

    jonas = await User.objects().where(User.username == "lotse2").first()
    await update_user(jonas.id, jonas.organisation, pledge_signed_on=clock().date())
    amina, other, office = await phones("lotse1"), await phones("lotse2"), await phones("koordination")
    mine = new_id()
    await amina.sync(amina.mutation("note", mine, {"body": "Amina", "shared": True}))
    await office.pull_all()
    for _ in range(3):  # 1,500 entries of someone else's, more than one page's scan
        await other.post([other.mutation("note", new_id(), {"body": "fremd", "shared": False}) for _ in range(500)], limit=1)
    await office.sync(office.mutation("note", mine, {"body": "Amina, ergänzt"}, base_version=1))
    await amina.post([amina.mutation("note", mine, {"body": "Amina, geändert"}, base_version=1)], limit=1)
    payload = await amina.sync()
    assert payload["has_more"] is False  # one round, not three pages of other people's entries
    assert amina.records[("note", mine)]["body"] == "Amina, ergänzt"
    assert [k for k in amina.records if k[0] == "conflict"] and len(amina.records) == 2
    assert (await amina.sync())["changes"] == []  # the cursor moved to the end of the log
    await office.pull_all()
    assert len([k for k in office.records if k[0] == "note"]) == 1 and any(k[0] == "conflict" for k in office.records)


async def test_a_web_form_edit_goes_through_the_same_engine(phones, app, clock):
    import uuid

    from server import sync_store
    from sync.types import Actor, Mutation

    phone = await phones()
    log = new_id()
    await phone.sync(phone.mutation("visit_log", log, {**LOG, "status": "submitted"}))
    sabine = await User.objects().where(User.username == "koordination").first()
    actor = Actor(user_id=sabine.id, organisation_id=sabine.organisation, role="coordinator")
    review = Mutation(mutation_id=1, entity="visit_log", id=uuid.UUID(log), op="upsert", base_version=1,
                      fields={"status": "returned", "coordinator_comment": "Bitte Fahrtkosten ergänzen."})
    [result] = await sync_store.apply_push(app.state.engine, actor, [review], clock(), uuid.uuid4)
    assert result.status == "applied" and result.version == 2
    await phone.pull_all()
    assert phone.records[("visit_log", log)]["status"] == "returned"
    assert phone.records[("visit_log", log)]["coordinator_comment"] == "Bitte Fahrtkosten ergänzen."


# --- the edges: limits, schema, sessions, tenants ---------------------------------------------


async def test_over_the_batch_limit_is_413_naming_it_and_nothing_is_applied(phones):
    phone = await phones()
    response = await phone.post([phone.mutation("note", new_id(), {"body": "x"}) for _ in range(501)])
    assert response.status_code == 413
    assert response.json()["details"] == [{"limit": "mutations_per_push", "max": 500}]
    assert await Note.count() == 0


async def test_an_overlong_text_is_413_naming_the_limit(phones):
    phone = await phones()
    response = await phone.post([phone.mutation("note", new_id(), {"body": "x" * 20_001})])
    assert response.status_code == 413 and "characters_per_text_field" in response.text


async def test_an_unsupported_schema_gets_426_with_the_lowest_supported(phones):
    phone = await phones()
    response = await phone.post([phone.mutation("note", new_id(), {"body": "x"})], schema=99)
    assert response.status_code == 426
    assert response.json()["details"] == [{"supported_schemas": [1], "min_schema": 1}]
    assert await Note.count() == 0


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"cursor": "kaputt"}, 400),
        ({"mutations": [{"mutation_id": 0, "entity": "note", "id": "x", "op": "upsert"}]}, 400),
        ({"mutations": [], "extra": 1}, 400),
        ({"limit": 5000}, 400),
    ],
)
async def test_malformed_requests_get_400(phones, change, status):
    phone = await phones()
    body = {"device_id": phone.device_id, "schema": 1, "cursor": None, "mutations": [], **change}
    response = await phone.http.post("/api/sync", json=body, headers=phone.headers)
    assert response.status_code == status, response.text


async def test_sync_needs_the_device_session_of_that_device(app, demo, phones):
    phone = await phones()
    async with make_client(app) as browser:
        await login(browser, "lotse1")
        body = {"device_id": phone.device_id, "schema": 1, "cursor": None, "mutations": []}
        response = await browser.post("/api/sync", json=body, headers=await csrf_headers(browser))
        assert response.status_code == 403
    response = await phone.http.post("/api/sync", json={**body, "device_id": new_id()}, headers=phone.headers)
    assert response.status_code == 403


async def test_a_volunteer_without_pledge_cannot_sync(app, demo, phones):
    response = await (await phones("lotse2")).post([])
    assert response.status_code == 403 and "Verpflichtungserklärung" in response.json()["error"]


async def test_a_revoked_device_is_refused_with_the_wipe_signal(app, demo, phones):
    phone = await phones()
    async with make_client(app) as laptop:
        await login(laptop, "lotse1")
        await laptop.post(f"/devices/{phone.device_id}/revoke", headers=await csrf_headers(laptop))
    response = await phone.post([phone.mutation("note", new_id(), {"body": "x"})])
    assert response.status_code == 401
    assert response.headers["x-lotsenbuch-wipe"] == "device-revoked"
    assert await Note.count() == 0


async def test_cross_site_requests_cannot_reach_sync(phones):
    phone = await phones()
    body = b'{"device_id": "%s", "schema": 1, "mutations": []}' % phone.device_id.encode()
    response = await phone.http.post("/api/sync", content=body, headers={"content-type": "text/plain"})
    assert response.status_code in (403, 415)
    response = await phone.http.post("/api/sync", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 403  # no CSRF token: a page elsewhere cannot send one


async def test_another_organisations_uuid_cannot_be_taken_over(app, demo, phones, clock):
    from server.accounts import store
    from server.organisations.store import create_organisation

    phone = await phones()
    note = new_id()
    await phone.sync(phone.mutation("note", note, {"body": "Musterstadt"}))
    other = await create_organisation("Caritas Nachbarstadt", clock())
    await store.create_user(organisation_id=other, username="fremd", display_name="Fremd", role="coordinator",
                            password="ein langes Passwort", now=clock())
    from tests.server.sync.conftest import open_phone

    stranger = await open_phone(app, "fremd", "ein langes Passwort")
    try:
        result = (await stranger.sync(stranger.mutation("note", note, {"body": "übernommen"})))["results"][0]
        assert result["status"] == "rejected" and "Musterstadt" not in str(result)
        await stranger.pull_all()
        assert stranger.records == {}
    finally:
        await stranger.http.__aexit__(None, None, None)
    assert (await Note.objects().where(Note.id == note).first()).body == "Musterstadt"


async def test_the_sync_types_are_in_the_openapi_schema(client):
    schema = (await client.get("/api/schema/openapi.json")).json()
    assert {"SyncRequest", "SyncResponse", "Mutation", "Result", "Change"} <= set(schema["components"]["schemas"])
    assert "post" in schema["paths"]["/api/sync"]


async def test_a_fresh_coordinator_device_gets_shared_notes_behind_many_private_ones(phones):
    phone = await phones()
    private = [phone.mutation("note", new_id(), {"body": "privat", "shared": False}) for _ in range(30)]
    shared = [phone.mutation("note", new_id(), {"body": "geteilt", "shared": True}) for _ in range(5)]
    await phone.sync(*private, *shared)
    office = await phones("koordination")
    pages = 0
    while True:
        payload = await office.sync(limit=10)
        pages += 1
        if not payload["has_more"]:
            break
    assert sorted(r["body"] for r in office.records.values()) == ["geteilt"] * 5


async def test_a_transient_database_failure_applies_nothing_and_says_when_to_retry(phones, monkeypatch):
    import sqlite3

    from server import sync_store

    phone = await phones()

    async def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(sync_store, "push", locked)
    response = await phone.post([phone.mutation("note", new_id(), {"body": "später"})])
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert await Note.count() == 0


async def test_a_device_that_only_pulls_records_its_sync_time_at_most_once_a_minute(phones, clock):
    """The devices page shows when each phone last synced; a phone pulling every few seconds
    writes that at most once a minute (the time comes with the session, not from a read of its own)."""
    from server.accounts.tables import Device

    def synced_at(rows):
        return rows[0]["last_sync_at"]

    phone = await phones()
    device = Device.select(Device.last_sync_at).where(Device.id == phone.device_id)
    await phone.pull_all()
    first = synced_at(await device)
    assert first == clock()
    clock.advance(seconds=30)
    await phone.sync()
    assert synced_at(await device) == first  # within the minute: not written again
    clock.advance(seconds=31)
    await phone.sync()
    assert synced_at(await device) == clock()
