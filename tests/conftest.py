"""Shared fixtures: a clean database per test on SQLite (and PostgreSQL when
LOTSENBUCH_TEST_POSTGRES holds a DSN), an app with a fake clock, and an HTTPS test client."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from server import db
from server.app import create_app
from server.settings import Settings

POSTGRES_DSN = os.environ.get("LOTSENBUCH_TEST_POSTGRES", "").strip()
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_DSN else [])
BASE_URL = "https://testserver.local"
SECRET = "test-secret-" + "x" * 40


class FakeClock:
    """The server's clock as a parameter: tests move time instead of waiting."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def run_blocking(coroutine) -> object:
    """Run a coroutine to the end from sync code, even while a test's event loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _migrate(settings: Settings) -> None:
    db.configure(settings)
    run_blocking(db.migrate())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (faster than migrating each time)."""
    data_dir = tmp_path_factory.mktemp("template")
    _migrate(Settings(data_dir=data_dir, secret_key=SECRET))
    return data_dir / "lotsenbuch.sqlite3"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A database of its own for this test run, created and migrated once, dropped at the end."""
    import asyncpg

    name = f"lotsenbuch_test_{os.getpid()}"
    parts = urlsplit(POSTGRES_DSN)
    url = urlunsplit(parts._replace(path="/" + name))

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_DSN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    run_blocking(admin(f'DROP DATABASE IF EXISTS "{name}"'))
    run_blocking(admin(f'CREATE DATABASE "{name}"'))
    _migrate(Settings(data_dir=Path("/nonexistent"), database_url=url, secret_key=SECRET))
    yield url
    run_blocking(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _truncate_postgres(url: str) -> None:
    import asyncpg

    from server.piccolo_app import TABLES

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            names = ", ".join(f'"{table._meta.tablename}"' for table in TABLES)
            await connection.execute(f"TRUNCATE {names} CASCADE")
        finally:
            await connection.close()

    run_blocking(run())


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id, at the lowest cost: hashing at production cost would dominate the suite."""
    from argon2 import PasswordHasher

    from server.accounts import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # An event stream (GET /api/sync/events) ends at once: the in-process test client reads a
    # response whole. tests/server/sync/test_pokes.py tests the stream itself.
    common = dict(data_dir=data_dir, secret_key=SECRET, base_url=BASE_URL, cookie_secure=True, push_sender=False,
                  event_stream_seconds=0.05)
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), data_dir / "lotsenbuch.sqlite3")
        return Settings(**common)
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return Settings(**common, database_url=url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock):
    application = create_app(settings, clock=clock)
    # The startup and shutdown hooks directly: pytest-asyncio sets up and tears down a fixture in
    # different tasks, which Litestar's lifespan task group does not allow.
    for hook in application.on_startup:
        await hook()
    yield application
    for hook in application.on_shutdown:
        await hook()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as http:
        yield http


def make_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, follow_redirects=False)


async def csrf_headers(http: httpx.AsyncClient) -> dict[str, str]:
    """What a browser page or an API client does: read the CSRF cookie, send it back as a header."""
    if "__Host-csrf" not in http.cookies:
        await http.get("/login")
    return {"x-csrftoken": http.cookies["__Host-csrf"]}


async def login(http: httpx.AsyncClient, username: str, password: str = "demo") -> httpx.Response:
    headers = await csrf_headers(http)
    return await http.post("/login", data={"login": username, "password": password}, headers=headers)


@contextlib.asynccontextmanager
async def signed_in(app, username: str, password: str = "demo"):
    """A browser of its own, signed in as one of the demo people."""
    async with make_client(app) as http:
        response = await login(http, username, password)
        assert response.status_code == 303, response.text
        yield http


@pytest.fixture
async def demo(app, clock: FakeClock) -> None:
    from server import demo as demo_data

    await demo_data.seed(clock(), records=False)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
