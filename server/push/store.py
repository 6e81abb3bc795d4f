"""Keys, subscriptions and the outbox. `enqueue` runs inside the caller's transaction (R2 of
alerts: an alert exists exactly when what caused it was committed)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, time, timedelta
from uuid import UUID, uuid4, uuid5

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server import sql
from server.clock import LOCAL
from server.push.alerts import ALERTS, URGENT
from server.push.tables import PushKey, PushPreference


class Key:
    __slots__ = ("id", "private_pem", "public_pem", "public_key")

    def __init__(self, key_id: UUID, private_pem: str):
        private = serialization.load_pem_private_key(private_pem.encode(), password=None)
        point = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.id = key_id
        self.private_pem = private_pem.encode()
        self.public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _new_private_pem() -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


async def current_key(now: datetime) -> Key:
    """The signing key; the first start of an installation makes one."""
    row = await PushKey.select(PushKey.id, PushKey.private_pem).where(PushKey.retired_at.is_null()).order_by(
        PushKey.created_at, ascending=False).first()
    if row is None:
        return await rotate(now, first=True)
    return Key(row["id"], row["private_pem"])


async def rotate(now: datetime, first: bool = False) -> Key:
    """A new key. Subscriptions made for the old one cannot be used with the new: they are
    removed, and each phone subscribes again at its next visit."""
    key_id, pem = uuid4(), _new_private_pem()
    async with sql.transaction(PushKey._meta.db, write=True) as connection:
        stamp = connection.timestamp(now)
        await connection.execute("UPDATE push_key SET retired_at = ? WHERE retired_at IS NULL", stamp)
        await connection.execute("INSERT INTO push_key (id, private_pem, public_key, created_at) VALUES (?, ?, ?, ?)",
                                 connection.uuid(key_id), pem, Key(key_id, pem).public_key, stamp)
        if not first:
            await connection.execute("DELETE FROM push_subscription")
    return Key(key_id, pem)


async def subscribe(organisation_id: UUID, user_id: UUID, device_id: UUID | None, endpoint: str, p256dh: str, auth: str,
                    now: datetime) -> None:
    """One subscription per device: a new one replaces the device's old one; an endpoint seen
    before moves to this user and device."""
    async with sql.transaction(PushKey._meta.db, write=True) as connection:
        uuid = connection.uuid
        if device_id is not None:
            await connection.execute("DELETE FROM push_subscription WHERE device = ?", uuid(device_id))
        await connection.execute("DELETE FROM push_subscription WHERE endpoint = ?", endpoint)
        await connection.execute(
            'INSERT INTO push_subscription (id, organisation, "user", device, endpoint, p256dh, auth, created_at, failures) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            uuid(uuid4()), uuid(organisation_id), uuid(user_id), uuid(device_id), endpoint, p256dh, auth,
            connection.timestamp(now))


async def unsubscribe(user_id: UUID, endpoint: str) -> bool:
    async with sql.transaction(PushKey._meta.db, write=True) as connection:
        found = await connection.fetch('DELETE FROM push_subscription WHERE "user" = ? AND endpoint = ? RETURNING id',
                                       connection.uuid(user_id), endpoint)
    return bool(found)


async def enqueue(connection: sql.Connection, organisation_id: UUID, user_ids: list[UUID], kind: str, url: str,
                  now: datetime, key: str | None = None) -> None:
    """Alerts for these users, in the caller's transaction, as each user wants them: not at all
    when they switched this kind off, and after their quiet hours unless it is urgent. An alert
    not yet sent with the same topic is replaced: the phone shows the latest, once. With `key`
    (a reminder) each user gets at most one alert for that key, however often it is planned."""
    if not user_ids:
        return
    _, urgency, ttl = ALERTS[kind]
    uuid, stamp = connection.uuid, connection.timestamp(now)
    wanted = list(dict.fromkeys(user_ids))
    condition, args = connection.one_of('"user"', [uuid(u) for u in wanted])
    choices = {sql.uuid_value(row[0]): row[1:] for row in await connection.fetch(
        f'SELECT "user", alerts_off, quiet_from, quiet_until FROM push_preference WHERE {condition}', *args)}
    rows = []
    for user_id in wanted:
        alerts_off, quiet_from, quiet_until = choices.get(user_id, ("[]", DEFAULT_QUIET[0], DEFAULT_QUIET[1]))
        if kind in sql.json_value(alerts_off, []):
            continue
        due = now if urgency == URGENT else after_quiet(now, quiet_from, quiet_until)
        alert_id = uuid5(REMINDERS, f"{key}:{user_id}") if key else uuid4()
        rows.append([uuid(alert_id), uuid(organisation_id), uuid(user_id), kind, kind, urgency, ttl, url, stamp,
                     connection.timestamp(due)])
    if not rows:
        return
    if key is None:
        condition, args = connection.one_of('"user"', [row[2] for row in rows])
        await connection.execute(
            f"DELETE FROM push_alert WHERE topic = ? AND done_at IS NULL AND attempts = 0 AND {condition}", kind, *args)
    await connection.executemany(
        'INSERT INTO push_alert (id, organisation, "user", kind, topic, urgency, ttl, url, created_at, due_at, attempts, last_error) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '') ON CONFLICT (id) DO NOTHING", rows)


REMINDERS = UUID("6f1d2c4e-8a51-4a8e-9c3b-5d2f7e1a9b40")  # namespace of reminder alert ids
DEFAULT_QUIET = ("22:00", "07:00")


def after_quiet(now: datetime, quiet_from: str, quiet_until: str) -> datetime:
    """`now`, or the end of the quiet hours (Europe/Berlin) `now` falls into."""
    if quiet_from == quiet_until:
        return now
    local = now.astimezone(LOCAL)
    start, end = time.fromisoformat(quiet_from), time.fromisoformat(quiet_until)
    moment = local.time()
    overnight = start > end
    inside = (moment >= start or moment < end) if overnight else (start <= moment < end)
    if not inside:
        return now
    day = local.date() + timedelta(days=1) if overnight and moment >= start else local.date()
    return datetime.combine(day, end, tzinfo=LOCAL).astimezone(now.tzinfo)


async def preferences(user_id: UUID) -> tuple[list[str], str, str]:
    row = await PushPreference.select(PushPreference.alerts_off, PushPreference.quiet_from, PushPreference.quiet_until).where(
        PushPreference.user == user_id).first()
    if row is None:
        return [], *DEFAULT_QUIET
    return sql.json_value(row["alerts_off"], []), row["quiet_from"], row["quiet_until"]


async def save_preferences(user_id: UUID, alerts_off: list[str], quiet_from: str, quiet_until: str) -> None:
    async with sql.transaction(PushPreference._meta.db, write=True) as connection:
        uuid = connection.uuid
        await connection.execute('DELETE FROM push_preference WHERE "user" = ?', uuid(user_id))
        await connection.execute(
            'INSERT INTO push_preference ("user", alerts_off, quiet_from, quiet_until) VALUES (?, ?, ?, ?)',
            uuid(user_id), json.dumps(sorted(set(alerts_off))), quiet_from, quiet_until)
