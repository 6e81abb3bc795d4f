"""Rows of synced records <-> the engine's types; a push written in one transaction, a pull paged.

Hot paths batch and speak plain SQL (server/sql.py): a push of 500 mutations reads each table
once and writes each with one executemany, in one transaction that takes the organisation's
clock row (R2) last, for the writes that need its seqs; a pull reads one snapshot and converts
only the values it must.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from piccolo.columns import JSON, UUID as UUIDColumn, Boolean, Date
from piccolo.table import Table

from server import feed, pokes, sql
from server.push import store as alerts
from server.accounts.store import TOUCH_INTERVAL
from server.notes.tables import Note
from server.visits.tables import VisitLog
from sync.engine import Entry, Key, Plan, Viewer, field_version, needed_bases, order_pull, plan_push
from sync.schema import ENTITIES, FEED_ALL, may_read
from sync.types import Actor, Change, Conflict, Mutation, Record, Result

TABLES: dict[str, type[Table]] = {"note": Note, "visit_log": VisitLog}
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


# --- values and rows ------------------------------------------------------------------------------
# SQLite hands back what Piccolo's adapters stored: UUIDs, dates and times as text, booleans as
# 0/1, JSON as text. PostgreSQL hands back UUIDs, dates and booleans typed, JSON as text.


def _bool(value: Any) -> bool:
    return bool(value)


def _raw_json(value: Any) -> Any:
    """JSON text goes onto the wire as it is, without decoding and encoding it again."""
    return msgspec.Raw(value) if isinstance(value, (str, bytes)) else value


class Reader:
    """Reads one entity's rows into Records. `typed`: values as the engine compares them, with
    the merge history; otherwise as a device receives them (a pull), converting only booleans."""

    def __init__(self, entity: str, typed: bool):
        self.entity = entity
        self.typed = typed
        names = list(ENTITIES[entity])
        self.names = names
        columns = ["id", "organisation", "owner", "version", "seq", "deleted_at", *names]
        if typed:
            columns += ["field_versions", "field_authors"]
        self.select = ", ".join(f'"{c}"' for c in columns)
        self.table = TABLES[entity]._meta.tablename
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(names, start=6):
            column = getattr(TABLES[entity], name)
            if isinstance(column, Boolean):
                self.converters.append((position, _bool))
            elif isinstance(column, JSON):
                self.converters.append((position, (lambda v: sql.json_value(v, [])) if typed else _raw_json))
            elif typed and isinstance(column, UUIDColumn):
                self.converters.append((position, sql.uuid_value))
            elif typed and isinstance(column, Date):
                self.converters.append((position, sql.date_value))

    def record(self, row: Sequence[Any]) -> Record:
        values = list(row)
        for position, convert in self.converters:
            values[position] = convert(values[position])
        typed = self.typed
        return Record(
            entity=self.entity, id=sql.uuid_value(values[0]), organisation_id=sql.uuid_value(values[1]), owner_id=sql.uuid_value(values[2]),
            version=values[3], fields=dict(zip(self.names, values[6:6 + len(self.names)])),
            field_versions=sql.json_value(values[-2], {}) if typed else {},
            field_authors=sql.json_value(values[-1], {}) if typed else {},
            deleted=values[5] is not None, seq=values[4],
        )


READERS = {entity: Reader(entity, typed=True) for entity in TABLES}
PULL_READERS = {entity: Reader(entity, typed=False) for entity in TABLES}
CONFLICT_SELECT = ('id, organisation, entity, record_id, field, base_version, server_value, server_author, client_value, '
                   'client_author, record_owner, created_at, resolved_at, version, seq')


def conflict_record(row: Sequence[Any]) -> Record:
    """A conflict as a synced record (R14): it reaches its author, the record's owner, coordination."""
    (conflict_id, organisation, entity, record_id, field, base_version, server_value, server_author, client_value,
     client_author, record_owner, created_at, resolved_at, version, seq) = row
    fields = {
        "entity": entity, "record_id": str(record_id), "field": field, "base_version": base_version,
        "server_value": sql.json_value(server_value, None), "server_author": str(server_author) if server_author else None,
        "client_value": sql.json_value(client_value, None), "client_author": str(client_author),
        "record_owner_id": str(record_owner), "created_at": sql.datetime_value(created_at).isoformat(),
        "resolved": resolved_at is not None,
    }
    return Record(
        entity="conflict", id=sql.uuid_value(conflict_id), organisation_id=sql.uuid_value(organisation),
        owner_id=sql.uuid_value(client_author),
        version=version, fields=fields, field_versions={}, field_authors={}, seq=seq,
    )


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
    data = sql.json_value(data, None)
    if not data:
        return None
    return Record(
        entity=entry_entity, id=record_id, organisation_id=organisation_id, owner_id=UUID(data["owner"]),
        version=0, fields={"shared": data.get("shared"), "record_owner_id": data.get("record_owner_id")},
        field_versions={}, field_authors={},
    )


async def load_records(engine: Any, keys: Iterable[Key]) -> dict[Key, Record]:
    """The current rows of these records, typed for the engine, in a snapshot of their own."""
    async with sql.transaction(engine, write=False) as connection:
        return await _load_records(connection, keys)


async def _load_records(connection: sql.Connection, keys: Iterable[Key], lock: bool = False) -> dict[Key, Record]:
    """`lock`: a writer's read; on PostgreSQL the rows stay locked to its COMMIT, taken table by
    table and in the order of their ids, as every writer takes them (no two wait for each other)."""
    by_entity: dict[str, set[UUID]] = {}
    for entity, record_id in keys:
        if entity in TABLES:
            by_entity.setdefault(entity, set()).add(record_id)
    records = {}
    locking = " ORDER BY id FOR UPDATE" if lock and connection.postgres else ""
    for entity in TABLES:
        if entity not in by_entity:
            continue
        reader = READERS[entity]
        condition, args = connection.one_of("id", by_entity[entity])
        for row in await connection.fetch(f'SELECT {reader.select} FROM "{reader.table}" WHERE {condition}{locking}', *args):
            record = reader.record(row)
            records[(entity, record.id)] = record
    return records


# --- push ---------------------------------------------------------------------------------------


async def _take_seqs(connection: sql.Connection, organisation_id: UUID, count: int) -> int:
    """Lock the organisation's clock row for this transaction (R2) and take `count` seqs from it,
    in one statement; returns the seq before the first of them (with count 0: the row locked
    and its seq read). The row is made if missing, else locked (ON CONFLICT DO UPDATE locks it
    on PostgreSQL, as FOR UPDATE would) to the COMMIT; on SQLite the transaction holds the
    database's write lock anyway. A writer takes it last, once its other rows are locked and
    written, so that the row every writer of the organisation waits for is held only for the
    writes that need a seq and the COMMIT."""
    row = await connection.fetchone(
        "INSERT INTO sync_clock (organisation, seq, horizon) VALUES (?, ?, 0) "
        "ON CONFLICT (organisation) DO UPDATE SET seq = sync_clock.seq + excluded.seq RETURNING seq",
        organisation_id, count)
    return row[0] - count


async def touch(connection: sql.Connection, organisation_id: UUID, keys: Iterable[tuple[str, UUID]]) -> None:
    """Log a change of read-only copies (server/feed.py) in the transaction that made it (R2)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return
    seq = await _take_seqs(connection, organisation_id, len(keys))
    uuid, organisation = connection.uuid, connection.uuid(organisation_id)
    rows = [[organisation, seq + n, entity, uuid(record_id), None, None] for n, (entity, record_id) in enumerate(keys, start=1)]
    await connection.executemany(_insert_sql("change_log", CHANGE_COLUMNS), rows)
    pokes.announce(connection, organisation_id, None)  # read-only copies may reach anyone's phone


async def apply_push(
    engine: Any, actor: Actor, mutations: list[Mutation], now: datetime, new_id: Callable[[], UUID],
) -> list[Result]:
    """Plan and write one push in one transaction; every caller of a synced write goes through here."""
    return (await push(engine, actor, mutations, now, new_id)).results


async def push(engine: Any, actor: Actor, mutations: list[Mutation], now: datetime, new_id: Callable[[], UUID],
               first: Callable[[sql.Connection], Awaitable[None]] | None = None) -> Pushed:
    """`first` runs at the start of the transaction (the sync's rate limit counts there: one
    write lock per request, not two); what it raises undoes the push. Pushes that queue behind
    one another are committed together (sql.write_together)."""
    return await sql.write_together(engine, lambda connection: _push(connection, actor, mutations, now, new_id, first),
                                    clock=actor.organisation_id)


async def _push(connection: sql.Connection, actor: Actor, mutations: list[Mutation], now: datetime,
                new_id: Callable[[], UUID], first: Callable[[sql.Connection], Awaitable[None]] | None) -> Pushed:
    if first is not None:
        await first(connection)
    # Every writer locks in one order: the device's row, the records, the conflicts, and the
    # organisation's clock row last (_take_seqs). On SQLite the transaction holds the database's
    # write lock from its BEGIN anyway.
    done, last = await _device_state(connection, actor, mutations)
    records = await _load_records(connection, ((m.entity, m.id) for m in mutations), lock=True)
    answers = [m for m in mutations if m.entity == "offer" and m.mutation_id not in done]
    if answers:  # answered here, and handed to the engine as done: it only keeps their place
        await _take_seqs(connection, actor.organisation_id, 0)  # the first acceptance wins: one answer at a time
        done = {**done, **await _answer_offers(connection, actor, answers, now)}
    bases = await _load_bases(connection, needed_bases(m for m in mutations if m.mutation_id not in done), records)
    resolving = {c for m in mutations for c in m.resolves}
    open_conflicts, parties = await _open_conflicts(connection, resolving, actor.organisation_id)
    plan = plan_push(
        mutations, actor=actor, records=records, done=done, last_mutation_id=last, bases=bases,
        open_conflicts=open_conflicts, now=now, new_id=new_id,
    )
    first_seq, last_seq = await _write(connection, actor, plan, records, parties, now)
    return Pushed(results=plan.results, records=plan.written, first_seq=first_seq, last_seq=last_seq)


# Free text that erasure and retention blank; a note is ended too (a tombstone its devices delete).
TEXT_FIELDS = {"note": ("body",), "visit_log": ("outcome", "follow_up_text", "place_name", "coordinator_comment", "help_reason")}


async def scrub(connection: sql.Connection, organisation_id: UUID, keys: Iterable[Key], author_id: UUID, op: str,
                now: datetime) -> int:
    """Blank the free text of these notes and visit logs as a server write in the caller's
    transaction: a new version and seq each, logged in the change log (R2) with a revision (R13),
    so that devices receive the blanked log or the note's deletion at their next sync. The text
    leaves their earlier revisions and their conflicts too. Returns how many records changed."""
    records = await _load_records(connection, keys, lock=True)  # before the clock row, as a push takes them
    records = {key: r for key, r in records.items() if r.organisation_id == organisation_id}
    if not records:
        return 0
    seq = await _take_seqs(connection, organisation_id, 0)  # how many it takes is known at the end
    uuid, stamp, tag = connection.uuid, connection.timestamp(now), f"{author_id}:"
    rows: dict[str, list] = {entity: [] for entity in TABLES}
    log, revisions = [], []
    for (entity, record_id), record in sorted(records.items(), key=lambda item: item[1].seq):
        seq += 1
        version = record.version + 1
        names = TEXT_FIELDS[entity]
        fields = {**record.fields, **{name: "" for name in names}}
        authors = {**record.field_authors, **{name: tag for name in names}}
        if entity == "note":
            authors["*"] = tag
        written = msgspec.structs.replace(
            record, version=version, fields=fields, deleted=record.deleted or entity == "note",
            field_versions={**record.field_versions, **{name: version for name in names}}, field_authors=authors)
        rows[entity].append(_row(connection, written, seq, stamp))
        log.append([uuid(organisation_id), seq, entity, uuid(record_id), None, uuid(record.owner_id)])
        revisions.append([uuid(organisation_id), entity, uuid(record_id), version, op, _encode({name: "" for name in names}),
                          None, None, stamp, None])
    for entity, entity_rows in rows.items():
        await connection.executemany(UPSERTS[entity], entity_rows)
    logs = [uuid(record_id) for entity, record_id in records if entity == "visit_log"]
    if logs:  # what coordination wrote about a log flagged for professional help goes with it
        condition, args = connection.one_of("visit_log", logs)
        await connection.execute(f"UPDATE help_follow_up SET text = '' WHERE {condition}", *args)
    seq = await _scrub_history(connection, organisation_id, records, seq, stamp, log)
    await connection.executemany(_insert_sql("revision", REVISION_COLUMNS), revisions)
    await connection.executemany(_insert_sql("change_log", CHANGE_COLUMNS), log)
    await connection.execute("UPDATE sync_clock SET seq = ? WHERE organisation = ?", seq, uuid(organisation_id))
    return len(records)


async def _scrub_history(connection: sql.Connection, organisation_id: UUID, records: dict[Key, Record], seq: int,
                         stamp: Any, log: list) -> int:
    """The free text of these records' earlier revisions, and their conflicts' values, blanked;
    a conflict is closed and reaches its devices as changed (R14)."""
    uuid = connection.uuid
    condition, args = connection.one_of("record_id", [uuid(record_id) for _, record_id in records])
    rows = await connection.fetch(f"SELECT id, entity, fields FROM revision WHERE {condition}", *args)
    blanked = []
    for revision_id, entity, fields in rows:
        values = sql.json_value(fields, {})
        if entity in TEXT_FIELDS and any(values.get(name) for name in TEXT_FIELDS[entity]):
            blanked.append([_encode({**values, **{n: "" for n in TEXT_FIELDS[entity] if n in values}}), revision_id])
    await connection.executemany("UPDATE revision SET fields = ? WHERE id = ?", blanked)
    conflicts = await connection.fetch(f"SELECT id FROM sync_conflict WHERE {condition} ORDER BY seq", *args)
    updates = []
    for (conflict_id,) in conflicts:
        seq += 1
        updates.append([stamp, seq, conflict_id])
        log.append([uuid(organisation_id), seq, "conflict", uuid(sql.uuid_value(conflict_id)), None, None])
    await connection.executemany(
        "UPDATE sync_conflict SET server_value = NULL, client_value = NULL, resolved_at = COALESCE(resolved_at, ?), "
        "version = version + 1, seq = ? WHERE id = ?", updates)
    return seq


ANSWERS = {"accepted": True, "declined": False}
REFUSALS = {"taken": "already taken by someone else", "withdrawn": "withdrawn by coordination",
            "missing": "not an offer to you"}


async def _answer_offers(connection: sql.Connection, actor: Actor, answers: list[Mutation], now: datetime) -> dict[int, Result]:
    """A volunteer's answers to offers, written offline: `{entity: "offer", op: "upsert", fields:
    {"answer": "accepted" | "declined"}}`. The first acceptance wins; a later one is rejected
    with its reason (R9). An answer sent again gets the same answer and changes nothing (R5)."""
    from server.requests.store import answer_in  # the requests store writes through this module

    results = {}
    for mutation in answers:
        answer = mutation.fields.get("answer")
        if actor.role != "volunteer":
            reason = "only the volunteer offered it answers an offer"
        elif mutation.op != "upsert" or set(mutation.fields) != {"answer"} or answer not in ANSWERS:
            reason = 'an answer to an offer is {"answer": "accepted"} or {"answer": "declined"}'
        else:
            status = await answer_in(connection, mutation.id, actor.user_id, actor.organisation_id, ANSWERS[answer], now)
            reason = REFUSALS.get(status)
            if reason is None and status != answer:
                reason = f"already {status}"
        results[mutation.mutation_id] = (
            Result(mutation_id=mutation.mutation_id, id=mutation.id, status="rejected", reason=reason) if reason
            else Result(mutation_id=mutation.mutation_id, id=mutation.id, status="applied"))
    return results


async def _device_state(connection: sql.Connection, actor: Actor, mutations: list[Mutation]) -> tuple[dict[int, Result], int]:
    if actor.device_id is None:  # a web form: no device, no outbox to replay
        return {}, 0
    # The device's row first, locked on PostgreSQL: the same outbox sent twice at once (a retry
    # while the first is still written) waits here, then finds the first one's stored results.
    locking = " FOR UPDATE" if connection.postgres else ""
    row = await connection.fetchone(f"SELECT last_mutation_id FROM device WHERE id = ?{locking}", actor.device_id)
    done = await _stored_results(connection, actor.device_id, [m.mutation_id for m in mutations])
    return done, row[0] if row else 0


async def stored_results(engine: Any, device_id: UUID, mutation_ids: list[int]) -> dict[int, Result]:
    """The results this device was already given for these mutation ids (R5)."""
    async with sql.transaction(engine, write=False) as connection:
        return await _stored_results(connection, device_id, mutation_ids)


# Through the index device_push (device, last_id) (tests/server/test_db.py checks the plan).
STORED_RESULTS_SQL = "SELECT results FROM device_push WHERE device = ? AND last_id >= ? AND first_id <= ?"


async def _stored_results(connection: sql.Connection, device_id: UUID, mutation_ids: list[int]) -> dict[int, Result]:
    if not mutation_ids:
        return {}
    wanted = set(mutation_ids)
    rows = await connection.fetch(STORED_RESULTS_SQL, device_id, min(wanted), max(wanted))
    done = {}
    for (results,) in rows:
        for result in _results.decode(results if isinstance(results, (str, bytes)) else _json.encode(results)):
            if result.mutation_id in wanted:
                done[result.mutation_id] = result
    return done


async def _load_bases(connection: sql.Connection, needed: set, records: dict[Key, Record]) -> dict:
    """The value of each (entity, id, field) as of a base version, from the revisions (R13)."""
    wanted = {(entity, rid, name, version) for entity, rid, name, version in needed if (entity, rid) in records
              and field_version(records[(entity, rid)], name) > version}
    if not wanted:
        return {}
    condition, args = connection.one_of("record_id", {rid for _, rid, _, _ in wanted})
    rows = await connection.fetch(
        f"SELECT record_id, entity, version, fields FROM revision WHERE {condition} ORDER BY version", *args)
    history: dict[tuple[str, UUID], list[tuple[int, dict]]] = {}
    for record_id, entity, version, fields in rows:
        history.setdefault((entity, sql.uuid_value(record_id)), []).append((version, sql.json_value(fields, {})))
    bases = {}
    for entity, rid, name, version in wanted:
        for revision_version, fields in history.get((entity, rid), []):
            if revision_version > version:
                break
            if name in fields:
                bases[(entity, rid, name, version)] = fields[name]
    return bases


async def _open_conflicts(connection: sql.Connection, ids: set[UUID], organisation_id: UUID) -> tuple[dict[UUID, Key], dict]:
    """The open conflicts among `ids`, locked on PostgreSQL: each one's record, for the engine,
    and its (client author, record owner), whom its resolution concerns."""
    if not ids:
        return {}, {}
    condition, args = connection.one_of("id", ids)
    locking = " ORDER BY id FOR UPDATE" if connection.postgres else ""
    rows = await connection.fetch(
        f"SELECT id, entity, record_id, client_author, record_owner FROM sync_conflict "
        f"WHERE {condition} AND resolved_at IS NULL AND organisation = ?{locking}", *args, organisation_id)
    found = {sql.uuid_value(conflict_id): ((entity, sql.uuid_value(record_id)), (author, owner))
             for conflict_id, entity, record_id, author, owner in rows}
    return {c: key for c, (key, _) in found.items()}, {c: parties for c, (_, parties) in found.items()}


async def _write(connection: sql.Connection, actor: Actor, plan: Plan, before: dict[Key, Record], parties: dict,
                 now: datetime) -> tuple[int, int]:
    """Write the plan: first what needs no seq, then the clock row's seqs for the records and
    conflicts, taken in one statement, and what needs them. `parties`: the (client author,
    record owner) of each conflict it resolves (_open_conflicts). Returns (the seq before the
    first taken, the last taken); the same twice when nothing took one."""
    uuid, stamp = connection.uuid, connection.timestamp(now)
    organisation_id = uuid(actor.organisation_id)
    revisions = [
        [organisation_id, r.entity, uuid(r.record_id), r.version, r.op, _encode(r.fields), uuid(r.actor), uuid(r.device),
         stamp, connection.timestamp(r.client_time)]
        for r in plan.revisions
    ]
    await connection.executemany(_insert_sql("revision", REVISION_COLUMNS), revisions)
    if actor.device_id is not None and plan.fresh:
        ids = [r.mutation_id for r in plan.fresh]
        first, last = min(ids), max(ids)
        device_id = uuid(actor.device_id)
        await connection.execute(_insert_sql("device_push", DEVICE_PUSH_COLUMNS),
                                 f"{actor.device_id}:{first}", device_id, first, last, _encode(plan.fresh), stamp)
        await connection.execute(
            "UPDATE device SET last_mutation_id = ?, last_sync_at = ? WHERE id = ? AND last_mutation_id < ?",
            last, stamp, device_id, last)
    await _alert(connection, actor, plan, before, now)
    count = len(plan.written) + len(plan.conflicts) + len(plan.resolved)
    if not count:
        return 0, 0
    heard = {record.owner_id for record in plan.written.values()}  # whose open apps are poked
    seq = first_seq = await _take_seqs(connection, actor.organisation_id, count)
    log: list[list[Any]] = []
    for entity in TABLES:
        rows = []
        for (written_entity, record_id), record in plan.written.items():
            if written_entity != entity:
                continue
            seq += 1
            record.seq = seq
            rows.append(_row(connection, record, seq, stamp))
            previous = before.get((entity, record_id))
            log.append([organisation_id, seq, entity, uuid(record_id), None if previous is None else _encode(_audience(previous)),
                        _one_audience(connection, record, previous)])
        await connection.executemany(UPSERTS[entity], rows)
    conflicts = []
    for conflict in plan.conflicts:
        seq += 1
        row = _conflict_row(connection, conflict, actor, plan, before, seq, stamp)
        conflicts.append(row)
        log.append([organisation_id, seq, "conflict", uuid(conflict.id), None,
                    _conflict_audience(row[_CLIENT_AUTHOR], row[_RECORD_OWNER])])
    await connection.executemany(_insert_sql("sync_conflict", CONFLICT_COLUMNS), conflicts)
    for conflict_id, user_id in plan.resolved.items():
        client_author, record_owner = parties[conflict_id]
        seq += 1
        await connection.execute(
            "UPDATE sync_conflict SET resolved_at = ?, resolved_by = ?, version = version + 1, seq = ? WHERE id = ?",
            stamp, uuid(user_id), seq, uuid(conflict_id))
        audience = {"entity": "conflict", "owner": str(client_author), "record_owner_id": str(record_owner)}
        heard |= {client_author, record_owner}
        log.append([organisation_id, seq, "conflict", uuid(conflict_id), _encode(audience),
                    _conflict_audience(client_author, record_owner)])
    await connection.executemany(_insert_sql("change_log", CHANGE_COLUMNS), log)
    heard |= {_owner(c, plan, before) for c in plan.conflicts}
    pokes.announce(connection, actor.organisation_id, heard, actor.device_id)
    return first_seq, seq


def _one_audience(connection: sql.Connection, record: Record, previous: Record | None) -> Any:
    """The change log's audience of a write: the owner, when only the owner can be concerned —
    a volunteer sees of these entities only their own (sync.schema.may_read) —, else NULL."""
    if record.entity in FEED_ALL or (previous is not None and previous.owner_id != record.owner_id):
        return None
    return connection.uuid(record.owner_id)


def _conflict_audience(client_author: Any, record_owner: Any) -> Any:
    """A conflict concerns its author and the record's owner (may_read): one user's, when they
    are the same (two devices of one person), else anyone's."""
    return client_author if client_author == record_owner else None


def _owner(conflict: Conflict, plan: Plan, before: dict[Key, Record]) -> UUID:
    key = (conflict.entity, conflict.record_id)
    return (plan.written.get(key) or before[key]).owner_id


async def _alert(connection: sql.Connection, actor: Actor, plan: Plan, before: dict[Key, Record], now: datetime) -> None:
    """Push alerts in the same transaction: a visit log returned to its author with a comment,
    a visit log flagged as needing professional help (to coordination), and an edit of
    someone's record that now waits for their decision."""
    for key, record in plan.written.items():
        previous = before.get(key)
        if (key[0] == "visit_log" and record.fields.get("status") == "returned" and record.owner_id != actor.user_id
                and (previous is None or previous.fields.get("status") != "returned")):
            await alerts.enqueue(connection, actor.organisation_id, [record.owner_id], "returned",
                               f"/visits/form?id={record.id}", now)
        if (key[0] == "visit_log" and record.fields.get("help_kind") and not record.deleted
                and (previous is None or previous.fields.get("help_kind") != record.fields["help_kind"])):
            await _alert_coordination(connection, actor, record.id, now)
    owners = {_owner(c, plan, before) for c in plan.conflicts}
    owners.discard(actor.user_id)
    await alerts.enqueue(connection, actor.organisation_id, sorted(owners), "conflict", "/records", now)


async def _alert_coordination(connection: sql.Connection, actor: Actor, log_id: UUID, now: datetime) -> None:
    """A visit flagged as needing professional help: every coordinator hears of it at once."""
    rows = await connection.fetch("SELECT id FROM app_user WHERE organisation = ? AND role = 'coordinator' AND active",
                                  connection.uuid(actor.organisation_id))
    coordinators = [sql.uuid_value(row[0]) for row in rows if sql.uuid_value(row[0]) != actor.user_id]
    await alerts.enqueue(connection, actor.organisation_id, coordinators, "help_needed", f"/professional-help/{log_id}", now)


CONFLICT_COLUMNS = ("id", "organisation", "entity", "record_id", "field", "base_version", "server_value", "server_author",
                    "client_value", "client_author", "client_device", "record_owner", "created_at", "version", "seq")
_CLIENT_AUTHOR, _RECORD_OWNER = CONFLICT_COLUMNS.index("client_author"), CONFLICT_COLUMNS.index("record_owner")
REVISION_COLUMNS = ("organisation", "entity", "record_id", "version", "op", "fields", "actor", "device", "at", "client_time")
CHANGE_COLUMNS = ("organisation", "seq", "entity", "record_id", "before", "audience")
DEVICE_PUSH_COLUMNS = ("id", "device", "first_id", "last_id", "results", "at")


def _encode(value: Any) -> str | None:
    return None if value is None else _json.encode(value).decode()


def _conflict_row(connection: sql.Connection, conflict: Conflict, actor: Actor, plan: Plan, before: dict, seq: int,
                  stamp: Any) -> list:
    key = (conflict.entity, conflict.record_id)
    record = plan.written.get(key) or before[key]
    uuid = connection.uuid
    return [uuid(conflict.id), uuid(actor.organisation_id), conflict.entity, uuid(conflict.record_id), conflict.field,
            conflict.base_version, _encode(conflict.server_value),
            uuid(UUID(conflict.server_author)) if conflict.server_author else None,
            _encode(conflict.client_value), uuid(conflict.client_author), uuid(conflict.client_device),
            uuid(record.owner_id), stamp, 1, seq]


def _storage(entity: str, postgres: bool) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """How each field of an entity is stored: JSON as text; on SQLite UUIDs and dates as text too."""
    kinds = []
    for name in ENTITIES[entity]:
        column = getattr(TABLES[entity], name)
        if isinstance(column, JSON):
            kinds.append((name, _encode))
        elif not postgres and isinstance(column, UUIDColumn):
            kinds.append((name, sql.as_text))
        elif not postgres and isinstance(column, Date):
            kinds.append((name, sql.as_date_text))
        else:
            kinds.append((name, None))
    return kinds


STORAGE = {(entity, postgres): _storage(entity, postgres) for entity in TABLES for postgres in (False, True)}


def _row(connection: sql.Connection, record: Record, seq: int, stamp: Any) -> list:
    uuid = connection.uuid
    values = [uuid(record.id), uuid(record.organisation_id), uuid(record.owner_id), record.version, seq,
              stamp if record.deleted else None, _encode(record.field_versions), _encode(record.field_authors), stamp, stamp]
    fields = record.fields
    for name, store in STORAGE[(record.entity, connection.postgres)]:
        value = fields[name]
        values.append(value if store is None else store(value))
    return values


def _upsert_sql(entity: str) -> str:
    columns = [*SYNC_COLUMNS, *ENTITIES[entity]]
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in ("id", "organisation", "owner", "created_at"))
    quoted = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    return (f'INSERT INTO "{TABLES[entity]._meta.tablename}" ({quoted}) VALUES ({marks}) '
            f'ON CONFLICT ("id") DO UPDATE SET {updates}')


UPSERTS = {entity: _upsert_sql(entity) for entity in TABLES}


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'


# --- pull -----------------------------------------------------------------------------------------


def sync_due(last_sync_at: datetime | None, now: datetime) -> bool:
    """Whether a device's last sync time (read with its session) is older than a minute."""
    return last_sync_at is None or last_sync_at <= now - TOUCH_INTERVAL


async def mark_synced(connection: sql.Connection, device_id: UUID, now: datetime) -> None:
    """Note when a device last synced, in the caller's write transaction; to the minute, so that
    the row is rewritten at most once a minute however often the device pulls."""
    await connection.execute("UPDATE device SET last_sync_at = ? WHERE id = ? AND (last_sync_at IS NULL OR last_sync_at < ?)",
                             connection.timestamp(now), connection.uuid(device_id), connection.timestamp(now - TOUCH_INTERVAL))



# A device starting from nothing gets records of the past only this far back (a lost phone holds
# less); what changes later reaches it whatever its age. The phone drops older copies itself.
PAST_WINDOW = timedelta(weeks=8)


async def pull(engine: Any, viewer: Viewer, cursor: str | None, limit: int, pushed: Pushed | None = None,
               now: datetime | None = None) -> PullPage:
    """One page of what changed for this viewer since the cursor (R3), read in one snapshot.
    `pushed`: the push of the same request, whose records need not be read back; `now`: the
    server's time, from which a first pull's window of the past is counted (None: everything)."""
    after = None if cursor is None else decode_cursor(cursor, viewer.organisation_id)
    async with sql.transaction(engine, write=False) as connection:
        clock = await connection.fetchone("SELECT seq, horizon FROM sync_clock WHERE organisation = ?", viewer.organisation_id)
        clock_seq, horizon = clock if clock else (0, 0)
        if after is None:
            return await _full_pull(connection, viewer, clock_seq, limit, now - PAST_WINDOW if now else None)
        if after < horizon:
            return PullPage(changes=[], cursor=None, has_more=False, reset_required=True)
        scan = limit + limit // 4  # most entries are usually the viewer's; a thin window just takes another round
        rows = await _window(connection, viewer, after, scan)
        end = max(clock_seq, after)  # where the cursor may move once the log is read to its end in this snapshot
        if not rows:
            return PullPage(changes=[], cursor=encode_cursor(viewer.organisation_id, end), has_more=False)
        entries = [Entry(seq=seq, entity=entity, record_id=sql.uuid_value(record_id)) for seq, entity, record_id in rows]
        # The records whose latest change lies in this window are exactly those with seq in it.
        records = await _records_in(connection, viewer.organisation_id, after, entries, pushed)
        hidden = {(e.entity, e.record_id) for e in entries} - {k for k, r in records.items() if may_see(viewer, r)}
        befores = await _befores(connection, viewer.organisation_id, hidden, after)
    changes, last_seq, more = order_pull(entries, records, befores, viewer, limit)
    if more or len(rows) == scan:
        return PullPage(changes=changes, cursor=encode_cursor(viewer.organisation_id, last_seq), has_more=True)
    return PullPage(changes=changes, cursor=encode_cursor(viewer.organisation_id, end), has_more=False)


async def _window(connection: sql.Connection, viewer: Viewer, after: int, scan: int) -> list:
    """The next change-log entries that can concern the viewer. Coordination reads them all; a
    volunteer those whose audience is theirs or anyone's: the burst of a whole organisation's
    phones coming online costs each phone its own entries, not everyone's (one index each)."""
    if viewer.role == "coordinator":
        return await connection.fetch(
            "SELECT seq, entity, record_id FROM change_log WHERE organisation = ? AND seq > ? ORDER BY seq LIMIT ?",
            viewer.organisation_id, after, scan)
    return await connection.fetch(
        VOLUNTEER_WINDOW_SQL, viewer.organisation_id, viewer.user_id, after, scan, viewer.organisation_id, after, scan, scan)


# Both halves through the index change_log (organisation, audience, seq) (tests/server/test_db.py).
VOLUNTEER_WINDOW_SQL = (
    "SELECT seq, entity, record_id FROM (SELECT seq, entity, record_id FROM change_log "
    "WHERE organisation = ? AND audience = ? AND seq > ? ORDER BY seq LIMIT ?) AS mine UNION ALL "
    "SELECT seq, entity, record_id FROM (SELECT seq, entity, record_id FROM change_log "
    "WHERE organisation = ? AND audience IS NULL AND seq > ? ORDER BY seq LIMIT ?) AS anyone ORDER BY seq LIMIT ?")


def _windows(after: int, until: int, pushed: Pushed | None) -> list[tuple[int, int]]:
    """The seq ranges (low, high] of (after, until] that the push of this request did not write."""
    if pushed is None or pushed.last_seq <= pushed.first_seq:
        return [(after, until)]
    ranges = [(after, min(until, pushed.first_seq)), (max(after, pushed.last_seq), until)]
    return [(low, high) for low, high in ranges if low < high]


async def _records_in(
    connection: sql.Connection, organisation_id: UUID, after: int, entries: list[Entry], pushed: Pushed | None,
) -> dict[Key, Record]:
    """The records the window's entries name whose latest change lies in it (after, last
    entry]. Those this request's push wrote come from it; a later write to one of them has a seq
    past the push and is read here. Read-only copies come from server/feed.py."""
    until = entries[-1].seq
    records: dict[Key, Record] = {}
    if pushed:
        records.update({k: r for k, r in pushed.records.items() if after < r.seq <= until})
    ranges = _windows(after, until, pushed)
    named: dict[str, set[UUID]] = {}
    for entry in entries:  # conflicts the push opened are read back too: it keeps no copy
        if entry.entity == "conflict" or any(low < entry.seq <= high for low, high in ranges):
            named.setdefault(entry.entity, set()).add(entry.record_id)
    for entity, reader in PULL_READERS.items():
        if entity in named:
            condition, args = connection.one_of("id", named[entity])
            rows = await connection.fetch(
                f'SELECT {reader.select} FROM "{reader.table}" WHERE organisation = ? AND seq > ? AND seq <= ? AND {condition}',
                organisation_id, after, until, *args)
            for row in rows:
                record = reader.record(row)
                records[(entity, record.id)] = record
    records.update(await feed.load(connection, organisation_id, ((e.entity, e.record_id) for e in entries)))
    if "conflict" in named:
        condition, args = connection.one_of("id", named["conflict"])
        rows = await connection.fetch(
            f"SELECT {CONFLICT_SELECT} FROM sync_conflict WHERE organisation = ? AND seq > ? AND seq <= ? AND {condition}",
            organisation_id, after, until, *args)
        for row in rows:
            record = conflict_record(row)
            records[("conflict", record.id)] = record
    return records


async def _befores(connection: sql.Connection, organisation_id: UUID, keys: set[Key], after: int) -> dict[Key, list[Record]]:
    """How each record looked before each of its changes since the cursor: for `removed` (R3)."""
    if not keys:
        return {}
    condition, args = connection.one_of("record_id", {rid for _, rid in keys})
    rows = await connection.fetch(
        f"SELECT entity, record_id, before FROM change_log WHERE organisation = ? AND seq > ? AND {condition}",
        organisation_id, after, *args)
    befores: dict[Key, list[Record]] = {}
    for entity, record_id, data in rows:
        record_id = sql.uuid_value(record_id)
        before = _before(data, organisation_id, entity, record_id)
        if before is not None:
            befores.setdefault((entity, record_id), []).append(before)
    return befores


async def _full_pull(connection: sql.Connection, viewer: Viewer, clock_seq: int, limit: int,
                     since: datetime | None) -> PullPage:
    """A device starting from nothing (or after a reset) gets the current state of every record
    it may see, in seq order, paged; the cursor then continues in the change log. The clock is
    read in the same snapshot as the rows."""
    visible: list[Record] = []
    for entity, reader in PULL_READERS.items():
        where, args = "organisation = ? AND deleted_at IS NULL", [viewer.organisation_id]
        if viewer.role != "coordinator":
            where, args = where + " AND owner = ?", [*args, viewer.user_id]
        elif entity == "note":  # the same rule as may_read, in SQL, so that LIMIT counts only what is visible
            where, args = where + " AND (shared OR owner = ?)", [*args, viewer.user_id]
        if since is not None and entity == "visit_log":  # a visit of these weeks written long ago too
            where, args = where + " AND (updated_at >= ? OR date >= ?)", [*args, connection.timestamp(since),
                                                                          connection.day(since.date())]
        elif since is not None:
            where, args = where + " AND updated_at >= ?", [*args, connection.timestamp(since)]
        rows = await connection.fetch(
            f'SELECT {reader.select} FROM "{reader.table}" WHERE {where} ORDER BY seq LIMIT ?', *args, limit + 1)
        visible += [reader.record(row) for row in rows]
    where, args = "organisation = ?", [viewer.organisation_id]
    if viewer.role != "coordinator":
        where, args = where + " AND (client_author = ? OR record_owner = ?)", [*args, viewer.user_id, viewer.user_id]
    rows = await connection.fetch(f"SELECT {CONFLICT_SELECT} FROM sync_conflict WHERE {where} ORDER BY seq LIMIT ?",
                                  *args, limit + 1)
    visible += [conflict_record(row) for row in rows]
    visible += await feed.visible(connection, viewer.organisation_id, viewer.user_id, since.date() if since else None)
    visible = sorted((r for r in visible if may_see(viewer, r)), key=lambda r: r.seq)
    more = len(visible) > limit
    page = visible[:limit]
    changes, last_seq, _ = order_pull([Entry(r.seq, r.entity, r.id) for r in page], {(r.entity, r.id): r for r in page}, {}, viewer, limit)
    next_seq = min(last_seq, clock_seq) if more and last_seq is not None else clock_seq
    return PullPage(changes=changes, cursor=encode_cursor(viewer.organisation_id, next_seq), has_more=more)
