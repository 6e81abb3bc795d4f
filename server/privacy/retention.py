"""The retention schedule: each organisation says how long it keeps the free text of visit logs
and notes, and clients nobody has accompanied for a while; once a day the app removes what is
older (a task in the app's lifespan; `lotsenbuch retention run` does the same at once).

Several workers may run the task: each organisation's daily run is claimed with one conditional
UPDATE, so exactly one of them does it. What is removed reaches phones through the change log.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from server import sql, sync_store
from server.clock import LOCAL
from server.privacy import store

log = logging.getLogger("lotsenbuch.retention")
EVERY = timedelta(days=1)
LOOK_EVERY = 3600  # seconds between looks for an organisation whose daily run is due
MONTHS = (1, 240)  # what a schedule may say: at least a month, at most 20 years


class Policy(msgspec.Struct):
    log_text_months: int | None = None
    inactive_client_months: int | None = None
    last_run_at: datetime | None = None


class Outcome(msgspec.Struct):
    organisation_id: UUID
    texts: int = 0  # visit logs and notes whose free text went
    clients: int = 0  # clients erased for inactivity


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def policy(organisation_id: UUID) -> Policy:
    async with sql.transaction(store._engine(), write=False) as connection:
        row = await connection.fetchone(
            "SELECT log_text_months, inactive_client_months, last_run_at FROM retention_policy WHERE organisation = ?",
            connection.uuid(organisation_id))
    if row is None:
        return Policy()
    return Policy(log_text_months=row[0], inactive_client_months=row[1], last_run_at=sql.datetime_value(row[2]))


async def save_policy(organisation_id: UUID, log_text_months: int | None, inactive_client_months: int | None,
                      now: datetime) -> None:
    async with sql.transaction(store._engine(), write=True) as connection:
        await connection.execute(
            "INSERT INTO retention_policy (organisation, log_text_months, inactive_client_months, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (organisation) DO UPDATE SET log_text_months = excluded.log_text_months, "
            "inactive_client_months = excluded.inactive_client_months, updated_at = excluded.updated_at",
            connection.uuid(organisation_id), log_text_months, inactive_client_months, connection.timestamp(now))


async def apply(organisation_id: UUID, now: datetime) -> Outcome:
    """Remove what this organisation's schedule says is older than it keeps, in one transaction."""
    outcome = Outcome(organisation_id=organisation_id)
    today = now.astimezone(LOCAL).date()
    async with sql.transaction(store._engine(), write=True) as connection:
        org = connection.uuid(organisation_id)
        row = await connection.fetchone(
            "SELECT log_text_months, inactive_client_months FROM retention_policy WHERE organisation = ?", org)
        if row is None:
            return outcome
        text_months, client_months = row
        if client_months:
            outcome.clients = await _inactive_clients(connection, organisation_id, months_before(today, client_months), now)
        if text_months:
            outcome.texts = await _old_texts(connection, organisation_id, months_before(today, text_months), now)
    return outcome


async def _old_texts(connection: sql.Connection, organisation_id: UUID, cutoff: date, now: datetime) -> int:
    """Visit logs of a day before the cutoff and notes last changed before it, that still hold text."""
    org = connection.uuid(organisation_id)
    since = connection.timestamp(datetime.combine(cutoff, datetime.min.time(), tzinfo=LOCAL))
    texts = " OR ".join(f"{name} <> ''" for name in sync_store.TEXT_FIELDS["visit_log"])
    logs = await connection.fetch(
        f"SELECT id FROM visit_log WHERE organisation = ? AND COALESCE(date, ?) < ? AND ({texts})",
        org, connection.day(cutoff), connection.day(cutoff))
    notes = await connection.fetch(
        "SELECT id FROM note WHERE organisation = ? AND updated_at < ? AND (body <> '' OR deleted_at IS NULL)", org, since)
    keys = [("visit_log", sql.uuid_value(r[0])) for r in logs] + [("note", sql.uuid_value(r[0])) for r in notes]
    return await sync_store.scrub(connection, organisation_id, keys, organisation_id, "retention", now)


async def _inactive_clients(connection: sql.Connection, organisation_id: UUID, cutoff: date, now: datetime) -> int:
    """Clients recorded before the cutoff with no assignment and no visit log since."""
    org, day = connection.uuid(organisation_id), connection.day(cutoff)
    since = connection.timestamp(datetime.combine(cutoff, datetime.min.time(), tzinfo=LOCAL))
    rows = await connection.fetch(
        "SELECT c.id FROM client c WHERE c.organisation = ? AND c.erased_at IS NULL AND c.created_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.client = c.id AND (a.day >= ? OR (a.day IS NULL AND a.created_at >= ?))) "
        "AND NOT EXISTS (SELECT 1 FROM visit_log v WHERE v.client_id = c.id AND v.date >= ?)", org, since, day, since, day)
    clients = [sql.uuid_value(r[0]) for r in rows]
    return await store.erase_in(connection, organisation_id, clients, organisation_id, "retention", now)


async def claim_due(now: datetime) -> list[UUID]:
    """The organisations whose daily run is due, each claimed by this process alone."""
    async with sql.transaction(store._engine(), write=True) as connection:
        rows = await connection.fetch(
            "UPDATE retention_policy SET last_run_at = ? WHERE (last_run_at IS NULL OR last_run_at <= ?) "
            "AND (log_text_months IS NOT NULL OR inactive_client_months IS NOT NULL) RETURNING organisation",
            connection.timestamp(now), connection.timestamp(now - EVERY))
    return [sql.uuid_value(r[0]) for r in rows]


async def run_due(now: datetime) -> list[Outcome]:
    return [await apply(organisation_id, now) for organisation_id in await claim_due(now)]


async def run_all(now: datetime) -> list[Outcome]:
    """Every organisation with a schedule, now (the command line)."""
    async with sql.transaction(store._engine(), write=True) as connection:
        rows = await connection.fetch(
            "UPDATE retention_policy SET last_run_at = ? WHERE log_text_months IS NOT NULL "
            "OR inactive_client_months IS NOT NULL RETURNING organisation", connection.timestamp(now))
    return [await apply(sql.uuid_value(r[0]), now) for r in rows]


async def run_forever(clock: Callable[[], datetime], pause: float = LOOK_EVERY, first_after: float = 60) -> None:
    """The lifespan task: a minute after the start, then every hour, look for organisations whose
    daily run is due."""
    await asyncio.sleep(first_after)
    while True:
        try:
            for outcome in await run_due(clock()):
                log.info("retention in %s: %d texts, %d clients removed", outcome.organisation_id, outcome.texts,
                         outcome.clients)
        except Exception:  # the task must outlive a bad moment of the database
            log.exception("retention run failed; trying again later")
        await asyncio.sleep(pause)


def parse_months(value: Any) -> tuple[int | None, bool]:
    """A form's months: empty keeps everything (None); otherwise a whole number in MONTHS."""
    text = str(value or "").strip()
    if not text:
        return None, True
    if not text.isdigit() or not MONTHS[0] <= int(text) <= MONTHS[1]:
        return None, False
    return int(text), True
