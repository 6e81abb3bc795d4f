"""The quarterly report over 100,000 visit logs on SQLite: `server.reports.store.figures`, the
whole of what the report page shows, against one raw sqlite3 GROUP BY over the same rows in
the same run (the baseline); and the same quarter drawn as a PDF document.

    python tests/benchmarks/bench_reports.py

Writes tests/benchmarks/results/reports.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server import db, demo  # noqa: E402
from server.accounts.tables import User  # noqa: E402
from server.app import create_app  # noqa: E402
from server.reports import pdf  # noqa: E402
from server.reports.store import figures  # noqa: E402
from server.settings import Settings  # noqa: E402
from sync.schema import PLACE_TYPES  # noqa: E402

LOGS = 100_000
RUNS = 5
RESULTS = Path(__file__).parent / "results"


async def main() -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), secret_key="x" * 32, push_sender=False)
        app = create_app(settings)
        db.configure(settings)
        await db.migrate()
        for hook in app.on_startup:
            await hook()
        now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        await demo.seed(now, records=False)
        people = await User.select(User.id, User.organisation).where(User.role == "volunteer")
        organisation = str(people[0]["organisation"])
        owners = [str(p["id"]) for p in people]
        rng = random.Random(7)
        stamp = str(now)
        rows = [(str(uuid4()), organisation, rng.choice(owners), 1, n + 1, "{}", "{}", stamp, stamp,
                 (date(2025, 7, 1) + timedelta(days=rng.randrange(365))).isoformat(), rng.choice((30, 60, 90, 120)),
                 rng.choice(PLACE_TYPES), round(rng.random() * 20, 1), rng.choice((0, 250, 480)),
                 rng.choice(("submitted", "approved", "approved", "draft")), str(uuid4()) if rng.random() < 0.9 else None)
                for n in range(LOGS)]
        path = settings.sqlite_path
        with sqlite3.connect(path) as raw:
            raw.executemany(
                "INSERT INTO visit_log (id, organisation, owner, version, seq, field_versions, field_authors, created_at, "
                "updated_at, date, duration_minutes, place_type, travel_km, expenses_cents, status, client_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        organisation_id = people[0]["organisation"]
        timings, result = [], None
        for _ in range(RUNS):
            started = time.perf_counter()
            result = await figures(organisation_id, date(2026, 1, 1), date(2026, 3, 31))
            timings.append(time.perf_counter() - started)
        drawing = []
        for _ in range(RUNS):
            started = time.perf_counter()
            document = pdf.report(result, "Musterstadt", "de", now)
            drawing.append(time.perf_counter() - started)
        baseline = []
        with sqlite3.connect(path) as raw:
            for _ in range(RUNS):
                started = time.perf_counter()
                raw.execute("SELECT place_type, COUNT(*) FROM visit_log WHERE organisation = ? AND date >= '2026-01-01' "
                            "AND date <= '2026-03-31' AND status IN ('submitted', 'approved') GROUP BY place_type",
                            (organisation,)).fetchall()
                baseline.append(time.perf_counter() - started)
        for hook in app.on_shutdown:
            await hook()
    results = {"visit logs in the database": LOGS, "of them counted in the quarter": result.visits,
               "quarterly report, ms (median of 5)": statistics.median(timings) * 1000,
               "one raw GROUP BY, ms (baseline, median of 5)": statistics.median(baseline) * 1000,
               "its PDF drawn, ms (median of 5)": statistics.median(drawing) * 1000,
               "PDF size, KB": len(document) / 1024}
    results["ratio to baseline"] = results["quarterly report, ms (median of 5)"] / results["one raw GROUP BY, ms (baseline, median of 5)"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reports.json").write_text(json.dumps(results, indent=2))
    for name, value in results.items():
        print(f"{name:<48} {value:>10,.1f}")


if __name__ == "__main__":
    asyncio.run(main())
