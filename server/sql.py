"""Plain SQL in one transaction, for the sync hot path, on either database.

Piccolo builds and converts every query in Python, which costs more than the database work for
the hundreds of rows a sync moves. Here the same tables are read and written with plain SQL:
statements are written with `?` marks (rewritten to `$n` for PostgreSQL), rows come back as
tuples, and SQLite values come raw — the caller converts only what it needs. Values are stored
exactly as Piccolo stores them (its sqlite3 adapters are process-wide), so both can share tables.

SQLite statements run on the event loop's own thread: a statement of the hot path takes a few
microseconds there, while handing it to a connection's thread (aiosqlite) cost about 115 µs
each way round — most of a sync request's time when 300 phones came at once
(tests/benchmarks/bench_load.py). A write's COMMIT waits for the disk on this thread too (about
0.25 ms on the machines this was measured on); the statements of long reports run in a thread
(`inline=False`). A database locked by another process is waited for with asyncio.sleep, never
in SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlite3
import time

import msgspec
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction  # piccolo.engine registers its sqlite3 adapters first

T = TypeVar("T")


class _Snapshot(PostgresTransaction):
    """A read transaction on PostgreSQL, begun in one statement: BEGIN ISOLATION LEVEL REPEATABLE
    READ READ ONLY. A BEGIN followed by SET TRANSACTION was a second round trip on every read
    (bench_load.py with two workers: 4,051 of them in one burst, 1.1–1.4 ms each)."""

    async def begin(self) -> None:
        self.transaction = self.connection.transaction(isolation="repeatable_read", readonly=True)
        await self.transaction.start()


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    """`?` marks as PostgreSQL's `$1, $2, ...`; our statements hold no other question mark."""
    parts = sql.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


async def nothing_to_reset(connection: Any) -> None:
    """The pool's reset of a PostgreSQL connection handed back (asyncpg's `reset`). asyncpg rolls
    back what was left open and drops listeners first anyway; its default reset then sends one
    more statement (advisory locks, cursors, LISTEN, settings) after every transaction. None of
    that state is ever made on a pooled connection here: settings are SET LOCAL, and the pokes
    LISTEN on a connection of their own (server/pokes.py)."""


def _same(value: Any) -> Any:
    return value


# The same few ids (an organisation, a user, a device) pass in and out of every statement, and
# turning a UUID into text or back costs about a microsecond each (bench_load.py: 8 % of the
# server's time in the burst), so both directions are remembered for the latest few thousand.
@functools.lru_cache(maxsize=8192)
def _uuid_text(value: UUID) -> str:
    return str(value)


@functools.lru_cache(maxsize=8192)
def _text_uuid(value: str) -> UUID:
    return UUID(value)


sqlite3.register_adapter(UUID, _uuid_text)  # what Piccolo's adapter gives (str), remembered


def as_text(value: Any) -> Any:
    if value is None:
        return value
    return _uuid_text(value) if type(value) is UUID else str(value)


def as_utc_text(value: datetime | None) -> str | None:
    """A timestamp as Piccolo's sqlite3 adapter stores it: in UTC, `str()` of the datetime."""
    return None if value is None else str(value.astimezone(UTC))


def as_date_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def json_value(value: Any, default: Any = None) -> Any:
    """A JSON column read back: text from SQLite and asyncpg, already decoded from Piccolo on
    PostgreSQL; NULL gives the default."""
    if value is None:
        return default
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


def uuid_value(value: Any) -> UUID | None:
    """A UUID read back: SQLite gives its text."""
    return value if value is None or isinstance(value, UUID) else _text_uuid(value)


def date_value(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def datetime_value(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Connection:
    """One connection inside one transaction.

    `uuid`, `timestamp` and `day` turn values into what the database takes. For SQLite that is
    the text Piccolo's adapters would make, done here because a Python adapter called per value
    by sqlite3 costs more than the conversion itself."""

    def __init__(self, raw: Any, postgres: bool, inline: bool = True):
        self.raw = raw
        self.postgres = postgres
        self.inline = inline
        self.uuid: Callable[[Any], Any] = _same if postgres else as_text
        self.timestamp: Callable[[datetime | None], Any] = _same if postgres else as_utc_text
        self.day: Callable[[date | None], Any] = _same if postgres else as_date_text
        self.notices: dict[tuple[str, str], None] = {}  # (channel, payload), each once, in order

    def notify(self, channel: str, payload: str) -> None:
        """A message for listeners once this transaction commits (server/pokes.py): a NOTIFY on
        PostgreSQL, which the database holds back until COMMIT; on SQLite, handed over after it."""
        self.notices[(channel, payload)] = None

    async def _sqlite(self, function: Callable[..., Any], *args: Any) -> Any:
        return function(*args) if self.inline else await asyncio.to_thread(function, *args)

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        if self.postgres:
            return await self.raw.fetch(_numbered(sql), *args)
        return await self._sqlite(_fetchall, self.raw, sql, args)

    async def fetchone(self, sql: str, *args: Any) -> Sequence[Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        if self.postgres:
            await self.raw.execute(_numbered(sql), *args)
        else:
            await self._sqlite(self.raw.execute, sql, args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.postgres:
            await self.raw.executemany(_numbered(sql), rows)
        else:
            await self._sqlite(self.raw.executemany, sql, rows)

    async def fetch_named(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Rows as dicts by column name (for exports: slower than tuples, never on a hot path)."""
        if self.postgres:
            return [dict(row) for row in await self.raw.fetch(_numbered(sql), *args)]
        return await self._sqlite(_fetch_named, self.raw, sql, args)

    def one_of(self, column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
        """`column IN (...)` as a condition and its parameters."""
        values = list(values)
        if self.postgres:
            return f"{column} = ANY(?)", [values]
        return f"{column} IN ({', '.join('?' * len(values))})", values


def _fetchall(raw: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
    return raw.execute(sql, args).fetchall()


def _fetch_named(raw: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
    cursor = raw.execute(sql, args)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


@asynccontextmanager
async def transaction(engine: Any, *, write: bool, inline: bool = True) -> AsyncIterator[Connection]:
    """A transaction on its own connection. Writes on SQLite take the write lock up front
    (BEGIN IMMEDIATE); reads see one snapshot on both databases. `inline=False`: a long read
    (a report over a year), whose SQLite statements run in a thread so that the app keeps
    answering meanwhile."""
    if isinstance(engine, PostgresEngine):
        async with engine.transaction() if write else _Snapshot(engine) as piccolo_transaction:
            connection = Connection(piccolo_transaction.connection, postgres=True)
            yield connection
            for channel, payload in connection.notices:
                await connection.execute("SELECT pg_notify(?, ?)", channel, payload)
        return
    database = engine.connection_kwargs["database"]
    # SQLite has one writer at a time. Writers of this process queue here, first come first
    # served, instead of each waiting in SQLite's busy handler, which polls and lets a late
    # comer win: with 300 phones at once some waited the whole 30 s timeout (bench_load.py).
    async with _writers(database) if write else contextlib.nullcontext():
        idle = _idle.get(database)
        raw = idle.pop() if idle else _connect(engine)
        try:
            await _begin(raw, write, engine.connection_kwargs.get("timeout", 30))
            connection = Connection(raw, postgres=False, inline=inline)
            try:
                yield connection
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
        except BaseException:
            raw.close()  # a connection in an unknown state is not reused
            raise
        if idle is not None and len(idle) < IDLE_CONNECTIONS:
            idle.append(raw)
        else:
            raw.close()
    _announce(database, connection)


def _announce(database: str, connection: Connection) -> None:
    """Hand a committed SQLite transaction's notices to the listener (server/pokes.py)."""
    if connection.notices and (listener := _on_commit.get(database)):
        for channel, payload in connection.notices:
            listener(channel, payload)


async def write_together(engine: Any, work: Callable[[Connection], Awaitable[T]], *, clock: Any = None) -> T:
    """Run `work` in a write transaction and return its result once that is committed.

    On SQLite, writes that queue behind one another share a transaction: one task runs them in
    order, each inside a savepoint of its own — what one raises undoes only its own writes and
    reaches only its own caller — and one COMMIT, one wait for the disk, ends them all (group
    commit: a push's COMMIT cost ~1 ms of the event loop's time, most of it waiting for the
    disk). Nobody hears back before the COMMIT, so an answer still means the data is on disk.
    On PostgreSQL, each is a transaction of its own. Of those that name the same `clock` (the
    organisation whose clock row they lock, R2) at most CLOCK_WRITERS run at once in this
    process: the others would wait for the row holding a pooled connection each, while the reads
    of every request (sessions, pulls) waited for a free one (bench_load.py with two workers:
    reads waited 0.4 s on average when every push held the row from its start). Writes that name
    no clock row do not queue behind them."""
    if isinstance(engine, PostgresEngine):
        async with _clock_writers(engine, clock) if clock is not None else contextlib.nullcontext():
            async with transaction(engine, write=True) as connection:
                return await work(connection)
    loop = asyncio.get_running_loop()
    key = (engine.connection_kwargs["database"], id(loop))
    future = loop.create_future()
    future.add_done_callback(lambda done: done.cancelled() or done.exception())  # read, even if nobody waits
    queue = _queued_writes.get(key)
    if queue is None:
        queue = _queued_writes[key] = []
        task = loop.create_task(_write_queued(engine, key, queue))
        _writing.add(task)
        task.add_done_callback(_writing.discard)
    queue.append((work, future))
    return await asyncio.shield(future)  # a caller that gives up does not take the others' writes with it


GROUP_COMMIT = 64  # writes at most in one transaction
_queued_writes: dict[tuple[str, int], list[tuple[Callable[[Connection], Awaitable[Any]], asyncio.Future]]] = {}
_writing: set[asyncio.Task] = set()


async def _write_queued(engine: Any, key: tuple[str, int], queue: list) -> None:
    database, batch = key[0], []
    try:
        while queue:
            batch, queue[:] = queue[:GROUP_COMMIT], queue[GROUP_COMMIT:]
            outcomes = await _write_batch(engine, batch)
            for (_, future), (ok, value, connection) in zip(batch, outcomes):
                if not future.done():
                    future.set_result(value) if ok else future.set_exception(value)
                if ok:
                    _announce(database, connection)
            batch = []
    except BaseException:  # the app is stopping: nobody waits in vain
        for _, future in batch + queue:
            if not future.done():
                future.set_exception(RuntimeError("the app stopped before this write was committed"))
        raise
    finally:
        del _queued_writes[key]


async def _write_batch(engine: Any, batch: list) -> list[tuple[bool, Any, Connection | None]]:
    """One write transaction for the batch, a savepoint for each write (each with a Connection of
    its own, so that only its notices are announced); returns (ok, result or error, connection)
    for each, all failed if the transaction as a whole did not commit."""
    outcomes: list[tuple[bool, Any, Connection | None]] = []
    try:
        async with transaction(engine, write=True) as shared:
            raw = shared.raw
            for work, _ in batch:
                connection = Connection(raw, postgres=False)
                raw.execute("SAVEPOINT write_together")
                try:
                    result = await work(connection)
                except Exception as error:
                    raw.execute("ROLLBACK TO write_together")
                    raw.execute("RELEASE write_together")
                    outcomes.append((False, error, None))
                else:
                    raw.execute("RELEASE write_together")
                    outcomes.append((True, result, connection))
    except Exception as error:
        return [(False, error, None) for _ in batch]
    return outcomes


# A push holds its organisation's clock row only for its last few statements (sync_store._take_seqs):
# a few at once keep both the row and the database busy, and leave the pool (10) to the reads.
CLOCK_WRITERS = 3
_per_loop: dict[tuple[Any, int], Any] = {}


def _one_per_loop(key: Any, make: Callable[[], T]) -> T:
    """The lock or semaphore of this key in the running event loop (tests run a loop each)."""
    full = (key, id(asyncio.get_running_loop()))
    if full not in _per_loop:
        _per_loop[full] = make()
    return _per_loop[full]


def _writers(database: str) -> asyncio.Lock:
    return _one_per_loop(("writers", database), asyncio.Lock)


def _clock_writers(engine: Any, clock: Any) -> asyncio.Semaphore:
    return _one_per_loop(("clock", id(engine), clock), lambda: asyncio.Semaphore(CLOCK_WRITERS))


# Opening a SQLite connection reads the schema: while the app runs, a few are kept open (a
# transaction on the loop's thread rarely leaves room for a second). Elsewhere (commands,
# scripts) each transaction opens and closes its own.
IDLE_CONNECTIONS = 4
_idle: dict[str, list[sqlite3.Connection]] = {}


_on_commit: dict[str, Callable[[str, str], None]] = {}


def on_commit(database: str, listener: Callable[[str, str], None] | None) -> None:
    """Hand the notices of each committed transaction on this SQLite file to `listener`."""
    if listener is None:
        _on_commit.pop(database, None)
    else:
        _on_commit[database] = listener


def keep_connections(engine: Any) -> None:
    """Keep idle SQLite connections of this engine open until close_idle (the app's lifespan)."""
    if not isinstance(engine, PostgresEngine):
        _idle.setdefault(engine.connection_kwargs["database"], [])


def _connect(engine: Any) -> sqlite3.Connection:
    kwargs = {k: v for k, v in engine.connection_kwargs.items() if k not in ("detect_types", "isolation_level", "timeout")}
    # No busy handler: it would hold the event loop while another process writes (_begin waits).
    raw = sqlite3.connect(**kwargs, isolation_level=None, check_same_thread=False, timeout=0)
    raw.execute("PRAGMA foreign_keys = 1")
    raw.execute("PRAGMA cache_size = -32768")  # 32 MiB of pages, not 2 MiB
    return raw


async def _begin(raw: sqlite3.Connection, write: bool, timeout: float) -> None:
    """Begin, and take the write lock or a read snapshot at once. Another process (a backup,
    `lotsenbuch retention run`) may hold the lock: wait for it without blocking the app, up to the
    engine's timeout; after that, sqlite3's "database is locked" reaches the caller (a 503)."""
    deadline, pause = time.monotonic() + timeout, 0.001
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                if not write:  # the snapshot starts with the first read: take it here, where waiting is safe
                    raw.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.1)


async def close_idle(engine: Any) -> None:
    """Close the kept SQLite connections of this engine (at shutdown)."""
    if isinstance(engine, PostgresEngine):
        return
    for raw in _idle.pop(engine.connection_kwargs["database"], []):
        raw.close()
