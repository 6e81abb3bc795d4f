"""Rows of synced records <-> the engine's types; a push written in one transaction, a pull paged.

Hot paths batch: a push of 500 mutations reads each table once and writes each with one
executemany, inside one transaction that holds the organisation's clock row (R2).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from server.accounts.tables import Device
from server.notes.tables import Note
from server.sync_tables import ChangeLog, DevicePush, Revision, SyncClock, SyncConflict
from server.visits.tables import VisitLog
from sync.engine import Entry, Key, Plan, Viewer, needed_bases, order_pull, plan_push
from sync.schema import may_read
from sync.schema import ENTITIES
from sync.types import Actor, Change, Conflict, Mutation, Record, Result

TABLES: dict[str, type[Table]] = {"note": Note, "visit_log": VisitLog}
JSON_FIELDS = {"topics"}
SYNC_COLUMNS = ("id", "organisation", "owner", "version", "seq", "deleted_at", "field_versions", "field_authors",
                "created_at", "updated_at")
_json = msgspec.json.Encoder()
_results = msgspec.json.Decoder(list[Result])


class CursorError(Exception):
    """The cursor is not one this server gave out."""


class Pushed(msgspec.Struct):
    """What a push wrote: its results, and its records as committed with the seqs they got,
    so that the pull answering the same request need not read them back."""

    results: list[Result]
    records: dict[Key, Record]
    first_seq: int
    last_seq: int


class PullPage(msgspec.Struct):
    changes: list[Change]
    cursor: str | None
    has_more: bool
    reset_required: bool = False


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(organisation_id: UUID, seq: int) -> str:
    return base64.urlsafe_b64encode(_json.encode({"v": 1, "o": str(organisation_id), "s": seq})).decode().rstrip("=")


def decode_cursor(cursor: str, organisation_id: UUID) -> int:
    try:
        data = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["v"] != 1 or data["o"] != str(organisation_id) or not isinstance(data["s"], int) or data["s"] < 0:
            raise ValueError
        return data["s"]
    except (ValueError, KeyError, TypeError, binascii.Error, msgspec.DecodeError):
        raise CursorError() from None


# --- rows <-> records -------------------------------------------------------------------------


def _load_json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


def to_record(entity: str, row: dict, history: bool = True) -> Record:
    """A row as a Record; a pull needs no merge history, so it skips decoding it."""
    fields = {}
    for name in ENTITIES[entity]:
        value = row[name]
        fields[name] = _load_json(value, []) if name in JSON_FIELDS else value
    return Record(
        entity=entity, id=row["id"], organisation_id=row["organisation"], owner_id=row["owner"],
        version=row["version"], fields=fields,
        field_versions=_load_json(row["field_versions"], {}) if history else {},
        field_authors=_load_json(row["field_authors"], {}) if history else {},
        deleted=row["deleted_at"] is not None, seq=row["seq"],
    )


def conflict_record(row: dict) -> Record:
    """A conflict as a synced record (R14): it reaches its author, the record's owner, coordination."""
    fields = {
        "entity": row["entity"], "record_id": str(row["record_id"]), "field": row["field"],
        "base_version": row["base_version"], "server_value": _load_json(row["server_value"], None),
        "server_author": str(row["server_author"]) if row["server_author"] else None,
        "client_value": _load_json(row["client_value"], None), "client_author": str(row["client_author"]),
        "record_owner_id": str(row["record_owner"]), "created_at": row["created_at"].isoformat(),
        "resolved": row["resolved_at"] is not None,
    }
    return Record(
        entity="conflict", id=row["id"], organisation_id=row["organisation"], owner_id=row["client_author"],
        version=row["version"], fields=fields, field_versions={}, field_authors={}, seq=row["seq"],
    )


def _pull_columns(table: type[Table], entity: str) -> list:
    """What a pull reads of a row: no merge history, no timestamps but the tombstone's."""
    names = ("id", "organisation", "owner", "version", "seq", "deleted_at", *ENTITIES[entity])
    return [getattr(table, name) for name in names]


def may_see(viewer: Viewer, record: Record) -> bool:
    return may_read(viewer.user_id, viewer.role, viewer.organisation_id, record)


def _audience(record: Record | None) -> dict | None:
    """What may_read needs to know of a record as it was, kept in the change log (R3)."""
    if record is None:
        return None
    shared = record.fields.get("shared")
    return {"entity": record.entity, "owner": str(record.owner_id), "shared": shared,
            "record_owner_id": record.fields.get("record_owner_id")}


def _before(data: Any, organisation_id: UUID, entry_entity: str, record_id: UUID) -> Record | None:
    data = _load_json(data, None)
    if not data:
        return None
    return Record(
        entity=entry_entity, id=record_id, organisation_id=organisation_id, owner_id=UUID(data["owner"]),
        version=0, fields={"shared": data.get("shared"), "record_owner_id": data.get("record_owner_id")},
        field_versions={}, field_authors={},
    )


async def load_records(keys: Iterable[Key]) -> dict[Key, Record]:
    by_entity: dict[str, list[UUID]] = {}
    for entity, record_id in keys:
        if entity in TABLES:
            by_entity.setdefault(entity, []).append(record_id)
    records = {}
    for entity, ids in by_entity.items():
        table = TABLES[entity]
        for row in await table.select().where(table.id.is_in(list(set(ids)))):
            records[(entity, row["id"])] = to_record(entity, row)
    return records


# --- push ---------------------------------------------------------------------------------------


class Database:
    """The few things the two engines do differently: parameter marks, locking, executemany."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.postgres = isinstance(engine, PostgresEngine)

    def transaction(self):
        if isinstance(self.engine, SQLiteEngine):
            return self.engine.transaction(transaction_type=TransactionType.immediate)  # the write lock up front
        return self.engine.transaction()

    def marks(self, count: int, start: int = 1) -> str:
        return ", ".join(f"${i}" for i in range(start, start + count)) if self.postgres else ", ".join("?" * count)

    async def executemany(self, transaction: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # UUIDs, dates and times reach SQLite through the adapters Piccolo registers with sqlite3.
        if rows:
            await transaction.connection.executemany(sql, rows)


async def _take_clock(db: Database, transaction: Any, organisation_id: UUID) -> tuple[int, int]:
    """Lock the organisation's clock row for this transaction; returns (seq, horizon)."""
    if db.postgres:
        await transaction.connection.execute(
            "INSERT INTO sync_clock (organisation, seq, horizon) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING", organisation_id
        )
        row = await transaction.connection.fetchrow(
            "SELECT seq, horizon FROM sync_clock WHERE organisation = $1 FOR UPDATE", organisation_id
        )
        return row["seq"], row["horizon"]
    row = await SyncClock.select(SyncClock.seq, SyncClock.horizon).where(SyncClock.organisation == organisation_id).first()
    if row is None:
        await SyncClock.insert(SyncClock(organisation=organisation_id, seq=0, horizon=0))
        return 0, 0
    return row["seq"], row["horizon"]


async def apply_push(
    engine: Any, actor: Actor, mutations: list[Mutation], now: datetime, new_id: Callable[[], UUID],
) -> list[Result]:
    """Plan and write one push in one transaction; every caller of a synced write goes through here."""
    return (await push(engine, actor, mutations, now, new_id)).results


async def push(engine: Any, actor: Actor, mutations: list[Mutation], now: datetime, new_id: Callable[[], UUID]) -> Pushed:
    db = Database(engine)
    async with db.transaction() as transaction:
        seq, _ = await _take_clock(db, transaction, actor.organisation_id)
        done, last = await _device_state(actor, mutations)
        records = await load_records((m.entity, m.id) for m in mutations)
        bases = await _load_bases(needed_bases(m for m in mutations if m.mutation_id not in done), records)
        resolving = {c for m in mutations for c in m.resolves}
        open_conflicts = await _open_conflicts(resolving, actor.organisation_id)
        plan = plan_push(
            mutations, actor=actor, records=records, done=done, last_mutation_id=last, bases=bases,
            open_conflicts=open_conflicts, now=now, new_id=new_id,
        )
        last_seq = await _write(db, transaction, actor, plan, records, seq, now)
    return Pushed(results=plan.results, records=plan.written, first_seq=seq, last_seq=last_seq)


async def _device_state(actor: Actor, mutations: list[Mutation]) -> tuple[dict[int, Result], int]:
    if actor.device_id is None:  # a web form: no device, no outbox to replay
        return {}, 0
    done = await stored_results(actor.device_id, [m.mutation_id for m in mutations])
    device = await Device.select(Device.last_mutation_id).where(Device.id == actor.device_id).first()
    return done, device["last_mutation_id"] if device else 0


async def stored_results(device_id: UUID, mutation_ids: list[int]) -> dict[int, Result]:
    """The results this device was already given for these mutation ids (R5)."""
    if not mutation_ids:
        return {}
    wanted = set(mutation_ids)
    rows = await DevicePush.select(DevicePush.results).where(
        (DevicePush.device == device_id) & (DevicePush.last_id >= min(wanted)) & (DevicePush.first_id <= max(wanted))
    )
    done = {}
    for row in rows:
        for result in _results.decode(row["results"] if isinstance(row["results"], (str, bytes)) else _json.encode(row["results"])):
            if result.mutation_id in wanted:
                done[result.mutation_id] = result
    return done


async def _load_bases(needed: set, records: dict[Key, Record]) -> dict:
    """The value of each (entity, id, field) as of a base version, from the revisions (R13)."""
    wanted = {(entity, rid, name, version) for entity, rid, name, version in needed if (entity, rid) in records
              and records[(entity, rid)].field_versions.get(name, 0) > version}
    if not wanted:
        return {}
    ids = list({rid for _, rid, _, _ in wanted})
    rows = await (
        Revision.select(Revision.record_id, Revision.entity, Revision.version, Revision.fields)
        .where(Revision.record_id.is_in(ids)).order_by(Revision.version)
    )
    history: dict[tuple[str, UUID], list[tuple[int, dict]]] = {}
    for row in rows:
        history.setdefault((row["entity"], row["record_id"]), []).append((row["version"], _load_json(row["fields"], {})))
    bases = {}
    for entity, rid, name, version in wanted:
        for revision_version, fields in history.get((entity, rid), []):
            if revision_version > version:
                break
            if name in fields:
                bases[(entity, rid, name, version)] = fields[name]
    return bases


async def _open_conflicts(ids: set[UUID], organisation_id: UUID) -> dict[UUID, Key]:
    if not ids:
        return {}
    rows = await (
        SyncConflict.select(SyncConflict.id, SyncConflict.entity, SyncConflict.record_id)
        .where(SyncConflict.id.is_in(list(ids)) & SyncConflict.resolved_at.is_null()
               & (SyncConflict.organisation == organisation_id))
    )
    return {row["id"]: (row["entity"], row["record_id"]) for row in rows}


async def _write(db: Database, transaction: Any, actor: Actor, plan: Plan, before: dict[Key, Record], seq: int, now: datetime) -> int:
    """Write the plan; the records take seqs after `seq`. Returns the last seq taken."""
    log: list[list[Any]] = []
    for entity, table in TABLES.items():
        rows = []
        for (written_entity, record_id), record in plan.written.items():
            if written_entity != entity:
                continue
            seq += 1
            record.seq = seq
            rows.append(_row(record, seq, now))
            log.append([actor.organisation_id, seq, entity, record_id, _encode(_audience(before.get((entity, record_id))))])
        await db.executemany(transaction, _upsert_sql(db, table, entity), rows)
    conflicts = []
    for conflict in plan.conflicts:
        seq += 1
        conflicts.append(_conflict_row(conflict, actor, plan, before, seq, now))
        log.append([actor.organisation_id, seq, "conflict", conflict.id, None])
    await db.executemany(transaction, _insert_sql(db, "sync_conflict", CONFLICT_COLUMNS), conflicts)
    for conflict_id, user_id in plan.resolved.items():
        seq += 1
        row = await SyncConflict.select(SyncConflict.client_author, SyncConflict.record_owner).where(SyncConflict.id == conflict_id).first()
        await SyncConflict.update(
            {SyncConflict.resolved_at: now, SyncConflict.resolved_by: user_id, SyncConflict.version: SyncConflict.version + 1,
             SyncConflict.seq: seq}
        ).where(SyncConflict.id == conflict_id)
        audience = {"entity": "conflict", "owner": str(row["client_author"]), "record_owner_id": str(row["record_owner"])}
        log.append([actor.organisation_id, seq, "conflict", conflict_id, _encode(audience)])
    revisions = [
        [actor.organisation_id, r.entity, r.record_id, r.version, r.op, _encode(msgspec.to_builtins(r.fields)), r.actor,
         r.device, now, r.client_time]
        for r in plan.revisions
    ]
    await db.executemany(transaction, _insert_sql(db, "revision", REVISION_COLUMNS), revisions)
    await db.executemany(transaction, _insert_sql(db, "change_log", CHANGE_COLUMNS), log)
    if actor.device_id is not None and plan.fresh:
        ids = [r.mutation_id for r in plan.fresh]
        first, last = min(ids), max(ids)
        await db.executemany(transaction, _insert_sql(db, "device_push", DEVICE_PUSH_COLUMNS),
                             [[f"{actor.device_id}:{first}", actor.device_id, first, last, _encode(plan.fresh), now]])
        highest = last
        await Device.update(
            {Device.last_mutation_id: highest, Device.last_sync_at: now}
        ).where((Device.id == actor.device_id) & (Device.last_mutation_id < highest))
    await SyncClock.update({SyncClock.seq: seq}).where(SyncClock.organisation == actor.organisation_id)
    return seq


CONFLICT_COLUMNS = ("id", "organisation", "entity", "record_id", "field", "base_version", "server_value", "server_author",
                    "client_value", "client_author", "client_device", "record_owner", "created_at", "version", "seq")
REVISION_COLUMNS = ("organisation", "entity", "record_id", "version", "op", "fields", "actor", "device", "at", "client_time")
CHANGE_COLUMNS = ("organisation", "seq", "entity", "record_id", "before")
DEVICE_PUSH_COLUMNS = ("id", "device", "first_id", "last_id", "results", "at")


def _encode(value: Any) -> str | None:
    return None if value is None else _json.encode(value).decode()


def _conflict_row(conflict: Conflict, actor: Actor, plan: Plan, before: dict, seq: int, now: datetime) -> list:
    key = (conflict.entity, conflict.record_id)
    record = plan.written.get(key) or before[key]
    return [conflict.id, actor.organisation_id, conflict.entity, conflict.record_id, conflict.field, conflict.base_version,
            _encode(msgspec.to_builtins(conflict.server_value)),
            UUID(conflict.server_author) if conflict.server_author else None,
            _encode(msgspec.to_builtins(conflict.client_value)), conflict.client_author, conflict.client_device,
            record.owner_id, now, 1, seq]


def _row(record: Record, seq: int, now: datetime) -> list:
    values = [record.id, record.organisation_id, record.owner_id, record.version, seq, now if record.deleted else None,
              _encode(record.field_versions), _encode(record.field_authors), now, now]
    for name in ENTITIES[record.entity]:
        value = record.fields[name]
        values.append(_encode(value) if name in JSON_FIELDS else value)
    return values


def _upsert_sql(db: Database, table: type[Table], entity: str) -> str:
    columns = [*SYNC_COLUMNS, *ENTITIES[entity]]
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in ("id", "organisation", "owner", "created_at"))
    quoted = ", ".join(f'"{c}"' for c in columns)
    return (f'INSERT INTO "{table._meta.tablename}" ({quoted}) VALUES ({db.marks(len(columns))}) '
            f'ON CONFLICT ("id") DO UPDATE SET {updates}')


def _insert_sql(db: Database, table: str, columns: Sequence[str], ignore: bool = False) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    suffix = " ON CONFLICT DO NOTHING" if ignore else ""
    return f'INSERT INTO "{table}" ({quoted}) VALUES ({db.marks(len(columns))}){suffix}'


# --- pull -----------------------------------------------------------------------------------------


async def pull(viewer: Viewer, cursor: str | None, limit: int, pushed: Pushed | None = None) -> PullPage:
    """One page of what changed for this viewer since the cursor (R3). `pushed`: the push of the
    same request, whose records need not be read back."""
    clock = await SyncClock.select(SyncClock.seq, SyncClock.horizon).where(SyncClock.organisation == viewer.organisation_id).first()
    if cursor is None:
        return await _full_pull(viewer, clock["seq"] if clock else 0, limit)
    after = decode_cursor(cursor, viewer.organisation_id)
    if clock and after < clock["horizon"]:
        return PullPage(changes=[], cursor=None, has_more=False, reset_required=True)
    scan = limit + limit // 4  # most entries are usually the viewer's; a thin window just takes another round
    rows = await (
        ChangeLog.select(ChangeLog.seq, ChangeLog.entity, ChangeLog.record_id)
        .where((ChangeLog.organisation == viewer.organisation_id) & (ChangeLog.seq > after))
        .order_by(ChangeLog.seq).limit(scan)
    )
    if not rows:
        return PullPage(changes=[], cursor=encode_cursor(viewer.organisation_id, after), has_more=False)
    entries = [Entry(seq=row["seq"], entity=row["entity"], record_id=row["record_id"]) for row in rows]
    # The records whose latest change lies in this window are exactly those with seq in it.
    records = await _records_in(viewer.organisation_id, after, entries[-1].seq, pushed)
    hidden = {(e.entity, e.record_id) for e in entries} - {k for k, r in records.items() if may_see(viewer, r)}
    befores = await _befores(viewer.organisation_id, hidden, after)
    changes, last_seq, more = order_pull(entries, records, befores, viewer, limit)
    next_seq = last_seq if last_seq is not None else after
    return PullPage(changes=changes, cursor=encode_cursor(viewer.organisation_id, next_seq), has_more=more or len(rows) == scan)


async def _records_in(organisation_id: UUID, after: int, until: int, pushed: Pushed | None) -> dict[Key, Record]:
    """The records whose latest change lies in (after, until]. Those this request's push wrote
    come from it; a later write to one of them has a seq past the push and is read here."""
    records: dict[Key, Record] = {}
    skip_from, skip_to = (pushed.first_seq, pushed.last_seq) if pushed else (0, 0)
    if pushed:
        records.update({k: r for k, r in pushed.records.items() if after < r.seq <= until})
    for entity, table in TABLES.items():
        window = (table.organisation == organisation_id) & (table.seq > after) & (table.seq <= until)
        if skip_to > skip_from:
            window = window & ((table.seq <= skip_from) | (table.seq > skip_to))
        rows = await table.select(*_pull_columns(table, entity)).where(window)
        records.update({(entity, row["id"]): to_record(entity, row, history=False) for row in rows})
    rows = await SyncConflict.select().where(
        (SyncConflict.organisation == organisation_id) & (SyncConflict.seq > after) & (SyncConflict.seq <= until))
    records.update({("conflict", row["id"]): conflict_record(row) for row in rows})
    return records


async def _befores(organisation_id: UUID, keys: set[Key], after: int) -> dict[Key, list[Record]]:
    """How each record looked before each of its changes since the cursor: for `removed` (R3)."""
    if not keys:
        return {}
    rows = await (
        ChangeLog.select(ChangeLog.entity, ChangeLog.record_id, ChangeLog.before)
        .where((ChangeLog.organisation == organisation_id) & (ChangeLog.seq > after)
               & ChangeLog.record_id.is_in(list({rid for _, rid in keys})))
    )
    befores: dict[Key, list[Record]] = {}
    for row in rows:
        before = _before(row["before"], organisation_id, row["entity"], row["record_id"])
        if before is not None:
            befores.setdefault((row["entity"], row["record_id"]), []).append(before)
    return befores


async def _full_pull(viewer: Viewer, clock_seq: int, limit: int) -> PullPage:
    """A device starting from nothing (or after a reset) gets the current state of every record
    it may see, in seq order, paged; the cursor then continues in the change log. The clock is
    read before the rows, so a change committed meanwhile comes again rather than never."""
    visible: list[Record] = []
    for entity, table in TABLES.items():
        query = table.select(*_pull_columns(table, entity)).where(
            (table.organisation == viewer.organisation_id) & table.deleted_at.is_null())
        if viewer.role != "coordinator":
            query = query.where(table.owner == viewer.user_id)
        elif table is Note:  # the same rule as may_read, in SQL, so that LIMIT counts only what is visible
            query = query.where((Note.shared == True) | (Note.owner == viewer.user_id))  # noqa: E712
        rows = await query.order_by(table.seq).limit(limit + 1)
        visible += [to_record(entity, row, history=False) for row in rows]
    query = SyncConflict.select().where(SyncConflict.organisation == viewer.organisation_id)
    if viewer.role != "coordinator":
        query = query.where((SyncConflict.client_author == viewer.user_id) | (SyncConflict.record_owner == viewer.user_id))
    visible += [conflict_record(row) for row in await query.order_by(SyncConflict.seq).limit(limit + 1)]
    visible = sorted((r for r in visible if may_see(viewer, r)), key=lambda r: r.seq)
    more = len(visible) > limit
    page = visible[:limit]
    changes, last_seq, _ = order_pull([Entry(r.seq, r.entity, r.id) for r in page], {(r.entity, r.id): r for r in page}, {}, viewer, limit)
    next_seq = min(last_seq, clock_seq) if more and last_seq is not None else clock_seq
    return PullPage(changes=changes, cursor=encode_cursor(viewer.organisation_id, next_seq), has_more=more)
