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
