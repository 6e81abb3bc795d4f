"""Browser tests: Debian's Chromium driven by Playwright, against a real server process.

They skip with a reason where no Chromium is found; LOTSENBUCH_REQUIRE_BROWSER=1 (set by .ci/run)
turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("LOTSENBUCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ROOT = Path(__file__).resolve().parents[2]


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LOTSENBUCH_CHROMIUM)"
    if os.environ.get("LOTSENBUCH_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; browser tests are required here")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(folder: Path):
    """`lotsenbuch up --demo` on a free port with its data in `folder`, as a user starts it; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
    # The server's log goes to a file: a pipe nobody reads fills up and stops the server mid-run.
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "up", "--demo", "--port", str(port), "--data-dir", str(folder / "data")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not start:\n" + (folder / "server.log").read_text())
        time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory):
    """The demo server shared by the browser tests."""
    with running_server(tmp_path_factory.mktemp("live")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it
    # lives, which would stop the asyncio tests that follow; it must close after its module.
    executable = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context in German, collecting console errors."""
    context = browser.new_context(**PHONE, locale="de-DE")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()
