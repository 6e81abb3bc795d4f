"""GDPR duties in the database: one client's data exported (Art. 15) or erased (Art. 17), and a
whole organisation exported and removed at offboarding.

Erasure keeps what the anonymous figures count (server/reports): the client row stays as an
empty, anonymous marker, visit logs keep date, duration, place type, topics, km and expenses
but lose every free text, notes end (their devices delete them), requests lose who asked and
how to reach them. Everything goes through the change log, so phones follow at their next sync.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.columns import JSON, Boolean, ForeignKey
from piccolo.table import Table

from server import sql, sync_store
from server.privacy import audit
from server.privacy.tables import AuditEntry

SECRET_TABLES = frozenset({"user_session", "invitation", "throttle", "push_key"})  # never exported
SECRET_COLUMNS = frozenset({"password_hash", "endpoint", "p256dh", "auth"})


def _engine() -> Any:
    return AuditEntry._meta.db


# --- rows as plain data -------------------------------------------------------------------------


def _plain(table: type[Table], row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON-ready data: JSON columns decoded, booleans as booleans, secrets left out."""
    columns = {column._meta.db_column_name: column for column in table._meta.columns}
    out = {}
    for name, value in row.items():
        if name in SECRET_COLUMNS:
            continue
        column = columns.get(name)
        if isinstance(column, JSON):
            value = sql.json_value(value, None)
        elif isinstance(column, Boolean) and value is not None:
            value = bool(value)
        out[name] = value
    return out


async def _rows(connection: sql.Connection, table: type[Table], where: str, *args: Any) -> list[dict[str, Any]]:
    rows = await connection.fetch_named(f'SELECT * FROM "{table._meta.tablename}" WHERE {where}', *args)
    return [_plain(table, row) for row in rows]


# --- one client -----------------------------------------------------------------------------------


async def export_client(user: Any, client_id: UUID, now: datetime) -> dict[str, Any] | None:
    """Everything stored about one client, with who read it when (the export itself included)."""
    from server.assignments.tables import Assignment
    from server.clients.tables import Client
    from server.notes.tables import Note
    from server.requests.tables import HelpRequest
    from server.visits.tables import VisitLog

    async with sql.transaction(_engine(), write=True) as connection:
        org, cid = connection.uuid(user.organisation_id), connection.uuid(client_id)
        client = await _rows(connection, Client, "id = ? AND organisation = ? AND erased_at IS NULL", cid, org)
        if not client:
            return None
        await audit.write(connection, user, "export", [client_id], now)
        assignments = await _rows(connection, Assignment, "client = ? AND organisation = ?", cid, org)
        assignment_ids = [connection.uuid(sql.uuid_value(a["id"])) for a in assignments]
        about = "client_id = ?"
        args: list[Any] = [cid]
        if assignment_ids:
            condition, more = connection.one_of("assignment_id", assignment_ids)
            about, args = f"({about} OR {condition})", [*args, *more]
        export = {
            "client": client[0],
            "requests": await _rows(connection, HelpRequest, "client = ? AND organisation = ?", cid, org),
            "assignments": assignments,
            "visit_logs": await _rows(connection, VisitLog, f"{about} AND organisation = ? AND deleted_at IS NULL", *args, org),
            "notes": await _rows(connection, Note, f"{about} AND organisation = ? AND deleted_at IS NULL", *args, org),
            "accesses": [
                {"at": at, "by": name, "role": role, "purpose": purpose}
                for at, name, role, purpose in await connection.fetch(
                    "SELECT l.at, u.display_name, l.role, l.purpose FROM audit_log l LEFT JOIN app_user u ON u.id = l.actor "
                    "WHERE l.client = ? AND l.organisation = ? ORDER BY l.at, l.id", cid, org)
            ],
        }
    return {"exported_at": now, "organisation_id": user.organisation_id, **export}


async def erase_client(user: Any, client_id: UUID, now: datetime) -> bool:
    """Erase one client at a coordinator's request; False when there is no such client."""
    async with sql.transaction(_engine(), write=True) as connection:
        erased = await erase_in(connection, user.organisation_id, [client_id], user.id, "erase", now)
        if erased:
            await audit.write(connection, user, "erase", [client_id], now)
    return bool(erased)


async def erase_in(connection: sql.Connection, organisation_id: UUID, client_ids: list[UUID], author_id: UUID, op: str,
                   now: datetime) -> int:
    """Anonymise these clients of one organisation in the caller's transaction; returns how many."""
    uuid, org, stamp = connection.uuid, connection.uuid(organisation_id), connection.timestamp(now)
    if not client_ids:
        return 0
    condition, args = connection.one_of("id", [uuid(c) for c in client_ids])
    found = [r[0] for r in await connection.fetch(
        f"SELECT id FROM client WHERE {condition} AND organisation = ? AND erased_at IS NULL", *args, org)]
    if not found:
        return 0
    ids, id_args = connection.one_of("client", found)
    await connection.executemany(
        "UPDATE client SET alias = '', languages = '[]', district = '', needs = '', consent_on = NULL, active = ?, "
        "erased_at = ? WHERE id = ?", [[False, stamp, client] for client in found])
    await connection.execute(
        f"UPDATE help_request SET requester = '', contact = '', place = '', description = '' WHERE {ids}", *id_args)
    assignments = [r[0] for r in await connection.fetch(f"SELECT id FROM assignment WHERE {ids}", *id_args)]
    await connection.execute(f"UPDATE assignment SET place = '' WHERE {ids}", *id_args)
    offers = [r[0] for r in await connection.fetch(
        f"SELECT o.id FROM offer o JOIN help_request r ON r.id = o.request WHERE r.{ids}", *id_args)]
    keys = await _records_about(connection, org, found, assignments)
    await sync_store.scrub(connection, organisation_id, keys, author_id, op, now)
    await sync_store.touch(connection, organisation_id, [("assignment", sql.uuid_value(a)) for a in assignments]
                           + [("offer", sql.uuid_value(o)) for o in offers])
    return len(found)


async def _records_about(connection: sql.Connection, org: Any, clients: list[Any], assignments: list[Any]) -> list:
    """The notes and visit logs about these clients, by client or by one of their assignments."""
    condition, args = connection.one_of("client_id", clients)
    if assignments:
        more, more_args = connection.one_of("assignment_id", assignments)
        condition, args = f"({condition} OR {more})", [*args, *more_args]
    keys = []
    for entity in ("note", "visit_log"):
        rows = await connection.fetch(f'SELECT id FROM "{entity}" WHERE organisation = ? AND {condition}', org, *args)
        keys += [(entity, sql.uuid_value(r[0])) for r in rows]
    return keys


# --- a whole organisation -------------------------------------------------------------------------


def _scopes() -> dict[str, tuple[type[Table], str]]:
    """For every table holding an organisation's data, the condition that finds its rows: its own
    `organisation` column, or a foreign key into a table that has one (found from the tables
    themselves, so a table added later is exported and checked without a change here)."""
    from server.piccolo_app import TABLES

    scopes: dict[str, tuple[type[Table], str]] = {}
    pending = [t for t in TABLES if t._meta.tablename not in SECRET_TABLES]
    while pending:
        progressed = False
        for table in list(pending):
            name = table._meta.tablename
            columns = {c._meta.db_column_name: c for c in table._meta.columns}
            where = None
            if name == "organisation":
                where = "id = ?"
            elif "organisation" in columns:
                where = '"organisation" = ?'
            else:
                for column_name, column in columns.items():
                    if isinstance(column, ForeignKey):
                        parent = column._foreign_key_meta.resolved_references._meta.tablename
                        if parent in scopes:
                            where = f'"{column_name}" IN (SELECT id FROM "{parent}" WHERE {scopes[parent][1]})'
                            break
            if where is not None:
                scopes[name] = (table, where)
                pending.remove(table)
                progressed = True
        if not progressed:
            break  # tables of the installation (keys, throttles): no organisation's data
    return scopes


async def export_organisation(organisation_id: UUID, now: datetime) -> dict[str, Any] | None:
    """Every row of one organisation, table by table, secrets (password hashes, session and
    invitation tokens, push endpoints and keys) left out; None when there is no such organisation."""
    async with sql.transaction(_engine(), write=False, inline=False) as connection:
        org = connection.uuid(organisation_id)
        if await connection.fetchone("SELECT id FROM organisation WHERE id = ?", org) is None:
            return None
        tables = {}
        for name, (table, where) in _scopes().items():
            tables[name] = await _rows(connection, table, where, *([org] * where.count("?")))
    return {"exported_at": now, "organisation_id": organisation_id, "tables": tables}


async def count_organisation_rows(organisation_id: UUID) -> dict[str, int]:
    """How many rows each table holds of one organisation (for the offboarding page and tests)."""
    async with sql.transaction(_engine(), write=False, inline=False) as connection:
        org = connection.uuid(organisation_id)
        counts = {}
        for name, (_, where) in _scopes().items():
            row = await connection.fetchone(f'SELECT COUNT(*) FROM "{name}" WHERE {where}', *([org] * where.count("?")))
            counts[name] = int(row[0])
    return counts


async def delete_organisation(organisation_id: UUID) -> bool:
    """Remove an organisation and everything of it (foreign keys cascade), its audit log too."""
    async with sql.transaction(_engine(), write=True) as connection:
        if connection.postgres:  # the audit log's trigger lets its rows go only with their organisation
            await connection.execute("SET LOCAL lotsenbuch.offboarding = 'on'")
        found = await connection.fetch("DELETE FROM organisation WHERE id = ? RETURNING id", connection.uuid(organisation_id))
    return bool(found)
