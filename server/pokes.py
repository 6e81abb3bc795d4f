"""Pokes: an open app hears at once that new data waits for it, and pulls without polling.

A write that reaches phones names who should hear of it (`announce`, inside the writing
transaction). On PostgreSQL that is a NOTIFY, which the database delivers to every worker's
listening connection at commit, and never for a write rolled back; on SQLite (one process) the
transaction hands it to the hub after COMMIT. Each worker's hub wakes the matching streams of
`GET /api/sync/events`; a woken app runs its usual sync. A poke carries no data, only "pull".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from uuid import UUID

from server import sql

CHANNEL = "lotsenbuch_sync"
EVERYONE = "*"
MOST_NAMED = 100  # more people than this hear "everyone": a NOTIFY payload stays small
log = logging.getLogger("lotsenbuch.pokes")


def announce(connection: sql.Connection, organisation_id: UUID, audience: Iterable[object] | None,
             device_id: UUID | None = None) -> None:
    """After this transaction commits, wake the open apps of `audience` (None: everyone in the
    organisation), except the device that made the change: it has its answer already."""
    people = None if audience is None else sorted({str(person) for person in audience})
    if people == []:
        return
    named = EVERYONE if people is None or len(people) > MOST_NAMED else ",".join(people)
    connection.notify(CHANNEL, f"{organisation_id} {device_id or '-'} {named}")


class Listener:
    """One open app: woken by pokes for its person, at most once per `spacing` seconds."""

    def __init__(self, organisation_id: UUID, user_id: UUID, device_id: UUID | None):
        self.organisation, self.user, self.device = str(organisation_id), str(user_id), str(device_id or "-")
        self.woken = asyncio.Event()

    def hears(self, device: str, audience: str) -> bool:
        """`device` is the one that wrote ("-": a web page or the server itself)."""
        from_here = device != "-" and device == self.device
        return not from_here and (audience == EVERYONE or self.user in audience.split(","))


class Hub:
    """This worker's open apps, and its ear on the database."""

    def __init__(self) -> None:
        self.listeners: dict[str, set[Listener]] = {}
        self._connection = None
        self._database: str | None = None
        self.stopping = False

    def deliver(self, payload: str) -> None:
        try:
            organisation, device, audience = payload.split(" ")
        except ValueError:
            log.warning("a poke that is not one: %r", payload)
            return
        for listener in self.listeners.get(organisation, ()):
            if listener.hears(device, audience):
                listener.woken.set()

    @contextlib.contextmanager
    def listening(self, organisation_id: UUID, user_id: UUID, device_id: UUID | None):
        listener = Listener(organisation_id, user_id, device_id)
        self.listeners.setdefault(listener.organisation, set()).add(listener)
        try:
            yield listener
        finally:
            group = self.listeners.get(listener.organisation, set())
            group.discard(listener)
            if not group:
                self.listeners.pop(listener.organisation, None)

    async def start(self, engine, dsn: str | None) -> None:
        if dsn is None:
            self._database = engine.connection_kwargs["database"]
            sql.on_commit(self._database, lambda _channel, payload: self.deliver(payload))
            return
        import asyncpg

        self._connection = await asyncpg.connect(dsn)
        await self._connection.add_listener(CHANNEL, lambda _c, _pid, _channel, payload: self.deliver(payload))

    async def stop(self) -> None:
        self.stopping = True
        if self._database is not None:
            sql.on_commit(self._database, None)
        if self._connection is not None:
            await self._connection.close()
        for group in self.listeners.values():  # open streams end; their apps reconnect to another worker
            for listener in group:
                listener.woken.set()


async def stream(hub: Hub, listener: Listener, *, keepalive: float = 25, spacing: float = 2,
                 lifetime: float = 600) -> AsyncIterator[dict[str, str]]:
    """Server-sent events for one app: `ready` at once, `changed` when a poke comes (several
    within `spacing` seconds make one), a comment to keep proxies from closing an idle line.
    The stream ends after `lifetime` seconds; the browser reconnects, and the session is checked again."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + lifetime
    yield {"event": "ready", "data": ""}
    while loop.time() < ends and not hub.stopping:
        try:
            await asyncio.wait_for(listener.woken.wait(), timeout=min(keepalive, max(ends - loop.time(), 0.01)))
        except TimeoutError:
            yield {"comment": "still here"}
            continue
        if hub.stopping:
            return
        await asyncio.sleep(spacing)  # the rest of a burst of writes joins this poke
        listener.woken.clear()
        yield {"event": "changed", "data": ""}
