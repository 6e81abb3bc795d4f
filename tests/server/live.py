"""A real `lotsenbuch serve` on 127.0.0.1 for tests that need one process per server (crash, API fuzzing).

The data directory is prepared as an operator would: `lotsenbuch migrate`, then `lotsenbuch demo`.
Servers are forked from a parent that has imported the application once, so a restart costs the
start of the app (about 0.3 s) instead of Python's imports (about 3 s on these machines); each
child runs exactly what `lotsenbuch serve` runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

# The parent: imports once, then forks a `lotsenbuch serve` per "serve" line and reaps on "reap".
FORKER = """
import os, sys
import server.app, uvicorn  # noqa: F401  (imported once, shared by every child)
from server import cli
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
for line in sys.stdin:
    command, argument = line.split()
    if command == "serve":
        pid = os.fork()
        if pid == 0:
            os.dup2(log, 1)
            os.dup2(log, 2)
            os._exit(cli.main(["serve", "--host", "127.0.0.1", "--port", argument]))
        print(pid, flush=True)
    elif command == "reap":
        os.waitpid(int(argument), 0)
        print("reaped", flush=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """One data directory (or PostgreSQL database) and the server processes started on it."""

    def __init__(self, folder: Path, database_url: str | None = None):
        self.folder = folder
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "server.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
        self.env.update(LOTSENBUCH_DATA_DIR=str(folder / "data"), LOTSENBUCH_BASE_URL=self.base_url,
                        LOTSENBUCH_COOKIE_SECURE="false", LOTSENBUCH_LOG_LEVEL="WARNING", LOTSENBUCH_PUSH_SENDER="false",
                        LOTSENBUCH_SYNC_PUSHES_PER_MINUTE="100000")  # the crash test pushes without pause
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.forker: subprocess.Popen | None = None
        self.pid: int | None = None

    @property
    def sqlite_file(self) -> Path:
        return self.folder / "data" / "lotsenbuch.sqlite3"

    def prepare(self) -> None:
        """Migrate and seed the demo organisation with the `lotsenbuch` command."""
        for command in (["migrate"], ["demo"]):
            done = subprocess.run([sys.executable, "-m", "server.cli", *command], cwd=ROOT, env=self.env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr

    def __enter__(self) -> LiveServer:
        self.forker = subprocess.Popen([sys.executable, "-c", FORKER, str(self.log_path)], cwd=ROOT, env=self.env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc_info) -> None:
        if self.pid is not None:
            self.kill()
        assert self.forker is not None and self.forker.stdin is not None
        self.forker.stdin.close()
        self.forker.wait(timeout=20)
        if self.forker.stdout is not None:
            self.forker.stdout.close()

    def _tell(self, command: str, argument: object) -> str:
        assert self.forker is not None and self.forker.stdin is not None and self.forker.stdout is not None
        self.forker.stdin.write(f"{command} {argument}\n")
        self.forker.stdin.flush()
        return self.forker.stdout.readline().strip()

    def start(self, timeout: float = 60) -> None:
        """Start a server and wait until /healthz answers."""
        self.pid = int(self._tell("serve", self.port))
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("the server did not start:\n" + self.log_path.read_text())
            time.sleep(0.02)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.pid is not None
        os.kill(self.pid, sig)
        self._tell("reap", self.pid)
        self.pid = None


def sign_in_device(http: httpx.Client, username: str = "lotse1", password: str = "demo") -> tuple[str, dict]:
    """Sign a client in as a device, as the phone does; returns its device id and the CSRF header."""
    http.get("/login")
    csrf = next(value for name, value in http.cookies.items() if name.endswith("csrf"))
    headers = {"x-csrftoken": csrf}
    response = http.post("/api/session", json={"login": username, "password": password, "device_name": "Handy"},
                         headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["device_id"], headers
