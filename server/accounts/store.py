"""Rows of users and sessions <-> the CurrentUser type; every account query lives here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from server.accounts.passwords import hash_password, verify_password
from server.accounts.tables import User, UserSession

# Browser sessions (coordinators, admins): idle and absolute limits, enforced here.
BROWSER_IDLE = timedelta(hours=2)
BROWSER_ABSOLUTE = timedelta(hours=12)
# last_seen is written at most this often, so reading pages does not mean writing the database.
TOUCH_INTERVAL = timedelta(minutes=1)


class CurrentUser(msgspec.Struct, frozen=True):
    id: UUID
    organisation_id: UUID
    username: str
    display_name: str
    role: str
    ui_language: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    *, organisation_id: UUID, username: str, display_name: str, role: str, password: str | None,
    now: datetime, email: str | None = None, ui_language: str = "de",
) -> UUID:
    user = User(
        organisation=organisation_id,
        username=username.strip().lower(),
        email=email.strip().lower() if email else None,
        display_name=display_name.strip(),
        role=role,
        password_hash=await hash_password(password) if password else None,
        ui_language=ui_language,
        created_at=now,
    )
    await user.save()
    return user.id


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


async def start_session(user_id: UUID, now: datetime, kind: str = "browser") -> str:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    await UserSession.insert(
        UserSession(token_hash=hash_token(token), user=user_id, kind=kind, created_at=now, last_seen_at=now)
    )
    return token


async def end_session(token: str) -> None:
    await UserSession.delete().where(UserSession.token_hash == hash_token(token))


async def load_session(token: str, now: datetime) -> CurrentUser | None:
    """The user behind a session token, or None when it is unknown, expired or the user inactive."""
    token_hash = hash_token(token)
    row = await (
        UserSession.select(
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.user.id.as_alias("id"),
            UserSession.user.organisation.as_alias("organisation_id"),
            UserSession.user.username.as_alias("username"),
            UserSession.user.display_name.as_alias("display_name"),
            UserSession.user.role.as_alias("role"),
            UserSession.user.ui_language.as_alias("ui_language"),
            UserSession.user.active.as_alias("active"),
        )
        .where(UserSession.token_hash == token_hash)
        .first()
    )
    if row is None:
        return None
    if not row["active"] or now - row["last_seen_at"] > BROWSER_IDLE or now - row["created_at"] > BROWSER_ABSOLUTE:
        await UserSession.delete().where(UserSession.token_hash == token_hash)
        return None
    if now - row["last_seen_at"] > TOUCH_INTERVAL:
        await UserSession.update({UserSession.last_seen_at: now}).where(UserSession.token_hash == token_hash)
    return CurrentUser(
        id=row["id"], organisation_id=row["organisation_id"], username=row["username"],
        display_name=row["display_name"], role=row["role"], ui_language=row["ui_language"],
    )
