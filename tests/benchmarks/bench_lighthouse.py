"""Lighthouse (npm `lighthouse`, Debian's Chromium) against `lotsenbuch up --demo` on loopback:
accessibility and best-practices scores of the start page (signed out, and signed in as a
volunteer) and of the visit-log form, in German and in Arabic. The issue asks for at least 95.

    python tests/benchmarks/bench_lighthouse.py

Lighthouse is installed with npm into LIGHTHOUSE_DIR (default ~/.cache/lotsenbuch-lighthouse,
outside the repository) when it is not there yet, and run with npx from there. For the signed-in
pages the volunteer signs in on the login page of a Chromium started here (ticking "this is my
own phone", as on a phone) and Lighthouse attaches to that browser with --port: the session then
sits in the browser's cookie jar, where the service worker's own requests find it too. (The
session cookie passed with --extra-headers reaches only the page's requests; the worker's sync
is then answered 401/403 and Lighthouse counts those as console errors of the app.)
Prints a table, the audits that cost points, and writes tests/benchmarks/results/lighthouse.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_pwa import start_server  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port  # noqa: E402

RESULTS = Path(__file__).parent / "results"
LIGHTHOUSE_DIR = Path(os.environ.get("LIGHTHOUSE_DIR", Path.home() / ".cache" / "lotsenbuch-lighthouse"))
LIGHTHOUSE_VERSION = "13"
CATEGORIES = ("accessibility", "best-practices")
AUDITS = ("network-requests",)  # run besides the categories: shows whether the page was the signed-in one
PAGES = [  # (name, path, who signs in)
    ("start page, signed out", "/", None),
    ("start page", "/", "lotse1"),
    ("visit-log form", "/visits/form", "lotse1"),
]


def ensure_lighthouse() -> None:
    if not (LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse").exists():
        LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(LIGHTHOUSE_DIR),
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True)


@contextmanager
def signed_in_chromium(base: str, username: str, language: str):
    """A headless Chromium with a remote-debugging port, signed in as `username` with that UI language."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with tempfile.TemporaryDirectory() as profile:
        chromium = subprocess.Popen(
            [CHROMIUM, "--headless=new", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
             *CHROMIUM_ARGS, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with sync_playwright() as playwright:
                browser = _connect(playwright, port)
                page = browser.contexts[0].new_page()
                page.goto(base + "/login")
                page.locator("#login").fill(username)
                page.locator("#password").fill("demo")
                page.locator("#keep").check()
                page.locator("#login-form button[type=submit]").click()
                page.wait_for_url(base + "/")
                page.goto(base + "/profile")
                page.locator("#ui_language").select_option(language)
                page.locator("#profile-form button[type=submit]").click()
                page.wait_for_function("code => document.documentElement.lang === code", arg=language)
                page.close()
                browser.close()  # disconnects; the browser and its cookies stay
            yield port
        finally:
            chromium.terminate()
            chromium.wait(timeout=20)


def _connect(playwright, port: int):
    for _ in range(100):
        try:
            return playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        except Exception:  # not listening yet
            time.sleep(0.1)
    raise RuntimeError("Chromium did not open its debugging port")


def lighthouse(url: str, locale: str, port: int | None = None) -> dict:
    """One Lighthouse run: in a Chromium of its own, or in the one listening on `port`."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            "npx", "--no-install", "lighthouse", url, "--quiet", "--output=json", f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}", f"--only-audits={','.join(AUDITS)}", f"--locale={locale}",
        ]
        if port:
            command.append(f"--port={port}")
        else:
            command += [
                "--chrome-flags=--headless=new " + " ".join(CHROMIUM_ARGS) + f" --lang={locale} --user-data-dir={folder}/profile",
                "--extra-headers=" + json.dumps({"Accept-Language": locale}),
            ]
        env = {**os.environ, "CHROME_PATH": CHROMIUM}
        subprocess.run(command, cwd=LIGHTHOUSE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
        return json.loads(report.read_text())


def summary(report: dict) -> dict:
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    lost = sorted(
        {ref["id"] for name in CATEGORIES for ref in report["categories"][name]["auditRefs"]
         if ref["weight"] and (report["audits"][ref["id"]]["score"] is not None)
         and report["audits"][ref["id"]]["score"] < 1}
    )
    console = [item.get("description", "") for item in report["audits"]["errors-in-console"].get("details", {}).get("items", [])]
    return {**scores, "audits_losing_points": lost, "console_errors": console}


def main() -> None:
    ensure_lighthouse()
    rows = []
    with tempfile.TemporaryDirectory() as data:
        process, base = start_server(data)
        try:
            for locale in ("de", "ar"):
                for name, path, who in PAGES:
                    if who:
                        with signed_in_chromium(base, who, locale) as port:
                            report = lighthouse(base + path, locale, port)
                    else:
                        report = lighthouse(base + path, locale)
                    shown = report.get("finalDisplayedUrl") or report.get("finalUrl")
                    assert shown == base + path, f"{name}: Lighthouse ended at {shown}, not {base + path}"
                    loaded = {item["url"] for item in report["audits"]["network-requests"]["details"]["items"]}
                    assert (base + "/static/js/app.js" in loaded) == bool(who), f"{name}: signed in or not?"
                    rows.append({"page": name, "path": path, "locale": locale, **summary(report)})
        finally:
            process.terminate()
            process.wait(timeout=20)
    version = subprocess.run(["npx", "--no-install", "lighthouse", "--version"], cwd=LIGHTHOUSE_DIR,
                             capture_output=True, text=True).stdout.strip()
    print(f"Lighthouse {version}, Chromium at {CHROMIUM}, mobile emulation (the default)")
    print(f"{'page':<24} {'lang':<4} {'a11y':>5} {'best':>5}  audits losing points")
    for row in rows:
        print(f"{row['page']:<24} {row['locale']:<4} {row['accessibility']:>5} {row['best-practices']:>5}  "
              f"{', '.join(row['audits_losing_points']) or '-'}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lighthouse.json").write_text(json.dumps({"lighthouse": version, "pages": rows}, indent=2))


if __name__ == "__main__":
    main()
