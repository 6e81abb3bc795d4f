"""Web Push fan-out: one message alert to a user with 1,000 subscriptions — 1,000 pushes, each
encrypted for its own subscription — through the sender (claim, encrypt, sign, POST, settle) to a fake push service on 127.0.0.1 that only answers 201. The
baseline in the same run: httpx alone posting 1,000 ready bodies to the same service with the
same concurrency — the transport's floor.

    python tests/benchmarks/bench_push.py

Writes tests/benchmarks/results/push.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server import db, demo, sql  # noqa: E402
from server.accounts.tables import User  # noqa: E402
from server.app import create_app  # noqa: E402
from server.push import store  # noqa: E402
from server.push.sender import CONCURRENCY, Sender  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.server.push.fake_push import Phone  # noqa: E402

ALERTS = 1000
RESULTS = Path(__file__).parent / "results"


class Remote:
    """The fake push service in a process of its own, so that it does not share our GIL."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.server.push.fake_push"], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True)
        self.base = self.process.stdout.readline().strip()

    def endpoint(self, name: str) -> str:
        return f"{self.base}/push/{name}"

    def count(self) -> int:
        return int(httpx.get(self.base + "/count").text)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


async def main() -> None:
    logging.disable(logging.WARNING)
    service = Remote()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), secret_key="x" * 32, push_sender=False)
        app = create_app(settings)
        db.configure(settings)
        await db.migrate()
        for hook in app.on_startup:
            await hook()
        now = datetime.now(UTC)
        await demo.seed(now, records=False)
        volunteer = await User.select(User.id, User.organisation).where(User.username == "lotse1").first()
        phones = [Phone(service.endpoint(f"p{n}")) for n in range(ALERTS)]
        engine = app.state.engine
        # 1,000 subscriptions of one user: the alert fans out to all of them, one encryption each.
        async with sql.transaction(engine, write=True) as connection:
            uuid = connection.uuid
            await connection.executemany(
                'INSERT INTO push_subscription (id, organisation, "user", endpoint, p256dh, auth, created_at, failures) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                [[uuid(uuid4()), uuid(volunteer["organisation"]), uuid(volunteer["id"]), p.endpoint,
                  p.subscription()["keys"]["p256dh"], p.subscription()["keys"]["auth"], connection.timestamp(now)] for p in phones])
        async with sql.transaction(engine, write=True) as connection:
            await store.enqueue(connection, volunteer["organisation"], [volunteer["id"]], "message", "/inbox", now)
        sender = Sender(engine, lambda: now, subject="https://lotsenbuch.example")
        await store.current_key(now)
        started = time.perf_counter()
        while await sender.send_due():
            pass
        elapsed = time.perf_counter() - started
        assert service.count() == ALERTS, service.count()

        body = b"x" * 200
        slots = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient() as http:
            async def post(phone):
                async with slots:
                    await http.post(phone.endpoint, content=body, headers={"ttl": "60"})
            started = time.perf_counter()
            await asyncio.gather(*(post(p) for p in phones))
            floor = time.perf_counter() - started
        assert service.count() == 2 * ALERTS
        for hook in app.on_shutdown:
            await hook()
    service.close()
    results = {"pushes per second through the sender": ALERTS / elapsed, "posts per second, httpx alone (baseline)": ALERTS / floor}
    results["ratio to baseline"] = results["pushes per second through the sender"] / results["posts per second, httpx alone (baseline)"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "push.json").write_text(json.dumps(results, indent=2))
    for name, value in results.items():
        print(f"{name:<45} {value:>10,.2f}")


if __name__ == "__main__":
    asyncio.run(main())
