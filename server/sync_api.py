"""POST /api/sync: decode, check the limits, push then pull in one round trip (sync/RULES.md);
GET /api/sync/events: the stream that tells an open app to pull (server/pokes.py)."""

from __future__ import annotations

import sqlite3
import uuid

import asyncpg
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.response import ServerSentEvent

from server import pokes, sql, sync_store
from server.accounts import throttle
from server.privacy import audit
from server.access import roles
from server.clock import Clock
from server.errors import (BadRequest, Forbidden, LotsenbuchError, PayloadTooLarge, ServiceUnavailable, TooManyRequests,
                           api_errors)
from server.i18n import N_
from sync.engine import Viewer
from sync.schema import LimitExceeded, check_limits
from sync.types import SUPPORTED_SCHEMAS, Actor, SyncRequest, SyncResponse

DEFAULT_PAGE = 500
TOO_MANY = N_("Too many syncs from this device. It tries again by itself in a moment.")
TRANSIENT = (sqlite3.OperationalError, asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError,
             asyncpg.exceptions.PostgresConnectionError, ConnectionError)


class UpgradeRequired(LotsenbuchError):
    status_code = 426
    default_message = N_("This app version is too old for the server. Please reload the app; your unsent entries stay on the phone.")


@post("/api/sync", opt=roles("volunteer", "coordinator"), status_code=200, responses=api_errors(426))
async def sync(request: Request, clock: NamedDependency[Clock], data: JSONBody[SyncRequest]) -> Response[SyncResponse]:
    """Push the device's mutations, then pull one page of changes (docs/sync-protocol.md)."""
    user = request.user
    if data.schema not in SUPPORTED_SCHEMAS:
        error = UpgradeRequired()
        error.details = [{"supported_schemas": sorted(SUPPORTED_SCHEMAS), "min_schema": min(SUPPORTED_SCHEMAS)}]
        raise error
    try:
        check_limits(data.mutations)
    except LimitExceeded as exceeded:
        raise PayloadTooLarge(N_("Over the limit %(limit)s of %(max)s."), limit=exceeded.limit, max=exceeded.value,
                              details=[{"limit": exceeded.limit, "max": exceeded.value}]) from None
    if user.device_id is None or user.device_id != data.device_id:
        raise Forbidden(N_("Sync needs the session of this device: sign in on it with a device name."))
    if user.role == "volunteer" and user.pledge_signed_on is None:
        raise Forbidden(N_("Your confidentiality pledge is not recorded yet; ask your coordinator."))
    now = clock()
    key = f"sync:{user.device_id}"
    limit = (request.app.state.settings.sync_pushes_per_minute, throttle.SYNC_WINDOW)

    async def count(connection: sql.Connection) -> None:
        """The rate limit, counted in the push's own transaction: pushes write, and pulls, which
        only read and take no lock, are refused once the device's pushes went over it."""
        wait = await throttle.take_in(connection, key, *limit, now)
        if wait:
            raise TooManyRequests(TOO_MANY, retry_after=wait)

    actor = Actor(user_id=user.id, organisation_id=user.organisation_id, role=user.role, device_id=user.device_id)
    engine = request.app.state.engine
    try:
        if wait := await throttle.waiting(key, *limit, now):  # refused before any work, and without a lock
            raise TooManyRequests(TOO_MANY, retry_after=wait)
        pushed = await sync_store.push(engine, actor, data.mutations, now, uuid.uuid4, first=count) if data.mutations else None
        viewer = Viewer(user_id=user.id, organisation_id=user.organisation_id, role=user.role)
        page = await sync_store.pull(engine, viewer, data.cursor, data.limit or DEFAULT_PAGE, pushed, now)
        read = list(dict.fromkeys(audit.clients_in(page.changes)))
        stale = not data.mutations and sync_store.sync_due(user.device_synced_at, now)
        if read or stale:  # one more write at most, committed with the others queued (sql.write_together)
            async def bookkeeping(connection: sql.Connection) -> None:
                if stale:
                    await sync_store.mark_synced(connection, user.device_id, now)
                if read:
                    await audit.write(connection, user, "sync", read, now)

            await sql.write_together(engine, bookkeeping)
    except sync_store.CursorError:
        raise BadRequest(N_("The cursor is not valid; pull again with cursor null.")) from None
    except TRANSIENT:
        error = ServiceUnavailable()
        error.headers["Retry-After"] = "2"
        raise error from None
    return Response(
        SyncResponse(
            results=pushed.results if pushed else [], changes=page.changes, cursor=page.cursor, has_more=page.has_more, server_time=now,
            reset_required=page.reset_required,
        )
    )


@get("/api/sync/events", opt=roles("volunteer", "coordinator"), include_in_schema=False)
async def sync_events(request: Request) -> ServerSentEvent:
    """`event: changed` when new data waits for this person; the app then syncs as usual."""
    user = request.user
    hub: pokes.Hub = request.app.state.pokes

    async def events():
        with hub.listening(user.organisation_id, user.id, user.device_id) as listener:
            async for event in pokes.stream(hub, listener, lifetime=request.app.state.settings.event_stream_seconds):
                yield event

    return ServerSentEvent(events(), retry_duration=15_000, headers={"Cache-Control": "no-store"})
