"""One typed Settings object, read once from the environment and passed to create_app."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 32

# name -> (what it expects, default); the README's configuration table is written from this.
VARIABLES: dict[str, tuple[str, str]] = {
    "LOTSENBUCH_DATA_DIR": ("a directory for the SQLite file, the secret key and VAPID keys", "./data"),
    "DATABASE_URL": ("a postgresql:// URL; unset means the SQLite file in the data directory", ""),
    "LOTSENBUCH_SECRET_KEY": (f"at least {MIN_SECRET_LENGTH} characters; unset means one is made and kept in the data directory", ""),
    "LOTSENBUCH_BASE_URL": ("the public http(s) URL the app is reached at", "http://127.0.0.1:8000"),
    "LOTSENBUCH_COOKIE_SECURE": ("true or false; false only for plain-HTTP local use", "true"),
    "LOTSENBUCH_TRUSTED_PROXIES": ("comma-separated IP addresses or networks of reverse proxies", ""),
    "LOTSENBUCH_LOG_LEVEL": ("one of " + ", ".join(LOG_LEVELS), "INFO"),
    "LOTSENBUCH_MAX_BODY_BYTES": ("the largest request body in bytes, a whole number from 1024", str(1024 * 1024)),
    "LOTSENBUCH_OFFER_FLAG_HOURS": ("hours after which an unanswered offer is flagged for coordination, 1 to 720", "48"),
    "LOTSENBUCH_PUSH_SENDER": ("send Web Push alerts from this process (false: another process sends them)", "true"),
    "LOTSENBUCH_SYNC_PUSHES_PER_MINUTE": ("pushes to /api/sync a device may make in a minute, 10 to 100000", "120"),
    "LOTSENBUCH_EVENT_STREAM_SECONDS": ("seconds an open app's event stream lasts before it reconnects, 10 to 3600", "600"),
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence naming the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = True
    trusted_proxies: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_body_bytes: int = 1024 * 1024
    offer_flag_hours: int = 48
    push_sender: bool = True  # send Web Push alerts from this process (tests send by hand)
    sync_pushes_per_minute: int = 120  # a runaway loop on a phone stops; a phone in use never gets near
    event_stream_seconds: float = 600  # GET /api/sync/events ends then; the app reconnects, signed in or not

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "lotsenbuch.sqlite3"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read every variable once; raise SettingsError with a sentence on the first bad one."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip() or VARIABLES[name][1]

        values: dict[str, object] = {
            "data_dir": Path(get("LOTSENBUCH_DATA_DIR")).expanduser(),
            "database_url": _database_url(get("DATABASE_URL")),
            "secret_key": _secret_key(get("LOTSENBUCH_SECRET_KEY")),
            "base_url": _base_url(get("LOTSENBUCH_BASE_URL")),
            "cookie_secure": _boolean("LOTSENBUCH_COOKIE_SECURE", get("LOTSENBUCH_COOKIE_SECURE")),
            "trusted_proxies": _networks(get("LOTSENBUCH_TRUSTED_PROXIES")),
            "log_level": _log_level(get("LOTSENBUCH_LOG_LEVEL")),
            "max_body_bytes": _body_limit(get("LOTSENBUCH_MAX_BODY_BYTES")),
            "offer_flag_hours": _offer_flag_hours(get("LOTSENBUCH_OFFER_FLAG_HOURS")),
            "push_sender": _boolean("LOTSENBUCH_PUSH_SENDER", get("LOTSENBUCH_PUSH_SENDER")),
            "sync_pushes_per_minute": _sync_pushes(get("LOTSENBUCH_SYNC_PUSHES_PER_MINUTE")),
            "event_stream_seconds": _event_stream_seconds(get("LOTSENBUCH_EVENT_STREAM_SECONDS")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_secret(self) -> Settings:
        """Return settings whose secret key is set, creating and keeping one in the data directory."""
        if self.secret_key:
            return self
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(f"The secret key in {path} is shorter than {MIN_SECRET_LENGTH} characters; delete the file to have a new one made.")
        return msgspec.structs.replace(self, secret_key=secret)


def _database_url(value: str) -> str | None:
    if not value:
        return None
    if urlsplit(value).scheme not in ("postgres", "postgresql"):
        raise SettingsError("DATABASE_URL must be a postgresql:// URL (leave it unset to use the SQLite file).")
    return value


def _secret_key(value: str) -> str | None:
    if value and len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(f"LOTSENBUCH_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long.")
    return value or None


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError("LOTSENBUCH_BASE_URL must be an http:// or https:// URL such as https://lotsen.example.org.")
    return value.rstrip("/")


def _boolean(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}.")


def _networks(value: str) -> tuple[str, ...]:
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"LOTSENBUCH_TRUSTED_PROXIES must list IP addresses or networks; {item!r} is neither.") from None
    return tuple(networks)


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise SettingsError(f"LOTSENBUCH_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}.")
    return value.upper()


def _body_limit(value: str) -> int:
    if not value.isdigit() or int(value) < 1024:
        raise SettingsError(f"LOTSENBUCH_MAX_BODY_BYTES must be a whole number of bytes from 1024, not {value!r}.")
    return int(value)


def _offer_flag_hours(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 720:
        raise SettingsError(f"LOTSENBUCH_OFFER_FLAG_HOURS must be a whole number of hours from 1 to 720, not {value!r}.")
    return int(value)


def _event_stream_seconds(value: str) -> int:
    if not value.isdigit() or not 10 <= int(value) <= 3600:
        raise SettingsError(f"LOTSENBUCH_EVENT_STREAM_SECONDS must be a whole number of seconds from 10 to 3600, not {value!r}.")
    return int(value)


def _sync_pushes(value: str) -> int:
    if not value.isdigit() or not 10 <= int(value) <= 100_000:
        raise SettingsError(f"LOTSENBUCH_SYNC_PUSHES_PER_MINUTE must be a whole number from 10 to 100000, not {value!r}.")
    return int(value)
