"""Rows of users, devices, sessions and invitations <-> domain types; every account query lives here.

Queries that take an organisation id only ever see that organisation's rows: an id from
another organisation finds nothing, exactly like an id that does not exist.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from uuid import UUID

import msgspec

from server.accounts.passwords import hash_password, verify_password
from server import sql
from server.accounts.tables import Device, Invitation, User, UserSession

# Browser sessions (coordinators, admins): idle and absolute limits, enforced here.
BROWSER_IDLE = timedelta(hours=2)
BROWSER_ABSOLUTE = timedelta(hours=12)
# Device sessions (a volunteer's installed phone): 90 days from the last use, so a phone that
# was offline for weeks still syncs.
DEVICE_LIFETIME = timedelta(days=90)
# last_seen is written at most this often, so reading pages does not mean writing the database.
TOUCH_INTERVAL = timedelta(minutes=1)
INVITATION_LIFETIME = timedelta(hours=72)


class CurrentUser(msgspec.Struct, frozen=True):
    id: UUID
    organisation_id: UUID
    username: str
    display_name: str
    role: str
    ui_language: str
    pledge_signed_on: date | None = None
    device_id: UUID | None = None
    device_synced_at: datetime | None = None  # read with the session: a sync needs no read of its own

    @property
    def may_see_client_data(self) -> bool:
        """A volunteer sees no client data before the confidentiality pledge is recorded."""
        return self.role == "coordinator" or (self.role == "volunteer" and self.pledge_signed_on is not None)


class LoadedSession(msgspec.Struct, frozen=True):
    user: CurrentUser | None
    wipe: bool = False  # the device was revoked: tell the app to erase what it holds


class Language(msgspec.Struct, frozen=True):
    code: str
    level: str  # basic | fluent | native


class UserRecord(msgspec.Struct, frozen=True):
    id: UUID
    organisation_id: UUID
    username: str
    email: str | None
    display_name: str
    role: str
    ui_language: str
    languages: list[Language]
    districts: list[str]
    availability: list[str]
    pledge_signed_on: date | None
    active: bool
    has_password: bool


class DeviceRecord(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    name: str
    created_at: datetime
    last_seen_at: datetime
    last_sync_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ------------------------------------------------------------------------------------


async def create_user(
    *, organisation_id: UUID, username: str, display_name: str, role: str, password: str | None,
    now: datetime, email: str | None = None, ui_language: str = "de",
    languages: list[Language] | None = None, districts: list[str] | None = None,
) -> UUID:
    user = User(
        organisation=organisation_id,
        username=username.strip().lower(),
        email=email.strip().lower() if email else None,
        display_name=display_name.strip(),
        role=role,
        password_hash=await hash_password(password) if password else None,
        ui_language=ui_language,
        languages=msgspec.json.encode(languages or []).decode(),
        districts=msgspec.json.encode(districts or []).decode(),
        created_at=now,
    )
    await user.save()
    return user.id


async def username_or_email_taken(username: str, email: str | None, except_id: UUID | None = None) -> bool:
    condition = User.username == username.strip().lower()
    if email:
        condition = condition | (User.email == email.strip().lower())
    query = User.count().where(condition)
    if except_id:
        query = query.where(User.id != except_id)
    return await query > 0


_USER_COLUMNS = (
    User.id, User.organisation, User.username, User.email, User.display_name, User.role, User.ui_language,
    User.languages, User.districts, User.availability, User.pledge_signed_on, User.active, User.password_hash,
)


def _user_record(row: dict) -> UserRecord:
    return UserRecord(
        id=row["id"], organisation_id=row["organisation"], username=row["username"], email=row["email"],
        display_name=row["display_name"], role=row["role"], ui_language=row["ui_language"],
        languages=msgspec.convert(sql.json_value(row["languages"], []), list[Language]),
        districts=sql.json_value(row["districts"], []), availability=sql.json_value(row["availability"], []),
        pledge_signed_on=row["pledge_signed_on"], active=row["active"], has_password=row["password_hash"] is not None,
    )


async def get_user(user_id: UUID, organisation_id: UUID | None) -> UserRecord | None:
    """One user; with an organisation id, only if the user belongs to it (None means any: admins)."""
    query = User.select(*_USER_COLUMNS).where(User.id == user_id)
    if organisation_id is not None:
        query = query.where(User.organisation == organisation_id)
    row = await query.first()
    return _user_record(row) if row else None


async def list_users(organisation_id: UUID, role: str | None = None) -> list[UserRecord]:
    query = User.select(*_USER_COLUMNS).where(User.organisation == organisation_id).order_by(User.display_name)
    if role:
        query = query.where(User.role == role)
    return [_user_record(row) for row in await query]


async def update_user(user_id: UUID, organisation_id: UUID, **changes: object) -> bool:
    values: dict = {}
    for name, value in changes.items():
        if name in ("languages", "districts", "availability"):
            value = msgspec.json.encode(value).decode()
        if name == "email" and value:
            value = str(value).strip().lower()
        values[getattr(User, name)] = value
    updated = await User.update(values).where((User.id == user_id) & (User.organisation == organisation_id)).returning(User.id)
    return bool(updated)


async def set_active(user_id: UUID, organisation_id: UUID, active: bool) -> bool:
    if not await update_user(user_id, organisation_id, active=active):
        return False
    if not active:
        await UserSession.delete().where(UserSession.user == user_id)
    return True


# --- passwords and sessions -------------------------------------------------------------------


async def authenticate(login: str, password: str) -> UUID | None:
    """The id of the active user with this user name or e-mail and password, else None."""
    login = login.strip().lower()
    row = await (
        User.select(User.id, User.password_hash)
        .where(((User.username == login) | (User.email == login)) & (User.active == True))  # noqa: E712
        .first()
    )
    ok = await verify_password(row["password_hash"] if row else None, password)
    return row["id"] if ok and row else None


async def start_session(user_id: UUID, now: datetime, device_id: UUID | None = None, lasting: bool | None = None) -> str:
    """A new session; returns the token for the cookie (only its hash is stored). A device's
    session lasts (90 days idle) unless `lasting` is False: then it ends like a browser's."""
    token = secrets.token_urlsafe(32)
    lasting = device_id is not None if lasting is None else lasting
    await UserSession.insert(
        UserSession(
            token_hash=hash_token(token), user=user_id, device=device_id,
            kind="device" if lasting else "browser", created_at=now, last_seen_at=now,
        )
    )
    return token


async def role_of(user_id: UUID) -> str | None:
    row = await User.select(User.role).where(User.id == user_id).first()
    return row["role"] if row else None


async def end_session(token: str) -> None:
    await UserSession.delete().where(UserSession.token_hash == hash_token(token))


def _expired(row: dict, now: datetime) -> bool:
    idle = now - row["last_seen_at"]
    if row["kind"] == "device":
        return idle > DEVICE_LIFETIME
    return idle > BROWSER_IDLE or now - row["created_at"] > BROWSER_ABSOLUTE


_SESSION_COLUMNS = ("kind", "created_at", "last_seen_at", "device", "revoked_at", "device_synced_at", "id", "organisation_id",
                    "username", "display_name", "role", "ui_language", "pledge_signed_on", "active")
_SESSION_SQL = (
    "SELECT s.kind, s.created_at, s.last_seen_at, s.device, d.revoked_at, d.last_sync_at, u.id, u.organisation, u.username, "
    "u.display_name, u.role, u.ui_language, u.pledge_signed_on, u.active "
    'FROM user_session s JOIN app_user u ON u.id = s."user" LEFT JOIN device d ON d.id = s.device WHERE s.token_hash = ?'
)


async def load_session(token: str, now: datetime) -> LoadedSession:
    """The user behind a session token; nobody when it is unknown, expired or the user inactive;
    and the wipe signal when its device was revoked."""
    token_hash = hash_token(token)
    # Every request asks this: plain SQL on a kept connection (server/sql.py), not a new one.
    async with sql.transaction(UserSession._meta.db, write=False) as connection:
        found = await connection.fetchone(_SESSION_SQL, token_hash)
    if found is None:
        return LoadedSession(None)
    row = dict(zip(_SESSION_COLUMNS, found))
    for name in ("created_at", "last_seen_at", "revoked_at", "device_synced_at"):
        row[name] = sql.datetime_value(row[name])
    row["pledge_signed_on"] = sql.date_value(row["pledge_signed_on"])
    row["device"], row["id"], row["organisation_id"] = (
        sql.uuid_value(row["device"]), sql.uuid_value(row["id"]), sql.uuid_value(row["organisation_id"]))
    if row["revoked_at"] is not None:
        return LoadedSession(None, wipe=True)
    if not row["active"] or _expired(row, now):
        await UserSession.delete().where(UserSession.token_hash == token_hash)
        return LoadedSession(None)
    if now - row["last_seen_at"] > TOUCH_INTERVAL:
        await UserSession.update({UserSession.last_seen_at: now}).where(UserSession.token_hash == token_hash)
        if row["device"]:
            await Device.update({Device.last_seen_at: now}).where(Device.id == row["device"])
    user = CurrentUser(
        id=row["id"], organisation_id=row["organisation_id"], username=row["username"],
        display_name=row["display_name"], role=row["role"], ui_language=row["ui_language"],
        pledge_signed_on=row["pledge_signed_on"], device_id=row["device"], device_synced_at=row["device_synced_at"],
    )
    return LoadedSession(user)


# --- devices ----------------------------------------------------------------------------------


async def create_device(user_id: UUID, name: str, now: datetime) -> UUID:
    device = Device(user=user_id, name=name.strip()[:80] or "Handy", created_at=now, last_seen_at=now)
    await device.save()
    return device.id


async def list_devices(user_id: UUID) -> list[DeviceRecord]:
    rows = await Device.select().where(Device.user == user_id).order_by(Device.created_at, ascending=False)
    return [
        DeviceRecord(
            id=r["id"], user_id=r["user"], name=r["name"], created_at=r["created_at"],
            last_seen_at=r["last_seen_at"], last_sync_at=r["last_sync_at"], revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


async def revoke_device(device_id: UUID, user_id: UUID, now: datetime) -> bool:
    """Revoke one of this user's devices; its sessions stay so that the next request can be
    told to wipe, but they no longer sign anyone in."""
    updated = await (
        Device.update({Device.revoked_at: now})
        .where((Device.id == device_id) & (Device.user == user_id) & Device.revoked_at.is_null())
        .returning(Device.id)
    )
    return bool(updated)


# --- invitations and password resets ----------------------------------------------------------


async def create_invitation(user_id: UUID, purpose: str, created_by: UUID | None, now: datetime) -> str:
    """A one-time token for the link; earlier unused links of the user stop working."""
    await Invitation.update({Invitation.used_at: now}).where((Invitation.user == user_id) & Invitation.used_at.is_null())
    token = secrets.token_urlsafe(32)
    await Invitation.insert(
        Invitation(
            token_hash=hash_token(token), user=user_id, purpose=purpose, created_by=created_by,
            created_at=now, expires_at=now + INVITATION_LIFETIME,
        )
    )
    return token


async def open_invitation(token: str, now: datetime) -> tuple[UserRecord, str] | None:
    """The user and purpose of a valid, unused, unexpired invitation, else None."""
    row = await (
        Invitation.select(Invitation.user, Invitation.purpose)
        .where(
            (Invitation.token_hash == hash_token(token)) & Invitation.used_at.is_null() & (Invitation.expires_at > now)
        )
        .first()
    )
    if row is None:
        return None
    user = await get_user(row["user"], None)
    if user is None or not user.active:
        return None
    return user, row["purpose"]


async def redeem_invitation(token: str, password: str, now: datetime) -> UUID | None:
    """Set the password once; the link is used up. Returns the user id, or None if invalid."""
    opened = await open_invitation(token, now)
    if opened is None:
        return None
    user, _ = opened
    used = await (
        Invitation.update({Invitation.used_at: now})
        .where((Invitation.token_hash == hash_token(token)) & Invitation.used_at.is_null())
        .returning(Invitation.token_hash)
    )
    if not used:  # redeemed concurrently
        return None
    await User.update({User.password_hash: await hash_password(password)}).where(User.id == user.id)
    await UserSession.delete().where(UserSession.user == user.id)  # a reset signs out everywhere
    return user.id
