"""The Wegweiser's rows: the directory (with what other organisations share), how-tos,
suggested corrections, and visit logs flagged as needing professional help with their follow-up.

Every query is limited to one organisation, except that an entry marked `shared` is seen,
read-only, by every organisation of the installation. Writes of entries and how-tos log the
change in the same transaction, so phones receive them through the sync feed (server/feed.py, R2).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from server import sql, sync_store
from server.directory.tables import DirectoryEntry, DirectorySuggestion, HelpFollowUp, Howto
from server.visits.tables import VisitLog


class Entry(msgspec.Struct, frozen=True):
    id: UUID
    own: bool  # of the viewer's organisation, so its coordinators edit it
    organisation_name: str
    name: str
    category: str
    address: str
    opening_hours: str
    phone: str
    languages: list[str]
    help_kinds: list[str]
    bring: str
    notes: str
    last_checked: date | None
    shared: bool


class HowtoRecord(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    body: str
    checklist: list[str]
    entries: list[str]
    place_types: list[str]
    topics: list[str]


class Suggestion(msgspec.Struct, frozen=True):
    id: UUID
    entry_id: UUID
    entry_name: str
    author: str | None  # None: a volunteer of another organisation
    text: str
    created_at: datetime


class FollowUp(msgspec.Struct, frozen=True):
    author: str
    text: str
    closed: bool
    created_at: datetime


class Flagged(msgspec.Struct, frozen=True):
    """A visit log that needs professional help, as coordination follows it up."""

    id: UUID
    volunteer: str
    date: date | None
    place_type: str
    place_name: str
    help_kind: str
    help_reason: str
    follow_ups: list[FollowUp]

    @property
    def closed(self) -> bool:
        return any(step.closed for step in self.follow_ups)  # taken care of, once a follow-up says so


def folded(text: str) -> str:
    """Lower case without accents, so that "arzte" finds "Ärzte" and "Cafe" "Café"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


# --- directory ----------------------------------------------------------------------------------

ENTRY_COLUMNS = (DirectoryEntry.id, DirectoryEntry.organisation, DirectoryEntry.organisation.name.as_alias("organisation_name"),
                 DirectoryEntry.name, DirectoryEntry.category, DirectoryEntry.address, DirectoryEntry.opening_hours,
                 DirectoryEntry.phone, DirectoryEntry.languages, DirectoryEntry.help_kinds, DirectoryEntry.bring,
                 DirectoryEntry.notes, DirectoryEntry.last_checked, DirectoryEntry.shared)


def _entry(row: dict, organisation_id: UUID) -> Entry:
    return Entry(
        id=row["id"], own=row["organisation"] == organisation_id, organisation_name=row["organisation_name"],
        name=row["name"], category=row["category"], address=row["address"], opening_hours=row["opening_hours"],
        phone=row["phone"], languages=sql.json_value(row["languages"], []), help_kinds=sql.json_value(row["help_kinds"], []),
        bring=row["bring"], notes=row["notes"], last_checked=row["last_checked"], shared=bool(row["shared"]),
    )


def _visible(organisation_id: UUID):
    return ((DirectoryEntry.organisation == organisation_id) | (DirectoryEntry.shared == True)) & (  # noqa: E712
        DirectoryEntry.deleted_at.is_null())


async def list_entries(organisation_id: UUID, search: str = "", help_kind: str = "") -> list[Entry]:
    """The organisation's entries and those others share, by name; `search` matches any of the
    words in name, category, address, notes or what to bring, accents and case aside."""
    rows = await DirectoryEntry.select(*ENTRY_COLUMNS).where(_visible(organisation_id)).order_by(DirectoryEntry.name)
    entries = [_entry(row, organisation_id) for row in rows]
    if help_kind:
        entries = [e for e in entries if help_kind in e.help_kinds]
    words = folded(search).split()
    if words:
        entries = [e for e in entries if all(w in _haystack(e) for w in words)]
    return entries


def _haystack(entry: Entry) -> str:
    return folded(" ".join((entry.name, entry.category, entry.address, entry.notes, entry.bring, *entry.languages,
                            *entry.help_kinds)))


async def get_entry(entry_id: UUID, organisation_id: UUID) -> Entry | None:
    """An entry this organisation sees: its own or a shared one."""
    row = await DirectoryEntry.select(*ENTRY_COLUMNS).where(_visible(organisation_id) & (DirectoryEntry.id == entry_id)).first()
    return _entry(row, organisation_id) if row else None


async def _touch_entry(connection: sql.Connection, organisation_id: UUID, entry_id: UUID, everywhere: bool) -> None:
    """Log the change for the phones of every organisation that may see (or saw) the entry; the
    clocks are taken in one order, so two such writes never wait for each other in a circle."""
    if everywhere:
        organisations = sorted(sql.uuid_value(row[0]) for row in await connection.fetch("SELECT id FROM organisation"))
    else:
        organisations = [organisation_id]
    for organisation in organisations:
        await sync_store.touch(connection, organisation, [("directory_entry", entry_id)])


def _entry_args(connection: sql.Connection, values: dict) -> list[Any]:
    encode = lambda value: msgspec.json.encode(value).decode()  # noqa: E731
    return [values["name"], values["category"], values["address"], values["opening_hours"], values["phone"],
            encode(values["languages"]), encode(values["help_kinds"]), values["bring"], values["notes"],
            connection.day(values["last_checked"]), values["shared"]]


ENTRY_FIELDS = ("name", "category", "address", "opening_hours", "phone", "languages", "help_kinds", "bring", "notes",
                "last_checked", "shared")


async def create_entry(organisation_id: UUID, now: datetime, values: dict) -> UUID:
    entry_id = uuid4()
    async with sql.transaction(DirectoryEntry._meta.db, write=True) as connection:
        stamp = connection.timestamp(now)
        columns = ", ".join(ENTRY_FIELDS)
        await connection.execute(
            f"INSERT INTO directory_entry (id, organisation, {columns}, created_at, updated_at) "
            f"VALUES (?, ?, {', '.join('?' * len(ENTRY_FIELDS))}, ?, ?)",
            connection.uuid(entry_id), connection.uuid(organisation_id), *_entry_args(connection, values), stamp, stamp)
        await _touch_entry(connection, organisation_id, entry_id, values["shared"])
    return entry_id


async def update_entry(entry_id: UUID, organisation_id: UUID, now: datetime, values: dict) -> bool:
    """Change one of the organisation's own entries; False if it has none such."""
    async with sql.transaction(DirectoryEntry._meta.db, write=True) as connection:
        uuid = connection.uuid
        before = await connection.fetchone(
            "SELECT shared FROM directory_entry WHERE id = ? AND organisation = ? AND deleted_at IS NULL",
            uuid(entry_id), uuid(organisation_id))
        if before is None:
            return False
        assignments = ", ".join(f"{name} = ?" for name in ENTRY_FIELDS)
        await connection.execute(f"UPDATE directory_entry SET {assignments}, updated_at = ? WHERE id = ?",
                                 *_entry_args(connection, values), connection.timestamp(now), uuid(entry_id))
        await _touch_entry(connection, organisation_id, entry_id, bool(before[0]) or values["shared"])
    return True


async def delete_entry(entry_id: UUID, organisation_id: UUID, now: datetime) -> bool:
    """Take an entry out of the directory: phones delete their copy at the next sync."""
    async with sql.transaction(DirectoryEntry._meta.db, write=True) as connection:
        uuid = connection.uuid
        found = await connection.fetch(
            "UPDATE directory_entry SET deleted_at = ?, updated_at = ? WHERE id = ? AND organisation = ? "
            "AND deleted_at IS NULL RETURNING shared", connection.timestamp(now), connection.timestamp(now),
            uuid(entry_id), uuid(organisation_id))
        if not found:
            return False
        await _touch_entry(connection, organisation_id, entry_id, bool(found[0][0]))
    return True


# --- how-tos --------------------------------------------------------------------------------------


def _howto(row: dict) -> HowtoRecord:
    return HowtoRecord(id=row["id"], title=row["title"], body=row["body"], checklist=sql.json_value(row["checklist"], []),
                       entries=sql.json_value(row["entries"], []), place_types=sql.json_value(row["place_types"], []),
                       topics=sql.json_value(row["topics"], []))


async def list_howtos(organisation_id: UUID) -> list[HowtoRecord]:
    rows = await Howto.select().where((Howto.organisation == organisation_id) & Howto.deleted_at.is_null()).order_by(Howto.title)
    return [_howto(row) for row in rows]


async def get_howto(howto_id: UUID, organisation_id: UUID) -> HowtoRecord | None:
    row = await Howto.select().where(
        (Howto.id == howto_id) & (Howto.organisation == organisation_id) & Howto.deleted_at.is_null()).first()
    return _howto(row) if row else None


HOWTO_FIELDS = ("title", "body", "checklist", "entries", "place_types", "topics")


def _howto_args(values: dict) -> list[Any]:
    return [values[name] if isinstance(values[name], str) else msgspec.json.encode(values[name]).decode()
            for name in HOWTO_FIELDS]


async def create_howto(organisation_id: UUID, now: datetime, values: dict) -> UUID:
    howto_id = uuid4()
    async with sql.transaction(Howto._meta.db, write=True) as connection:
        stamp = connection.timestamp(now)
        await connection.execute(
            f"INSERT INTO howto (id, organisation, {', '.join(HOWTO_FIELDS)}, created_at, updated_at) "
            f"VALUES (?, ?, {', '.join('?' * len(HOWTO_FIELDS))}, ?, ?)",
            connection.uuid(howto_id), connection.uuid(organisation_id), *_howto_args(values), stamp, stamp)
        await sync_store.touch(connection, organisation_id, [("howto", howto_id)])
    return howto_id


async def update_howto(howto_id: UUID, organisation_id: UUID, now: datetime, values: dict | None) -> bool:
    """Change a how-to, or with values None delete it; False if the organisation has none such."""
    async with sql.transaction(Howto._meta.db, write=True) as connection:
        uuid, stamp = connection.uuid, connection.timestamp(now)
        if values is None:
            changes, args = "deleted_at = ?", [stamp]
        else:
            changes, args = ", ".join(f"{name} = ?" for name in HOWTO_FIELDS), _howto_args(values)
        found = await connection.fetch(
            f"UPDATE howto SET {changes}, updated_at = ? WHERE id = ? AND organisation = ? AND deleted_at IS NULL RETURNING id",
            *args, stamp, uuid(howto_id), uuid(organisation_id))
        if found:
            await sync_store.touch(connection, organisation_id, [("howto", howto_id)])
    return bool(found)


# --- suggested corrections ----------------------------------------------------------------------


async def suggest(entry: Entry, author_id: UUID, text: str, now: datetime) -> UUID:
    """A volunteer's correction goes to the coordinators of the organisation the entry belongs to."""
    owner = await DirectoryEntry.select(DirectoryEntry.organisation).where(DirectoryEntry.id == entry.id).first()
    suggestion_id = uuid4()
    await DirectorySuggestion.insert(DirectorySuggestion(
        id=suggestion_id, organisation=owner["organisation"], entry=entry.id, author=author_id, text=text, created_at=now))
    return suggestion_id


async def open_suggestions(organisation_id: UUID) -> list[Suggestion]:
    rows = await DirectorySuggestion.select(
        DirectorySuggestion.id, DirectorySuggestion.entry, DirectorySuggestion.text, DirectorySuggestion.created_at,
        DirectorySuggestion.author.display_name.as_alias("author"),
        DirectorySuggestion.author.organisation.as_alias("author_organisation"),
    ).where((DirectorySuggestion.organisation == organisation_id) & DirectorySuggestion.done_at.is_null()).order_by(
        DirectorySuggestion.created_at)
    names = {}
    if rows:
        entries = await DirectoryEntry.select(DirectoryEntry.id, DirectoryEntry.name).where(
            DirectoryEntry.id.is_in([row["entry"] for row in rows]))
        names = {row["id"]: row["name"] for row in entries}
    return [Suggestion(id=row["id"], entry_id=row["entry"], entry_name=names.get(row["entry"], ""), text=row["text"],
                       author=row["author"] if row["author_organisation"] == organisation_id else None,
                       created_at=row["created_at"]) for row in rows]


async def close_suggestion(suggestion_id: UUID, organisation_id: UUID, user_id: UUID, now: datetime) -> bool:
    found = await DirectorySuggestion.update({DirectorySuggestion.done_at: now, DirectorySuggestion.done_by: user_id}).where(
        (DirectorySuggestion.id == suggestion_id) & (DirectorySuggestion.organisation == organisation_id)
        & DirectorySuggestion.done_at.is_null()).returning(DirectorySuggestion.id)
    return bool(found)


# --- professional help ----------------------------------------------------------------------------


async def flagged(organisation_id: UUID, log_id: UUID | None = None) -> list[Flagged]:
    """Visit logs flagged as needing professional help, the newest first, with their follow-up."""
    query = VisitLog.select(
        VisitLog.id, VisitLog.date, VisitLog.place_type, VisitLog.place_name, VisitLog.help_kind, VisitLog.help_reason,
        VisitLog.owner.display_name.as_alias("volunteer"),
    ).where((VisitLog.organisation == organisation_id) & (VisitLog.help_kind != "") & VisitLog.deleted_at.is_null()
            ).order_by(VisitLog.date, ascending=False)
    if log_id is not None:
        query = query.where(VisitLog.id == log_id)
    rows = await query
    follow_ups: dict[UUID, list[FollowUp]] = {}
    if rows:
        for row in await HelpFollowUp.select(
            HelpFollowUp.visit_log, HelpFollowUp.text, HelpFollowUp.closed, HelpFollowUp.created_at,
            HelpFollowUp.author.display_name.as_alias("author"),
        ).where((HelpFollowUp.organisation == organisation_id) & HelpFollowUp.visit_log.is_in([r["id"] for r in rows])
                ).order_by(HelpFollowUp.created_at):
            follow_ups.setdefault(row["visit_log"], []).append(
                FollowUp(author=row["author"], text=row["text"], closed=bool(row["closed"]), created_at=row["created_at"]))
    return [Flagged(id=row["id"], volunteer=row["volunteer"], date=row["date"], place_type=row["place_type"],
                    place_name=row["place_name"], help_kind=row["help_kind"], help_reason=row["help_reason"],
                    follow_ups=follow_ups.get(row["id"], [])) for row in rows]


async def follow_up(log_id: UUID, organisation_id: UUID, author_id: UUID, text: str, closed: bool, now: datetime) -> None:
    await HelpFollowUp.insert(HelpFollowUp(id=uuid4(), organisation=organisation_id, visit_log=log_id, author=author_id,
                                           text=text, closed=closed, created_at=now))

