"""The `partnerbot` command: serve, console, tick, db upgrade, org import/export, teams-package."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Coroutine
from datetime import datetime, timezone
from pathlib import Path

from bot.config import ConfigError, load_settings


def _parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _channel_name(value: str) -> str:
    name = value.strip().lstrip("#")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise argparse.ArgumentTypeError(f"not a channel name: {value!r} (letters, digits, . _ -)")
    return name


def _default_user() -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "", getpass.getuser() or "") or "me"
    return name


EXIT_GRACE_SECONDS = 8.0


def _interactive(chat: Coroutine) -> int:
    """Run a console; Ctrl-C leaves it with "Bye." and no traceback (exit status 130). Everything
    the user was told is saved is committed already, so the process leaves within
    EXIT_GRACE_SECONDS even when closing hangs (a PostgreSQL query cancelled mid-way did, under load)."""
    async def until_interrupted() -> None:
        task = asyncio.current_task()

        def interrupted() -> None:
            print("\nBye.", flush=True)
            leave = threading.Timer(EXIT_GRACE_SECONDS, os._exit, (130,))
            leave.daemon = True
            leave.start()
            task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupted)
        await chat

    try:
        asyncio.run(until_interrupted())
    except asyncio.CancelledError:  # Ctrl-C, after "Bye."
        return 130
    except KeyboardInterrupt:  # Ctrl-C before the console was listening for it
        print("\nBye.", flush=True)
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnerbot",
        description="Partnerbot keeps a partnering cadence on Slack, Teams and the terminal. "
                    "With no command: serve when Slack or Teams credentials are set, else the console.")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING… (default INFO; console WARNING)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="HTTP server: Slack /slack/events, Teams /api/messages, /healthz; "
                                 "scheduler and outbox sender")
    console = sub.add_parser("console", help="a local chat in the terminal, no platform needed")
    console.add_argument("--as", dest="user", default=None, help="who you are (default: your login name)")
    console.add_argument("--workspace", default="console", help="workspace name (default: console)")
    console.add_argument("--channel", type=_channel_name, default=None, metavar="NAME",
                         help="type in channel #NAME instead of a direct chat, and see the bot's posts there")
    demo = sub.add_parser("demo", help="a fresh demo database with three weeks of a partnership, and a console "
                                       "on its own clock (`:clock +1d` moves it)")
    demo.add_argument("--as", dest="user", default="ana", choices=["ana", "maria", "dana", "bob"],
                      help="who you are in the story (default ana)")
    demo.add_argument("--file", type=Path, default=Path("partnerbot-demo.db"),
                      help="the SQLite file to (re)create (default partnerbot-demo.db)")
    tick = sub.add_parser("tick", help="run the scheduled work due now once, send what it produces, exit")
    tick.add_argument("--now", type=_parse_now, default=None, help="the instant to run at (ISO-8601)")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply schema migrations")
    org = sub.add_parser("org", help="admins' manager links in bulk")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    org_import = org_sub.add_parser("import", help="set managers from a CSV: platform, workspace, user id, "
                                                   "manager's user id (all or nothing)")
    org_import.add_argument("file", type=Path, metavar="FILE.csv")
    org_sub.add_parser("export", help="the manager links in force, as CSV on stdout")
    package = sub.add_parser("teams-package", help="the Teams app package (manifest and icons) to upload, "
                                                   "from MICROSOFT_APP_ID and PUBLIC_URL")
    package.add_argument("--out", type=Path, default=Path("partnerbot-teams.zip"), metavar="FILE.zip",
                         help="where to write it (default partnerbot-teams.zip)")
    package.add_argument("--name", default="Partnerbot", help="the app's name in Teams, up to 30 characters")
    package.add_argument("--privacy-url", default=None, help="your privacy statement (https; default PUBLIC_URL)")
    package.add_argument("--terms-url", default=None, help="your terms of use (https; default PUBLIC_URL)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"partnerbot: configuration error: {error}", file=sys.stderr)
        return 2
    command = args.command or ("serve" if settings.platform_credentials else "console")
    level = args.log_level or ("WARNING" if command == "console" else "INFO")
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if command == "teams-package":
        return _teams_package(settings, args)

    from bot.wiring import Partnerbot

    if command == "serve":
        from bot.server import serve

        asyncio.run(serve(Partnerbot(settings)))
    elif command == "console":
        from bot.console import run_console

        return _interactive(run_console(Partnerbot(settings), getattr(args, "user", None) or _default_user(),
                                        getattr(args, "workspace", "console"), channel=getattr(args, "channel", None),
                                        dashboard=True))
    elif command == "demo":
        from bot.demo import run_demo

        return _interactive(run_demo(settings, args.file, args.user, dashboard=True))
    elif command == "tick":
        now = args.now
        bot = Partnerbot(settings, clock=(lambda: now)) if now else Partnerbot(settings)
        asyncio.run(_tick(bot))
    elif command == "db":
        asyncio.run(_upgrade(Partnerbot(settings)))
        print("database is at the latest schema")
    elif command == "org":
        from bot.org import org_export, org_import

        bot = Partnerbot(settings)
        return asyncio.run(org_import(bot, args.file) if args.org_command == "import" else org_export(bot))
    return 0


def _teams_package(settings, args: argparse.Namespace) -> int:
    from bot.teams_package import PackageError, build_manifest, write_package

    try:
        manifest = build_manifest(settings, args.name, args.privacy_url, args.terms_url)
        write_package(args.out, manifest)
    except PackageError as error:
        print(f"partnerbot teams-package: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"partnerbot teams-package: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: Teams app {manifest['name']['short']!r} for bot {manifest['bots'][0]['botId']}, "
          f"valid domain {manifest['validDomains'][0]}, manifest {manifest['manifestVersion']}. Upload it in Teams "
          "(Apps > Manage your apps > Upload an app) or in the Teams admin center.")
    return 0


async def _tick(bot) -> None:
    try:
        await bot.upgrade()
        done, sent = await bot.tick()
        work = ", ".join(f"{count} {name}" for name, count in sorted(done.items())) or "nothing due"
        print(f"tick at {bot.clock().isoformat()}: {work}; {sent} message(s) sent")
    finally:
        await bot.close()


async def _upgrade(bot) -> None:
    try:
        await bot.upgrade()
    finally:
        await bot.close()


if __name__ == "__main__":
    sys.exit(main())
