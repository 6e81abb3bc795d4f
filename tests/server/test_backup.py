"""The restore drill of docs/deploy.md: a backup taken while the app runs and writes, put back
into an empty place, holds every entry acknowledged before it and none after it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import POSTGRES_DSN, SECRET, run_blocking
from tests.server.sync.conftest import new_id, phones  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]


def lotsenbuch(*words: str, data_dir: Path, database_url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSENBUCH_", "DATABASE_URL"))}
    env.update(LOTSENBUCH_DATA_DIR=str(data_dir), LOTSENBUCH_SECRET_KEY=SECRET)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "server.cli", *words], cwd=ROOT, env=env, capture_output=True, text=True)


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _bodies(database_url: str) -> set[str]:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        return {row["body"] for row in await connection.fetch("SELECT body FROM note")}
    finally:
        await connection.close()


async def test_a_backup_taken_while_the_app_writes_restores_what_was_acknowledged(app, phones, settings, tmp_path):
    phone = await phones("lotse1")
    await phone.sync(phone.mutation("note", new_id(), {"body": "Vor der Sicherung"}))
    archive = tmp_path / "sicherung.backup"
    made = lotsenbuch("backup", str(archive), data_dir=settings.data_dir, database_url=settings.database_url)
    assert made.returncode == 0, made.stderr
    await phone.sync(phone.mutation("note", new_id(), {"body": "Nach der Sicherung"}))  # the app goes on

    if settings.uses_postgres:
        name = f"lotsenbuch_restore_{os.getpid()}"
        target = urlunsplit(urlsplit(POSTGRES_DSN)._replace(path="/" + name))
        run_blocking(_admin(f'DROP DATABASE IF EXISTS "{name}"'))
        run_blocking(_admin(f'CREATE DATABASE "{name}"'))
        try:
            refused = lotsenbuch("restore", str(archive), data_dir=tmp_path / "elsewhere", database_url=target)
            assert refused.returncode == 1 and "--replace" in refused.stderr
            restored = lotsenbuch("restore", "--replace", str(archive), data_dir=tmp_path / "elsewhere", database_url=target)
            assert restored.returncode == 0, restored.stderr
            assert run_blocking(_bodies(target)) == {"Vor der Sicherung"}
            checked = lotsenbuch("check", data_dir=tmp_path / "elsewhere", database_url=target)
        finally:
            run_blocking(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        elsewhere = tmp_path / "elsewhere"
        restored = lotsenbuch("restore", str(archive), data_dir=elsewhere, database_url=None)
        assert restored.returncode == 0, restored.stderr
        with sqlite3.connect(elsewhere / "lotsenbuch.sqlite3") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert {body for (body,) in copy.execute("SELECT body FROM note")} == {"Vor der Sicherung"}
        again = lotsenbuch("restore", str(archive), data_dir=elsewhere, database_url=None)
        assert again.returncode == 1 and "--replace" in again.stderr  # nothing is overwritten unasked
        checked = lotsenbuch("check", data_dir=elsewhere, database_url=None)
    assert checked.returncode == 0 and "migrations: all applied" in checked.stdout, checked.stderr


def test_a_damaged_backup_is_refused_with_a_sentence(tmp_path):
    broken = tmp_path / "kaputt.backup"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    answer = lotsenbuch("restore", str(broken), data_dir=tmp_path / "data", database_url=None)
    assert answer.returncode == 1 and "lotsenbuch:" in answer.stderr and "kaputt.backup" in answer.stderr
    assert not (tmp_path / "data" / "lotsenbuch.sqlite3").exists()


