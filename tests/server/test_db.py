"""The database: migrations applied before serving, durable SQLite, reachability."""

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine

from server import db, sql
from server.settings import Settings

from tests.conftest import SECRET


async def test_a_migrated_database_has_no_pending_migrations(app):
    assert db.known_migrations()
    assert await db.pending_migrations() == []
    await db.require_migrated()


async def test_an_unmigrated_database_is_refused_with_a_sentence(tmp_path):
    db.configure(Settings(data_dir=tmp_path, secret_key=SECRET))
    with pytest.raises(db.DatabaseError, match="lotsenbuch migrate"):
        await db.require_migrated()
    applied = await db.migrate()
    assert sorted(applied) == sorted(db.known_migrations())
    assert await db.migrate() == []  # idempotent
    await db.require_migrated()


async def test_the_app_does_not_start_on_unapplied_migrations(tmp_path):
    from server.app import create_app

    app = create_app(Settings(data_dir=tmp_path, secret_key=SECRET))
    with pytest.raises(db.DatabaseError):
        for hook in app.on_startup:
            await hook()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_runs_in_wal_mode_with_durable_commits(app, settings):
    rows = await app.state.engine.run_ddl("PRAGMA synchronous")
    assert rows[0]["synchronous"] == 2  # FULL: a commit is on disk once acknowledged
    with sqlite3.connect(settings.sqlite_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_healthz_reports_a_reachable_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


async def test_healthz_reports_an_unreachable_database_with_503(app, client):
    reachable = app.state.engine
    app.state.engine = SQLiteEngine(path="/nonexistent/directory/lotsenbuch.sqlite3")
    try:
        response = await client.get("/healthz")
    finally:
        app.state.engine = reachable
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_writes_that_queue_are_committed_together_and_a_failing_one_undoes_only_itself(app, monkeypatch):
    """Group commit (sql.write_together): queued writes share one transaction and one wait for
    the disk, each in a savepoint; every caller hears its own outcome, and only after COMMIT."""
    engine, batches = app.state.engine, []
    write_batch = sql._write_batch

    async def counted(engine, batch):
        batches.append(len(batch))
        return await write_batch(engine, batch)

    monkeypatch.setattr(sql, "_write_batch", counted)

    def write(n: int):
        async def work(connection):
            await connection.execute("INSERT INTO throttle (key, failures, window_start) VALUES (?, ?, ?)",
                                     f"together:{n}", n, connection.timestamp(datetime.now(UTC)))
            if n == 3:
                raise ValueError("refused")
            return n
        return work

    results = await asyncio.gather(*(sql.write_together(engine, write(n)) for n in range(8)), return_exceptions=True)
    assert results[:3] == [0, 1, 2] and results[4:] == [4, 5, 6, 7]
    assert isinstance(results[3], ValueError)
    async with sql.transaction(engine, write=False) as connection:
        rows = await connection.fetch("SELECT key, failures FROM throttle WHERE key LIKE 'together:%'")
        if not connection.postgres:  # the kept connections are as durable as Piccolo's
            assert (await connection.fetch("PRAGMA synchronous"))[0][0] == 2
    assert sorted(rows, key=lambda row: row[1]) == [(f"together:{n}", n) for n in range(8) if n != 3]
    if not isinstance(engine, PostgresEngine):
        assert batches == [8]  # queued in the same moment: one transaction, one COMMIT


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_lock_held_by_another_process_is_waited_for_without_stopping_the_app(app, settings):
    """sql.transaction runs SQLite statements on the event loop's thread, so it must not wait in
    SQLite's busy handler: it sleeps (asyncio) until the other writer is done, and after the
    engine's timeout says the database is locked."""
    from server.db import KeptSQLiteEngine

    other = sqlite3.connect(settings.sqlite_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a backup or `lotsenbuch retention run`, say
    ticks = 0

    async def app_goes_on():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(app_goes_on())
    asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
    try:
        async with sql.transaction(app.state.engine, write=True) as connection:
            await connection.execute("UPDATE organisation SET name = name")
        assert ticks >= 10  # the loop ran while the lock was taken
        other.execute("BEGIN IMMEDIATE")
        impatient = KeptSQLiteEngine(path=str(settings.sqlite_path), timeout=0.2)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with sql.transaction(impatient, write=True):
                pass
    finally:
        ticking.cancel()
        other.close()


async def test_writes_of_one_process_that_lock_one_clock_row_run_a_few_at_a_time(app, backend):
    """sql.write_together: on SQLite in one shared transaction, one after the other; on
    PostgreSQL at most CLOCK_WRITERS at once when they name the same clock row. There pushes
    waiting for their organisation's clock row would otherwise hold a pooled connection each,
    and the reads of every request would wait for one. A write that names no clock row (an
    access-log entry) does not wait behind them on PostgreSQL."""
    held, order = asyncio.Event(), []
    waiting = sql.CLOCK_WRITERS if backend == "postgres" else 1

    def holding(name: str):
        async def work(connection: sql.Connection) -> None:
            order.append(f"{name} begins")
            await held.wait()
            order.append(f"{name} ends")
        return work

    async def last(connection: sql.Connection) -> None:
        order.append("last begins")

    async def unrelated(connection: sql.Connection) -> None:
        order.append("unrelated")

    organisation = object()
    first = [asyncio.create_task(sql.write_together(app.state.engine, holding(f"w{n}"), clock=organisation))
             for n in range(waiting)]
    queued = asyncio.create_task(sql.write_together(app.state.engine, last, clock=organisation))
    other = asyncio.create_task(sql.write_together(app.state.engine, unrelated))
    try:
        for _ in range(50):
            await asyncio.sleep(0.01)
        async with sql.transaction(app.state.engine, write=False) as connection:  # a read goes on meanwhile
            await connection.fetch("SELECT 1")
        # SQLite has one writer: everything queues behind the first (and shares its COMMIT)
        expected = [f"w{n} begins" for n in range(waiting)] + (["unrelated"] if backend == "postgres" else [])
        assert sorted(order) == sorted(expected)
    finally:
        held.set()
        await asyncio.gather(*first, queued, other)
    assert min(order.index(f"w{n} ends") for n in range(waiting)) < order.index("last begins")


async def test_a_read_sees_one_snapshot_and_writes_nothing(app, backend, monkeypatch):
    """A read transaction (a pull, a page) sees the database as it was at its first statement,
    whatever commits meanwhile. On PostgreSQL it is REPEATABLE READ and READ ONLY from its BEGIN:
    one statement, not a BEGIN and a SET TRANSACTION after it; and its connection goes back to
    the pool without a reset statement (sql.nothing_to_reset)."""
    engine, now, go = app.state.engine, datetime(2026, 12, 1, tzinfo=UTC), asyncio.Event()

    async def another_request() -> None:  # a task of its own, begun outside the read
        await go.wait()
        async with sql.transaction(engine, write=True) as writing:
            await writing.execute("INSERT INTO organisation (id, name, created_at) VALUES (?, ?, ?)",
                                  writing.uuid(uuid4()), "Neu", writing.timestamp(now))

    meanwhile = asyncio.create_task(another_request())
    async with sql.transaction(engine, write=False) as reading:
        before = (await reading.fetchone("SELECT count(*) FROM organisation"))[0]
        go.set()
        await meanwhile
        assert (await reading.fetchone("SELECT count(*) FROM organisation"))[0] == before
        if backend == "postgres":
            assert (await reading.fetchone("SHOW transaction_isolation"))[0] == "repeatable read"
            assert (await reading.fetchone("SHOW transaction_read_only"))[0] == "on"
    async with sql.transaction(engine, write=False) as reading:
        assert (await reading.fetchone("SELECT count(*) FROM organisation"))[0] == before + 1
    if backend == "postgres":
        statements: list[str] = []
        get_connection = PostgresTransaction.get_connection

        async def logging_connection(transaction):  # the pool's connection, logging what it is sent
            connection = await get_connection(transaction)
            connection.add_query_logger(lambda query: statements.append(query.query))
            return connection

        monkeypatch.setattr(PostgresTransaction, "get_connection", logging_connection)
        async with sql.transaction(engine, write=False) as reading:
            await reading.fetch("SELECT 1")
        monkeypatch.undo()
        # and nothing more: the pool sends no reset when it takes the connection back
        assert [q.split(";")[0] for q in statements] == ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SELECT 1", "COMMIT"]
        with pytest.raises(Exception, match="read-only"):
            async with sql.transaction(engine, write=False) as reading:
                await reading.execute("UPDATE organisation SET name = name")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_long_read_runs_in_a_thread_while_the_app_answers(app):
    """Reports and exports read with inline=False: their statements run in a thread, so a
    quarter over 100,000 logs does not hold every volunteer's sync meanwhile."""
    release, inside = threading.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def a_long_statement() -> int:
        loop.call_soon_threadsafe(inside.set)
        return int(release.wait(timeout=10))

    async def report() -> int:
        async with sql.transaction(app.state.engine, write=False, inline=False) as connection:
            connection.raw.create_function("a_long_statement", 0, a_long_statement)
            try:
                return (await connection.fetchone("SELECT a_long_statement()"))[0]
            finally:
                connection.raw.create_function("a_long_statement", 0, None)

    long_read = asyncio.create_task(report())
    await asyncio.wait_for(inside.wait(), timeout=5)
    async with sql.transaction(app.state.engine, write=False) as connection:  # a sync's read, on the loop
        assert (await connection.fetchone("SELECT count(*) FROM organisation"))[0] >= 0
    assert not long_read.done()  # answered while the long statement still ran
    release.set()
    assert await long_read == 1


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_lookups_every_sync_makes_go_through_their_indexes(app, settings):
    """300 phones at once (tests/benchmarks/bench_load.py): a lookup that scans a table grows with
    every device and change an installation ever had."""
    from server.sync_store import STORED_RESULTS_SQL, VOLUNTEER_WINDOW_SQL

    def plan(statement: str, *args) -> str:
        with sqlite3.connect(settings.sqlite_path) as connection:
            return " | ".join(row[-1] for row in connection.execute("EXPLAIN QUERY PLAN " + statement, args))

    stored = plan(STORED_RESULTS_SQL, "device", 1, 20)
    assert "USING INDEX device_push_device (device=? AND last_id>?)" in stored, stored
    window = plan(VOLUNTEER_WINDOW_SQL, "org", "user", 0, 100, "org", 0, 100, 100)
    # both halves, the viewer's own entries and anyone's (SQLite shows IS NULL as =?)
    assert window.count("USING INDEX change_log_audience (organisation=? AND audience=? AND seq>?)") == 2, window
