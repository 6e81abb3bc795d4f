"""Requests, offers and the assignments they become; every query is limited to one organisation.

The first acceptance of a request wins: accepting moves the request from `offered` to
`assigned` with one conditional UPDATE inside a write transaction, so of two volunteers
accepting at the same moment exactly one finds the row still offered — on SQLite because write
transactions take the lock in turn, on PostgreSQL because the second UPDATE waits for the first
and then re-reads the row. The unique request column of assignments backs this up.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from server import sql, sync_store
from server.push import store as push
from server.push.sender import poke
from server.accounts.store import UserRecord, list_users
from server.assignments.tables import Assignment
from server.clients.store import ClientRecord, get_client
from server.requests import matching
from server.requests.tables import HelpRequest, Offer

PURPOSES = ("behoerde", "arzt", "kita_schule", "wohnung", "arbeit", "sonstiges")
STATUSES = ("new", "matching", "offered", "assigned", "done", "cancelled")
OPEN_STATUSES = ("new", "matching", "offered")
REFERENCE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)


class RequestRecord(msgspec.Struct, frozen=True):
    id: UUID
    reference: str
    source: str
    requester: str
    contact: str
    language: str
    purpose: str
    day: date | None
    time_from: str | None
    time_to: str | None
    place: str
    description: str
    client_id: UUID | None
    status: str
    created_at: datetime


class OfferRecord(msgspec.Struct, frozen=True):
    id: UUID
    request_id: UUID
    volunteer_id: UUID
    volunteer_name: str
    status: str
    created_at: datetime
    answered_at: datetime | None


class AssignmentRecord(msgspec.Struct, frozen=True):
    id: UUID
    request_id: UUID
    reference: str
    client_id: UUID | None
    client_alias: str | None
    volunteer_id: UUID
    volunteer_name: str
    day: date | None
    start_time: str | None
    place: str
    language: str
    purpose: str
    status: str


def new_reference() -> str:
    """A short code for whoever asked, easy to read out on the phone; random, so it reveals nothing."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{code[:3]}-{code[3:]}"


def _request(row: dict) -> RequestRecord:
    return RequestRecord(
        id=row["id"], reference=row["reference"], source=row["source"], requester=row["requester"], contact=row["contact"],
        language=row["language"], purpose=row["purpose"], day=row["day"], time_from=row["time_from"],
        time_to=row["time_to"], place=row["place"], description=row["description"], client_id=row["client"],
        status=row["status"], created_at=row["created_at"],
    )


async def create_request(organisation_id: UUID, now: datetime, **values: Any) -> RequestRecord:
    request_id = uuid4()
    for _ in range(5):  # a reference taken already (rare): draw another
        reference = new_reference()
        if not await HelpRequest.exists().where(HelpRequest.reference == reference):
            break
    await HelpRequest.insert(HelpRequest(
        id=request_id, organisation=organisation_id, reference=reference, created_at=now, updated_at=now, **values))
    found = await get_request(request_id, organisation_id)
    assert found is not None
    return found


async def get_request(request_id: UUID, organisation_id: UUID) -> RequestRecord | None:
    row = await HelpRequest.select().where(
        (HelpRequest.id == request_id) & (HelpRequest.organisation == organisation_id)).first()
    return _request(row) if row else None


async def request_by_reference(reference: str, organisation_id: UUID) -> RequestRecord | None:
    row = await HelpRequest.select().where(
        (HelpRequest.reference == reference) & (HelpRequest.organisation == organisation_id)).first()
    return _request(row) if row else None


async def list_requests(organisation_id: UUID, status: str | None = None) -> list[RequestRecord]:
    query = HelpRequest.select().where(HelpRequest.organisation == organisation_id).order_by(
        HelpRequest.created_at, ascending=False)
    if status:
        query = query.where(HelpRequest.status == status)
    return [_request(row) for row in await query]


async def count_by_status(organisation_id: UUID) -> dict[str, int]:
    rows = await HelpRequest.select(HelpRequest.status).where(HelpRequest.organisation == organisation_id)
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


async def set_status(request_id: UUID, organisation_id: UUID, status: str, now: datetime) -> bool:
    """A request's new status; cancelling it withdraws its open offers, on the phones too."""
    async with sql.transaction(HelpRequest._meta.db, write=True) as connection:
        uuid, stamp = connection.uuid, connection.timestamp(now)
        updated = await connection.fetch(
            "UPDATE help_request SET status = ?, updated_at = ? WHERE id = ? AND organisation = ? RETURNING id",
            status, stamp, uuid(request_id), uuid(organisation_id))
        if updated and status == "cancelled":
            withdrawn = await connection.fetch(
                "UPDATE offer SET status = 'withdrawn', answered_at = ? WHERE request = ? AND status = 'open' RETURNING id",
                stamp, uuid(request_id))
            await sync_store.touch(connection, organisation_id, [("offer", sql.uuid_value(row[0])) for row in withdrawn])
    return bool(updated)


# --- matching --------------------------------------------------------------------------------------


def _month(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


async def candidates(request: RequestRecord, organisation_id: UUID, today: date) -> matching.Ranking:
    """The active volunteers with a signed pledge, ranked for this request."""
    client: ClientRecord | None = await get_client(request.client_id, organisation_id) if request.client_id else None
    volunteers = [v for v in await list_users(organisation_id, role="volunteer") if v.active and v.pledge_signed_on]
    start, end = _month(request.day or today)
    relevant = (Assignment.day >= start) & (Assignment.day < end)  # this month's load
    if client is not None:
        relevant = relevant | (Assignment.client == client.id)  # and continuity with the client
    rows = await Assignment.select(Assignment.volunteer, Assignment.client, Assignment.day).where(
        (Assignment.organisation == organisation_id) & (Assignment.status != "cancelled") & relevant)
    load: dict[UUID, int] = {}
    continuity: dict[UUID, int] = {}
    for row in rows:
        if row["day"] is not None and start <= row["day"] < end:
            load[row["volunteer"]] = load.get(row["volunteer"], 0) + 1
        if client is not None and row["client"] == client.id:
            continuity[row["volunteer"]] = continuity.get(row["volunteer"], 0) + 1
    needs = matching.Needs(
        language=request.language, client_languages=tuple(client.languages) if client else (),
        district=client.district if client else "", day=request.day, time_from=request.time_from,
        client_id=client.id if client else None,
    )
    return matching.rank(needs, [_as_volunteer(v) for v in volunteers], load, continuity)


def _as_volunteer(user: UserRecord) -> matching.Volunteer:
    return matching.Volunteer(
        id=user.id, name=user.display_name, languages=tuple((lang.code, lang.level) for lang in user.languages),
        districts=tuple(user.districts), availability=tuple(user.availability),
    )


# --- offers ------------------------------------------------------------------------------------------


async def make_offers(request: RequestRecord, organisation_id: UUID, volunteer_ids: list[UUID], now: datetime) -> int:
    """Offer an open request to these volunteers (of this organisation, with a pledge, not
    offered it yet). Returns how many offers were made."""
    if request.status not in OPEN_STATUSES:
        return 0
    allowed = {v.id for v in await list_users(organisation_id, role="volunteer") if v.active and v.pledge_signed_on}
    already = {row["volunteer"] for row in await Offer.select(Offer.volunteer).where(Offer.request == request.id)}
    chosen = [v for v in dict.fromkeys(volunteer_ids) if v in allowed and v not in already]
    if not chosen:
        return 0
    offers = [(uuid4(), volunteer) for volunteer in chosen]
    async with sql.transaction(Offer._meta.db, write=True) as connection:  # the offers reach the phones with it (R2)
        uuid, stamp = connection.uuid, connection.timestamp(now)
        await connection.executemany(
            "INSERT INTO offer (id, organisation, request, volunteer, status, created_at) VALUES (?, ?, ?, ?, 'open', ?)",
            [[uuid(offer_id), uuid(organisation_id), uuid(request.id), uuid(volunteer), stamp] for offer_id, volunteer in offers])
        condition, args = connection.one_of("status", OPEN_STATUSES)
        await connection.execute(f"UPDATE help_request SET status = 'offered', updated_at = ? WHERE id = ? AND {condition}",
                                 stamp, uuid(request.id), *args)
        await sync_store.touch(connection, organisation_id, [("offer", offer_id) for offer_id, _ in offers])
        await push.enqueue(connection, organisation_id, chosen, "offer", "/offers", now)
    poke()
    return len(chosen)


async def offers_of_request(request_id: UUID, organisation_id: UUID) -> list[OfferRecord]:
    rows = await Offer.select(
        Offer.id, Offer.request, Offer.volunteer, Offer.volunteer.display_name.as_alias("name"), Offer.status,
        Offer.created_at, Offer.answered_at,
    ).where((Offer.request == request_id) & (Offer.organisation == organisation_id)).order_by(Offer.created_at)
    return [_offer(row) for row in rows]


def _offer(row: dict) -> OfferRecord:
    return OfferRecord(
        id=row["id"], request_id=row["request"], volunteer_id=row["volunteer"], volunteer_name=row["name"],
        status=row["status"], created_at=row["created_at"], answered_at=row["answered_at"],
    )


async def waiting_too_long(organisation_id: UUID, cutoff: datetime) -> set[UUID]:
    """Requests with an offer still unanswered that was made before `cutoff`."""
    rows = await Offer.select(Offer.request).where(
        (Offer.organisation == organisation_id) & (Offer.status == "open") & (Offer.created_at < cutoff))
    return {row["request"] for row in rows}


class VolunteerOffer(msgspec.Struct, frozen=True):
    offer: OfferRecord
    request: RequestRecord
    client_alias: str | None


async def offers_for_volunteer(volunteer_id: UUID, organisation_id: UUID) -> list[VolunteerOffer]:
    """The volunteer's offers, open ones first, newest first; one query."""
    request_columns = [getattr(Offer.request, name).as_alias(f"r_{name}") for name in _REQUEST_COLUMNS]
    rows = await Offer.select(
        Offer.id, Offer.request, Offer.volunteer, Offer.volunteer.display_name.as_alias("name"), Offer.status,
        Offer.created_at, Offer.answered_at, *request_columns, Offer.request.client.alias.as_alias("client_alias"),
    ).where((Offer.volunteer == volunteer_id) & (Offer.organisation == organisation_id)).order_by(
        Offer.created_at, ascending=False)
    found = [
        VolunteerOffer(offer=_offer(row), request=_request({name: row[f"r_{name}"] for name in _REQUEST_COLUMNS}),
                       client_alias=row["client_alias"])
        for row in rows
    ]
    found.sort(key=lambda o: o.offer.status != "open")
    return found


_REQUEST_COLUMNS = ("id", "reference", "source", "requester", "contact", "language", "purpose", "day", "time_from", "time_to",
                    "place", "description", "client", "status", "created_at")


async def is_offered_to(offer_id: UUID, volunteer_id: UUID, organisation_id: UUID) -> bool:
    return await Offer.exists().where(
        (Offer.id == offer_id) & (Offer.volunteer == volunteer_id) & (Offer.organisation == organisation_id))


async def answer_offer(offer_id: UUID, volunteer_id: UUID, organisation_id: UUID, accept: bool, now: datetime) -> str:
    """The volunteer's answer. Returns the offer's status afterwards: `accepted` (this volunteer
    has the assignment), `taken` (someone else accepted first), `declined`, `withdrawn`, or
    `missing` when the offer is not this volunteer's."""
    async with sql.transaction(Offer._meta.db, write=True) as connection:
        return await answer_in(connection, offer_id, volunteer_id, organisation_id, accept, now)


async def answer_in(connection: sql.Connection, offer_id: UUID, volunteer_id: UUID, organisation_id: UUID, accept: bool,
                    now: datetime) -> str:
    """answer_offer inside a transaction the caller holds (a sync push answers offers too).
    Answering again gives the same status: an answer sent twice changes nothing."""
    uuid, stamp = connection.uuid, connection.timestamp(now)
    row = await connection.fetchone(
        "SELECT o.status, o.request, r.status FROM offer o JOIN help_request r ON r.id = o.request "
        "WHERE o.id = ? AND o.volunteer = ? AND o.organisation = ?",
        uuid(offer_id), uuid(volunteer_id), uuid(organisation_id))
    if row is None:
        return "missing"
    offer_status, request_id, request_status = row
    if offer_status != "open":
        return offer_status
    if not accept:
        await connection.execute("UPDATE offer SET status = 'declined', answered_at = ? WHERE id = ?", stamp, uuid(offer_id))
        await sync_store.touch(connection, organisation_id, [("offer", offer_id)])
        return "declined"
    won = await connection.fetch(
        "UPDATE help_request SET status = 'assigned', updated_at = ? WHERE id = ? AND status IN ('new', 'matching', 'offered') "
        "RETURNING id, client, day, time_from, place, language, purpose",
        stamp, request_id)
    if not won:
        await connection.execute("UPDATE offer SET status = 'taken', answered_at = ? WHERE id = ?", stamp, uuid(offer_id))
        await sync_store.touch(connection, organisation_id, [("offer", offer_id)])
        return "taken"
    _, client_id, day, time_from, place, language, purpose = won[0]
    assignment_id = uuid4()
    await connection.execute(
        "INSERT INTO assignment (id, organisation, request, client, volunteer, day, start_time, place, language, purpose, "
        "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?)",
        uuid(assignment_id), uuid(organisation_id), request_id, client_id, uuid(volunteer_id), day, time_from, place, language,
        purpose, stamp)
    await connection.execute("UPDATE offer SET status = 'accepted', answered_at = ? WHERE id = ?", stamp, uuid(offer_id))
    others = await connection.fetch(
        "UPDATE offer SET status = 'taken', answered_at = ? WHERE request = ? AND id <> ? AND status = 'open' RETURNING id",
        stamp, request_id, uuid(offer_id))
    await sync_store.touch(connection, organisation_id, [
        ("offer", offer_id), ("assignment", assignment_id), *(("offer", sql.uuid_value(r[0])) for r in others)])
    return "accepted"


# --- assignments -------------------------------------------------------------------------------------


async def list_assignments(organisation_id: UUID, volunteer_id: UUID | None = None, from_day: date | None = None,
                           assignment_id: UUID | None = None, request_id: UUID | None = None) -> list[AssignmentRecord]:
    """Assignments in the order of their day and time; plain SQL, as the volunteer's start page
    asks on every view (building the query with Piccolo cost more than the page's database work)."""
    async with sql.transaction(Assignment._meta.db, write=False) as connection:
        where, args = ["a.organisation = ?"], [connection.uuid(organisation_id)]
        for condition, value in (("a.volunteer = ?", volunteer_id), ("a.id = ?", assignment_id),
                                 ("a.request = ?", request_id)):
            if value is not None:
                where.append(condition)
                args.append(connection.uuid(value))
        if from_day is not None:
            where.append("(a.day >= ? OR a.day IS NULL)")
            args.append(connection.day(from_day))
        rows = await connection.fetch(
            "SELECT a.id, a.request, r.reference, a.client, c.alias, a.volunteer, u.display_name, a.day, a.start_time, "
            "a.place, a.language, a.purpose, a.status FROM assignment a JOIN help_request r ON r.id = a.request "
            "LEFT JOIN client c ON c.id = a.client LEFT JOIN app_user u ON u.id = a.volunteer "
            f"WHERE {' AND '.join(where)} ORDER BY a.day, a.start_time", *args)
    uuid = sql.uuid_value
    return [
        AssignmentRecord(
            id=uuid(row[0]), request_id=uuid(row[1]), reference=row[2], client_id=uuid(row[3]), client_alias=row[4],
            volunteer_id=uuid(row[5]), volunteer_name=row[6], day=sql.date_value(row[7]), start_time=row[8],
            place=row[9], language=row[10], purpose=row[11], status=row[12],
        )
        for row in rows
    ]
