"""The weekly fan-out at the platform's rate limit: 10,000 managers prompted in one tick.

Builds N managers in N/2 partnerships (inserted with SQL in bulk: the setup is not what is
measured), every manager's weekly peer-sync prompt due at one instant (Monday 09:00 UTC).
Then one weekly tick against a fake Slack Web API that enforces a rate limit: the first
--rate chat.postMessage calls of each second are served, the others get 429 with
`Retry-After`: the time to the next second's window, to the hundredth. Slack itself counts
per minute and sends whole seconds, which costs a sender at most a second a minute; over
one-second windows whole seconds would cost it up to half the limit (every pause would
overshoot the next window), so --whole-seconds shows that, and is not the default.

By default the tick runs in a worker process (this file with --worker) that is what
`partnerbot serve` is: the Partnerbot built from settings, its outbox sender running, and one
scheduler tick (`Partnerbot.run_cadence`) whose outbox rows the sender sends while the tick
goes on; its clock starts at the due instant and runs in real time. That is the deployment
a 10,000-manager organisation runs, and the process can measure its own Python allocations.
With --cli it is the real `partnerbot tick --now …` process instead (cron's way): it writes
every prompt first, then sends them all, so the tick's seconds count against its rate.

Prints: prompts delivered per second (from the tick's start to the last prompt delivered),
the limit, their ratio (goal >= 0.9), how long the tick took to write every prompt to the
outbox, peak memory of the worker (ru_maxrss; with --tracemalloc also the peak of Python
allocations during the tick, which slows the run), duplicates (a manager prompted twice:
must be 0) and missing prompts. Memory should be flat in N: compare --managers 2000 and 10000.

Run from the repository root:

    .venv/bin/python bench/fanout.py [--managers 10000] [--rate 100]
        [--database-url URL | --postgres] [--cli] [--tracemalloc] [--profile FILE]

The database is a fresh SQLite file unless --database-url names an empty one (its schema is
brought to the latest), or --postgres creates a throwaway database on the PostgreSQL server
of the tests (PARTNERBOT_TEST_POSTGRES, else postgres@127.0.0.1:5432) and drops it after.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiohttp import web
from sqlalchemy import func, insert, select, text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Counter,
    Identity,
    OutboxMessage,
    Partnership,
    PartnershipMember,
    Person,
    SyncSeries,
    Workspace,
)

UTC = timezone.utc
DUE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday, 09:00: every prompt's instant
CREATED = DUE - timedelta(days=3)
FIRST_PULSE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # scheduled, so the pulse job has nothing to do
TEAM = "TBENCH"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
GOAL_RATIO = 0.9
ROWS_PER_INSERT = 2000


# ---------------------------------------------------------------------------------------
# Setup: N managers, N/2 partnerships, every weekly prompt due at DUE
# ---------------------------------------------------------------------------------------

async def populate(db: Database, managers: int) -> None:
    pairs = managers // 2
    tables = [
        (Workspace, [{"id": 1, "platform": "slack", "external_id": TEAM, "created_at": CREATED}]),
        (Person, ({"id": i, "workspace_id": 1, "display_name": f"Manager {i}", "timezone": "UTC",
                   "created_at": CREATED} for i in range(1, managers + 1))),
        (Identity, ({"id": i, "workspace_id": 1, "person_id": i, "platform": "slack", "external_id": user_id(i)}
                    for i in range(1, managers + 1))),
        (Partnership, ({"id": p, "workspace_id": 1, "number": p, "name": f"Alliance {p}",
                        "name_key": f"alliance {p}", "created_by_id": 2 * p - 1, "created_at": CREATED,
                        "charter_version": 1, "pulse_next_at": FIRST_PULSE} for p in range(1, pairs + 1))),
        (PartnershipMember, ({"partnership_id": (i + 1) // 2, "person_id": i, "side": "a" if i % 2 else "b",
                              "role": "manager", "added_at": CREATED} for i in range(1, 2 * pairs + 1))),
        (SyncSeries, ({"id": i, "partnership_id": (i + 1) // 2, "person_id": i, "weekday": "mon", "time": "09:00",
                       "timezone": "UTC", "next_run_at": DUE} for i in range(1, 2 * pairs + 1))),
        (Counter, [{"workspace_id": 1, "kind": "P", "value": pairs}]),
    ]
    async with db.engine.begin() as conn:
        for model, rows in tables:
            batch: list[dict] = []
            for row in rows:
                batch.append(row)
                if len(batch) == ROWS_PER_INSERT:
                    await conn.execute(insert(model.__table__), batch)
                    batch = []
            if batch:
                await conn.execute(insert(model.__table__), batch)
        if conn.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for model in (Workspace, Person, Identity, Partnership, SyncSeries):
                table = model.__tablename__
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))


def user_id(i: int) -> str:
    return f"U{i:07d}"


async def prepare(url: str, managers: int) -> float:
    return await prepare_empty(url, lambda db: populate(db, managers), "fanout")


async def prepare_empty(url: str, fill, bench: str) -> float:
    """Migrate the database at `url`, refuse it unless it holds nobody, and `fill(db)` it: the
    seconds the filling took (the benches of this folder share it)."""
    db = Database(url)
    try:
        await upgrade(db)
        async with db.session() as s:
            if (await s.exec(select(func.count()).select_from(Person))).scalar_one():
                sys.exit(f"{bench}: {url} already holds people; give an empty database")
        began = time.perf_counter()
        await fill(db)
        return time.perf_counter() - began
    finally:
        await db.dispose()


# ---------------------------------------------------------------------------------------
# The fake Slack Web API with Slack's kind of rate limit
# ---------------------------------------------------------------------------------------

class RateLimitedSlack:
    """auth.test, conversations.open and chat.postMessage. chat.postMessage is limited to
    `rate` calls per one-second window; the rest get 429 and Retry-After to the next window."""

    def __init__(self, rate: int, whole_seconds: bool = False):
        self.rate = rate
        self.whole_seconds = whole_seconds
        self.origin = time.monotonic()
        self.window, self.in_window = -1, 0
        self.posts: collections.Counter = collections.Counter()  # channel -> prompts delivered
        self.calls: collections.Counter = collections.Counter()  # method (#429) -> calls
        self.first_post = self.last_post = None  # wall time
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/api/"

    async def stop(self) -> None:
        await self._runner.cleanup()

    def _admit(self) -> float | None:
        """None when this call fits in the current window, else the seconds to the next one."""
        elapsed = time.monotonic() - self.origin
        window = int(elapsed)
        if window != self.window:
            self.window, self.in_window = window, 0
        if self.in_window < self.rate:
            self.in_window += 1
            return None
        return window + 1 - elapsed

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = dict(request.query)  # slack_sdk sends some arguments as query parameters
        form.update(await request.json() if request.content_type == "application/json" else await request.post())
        if method == "auth.test":
            self.calls[method] += 1
            return web.json_response({"ok": True, "team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT"})
        if method == "conversations.open":
            self.calls[method] += 1
            return web.json_response({"ok": True, "channel": {"id": f"D{form.get('users')}"}})
        if method != "chat.postMessage":
            return web.json_response({"ok": False, "error": "unknown_method"})
        wait = self._admit()
        if wait is not None:
            self.calls[f"{method}#429"] += 1
            retry_after = str(max(1, math.ceil(wait))) if self.whole_seconds else f"{math.ceil(wait * 100) / 100:.2f}"
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": retry_after})
        self.calls[method] += 1
        channel = form.get("channel")
        self.posts[channel] += 1
        now = time.time()
        self.first_post = self.first_post or now
        self.last_post = now
        return web.json_response({"ok": True, "channel": channel, "ts": f"{now:.6f}"})


# ---------------------------------------------------------------------------------------
# The worker: `serve`'s Partnerbot, one tick, its sender, until nothing is pending
# ---------------------------------------------------------------------------------------

async def pending(db: Database) -> int:
    async with db.session() as s:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        return (await s.exec(query)).scalar_one()


async def work(args: argparse.Namespace) -> dict:
    import tracemalloc

    from bot.config import load_settings
    from bot.wiring import Partnerbot

    os.chdir(tempfile.mkdtemp())  # the built-in settings, whatever an app.yaml here says
    settings = load_settings({"DATABASE_URL": args.database_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                              "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": args.slack_url})
    started_at = time.monotonic()
    bot = Partnerbot(settings, clock=lambda: DUE + timedelta(seconds=time.monotonic() - started_at))
    if args.tracemalloc:
        tracemalloc.start()
    sender = asyncio.create_task(bot.sender.run_forever())
    tick_began = time.time()
    done = await bot.run_cadence()  # what `serve`'s scheduler runs every cadence.tick_seconds
    tick_ended = time.time()
    while await pending(bot.db):
        await asyncio.sleep(0.25)
    bot.sender.stop()
    await sender
    async with bot.db.session() as s:
        statuses = dict((await s.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    await bot.close()
    return {
        "tick_began": tick_began, "tick_seconds": tick_ended - tick_began, "done": dict(done),
        "outbox": statuses, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tracemalloc_peak_mb": tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None,
    }


def worker_main(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)  # not a warning per 429
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(asyncio.run, work(args))
        profiler.dump_stats(args.profile)
    else:
        result = asyncio.run(work(args))
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------

async def run_worker(args: argparse.Namespace, url: str, slack: RateLimitedSlack) -> dict:
    extra = ["--tracemalloc"] * args.tracemalloc + (["--profile", args.profile] if args.profile else [])
    return await worker_process(__file__, ["--database-url", url, "--slack-url", slack.url, *extra], args.timeout,
                                "fanout", lambda: sum(slack.posts.values()))


async def worker_process(script: str, argv: list[str], timeout: float, bench: str, delivered) -> dict:
    """Run `script --worker *argv` in a process of its own and read the JSON it prints last;
    exits, saying how many prompts were `delivered()` so far, when it fails or takes longer than `timeout`."""
    process = await asyncio.create_subprocess_exec(sys.executable, script, "--worker", *argv,
                                                   stdout=subprocess.PIPE, cwd=REPO)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        sys.exit(f"{bench}: the worker did not finish within {timeout}s; {delivered()} prompts delivered so far")
    if process.returncode:
        sys.exit(f"{bench}: the worker failed (exit {process.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1])


async def run_cli(args: argparse.Namespace, url: str, slack: RateLimitedSlack) -> dict:
    """`partnerbot tick --now <the due instant>` as a process: the tick, then the sending."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNERBOT_", "SLACK_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
               SLACK_API_URL=slack.url)
    began = time.time()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--log-level", "ERROR", "tick", "--now", DUE.isoformat(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**env, "PYTHONPATH": str(REPO)},
        cwd=tempfile.mkdtemp())  # the built-in settings
    out, _ = await asyncio.wait_for(process.communicate(), args.timeout)
    output = out.decode(errors="replace")
    if process.returncode:
        sys.exit(f"fanout: partnerbot tick failed (exit {process.returncode}):\n{output}")
    counts = re.search(r"(\d+) sync prompts", output)
    return {"tick_began": began, "tick_seconds": None, "done": {"sync prompts": int(counts.group(1)) if counts else 0},
            "outbox": output.strip().splitlines()[-1],
            "maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "tracemalloc_peak_mb": None}


def report(args: argparse.Namespace, backend: str, setup_seconds: float, slack: RateLimitedSlack,
           worker: dict, wall: float) -> bool:
    delivered = sum(slack.posts.values())
    recipients = len(slack.posts)
    duplicates = delivered - recipients
    missing = args.managers - recipients
    span = (slack.last_post or worker["tick_began"]) - worker["tick_began"]
    per_second = delivered / span if span > 0 else 0.0
    ratio = per_second / args.rate
    sending = (slack.last_post - slack.first_post) if slack.first_post else 0.0
    prompts = worker["done"].get("sync prompts", 0)
    tracemalloc_mb = worker["tracemalloc_peak_mb"]
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; database: {backend}")
    print(f"setup: {args.managers} managers in {args.managers // 2} partnerships inserted in {setup_seconds:.1f} s")
    tick_seconds = worker["tick_seconds"]
    if tick_seconds is None:
        print(f"tick: partnerbot tick --now {DUE.isoformat()} said: {worker['outbox']}")
    else:
        print(f"tick: {prompts} series prompted, every prompt in the outbox after {tick_seconds:.1f} s "
              f"({prompts / tick_seconds:.0f}/s, sending meanwhile); all work: {worker['done']}; "
              f"outbox at the end: {worker['outbox']}")
    print(f"Slack API calls: {dict(sorted(slack.calls.items()))}")
    print(f"delivered: {delivered} prompts to {recipients} managers in {span:.1f} s from the tick's start "
          f"= {per_second:.1f}/s (while sending: {delivered / sending if sending else 0:.1f}/s over {sending:.1f} s)")
    slower = " (--tracemalloc slows the worker: a run for memory, not speed)" if tracemalloc_mb is not None else ""
    print(f"limit: {args.rate}/s; ratio {ratio:.2f} (goal >= {GOAL_RATIO}){slower}")
    print(f"peak memory of the {'tick process' if args.cli else 'worker'}: ru_maxrss {worker['maxrss_mb']:.0f} MB"
          + (f", tracemalloc peak {tracemalloc_mb:.1f} MB" if tracemalloc_mb is not None else ""))
    print(f"duplicates: {duplicates}; missing: {missing}")
    print(f"wall time of the measured process, start to end: {wall:.1f} s")
    print("| database | process | managers | rate/s | delivered/s | ratio | tick s | ru_maxrss MB | tracemalloc MB "
          "| duplicates | missing | wall s |")
    print(f"| {backend} | {'tick --now' if args.cli else 'serve'} | {args.managers} | {args.rate} | {per_second:.1f} "
          f"| {ratio:.2f} | {'-' if tick_seconds is None else f'{tick_seconds:.1f}'} "
          f"| {worker['maxrss_mb']:.0f} | {'-' if tracemalloc_mb is None else f'{tracemalloc_mb:.1f}'} "
          f"| {duplicates} | {missing} | {wall:.1f} |")
    return duplicates == 0 and missing == 0 and ratio >= GOAL_RATIO


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


async def throwaway_postgres(prefix: str = "pb_fanout") -> tuple[str, str]:
    """A new empty PostgreSQL database (PARTNERBOT_TEST_POSTGRES names the server, trust auth):
    its SQLAlchemy URL and the admin DSN that drops it (drop_postgres)."""
    import asyncpg

    admin_dsn = os.environ.get("PARTNERBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}", admin_dsn


async def drop_postgres(url: str, admin_dsn: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> int:
    throwaway = None
    if args.postgres:
        url, admin_dsn = await throwaway_postgres()
        throwaway = (url, admin_dsn)
    else:
        url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/fanout.db"
    try:
        setup_seconds = await prepare(url, args.managers)
        slack = RateLimitedSlack(args.rate, args.whole_seconds)
        await slack.start()
        began = time.perf_counter()
        worker = await (run_cli if args.cli else run_worker)(args, url, slack)
        wall = time.perf_counter() - began
        await slack.stop()
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        return 0 if report(args, backend, setup_seconds, slack, worker, wall) else 1
    finally:
        if throwaway:
            await drop_postgres(*throwaway)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--managers", type=int, default=10_000, help="an even number (default 10000)")
    parser.add_argument("--rate", type=int, default=100, help="chat.postMessage calls Slack serves per second")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database")
    parser.add_argument("--whole-seconds", action="store_true",
                        help="Retry-After in whole seconds, as Slack sends it (see above)")
    parser.add_argument("--cli", action="store_true", help="the real `partnerbot tick --now` process, not serve's way")
    parser.add_argument("--tracemalloc", action="store_true", help="also the worker's peak Python allocations (slower)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the worker into FILE (pstats)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds the worker may take")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.managers < 2 or args.managers % 2:
        parser.error("--managers must be an even number, 2 or more")
    if args.cli and (args.tracemalloc or args.profile):
        parser.error("--tracemalloc and --profile measure the worker, not --cli")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.worker:
        worker_main(arguments)
    else:
        sys.exit(asyncio.run(main(arguments)))
