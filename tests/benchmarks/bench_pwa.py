"""The phone app in Debian's Chromium against `lotsenbuch up --demo` on loopback:

- first visit: bytes over the wire (compressed) for the login page, the signed-in start page and
  the app shell the service worker precaches, icons aside;
- offline reload of the start page, served by the service worker, against an online reload of
  the same page in the same run (the baseline);
- 100 records written offline, then synced in one go, against an empty sync round trip.

    python tests/benchmarks/bench_pwa.py

Prints a table and writes tests/benchmarks/results/pwa.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, _free_port  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RELOADS = 15
PENDING = 100


def start_server(data_dir: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "up", "--demo", "--port", str(port), "--data-dir", data_dir],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def transferred(page, action) -> dict[str, int]:
    """Bytes on the wire per URL (encoded, headers included) while `action` runs."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls, sizes = {}, {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    action()
    page.wait_for_timeout(500)
    cdp.detach()
    return {urls[r]: n for r, n in sizes.items() if r in urls}


def shell_bytes(base: str, seen: set[str]) -> dict[str, int]:
    """What the worker's install downloads, as it asks: every shell URL with gzip accepted, and
    for a file the pages already loaded a conditional request (cache: "no-cache"), answered 304."""
    source = httpx.get(base + "/sw.js").text
    shell = json.loads(source.split("const SHELL = ", 1)[1].split(";\n", 1)[0])
    sizes = {}
    with httpx.Client(base_url=base, headers={"accept-encoding": "gzip"}) as http:
        for url in shell:
            headers = {}
            if base + url in seen:
                headers["if-none-match"] = http.get(url).headers.get("etag", "")
            response = http.get(url, headers=headers)
            sizes[url] = response.num_bytes_downloaded + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return sizes


def pack_bytes(page, base: str) -> int:
    """The offline pack the worker fetches in the background after sign-in, gzipped."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=base, cookies=cookies, headers={"accept-encoding": "gzip"}) as http:
        urls = http.get("/offline-pack").json()["urls"]
        total = 0
        for url in urls:
            response = http.get(url)
            total += response.num_bytes_downloaded + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return total


def sign_in(page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("#login", "lotse1")
    page.fill("#password", "demo")
    page.check("#keep")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(base + "/")
    page.wait_for_selector("html[data-app-ready]", state="attached")


def until(page, script: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {script}")
        time.sleep(0.05)


def navigation_ms(page) -> float:
    return page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")


def main() -> None:
    from playwright.sync_api import sync_playwright

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as data_dir, sync_playwright() as playwright:
        server, base = start_server(data_dir)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(**PHONE, locale="de-DE").new_page()
            first = transferred(page, lambda: page.goto(base + "/login"))
            results["first visit: login page, bytes"] = sum(first.values())
            for url, n in sorted(first.items(), key=lambda kv: -kv[1]):
                print(f"  {n:>8,}  {url.removeprefix(base)}")
            start = transferred(page, lambda: sign_in(page, base))
            results["first sign-in: start page and its files, bytes (icons aside)"] = sum(
                n for url, n in start.items() if "/icons/" not in url)
            for url, n in sorted(start.items(), key=lambda kv: -kv[1]):
                print(f"  {n:>8,}  {url.removeprefix(base)}")
            shell = shell_bytes(base, set(first) | set(start))
            results["then in the background: app shell the worker precaches, bytes (icons aside)"] = sum(
                n for url, n in shell.items() if "/icons/" not in url)
            results["then in the background: offline pack pages, bytes"] = pack_bytes(page, base)
            until(page, "navigator.serviceWorker.controller !== null")
            until(page, "caches.keys().then((n) => n.some((x) => x.startsWith('pages-')))")
            page.wait_for_timeout(1000)

            online = []
            for _ in range(RELOADS):
                page.reload()
                online.append(navigation_ms(page))
            page.context.set_offline(True)
            offline = []
            for _ in range(RELOADS):
                page.reload()
                offline.append(navigation_ms(page))
            results["online reload of the start page, ms (baseline, median)"] = statistics.median(online)
            results["offline reload of the start page, ms (median)"] = statistics.median(offline)

            # The offline page carries no session, so the app does not sync on its own there: the
            # timed sync below is the one that sends the records.
            page.goto(base + "/offline")
            page.evaluate(f"""async () => {{
                const store = await import('/static/js/store.js');
                const session = await store.readSession();
                const db = await store.openUserDb(session.user_id);
                for (let i = 0; i < {PENDING}; i++) {{
                    await store.saveEdit(db, 'note', crypto.randomUUID(), {{ body: 'Notiz ' + i, shared: true }});
                }}
                db.close();
            }}""")
            page.context.set_offline(False)
            page.wait_for_timeout(200)
            timed = """async () => { const sync = await import('/static/js/sync.js');
                const t = performance.now(); const summary = await sync.syncNow(); return [performance.now() - t, summary]; }"""
            pending_ms, summary = page.evaluate(timed)
            empty = [page.evaluate(timed)[0] for _ in range(5)]
            results["sync of 100 pending records, ms"] = pending_ms
            results["records applied by that sync"] = summary["applied"]
            results["empty sync round trip, ms (baseline, median of 5)"] = statistics.median(empty)
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=20)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pwa.json").write_text(json.dumps(results, indent=2))
    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:>10,.1f}")
    print(f"offline reload / online reload: {results['offline reload of the start page, ms (median)'] / results['online reload of the start page, ms (baseline, median)']:.2f}")
    print(f"100 pending / empty round trip: {results['sync of 100 pending records, ms'] / results['empty sync round trip, ms (baseline, median of 5)']:.1f}")


if __name__ == "__main__":
    main()
