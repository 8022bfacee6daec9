"""How long does one tick take to start many community-of-practice meetings at once?

Builds N partnerships on a fresh database (SQLite file by default, or DATABASE_URL), each
with a bound channel and a weekly meeting series at the same slot, and holds last week's
meetings (two ideas and an action item each, then closed), all through the real handlers and
tick. Then times, in-process, this week's:
  * the tick at the start instant (N start posts written to the outbox),
  * the tick at the end instant (N end prompts),
and prints meetings per second for each and the outbox rows written. A tick takes at most
500 items of a kind (storage.queries.tick.BATCH); more are run here in back-to-back ticks. Delivery is not timed
(that is the outbox sender's and the platform's rate limit, measured separately).

Run from the repository root:

    /tmp/venv/bin/python bench/meeting_tick.py [--meetings 500]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bot.config import load_settings
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Command
from handlers.kernel.runner import Runner
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage

UTC = timezone.utc
CREATED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday
LAST_WEEK = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # the series' Tuesday 15:00 (UTC organisers)
STARTS = LAST_WEEK + timedelta(days=7)


class Clock:
    now = CREATED

    def __call__(self) -> datetime:
        return self.now


async def build(dispatcher: Dispatcher, runner: Runner, clock: Clock, n: int) -> None:
    async def say(user: str, text: str, channel: str | None = None) -> str:
        reply = await dispatcher.dispatch(Command(platform="console", workspace="bench", user=user, user_name=user,
                                                  text=text, channel=channel, is_direct=channel is None))
        assert reply.ok, reply.text
        return reply.text

    clock.now = CREATED
    for i in range(1, n + 1):
        await say(f"m{i}a", f"partnership new Alliance {i} with <@m{i}b|m{i}b>", f"c{i}")
        await say(f"m{i}b", f"partnership P-{i} accept")
        await say(f"m{i}a", f'meeting new P-{i} "Brainstorm {i}" every tue 15:00 for 30m', f"c{i}")
    started = 0
    while done := (await runner.tick(LAST_WEEK))["meeting starts"]:  # a tick takes 500 of a kind at most
        started += done
    assert started == n
    clock.now = LAST_WEEK + timedelta(minutes=10)
    for i in range(1, n + 1):
        reply = await say(f"m{i}a", f"idea Account {i}: first idea", f"c{i}")
        meeting = re.search(r"Linked to (M-\d+)", reply).group(1)
        await say(f"m{i}a", f"idea Account {i}: second idea owner <@m{i}b|m{i}b>", f"c{i}")
        await say(f"m{i}a", f"action {meeting} <@m{i}b|m{i}b> send the case study by 2026-12-04", f"c{i}")
        await say(f"m{i}a", f"meeting close {meeting}", f"c{i}")


async def outbox_rows(db: Database) -> int:
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(OutboxMessage))).scalar_one()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=500)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    os.chdir(tempfile.mkdtemp())  # built-in settings, whatever app.yaml says
    settings = load_settings({})
    db = Database(url)
    await upgrade(db)
    clock = Clock()
    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    runner = Runner(db, settings, default_registry())
    began = time.perf_counter()
    await build(dispatcher, runner, clock, args.meetings)
    print(f"built {args.meetings} partnerships with a meeting series and last week's meeting in "
          f"{time.perf_counter() - began:.1f} s ({url.split(':')[0]})")
    for label, at, kind in (("start posts", STARTS, "meeting starts"),
                            ("end prompts", STARTS + timedelta(minutes=30), "meeting follow-ups")):
        while await runner.tick(at - timedelta(seconds=1)):  # everything else due by then (peer-sync prompts)
            pass
        before = await outbox_rows(db)
        began = time.perf_counter()
        done, ticks = Counter(), 0
        while this := await runner.tick(at):  # `serve` ticks every tick_seconds; here back to back
            done, ticks = done + this, ticks + 1
        took = time.perf_counter() - began
        written = await outbox_rows(db) - before
        print(f"{label}: {done[kind]} meetings in {took:.2f} s = {done[kind] / took:.0f}/s, "
              f"{written} outbox rows written in {ticks} tick(s); all work done: {dict(done)}")
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
