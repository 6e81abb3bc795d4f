"""The figures, counted in the database: a quarter over 100,000 visit logs is a handful of
GROUP BY queries. Clients are counted, never named."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from server import sql
from server.clock import LOCAL
from server.organisations.tables import Organisation

COUNTED = "('submitted', 'approved')"  # a draft is not yet an accompaniment


class VolunteerLine(msgspec.Struct):
    name: str
    visits: int
    minutes: int
    km: float
    expenses_cents: int


class EventLine(msgspec.Struct):
    title: str
    day: date
    kind: str
    coming: int
    attended: int


class Figures(msgspec.Struct):
    start: date
    end: date
    visits: int
    clients: int
    minutes: int
    km: float
    by_place: list[tuple[str, int]]
    by_purpose: list[tuple[str, int]]
    by_language: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    volunteers: list[VolunteerLine]
    new_volunteers: int
    modules_completed: int
    certificates: int
    events: list[EventLine]


def quarter(day: date) -> tuple[date, date]:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = date(first.year + (first.month + 2) // 12, (first.month + 2) % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _pairs(rows: list) -> list[tuple[str, int]]:
    return [(key or "", int(count)) for key, count in sorted(rows, key=lambda r: (-r[1], r[0] or ""))]


async def figures(organisation_id: UUID, start: date, end: date) -> Figures:
    async with sql.transaction(Organisation._meta.db, write=False, inline=False) as connection:
        org, first, last = connection.uuid(organisation_id), connection.day(start), connection.day(end)
        logs = f"v.organisation = ? AND v.deleted_at IS NULL AND v.status IN {COUNTED} AND v.date >= ? AND v.date <= ?"
        args = (org, first, last)
        total = await connection.fetchone(
            f"SELECT COUNT(*), COUNT(DISTINCT v.client_id), COALESCE(SUM(v.duration_minutes), 0), "
            f"COALESCE(SUM(v.travel_km), 0) FROM visit_log v WHERE {logs}", *args)
        by_place = await connection.fetch(f"SELECT v.place_type, COUNT(*) FROM visit_log v WHERE {logs} GROUP BY v.place_type", *args)
        joined = f"FROM visit_log v LEFT JOIN assignment a ON a.id = v.assignment_id WHERE {logs}"
        by_purpose = await connection.fetch(f"SELECT a.purpose, COUNT(*) {joined} GROUP BY a.purpose", *args)
        by_language = await connection.fetch(f"SELECT a.language, COUNT(*) {joined} GROUP BY a.language", *args)
        month = "to_char(v.date, 'YYYY-MM')" if connection.postgres else "substr(v.date, 1, 7)"
        by_month = await connection.fetch(f"SELECT {month}, COUNT(*) FROM visit_log v WHERE {logs} GROUP BY 1 ORDER BY 1", *args)
        people = await connection.fetch(
            "SELECT u.display_name, COUNT(*), COALESCE(SUM(v.duration_minutes), 0), COALESCE(SUM(v.travel_km), 0), "
            f'COALESCE(SUM(v.expenses_cents), 0) FROM visit_log v JOIN app_user u ON u.id = v.owner WHERE {logs} '
            "GROUP BY u.id, u.display_name ORDER BY u.display_name", *args)
        since = connection.timestamp(datetime.combine(start, datetime.min.time(), tzinfo=LOCAL))
        until = connection.timestamp(datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL))
        new_volunteers = await connection.fetchone(
            "SELECT COUNT(*) FROM app_user WHERE organisation = ? AND role = 'volunteer' AND created_at >= ? AND created_at < ?",
            org, since, until)
        completed = await connection.fetchone(
            "SELECT COUNT(*) FROM module_completion c JOIN module m ON m.id = c.module "
            "WHERE m.organisation = ? AND c.completed_on >= ? AND c.completed_on <= ?", org, first, last)
        # A certificate: the day a volunteer's last required module was completed, if all are.
        certificates = await connection.fetchone(
            "SELECT COUNT(*) FROM (SELECT c.volunteer, MAX(c.completed_on) AS done, COUNT(DISTINCT c.module) AS n "
            "FROM module_completion c JOIN module m ON m.id = c.module WHERE m.organisation = ? AND m.required "
            "GROUP BY c.volunteer) per WHERE per.n = (SELECT COUNT(*) FROM module WHERE organisation = ? AND required) "
            "AND per.done >= ? AND per.done <= ?", org, org, first, last)
        events = await connection.fetch(
            "SELECT e.title, e.starts_at, e.kind, "
            "SUM(CASE WHEN r.answer = 'yes' THEN 1 ELSE 0 END), SUM(CASE WHEN r.attended THEN 1 ELSE 0 END) "
            "FROM event e LEFT JOIN event_response r ON r.event = e.id "
            "WHERE e.organisation = ? AND e.starts_at >= ? AND e.starts_at < ? GROUP BY e.id, e.title, e.starts_at, e.kind "
            "ORDER BY e.starts_at", org, since, until)
    return Figures(
        start=start, end=end, visits=int(total[0]), clients=int(total[1]), minutes=int(total[2]), km=float(total[3]),
        by_place=_pairs(by_place), by_purpose=_pairs(by_purpose), by_language=_pairs(by_language),
        by_month=[(key, int(count)) for key, count in by_month],
        volunteers=[VolunteerLine(name, int(n), int(minutes), float(km), int(cents)) for name, n, minutes, km, cents in people],
        new_volunteers=int(new_volunteers[0]), modules_completed=int(completed[0]), certificates=int(certificates[0]),
        events=[EventLine(title, sql.datetime_value(starts).astimezone(LOCAL).date(), kind, int(coming or 0), int(came or 0))
                for title, starts, kind, coming, came in events],
    )


async def dashboard(organisation_id: UUID, today: date) -> dict[str, Any]:
    """What waits for coordination, each with the list it links to."""
    async with sql.transaction(Organisation._meta.db, write=False, inline=False) as connection:
        org = connection.uuid(organisation_id)

        async def count(query: str, *args: Any) -> int:
            return int((await connection.fetchone(query, org, *args))[0])

        month = today.replace(day=1)
        return {
            "requests": await count("SELECT COUNT(*) FROM help_request WHERE organisation = ? AND status IN ('new', 'matching', 'offered')"),
            "offers": await count("SELECT COUNT(*) FROM offer WHERE organisation = ? AND status = 'open'"),
            "review": await count("SELECT COUNT(*) FROM visit_log WHERE organisation = ? AND status = 'submitted' AND deleted_at IS NULL"),
            "conflicts": await count("SELECT COUNT(*) FROM sync_conflict WHERE organisation = ? AND resolved_at IS NULL"),
            "help": await count(  # visit logs flagged as needing professional help, not yet taken care of
                "SELECT COUNT(*) FROM visit_log v WHERE v.organisation = ? AND v.help_kind <> '' AND v.deleted_at IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM help_follow_up f WHERE f.visit_log = v.id AND f.closed)"),
            "active": await count(
                f"SELECT COUNT(DISTINCT owner) FROM visit_log WHERE organisation = ? AND deleted_at IS NULL AND status IN {COUNTED} "
                "AND date >= ?", connection.day(month)),
        }


class StatementLine(msgspec.Struct):
    day: date
    place_type: str
    place_name: str
    minutes: int
    km: float
    expenses_cents: int


async def statement(volunteer_id: UUID, organisation_id: UUID, start: date, end: date) -> list[StatementLine]:
    """A volunteer's own accompaniments in a period: proof of volunteering and of costs."""
    async with sql.transaction(Organisation._meta.db, write=False, inline=False) as connection:
        rows = await connection.fetch(
            "SELECT date, place_type, place_name, duration_minutes, travel_km, expenses_cents FROM visit_log "
            f"WHERE organisation = ? AND owner = ? AND deleted_at IS NULL AND status IN {COUNTED} AND date >= ? AND date <= ? "
            "ORDER BY date, start_time", connection.uuid(organisation_id), connection.uuid(volunteer_id),
            connection.day(start), connection.day(end))
    return [StatementLine(sql.date_value(day), place, name, int(minutes), float(km), int(cents))
            for day, place, name, minutes, km, cents in rows]


class NetworkLine(msgspec.Struct):
    name: str
    visits: int
    clients: int
    minutes: int
    km: float


async def network(organisations: list[tuple[UUID, str]], start: date, end: date) -> tuple[Figures, list[NetworkLine]]:
    """The organisations of one installation together — counts only, no person, no record —
    and a line for each. Clients are counted per organisation (none can tell its clients from
    another's, by design)."""
    from collections import Counter

    each = [await figures(organisation_id, start, end) for organisation_id, _ in organisations]
    lines = [NetworkLine(name, f.visits, f.clients, f.minutes, f.km) for (_, name), f in zip(organisations, each)]

    def added(pick) -> list[tuple[str, int]]:
        total: Counter = Counter()
        for f in each:
            total.update(dict(pick(f)))
        return list(total.items())

    total = Figures(
        start=start, end=end, visits=sum(f.visits for f in each), clients=sum(f.clients for f in each),
        minutes=sum(f.minutes for f in each), km=sum(f.km for f in each),
        by_place=_pairs(added(lambda f: f.by_place)), by_purpose=_pairs(added(lambda f: f.by_purpose)),
        by_language=_pairs(added(lambda f: f.by_language)), by_month=sorted(added(lambda f: f.by_month)), volunteers=[],
        new_volunteers=sum(f.new_volunteers for f in each), modules_completed=sum(f.modules_completed for f in each),
        certificates=sum(f.certificates for f in each),
        events=sorted((e for f in each for e in f.events), key=lambda e: e.day),
    )
    return total, lines
