"""Events, answers, attendance and modules; every query is limited to one organisation."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

import msgspec

from server import sql, sync_store
from server.push import store as push
from server.push.sender import poke
from server.clock import LOCAL
from server.events.tables import Event, EventResponse, Module, ModuleCompletion
from server.i18n import N_

KINDS = ("stammtisch", "training", "supervision")
ANSWERS = ("yes", "maybe", "no")
# The catalogue every organisation starts with (msgids; coordinators see them translated).
CATALOGUE = (
    N_("Law and politics"), N_("Employment support"), N_("Social security"), N_("Basic income support"),
    N_("Social assistance"), N_("EU immigration"), N_("Communication"), N_("Intercultural competence"),
)


class EventRecord(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    title: str
    starts_at: datetime
    place: str
    description: str
    module_id: UUID | None


class ResponseRecord(msgspec.Struct, frozen=True):
    volunteer_id: UUID
    answer: str | None
    attended: bool | None


class ModuleRecord(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    required: bool


async def seed_catalogue(organisation_id: UUID) -> None:
    await Module.insert(*[Module(id=uuid4(), organisation=organisation_id, name=name, required=True, position=n)
                          for n, name in enumerate(CATALOGUE)])


async def modules(organisation_id: UUID) -> list[ModuleRecord]:
    rows = await Module.select(Module.id, Module.name, Module.required).where(
        Module.organisation == organisation_id).order_by(Module.position)
    return [ModuleRecord(id=r["id"], name=r["name"], required=r["required"]) for r in rows]


def _event(row: dict) -> EventRecord:
    return EventRecord(id=row["id"], kind=row["kind"], title=row["title"], starts_at=row["starts_at"], place=row["place"],
                       description=row["description"], module_id=row["module"])


async def create_event(organisation_id: UUID, now: datetime, *, kind: str, title: str, starts_at: datetime,
                       place: str = "", description: str = "", module: UUID | None = None) -> UUID:
    """A new event; it reaches every phone of the organisation through the sync feed."""
    event_id = uuid4()
    async with sql.transaction(Event._meta.db, write=True) as connection:
        uuid = connection.uuid
        await connection.execute(
            "INSERT INTO event (id, organisation, kind, title, starts_at, place, description, module, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            uuid(event_id), uuid(organisation_id), kind, title, connection.timestamp(starts_at), place, description,
            uuid(module), connection.timestamp(now))
        await sync_store.touch(connection, organisation_id, [("event", event_id)])
        volunteers = await connection.fetch(
            "SELECT id FROM app_user WHERE organisation = ? AND role = 'volunteer' AND active", uuid(organisation_id))
        await push.enqueue(connection, organisation_id, [sql.uuid_value(row[0]) for row in volunteers], "event", "/events", now)
    poke()
    return event_id


async def list_events(organisation_id: UUID, since: datetime | None = None) -> list[EventRecord]:
    query = Event.select().where(Event.organisation == organisation_id).order_by(Event.starts_at)
    if since is not None:
        query = query.where(Event.starts_at >= since)
    return [_event(row) for row in await query]


async def get_event(event_id: UUID, organisation_id: UUID) -> EventRecord | None:
    row = await Event.select().where((Event.id == event_id) & (Event.organisation == organisation_id)).first()
    return _event(row) if row else None


async def responses(event_id: UUID) -> dict[UUID, ResponseRecord]:
    rows = await EventResponse.select().where(EventResponse.event == event_id)
    return {r["volunteer"]: ResponseRecord(volunteer_id=r["volunteer"], answer=r["answer"], attended=r["attended"]) for r in rows}


async def answers_of(volunteer_id: UUID, event_ids: list[UUID]) -> dict[UUID, ResponseRecord]:
    """This volunteer's answers to these events, by event."""
    if not event_ids:
        return {}
    rows = await EventResponse.select().where((EventResponse.volunteer == volunteer_id) & EventResponse.event.is_in(event_ids))
    return {r["event"]: ResponseRecord(volunteer_id=r["volunteer"], answer=r["answer"], attended=r["attended"]) for r in rows}


async def answer(event_id: UUID, volunteer_id: UUID, reply: str, now: datetime) -> None:
    updated = await EventResponse.update({EventResponse.answer: reply, EventResponse.answered_at: now}).where(
        (EventResponse.event == event_id) & (EventResponse.volunteer == volunteer_id)).returning(EventResponse.id)
    if not updated:
        await EventResponse.insert(EventResponse(event=event_id, volunteer=volunteer_id, answer=reply, answered_at=now))


async def record_attendance(event: EventRecord, volunteer_ids: set[UUID], present: set[UUID]) -> int:
    """Record who came of these volunteers; a training with a module completes it for those who
    came and had not completed it yet. Returns how many modules were completed now."""
    known = set(await responses(event.id))
    for came, group in ((True, present & volunteer_ids), (False, volunteer_ids - present)):
        if group & known:
            await EventResponse.update({EventResponse.attended: came}).where(
                (EventResponse.event == event.id) & EventResponse.volunteer.is_in(list(group & known)))
        if group - known:
            await EventResponse.insert(*[EventResponse(event=event.id, volunteer=v, attended=came) for v in group - known])
    if event.kind != "training" or event.module_id is None or not present & volunteer_ids:
        return 0
    done = {row["volunteer"] for row in await ModuleCompletion.select(ModuleCompletion.volunteer).where(
        ModuleCompletion.module == event.module_id)}
    new = (present & volunteer_ids) - done
    if new:
        await ModuleCompletion.insert(*[
            ModuleCompletion(module=event.module_id, volunteer=v, completed_on=event.starts_at.astimezone(LOCAL).date(), event=event.id)
            for v in new])
    return len(new)


async def complete(module_id: UUID, volunteer_id: UUID, on: date, event_id: UUID | None = None) -> bool:
    """Record a completed module once; False when it was recorded already."""
    if await ModuleCompletion.exists().where(
            (ModuleCompletion.module == module_id) & (ModuleCompletion.volunteer == volunteer_id)):
        return False
    await ModuleCompletion.insert(ModuleCompletion(module=module_id, volunteer=volunteer_id, completed_on=on, event=event_id))
    return True


async def completions(volunteer_id: UUID, organisation_id: UUID) -> dict[UUID, date]:
    rows = await ModuleCompletion.select(ModuleCompletion.module, ModuleCompletion.completed_on).where(
        (ModuleCompletion.volunteer == volunteer_id) & (ModuleCompletion.module.organisation == organisation_id))
    return {r["module"]: r["completed_on"] for r in rows}


def certificate_due(catalogue: list[ModuleRecord], done: dict[UUID, date]) -> bool:
    """The certificate is there once every required module is completed."""
    required = [m for m in catalogue if m.required]
    return bool(required) and all(m.id in done for m in required)
