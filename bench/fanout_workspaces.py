"""The weekly fan-out over many Slack workspaces, one of them in a 429 storm: do the others
deliver at their own pace?

Slack's rate limits are per app per workspace, and so is the outbox sender's pacing: a 429
pauses only the workspace it came from (bot/outbox.py). This bench builds --workspaces
workspaces of --per-workspace managers each (default 20 × 500 = 10,000; inserted with SQL in
bulk: the setup is not what is measured), every manager's weekly peer-sync prompt due at one
instant. A worker process runs the real tick (handlers' Runner: 10,000 prompts written to the
outbox), then the real OutboxSender with the real SlackDeliverer drains them, as
`partnerbot tick` does, against a fake Slack Web API on loopback that limits chat.postMessage
per workspace: the first --rate posts of each one-second window per workspace are served, the
others get 429 with `Retry-After` to that workspace's next window (to the hundredth; Slack
counts per minute and sends whole seconds, see bench/fanout.py). One workspace (the last) is
in a 429 storm: every post to it is refused, `Retry-After: --storm-retry-after`, for --storm
seconds from the first post of the run.

Prints, per workspace: prompts delivered, 429s received, messages/s (from the start of
sending to its last prompt) and the ratio to --rate; then the 19 unthrottled workspaces
(min / median / max) against the stormed one, total time, duplicates and missing prompts.
Goal: every unthrottled workspace at >= 0.9 of its rate, whatever the storm does; the storm
probed with about one request per Retry-After.

--sender-from FILE runs another version of bot/outbox.py in the worker instead (say
`git show <commit>:bot/outbox.py > /tmp/outbox_old.py`), to compare with the pacing of before.

Run from the repository root:

    /tmp/venv/bin/python bench/fanout_workspaces.py [--workspaces 20] [--per-workspace 500]
        [--rate 10] [--storm 20] [--storm-retry-after 1] [--database-url URL | --postgres]

Measured on a shared 2-CPU AMD EPYC VM (loopback, SQLite, 10,000 prompts over 20 workspaces,
T20 in a 20 s storm with Retry-After 1 s; "others" are T01-T19; msg/s from the start of sending):

| sender | rate/s | others msg/s min/median/max | others 429s median | T20 msg/s, last at s | T20 storm 429s | sent/s |
|---|---|---|---|---|---|---|
| per workspace (this) | 10 | 7.2 / 9.8 / 10.2 | 164 | 5.9, 84.1 | 8 | 119 |
| per workspace, no storm | 10 | 9.3 / 10.1 / 10.2 | 162 | 9.1, 55.1 | - | 182 |
| per workspace | 20 | 15.6 / 20.0 / 20.6 | 71 | 10.8, 46.1 | 10 | 217 |
| per platform (before) | 20 | 1,940 of the 10,000 sent in 100 s, then stopped | | | | ~19 |

At 20/s the 19 others are done in 32 s and T20 in 46 s (20 s of storm, then 500 at its 20/s).
At 10/s T01-T13 keep their pace through the storm; the later ones lose some of it to the
sender's own ceiling on this machine (the worker is CPU-bound at ~120-220 sends/s: each prompt
is a conversations.open and a chat.postMessage, and every 429 costs a request too; runs vary by
±20% here), not to T20, which is probed with at most one request per Retry-After.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiohttp import web
from sqlalchemy import func, insert, select, text

from bench.fanout import cpu_model, drop_postgres, prepare_empty, throwaway_postgres, worker_process
from storage.db import Database
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
BOT_TOKEN = "xoxb-bench-token"
GOAL_RATIO = 0.9
ROWS_PER_INSERT = 2000


def team_id(w: int) -> str:
    return f"T{w:02d}"


def user_id(w: int, i: int) -> str:
    """Manager i of workspace w; the fake reads the workspace back from it (and from its DM, D<user>)."""
    return f"U{w:02d}{i:05d}"


def team_of(user_or_dm: str) -> str:
    return f"T{user_or_dm.removeprefix('D')[1:3]}"


# ---------------------------------------------------------------------------------------
# Setup: W workspaces of N managers, N/2 partnerships each, every weekly prompt due at DUE
# ---------------------------------------------------------------------------------------

async def populate(db: Database, workspaces: int, per_workspace: int) -> None:
    pairs = per_workspace // 2

    def people():  # (global id, workspace, i within it)
        for w in range(1, workspaces + 1):
            for i in range(1, per_workspace + 1):
                yield (w - 1) * per_workspace + i, w, i

    def partnerships():  # (global id, workspace, number within it, first member's global id)
        for w in range(1, workspaces + 1):
            for p in range(1, pairs + 1):
                yield (w - 1) * pairs + p, w, p, (w - 1) * per_workspace + 2 * p - 1

    tables = [
        (Workspace, ({"id": w, "platform": "slack", "external_id": team_id(w), "created_at": CREATED}
                     for w in range(1, workspaces + 1))),
        (Person, ({"id": n, "workspace_id": w, "display_name": f"Manager {w}-{i}", "timezone": "UTC",
                   "created_at": CREATED} for n, w, i in people())),
        (Identity, ({"id": n, "workspace_id": w, "person_id": n, "platform": "slack", "external_id": user_id(w, i)}
                    for n, w, i in people())),
        (Partnership, ({"id": n, "workspace_id": w, "number": p, "name": f"Alliance {p}", "name_key": f"alliance {p}",
                        "created_by_id": first, "created_at": CREATED, "charter_version": 1,
                        "pulse_next_at": FIRST_PULSE} for n, w, p, first in partnerships())),
        (PartnershipMember, ({"partnership_id": n, "person_id": first + k, "side": "ab"[k], "role": "manager",
                              "added_at": CREATED} for n, _w, _p, first in partnerships() for k in (0, 1))),
        (SyncSeries, ({"id": first + k, "partnership_id": n, "person_id": first + k, "weekday": "mon",
                       "time": "09:00", "timezone": "UTC", "next_run_at": DUE}
                      for n, _w, _p, first in partnerships() for k in (0, 1))),
        (Counter, ({"workspace_id": w, "kind": "P", "value": pairs} for w in range(1, workspaces + 1))),
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


async def prepare(url: str, workspaces: int, per_workspace: int) -> float:
    return await prepare_empty(url, lambda db: populate(db, workspaces, per_workspace), "fanout_workspaces")


# ---------------------------------------------------------------------------------------
# The fake Slack Web API: a rate limit per workspace, and one workspace in a 429 storm
# ---------------------------------------------------------------------------------------

class WorkspaceLimitedSlack:
    """auth.test, conversations.open and chat.postMessage. chat.postMessage is limited to `rate`
    calls per one-second window in each workspace (the rest get 429 and Retry-After to that
    workspace's next window); every post into `storm_team` is refused for `storm` seconds
    from the first post of the run."""

    def __init__(self, rate: int, storm_team: str, storm: float, storm_retry_after: int):
        self.rate = rate
        self.storm_team, self.storm, self.storm_retry_after = storm_team, storm, storm_retry_after
        self.origin: float | None = None  # monotonic time of the first post: windows and the storm start
        self.windows: dict[str, tuple[int, int]] = {}  # team -> (window, posts served in it)
        self.storm_refusals = 0  # 429s the storm answered (the rest are the rate limit's)
        self.posts: collections.Counter = collections.Counter()  # channel -> prompts delivered
        self.per_team: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.first_post: dict[str, float] = {}  # team -> wall time
        self.last_post: dict[str, float] = {}
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

    def _admit(self, team: str) -> float | None:
        """None when this post is served, else the Retry-After to answer it with."""
        now = time.monotonic()
        if self.origin is None:
            self.origin = now
        elapsed = now - self.origin
        if team == self.storm_team and elapsed < self.storm:
            self.storm_refusals += 1
            return self.storm_retry_after
        window = int(elapsed)
        current, served = self.windows.get(team, (-1, 0))
        if current != window:
            current, served = window, 0
        if served < self.rate:
            self.windows[team] = (current, served + 1)
            return None
        self.windows[team] = (current, served)
        return math.ceil((window + 1 - elapsed) * 100) / 100

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = dict(request.query)  # slack_sdk sends some arguments as query parameters
        form.update(await request.json() if request.content_type == "application/json" else await request.post())
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": "T01", "user_id": "UBOT", "bot_id": "BBOT"})
        if method == "conversations.open":
            self.per_team[team_of(form["users"])][method] += 1
            return web.json_response({"ok": True, "channel": {"id": f"D{form.get('users')}"}})
        if method != "chat.postMessage":
            return web.json_response({"ok": False, "error": "unknown_method"})
        channel = form.get("channel")
        team = team_of(channel)
        retry_after = self._admit(team)
        if retry_after is not None:
            self.per_team[team]["429"] += 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": f"{retry_after:g}"})
        self.per_team[team]["posts"] += 1
        self.posts[channel] += 1
        now = time.time()
        self.first_post.setdefault(team, now)
        self.last_post[team] = now
        return web.json_response({"ok": True, "channel": channel, "ts": f"{now:.6f}"})


# ---------------------------------------------------------------------------------------
# The worker: the tick writes every prompt, then the outbox sender sends them
# ---------------------------------------------------------------------------------------

def sender_class(source: str | None):
    if not source:
        from bot.outbox import OutboxSender

        return OutboxSender
    spec = importlib.util.spec_from_file_location("bench_outbox_under_test", source)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module.OutboxSender


async def work(args: argparse.Namespace) -> dict:
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.deliver import SlackDeliverer
    from bot.config import load_settings
    from handlers import default_registry
    from handlers.kernel.runner import Runner

    os.chdir(tempfile.mkdtemp())  # the built-in settings, whatever an app.yaml here says
    settings = load_settings({"DATABASE_URL": args.database_url})
    db = Database(args.database_url)
    began = time.time()
    done = await Runner(db, settings, default_registry()).tick(DUE)
    tick_seconds = time.time() - began
    started = time.monotonic()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=args.slack_url)
    sender = sender_class(args.sender_from)(
        db, [SlackDeliverer(client)], lambda: DUE + timedelta(seconds=time.monotonic() - started),
        max_attempts=settings.outbox.max_attempts)
    send_began = time.time()
    sent = await sender.drain()
    send_ended = time.time()
    async with db.session() as s:
        statuses = dict((await s.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    await db.dispose()
    return {"tick_seconds": tick_seconds, "done": dict(done), "send_began": send_began, "send_ended": send_ended,
            "sent": sent, "outbox": statuses}


def worker_main(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)  # not a warning per 429
    print(json.dumps(asyncio.run(work(args))), flush=True)


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------

async def run_worker(args: argparse.Namespace, url: str, slack: WorkspaceLimitedSlack) -> dict:
    extra = ["--sender-from", args.sender_from] if args.sender_from else []
    return await worker_process(__file__, ["--database-url", url, "--slack-url", slack.url, *extra], args.timeout,
                                "fanout_workspaces", lambda: sum(slack.posts.values()))


def report(args: argparse.Namespace, backend: str, setup_seconds: float, slack: WorkspaceLimitedSlack,
           worker: dict) -> bool:
    start = worker["send_began"]
    teams = [team_id(w) for w in range(1, args.workspaces + 1)]
    rows = {}
    for team in teams:
        counts = slack.per_team[team]
        span = slack.last_post.get(team, start) - start
        rate = counts["posts"] / span if span > 0 else 0.0
        first = slack.first_post.get(team, start) - start
        rows[team] = (counts["posts"], counts["429"], counts["conversations.open"], span, rate, first)
    others = [t for t in teams if t != slack.storm_team]
    delivered = sum(slack.posts.values())
    duplicates = delivered - len(slack.posts)
    missing = args.workspaces * args.per_workspace - len(slack.posts)
    sending = worker["send_ended"] - start
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; database: {backend}; sender: "
          f"{args.sender_from or 'bot/outbox.py'}")
    print(f"setup: {args.workspaces} workspaces × {args.per_workspace} managers inserted in {setup_seconds:.1f} s; "
          f"tick wrote {worker['done'].get('sync prompts', 0)} prompts in {worker['tick_seconds']:.1f} s")
    print(f"Slack: {args.rate} posts/s per workspace; {slack.storm_team} refuses every post for {args.storm:g} s "
          f"(Retry-After {args.storm_retry_after} s)")
    print("| workspace | delivered | 429s | DMs opened | first prompt at s | last prompt at s | msg/s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for team, (posts, refused, opened, span, rate, first) in rows.items():
        storm = " (storm)" if team == slack.storm_team else ""
        print(f"| {team}{storm} | {posts} | {refused} | {opened} | {first:.1f} | {span:.1f} | {rate:.1f} "
              f"| {rate / args.rate:.2f} |")
    rates = [rows[t][4] for t in others]
    refusals = [rows[t][1] for t in others]
    stormed = rows[slack.storm_team]
    print(f"{len(others)} unthrottled workspaces: msg/s min {min(rates):.1f} / median {statistics.median(rates):.1f} "
          f"/ max {max(rates):.1f} (ratio min {min(rates) / args.rate:.2f}, goal >= {GOAL_RATIO}); "
          f"429s median {statistics.median(refusals):g}, all done {max(rows[t][3] for t in others):.1f} s "
          f"after sending began")
    print(f"stormed workspace {slack.storm_team}: {stormed[0]} delivered, {stormed[1]} 429s "
          f"({slack.storm_refusals} of them in the {args.storm:g} s storm), "
          f"{stormed[4]:.1f} msg/s overall, last prompt at {stormed[3]:.1f} s")
    worker_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    fake_cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"CPU seconds: worker (tick and sender) {worker_cpu.ru_utime + worker_cpu.ru_stime:.1f}, "
          f"fake Slack (and setup) {fake_cpu.ru_utime + fake_cpu.ru_stime:.1f}")
    print(f"total: {delivered} delivered in {sending:.1f} s of sending ({delivered / sending:.0f}/s); "
          f"outbox at the end: {worker['outbox']}; duplicates: {duplicates}; missing: {missing}")
    return duplicates == 0 and missing == 0 and min(rates) / args.rate >= GOAL_RATIO


async def main(args: argparse.Namespace) -> int:
    throwaway = None
    if args.postgres:
        url, admin_dsn = await throwaway_postgres()
        throwaway = (url, admin_dsn)
    else:
        url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/fanout_workspaces.db"
    try:
        setup_seconds = await prepare(url, args.workspaces, args.per_workspace)
        slack = WorkspaceLimitedSlack(args.rate, team_id(args.workspaces), args.storm, args.storm_retry_after)
        await slack.start()
        worker = await run_worker(args, url, slack)
        await slack.stop()
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        return 0 if report(args, backend, setup_seconds, slack, worker) else 1
    finally:
        if throwaway:
            await drop_postgres(*throwaway)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspaces", type=int, default=20, help="Slack workspaces (default 20; 2 to 99)")
    parser.add_argument("--per-workspace", type=int, default=500, help="managers per workspace, even (default 500)")
    parser.add_argument("--rate", type=int, default=10, help="chat.postMessage calls served per second per workspace")
    parser.add_argument("--storm", type=float, default=20.0, help="seconds the last workspace refuses every post")
    parser.add_argument("--storm-retry-after", type=int, default=1, help="the Retry-After of the storm's 429s")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database")
    parser.add_argument("--sender-from", metavar="FILE", help="another version of bot/outbox.py to run instead")
    parser.add_argument("--timeout", type=float, default=600, help="seconds the worker may take")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 2 <= args.workspaces <= 99:
        parser.error("--workspaces must be 2 to 99")
    if args.per_workspace < 2 or args.per_workspace % 2:
        parser.error("--per-workspace must be an even number, 2 or more")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.worker:
        worker_main(arguments)
    else:
        sys.exit(asyncio.run(main(arguments)))
