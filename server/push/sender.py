"""The sender: drains the push outbox in the app's lifespan.

A batch of due alerts is claimed in one short transaction — on PostgreSQL with `FOR UPDATE
SKIP LOCKED`, so several workers share the queue — by moving their due time a lease ahead: a
worker that dies mid-batch leaves them to be sent by the next one when the lease runs out (at
least once; the Topic header lets the push service keep only the latest). Each alert goes to
every subscription of its user, encrypted (aes128gcm, by the `webpush` package) and signed
(VAPID, ES256). 201 is done; 404 and 410 delete the subscription; 429 and 5xx retry with
backoff, honouring Retry-After; any other 4xx is logged as permanent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import jwt
from webpush import WebPush, WebPushSubscription

from server import sql
from server.i18n import gettext
from server.push import reminders
from server.push.alerts import ALERTS
from server.push.store import Key, current_key

log = logging.getLogger("lotsenbuch.push")
MAX_PLAINTEXT = 3993  # bytes: more does not fit one aes128gcm record of 4096 (RFC 8291)
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 200
CONCURRENCY = 32
PLAN_EVERY = 60  # seconds between plannings of reminders
JWT_LIFETIME = 12 * 3600  # at most 24 hours ahead, as push services demand


class TooLarge(ValueError):
    pass


def payload(kind: str, url: str, locale: str) -> bytes:
    """The plaintext: a generic sentence in the recipient's language and where a tap leads."""
    sentence = gettext(locale, ALERTS[kind][0])
    data = json.dumps({"title": "Lotsenbuch", "body": sentence, "url": url, "tag": kind}, ensure_ascii=False).encode()
    if len(data) > MAX_PLAINTEXT:
        raise TooLarge(f"{len(data)} bytes of plaintext; a push carries at most {MAX_PLAINTEXT}")
    return data


def audience(endpoint: str) -> str:
    """The push service's origin, port included (the `webpush` package drops the port)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def backoff(attempts: int, retry_after: str | None) -> timedelta:
    delay = min(3600, 10 * 2 ** attempts)
    if retry_after and retry_after.strip().isdigit():
        delay = max(delay, min(int(retry_after), 24 * 3600))
    return timedelta(seconds=delay)


RUNNING: set[Sender] = set()  # the senders of this process, for poke()


def poke() -> None:
    """Something was enqueued: the senders of this process look now rather than in 5 seconds."""
    for running in RUNNING:
        running.wake.set()


class Sender:
    def __init__(self, engine: Any, clock: Callable[[], datetime], subject: str, http: httpx.AsyncClient | None = None):
        self.engine = engine
        self.clock = clock
        self.subject = subject  # VAPID `sub`: how the push service can reach the operator
        self.http = http
        self.wake = asyncio.Event()
        self.slots = asyncio.Semaphore(CONCURRENCY)  # requests in flight at once
        self._keys: dict[UUID, tuple[Key, WebPush]] = {}
        self._tokens: dict[tuple[UUID, str], tuple[str, int]] = {}

    async def run(self) -> None:
        """Forever: send what is due, then wait for a poke or a few seconds."""
        RUNNING.add(self)
        try:
            await self._loop()
        finally:
            RUNNING.discard(self)

    async def _loop(self) -> None:
        planned = 0.0
        while True:
            try:
                if time.monotonic() - planned >= PLAN_EVERY:
                    await reminders.plan(self.engine, self.clock())
                    planned = time.monotonic()
                sent = await self.send_due()
            except Exception:  # the sender must outlive a bad moment of the database
                log.exception("push sender failed; trying again")
                sent = 0
            if not sent:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=5)
                except TimeoutError:
                    pass

    async def send_due(self) -> int:
        """Claim and send one batch of due alerts; returns how many were claimed."""
        now = self.clock()
        claimed = await self._claim(now)
        if not claimed:
            return 0
        key = await current_key(now)
        signer = self._signer(key)
        outcomes = await asyncio.gather(*(self._deliver(alert, key, signer) for alert in claimed))
        await self._settle(claimed, outcomes, self.clock())
        return len(claimed)

    def _signer(self, key: Key) -> WebPush:
        if key.id not in self._keys:  # one instance per key, never given per-call settings
            self._keys[key.id] = (key, WebPush(private_key=key.private_pem, public_key=key.public_pem,
                                               subscriber="operator@lotsenbuch.invalid"))
        return self._keys[key.id][1]

    async def _claim(self, now: datetime) -> list[dict]:
        async with sql.transaction(self.engine, write=True) as connection:
            lock = " FOR UPDATE SKIP LOCKED" if connection.postgres else ""
            rows = await connection.fetch(
                'SELECT a.id, a.kind, a.topic, a.urgency, a.ttl, a.url, a.attempts, a."user", u.ui_language '
                'FROM push_alert a JOIN app_user u ON u.id = a."user" '
                f"WHERE a.done_at IS NULL AND a.due_at <= ? ORDER BY a.due_at LIMIT ?{lock}",
                connection.timestamp(now), BATCH)
            if not rows:
                return []
            condition, args = connection.one_of("id", [r[0] for r in rows])
            await connection.execute(f"UPDATE push_alert SET due_at = ? WHERE {condition}",
                                     connection.timestamp(now + LEASE), *args)
            users = {r[7] for r in rows}
            condition, args = connection.one_of('"user"', users)
            subscriptions = await connection.fetch(
                f'SELECT id, "user", endpoint, p256dh, auth FROM push_subscription WHERE {condition}', *args)
        by_user: dict[Any, list] = {}
        for subscription in subscriptions:
            by_user.setdefault(subscription[1], []).append(subscription)
        names = ("id", "kind", "topic", "urgency", "ttl", "url", "attempts", "user", "locale")
        return [{**dict(zip(names, row)), "subscriptions": by_user.get(row[7], [])} for row in rows]

    async def _deliver(self, alert: dict, key: Key, signer: WebPush) -> list[tuple[Any, str, str | None]]:
        """Send one alert to each subscription: [(subscription id, outcome, retry-after)]."""
        try:
            body = payload(alert["kind"], alert["url"], alert["locale"] or "de")
        except TooLarge as refused:
            log.error("push alert %s refused before sending: %s", alert["id"], refused)
            return [(None, "permanent", None)]
        return list(await asyncio.gather(*(self._push(subscription, body, alert, key, signer)
                                           for subscription in alert["subscriptions"])))

    async def _push(self, subscription: Any, body: bytes, alert: dict, key: Key, signer: WebPush) -> tuple[Any, str, str | None]:
        subscription_id, _, endpoint, p256dh, auth = subscription
        try:
            message = signer.get(message=body, subscription=WebPushSubscription.model_validate(
                {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}))
        except Exception as broken:  # keys that cannot be used: nothing will ever reach it
            log.warning("push subscription %s unusable: %s", subscription_id, broken)
            return subscription_id, "gone", None
        token = self._token(key, audience(endpoint))
        headers = {"content-encoding": "aes128gcm", "content-type": "application/octet-stream",
                   "authorization": f"vapid t={token}, k={key.public_key}", "ttl": str(alert["ttl"]),
                   "urgency": alert["urgency"], "topic": alert["topic"]}
        try:
            async with self.slots:
                response = await self._client().post(endpoint, content=message.encrypted, headers=headers, timeout=10)
        except httpx.HTTPError as failed:
            log.info("push to %s failed: %s", subscription_id, failed)
            return subscription_id, "retry", None
        status = response.status_code
        if 200 <= status < 300:
            return subscription_id, "sent", None
        if status in (404, 410):
            return subscription_id, "gone", None
        if status == 429 or status >= 500:
            return subscription_id, "retry", response.headers.get("retry-after")
        log.warning("push to %s refused for good: %s %s", subscription_id, status, response.text[:200])
        return subscription_id, "permanent", None

    def _token(self, key: Key, aud: str) -> str:
        """A VAPID JWT per push service, signed once and reused for an hour of its 12."""
        now = time.time()
        cached = self._tokens.get((key.id, aud))
        if cached is None or cached[1] < now + JWT_LIFETIME - 3600:
            token = jwt.encode({"aud": aud, "exp": int(now) + JWT_LIFETIME, "sub": self.subject}, key.private_pem,
                               algorithm="ES256")
            cached = self._tokens[(key.id, aud)] = (token, int(now) + JWT_LIFETIME)
        return cached[0]

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient()
        return self.http

    async def _settle(self, alerts: list[dict], outcomes: list[list], now: datetime) -> None:
        sent, gone, failed, finished, again = [], [], [], [], []
        for alert, results in zip(alerts, outcomes):
            for subscription_id, outcome, _ in results:
                if subscription_id is None:
                    continue
                (sent if outcome == "sent" else gone if outcome == "gone" else failed).append([subscription_id])
            retries = [after for _, outcome, after in results if outcome == "retry"]
            attempts = alert["attempts"] + 1
            if retries and attempts < MAX_ATTEMPTS:
                after = max((a for a in retries if a), default=None, key=lambda a: int(a) if a.strip().isdigit() else 0)
                again.append((attempts, now + backoff(attempts, after), alert["id"]))
            else:
                finished.append((attempts, "gave up" if retries else "", alert["id"]))
        async with sql.transaction(self.engine, write=True) as connection:
            uuid, stamp = connection.uuid, connection.timestamp(now)
            await connection.executemany("UPDATE push_subscription SET last_success_at = ?, failures = 0 WHERE id = ?",
                                         [[stamp, *row] for row in sent])
            await connection.executemany("DELETE FROM push_subscription WHERE id = ?", gone)
            await connection.executemany("UPDATE push_subscription SET failures = failures + 1 WHERE id = ?", failed)
            await connection.executemany(
                "UPDATE push_alert SET attempts = ?, due_at = ?, last_error = 'will retry' WHERE id = ?",
                [[attempts, connection.timestamp(due), uuid(alert_id)] for attempts, due, alert_id in again])
            await connection.executemany(
                "UPDATE push_alert SET attempts = ?, done_at = ?, last_error = ? WHERE id = ?",
                [[attempts, stamp, error, uuid(alert_id)] for attempts, error, alert_id in finished])
