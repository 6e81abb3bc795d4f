"""Read-only copies on the phone (R1): a volunteer's offers and assignments — an assignment
with its client's pseudonymous details —, the organisation's events, and the Wegweiser (its
directory, with the entries other organisations share, and its how-tos) reach devices through
the same change log as notes and visit logs.

Whoever writes one of these rows calls `sync_store.touch` in the same transaction (R2). A pull
loads the rows as they are now; a copy's version is the seq of its latest change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from server import sql
from sync.types import Record

OFFER_SQL = (
    "SELECT o.id, o.organisation, o.volunteer, o.status, r.reference, r.purpose, r.language, r.day, r.time_from, "
    "r.time_to, r.place FROM offer o JOIN help_request r ON r.id = o.request WHERE {where}"
)
ASSIGNMENT_SQL = (
    "SELECT a.id, a.organisation, a.volunteer, a.status, r.reference, a.purpose, a.language, a.day, a.start_time, "
    "a.place, c.id, c.alias, c.languages, c.district, c.needs "
    "FROM assignment a JOIN help_request r ON r.id = a.request LEFT JOIN client c ON c.id = a.client WHERE {where}"
)
EVENT_SQL = "SELECT id, organisation, kind, title, starts_at, place, description FROM event WHERE {where}"
DIRECTORY_SQL = (
    "SELECT id, organisation, name, category, address, opening_hours, phone, languages, help_kinds, bring, notes, "
    "last_checked, shared, deleted_at FROM directory_entry WHERE {where}"
)
HOWTO_SQL = (
    "SELECT id, organisation, title, body, checklist, entries, place_types, topics, deleted_at FROM howto WHERE {where}"
)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _day(value: Any) -> str | None:
    return None if value is None else sql.date_value(value).isoformat()


def _offer(row) -> Record:
    offer_id, organisation, volunteer, status, reference, purpose, language, day, time_from, time_to, place = row
    fields = {"status": status, "reference": reference, "purpose": purpose, "language": language, "day": _day(day),
              "time_from": time_from, "time_to": time_to, "place": place}
    return _record("offer", offer_id, organisation, volunteer, fields)


def _assignment(row) -> Record:
    (assignment_id, organisation, volunteer, status, reference, purpose, language, day, start_time, place, client_id,
     alias, languages, district, needs) = row
    fields = {"status": status, "reference": reference, "purpose": purpose, "language": language, "day": _day(day),
              "start_time": start_time, "place": place, "client_id": _text(client_id), "client_alias": alias,
              "client_languages": sql.json_value(languages, []), "client_district": district, "client_needs": needs}
    return _record("assignment", assignment_id, organisation, volunteer, fields)


def _event(row) -> Record:
    event_id, organisation, kind, title, starts_at, place, description = row
    fields = {"kind": kind, "title": title, "starts_at": sql.datetime_value(starts_at).isoformat(), "place": place,
              "description": description}
    return _record("event", event_id, organisation, organisation, fields)  # everyone's: no owner of its own


def _directory_entry(row, viewer_organisation: UUID) -> Record:
    """An entry as one organisation's phones see it: its own, or one another organisation shares;
    one no longer shared (or deleted) is a tombstone there."""
    (entry_id, organisation, name, category, address, opening_hours, phone, languages, help_kinds, bring, notes,
     last_checked, shared, deleted_at) = row
    own = sql.uuid_value(organisation) == viewer_organisation
    fields = {"name": name, "category": category, "address": address, "opening_hours": opening_hours, "phone": phone,
              "languages": sql.json_value(languages, []), "help_kinds": sql.json_value(help_kinds, []), "bring": bring,
              "notes": notes, "last_checked": _day(last_checked), "shared": bool(shared), "own": own}
    record = _record("directory_entry", entry_id, viewer_organisation, viewer_organisation, fields)
    record.deleted = deleted_at is not None or not (own or shared)
    return record


def _howto(row) -> Record:
    howto_id, organisation, title, body, checklist, entries, place_types, topics, deleted_at = row
    fields = {"title": title, "body": body, "checklist": sql.json_value(checklist, []),
              "entry_ids": sql.json_value(entries, []), "place_types": sql.json_value(place_types, []),
              "topics": sql.json_value(topics, [])}
    record = _record("howto", howto_id, organisation, organisation, fields)
    record.deleted = deleted_at is not None
    return record


def _record(entity: str, record_id: Any, organisation: Any, owner: Any, fields: dict) -> Record:
    return Record(entity=entity, id=sql.uuid_value(record_id), organisation_id=sql.uuid_value(organisation),
                  owner_id=sql.uuid_value(owner), version=0, fields=fields, field_versions={}, field_authors={})


LOADERS = {"offer": (OFFER_SQL, "o.", _offer), "assignment": (ASSIGNMENT_SQL, "a.", _assignment), "event": (EVENT_SQL, "", _event),
           "howto": (HOWTO_SQL, "", _howto)}


async def load(connection: sql.Connection, organisation_id: UUID, keys: Iterable[tuple[str, UUID]]) -> dict[tuple[str, UUID], Record]:
    """The current copies of these records, with seq and version of their latest change."""
    by_entity: dict[str, set[UUID]] = {}
    for entity, record_id in keys:
        if entity in LOADERS or entity == "directory_entry":
            by_entity.setdefault(entity, set()).add(record_id)
    records: dict[tuple[str, UUID], Record] = {}
    if by_entity.get("directory_entry"):  # by id alone: another organisation's shared entry is in this log too
        condition, args = connection.one_of("id", by_entity.pop("directory_entry"))
        for row in await connection.fetch(DIRECTORY_SQL.format(where=condition), *args):
            record = _directory_entry(row, organisation_id)
            records[("directory_entry", record.id)] = record
    for entity, ids in by_entity.items():
        query, prefix, convert = LOADERS[entity]
        condition, args = connection.one_of(f"{prefix}id", ids)
        for row in await connection.fetch(query.format(where=f"{condition} AND {prefix}organisation = ?"), *args,
                                          connection.uuid(organisation_id)):
            record = convert(row)
            records[(entity, record.id)] = record
    await _stamp(connection, organisation_id, records)
    return records


async def visible(connection: sql.Connection, organisation_id: UUID, user_id: UUID, since: date | None = None) -> list[Record]:
    """Every copy a device starting from nothing receives: the user's offers and assignments,
    the organisation's events — of days from `since` on (and undated ones), when given — its how-tos,
    and the directory with what other organisations share."""
    uuid = connection.uuid
    org, user = uuid(organisation_id), uuid(user_id)
    recent = {"offer": ("", []), "assignment": ("", []), "event": ("", [])}
    if since is not None:
        day = connection.day(since)
        start = connection.timestamp(datetime.combine(since, datetime.min.time(), tzinfo=UTC))
        recent = {"offer": (" AND (r.day IS NULL OR r.day >= ?)", [day]), "assignment": (" AND (a.day IS NULL OR a.day >= ?)", [day]),
                  "event": (" AND starts_at >= ?", [start])}
    where, args = recent["offer"]
    rows = [_offer(r) for r in await connection.fetch(
        OFFER_SQL.format(where=f"o.organisation = ? AND o.volunteer = ?{where}"), org, user, *args)]
    where, args = recent["assignment"]
    rows += [_assignment(r) for r in await connection.fetch(
        ASSIGNMENT_SQL.format(where=f"a.organisation = ? AND a.volunteer = ?{where}"), org, user, *args)]
    where, args = recent["event"]
    rows += [_event(r) for r in await connection.fetch(EVENT_SQL.format(where=f"organisation = ?{where}"), org, *args)]
    rows += [_directory_entry(r, organisation_id) for r in await connection.fetch(
        DIRECTORY_SQL.format(where="(organisation = ? OR shared) AND deleted_at IS NULL"), org)]
    rows += [_howto(r) for r in await connection.fetch(HOWTO_SQL.format(where="organisation = ? AND deleted_at IS NULL"), org)]
    records = {(r.entity, r.id): r for r in rows}
    await _stamp(connection, organisation_id, records)
    return list(records.values())


async def _stamp(connection: sql.Connection, organisation_id: UUID, records: dict[tuple[str, UUID], Record]) -> None:
    """seq and version: the latest change-log entry of each (0 for a row written before it had any)."""
    if not records:
        return
    condition, args = connection.one_of("record_id", {record_id for _, record_id in records})
    rows = await connection.fetch(
        f"SELECT entity, record_id, MAX(seq) FROM change_log WHERE organisation = ? AND {condition} GROUP BY entity, record_id",
        connection.uuid(organisation_id), *args)
    for entity, record_id, seq in rows:
        record = records.get((entity, sql.uuid_value(record_id)))
        if record is not None:
            record.seq = record.version = seq
