"""The Wegweiser through HTTP: coordinators edit the directory and how-tos, volunteers suggest
corrections, entries reach phones through the sync feed (shared ones in every organisation), and
a visit log flagged as needing professional help alerts coordination and is followed up."""

from __future__ import annotations

import uuid

from server.accounts import store as accounts
from server.accounts.tables import User
from server.directory.tables import DirectoryEntry, DirectorySuggestion, Howto
from server.organisations import store as organisations
from server.organisations.tables import Organisation
from server.push.tables import PushAlert
from tests.conftest import csrf_headers, login, make_client, signed_in, visible_text
from tests.server.sync.conftest import open_phone, phones  # noqa: F401  (a fixture)

ENTRY = {
    "name": "Schuldnerberatung der Diakonie", "category": "beratungsstelle", "address": "Kirchstraße 4, 34567 Lindenau",
    "phone": "05561 987-210", "opening_hours": "Mo–Do 9–12 Uhr, Di 14–17 Uhr", "languages": ["de", "ar"],
    "help_kinds": ["legal"], "bring": "Alle Mahnungen, Kontoauszüge der letzten 3 Monate", "notes": "Termin vorher anrufen.",
    "last_checked": "2026-02-20",
}

HELP_CARD = '<a href="/professional-help"><strong class="figure">'


async def _organisation_id():
    return (await Organisation.select(Organisation.id).where(Organisation.name != "Nachbarstadt").first())["id"]


def _of(phone, entity):
    return {key[1]: fields for key, fields in phone.records.items() if key[0] == entity}


async def _create(office, **changes) -> str:
    response = await office.post("/directory", data={**ENTRY, **changes}, headers=await csrf_headers(office))
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def _neighbour(clock):
    """A second organisation of the installation, with a coordinator and a volunteer with a pledge."""
    organisation_id = await organisations.create_organisation("Nachbarstadt", clock())
    for username, role in (("nachbar-koord", "coordinator"), ("nachbar-lotse", "volunteer")):
        user_id = await accounts.create_user(organisation_id=organisation_id, username=username, display_name=username,
                                             role=role, password="nachbar-passwort-1", now=clock())
        await accounts.update_user(user_id, organisation_id, pledge_signed_on=clock().date())
    return organisation_id


async def test_a_coordinator_adds_edits_and_removes_an_entry_and_phones_follow(app, phones, clock):
    amina = await phones("lotse1")
    await amina.pull_all()
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        bad = await office.post("/directory", data={**ENTRY, "name": "", "phone": "call me", "category": "bar",
                                                    "last_checked": "2027-01-01"}, headers=headers)
        assert bad.status_code == 400 and await DirectoryEntry.count() == 0
        entry_id = await _create(office)
        await amina.sync()
        copy = _of(amina, "directory_entry")[entry_id]
        assert copy["name"] == ENTRY["name"] and copy["phone"] == "05561 987-210" and copy["languages"] == ["ar", "de"]
        assert copy["help_kinds"] == ["legal"] and copy["last_checked"] == "2026-02-20" and copy["own"] is True

        changed = await office.post(f"/directory/{entry_id}", data={**ENTRY, "phone": "05561 987-211"}, headers=headers)
        assert changed.status_code == 303
        await amina.sync()
        assert _of(amina, "directory_entry")[entry_id]["phone"] == "05561 987-211"

        page = await office.get(f"/directory/{entry_id}")
        assert 'value="05561 987-211"' in page.text  # the coordinator's own entry opens as its form
        assert (await office.post(f"/directory/{entry_id}/delete", headers=headers)).status_code == 303
        assert (await office.get(f"/directory/{entry_id}")).status_code == 404
    await amina.sync()
    assert entry_id not in _of(amina, "directory_entry")


async def test_volunteers_read_but_do_not_edit_the_directory(app, phones, clock):
    async with signed_in(app, "koordination") as office:
        entry_id = await _create(office)
    async with signed_in(app, "lotse1") as amina:
        headers = await csrf_headers(amina)
        page = await amina.get(f"/directory/{entry_id}")
        assert page.status_code == 200 and "Kirchstraße 4" in page.text and 'href="tel:05561987-210"' in page.text
        assert 'name="phone"' not in page.text
        refused = await amina.post(f"/directory/{entry_id}", data={**ENTRY, "name": "Falsch"}, headers=headers)
        assert refused.status_code == 404
        assert (await amina.post("/directory", data=ENTRY, headers=headers)).status_code == 404
    assert (await DirectoryEntry.select(DirectoryEntry.name).first())["name"] == ENTRY["name"]


async def test_search_matches_words_regardless_of_case_and_accents(app, demo, clock):
    async with signed_in(app, "koordination") as office:
        await _create(office)
        await _create(office, name="Ärztehaus am Bahnhof", category="arztpraxis", help_kinds=["health"], languages=["tr"],
                      notes="Dr. Yıldız spricht Türkisch.")
        found = visible_text((await office.get("/directory", params={"q": "arztehaus bahnhof"})).text)
        assert "Ärztehaus am Bahnhof" in found and "Schuldnerberatung" not in found
        fragment = await office.get("/directory", params={"q": "MAHNUNGEN"}, headers={"hx-request": "true"})
        assert "Schuldnerberatung" in fragment.text and "<html" not in fragment.text


async def test_a_shared_entry_reaches_the_other_organisation_read_only_and_leaves_when_unshared(app, phones, clock):
    await _neighbour(clock)
    neighbour_phone = await open_phone(app, "nachbar-lotse", "nachbar-passwort-1")
    try:
        await neighbour_phone.pull_all()
        async with signed_in(app, "koordination") as office:
            headers = await csrf_headers(office)
            shared = await _create(office, shared="1")
            private = await _create(office, name="Nur für Lindenau")
            await neighbour_phone.sync()
            assert set(_of(neighbour_phone, "directory_entry")) == {shared}
            assert _of(neighbour_phone, "directory_entry")[shared]["own"] is False
            async with make_client(app) as other:
                assert (await login(other, "nachbar-koord", "nachbar-passwort-1")).status_code == 303
                other_headers = await csrf_headers(other)
                listing = visible_text((await other.get("/directory")).text)
                assert ENTRY["name"] in listing and "Nur für Lindenau" not in listing
                assert 'name="phone"' not in (await other.get(f"/directory/{shared}")).text  # read-only there
                assert (await other.post(f"/directory/{shared}", data=ENTRY, headers=other_headers)).status_code == 404
                assert (await other.post(f"/directory/{shared}/delete", headers=other_headers)).status_code == 404
                assert (await other.get(f"/directory/{private}")).status_code == 404
                suggestion = await other.post(f"/directory/{shared}/suggestions", data={"text": "Neue Telefonnummer"},
                                              headers=other_headers)
                assert suggestion.status_code == 200
                assert "Neue Telefonnummer" not in (await other.get("/directory/suggestions")).text
            waiting = visible_text((await office.get("/directory/suggestions")).text)
            assert "Neue Telefonnummer" in waiting and "nachbar-koord" not in waiting  # the author's name stays home

            unshared = await office.post(f"/directory/{shared}", data=ENTRY, headers=headers)
            assert unshared.status_code == 303
            await neighbour_phone.sync()
            assert _of(neighbour_phone, "directory_entry") == {}
    finally:
        await neighbour_phone.http.__aexit__(None, None, None)


async def test_a_volunteer_suggests_a_correction_and_coordination_closes_it(app, demo, clock):
    async with signed_in(app, "koordination") as office:
        entry_id = await _create(office)
    async with signed_in(app, "lotse1") as amina:
        headers = await csrf_headers(amina)
        empty = await amina.post(f"/directory/{entry_id}/suggestions", data={"text": "  "}, headers=headers)
        assert empty.status_code == 400 and await DirectorySuggestion.count() == 0
        sent = await amina.post(f"/directory/{entry_id}/suggestions", data={"text": "Dienstags nur bis 16 Uhr."},
                                headers=headers)
        assert sent.status_code == 200
        missing = await amina.post(f"/directory/{uuid.uuid4()}/suggestions", data={"text": "x"}, headers=headers)
        assert missing.status_code == 404
        assert (await amina.get("/directory/suggestions")).status_code == 404
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        waiting = visible_text((await office.get("/directory/suggestions")).text)
        assert "Dienstags nur bis 16 Uhr." in waiting and "Amina Haddad" in waiting
        suggestion_id = (await DirectorySuggestion.select(DirectorySuggestion.id).first())["id"]
        assert (await office.post(f"/directory/suggestions/{suggestion_id}", headers=headers)).status_code == 303
        assert "Dienstags nur bis 16 Uhr." not in (await office.get("/directory/suggestions")).text
        assert (await office.post(f"/directory/suggestions/{suggestion_id}", headers=headers)).status_code == 404


async def test_a_howto_with_its_checklist_and_linked_entry_reaches_the_phone(app, phones, clock):
    amina = await phones("lotse1")
    await amina.pull_all()
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        entry_id = await _create(office, name="Ausländerbehörde Lindenau", category="auslaenderbehoerde", help_kinds=[])
        howto = {"title": "Termin bei der Ausländerbehörde", "body": "1. Online einen Termin buchen.\n2. Pünktlich da sein.",
                 "checklist": "Reisepass\n\nbiometrisches Passfoto\n", "entries": [entry_id],
                 "place_types": ["auslaenderbehoerde"], "topics": ["residence"]}
        bad = await office.post("/howtos", data={**howto, "entries": [str(uuid.uuid4())], "topics": ["gossip"]}, headers=headers)
        assert bad.status_code == 400 and await Howto.count() == 0
        made = await office.post("/howtos", data=howto, headers=headers)
        assert made.status_code == 303
        howto_id = made.headers["location"].rsplit("/", 1)[1]
        await amina.sync()
        copy = _of(amina, "howto")[howto_id]
        assert copy["checklist"] == ["Reisepass", "biometrisches Passfoto"] and copy["entry_ids"] == [entry_id]
        assert copy["place_types"] == ["auslaenderbehoerde"] and copy["topics"] == ["residence"]
        assert (await office.post(f"/howtos/{howto_id}", data={**howto, "title": "Aufenthaltstitel verlängern"},
                                  headers=headers)).status_code == 303
        await amina.sync()
        assert _of(amina, "howto")[howto_id]["title"] == "Aufenthaltstitel verlängern"
        assert (await office.post(f"/howtos/{howto_id}/delete", headers=headers)).status_code == 303
        await amina.sync()
        assert howto_id not in _of(amina, "howto")
    async with signed_in(app, "lotse1") as volunteer:
        assert (await volunteer.get("/howtos")).status_code == 404


async def test_a_visit_needing_professional_help_alerts_coordination_and_is_followed_up(app, phones, clock):
    organisation_id = await _organisation_id()
    coordinator = (await User.select(User.id).where(User.username == "koordination").first())["id"]
    async with signed_in(app, "koordination") as office:
        fitting = await _create(office)
        await _create(office, name="Kinderarztpraxis Dr. Lange", category="arztpraxis", help_kinds=["health"])
    amina = await phones("lotse1")
    log_id = str(uuid.uuid4())
    refused = await amina.sync(amina.mutation("visit_log", log_id, {"date": "2026-03-02", "help_kind": "astrology"}))
    assert refused["results"][0]["status"] == "rejected" and await PushAlert.count() == 0
    written = await amina.sync(amina.mutation("visit_log", log_id, {
        "date": "2026-03-02", "place_type": "jobcenter", "place_name": "Jobcenter Lindenau", "help_kind": "legal",
        "help_reason": "Pfändung des Kontos angedroht; Frist läuft am Freitag ab.", "directory_entry_id": fitting,
        "status": "submitted"}))
    assert written["results"][0]["status"] == "applied"
    [alert] = await PushAlert.select().where(PushAlert.kind == "help_needed")
    assert alert["user"] == coordinator and alert["organisation"] == organisation_id
    assert alert["url"] == f"/professional-help/{log_id}" and alert["urgency"] == "high"
    await amina.sync(amina.mutation("visit_log", log_id, {"help_reason": "Frist: Freitag."}, base_version=1))
    assert await PushAlert.count().where(PushAlert.kind == "help_needed") == 1  # the same flag: no second alert

    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        assert f'{HELP_CARD}1</strong>' in (await office.get("/dashboard")).text
        assert log_id in (await office.get("/professional-help")).text
        assert f'href="/professional-help/{log_id}"' in (await office.get("/review")).text  # flagged in the review too
        page = await office.get(f"/professional-help/{log_id}")
        text = visible_text(page.text)
        assert "Frist: Freitag." in text and ENTRY["name"] in text and "Kinderarztpraxis" not in text
        empty = await office.post(f"/professional-help/{log_id}", data={"text": ""}, headers=headers)
        assert empty.status_code == 400
        noted = await office.post(f"/professional-help/{log_id}", data={"text": "Termin bei der Schuldnerberatung am Montag"},
                                  headers=headers)
        assert noted.status_code == 303
        assert f'{HELP_CARD}1</strong>' in (await office.get("/dashboard")).text  # noted, not yet closed
        closed = await office.post(f"/professional-help/{log_id}", data={"text": "Beratung hat übernommen.", "closed": "1"},
                                   headers=headers)
        assert closed.status_code == 303
        followed = visible_text((await office.get(f"/professional-help/{log_id}")).text)
        assert "Termin bei der Schuldnerberatung am Montag" in followed and "Beratung hat übernommen." in followed
        assert f'{HELP_CARD}0</strong>' in (await office.get("/dashboard")).text
        assert (await office.get(f"/professional-help/{uuid.uuid4()}")).status_code == 404
    async with signed_in(app, "lotse1") as volunteer:
        assert (await volunteer.get(f"/professional-help/{log_id}")).status_code == 404


async def test_the_guide_is_a_page_the_phone_keeps_and_the_offline_pack_names(app, demo, clock):
    async with signed_in(app, "lotse1") as amina:
        from server.accounts.store import update_user

        users = {r["username"]: r["id"] for r in await User.select(User.username, User.id)}
        await update_user(users["lotse1"], await _organisation_id(), pledge_signed_on=clock().date())
        page = await amina.get("/guide")
        assert page.status_code == 200 and page.headers["x-lotsenbuch-user"] == str(users["lotse1"])
        assert "data-guide-search" in page.text
        assert "/guide" in (await amina.get("/offline-pack")).json()["urls"]
    async with signed_in(app, "koordination") as office:
        assert (await office.get("/guide")).status_code == 404
