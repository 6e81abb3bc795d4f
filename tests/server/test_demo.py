"""The demo data shows the whole product: people, visit logs in every state, notes, a conflict."""

from server import demo
from server.notes.tables import Note
from server.sync_tables import SyncConflict
from server.visits.tables import VisitLog
from tests.conftest import login, make_client, visible_text


async def test_the_demo_has_logs_in_every_state_notes_and_an_open_conflict(app, clock):
    logins = await demo.seed(clock())
    assert {name for name, _ in logins} == {"koordination", "lotse1", "lotse2", "admin"}
    statuses = sorted(row["status"] for row in await VisitLog.select(VisitLog.status))
    assert statuses == ["approved", "draft", "returned", "submitted"]
    assert await Note.count() == 3
    assert await SyncConflict.count() == 1
    async with make_client(app) as desk:
        await login(desk, "koordination")
        assert "Amina Haddad" in visible_text((await desk.get("/conflicts")).text)


async def test_the_demo_shows_coordination_in_every_state(app, clock):
    from server.assignments.tables import Assignment
    from server.clients.tables import Client
    from server.requests.tables import HelpRequest, Offer

    await demo.seed(clock())
    assert await Client.count() == 3
    statuses = sorted(row["status"] for row in await HelpRequest.select(HelpRequest.status))
    assert statuses == ["assigned", "matching", "new", "offered"]
    assert sorted(row["status"] for row in await Offer.select(Offer.status)) == ["accepted", "open"]
    assert await Assignment.count() == 1
    async with make_client(app) as phone:
        await login(phone, "lotse1")
        assert "Kinderarztpraxis am Markt" in (await phone.get("/offers")).text
        assert "Ausländerbehörde Musterstadt, Zimmer 214" in (await phone.get("/assignments")).text
    async with make_client(app) as desk:
        await login(desk, "koordination")
        detail = visible_text((await desk.get("/requests?status=offered")).text)
        assert "Arzt" in detail and "Tigrinya" in detail
        assert "Grundlagen der sozialen Sicherung" in (await desk.get("/events")).text
    async with make_client(app) as phone:
        await login(phone, "lotse1")
        assert "Neue Sprechzeiten" in (await phone.get("/inbox")).text
        assert 'aria-pressed="true">Ich komme' in (await phone.get("/events")).text


async def test_the_demo_has_a_local_directory_three_howtos_and_a_visit_needing_professional_help(app, clock):
    from server.directory.tables import DirectoryEntry, DirectorySuggestion, Howto

    await demo.seed(clock())
    assert await DirectoryEntry.count() >= 12 and await DirectoryEntry.count().where(DirectoryEntry.shared == True) >= 1  # noqa: E712
    assert sorted(row["title"] for row in await Howto.select(Howto.title)) == [
        "Anmeldung in der Kita", "Bürgergeld-Antrag", "Termin bei der Ausländerbehörde"]
    assert await DirectorySuggestion.count() == 1
    async with make_client(app) as desk:
        await login(desk, "koordination")
        flagged = visible_text((await desk.get("/professional-help")).text)
        assert "Amina Haddad" in flagged
        log_id = (await VisitLog.select(VisitLog.id).where(VisitLog.help_kind == "legal").first())["id"]
        centres = visible_text((await desk.get(f"/professional-help/{log_id}")).text)
        assert "Schuldner- und Insolvenzberatung der Diakonie" in centres and "Kita Sonnenblume" not in centres
    async with make_client(app) as phone:
        await login(phone, "lotse1")
        found = visible_text((await phone.get("/directory", params={"q": "kita"})).text)
        assert "Kita Sonnenblume" in found and "Jobcenter Musterstadt Mitte" not in found
