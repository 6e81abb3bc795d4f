"""Page speed under load: the volunteer's start page and the coordinator's review queue, served
by one worker on SQLite with the demo data, against a bare Litestar "hello world" on uvicorn
measured in the same run (the baseline).

    python tests/benchmarks/bench_pages.py [--seconds 10] [--connections 32]

The load comes from `wrk` (Debian: apt-get install wrk), which costs the two cores far less than
a Python client; without it, an asyncio + httpx client is used and the table says so. Each page
is asked by a signed-in session (its cookie), gzip accepted as a phone's browser does.
127.0.0.1 only, bounded in time. Writes tests/benchmarks/results/pages.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import _free_port  # noqa: E402
RESULTS = Path(__file__).parent / "results"
HELLO = '''
from litestar import Litestar, get

@get("/", sync_to_thread=False)
def hello() -> str:
    return "Hello, world!"

app = Litestar([hello])
'''


def wait_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} stopped")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within 60 s")


def start_hello_world(folder: str, port: int, workers: int = 1) -> subprocess.Popen:
    """The baseline: HELLO written into `folder` and served by uvicorn on 127.0.0.1:`port`."""
    (Path(folder) / "hello_app.py").write_text(HELLO)
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "hello_app:app", "--app-dir", folder, "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
                            stdout=subprocess.DEVNULL)


def _signed_in(base: str, username: str) -> str:
    """The Cookie header of a browser session of one demo person."""
    with httpx.Client(base_url=base) as http:
        http.get("/login")
        answer = http.post("/login", data={"login": username, "password": "demo"},
                           headers={"x-csrftoken": http.cookies["lotsenbuch-csrf"]})
        assert answer.status_code == 303, answer.text
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _wrk(url: str, cookie: str, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", "Accept-Encoding: gzip"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return {"requests/s": rps, "p99 ms": float(p99.group(1)) * scale, "non-2xx": int(bad.group(1)) if bad else 0,
            "socket errors": errors.group(0) if errors else ""}


def _python_client(url: str, cookie: str, seconds: int, connections: int) -> dict:
    async def run() -> dict:
        done, bad, latencies = 0, 0, []
        ends = time.monotonic() + seconds
        headers = {"accept-encoding": "gzip", **({"cookie": cookie} if cookie else {})}

        async def worker(http: httpx.AsyncClient) -> None:
            nonlocal done, bad
            while time.monotonic() < ends:
                began = time.perf_counter()
                answer = await http.get(url, headers=headers)
                latencies.append(time.perf_counter() - began)
                done, bad = done + 1, bad + (answer.status_code != 200)

        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=connections)) as http:
            await asyncio.gather(*(worker(http) for _ in range(connections)))
        latencies.sort()
        return {"requests/s": done / seconds, "p99 ms": latencies[int(0.99 * len(latencies))] * 1000, "non-2xx": bad,
                "socket errors": ""}

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    load = _wrk if shutil.which("wrk") else _python_client
    processes = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            hello_port, port = _free_port(), _free_port()
            processes.append(start_hello_world(folder, hello_port))
            env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
            base = f"http://127.0.0.1:{port}"
            env.update(LOTSENBUCH_DATA_DIR=str(Path(folder) / "data"), LOTSENBUCH_BASE_URL=base,
                       LOTSENBUCH_COOKIE_SECURE="false", LOTSENBUCH_LOG_LEVEL="WARNING")
            cli = [sys.executable, "-m", "server.cli"]
            subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            subprocess.run([*cli, "demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            processes.append(subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_up(f"http://127.0.0.1:{hello_port}/", processes[0])
            wait_up(base + "/healthz", processes[1])
            pages = {"hello world (baseline)": (f"http://127.0.0.1:{hello_port}/", ""),
                     # the app's own floor: every middleware, no database, no template
                     "the app's /healthz, signed in": (base + "/healthz", _signed_in(base, "lotse2")),
                     "volunteer start page /": (base + "/", _signed_in(base, "lotse1")),
                     "coordinator review queue /review": (base + "/review", _signed_in(base, "koordination"))}
            for url, cookie in pages.values():  # warm up: templates compiled, connections open
                load(url, cookie, 1, 4)
            results = {name: load(url, cookie, args.seconds, args.connections) for name, (url, cookie) in pages.items()}
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
    baseline = results["hello world (baseline)"]["requests/s"]
    for figures in results.values():
        figures["share of hello world"] = round(figures["requests/s"] / baseline, 3)
    results["load generator"] = "wrk" if load is _wrk else "asyncio + httpx"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pages.json").write_text(json.dumps(results, indent=2))
    print(f"load from {results['load generator']}, {args.connections} connections, {args.seconds} s each")
    for name, figures in results.items():
        if isinstance(figures, dict):
            print(f"{name:<36} {figures['requests/s']:>9,.0f} req/s  p99 {figures['p99 ms']:>7.1f} ms  "
                  f"{figures['share of hello world']:>6.1%} of hello world  non-2xx {figures['non-2xx']}")


if __name__ == "__main__":
    main()
