"""Open conflicts a person may see, with both values and both authors' names."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from server import sql
from server.accounts.store import CurrentUser
from server.accounts.tables import User
from server.sync_store import TABLES, load_records
from server.sync_tables import SyncConflict
from sync.types import Record


class OpenConflict(msgspec.Struct, frozen=True):
    id: UUID
    entity: str
    record_id: UUID
    field: str
    server_value: Any
    server_author: str
    client_value: Any
    client_author: str
    created_at: datetime
    record_version: int
    record_deleted: bool


def _visible(query, user: CurrentUser):
    query = query.where((SyncConflict.organisation == user.organisation_id) & SyncConflict.resolved_at.is_null())
    if user.role != "coordinator":
        query = query.where((SyncConflict.client_author == user.id) | (SyncConflict.record_owner == user.id))
    return query


async def open_conflicts(user: CurrentUser, conflict_id: UUID | None = None) -> list[OpenConflict]:
    query = _visible(SyncConflict.select(), user).order_by(SyncConflict.created_at, ascending=False)
    if conflict_id is not None:
        query = query.where(SyncConflict.id == conflict_id)
    rows = await query
    if not rows:
        return []
    authors = {str(r["client_author"]) for r in rows} | {str(r["server_author"]) for r in rows if r["server_author"]}
    names = {str(u["id"]): u["display_name"] for u in await User.select(User.id, User.display_name).where(User.id.is_in(list(authors)))}
    records: dict = await load_records(SyncConflict._meta.db, ((r["entity"], r["record_id"]) for r in rows if r["entity"] in TABLES))
    conflicts = []
    for row in rows:
        record: Record | None = records.get((row["entity"], row["record_id"]))
        if record is None:
            continue
        conflicts.append(OpenConflict(
            id=row["id"], entity=row["entity"], record_id=row["record_id"], field=row["field"],
            server_value=record.fields.get(row["field"]) if row["field"] != "*" else None,
            server_author=names.get(str(row["server_author"]), ""), client_value=sql.json_value(row["client_value"]),
            client_author=names.get(str(row["client_author"]), ""), created_at=row["created_at"],
            record_version=record.version, record_deleted=record.deleted,
        ))
    return conflicts
