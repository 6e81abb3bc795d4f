"""Hundreds of phones syncing at once against a real server process, then checked record by record.

    python tests/benchmarks/bench_load.py                                # 300 phones, 1 worker, SQLite
    python tests/benchmarks/bench_load.py --workers 2 --postgres postgresql://postgres@127.0.0.1:5432/test

Every volunteer has two phones (a phone and a tablet, say). Before the burst each pair shares a
few notes. Then all phones come online at the same moment (after a meet-up): each pushes 20
mutations — 16 new notes and visit logs, and edits of the 4 shared notes that the pair's other
phone edits too (a share that conflicts or merges) — and pulls until it has everything. Phones
answered 503 wait for Retry-After and send the same mutations again, as the app does.

Afterwards the database is read directly: every acknowledged mutation must be there exactly once
(each created record once, with one revision; each shared note with one revision per applied or
merged edit and one conflict row per conflicting answer). The baseline in the same run: the same
phones each asking `GET /healthz` at the same moment; and the floor of this machine and of the
load generator: the same phones asking a bare Litestar "hello world" (uvicorn, as many workers)
as many times, one after the other, as they asked /api/sync in the burst. Bounded: 127.0.0.1
only, at most 2,000 phones, every request with a timeout, the whole run stopped after
--time-limit seconds.
Writes tests/benchmarks/results/load-<database>-<workers>w.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from bench_pages import start_hello_world, wait_up  # noqa: E402
from tests.e2e.conftest import _free_port  # noqa: E402  the bare Litestar "hello world" both measure against
RESULTS = Path(__file__).parent / "results"
SHARED = 4  # notes each pair of phones edits at once
PASSWORD = "load-test-password"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Phone:
    def __init__(self, base: str, username: str):
        limits = httpx.Limits(max_connections=1)
        self.http = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
        self.username = username
        self.device_id = ""
        self.headers: dict[str, str] = {}
        self.cursor = None
        self.numbers = iter(range(1, 1_000_000))
        self.latencies: list[float] = []
        self.retries = 0
        self.reconnects = 0
        self.errors: list[str] = []
        self.results: list[dict] = []
        self.sent: dict[int, dict] = {}

    async def sign_in(self) -> None:
        await self.http.get("/login")
        self.headers = {"x-csrftoken": self.http.cookies["lotsenbuch-csrf"]}
        answer = await self.http.post("/api/session", headers=self.headers,
                                      json={"login": self.username, "password": PASSWORD, "device_name": "Handy"})
        answer.raise_for_status()
        self.device_id = answer.json()["device_id"]

    def mutation(self, entity: str, record_id: str, fields: dict, base_version: int | None = None) -> dict:
        mutation = {"mutation_id": next(self.numbers), "entity": entity, "id": record_id, "op": "upsert",
                    "base_version": base_version, "fields": fields, "client_time": datetime.now(UTC).isoformat()}
        self.sent[mutation["mutation_id"]] = mutation
        return mutation

    async def sync(self, mutations: list[dict], measure: bool = True) -> dict:
        body = {"device_id": self.device_id, "schema": 1, "cursor": self.cursor, "mutations": mutations}
        for _ in range(10):
            started = time.perf_counter()
            try:
                answer = await self.http.post("/api/sync", json=body, headers=self.headers)
            except httpx.RemoteProtocolError:  # an idle connection the server closed (keep-alive 5 s):
                self.reconnects += 1            # sent again on a new one, as a browser does
                continue
            if measure:
                self.latencies.append(time.perf_counter() - started)
            if answer.status_code == 503:
                self.retries += 1
                await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                continue
            if answer.status_code != 200:
                self.errors.append(f"{answer.status_code} {answer.text[:200]}")
                return {}
            payload = answer.json()
            self.cursor = payload["cursor"]
            self.results += payload["results"]
            return payload
        self.errors.append("still 503 after 10 tries")
        return {}

    async def pull_all(self, measure: bool = True) -> None:
        while (await self.sync([], measure)).get("has_more"):
            pass


def _server(args, port: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(args.log, "w"))


def _wait_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server stopped; see " + str(process.args))
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start within 60 s")


async def _prepare(volunteers: int) -> None:
    """An organisation with its volunteers (pledge signed), written straight into the database."""
    from server import db
    from server.accounts import store
    from server.accounts.passwords import hash_password
    from server.accounts.tables import User
    from server.organisations.store import create_organisation
    from server.settings import Settings

    settings = Settings.from_env()
    db.configure(settings)
    await db.migrate()
    now = datetime.now(UTC)
    organisation_id = await create_organisation("Lasttest", now)
    for n in range(volunteers):
        await store.create_user(organisation_id=organisation_id, username=f"lotse{n}", display_name=f"Lotse {n}",
                                role="volunteer", password=None, now=now)
    hashed = await hash_password(PASSWORD)  # production cost: signing in costs what it costs
    await User.update({User.password_hash: hashed, User.pledge_signed_on: now.date()}).where(User.role == "volunteer")


def _verify(phones: list[Phone]) -> dict:
    """Read the database directly: each acknowledged write is there exactly once — one revision
    for each applied or merged answer, with the version it named, and one conflict row for each
    conflict answered — and nothing is there that nobody was told of."""
    from server import db, sql
    from server.settings import Settings

    engine = db.make_engine(Settings.from_env())
    problems: list[str] = []

    async def read():
        async with sql.transaction(engine, write=False) as connection:
            revisions = [(str(r), int(v)) for r, v in await connection.fetch("SELECT record_id, version FROM revision")]
            conflicts = Counter(str(r) for (r,) in await connection.fetch("SELECT record_id FROM sync_conflict"))
            records = [str(r) for (r,) in await connection.fetch("SELECT id FROM note UNION ALL SELECT id FROM visit_log")]
        return revisions, conflicts, records

    revisions, conflicts, records = asyncio.run(read())
    statuses: Counter = Counter()
    written: Counter = Counter()  # (record, version) acknowledged as applied or merged
    conflicted: Counter = Counter()
    for phone in phones:
        answered = Counter(result["mutation_id"] for result in phone.results)
        problems += [f"{phone.username}: mutation {m} answered {n} times" for m, n in answered.items() if n > 1]
        if set(answered) != set(phone.sent):
            problems.append(f"{phone.username}: {len(set(phone.sent) - set(answered))} mutations without an answer")
        for result in phone.results:
            statuses[result["status"]] += 1
            if result["status"] in ("applied", "merged"):
                written[(result["id"], result["version"])] += 1
            elif result["status"] == "conflict":
                conflicted[result["id"]] += 1
    stored = Counter(revisions)
    problems += [f"{key}: {n} revisions of one version" for key, n in stored.items() if n > 1]
    problems += [f"{key}: acknowledged {n} times" for key, n in written.items() if n > 1]
    problems += [f"{key}: acknowledged but not stored" for key in written if key not in stored]
    problems += [f"{key}: stored but never acknowledged" for key in stored if key not in written]
    problems += [f"{record}: {conflicts[record]} conflicts stored for {n} answered" for record, n in conflicted.items()
                 if conflicts[record] != n]
    if len(records) != len(set(records)) or set(records) != {record for record, _ in written}:
        problems.append(f"{len(records)} records stored, {len({r for r, _ in written})} acknowledged")
    return {"statuses": dict(statuses), "problems": problems}


def _server_pids(server_pid: int) -> list[int]:
    """uvicorn's own process (the worker when there is one) and its worker processes."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [server_pid, *map(int, children)]


def _rss_mb(server_pid: int) -> float:
    """Resident memory of the largest process: the worker (the supervisor of several is smaller)."""
    sizes = []
    for pid in _server_pids(server_pid):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return max(sizes)


async def _burst(phones: list[Phone], base_ids: dict[str, list[str]], mutations: int) -> float:
    start = asyncio.Event()

    async def one(index: int, phone: Phone) -> None:
        rng = random.Random(index)
        batch = []
        for n in range(mutations - SHARED):
            if n % 2:
                batch.append(phone.mutation("note", str(uuid.uuid4()), {"body": f"Notiz {n} von {phone.username}"}))
            else:
                batch.append(phone.mutation("visit_log", str(uuid.uuid4()), {
                    "date": "2026-11-20", "start_time": "09:30", "duration_minutes": rng.choice((30, 60, 90)),
                    "place_type": "jobcenter", "outcome": f"Termin {n} wahrgenommen.", "status": "submitted"}))
        for record_id in base_ids[phone.username]:
            batch.append(phone.mutation("note", record_id, {"body": f"Geändert auf Gerät {index % 2}: {rng.random()}"}, 1))
        await start.wait()
        await phone.sync(batch)
        await phone.pull_all()

    tasks = [asyncio.create_task(one(i, phone)) for i, phone in enumerate(phones)]
    await asyncio.sleep(0.5)
    print("the burst starts", file=sys.stderr, flush=True)  # for a profiler to attach to the server
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - started


async def _baseline(phones: list[Phone]) -> list[float]:
    start, latencies = asyncio.Event(), []

    async def one(phone: Phone) -> None:
        await start.wait()
        began = time.perf_counter()
        try:
            answer = await phone.http.get("/healthz")
        except httpx.RemoteProtocolError:  # the idle connection was closed: a new one
            began = time.perf_counter()
            answer = await phone.http.get("/healthz")
        answer.raise_for_status()
        latencies.append(time.perf_counter() - began)

    tasks = [asyncio.create_task(one(phone)) for phone in phones]
    await asyncio.sleep(0.2)
    start.set()
    await asyncio.gather(*tasks)
    return latencies


async def _hello_burst(base: str, requests: list[int]) -> tuple[list[float], float]:
    """The floor of the machine and the load generator: as many phones as in the burst, each
    asking a bare Litestar "hello world" as many times, one after the other, as it asked
    /api/sync in the burst, all at the same moment."""
    clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1)) for _ in requests]
    start, latencies = asyncio.Event(), []

    async def one(http: httpx.AsyncClient, count: int) -> None:
        await start.wait()
        for _ in range(count):
            began = time.perf_counter()
            (await http.get("/")).raise_for_status()
            latencies.append(time.perf_counter() - began)

    try:
        await asyncio.gather(*(http.get("/") for http in clients))  # connected, as the phones were
        tasks = [asyncio.create_task(one(http, count)) for http, count in zip(clients, requests)]
        await asyncio.sleep(0.5)
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        return latencies, time.perf_counter() - began
    finally:
        for http in clients:
            await http.aclose()


def _hello_world(args, requests: list[int]) -> dict:
    """The same burst against a bare Litestar "hello world" on uvicorn with as many workers."""
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        server = start_hello_world(folder, port, args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/", server)
            latencies, burst = asyncio.run(_hello_burst(base, requests))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"hello world, same burst: requests": len(latencies), "hello world, same burst: s": round(burst, 2),
            "hello world, same burst: p99 ms": round(percentile(latencies, 0.99) * 1000, 1)}


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far (utime and stime of /proc/PID/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _database_cpu() -> float:
    """CPU time so far of this machine's PostgreSQL processes (0 where none can be read)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().split(" (", 1)[1].startswith("postgres)"):
                total += _cpu_seconds([int(stat.parent.name)])
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            pass
    return total


async def _run(args, base: str, server_pid: int) -> dict:
    volunteers = args.phones // 2
    phones = [Phone(base, f"lotse{n // 2}") for n in range(volunteers * 2)]
    gate = asyncio.Semaphore(8)  # signing in is Argon2 at full cost: a few at a time, not timed

    async def sign_in(phone: Phone) -> None:
        async with gate:
            await phone.sign_in()

    began = time.perf_counter()
    await asyncio.gather(*(sign_in(phone) for phone in phones))
    signing_in = time.perf_counter() - began
    shared: dict[str, list[str]] = {}
    for first, second in zip(phones[::2], phones[1::2]):  # the pair's shared notes, made and seen by both
        ids = [str(uuid.uuid4()) for _ in range(SHARED)]
        await first.sync([first.mutation("note", record_id, {"body": "Gemeinsame Notiz"}) for record_id in ids], measure=False)
        shared[first.username] = ids
        await second.pull_all(measure=False)
    await asyncio.gather(*(phone.pull_all(measure=False) for phone in phones[::2]))
    baseline = await _baseline(phones)
    server_cpu, own_cpu, database_cpu = _cpu_seconds(_server_pids(server_pid)), time.process_time(), _database_cpu()
    burst = await _burst(phones, shared, args.mutations)
    server_cpu, own_cpu = _cpu_seconds(_server_pids(server_pid)) - server_cpu, time.process_time() - own_cpu
    database_cpu = _database_cpu() - database_cpu
    for phone in phones:
        await phone.http.aclose()
    latencies = [value for phone in phones for value in phone.latencies]
    return {
        "phones": len(phones), "mutations per phone": args.mutations, "signing in, s (8 at a time)": round(signing_in, 1),
        "burst, s": round(burst, 2), "server CPU in the burst, s": round(server_cpu, 2),
        "load generator CPU in the burst, s": round(own_cpu, 2),
        "PostgreSQL's processes' CPU in the burst, s": round(database_cpu, 2) if args.postgres else None, "sync requests": len(latencies),
        "sync p50 ms": round(statistics.median(latencies) * 1000, 1),
        "sync p95 ms": round(percentile(latencies, 0.95) * 1000, 1),
        "sync p99 ms": round(percentile(latencies, 0.99) * 1000, 1),
        "baseline /healthz p99 ms": round(percentile(baseline, 0.99) * 1000, 1),
        "errors": sum(len(phone.errors) for phone in phones), "503 retried": sum(phone.retries for phone in phones),
        "sent again after a closed idle connection": sum(phone.reconnects for phone in phones),
        "first errors": [error for phone in phones for error in phone.errors][:5], "_phones": phones,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--mutations", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL DSN; a database of its own is made there and dropped")
    parser.add_argument("--time-limit", type=float, default=600)
    parser.add_argument("--log", default=str(Path(tempfile.gettempdir()) / "lotsenbuch-load-server.log"))
    args = parser.parse_args()
    if not 2 <= args.phones <= 2000 or args.mutations <= SHARED:
        raise SystemExit("--phones must be 2 to 2,000 and --mutations more than 4")
    if args.workers > 1 and not args.postgres:
        raise SystemExit("several workers need PostgreSQL (--postgres)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
        env.update(LOTSENBUCH_DATA_DIR=data_dir, LOTSENBUCH_BASE_URL=base, LOTSENBUCH_COOKIE_SECURE="false",
                   LOTSENBUCH_LOG_LEVEL="WARNING")
        admin_dsn = args.postgres
        if admin_dsn:
            name = f"lotsenbuch_load_{os.getpid()}"
            env["DATABASE_URL"] = urlunsplit(urlsplit(admin_dsn)._replace(path="/" + name))
            subprocess.run(["psql", admin_dsn, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        os.environ.update(env)
        server = None
        try:
            asyncio.run(_prepare(args.phones // 2))
            server = _server(args, port, env)
            _wait_up(base, server)
            results = asyncio.run(asyncio.wait_for(_run(args, base, server.pid), args.time_limit))
            results["server RSS after the run, MB (largest worker)"] = round(_rss_mb(server.pid), 1)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
        phones = results.pop("_phones")
        checked = _verify(phones)
        results.update(_hello_world(args, [len(phone.latencies) for phone in phones]))
        results["sync p99 / hello world p99"] = round(results["sync p99 ms"] / results["hello world, same burst: p99 ms"], 1)
        if admin_dsn:
            subprocess.run(["psql", admin_dsn, "-qc", f'DROP DATABASE "{name}" WITH (FORCE)'], check=True)
    results["answers"] = checked["statuses"]
    results["lost or duplicated"] = len(checked["problems"])
    results["first problems"] = checked["problems"][:5]
    results["database"] = "postgresql" if args.postgres else "sqlite"
    results["workers"] = args.workers
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"load-{results['database']}-{args.workers}w.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:<48} {value}")
    if results["errors"] or results["lost or duplicated"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
