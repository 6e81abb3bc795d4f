"""Reminders, planned by the sender about once a minute: the evening before an assignment
(from 18:00, Europe/Berlin), two hours before it starts, an offer unanswered for a day, and
the day before a date for those who said they come. Each reminder has a fixed id per thing
and person, so planning it again — or on several workers at once — sends it once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from server import sql
from server.clock import LOCAL
from server.push.store import enqueue

EVENING = time(18, 0)
SOON = timedelta(hours=2)
OFFER_WAITS = timedelta(hours=24)
EVENT_AHEAD = timedelta(hours=24)


async def plan(engine: Any, now: datetime) -> None:
    local = now.astimezone(LOCAL)
    today = local.date()
    async with sql.transaction(engine, write=True) as connection:
        day = connection.day
        if local.time() >= EVENING:
            for assignment_id, organisation, volunteer in await connection.fetch(
                    "SELECT id, organisation, volunteer FROM assignment WHERE day = ? AND status = 'planned'",
                    day(today + timedelta(days=1))):
                await enqueue(connection, sql.uuid_value(organisation), [sql.uuid_value(volunteer)], "assignment_tomorrow",
                              f"/assignments/{assignment_id}", now, key=f"tomorrow:{assignment_id}")
        for assignment_id, organisation, volunteer, start in await connection.fetch(
                "SELECT id, organisation, volunteer, start_time FROM assignment "
                "WHERE day = ? AND status = 'planned' AND start_time IS NOT NULL", day(today)):
            begins = datetime.combine(today, time.fromisoformat(start), tzinfo=LOCAL)
            if timedelta(0) < begins - now <= SOON:
                await enqueue(connection, sql.uuid_value(organisation), [sql.uuid_value(volunteer)], "assignment_soon",
                              f"/assignments/{assignment_id}", now, key=f"soon:{assignment_id}")
        for offer_id, organisation, volunteer in await connection.fetch(
                "SELECT id, organisation, volunteer FROM offer WHERE status = 'open' AND created_at <= ?",
                connection.timestamp(now - OFFER_WAITS)):
            await enqueue(connection, sql.uuid_value(organisation), [sql.uuid_value(volunteer)], "offer_reminder", "/offers",
                          now, key=f"offer:{offer_id}")
        rows = await connection.fetch(
            "SELECT e.id, e.organisation, r.volunteer FROM event e JOIN event_response r ON r.event = e.id "
            "WHERE e.starts_at > ? AND e.starts_at <= ? AND r.answer IN ('yes', 'maybe')",
            connection.timestamp(now), connection.timestamp(now + EVENT_AHEAD))
        for event_id, organisation, volunteer in rows:
            await enqueue(connection, sql.uuid_value(organisation), [sql.uuid_value(volunteer)], "event_reminder",
                          f"/events/{event_id}", now, key=f"event:{event_id}")
