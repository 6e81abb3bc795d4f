"""Backups while the app runs, and putting one back (docs/deploy.md).

SQLite: the sqlite3 online backup API copies a consistent snapshot page by page while the app
keeps writing; the copy is checked with `PRAGMA integrity_check` before it takes the file's name.
PostgreSQL: `pg_dump --format=custom` and `pg_restore`, which must be on the PATH.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from server.settings import Settings


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


def backup(settings: Settings, target: Path) -> str:
    """Write a backup to `target`; returns a sentence describing it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if settings.uses_postgres:
        _run("pg_dump", "--format=custom", "--no-owner", f"--file={target}", settings.database_url or "")
        return f"PostgreSQL dump written to {target} ({target.stat().st_size:,} bytes)."
    source = settings.sqlite_path
    if not source.exists():
        raise BackupError(f"There is no database at {source}; check LOTSENBUCH_DATA_DIR.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as live, contextlib.closing(sqlite3.connect(partial)) as copy:
        live.backup(copy, pages=1024)  # in steps: the app's writers wait at most one step
    _require_intact(partial)
    os.replace(partial, target)
    return f"SQLite backup written to {target} ({target.stat().st_size:,} bytes, integrity ok)."


def restore(settings: Settings, source: Path, replace: bool) -> str:
    """Put a backup back. The app must be stopped; an existing database is replaced only when asked."""
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    if settings.uses_postgres:
        if not replace:
            raise BackupError("Restoring into PostgreSQL replaces what is there: add --replace to confirm.")
        _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
             f"--dbname={settings.database_url}", str(source))
        return f"PostgreSQL database restored from {source}."
    _require_intact(source)
    target = settings.sqlite_path
    if target.exists() and not replace:
        raise BackupError(f"{target} exists: stop the app and add --replace to put the backup in its place.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, partial)
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):  # the old file's log is not the backup's
        leftover.unlink(missing_ok=True)
    os.replace(partial, target)
    return f"SQLite database restored from {source} to {target}."


def _require_intact(path: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error}).") from None
    if result != "ok":
        raise BackupError(f"{path} failed its integrity check: {result}.")


def _run(program: str, *arguments: str) -> None:
    if shutil.which(program) is None:
        raise BackupError(f"{program} was not found; install the PostgreSQL client tools of the server's version.")
    done = subprocess.run([program, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{program} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}.")
