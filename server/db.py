"""The database: engine choice (SQLite file or PostgreSQL), migrations and a reachability check."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from server import piccolo_conf, sql
from server.settings import Settings

APP_NAME = "lotsenbuch"
SQLITE_BUSY_TIMEOUT_S = 30


class DatabaseError(Exception):
    """The database cannot be used as it is; the message says why and what to do."""


def make_engine(settings: Settings) -> Engine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    prepare_sqlite_file(str(settings.sqlite_path))
    # sqlite3's default synchronous=FULL stays in force: a commit is on disk once acknowledged.
    return KeptSQLiteEngine(path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S)


class KeptSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, keeping a few connections open while the app runs.

    Piccolo opens a connection, and with it a thread, for every query outside a transaction; on
    the start page that was a third of the time (tests/benchmarks/bench_pages.py). Elsewhere
    (commands, scripts) it behaves as Piccolo's: a kept connection's thread would keep the
    process from ending."""

    KEPT = 4

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle: list | None = None  # None: not keeping any

    def keep_connections(self) -> None:
        self.idle = []

    async def close_connections(self) -> None:
        idle, self.idle = self.idle or [], None
        for connection in idle:
            await connection.close()

    async def _run_in_new_connection(self, query, args=None, query_type="generic", table=None):
        if self.idle is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = self.idle.pop() if self.idle else await self.get_connection()
        try:
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
            await connection.commit()
        except BaseException:
            await connection.close()  # a connection in an unknown state is not reused
            raise
        if self.idle is not None and len(self.idle) < self.KEPT:
            self.idle.append(connection)
        else:
            await connection.close()
        return rows


def prepare_sqlite_file(path: str) -> None:
    """Switch the file to WAL (a persistent setting of the file) so readers never block the writer."""
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def configure(settings: Settings) -> Engine:
    """Bind every table and Piccolo's migration machinery to the engine these settings name."""
    from piccolo.apps.migrations.tables import Migration

    from server.piccolo_app import TABLES

    os.environ["PICCOLO_CONF"] = "server.piccolo_conf"  # where Piccolo's migration Finder looks
    engine = make_engine(settings)
    piccolo_conf.set_engine(engine)
    for table in [*TABLES, Migration]:
        table._meta.db = engine
    return engine


async def applied_migrations() -> set[str]:
    from piccolo.apps.migrations.tables import Migration

    if not await Migration.table_exists():
        return set()
    return set(await Migration.get_migrations_which_ran(app_name=APP_NAME))


def known_migrations() -> set[str]:
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    from server.piccolo_app import APP_CONFIG

    manager = BaseMigrationManager()
    return set(manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path))


async def pending_migrations() -> list[str]:
    return sorted(known_migrations() - await applied_migrations())


async def migrate() -> list[str]:
    """Apply every pending migration; return the ids applied."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    pending = await pending_migrations()
    if not pending:
        return []
    output = io.StringIO()  # Piccolo narrates with emoji; the CLI says what happened in one line
    with contextlib.redirect_stdout(output):
        result = await run_forwards(app_name=APP_NAME, migration_id="all")
    if not result.success:
        raise DatabaseError(f"Migrating the database failed: {result.message}")
    return pending


async def require_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise DatabaseError(
            f"The database lacks {len(pending)} migration(s) ({', '.join(pending)}); run `lotsenbuch migrate` first."
        )


async def ping(engine: Engine) -> bool:
    # On a kept connection (server/sql.py): Piccolo's run_ddl opened a new SQLite connection and
    # thread each time, which made /healthz cost more than a sync (tests/benchmarks/bench_pages.py).
    try:
        async with sql.transaction(engine, write=False) as connection:
            await connection.fetch("SELECT 1")
    except Exception:
        return False
    return True
