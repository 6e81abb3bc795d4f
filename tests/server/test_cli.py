"""The `lotsenbuch` command: every subcommand has --help, and each does what it says."""

import io
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from server import cli, db
from server.settings import Settings

SUBCOMMANDS = [["up"], ["serve"], ["backup"], ["restore"], ["migrate"], ["demo"], ["user"], ["user", "create"], ["check"], ["vapid"], ["vapid", "rotate"], ["retention"], ["retention", "run"]]


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LOTSENBUCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "LOTSENBUCH_SECRET_KEY", "LOTSENBUCH_BASE_URL", "LOTSENBUCH_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "data"


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_has_help(words, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([*words, "--help"])
    assert done.value.code == 0
    assert "usage: lotsenbuch" in capsys.readouterr().out


def test_migrate_then_check(data_env, capsys):
    assert cli.main(["check"]) == 1
    assert "lotsenbuch migrate" in capsys.readouterr().err
    assert cli.main(["migrate"]) == 0
    assert "Applied" in capsys.readouterr().out
    assert cli.main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert cli.main(["check"]) == 0
    assert "migrations: all applied" in capsys.readouterr().out
    assert (data_env / "secret_key").exists()


def test_serve_refuses_unapplied_migrations_with_a_sentence(data_env, capsys):
    assert cli.main(["serve", "--port", "1"]) == 1
    assert "run `lotsenbuch migrate` first" in capsys.readouterr().err


def test_an_invalid_setting_stops_the_command(data_env, monkeypatch, capsys):
    monkeypatch.setenv("LOTSENBUCH_LOG_LEVEL", "LOUD")
    assert cli.main(["check"]) == 2
    assert "LOTSENBUCH_LOG_LEVEL must be one of" in capsys.readouterr().err


def test_demo_seeds_an_empty_database_only(data_env, capsys):
    cli.main(["migrate"])
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    for username in ("koordination", "lotse1", "lotse2", "admin"):
        assert username in out
    assert cli.main(["demo"]) == 1
    assert "already holds data" in capsys.readouterr().err


def test_vapid_rotate_makes_a_new_key(data_env, capsys):
    cli.main(["migrate"])
    assert cli.main(["vapid", "rotate"]) == 0
    first = capsys.readouterr().out.split("New VAPID public key: ")[1].split()[0]
    assert cli.main(["vapid", "rotate"]) == 0
    second = capsys.readouterr().out.split("New VAPID public key: ")[1].split()[0]
    assert first != second and len(second) == 87  # 65 bytes, URL-safe base64 without padding


def test_user_create_reads_the_password_from_stdin(data_env, monkeypatch, capsys):
    cli.main(["migrate"])
    args = ["user", "create", "--role", "admin", "--username", "Root", "--display-name", "Root Admin",
            "--organisation", "Landkreis Beispiel"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert cli.main(args) == 1
    assert "--create-organisation" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert cli.main([*args, "--create-organisation"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert cli.main(args) == 1
    assert "already taken" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main([*args[:5], "other", *args[6:], "--create-organisation"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err

    async def can_sign_in() -> bool:
        from server.accounts.store import authenticate

        db.configure(Settings.from_env())
        return await authenticate("root", "correct horse battery") is not None

    import asyncio

    assert asyncio.run(can_sign_in())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
    return {**env, **extra}


def test_serve_runs_several_workers_that_share_sessions(tmp_path):
    """Sessions live in the database, so a login on one worker holds on the other."""
    data = str(tmp_path / "d")
    env = _clean_env(LOTSENBUCH_DATA_DIR=data, LOTSENBUCH_COOKIE_SECURE="false")
    subprocess.run([sys.executable, "-m", "server.cli", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "server.cli", "demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, process)
        with httpx.Client(base_url=base) as http:
            http.get("/login")
            token = http.cookies["lotsenbuch-csrf"]
            assert http.post("/login", data={"login": "lotse2", "password": "demo", "_csrf_token": token}).status_code == 303
            # Fresh connections each time, so both workers answer some of them.
            for _ in range(10):
                cookies = dict(http.cookies)
                assert httpx.get(f"{base}/api/me", cookies=cookies).json()["username"] == "lotse2"
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert len(set(re.findall(r"Started server process \[(\d+)\]", output))) == 2, output


def test_up_demo_serves_the_app_with_demo_logins(tmp_path):
    """The README's first command, for real: a process that migrates, seeds and serves."""
    port = _free_port()
    env = _clean_env()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "up", "--demo", "--port", str(port), "--data-dir", str(tmp_path / "d")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, process)
        with httpx.Client(base_url=base) as http:
            assert "Lotsenbuch" in http.get("/").text
            token = http.cookies["lotsenbuch-csrf"]
            response = http.post("/login", data={"login": "lotse1", "password": "demo", "_csrf_token": token})
            assert response.status_code == 303
            assert "Amina Haddad" in http.get("/").text
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "koordination" in output and f"http://127.0.0.1:{port}" in output


def test_retention_run_applies_every_schedule_at_once(data_env, capsys):
    import sqlite3

    cli.main(["migrate"])
    assert cli.main(["retention", "run"]) == 0
    assert "No organisation has a retention schedule." in capsys.readouterr().out
    cli.main(["demo"])
    with sqlite3.connect(data_env / "lotsenbuch.sqlite3") as connection:
        [(organisation,)] = connection.execute("SELECT id FROM organisation").fetchall()
        connection.execute("INSERT INTO retention_policy (organisation, log_text_months) VALUES (?, 1)", (organisation,))
    capsys.readouterr()
    assert cli.main(["retention", "run"]) == 0
    assert f"{organisation}: free text of" in capsys.readouterr().out
    with sqlite3.connect(data_env / "lotsenbuch.sqlite3") as connection:
        assert connection.execute("SELECT last_run_at FROM retention_policy").fetchone()[0] is not None
