"""Sync throughput: push 10,000 new visit logs in batches of 500, pull them all from a fresh device,
then push 5,000 edits on stale bases (all conflicting); raw sqlite3 executemany upserts of the same
rows in the same run are the baseline.

    python tests/benchmarks/bench_sync.py                 # SQLite
    python tests/benchmarks/bench_sync.py --postgres postgresql://postgres@127.0.0.1:5432/test

Requests go through the whole app in-process (httpx's ASGI transport): JSON, middleware, session,
engine and database, but no sockets. Prints a table and writes tests/benchmarks/results/sync-<db>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
import msgspec

from server import db, demo
from server.accounts.tables import User
from server.app import create_app
from server.settings import Settings

TOTAL, BATCH, CONFLICTING = 10_000, 500, 5_000
RESULTS = Path(__file__).parent / "results"
LOG = {"date": "2026-03-02", "start_time": "09:00", "duration_minutes": 60, "place_type": "jobcenter",
       "place_name": "Jobcenter Mitte", "topics": ["arbeit", "leistungen"], "outcome": "Antrag abgegeben, Termin in zwei Wochen.",
       "travel_km": 4.5, "status": "submitted"}


def baseline(rows: int) -> float:
    """Raw sqlite3: executemany upserts of the same shape of rows, in batches of BATCH."""
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(Path(directory) / "baseline.sqlite3")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE visit_log (id TEXT PRIMARY KEY, organisation TEXT, owner TEXT, version INTEGER, seq INTEGER, "
            "date TEXT, start_time TEXT, duration_minutes INTEGER, place_type TEXT, place_name TEXT, topics TEXT, "
            "outcome TEXT, travel_km REAL, status TEXT)"
        )
        organisation, owner = str(uuid.uuid4()), str(uuid.uuid4())
        data = [(str(uuid.uuid4()), organisation, owner, 1, n, LOG["date"], LOG["start_time"], 60, "jobcenter",
                 LOG["place_name"], json.dumps(LOG["topics"]), LOG["outcome"], 4.5, "submitted") for n in range(rows)]
        started = time.perf_counter()
        for start in range(0, rows, BATCH):
            with connection:
                connection.executemany(
                    "INSERT INTO visit_log VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                    "version = excluded.version, seq = excluded.seq", data[start:start + BATCH])
        elapsed = time.perf_counter() - started
        connection.close()
    return rows / elapsed


def push_floor(rows: int) -> float:
    """Raw sqlite3 doing only the writes a push must make for a new record (R1, R2, R13): the
    record with its sync columns, its revision, its change-log entry, in tables with the app's
    keys and indexes, one transaction per batch. No app can push faster than this on SQLite."""
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(Path(directory) / "floor.sqlite3", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(
            "CREATE TABLE visit_log (id TEXT PRIMARY KEY, organisation TEXT, owner TEXT, version INTEGER, seq INTEGER, "
            "deleted_at TEXT, field_versions TEXT, field_authors TEXT, created_at TEXT, updated_at TEXT, "
            "assignment_id TEXT, client_id TEXT, date TEXT, start_time TEXT, duration_minutes INTEGER, place_type TEXT, "
            "place_name TEXT, topics TEXT, outcome TEXT, follow_up_needed INTEGER, follow_up_text TEXT, follow_up_due TEXT, "
            "travel_km REAL, expenses_cents INTEGER, status TEXT, coordinator_comment TEXT);"
            "CREATE INDEX visit_log_seq ON visit_log (seq);"
            "CREATE TABLE revision (id INTEGER PRIMARY KEY, organisation TEXT, entity TEXT, record_id TEXT, version INTEGER, "
            "op TEXT, fields TEXT, actor TEXT, device TEXT, at TEXT, client_time TEXT);"
            "CREATE INDEX revision_record ON revision (record_id);"
            "CREATE TABLE change_log (id INTEGER PRIMARY KEY, organisation TEXT, seq INTEGER, entity TEXT, record_id TEXT, "
            "before TEXT);"
            "CREATE INDEX change_log_seq ON change_log (seq); CREATE INDEX change_log_record ON change_log (record_id);"
        )
        organisation, owner, device_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        now, fields = str(datetime.now(UTC)), json.dumps(LOG)
        records, revisions, log = [], [], []
        for n in range(rows):
            record_id = str(uuid.uuid4())
            records.append((record_id, organisation, owner, 1, n, None, "{}", json.dumps({"": f"{owner}:{device_id}"}), now,
                            now, None, None, LOG["date"], LOG["start_time"], 60, "jobcenter", LOG["place_name"],
                            json.dumps(LOG["topics"]), LOG["outcome"], 0, "", None, 4.5, 0, "submitted", ""))
            revisions.append((organisation, "visit_log", record_id, 1, "create", fields, owner, device_id, now, None))
            log.append((organisation, n, "visit_log", record_id, None))
        started = time.perf_counter()
        for start in range(0, rows, BATCH):
            end = start + BATCH
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(f"INSERT INTO visit_log VALUES ({', '.join('?' * 26)})", records[start:end])
            connection.executemany("INSERT INTO revision (organisation, entity, record_id, version, op, fields, actor, "
                                   "device, at, client_time) VALUES (?,?,?,?,?,?,?,?,?,?)", revisions[start:end])
            connection.executemany("INSERT INTO change_log (organisation, seq, entity, record_id, before) VALUES (?,?,?,?,?)",
                                   log[start:end])
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
    return rows / elapsed


async def device(http: httpx.AsyncClient, login: str) -> str:
    await http.get("/login")
    token = http.cookies.get("__Host-csrf")
    http.headers["x-csrftoken"] = token
    response = await http.post("/api/session", json={"login": login, "password": "demo", "device_name": "Bench"})
    response.raise_for_status()
    return response.json()["device_id"]


async def sync(http, device_id, mutations=(), cursor=None, limit=1000) -> dict:
    # The phone's own JSON work is not the server's throughput: encode and decode with msgspec.
    body = msgspec.json.encode({"device_id": device_id, "schema": 1, "cursor": cursor, "mutations": list(mutations),
                                "limit": limit})
    response = await http.post("/api/sync", content=body, headers={"content-type": "application/json"})
    response.raise_for_status()
    return msgspec.json.decode(response.content)


async def run(settings: Settings) -> dict:
    db.configure(settings)
    await db.migrate()
    app = create_app(settings)
    for hook in app.on_startup:
        await hook()
    try:
        await demo.seed(datetime.now(UTC), records=False)
        await User.update({User.pledge_signed_on: date(2026, 1, 1)}).where(User.role == "volunteer")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bench.local") as phone, \
                httpx.AsyncClient(transport=transport, base_url="https://bench.local") as fresh, \
                httpx.AsyncClient(transport=transport, base_url="https://bench.local") as office:
            phone_id = await device(phone, "lotse1")
            ids = [str(uuid.uuid4()) for _ in range(TOTAL)]
            number = 0
            cursor = (await sync(phone, phone_id, limit=1))["cursor"]
            started = time.perf_counter()
            for start in range(0, TOTAL, BATCH):
                mutations = []
                for record_id in ids[start:start + BATCH]:
                    number += 1
                    mutations.append({"mutation_id": number, "entity": "visit_log", "id": record_id, "op": "upsert",
                                      "base_version": None, "fields": LOG})
                payload = await sync(phone, phone_id, mutations, cursor=cursor, limit=BATCH)
                cursor = payload["cursor"]
                assert all(r["status"] == "applied" for r in payload["results"])
            push_rate = TOTAL / (time.perf_counter() - started)

            fresh_id = await device(fresh, "lotse1")
            started = time.perf_counter()
            pulled, cursor = 0, None
            while True:
                payload = await sync(fresh, fresh_id, cursor=cursor, limit=1000)
                pulled += len(payload["changes"])
                cursor = payload["cursor"]
                if not payload["has_more"]:
                    break
            pull_rate = pulled / (time.perf_counter() - started)
            assert pulled == TOTAL, pulled

            office_id = await device(office, "koordination")
            stale = ids[:CONFLICTING]
            for start in range(0, CONFLICTING, BATCH):  # the coordinator changes the field first
                batch = [{"mutation_id": start + n + 1, "entity": "visit_log", "id": rid, "op": "upsert", "base_version": 1,
                          "fields": {"duration_minutes": 90}} for n, rid in enumerate(stale[start:start + BATCH])]
                await sync(office, office_id, batch, limit=1)
            started = time.perf_counter()
            conflicts = 0
            for start in range(0, CONFLICTING, BATCH):
                batch = []
                for rid in stale[start:start + BATCH]:
                    number += 1
                    batch.append({"mutation_id": number, "entity": "visit_log", "id": rid, "op": "upsert", "base_version": 1,
                                  "fields": {"duration_minutes": 75}})
                payload = await sync(phone, phone_id, batch, limit=1)
                conflicts += sum(r["status"] == "conflict" for r in payload["results"])
            conflict_rate = CONFLICTING / (time.perf_counter() - started)
            assert conflicts == CONFLICTING, conflicts
    finally:
        for hook in app.on_shutdown:
            await hook()
    return {"push_per_s": push_rate, "pull_per_s": pull_rate, "conflicting_per_s": conflict_rate}


async def fresh_postgres(dsn: str) -> str:
    name = "lotsenbuch_bench"
    connection = await asyncpg.connect(dsn)
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return dsn.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one log line a request would be measured too
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL DSN; a database lotsenbuch_bench is made there")
    args = parser.parse_args()
    base = baseline(TOTAL)
    floor = push_floor(TOTAL)
    with tempfile.TemporaryDirectory() as directory:
        database_url = asyncio.run(fresh_postgres(args.postgres)) if args.postgres else None
        settings = Settings(data_dir=Path(directory), secret_key="b" * 40, database_url=database_url,
                            base_url="https://bench.local", cookie_secure=True)
        figures = asyncio.run(run(settings))
    kind = "postgresql" if args.postgres else "sqlite"
    table = [
        ("raw sqlite3 executemany upserts (baseline)", base, 1.0),
        ("raw sqlite3: only the writes a push must make", floor, floor / base),
        (f"push new visit logs, batches of {BATCH}", figures["push_per_s"], figures["push_per_s"] / base),
        ("pull all from a fresh device, pages of 1000", figures["pull_per_s"], figures["pull_per_s"] / base),
        ("push edits on stale bases (all conflicts)", figures["conflicting_per_s"], figures["conflicting_per_s"] / base),
    ]
    print(f"\nsync benchmark on {kind}: {TOTAL} records")
    print(f"{'measure':<48} {'per second':>12} {'× baseline':>11}")
    for name, rate, ratio in table:
        print(f"{name:<48} {rate:>12,.0f} {ratio:>11.3f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sync-{kind}.json").write_text(json.dumps({"database": kind, "baseline_per_s": base, "push_floor_per_s": floor, **figures}, indent=2))


if __name__ == "__main__":
    main()
