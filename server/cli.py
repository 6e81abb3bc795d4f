"""The `lotsenbuch` command: up, serve, migrate, demo, user create, check, vapid rotate, retention run, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from server import db
from server.settings import Settings, SettingsError

ROLES = ("volunteer", "coordinator", "admin")


class CommandError(Exception):
    """A command cannot go on; the message says why in one sentence."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except SettingsError as exc:
        print(f"lotsenbuch: {exc}", file=sys.stderr)
        return 2
    except (CommandError, db.DatabaseError) as exc:
        print(f"lotsenbuch: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotsenbuch", description="Lotsenbuch: the app for volunteer integration guides.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    up = commands.add_parser("up", help="migrate, create secrets, optionally seed demo data, and serve (local use)")
    up.add_argument("--demo", action="store_true", help="seed a demo organisation when the database is empty")
    _serve_options(up, default_host="127.0.0.1")
    up.set_defaults(run=cmd_up)

    serve = commands.add_parser("serve", help="serve in production; refuses to start on unapplied migrations")
    _serve_options(serve, default_host="0.0.0.0")
    serve.add_argument("--workers", type=int, default=1, help="number of worker processes (default 1)")
    serve.set_defaults(run=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    _data_dir_option(migrate)
    migrate.set_defaults(run=cmd_migrate)

    demo = commands.add_parser("demo", help="seed the demo organisation into an empty database")
    _data_dir_option(demo)
    demo.set_defaults(run=cmd_demo)

    vapid = commands.add_parser("vapid", help="the Web Push (VAPID) key of this installation")
    vapid_commands = vapid.add_subparsers(dest="vapid_command", metavar="ACTION", required=True)
    rotate = vapid_commands.add_parser("rotate", help="make a new key; phones subscribe again at their next visit")
    _data_dir_option(rotate)
    rotate.set_defaults(run=cmd_vapid_rotate)

    retention = commands.add_parser("retention", help="the retention schedules of the organisations")
    retention_commands = retention.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = retention_commands.add_parser("run", help="remove now what each organisation's schedule says it no longer keeps")
    _data_dir_option(run)
    run.set_defaults(run=cmd_retention_run)

    backup = commands.add_parser("backup", help="write a backup of the database while the app runs")
    backup.add_argument("file", help="where to write it (SQLite: a database file; PostgreSQL: a pg_dump archive)")
    _data_dir_option(backup)
    backup.set_defaults(run=cmd_backup)

    restore = commands.add_parser("restore", help="put a backup back (stop the app first)")
    restore.add_argument("file", help="a file written by `lotsenbuch backup`")
    restore.add_argument("--replace", action="store_true", help="replace the database that is there")
    _data_dir_option(restore)
    restore.set_defaults(run=cmd_restore)

    user = commands.add_parser("user", help="manage user accounts")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = user_commands.add_parser(
        "create", help="create a user; the password is read from standard input (or asked for on a terminal)"
    )
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--display-name", required=True)
    create.add_argument("--organisation", required=True, help="the organisation's name")
    create.add_argument("--create-organisation", action="store_true", help="create the organisation if it does not exist")
    create.add_argument("--email")
    create.add_argument("--language", default="de", choices=("de", "en"), help="UI language (default de)")
    _data_dir_option(create)
    create.set_defaults(run=cmd_user_create)

    check = commands.add_parser("check", help="check settings, database reachability and migrations")
    _data_dir_option(check)
    check.set_defaults(run=cmd_check)
    return parser


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory (overrides LOTSENBUCH_DATA_DIR)")


def _serve_options(parser: argparse.ArgumentParser, default_host: str) -> None:
    parser.add_argument("--host", default=default_host, help=f"address to listen on (default {default_host})")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    _data_dir_option(parser)


def _settings(args: argparse.Namespace) -> Settings:
    if args.data_dir:
        # Worker processes read the environment, so the flag travels there too.
        os.environ["LOTSENBUCH_DATA_DIR"] = args.data_dir
    return Settings.from_env().with_secret()


def _now():
    from server.clock import system_clock

    return system_clock()


def cmd_migrate(args: argparse.Namespace) -> int:
    db.configure(_settings(args))
    applied = asyncio.run(db.migrate())
    print(f"Applied {len(applied)} migration(s)." if applied else "The database is up to date.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    db.configure(_settings(args))
    asyncio.run(db.require_migrated())
    _print_logins(_seed_demo())
    return 0


def cmd_vapid_rotate(args: argparse.Namespace) -> int:
    from server.push import store

    db.configure(_settings(args))
    asyncio.run(db.require_migrated())
    key = asyncio.run(store.rotate(_now()))
    print(f"New VAPID public key: {key.public_key}\nOld subscriptions were removed; phones subscribe again at their next visit.")
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    from server.privacy import retention

    db.configure(_settings(args))
    asyncio.run(db.require_migrated())
    outcomes = asyncio.run(retention.run_all(_now()))
    for outcome in outcomes:
        print(f"{outcome.organisation_id}: free text of {outcome.texts} visit log(s) and note(s) removed, "
              f"{outcome.clients} inactive client(s) erased.")
    if not outcomes:
        print("No organisation has a retention schedule.")
    return 0


def _seed_demo() -> list[tuple[str, str]]:
    from server import demo

    try:
        return asyncio.run(demo.seed(_now()))
    except demo.DemoRefused as exc:
        raise CommandError(str(exc)) from None


def _print_logins(logins: list[tuple[str, str]]) -> None:
    from server.demo import PASSWORD

    print("Demo logins (password for all: %s):" % PASSWORD)
    for username, role in logins:
        print(f"  {username:<14} {role}")


def cmd_up(args: argparse.Namespace) -> int:
    local_url = f"http://{args.host}:{args.port}"
    # The server reads the environment, so local defaults go there; explicit settings win.
    os.environ.setdefault("LOTSENBUCH_BASE_URL", local_url)
    if not os.environ["LOTSENBUCH_BASE_URL"].startswith("https://"):
        os.environ.setdefault("LOTSENBUCH_COOKIE_SECURE", "false")  # plain-HTTP local use only
    settings = _settings(args)
    db.configure(settings)
    applied = asyncio.run(db.migrate())
    if applied:
        print(f"Applied {len(applied)} migration(s).")
    if args.demo:
        from server import demo

        try:
            _print_logins(asyncio.run(demo.seed(_now())))
        except demo.DemoRefused:
            print("The database already holds data; no demo data was added.")
    print(f"Lotsenbuch runs at {local_url}  (data in {settings.data_dir.resolve()}; stop with Ctrl+C)", flush=True)
    return _run_server(settings, args.host, args.port, workers=1)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.workers < 1:
        raise CommandError("--workers must be at least 1.")
    db.configure(settings)
    asyncio.run(db.require_migrated())
    # What a first start makes (the secret key above, the VAPID key here) is made once, before
    # the workers start, so that they do not race to make two.
    from server.push.store import current_key

    asyncio.run(current_key(_now()))
    return _run_server(settings, args.host, args.port, workers=args.workers)


def _run_server(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    uvicorn.run(
        "server.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
        log_level=settings.log_level.lower(), proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None, server_header=False,
        timeout_graceful_shutdown=5,  # open event streams (/api/sync/events) would hold a stop forever
    )
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from server.accounts.passwords import MIN_PASSWORD_LENGTH
    from server.accounts.store import create_user
    from server.organisations import store as organisations

    db.configure(_settings(args))
    password = _read_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")

    async def create() -> None:
        await db.require_migrated()
        organisation_id = await organisations.find_by_name(args.organisation)
        if organisation_id is None:
            if not args.create_organisation:
                raise CommandError(
                    f"There is no organisation named {args.organisation!r}; add --create-organisation to create it."
                )
            organisation_id = await organisations.create_organisation(args.organisation, _now())
        try:
            await create_user(
                organisation_id=organisation_id, username=args.username, display_name=args.display_name,
                role=args.role, password=password, email=args.email, ui_language=args.language, now=_now(),
            )
        except Exception as exc:
            if "unique" in str(exc).lower():
                raise CommandError("That user name or e-mail address is already taken.") from None
            raise

    asyncio.run(create())
    print(f"Created {args.role} {args.username!r} in {args.organisation!r}.")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise CommandError("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_backup(args: argparse.Namespace) -> int:
    from server import backup

    try:
        print(backup.backup(_settings(args), Path(args.file)))
    except backup.BackupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server import backup

    settings = _settings(args)
    try:
        print(backup.restore(settings, Path(args.file), replace=args.replace))
    except backup.BackupError as exc:
        raise CommandError(str(exc)) from None
    db.configure(settings)
    applied = asyncio.run(db.migrate())  # a backup from an older version is brought up to date
    if applied:
        print(f"Applied {len(applied)} migration(s).")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print("settings: ok")
    engine = db.configure(settings)
    if not asyncio.run(db.ping(engine)):
        raise CommandError("The database cannot be reached; check DATABASE_URL or the data directory.")
    print("database: reachable (%s)" % ("PostgreSQL" if settings.uses_postgres else f"SQLite {settings.sqlite_path}"))
    asyncio.run(db.require_migrated())
    print("migrations: all applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
