"""The sync engine: plan a push against the current rows, and order a pull. Pure functions.

The caller loads what a plan needs (the records, the stored results of this device, the merge
bases, the open conflicts), calls plan_push, and writes the plan in one transaction.
Rule numbers refer to sync/RULES.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from sync.merge import merge_set, merge_text
from sync.schema import DEFAULTS, ENTITIES, Rejected, may_read, may_write, validate
from sync.types import Actor, Change, Conflict, Mutation, Record, Result, Revision

Key = tuple[str, UUID]
BaseKey = tuple[str, UUID, str, int]  # entity, record id, field, version
CLOCK_SKEW = timedelta(minutes=5)


class Plan(msgspec.Struct):
    results: list[Result]
    written: dict[Key, Record]  # final state of every record the push changed
    revisions: list[Revision]
    conflicts: list[Conflict]
    resolved: dict[UUID, UUID]  # conflict id -> the user who resolved it
    fresh: list[Result] = []  # results of the mutations processed now, in order, to be stored (R5)


class Entry(msgspec.Struct, frozen=True):
    """One row of the change log: which record changed at which seq."""

    seq: int
    entity: str
    record_id: UUID


class Viewer(msgspec.Struct, frozen=True):
    user_id: UUID
    organisation_id: UUID
    role: str


def needed_bases(mutations: Iterable[Mutation]) -> set[BaseKey]:
    """The merge bases a plan may need: text and set fields sent against a base version (R6)."""
    needed = set()
    for mutation in mutations:
        spec = ENTITIES.get(mutation.entity, {})
        for name in mutation.fields:
            if name in spec and spec[name].kind != "value" and mutation.base_version is not None:
                needed.add((mutation.entity, mutation.id, name, mutation.base_version))
    return needed


EARLIEST_CLIENT_TIME = datetime(2020, 1, 1, tzinfo=UTC)


def clamp(client_time: datetime | None, now: datetime) -> datetime | None:
    """Client times are for display only (R12); one far in the future is clamped to now. One from
    before any phone ran this app (a clock reset to 1970, year 1, which PostgreSQL's driver
    stores as -infinity and reads back without a zone) means nothing and is dropped."""
    if client_time is None or client_time.tzinfo is None or client_time < EARLIEST_CLIENT_TIME:
        return None
    return min(client_time, now + CLOCK_SKEW)


def plan_push(
    mutations: list[Mutation], *, actor: Actor, records: dict[Key, Record], done: dict[int, Result],
    last_mutation_id: int, bases: dict[BaseKey, Any], open_conflicts: dict[UUID, Key], now: datetime,
    new_id: Callable[[], UUID],
) -> Plan:
    plan = Plan(results=[], written={}, revisions=[], conflicts=[], resolved={}, fresh=[])
    current = dict(records)
    stored = dict(done)
    for mutation in mutations:
        if mutation.mutation_id in stored:  # R5: already applied, answer as before
            plan.results.append(stored[mutation.mutation_id])
            continue
        if mutation.mutation_id <= last_mutation_id:  # R4: ids only grow, within a batch too
            result = _rejected(mutation, "this mutation id was already used by this device")
        else:
            last_mutation_id = mutation.mutation_id
            try:
                result = _apply(mutation, actor, current, bases, open_conflicts, plan, now, new_id)
            except Rejected as reason:  # R9: acknowledged, never blocks the ones after it
                result = _rejected(mutation, str(reason))
        stored[mutation.mutation_id] = result
        plan.results.append(result)
        plan.fresh.append(result)
    return plan


def _rejected(mutation: Mutation, reason: str) -> Result:
    return Result(mutation_id=mutation.mutation_id, id=mutation.id, status="rejected", reason=reason)


def _apply(
    mutation: Mutation, actor: Actor, current: dict[Key, Record], bases: dict[BaseKey, Any],
    open_conflicts: dict[UUID, Key], plan: Plan, now: datetime, new_id: Callable[[], UUID],
) -> Result:
    key = (mutation.entity, mutation.id)
    record = current.get(key)
    if record is not None and record.organisation_id != actor.organisation_id:
        raise Rejected("this id is already in use")  # R8: another tenant's id reveals nothing
    if mutation.op == "delete":
        result = _delete(mutation, actor, record, current, plan, now)
        for conflict_id in mutation.resolves:  # "leave it deleted" closes an edit that met the delete
            if open_conflicts.get(conflict_id) == key and conflict_id not in plan.resolved:
                plan.resolved[conflict_id] = actor.user_id
        return result
    values = validate(mutation, actor, record)
    resolving = [c for c in mutation.resolves if open_conflicts.get(c) == key and c not in plan.resolved]
    if record is None:
        if mutation.base_version is not None:
            raise Rejected("this record no longer exists on the server")
        return _create(mutation, actor, values, current, plan, now)
    if record.deleted and not resolving:
        return _edit_meets_tombstone(mutation, actor, values, record, plan, new_id)
    updated, changed, merged, conflicts = _merge_fields(mutation, actor, values, record, bases, new_id)
    for conflict_id in resolving:
        plan.resolved[conflict_id] = actor.user_id
    if record.deleted:  # resolving the conflict of an edit that met a tombstone restores it
        updated.deleted = False
        changed = changed or {"*"}
    plan.conflicts.extend(conflicts)
    version = record.version
    if changed:
        version = record.version + 1
        updated.version = version
        tag = author_tag(actor)
        for name in changed - {"*"}:
            updated.field_versions[name] = version
            updated.field_authors[name] = tag
        current[key] = plan.written[key] = updated
        op = "restore" if record.deleted else "update"
        _revise(plan, mutation, actor, version, op, {n: updated.fields[n] for n in changed - {"*"}}, now)
    status = "conflict" if conflicts else "merged" if merged else "applied"
    return Result(
        mutation_id=mutation.mutation_id, id=mutation.id, status=status, version=version,
        conflict_id=conflicts[0].id if conflicts else None,
    )


def _create(mutation: Mutation, actor: Actor, values: dict, current: dict, plan: Plan, now: datetime) -> Result:
    fields = {**DEFAULTS[mutation.entity], **values}
    record = Record(
        entity=mutation.entity, id=mutation.id, organisation_id=actor.organisation_id, owner_id=actor.user_id,
        version=1, fields=fields, field_versions={}, field_authors={CREATOR: author_tag(actor)},
    )
    current[(mutation.entity, mutation.id)] = plan.written[(mutation.entity, mutation.id)] = record
    _revise(plan, mutation, actor, 1, "create", dict(fields), now)
    return Result(mutation_id=mutation.mutation_id, id=mutation.id, status="applied", version=1)


def _merge_fields(
    mutation: Mutation, actor: Actor, values: dict, record: Record, bases: dict[BaseKey, Any],
    new_id: Callable[[], UUID],
) -> tuple[Record, set[str], bool, list[Conflict]]:
    """R6 per field. A create for an existing id counts as an edit of its first version (R5)."""
    base = 1 if mutation.base_version is None else mutation.base_version
    updated = msgspec.structs.replace(
        record, fields=dict(record.fields), field_versions=dict(record.field_versions),
        field_authors=dict(record.field_authors),
    )
    changed: set[str] = set()
    merged = False
    conflicts = []
    spec = ENTITIES[mutation.entity]
    for name, value in values.items():
        server = record.fields.get(name)
        if value == server:
            continue
        unchanged = field_version(record, name) <= base  # unchanged on the server since the base
        if unchanged or _own_last_write(record, name, actor):
            updated.fields[name] = value
            changed.add(name)
            continue
        kind = spec[name].kind
        base_value = bases.get((mutation.entity, mutation.id, name, base))
        result = None
        if kind == "text" and base_value is not None:
            result = merge_text(base_value, server, value)
        elif kind == "set" and base_value is not None:
            result = merge_set(base_value, server, value)
        if result is None:  # keep the server value; keep the client's in an open conflict
            conflicts.append(
                Conflict(
                    id=new_id(), entity=mutation.entity, record_id=mutation.id, field=name, base_version=base,
                    server_value=server, server_author=author_user(field_author(record, name)), client_value=value,
                    client_author=actor.user_id, client_device=actor.device_id,
                )
            )
        elif result != server:
            updated.fields[name] = result
            changed.add(name)
            merged = True
    return updated, changed, merged, conflicts


CREATOR = ""  # the key of field_authors that names who created the record


def field_version(record: Record, name: str) -> int:
    """The version that last changed this field; fields a create wrote and nobody changed since
    are not listed, which keeps a new record's history small."""
    return record.field_versions.get(name, 1)


def field_author(record: Record, name: str) -> str | None:
    return record.field_authors.get(name) or record.field_authors.get(CREATOR)


def author_tag(actor: Actor) -> str:
    """Who last wrote a field: the user, and the device when there is one."""
    return _tag(actor.user_id, actor.device_id)


@functools.lru_cache(maxsize=1024)
def _tag(user_id: UUID, device_id: UUID | None) -> str:
    return f"{user_id}:{device_id or ''}"


def author_user(tag: str | None) -> str | None:
    return tag.split(":", 1)[0] if tag else None


def _own_last_write(record: Record, name: str, actor: Actor) -> bool:
    """The device wrote this field last itself: its newer edit supersedes its own older one,
    even when the response to the older one was lost and its base is behind."""
    return actor.device_id is not None and field_author(record, name) == author_tag(actor)


def _edit_meets_tombstone(
    mutation: Mutation, actor: Actor, values: dict, record: Record, plan: Plan, new_id: Callable[[], UUID],
) -> Result:
    """R7: the record stays deleted; what was sent is kept in a conflict that can restore it."""
    conflict = Conflict(
        id=new_id(), entity=mutation.entity, record_id=mutation.id, field="*", base_version=mutation.base_version,
        server_value=None, server_author=author_user(record.field_authors.get("*")), client_value=values,
        client_author=actor.user_id, client_device=actor.device_id,
    )
    plan.conflicts.append(conflict)
    return Result(
        mutation_id=mutation.mutation_id, id=mutation.id, status="conflict", version=record.version,
        conflict_id=conflict.id,
    )


def _delete(mutation: Mutation, actor: Actor, record: Record | None, current: dict, plan: Plan, now: datetime) -> Result:
    if mutation.entity not in ENTITIES:
        raise Rejected(f"unknown entity {mutation.entity!r}")
    if record is None or record.deleted:  # deleting what is gone succeeds
        version = record.version if record else None
        return Result(mutation_id=mutation.mutation_id, id=mutation.id, status="applied", version=version)
    if not may_write(actor, record):
        raise Rejected("not yours to change")
    version = record.version + 1
    updated = msgspec.structs.replace(
        record, version=version, deleted=True, field_authors={**record.field_authors, "*": author_tag(actor)},
    )
    current[(mutation.entity, mutation.id)] = plan.written[(mutation.entity, mutation.id)] = updated
    _revise(plan, mutation, actor, version, "delete", {}, now)
    return Result(mutation_id=mutation.mutation_id, id=mutation.id, status="applied", version=version)


def _revise(plan: Plan, mutation: Mutation, actor: Actor, version: int, op: str, fields: dict, now: datetime) -> None:
    plan.revisions.append(
        Revision(
            entity=mutation.entity, record_id=mutation.id, version=version, op=op, fields=fields,
            actor=actor.user_id, device=actor.device_id, client_time=clamp(mutation.client_time, now),
        )
    )


# --- pull ------------------------------------------------------------------------------------


def order_pull(
    entries: list[Entry], records: dict[Key, Record], befores: dict[Key, list[Record]], viewer: Viewer, limit: int,
) -> tuple[list[Change], int | None, bool]:
    """Changes for one viewer in seq order, each record once, at its latest change (R3).

    `entries` is a window of the change log; `records` the current rows of the records in it;
    `befores` what each of them looked like before every change since the viewer's cursor. A
    record the viewer could see since then and no longer can comes as `removed`; one it never
    saw is left out. Returns the changes, the seq to continue after (None: nothing scanned),
    and whether the page filled up before the window ended."""
    latest = {(e.entity, e.record_id): e.seq for e in entries}
    changes: list[Change] = []
    last_seq = None
    for entry in entries:
        key = (entry.entity, entry.record_id)
        record = records.get(key)
        is_latest = entry.seq == record.seq if record is not None else entry.seq == latest[key]
        change = _change_for(entry, record, viewer, befores.get(key, [])) if is_latest else None
        if change is not None:
            if len(changes) == limit:
                return changes, last_seq, True
            changes.append(change)
        last_seq = entry.seq
    return changes, last_seq, False


def _change_for(entry: Entry, record: Record | None, viewer: Viewer, befores: list[Record]) -> Change | None:
    if record is not None and _sees(viewer, record):
        op = "delete" if record.deleted else "upsert"
        fields = {} if record.deleted else public_fields(record)
        return Change(entity=record.entity, id=record.id, op=op, version=record.version, fields=fields)
    if any(_sees(viewer, before) for before in befores):
        version = record.version if record else 0
        return Change(entity=entry.entity, id=entry.record_id, op="removed", version=version, fields={})
    return None


def _sees(viewer: Viewer, record: Record) -> bool:
    return may_read(viewer.user_id, viewer.role, viewer.organisation_id, record)


def public_fields(record: Record) -> dict[str, Any]:
    """What a device receives of a record: its fields, plus who wrote it."""
    return {**record.fields, "owner_id": str(record.owner_id)}
