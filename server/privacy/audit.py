"""The audit log of reads: who read which client's data, when, in which organisation and why.

One insert per request, however many clients a page or a sync page names (executemany in one
short transaction on a kept connection); nothing of what was read is written. Entries are never
changed or removed (a trigger enforces it, migrations/lotsenbuch_2026_11_22t08_01_12_000000.py)
except with their whole organisation at offboarding.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import msgspec

from server import sql
from server.privacy.tables import AuditEntry

PURPOSES = ("page", "list", "request", "assignment", "export", "sync", "erase")
SHOWN = 500  # entries on the audit page, newest first
INSERT = 'INSERT INTO audit_log (organisation, actor, role, client, purpose, at) VALUES (?, ?, ?, ?, ?, ?)'


class Entry(msgspec.Struct, frozen=True):
    at: datetime
    actor_id: UUID
    actor_name: str
    role: str
    client_id: UUID
    client_alias: str | None  # None once the client is erased
    purpose: str


async def record(user: object, purpose: str, client_ids: Iterable[UUID | None], now: datetime) -> None:
    """Log one read of these clients' data by `user` (anything with id, organisation_id, role)."""
    ids = list(dict.fromkeys(client_id for client_id in client_ids if client_id is not None))
    if not ids:
        return
    # Committed with the writes queued beside it (pages viewed at the same moment): one wait for
    # the disk for all of them, and the page is shown only once its entry is on disk.
    await sql.write_together(AuditEntry._meta.db, lambda connection: write(connection, user, purpose, ids, now))


async def write(connection: sql.Connection, user: object, purpose: str, client_ids: Iterable[UUID], now: datetime) -> None:
    """The same, inside a transaction the caller holds."""
    assert purpose in PURPOSES, purpose
    uuid = connection.uuid
    organisation, actor, stamp = uuid(user.organisation_id), uuid(user.id), connection.timestamp(now)  # type: ignore[attr-defined]
    rows = [[organisation, actor, user.role, uuid(client_id), purpose, stamp] for client_id in client_ids]  # type: ignore[attr-defined]
    await connection.executemany(INSERT, rows)


async def entries(organisation_id: UUID, client_id: UUID | None = None, limit: int = SHOWN) -> list[Entry]:
    """The newest entries of an organisation, of one client if named."""
    async with sql.transaction(AuditEntry._meta.db, write=False) as connection:
        where, args = "l.organisation = ?", [connection.uuid(organisation_id)]
        if client_id is not None:
            where, args = where + " AND l.client = ?", [*args, connection.uuid(client_id)]
        rows = await connection.fetch(
            "SELECT l.at, l.actor, u.display_name, l.role, l.client, c.alias, c.erased_at, l.purpose FROM audit_log l "
            "LEFT JOIN app_user u ON u.id = l.actor LEFT JOIN client c ON c.id = l.client "
            f"WHERE {where} ORDER BY l.at DESC, l.id DESC LIMIT ?", *args, limit)
    return [
        Entry(at=sql.datetime_value(at), actor_id=sql.uuid_value(actor), actor_name=name or "", role=role,
              client_id=sql.uuid_value(client), client_alias=None if erased or alias is None else alias, purpose=purpose)
        for at, actor, name, role, client, alias, erased, purpose in rows
    ]


def clients_in(changes: Iterable[object]) -> list[UUID]:
    """The clients a sync page shows: of assignments (with the client's details), notes and visit logs."""
    found = []
    for change in changes:
        if change.op == "upsert":  # type: ignore[attr-defined]
            client_id = change.fields.get("client_id")  # type: ignore[attr-defined]
            if client_id:
                found.append(sql.uuid_value(client_id))
    return found
