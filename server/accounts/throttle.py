"""Throttling, shared in the database by every worker (never in a process's memory):

- failures (sign-in per account name and per address, invitation links per address) block for
  BLOCK after too many in WINDOW — never permanently, and the same for accounts or links that
  exist and those that do not;
- uses (the public request form, invitations made, syncs) are counted in a fixed window with
  one upsert, and refused with the seconds until the window ends (Retry-After).
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from litestar.types import Scope

from server import sql
from server.accounts.tables import Throttle
from server.errors import TooManyRequests

WINDOW = timedelta(minutes=15)
BLOCK = timedelta(minutes=15)
LIMITS = {"account": 5, "address": 30, "invite": 20}
INVITATIONS_MADE = (60, timedelta(hours=1))  # links one person creates
SYNC_WINDOW = timedelta(minutes=1)  # pushes to /api/sync per device per window: Settings.sync_pushes_per_minute


def keys(login: str, address: str) -> list[str]:
    return [f"account:{login.strip().lower()[:254]}", f"address:{address}"]


async def blocked_for(keys: list[str], now: datetime) -> int:
    """Seconds until every key may try again; 0 when none is blocked."""
    rows = await Throttle.select(Throttle.blocked_until).where(Throttle.key.is_in(keys))
    ends = [row["blocked_until"] for row in rows if row["blocked_until"] and row["blocked_until"] > now]
    return max((math.ceil((end - now).total_seconds()) for end in ends), default=0)


async def record_failure(keys: list[str], now: datetime) -> None:
    for key in keys:
        limit = LIMITS[key.split(":", 1)[0]]
        row = await Throttle.objects().where(Throttle.key == key).first()
        if row is None:
            await Throttle.insert(Throttle(key=key, failures=1, window_start=now))
            continue
        if now - row.window_start > WINDOW:
            row.failures, row.window_start, row.blocked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.blocked_until = now + BLOCK
            row.failures, row.window_start = 0, now
        await row.save()


async def record_success(login: str) -> None:
    await Throttle.delete().where(Throttle.key == keys(login, "")[0])


def client_address(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address; behind a trusted proxy, the nearest untrusted X-Forwarded-For hop."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    networks = [ipaddress.ip_network(net) for net in trusted_proxies]
    if not networks or not _within(peer, networks):
        return peer
    forwarded = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"), "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if not _valid(hop):
            return peer  # a malformed header is no address to believe
        if not _within(hop, networks):
            return hop
    return peer


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def take(key: str, limit: int, window: timedelta, now: datetime) -> int:
    """Count one use of `key` (e.g. a form sent from one address): 0 while at most `limit` fall
    in the current window, else the seconds until the window ends. One statement, one short
    transaction on a kept connection."""
    async with sql.transaction(Throttle._meta.db, write=True) as connection:
        return await take_in(connection, key, limit, window, now)


async def take_in(connection: sql.Connection, key: str, limit: int, window: timedelta, now: datetime) -> int:
    """The same, in a write transaction the caller holds (the sync counts in its own)."""
    start = connection.timestamp(now - window)
    count, began = await connection.fetchone(
        "INSERT INTO throttle (key, failures, window_start) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET "
        "failures = CASE WHEN throttle.window_start <= ? THEN 1 ELSE throttle.failures + 1 END, "
        "window_start = CASE WHEN throttle.window_start <= ? THEN excluded.window_start ELSE throttle.window_start END "
        "RETURNING failures, window_start", key, connection.timestamp(now), start, start)
    if count <= limit:
        return 0
    return max(1, math.ceil((sql.datetime_value(began) + window - now).total_seconds()))


async def waiting(key: str, limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until `key` may be used again (0: now), read without counting or taking a lock."""
    async with sql.transaction(Throttle._meta.db, write=False) as connection:
        row = await connection.fetchone("SELECT failures, window_start FROM throttle WHERE key = ?", key)
    if row is None or row[0] < limit:
        return 0
    ends = sql.datetime_value(row[1]) + window
    return max(1, math.ceil((ends - now).total_seconds())) if ends > now else 0


async def limit(key: str, limits: tuple[int, timedelta], now: datetime, message: str | None = None) -> None:
    """Count one use; over the limit, 429 with Retry-After."""
    wait = await take(key, limits[0], limits[1], now)
    if wait:
        raise TooManyRequests(message, retry_after=wait)
