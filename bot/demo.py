"""`partnerbot demo`: a fresh SQLite file with three weeks of a partnership, then a console on a
simulated clock that `:clock` moves.

Everything in the file is made by the real commands and the real tick, run on a clock that
walks from three weeks ago to now: two companies' managers and reps, a partnership with a
charter and a goal, handoffs, commitments, asks, weekly peer syncs, a community-of-practice
meeting with ideas and action items, a lead and a win. What the bot said to the people of the
story while it was being made is not shown again: it counts as read.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from adapters.console.console import PLATFORM, to_command
from bot.config import Settings
from bot.outbox import OutboxSender
from bot.wiring import Partnerbot
from handlers.kernel.model import Command, Reply

WORKSPACE = "demo"
CHANNEL = "acme-globex"  # the channel the partnership and its meetings are bound to
STORY_WEEKS = 3
PEOPLE = {"ana": "Europe/Berlin", "maria": "Europe/Berlin", "dana": "America/New_York", "bob": "America/New_York"}


class SimulatedClock:
    """The demo's now: starts where the story starts and only moves forward."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, when: datetime) -> None:
        if when < self.now:
            raise ValueError(f"the clock only moves forward (it is {self.now:%a %d %b %Y %H:%M} UTC)")
        self.now = when


class _Read:
    """A deliverer for the console platform that drops what it is given: the story's messages
    were read by the people of the story."""

    platform = PLATFORM

    async def deliver(self, address, reply: Reply) -> None:
        return None


class Story:
    """The demo's people typing, on the simulated clock, with the tick run as time passes."""

    def __init__(self, bot: Partnerbot, clock: SimulatedClock, start: datetime):
        self.bot, self.clock, self.start = bot, clock, start
        self.read = OutboxSender(bot.db, [_Read()], clock, poll_seconds=3600)

    async def say(self, user: str, line: str, channel: str | None = None) -> Reply:
        reply = await self.bot.dispatcher.dispatch(to_command(line, user, WORKSPACE, channel))
        if not reply.ok:  # the story is the product's own commands: a refusal is a bug to see
            raise RuntimeError(f"demo: {user}: {line!r} was refused: {reply.text}")
        if reply.form:
            reply = await self._answer(user, reply, channel)
        return reply

    async def _answer(self, user: str, reply: Reply, channel: str | None) -> Reply:
        """Fill a form the way a person would (the story's forms are peer syncs)."""
        form = reply.form
        answers = {q.id: q.value or SYNC_ANSWERS.get(user, {}).get(q.id, "") for q in form.questions}
        answered = await self.bot.dispatcher.dispatch(Command(
            platform=PLATFORM, workspace=WORKSPACE, user=user, user_name=user, text=form.submit_command,
            form_values=answers, channel=channel, is_direct=channel is None))
        if not answered.ok:
            raise RuntimeError(f"demo: {user}: the form of {form.submit_command!r} was refused: {answered.text}")
        return answered

    async def until(self, when: datetime, step: timedelta = timedelta(hours=3)) -> None:
        """Let time pass until `when`, running the tick every `step`; what is sent is read."""
        while self.clock.now < when:
            self.clock.move_to(min(self.clock.now + step, when))
            await self.bot.runner.tick(self.clock.now)
            await self.read.drain()

    def day(self, week: int, weekday: int, hour: int = 9) -> datetime:
        """The `weekday` (0 = Monday) of week `week` of the story, at `hour` UTC."""
        return self.start + timedelta(weeks=week, days=weekday, hours=hour)

    def date(self, week: int, weekday: int) -> str:
        return self.day(week, weekday).date().isoformat()


def _ref(reply: Reply, kind: str) -> str:
    """The first reference of `kind` (C, H, L…) a reply names: numbers depend on what came before."""
    found = re.search(rf"\b{kind}-\d+\b", reply.text)
    if not found:
        raise RuntimeError(f"demo: no {kind}-n in {reply.text!r}")
    return found.group(0)


# what the managers write in their peer syncs; a pledge line becomes a commitment
SYNC_ANSWERS = {
    "ana": {"results": "Initech moved to a security review with Globex.",
            "people": "maria is carrying Initech; she needs a Globex security contact.",
            "working": "The Wednesday brainstorm: two ideas became leads.",
            "change": "We hand off too late in the cycle.",
            "commit": "intro Initech's CISO to bob",
            "problems": "Who owns the joint pricing sheet?"},
    "dana": {"results": "bob booked the Initech review.",
             "people": "bob is new to partnering; pairing him with maria helps.",
             "working": "Fast answers to asks.",
             "change": "Leads need a next step within a week.",
             "commit": "share the Globex security whitepaper with maria",
             "problems": "Joint pricing: we propose Globex owns it."},
}


async def build_story(bot: Partnerbot, clock: SimulatedClock, story_start: datetime, end: datetime) -> None:
    """Three weeks of Acme (ana, manager; maria, rep) partnering with Globex (dana, manager;
    bob, rep), through the commands people type and the tick."""
    story = Story(bot, clock, story_start)
    for person, zone in PEOPLE.items():
        await story.say(person, f"timezone {zone}")
    await story.say("ana", "partnership new Acme-Globex with @dana", channel=CHANNEL)
    await story.say("dana", "partnership P-1 accept")
    await story.say("ana", "partnership P-1 add @maria")
    await story.say("maria", "partnership P-1 accept")
    await story.say("dana", "partnership P-1 add @bob")
    await story.say("bob", "partnership P-1 accept")
    await story.say("ana", "partnership P-1 goal 10 joint opportunities this quarter")
    await story.say("ana", "partnership P-1 agree")
    await story.say("dana", "partnership P-1 agree")
    await story.say("ana", 'meeting new P-1 "Brainstorm new business" every wed 15:00 for 45m', channel=CHANNEL)

    # week 1: the first handoff, commitments, an ask, the first peer sync and meeting
    await story.say("maria", f"handoff @bob Initech: needs a security review by {story.date(1, 4)}")
    await story.say("bob", "handoff H-1 accept")
    await story.say("maria", f"commit send the Initech case study to bob by {story.date(0, 3)}")
    await story.say("bob", f"commit book the Initech security review by {story.date(1, 1)}")
    await story.say("dana", f"ask @ana which Acme references can speak to Initech by {story.date(0, 4)}")
    await story.until(story.day(0, 1, 10))
    await story.say("ana", "ask Q-1 answer Hooli and Pied Piper; I will intro both")
    answered = [await story.say(manager, "sync answer S-1") for manager in ("ana", "dana")]  # prompted Monday
    await story.say("maria", "done C-1 sent with the pricing sheet")
    await story.until(story.day(0, 2, 14) + timedelta(minutes=10))  # Wed, during the meeting
    await story.say("bob", "idea Umbrella Corp: bundle the analytics add-on with the Globex platform", channel=CHANNEL)
    await story.say("maria", "idea Initech: a joint webinar for their finance team", channel=CHANNEL)
    pilot_plan = await story.say("ana", f"action M-1 @maria send the Umbrella pilot plan by {story.date(1, 2)}",
                                 channel=CHANNEL)
    await story.until(story.day(0, 2, 16))
    await story.say("ana", "meeting close M-1", channel=CHANNEL)
    await story.say("bob", "handoff H-1 positioned")

    # week 2: dana lets the peer sync slip (participation shows it), the lead gets a next step
    await story.until(story.day(1, 0, 16))
    await story.say("ana", f"done {_ref(answered[0], 'C')}")  # last week's pledge
    await story.say("ana", "sync answer S-2")
    await story.say("bob", f"lead L-1 next demo for Umbrella's CFO by {story.date(1, 3)}")
    await story.say("bob", "done C-2")
    await story.say("bob", "handoff H-1 introduced")
    await _weekly_meeting(story, 1, end, f"action M-2 @bob send Initech's CISO the Globex whitepaper by "
                                         f"{story.date(2, 4)}")
    await story.say("maria", f"done {_ref(pilot_plan, 'C')}")

    # week 3: a win, a new handoff the other way
    await story.until(story.day(2, 1, 12))
    await story.say("bob", "win H-1 120k")
    await story.say("bob", f"handoff @maria Umbrella Corp: wants an Acme integration demo by {story.date(3, 2)}")
    await _weekly_meeting(story, 2, end, f"action M-3 @maria draft the Umbrella integration demo by "
                                         f"{story.date(3, 1)}")
    await _weekly_meeting(story, 3, end, f"action M-4 @bob book the Umbrella CFO demo by {story.date(4, 1)}")
    await story.until(end)  # and the days since, to now: what fell due was sent, and read


async def _weekly_meeting(story: Story, week: int, end: datetime, action: str) -> None:
    """Week `week`'s brainstorm (Wednesday 15:00 in Berlin), with one action item, closed after it
    ended; unless it is still to come."""
    if story.day(week, 2, 16) > end:
        return
    await story.until(story.day(week, 2, 14) + timedelta(minutes=10))
    await story.say("ana", action, channel=CHANNEL)
    await story.until(story.day(week, 2, 16))
    await story.say("ana", f"meeting close M-{week + 1}", channel=CHANNEL)


async def run_demo(settings: Settings, path: Path, user: str, stdin: TextIO = sys.stdin,
                   out: TextIO = sys.stdout, *, now: datetime | None = None, dashboard: bool = False) -> None:
    """Build the demo database at `path` (a fresh file) and open a console on its clock (serving
    the dashboard's pages, with `dashboard`: see run_console)."""
    from bot.console import run_console

    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    now = now or datetime.now(timezone.utc)
    monday = (now - timedelta(weeks=STORY_WEEKS, days=now.weekday())).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)
    clock = SimulatedClock(monday + timedelta(hours=8))
    bot = Partnerbot(replace(settings, database_url=f"sqlite+aiosqlite:///{path}"), clock)
    await bot.upgrade()
    out.write(f"Building the demo in {path} (three weeks of a partnership, through the real commands)…\n")
    out.flush()
    await build_story(bot, clock, monday, now)
    out.write(f"Ready. The demo's clock says {_shown(clock.now)}. People: {', '.join(PEOPLE)}; "
              f"channel #{CHANNEL}. Move time with `:clock +1d`, `:clock +3h` or `:clock 2026-12-14 09:00` "
              f"(UTC): what falls due is sent.\n")
    await run_console(bot, user, WORKSPACE, stdin, out, clock_command=_clock_command(bot, clock), dashboard=dashboard)


def _shown(when: datetime) -> str:
    return f"{when:%a %d %b %Y %H:%M} UTC"


_STEP = re.compile(r"^\+(\d{1,4})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def _clock_command(bot: Partnerbot, clock: SimulatedClock) -> Callable[[str], Awaitable[str]]:
    async def move(argument: str) -> str:
        """`:clock` shows the time; `:clock +1d|+3h|+30m` or `:clock YYYY-MM-DD HH:MM` (UTC) moves it
        and runs the tick there."""
        argument = argument.strip()
        if not argument:
            return f"The demo's clock says {_shown(clock.now)}."
        if step := _STEP.match(argument):
            when = clock.now + timedelta(**{_UNITS[step.group(2)]: int(step.group(1))})
        else:
            try:
                when = datetime.fromisoformat(argument).replace(tzinfo=timezone.utc)
            except ValueError:
                return "Try `:clock +1d`, `:clock +3h`, `:clock +30m` or `:clock 2026-12-14 09:00` (UTC)."
        try:
            clock.move_to(when)
        except ValueError as error:
            return f"{error}; nothing changed."
        done = await bot.runner.tick(clock.now)
        work = ", ".join(f"{kind} {count}" for kind, count in sorted(done.items())) or "nothing due"
        return f"The demo's clock says {_shown(clock.now)}. Tick: {work}."
    return move
