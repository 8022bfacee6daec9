"""The cadence end to end: state made through the real handlers, time moved by real
`partnerbot tick --now …` processes, messages read where people read them (the fake Slack
Web API and the fake Teams connector): who got which scheduled message, at which instant,
with which buttons.
"""
from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import pytest

from adapters.slack import translate as slack_translate
from adapters.teams import translate as teams_translate
from bot.config import load_settings
from bot.wiring import Partnerbot
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Command, Reply
from storage.models import Claim, OutboxMessage, SyncSeries
from tests.conftest import FixedClock, migrated
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, button_body
from tests.fakes.teams_connector import FakeConnector, mention, message, person
from tests.helpers import NO_SLACK_PACE, TEAMS_ON_LOOPBACK, person_named, rows
from tests.postgres import fresh_postgres_url
from tests.spawn import clean_env, start

pytestmark = pytest.mark.process

UTC = timezone.utc
BERLIN, LOS_ANGELES, NEW_YORK = "Europe/Berlin", "America/Los_Angeles", "America/New_York"
PROMPT = "Time for your weekly peer sync"
MARIA, JONAS = person("aad-maria", "Maria"), person("aad-jonas", "Jonas")


def at(text: str) -> datetime:
    """An instant written in UTC, e.g. at('2026-11-30 08:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- what a person sees ---------------------------------------------------------------------
@dataclass
class Seen:
    """One message as its recipient sees it, on either platform."""

    platform: str
    to: str  # Slack user id, or Teams AAD object id
    text: str
    buttons: list[tuple[str, str]]  # (label, the command a click runs)
    raw: Any = field(repr=False, default=None)


def _slack_seen(call) -> Seen:
    channel = call.args["channel"]
    assert channel.startswith("D"), f"a scheduled message went to a channel: {call.args}"
    buttons = [(e["text"]["text"], e["value"]) for b in call.args.get("blocks") or []
               if b["type"] == "actions" for e in b["elements"]]
    return Seen("slack", channel[1:], call.args["text"], buttons, call.args)


def _teams_seen(posted) -> Seen:
    to = posted.conversation.removeprefix("a:personal-").removeprefix("29:")
    return Seen("teams", to, posted.fallback, posted.submits, posted)


def kind_of(seen: Seen) -> str:
    text = seen.text
    for prefix, kind in ((PROMPT, "prompt"), ("Reminder: peer sync", "nudge"), ("Peer sync S-", "digest"),
                         ("Reminder: C-", "reminder"), ("Time for the monthly health pulse", "pulse prompt"),
                         ("Health pulse · ", "pulse results")):
        if text.startswith(prefix):
            return kind
    if re.match(r"C-\d+ is overdue", text):
        return "overdue"
    if re.search(r"started P-\d+|proposes P-\d+|accepted P-\d+", text):
        return "partnership notice"
    return "other: " + text[:60]


@dataclass
class Tick:
    now: datetime
    output: str
    work: dict[str, int]  # what the tick says it did, e.g. {"sync prompts": 1}
    sent: int  # "N message(s) sent"
    seen: list[Seen]  # what arrived at the fakes while it ran


_TICK_LINE = re.compile(r"^tick at (\S+): (.*); (\d+) message\(s\) sent$", re.MULTILINE)


def _parse_tick(now: datetime, output: str) -> tuple[dict[str, int], int]:
    m = _TICK_LINE.search(output)
    assert m, f"no summary line in the output of tick --now {now.isoformat()}:\n{output}"
    assert datetime.fromisoformat(m.group(1)) == now
    assert "Traceback" not in output and " ERROR " not in output, output
    work = {} if m.group(2) == "nothing due" else {
        name: int(n) for n, name in (part.split(" ", 1) for part in m.group(2).split(", "))}
    return work, int(m.group(3))


class World:
    """One bot's database, people typing to it through the real handlers (at a fixed clock),
    the fake platforms, and `partnerbot tick` processes against all of it."""

    def __init__(self, db, db_url: str, cwd, fake_slack: FakeSlackApi, connector: FakeConnector, now: datetime):
        self.db, self.cwd, self.fake_slack, self.connector = db, cwd, fake_slack, connector
        self.clock = FixedClock(now)
        self.env = clean_env(DATABASE_URL=db_url, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                             SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake_slack.url,
                             **NO_SLACK_PACE, **TEAMS_ON_LOOPBACK)
        self.dispatcher = self.dispatcher_with({})
        self._slack_read = self._teams_read = 0

    def dispatcher_with(self, overrides: dict[str, str]) -> Dispatcher:
        """A dispatcher whose settings have these PARTNERBOT_… overrides (e.g. another sync time)."""
        return Dispatcher(self.db, load_settings({**self.env, **overrides}), default_registry(), self.clock)

    # -- people typing -------------------------------------------------------------------
    async def slack(self, user: str, text: str, *, name: str | None = None, tz: str | None = None,
                    when: datetime | None = None, dispatcher: Dispatcher | None = None) -> Reply:
        """`/partner <text>` typed by `user` in their DM with the bot; `tz` is their Slack profile's."""
        if when:
            self.clock.now = when
        reply = await (dispatcher or self.dispatcher).dispatch(Command(
            platform="slack", workspace="T1", user=user, user_name=name or user, text=text,
            channel=f"D{user}", is_direct=True, platform_timezone=tz))
        assert reply.ok, reply.text
        return reply

    async def slack_click(self, seen: Seen, label: str) -> Reply:
        """`seen`'s recipient clicks its button `label` in Slack."""
        (element,) = [e for b in seen.raw["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["text"]["text"] == label]
        body = button_body(element["value"], user=seen.to, channel=seen.raw["channel"], message_ts="1.000100",
                           action_id=element["action_id"])
        payload = json.loads(parse_qs(body)["payload"][0])
        return await self.dispatcher.dispatch(slack_translate.from_button(payload, None))

    async def teams(self, sender: dict, text: str | None, *, when: datetime | None = None, **kw) -> Reply:
        """A Teams message (or, with value=…, a card button click) from `sender` in their 1:1 chat."""
        if when:
            self.clock.now = when
        activity = message(text, sender=sender, service_url=self.connector.url, **kw)
        return await self.dispatcher.dispatch(teams_translate.from_activity(activity))

    # -- what arrived ----------------------------------------------------------------------
    def delivered(self) -> list[Seen]:
        """Every message that reached Slack or Teams since the last call."""
        posts = self.fake_slack.calls_to("chat.postMessage")
        seen = [_slack_seen(c) for c in posts[self._slack_read:]]
        seen += [_teams_seen(p) for p in self.connector.posted[self._teams_read:]]
        self._slack_read, self._teams_read = len(posts), len(self.connector.posted)
        return seen

    # -- time passing -----------------------------------------------------------------------
    async def run_tick(self, now: datetime) -> tuple[dict[str, int], int, str]:
        process = await start("tick", "--now", now.isoformat(), cwd=self.cwd, env=self.env)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        output = out.decode(errors="replace")
        assert process.returncode == 0, output
        work, sent = _parse_tick(now, output)
        return work, sent, output

    async def tick(self, now: datetime) -> Tick:
        """`partnerbot tick --now <now>` as a process, and what people received from it."""
        work, sent, output = await self.run_tick(now)
        seen = self.delivered()
        assert sent == len(seen), (output, seen)
        return Tick(now, output, work, sent, seen)






@pytest.fixture
def make_world(tmp_path, settings, fake_slack, connector):
    """World(db, db_url, now); `settings` puts the test in an empty directory (built-in defaults)."""
    return lambda db, db_url, now: World(db, db_url, tmp_path, fake_slack, connector, now)


def only(seen: list[Seen], kind: str | None = None) -> Seen:
    picked = [s for s in seen if kind is None or kind_of(s) == kind]
    assert len(picked) == 1, seen
    return picked[0]


# --- 1 + 3: each manager at their own 09:00; the same tick twice sends nothing -------------
async def test_each_manager_is_prompted_at_nine_on_monday_their_time_and_a_repeated_tick_sends_nothing(
        db, db_url, make_world, fake_slack):
    world = make_world(db, db_url, at("2026-11-26 10:00"))  # Thu 26 Nov 2026
    # Ana (Slack profile: Berlin) starts P-1 with Dana, who accepts it before her timezone is
    # known; on Friday Dana uses the bot again, and her Slack profile says Los Angeles.
    await world.slack("U1", "partnership new Acme Alliance with <@U2|Dana>", name="Ana", tz=BERLIN)
    await world.slack("U2", "partnership P-1 accept", name="Dana")
    await world.slack("U2", "list", name="Dana", tz=LOS_ANGELES, when=at("2026-11-27 18:00"))

    # Mon 30 Nov: 09:00 in Berlin (CET) is 08:00 UTC; 09:00 in Los Angeles (PST) is 17:00 UTC.
    tick = await world.tick(at("2026-11-30 07:59:59"))
    assert [(s.to, kind_of(s)) for s in tick.seen] == [("U2", "partnership notice"),  # owed since Thursday
                                                      ("U1", "partnership notice")]
    assert tick.work == {}

    tick = await world.tick(at("2026-11-30 08:00"))
    assert tick.work == {"sync prompts": 1} and tick.sent == 1
    ana = only(tick.seen)
    assert ana.to == "U1" and ana.text.startswith(f"{PROMPT} S-1 with Dana (P-1 Acme Alliance)")
    assert "answer by Sun 6 Dec 09:00 (Europe/Berlin)" in ana.text  # her own clock
    assert ana.buttons == [("Answer", "sync answer S-1")]
    (actions,) = [b for b in ana.raw["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["action_id"] == "pb:0:0" and actions["elements"][0]["style"] == "primary"
    form = (await world.slack_click(ana, "Answer")).form  # the button does what it says
    assert form is not None and form.title == "Peer sync S-1" and form.submit_command == "sync submit S-1"

    # 3. The same instant again: nothing is done or sent twice.
    calls = len(fake_slack.calls)
    again = await world.tick(at("2026-11-30 08:00"))
    assert (again.work, again.sent, again.seen) == ({}, 0, [])
    assert "nothing due; 0 message(s) sent" in again.output
    assert len(fake_slack.calls) == calls

    # 08:59:59 in Los Angeles. (Dana's prompt was first planned for 09:00 UTC, before her
    # timezone was known: it must not go out at 01:00 her time, nor for last week.)
    tick = await world.tick(at("2026-11-30 16:59:59"))
    assert (tick.work, tick.seen) == ({}, [])

    tick = await world.tick(at("2026-11-30 17:00"))
    assert tick.work == {"sync prompts": 1}
    dana = only(tick.seen)
    assert dana.to == "U2" and dana.text.startswith(f"{PROMPT} S-1 with Ana (P-1 Acme Alliance)")
    assert "(America/Los_Angeles)" in dana.text
    assert dana.buttons == [("Answer", "sync answer S-1")]  # the same week's sync as Ana's


# --- 2: daylight saving in New York ------------------------------------------------------
def _sweep(start: datetime, end: datetime) -> list[datetime]:
    """Every hour from start to end (inclusive) on the weekends and Mondays, where the rules
    fire; every 6 hours Tuesday to Friday (a stray prompt there would still show, a little late)."""
    instants, t = [], start
    while t <= end:
        if t.weekday() not in (1, 2, 3, 4) or t.hour % 6 == 0:
            instants.append(t)
        t += timedelta(hours=1)
    return instants


async def _tick_through(world: World, instants: list[datetime], by_process: set[datetime]) -> list[tuple[datetime, Seen]]:
    """Tick at each instant: those in `by_process` through `partnerbot tick` processes, the
    others through the same code in-process (a process an hour would take minutes).
    Returns each message with the instant of the tick that sent it."""
    assert by_process <= set(instants)
    clock = FixedClock(instants[0])
    bot = Partnerbot(load_settings(world.env), clock=clock)  # what `partnerbot tick` builds
    received = []
    try:
        for t in instants:
            if t in by_process:
                received += [(t, s) for s in (await world.tick(t)).seen]
            else:
                clock.now = t
                await bot.tick()
                received += [(t, s) for s in world.delivered()]
    finally:
        await bot.close()
    return received


DST_SEASONS = {
    # NY springs forward Sun 8 Mar 2026 02:00 EST → 03:00 EDT: 02:00 does not exist that night.
    "spring": dict(
        setup=at("2026-02-27 12:00"), start=at("2026-03-01 00:00"), end=at("2026-03-09 23:00"),
        processes={at("2026-03-09 13:00")},
        prompts={
            "mon 09:00": [at("2026-03-02 14:00"), at("2026-03-09 13:00")],  # 09:00 EST, then 09:00 EDT
            "sun 01:00": [at("2026-03-01 06:00"), at("2026-03-08 06:00")],  # before the switch both times
            "sun 02:00": [at("2026-03-01 07:00"), at("2026-03-08 07:00")],  # the missing 02:00 → 03:00 EDT
        },
        next_monday=at("2026-03-16 13:00"),
    ),
    # NY falls back Sun 1 Nov 2026 02:00 EDT → 01:00 EST: 01:00–01:59 happens twice.
    "fall": dict(
        setup=at("2026-10-23 12:00"), start=at("2026-10-25 00:00"), end=at("2026-11-02 23:00"),
        processes={at("2026-11-02 14:00")},
        prompts={
            "mon 09:00": [at("2026-10-26 13:00"), at("2026-11-02 14:00")],  # 09:00 EDT, then 09:00 EST
            "sun 01:00": [at("2026-10-25 05:00"), at("2026-11-01 05:00")],  # the first 01:00 only, not 06:00
            "sun 02:00": [at("2026-10-25 06:00"), at("2026-11-01 07:00")],
        },
        next_monday=at("2026-11-09 14:00"),
    ),
}
RULES = {"mon 09:00": ("U1", "Nia"), "sun 01:00": ("U3", "Noor"), "sun 02:00": ("U5", "Ned")}


@pytest.mark.parametrize("season", DST_SEASONS)
async def test_weekly_prompts_across_a_new_york_dst_switch_come_once_a_week_at_the_local_time(
        db, db_url, make_world, season):
    case = DST_SEASONS[season]
    world = make_world(db, db_url, case["setup"])
    # Three New York managers, each with a partner in UTC (Pat); one on the default Monday
    # 09:00, two on deployments whose sync falls in the night of the switch.
    for i, (rule, (user, name)) in enumerate(RULES.items(), 1):
        weekday, hhmm = rule.split()
        dispatcher = world.dispatcher_with({"PARTNERBOT_CADENCE__PEER_SYNC__WEEKDAY": weekday,
                                            "PARTNERBOT_CADENCE__PEER_SYNC__TIME": hhmm})
        await world.slack(user, f"timezone {NEW_YORK}", name=name, dispatcher=dispatcher)
        await world.slack(user, f"partnership new Alliance {i} with <@U9|Pat>", name=name, dispatcher=dispatcher)
        await world.slack("U9", f"partnership P-{i} accept", name="Pat", dispatcher=dispatcher)
    world.delivered()

    received = await _tick_through(world, _sweep(case["start"], case["end"]), case["processes"])

    prompts = [(t, s) for t, s in received if kind_of(s) == "prompt"]
    for rule, (user, _) in RULES.items():
        mine = [(t, s) for t, s in prompts if s.to == user]
        assert [t for t, _ in mine] == case["prompts"][rule], (rule, [(t.isoformat(), s.text[:50]) for t, s in mine])
        for _, s in mine:  # 09:00 (or the rule's time) on the New York clock, one sync a week
            ref = re.match(rf"{PROMPT} (S-\d+)", s.text).group(1)
            assert s.buttons == [("Answer", f"sync answer {ref}")]
        assert len({s.buttons[0] for _, s in mine}) == len(mine)
    # Pat (UTC) has no daylight saving: every prompt at the rule's UTC time, once.
    pat = [t for t, s in prompts if s.to == "U9"]
    assert len(pat) == 6 and len(set(pat)) == 6 and {(t.hour, t.minute) for t in pat} == {(1, 0), (2, 0), (9, 0)}
    assert not [s for _, s in received if kind_of(s).startswith("other")]

    nia = await person_named(db, "Nia")
    (series,) = await rows(db, SyncSeries, SyncSeries.person_id == nia.id)
    assert series.next_run_at == case["next_monday"]  # and the week after is 09:00 New York time too


# --- 4: commitment reminders and overdue notices, Slack and Teams --------------------------
async def test_a_commitment_is_reminded_a_day_before_and_reported_overdue_at_due_time_on_slack_and_teams(
        db, db_url, make_world):
    world = make_world(db, db_url, at("2026-11-23 10:00"))  # Mon 23 Nov 2026
    # Ana on Slack (profile: UTC): due Fri 27 Nov 17:00 UTC.
    await world.slack("U1", "commit send pricing deck to Acme by fri", name="Ana", tz="UTC")
    # Maria on Teams (client: Berlin): C-1 is far off; C-2 is due Fri 27 Nov 17:00 Berlin = 16:00 UTC.
    for text in ("commit book the joint webinar by 2026-12-10", "commit send the security questionnaire by fri"):
        assert (await world.teams(MARIA, text, local_timezone=BERLIN)).ok
    world.delivered()

    tick = await world.tick(at("2026-11-26 16:00"))  # Thu 17:00 in Berlin: Maria's reminder
    assert tick.work == {"commitment reminders": 1}
    maria = only(tick.seen)
    assert (maria.platform, maria.to) == ("teams", "aad-maria")
    assert maria.text.startswith("Reminder: C-2 is due Fri 27 Nov 17:00 (Europe/Berlin): send the security questionnaire")
    card = maria.raw.card
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == "C-2 is due Fri 27 Nov 17:00 (Europe/Berlin)"
    assert [(a["type"], a["title"], a["data"], a.get("style")) for a in card["actions"]] == [
        ("Action.Submit", "Done", {"command": "done C-2"}, "positive"),
        ("Action.Submit", "Snooze 1 day", {"command": "snooze C-2"}, None),
        ("Action.Submit", "Drop", {"command": "drop C-2"}, "destructive"),
    ]

    tick = await world.tick(at("2026-11-26 17:00"))  # Thu 17:00 UTC: Ana's reminder
    assert tick.work == {"commitment reminders": 1}
    ana = only(tick.seen)
    assert (ana.platform, ana.to) == ("slack", "U1")
    assert ana.text.startswith("Reminder: C-1 is due Fri 27 Nov 17:00 (UTC): send pricing deck to Acme")
    (actions,) = [b for b in ana.raw["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["text"]["text"], e["value"], e.get("style")) for e in actions["elements"]] == [
        ("pb:0:0", "Done", "done C-1", "primary"),
        ("pb:0:1", "Snooze 1 day", "snooze C-1", None),
        ("pb:0:2", "Drop", "drop C-1", "danger"),
    ]

    tick = await world.tick(at("2026-11-27 16:00"))  # Maria's due time
    maria = only(tick.seen)
    assert (maria.platform, maria.to) == ("teams", "aad-maria")
    assert maria.text.startswith("C-2 is overdue (was due Fri 27 Nov 17:00 (Europe/Berlin))")
    assert maria.buttons == [("Done", "done C-2"), ("Snooze 1 day", "snooze C-2"), ("Drop", "drop C-2")]

    tick = await world.tick(at("2026-11-27 17:00"))  # Ana's due time; Maria's notice is not repeated
    ana = only(tick.seen)
    assert (ana.platform, ana.to) == ("slack", "U1") and ana.text.startswith("C-1 is overdue")
    assert ana.buttons == [("Done", "done C-1"), ("Snooze 1 day", "snooze C-1"), ("Drop", "drop C-1")]

    # The buttons work: Maria's Done from the card, Ana's Drop asks for a reason.
    done = await world.teams(MARIA, None, value={"command": "done C-2"}, when=at("2026-11-27 17:30"))
    assert done.ok and done.text.startswith("C-2 kept (late)")
    drop = await world.slack_click(ana, "Drop")
    assert drop.form is not None and drop.form.submit_command == "drop C-1"


# --- 5: two processes, one PostgreSQL, every message exactly once --------------------------
async def _two_ticks_released_together(world: World, url: str, now: datetime) -> list[tuple[dict, int, str]]:
    """Two `partnerbot tick --now <now>` processes, held at the starting line and let go at once:
    a transaction keeps sync_series (what a tick reads first) locked until both wait on it, so
    their ticks overlap instead of one finishing during the other's second of startup."""
    import asyncpg

    gate = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        hold = gate.transaction()
        await hold.start()
        await gate.execute("LOCK TABLE sync_series IN ACCESS EXCLUSIVE MODE")
        ticks = [asyncio.create_task(world.run_tick(now)) for _ in range(2)]
        waiting, give_up = 0, asyncio.get_running_loop().time() + 30
        while waiting < 2 and asyncio.get_running_loop().time() < give_up and not any(t.done() for t in ticks):
            await asyncio.sleep(0.02)
            await gate.execute("SELECT pg_stat_clear_snapshot()")  # else the first answer is kept
            waiting = await gate.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        await hold.commit()
    finally:
        await gate.close()
    results = await asyncio.gather(*ticks)
    assert waiting == 2, ("the two ticks never waited at the starting line together", [r[2] for r in results])
    return results


@pytest.mark.postgres
async def test_two_ticks_at_the_same_instant_on_postgresql_deliver_each_message_exactly_once(make_world, fake_slack):
    async with fresh_postgres_url() as url:  # skipped, saying why, when PostgreSQL is not there
        async with migrated(url) as db:
            world = make_world(db, url, at("2026-11-28 12:00"))  # Sat 28 Nov 2026, everyone in UTC
            managers = [f"U{i}" for i in range(1, 11)]
            for i in range(0, len(managers), 2):
                a, b = managers[i], managers[i + 1]
                await world.slack(b, "help", name=f"m{b}", tz="UTC")
                await world.slack(a, f"partnership new Alliance {a} with <@{b}|m{b}>", name=f"m{a}", tz="UTC")
                await world.slack(b, f"partnership P-{i // 2 + 1} accept", name=f"m{b}", tz="UTC")
            for user in managers:
                await world.slack(user, f"commit call the partner of {user} by tue", tz="UTC")  # due Tue 17:00

            rounds = [
                (at("2026-11-30 09:00"), {"prompt": 1}, {"sync prompts": 10}),
                (at("2026-12-01 17:00"), {"nudge": 1, "overdue": 1}, {"sync nudges": 10, "commitment reminders": 10}),
                (at("2026-12-07 09:00"), {"digest": 1, "prompt": 1, "pulse prompt": 1},  # the first Monday
                 {"sync prompts": 10, "sync digests": 5, "health pulses": 5}),
            ]
            for number, (now, each_gets, work) in enumerate(rounds, 1):
                posted_before = len(fake_slack.calls_to("chat.postMessage"))
                results = await _two_ticks_released_together(world, url, now)
                seen = world.delivered()
                if number == 1:  # the partnership notices owed since Saturday go out once too
                    notices = [s for s in seen if kind_of(s) == "partnership notice"]
                    assert sorted(s.to for s in notices) == sorted(managers)  # invited, and told of the accept
                    seen = [s for s in seen if s not in notices]
                for user in managers:
                    got = Counter(kind_of(s) for s in seen if s.to == user)
                    assert got == each_gets, (f"round {number}", user, got, [r[2] for r in results])
                # the two say they sent, between them, exactly what arrived
                assert sum(r[1] for r in results) == len(fake_slack.calls_to("chat.postMessage")) - posted_before
                combined = Counter()
                for r in results:
                    combined.update(r[0])
                assert dict(combined) == work, [r[2] for r in results]

            messages = await rows(db, OutboxMessage)
            assert {m.status for m in messages} == {"sent"}
            assert len(messages) == len(fake_slack.calls_to("chat.postMessage")) == 5 + 5 + 10 + 20 + 20 + 10
            keys = Counter(c.key.split(":", 1)[0] for c in await rows(db, Claim))
            assert keys == {"sync.open": 10, "sync.prompt": 20, "sync.nudge": 10, "commitment.overdue": 10,
                            "sync.digest": 5, "pulse.open": 5}


# --- 6: a Teams manager who never talked to the bot ----------------------------------------
async def test_a_teams_peer_who_never_talked_to_the_bot_gets_the_proposal_on_first_contact_then_weekly_prompts(
        db, db_url, make_world, connector):
    world = make_world(db, db_url, at("2026-11-26 10:00"))  # Thu 26 Nov; Teams, everyone in UTC
    created = await world.teams(JONAS, "partnership new Globex Alliance with <at>Maria</at>", entities=[mention(MARIA)])
    assert created.ok, created.text
    world.delivered()

    # P-1 is pending until Maria accepts, which is her first contact: no prompts before, and her
    # invitation waits for her
    tick = await world.tick(at("2026-11-30 09:00"))
    assert (tick.work, tick.seen) == ({}, [])
    maria = await person_named(db, "Maria")
    waiting = await rows(db, OutboxMessage, OutboxMessage.recipient_person_id == maria.id)
    assert sorted(m.idempotency_key.split(":")[0] for m in waiting) == ["partnership.proposed"]
    assert {m.status for m in waiting} == {"pending"} and connector.to("a:personal-aad-maria") == []

    accepted = await world.teams(MARIA, "partnership P-1 accept", when=at("2026-11-30 10:30"))  # her first contact
    assert accepted.ok, accepted.text

    tick = await world.tick(at("2026-11-30 11:00"))
    assert sorted((s.to, kind_of(s)) for s in tick.seen) == [
        ("aad-jonas", "partnership notice"), ("aad-maria", "partnership notice")]  # what waited for her is sent

    # from next Monday both are prompted at 09:00, Maria as Jonas, with the card's Answer button
    tick = await world.tick(at("2026-12-07 09:00"))  # the first Monday: the health pulse opens too
    assert tick.work["sync prompts"] == 2
    jonas = only([s for s in tick.seen if s.to == "aad-jonas"], "prompt")
    assert (jonas.platform, jonas.to) == ("teams", "aad-jonas")
    assert jonas.text.startswith(f"{PROMPT} S-1 with Maria (P-1 Globex Alliance)")
    assert jonas.buttons == [("Answer", "sync answer S-1")]
    (answer,) = jonas.raw.card["actions"]
    assert answer["type"] == "Action.Submit" and answer["data"] == {"command": "sync answer S-1"}
    prompt = only([s for s in tick.seen if s.to == "aad-maria"], "prompt")
    assert prompt.text.startswith(f"{PROMPT} S-1 with Jonas (P-1 Globex Alliance)")
    assert prompt.buttons == [("Answer", "sync answer S-1")]
    form = (await world.teams(MARIA, None, value={"command": "sync answer S-1"})).form
    assert form is not None and form.title == "Peer sync S-1"


# --- a timezone learned from the platform after the partnership was made, east of the old one
async def test_a_timezone_learned_after_the_partnership_east_of_the_old_one_does_not_skip_the_week(
        db, db_url, make_world):
    world = make_world(db, db_url, at("2026-11-26 10:00"))  # Thu 26 Nov
    await world.slack("U1", "partnership new Acme Alliance with <@U2|Dana>", name="Ana", tz=BERLIN)
    await world.slack("U2", "partnership P-1 accept", name="Dana")  # her timezone not known yet
    await world.slack("U2", "list", name="Dana", tz="Asia/Tokyo", when=at("2026-11-27 08:00"))  # Fri, from Tokyo

    tick = await world.tick(at("2026-11-30 00:00"))  # Mon 09:00 in Tokyo
    prompts = [s for s in tick.seen if kind_of(s) == "prompt"]
    assert [(s.to, s.buttons) for s in prompts] == [("U2", [("Answer", "sync answer S-1")])], tick.seen

    tick = await world.tick(at("2026-11-30 09:00"))  # the instant planned in UTC: nothing more for her
    assert [s for s in tick.seen if s.to == "U2"] == []
