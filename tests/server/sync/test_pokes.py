"""Pokes: a committed write wakes the open apps of the people it concerns, on every worker, and
nothing else; the event stream of one app (server/pokes.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from server import pokes, sql
from server.accounts.tables import User
from server.events import store as events
from server.organisations.tables import Organisation
from tests.server.sync.conftest import new_id

WAIT = 5  # seconds a NOTIFY may take to come round on PostgreSQL; SQLite hands it over at once


async def _people():
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    users = {row["username"]: row["id"] for row in await User.select(User.username, User.id)}
    return organisation_id, users


async def _woken(listener: pokes.Listener) -> bool:
    try:
        await asyncio.wait_for(listener.woken.wait(), WAIT)
    except TimeoutError:
        return False
    return True


async def test_a_write_wakes_its_owners_other_devices_only(app, phones):
    organisation_id, users = await _people()
    phone = await phones("lotse1")
    hub: pokes.Hub = app.state.pokes
    with (hub.listening(organisation_id, users["lotse1"], uuid.uuid4()) as other_device,
          hub.listening(organisation_id, users["lotse1"], uuid.UUID(phone.device_id)) as same_device,
          hub.listening(organisation_id, users["lotse2"], uuid.uuid4()) as someone_else):
        await phone.sync(phone.mutation("note", new_id(), {"body": "Termin verschoben"}))
        assert await _woken(other_device)
        assert not same_device.woken.is_set()  # it has its answer already
        assert not someone_else.woken.is_set()  # a private note of lotse1 is nothing for lotse2


async def test_a_change_of_read_only_copies_wakes_everyone_in_the_organisation_and_no_other(app, demo, clock):
    organisation_id, users = await _people()
    hub: pokes.Hub = app.state.pokes
    with (hub.listening(organisation_id, users["lotse2"], None) as volunteer,
          hub.listening(uuid.uuid4(), users["lotse2"], None) as elsewhere):
        await events.create_event(organisation_id, clock(), kind="stammtisch", title="Stammtisch",
                                  starts_at=datetime(2026, 3, 20, 17, 0, tzinfo=UTC))
        assert await _woken(volunteer)
        assert not elsewhere.woken.is_set()


async def test_a_write_rolled_back_wakes_nobody(app, demo):
    organisation_id, users = await _people()
    hub: pokes.Hub = app.state.pokes
    engine = app.state.engine
    with (hub.listening(organisation_id, users["lotse1"], None) as first,
          hub.listening(organisation_id, users["lotse2"], None) as second):
        with pytest.raises(RuntimeError):
            async with sql.transaction(engine, write=True) as connection:
                pokes.announce(connection, organisation_id, [users["lotse1"]])
                raise RuntimeError("the write fails")
        async with sql.transaction(engine, write=True) as connection:
            pokes.announce(connection, organisation_id, [users["lotse2"]])
        assert await _woken(second)  # notices arrive in commit order: the first would be here by now
        assert not first.woken.is_set()


async def test_every_worker_hears_a_write_on_postgresql(app, phones, settings):
    if not settings.uses_postgres:
        pytest.skip("several workers share one database only on PostgreSQL")
    organisation_id, users = await _people()
    other_worker = pokes.Hub()
    await other_worker.start(app.state.engine, settings.database_url)
    try:
        phone = await phones("lotse1")
        with (app.state.pokes.listening(organisation_id, users["lotse1"], None) as here,
              other_worker.listening(organisation_id, users["lotse1"], None) as there):
            await phone.sync(phone.mutation("note", new_id(), {"body": "Kita-Anmeldung"}))
            assert await _woken(here) and await _woken(there)
    finally:
        await other_worker.stop()


async def _take(stream, count: int) -> list[dict]:
    return [await anext(stream) for _ in range(count)]


async def test_the_stream_says_ready_then_one_changed_for_a_burst_and_keeps_the_line_alive():
    hub = pokes.Hub()
    organisation_id, user_id = uuid.uuid4(), uuid.uuid4()
    with hub.listening(organisation_id, user_id, None) as listener:
        stream = pokes.stream(hub, listener, keepalive=0.05, spacing=0.05, lifetime=30)
        assert await anext(stream) == {"event": "ready", "data": ""}
        assert await anext(stream) == {"comment": "still here"}  # nothing happened yet
        for _ in range(5):
            hub.deliver(f"{organisation_id} - {user_id}")
        assert await anext(stream) == {"event": "changed", "data": ""}
        assert await anext(stream) == {"comment": "still here"}  # the burst made one poke
        hub.deliver(f"{organisation_id} - {uuid.uuid4()},{user_id}")
        assert await anext(stream) == {"event": "changed", "data": ""}
        await stream.aclose()
    assert hub.listeners == {}


async def test_the_stream_ends_after_its_lifetime_and_when_the_worker_stops():
    hub = pokes.Hub()
    with hub.listening(uuid.uuid4(), uuid.uuid4(), None) as listener:
        assert await _take(pokes.stream(hub, listener, keepalive=10, lifetime=0.05), 1) == [{"event": "ready", "data": ""}]
        events_seen = [event async for event in pokes.stream(hub, listener, keepalive=10, lifetime=0.05)]
        assert events_seen[0] == {"event": "ready", "data": ""} and {"event": "changed", "data": ""} not in events_seen
        stream = pokes.stream(hub, listener, keepalive=10, lifetime=600)
        await anext(stream)
        await hub.stop()
        assert [event async for event in stream] == []


def test_a_malformed_poke_is_logged_and_ignored(caplog):
    hub = pokes.Hub()
    with hub.listening(uuid.uuid4(), uuid.uuid4(), None) as listener:
        hub.deliver("nonsense")
        assert not listener.woken.is_set()
    assert "not one" in caplog.text


async def test_the_event_stream_is_for_signed_in_people_only_and_never_cached(app, phones):
    from tests.conftest import make_client

    phone = await phones("lotse1")
    answer = await phone.http.get("/api/sync/events")  # the test settings end a stream at once
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert "event: ready" in answer.text and answer.headers["cache-control"] == "no-store"
    assert "content-encoding" not in answer.headers  # a gzipped stream would wait for its end
    async with make_client(app) as stranger:
        assert (await stranger.get("/api/sync/events")).status_code == 401
