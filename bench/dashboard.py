"""How fast are the web dashboard's pages on a big workspace, over real HTTP?

Builds one workspace (console platform) of --people people in a manager hierarchy (each manager
5 to 11 reports), --partnerships accepted partnerships (two first-line managers and 6 to 10 of
their reps, on two sides; a manager may be in several) and about --rows activity rows over the
last two years, three times as dense in the last 12 weeks, some partnerships much busier than
others: weekly peer syncs with both managers' answers and their pledges, weekly meetings with
action items, leads and their next activities, handoffs between the sides through their stages,
asks, wins with their credit split (handlers/wins/credit.split), monthly pulses (closed, with
answers), and commitments of their own; besides those, the audit trail's row of each record
created (not counted in --rows). All of it is inserted with SQL in bulk, in one transaction (the
setup is not what is measured; its time is printed). A smaller --rows also shortens the history,
so that the weekly syncs and monthly pulses stay about half of it at most.

Then serves `partnerbot serve`'s app (bot.server.build_web_app) on a loopback port, on a clock
fixed at NOW; the tick is set to once a day, so that it stays out of the measurement. The
workspace's top manager signs in with a real `dashboard` command (the console's caller is an
admin: the whole workspace is in scope), and each page is requested --repeat times, one after
another, after 2 warm-up requests (fewer once they have taken --max-seconds): p50 and p95 in ms,
the statuses (anything but 200 is reported, not fatal) and the page's size, beside the goals of
issue 23. The overview is measured twice: as people open it (the snapshot of their set of
partnerships, handlers/reports/overview_snapshot.py, which the warm-up computes) and computed anew
(`?refresh=1`, "Refresh now": what a stale snapshot's refresh in the background costs too).
Exits 1 unless every page answered 200 within its goal.

Run from the repository root:

    /tmp/venv/bin/python bench/dashboard.py [--people 2000] [--partnerships 200] [--rows 1000000]
        [--repeat 30] [--max-seconds 60] [--database-url URL | --postgres | --keep FILE]

--keep FILE keeps the generated SQLite database in FILE, and a later run with the same FILE
measures it again without generating it; --database-url URL --reuse does the same with any
database (a PostgreSQL one made for it).

Setup takes about 60 s on SQLite and 90 s on PostgreSQL at full size. The figures measured, and
what they say, are in the README (Performance).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp
from aiohttp import web
from sqlalchemy import func, insert, select, text

from bench.fanout import cpu_model, drop_postgres, throwaway_postgres
from handlers.handoffs.service import OPEN_STAGES
from handlers.peer_sync.messages import QUESTIONS
from handlers.pulse.results import DIMENSIONS
from handlers.wins import credit
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    ActivityLog,
    Ask,
    CharterAgreement,
    Commitment,
    Counter,
    Handoff,
    Identity,
    Lead,
    Meeting,
    MeetingSeries,
    Partnership,
    PartnershipMember,
    PeerSync,
    Person,
    Pulse,
    PulseAnswer,
    SyncAnswer,
    SyncSeries,
    Win,
    WinCredit,
    Workspace,
)

UTC = timezone.utc
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # a Friday afternoon: the served app's clock
THIS_MONDAY = datetime(2026, 11, 30, tzinfo=UTC)
HISTORY_WEEKS = 104
RECENT_WEEKS, RECENT_DENSITY = 12, 3.0  # the last 12 weeks hold three times as much per week
MAX_LEVELS = 10  # of the hierarchy
WORKSPACE = "bench"  # the console workspace
PUBLIC_URL = "http://partnerbot.bench"  # only the link's path is used
COOKIE = "partnerbot_session"
CHUNK = 20_000  # rows buffered before they are inserted
SEED = 23
CREDIT_SHARES = credit.Shares(0.3, 0.5, 0.2)  # the built-in `credit` settings
GOALS_MS = {"overview": 300, "partnership": 300, "person": 150, "credit": 500}  # p95, issue 23

# Per week of a partnership, at intensity 1 (each times the partnership's busyness and the
# week's density, then scaled so that the whole comes to --rows)
PLAIN_COMMITMENTS, HANDOFFS, LEADS, ASKS = 3.0, 0.5, 0.4, 0.8
PLEDGES_PER_ANSWER, ACTION_ITEMS = 0.5, 1.2
PERSONAL_COMMITMENTS = 0.02  # per person and week: commitments outside any partnership
TIED_TO_HANDOFF, NEXT_ACTIVITIES = 1.2, 1.5  # commitments per handoff, per lead (not scaled)
WITH_MEETINGS = 0.7  # of the partnerships have a weekly meeting series
SYNC_ANSWERED, MEETING_CLOSED, PULSE_ANSWERED = 0.8, 0.85, 0.7

# Parents before children, for the foreign keys
TABLES = [Workspace, Person, Identity, Partnership, PartnershipMember, CharterAgreement, SyncSeries, MeetingSeries,
          PeerSync, SyncAnswer, Meeting, Handoff, Lead, Commitment, Ask, Win, WinCredit, Pulse, PulseAnswer,
          ActivityLog, Counter]
WITH_IDS = [Workspace, Person, Identity, Partnership, SyncSeries, MeetingSeries, PeerSync, Meeting, Handoff, Lead,
            Commitment, Ask, Win, Pulse, ActivityLog]
# the rest are the activity rows --rows counts, but for the audit trail's
NOT_ACTIVITY = {Workspace, Person, Identity, Partnership, PartnershipMember, CharterAgreement, SyncSeries,
                MeetingSeries, Counter, ActivityLog}
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam", "Mona",
         "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Xavi", "Yara", "Zeno",
         "Aiko", "Bruno", "Carla", "Dario", "Emma", "Felix", "Gita", "Hans", "Ivy", "Jade", "Karl", "Lena", "Marco",
         "Nora")
LAST = ("Abe", "Berg", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hale", "Ito", "Jensen", "Kowalski", "Lund",
        "Moreau", "Novak", "Ortiz", "Park", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Xu",
        "Young", "Zhang", "Adler", "Brandt", "Chen", "Dubois", "Eklund", "Ferreira", "Gupta", "Holm", "Iqbal",
        "Jovanovic", "Kim", "Larsen", "Meyer", "Nakamura", "Olsen", "Petrov", "Quintero", "Reyes", "Sato", "Torres",
        "Ulrich", "Vidal", "Wong", "Zimmer")


def stochastic_round(x: float) -> int:
    """x on average, as a whole number."""
    whole = int(x)
    return whole + (random.random() < x - whole)


def at(day: date, hour: int = 17) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def before_now(moment: datetime) -> datetime:
    """An instant that has happened: one due in the future becomes a few minutes ago."""
    return moment if moment < NOW else NOW - timedelta(minutes=random.randint(1, 600))


def between(start: datetime, end: datetime) -> datetime:
    return start + (end - start) * random.random()


# ---------------------------------------------------------------------------------------
# The rows: buffered per table, inserted parents first whenever enough have gathered
# ---------------------------------------------------------------------------------------

class Rows:
    """Every generated row goes through add(); with a connection, flush() inserts the buffers
    in foreign-key order; without one (the calibration), rows are only counted."""

    def __init__(self, conn=None):
        self.conn = conn
        self.buffers: dict = {model: [] for model in TABLES}
        self.counts: collections.Counter = collections.Counter()
        self.pending = 0
        self.ids: collections.Counter = collections.Counter()  # model -> last id given
        self.numbers: collections.Counter = collections.Counter()  # kind -> last reference number

    def next_id(self, model) -> int:
        self.ids[model] += 1
        return self.ids[model]

    def next_number(self, kind: str) -> int:
        self.numbers[kind] += 1
        return self.numbers[kind]

    def add(self, model, row: dict) -> None:
        self.counts[model] += 1
        if self.conn is not None:
            self.buffers[model].append(row)
            self.pending += 1

    def log(self, at_: datetime, person_id: int | None, action: str, record: str, after: dict) -> None:
        self.add(ActivityLog, {"id": self.next_id(ActivityLog), "workspace_id": 1, "at": at_, "person_id": person_id,
                               "platform": "console", "action": action, "record": record, "before": None,
                               "after": after})

    async def flush(self, at_least: int = 1) -> None:
        if self.conn is None or self.pending < at_least:
            return
        for model in TABLES:
            if rows := self.buffers[model]:
                await self.conn.execute(insert(model.__table__), rows)
                rows.clear()
        self.pending = 0

    def activity_rows(self) -> int:
        return sum(n for model, n in self.counts.items() if model not in NOT_ACTIVITY)


# ---------------------------------------------------------------------------------------
# The organisation and the partnerships
# ---------------------------------------------------------------------------------------

@dataclass
class Org:
    manager_of: dict[int, int | None]  # person -> manager
    reports: dict[int, list[int]]  # manager -> direct reports
    depth: int


def organisation(people: int) -> Org:
    """Person 1 at the top; managers are given 5 to 11 reports each, in turn, until everyone has a
    place. The next manager is the one waiting longest a third of the time, else anyone waiting:
    some branches go deeper than others, down to MAX_LEVELS."""
    manager_of: dict[int, int | None] = {1: None}
    reports: dict[int, list[int]] = collections.defaultdict(list)
    level = {1: 1}
    waiting = collections.deque([1])
    following = 2
    while following <= people:
        if random.random() < 1 / 3:
            manager = waiting.popleft()
        else:
            manager = waiting[index := random.randrange(len(waiting))]
            del waiting[index]
        if level[manager] == MAX_LEVELS:
            continue
        for _ in range(random.randint(5, 11)):
            if following > people:
                break
            manager_of[following] = manager
            reports[manager].append(following)
            level[following] = level[manager] + 1
            waiting.append(following)
            following += 1
    return Org(manager_of, dict(reports), max(level.values()))


@dataclass
class Plan:
    """One partnership: who is on which side, since when, how busy."""

    id: int
    managers: tuple[int, int]  # side a's, side b's
    reps: tuple[list[int], list[int]]
    weeks: int  # weeks of history: it was accepted that many weeks before THIS_MONDAY
    busyness: float
    with_meetings: bool
    series_id: int | None = None  # its meeting series, once its rows are made
    members: list[tuple[int, str]] = field(default_factory=list)  # (person, side)

    @property
    def accepted_at(self) -> datetime:
        return THIS_MONDAY - timedelta(weeks=self.weeks, days=3)


def plans(org: Org, partnerships: int, history_weeks: int) -> list[Plan]:
    # first-line managers: those with at least four reps (people without reports) below them
    first_line = [m for m, rs in org.reports.items() if sum(r not in org.reports for r in rs) >= 4]
    made = []
    for n in range(1, partnerships + 1):
        a, b = random.sample(first_line, 2)
        size = random.randint(8, 12) - 2  # reps on both sides
        reps_a, reps_b = ([r for r in org.reports[m] if r not in org.reports] for m in (a, b))
        reps = (random.sample(reps_a, min(len(reps_a), size // 2)),
                random.sample(reps_b, min(len(reps_b), size - size // 2)))
        plan = Plan(n, (a, b), reps, random.randint(min(4, history_weeks), history_weeks),
                    random.lognormvariate(0, 0.8), random.random() < WITH_MEETINGS)
        plan.members = [(a, "a"), (b, "b")] + [(r, "a") for r in reps[0]] + [(r, "b") for r in reps[1]]
        made.append(plan)
    return made


def setup_rows(rows: Rows, org: Org, people: int, partnerships: list[Plan]) -> None:
    created = THIS_MONDAY - timedelta(weeks=HISTORY_WEEKS + 4)
    rows.add(Workspace, {"id": rows.next_id(Workspace), "platform": "console", "external_id": WORKSPACE,
                         "created_at": created})
    for n in range(1, people + 1):
        name = f"{FIRST[(n - 1) % len(FIRST)]} {LAST[(n - 1) // len(FIRST) % len(LAST)]}"
        rows.add(Person, {"id": rows.next_id(Person), "workspace_id": 1, "display_name": name, "timezone": None,
                          "platform_timezone": None, "manager_id": org.manager_of[n], "created_at": created})
        rows.add(Identity, {"id": rows.next_id(Identity), "workspace_id": 1, "person_id": n, "platform": "console",
                            "external_id": f"u{n}", "channel_account_id": None, "email": None, "contact": None})
    next_monday = THIS_MONDAY + timedelta(weeks=1)
    for p in partnerships:
        number = rows.next_number("P")
        rows.add(Partnership, {"id": rows.next_id(Partnership), "workspace_id": 1, "number": number,
                               "name": f"Alliance {number}", "name_key": f"alliance {number}",
                               "created_by_id": p.managers[0], "created_at": p.accepted_at - timedelta(days=1),
                               "charter_version": 1, "status": "active", "accepted_at": p.accepted_at,
                               "pulse_next_at": at(date(2027, 1, 4), 9)})  # next month's first Monday
        for person, side in p.members:
            role = "manager" if person in p.managers else "rep"
            rows.add(PartnershipMember, {"partnership_id": p.id, "person_id": person, "side": side, "role": role,
                                         "added_at": p.accepted_at})
        for manager in p.managers:
            rows.add(CharterAgreement, {"partnership_id": p.id, "person_id": manager, "version": 1,
                                        "agreed_at": p.accepted_at})
            rows.add(SyncSeries, {"id": rows.next_id(SyncSeries), "partnership_id": p.id, "person_id": manager,
                                  "weekday": "mon", "time": "09:00", "timezone": "UTC",
                                  "next_run_at": next_monday.replace(hour=9)})
        if p.with_meetings:
            p.series_id = rows.next_id(MeetingSeries)
            rows.add(MeetingSeries, {"id": p.series_id, "workspace_id": 1, "partnership_id": p.id,
                                     "organiser_id": p.managers[0], "purpose": f"Account planning {number}",
                                     "weekday": "tue", "time": "15:00", "minutes": 60, "timezone": "UTC",
                                     "next_start_at": next_monday + timedelta(days=1, hours=15),
                                     "created_at": p.accepted_at, "stopped_at": None})


# ---------------------------------------------------------------------------------------
# The activity: week by week, per partnership
# ---------------------------------------------------------------------------------------

class History:
    def __init__(self, rows: Rows, intensity: float):
        self.rows, self.intensity = rows, intensity

    def commitment(self, owner: int, created: datetime, due: date, *, what: str, account: str | None = None,
                   **links: int | None) -> tuple[int, bool]:
        """A commitment and its audit row; (its id, kept: done)."""
        rows = self.rows
        if at(due) <= created:
            due = created.date() + timedelta(days=1)
        due_at = at(due)
        closed_at, cadence_at, step = None, None, None
        r = random.random()
        if due_at <= NOW:
            overdue = 0.2 if due_at > NOW - timedelta(weeks=4) else 0.04  # few stay open for long
            if r < overdue:
                status = "open"  # its overdue notice went out
            elif r < overdue + 0.08:
                status, closed_at = "dropped", between(created, NOW)
            else:
                status = "done"
                closed_at = between(created, due_at) if random.random() < 0.8 else \
                    before_now(due_at + timedelta(hours=random.uniform(1, 168)))
        elif r < 0.15:
            status, closed_at = "done", between(created, NOW)
        else:
            status = "open"
            cadence_at, step = (due_at - timedelta(hours=24), "reminder")
            if cadence_at <= NOW:
                cadence_at, step = due_at, "overdue"
        number = rows.next_number("C")
        cid = rows.next_id(Commitment)
        rows.add(Commitment, {
            "id": cid, "workspace_id": 1, "number": number, "owner_id": owner, "created_by_id": owner,
            "what": what, "due_date": due, "due_at": due_at, "status": status, "closed_at": closed_at,
            "close_note": None, "account": account, "handoff_id": links.get("handoff_id"),
            "peer_sync_id": links.get("peer_sync_id"), "meeting_id": links.get("meeting_id"),
            "lead_id": links.get("lead_id"), "created_at": created, "cadence_at": cadence_at, "cadence_step": step})
        rows.log(created, owner, "commitment.created", f"C-{number}", {"what": what, "due": due.isoformat()})
        return cid, status == "done"

    def win(self, record: str, won_at: datetime, won_by: int, originator: int, deliverer: int,
            contributors: list[int], **record_id: int) -> int:
        """The win of a handoff or lead, its credit and audit rows; its amount in cents."""
        rows = self.rows
        amount = round(random.lognormvariate(math.log(40_000), 1.0) * 100)
        wid = rows.next_id(Win)
        rows.add(Win, {"id": wid, "workspace_id": 1, "record": record, "handoff_id": record_id.get("handoff_id"),
                       "lead_id": record_id.get("lead_id"), "amount_cents": amount, "won_by_id": won_by,
                       "won_at": won_at})
        for c in credit.split(originator, deliverer, contributors, CREDIT_SHARES):
            rows.add(WinCredit, {"win_id": wid, "person_id": c.person_id, "roles": ",".join(c.roles),
                                 "share": c.share})
        rows.log(won_at, won_by, "win.recorded", record, {"amount_cents": amount})
        return amount

    def partnership(self, p: Plan) -> None:
        for back in range(p.weeks - 1, -1, -1):
            monday = THIS_MONDAY - timedelta(weeks=back)
            density = RECENT_DENSITY if back < RECENT_WEEKS else 1.0
            lam = self.intensity * p.busyness * density
            self.peer_sync(p, monday, lam)
            meeting_id = self.meeting(p, monday, lam) if p.with_meetings else None
            for _ in range(stochastic_round(lam * LEADS)):
                self.lead(p, monday, meeting_id)
            for _ in range(stochastic_round(lam * HANDOFFS)):
                self.handoff(p, monday)
            for _ in range(stochastic_round(lam * ASKS)):
                self.ask(p, monday)
            for _ in range(stochastic_round(lam * PLAIN_COMMITMENTS)):
                owner = random.choice(p.members)[0]
                created = before_now(monday + timedelta(hours=random.uniform(8, 110)))
                self.commitment(owner, created, created.date() + timedelta(days=random.randint(1, 21)),
                                what="follow up with the partner team",
                                account=f"Account {random.randint(1, 3000)}" if random.random() < 0.5 else None)
            if monday.day <= 7:  # the first Monday of a month: its pulse
                self.pulse(p, monday)

    def peer_sync(self, p: Plan, monday: datetime, lam: float) -> None:
        rows = self.rows
        opened = monday.replace(hour=9)
        deadline = opened + timedelta(days=2)
        year, week, _ = monday.isocalendar()
        number = rows.next_number("S")
        sid = rows.next_id(PeerSync)
        rows.add(PeerSync, {"id": sid, "workspace_id": 1, "number": number, "partnership_id": p.id,
                            "week": f"{year}-W{week:02d}", "opened_at": opened, "deadline_at": deadline,
                            "pledges_due_at": opened + timedelta(weeks=1),
                            "digest_at": deadline if deadline <= NOW else None})
        for manager, side in zip(p.managers, "ab", strict=True):
            answered = random.random() < SYNC_ANSWERED
            answered_at = before_now(opened + timedelta(hours=random.uniform(0.5, 47))) if answered else None
            if answered:  # nudged once when it came after the first day
                nudged = int(answered_at > opened + timedelta(hours=24))
            else:
                nudged = min(2, (min(NOW, deadline) - opened).days)
            rows.add(SyncAnswer, {
                "peer_sync_id": sid, "person_id": manager, "side": side, "prompted_at": opened, "nudges": nudged,
                "last_nudged_at": opened + timedelta(days=nudged) if nudged else None, "answered_at": answered_at,
                "edited_at": None,
                "answers": {qid: f"{label}: notes of week {week}" for qid, label in QUESTIONS} if answered else None})
            if answered:
                for _ in range(stochastic_round(lam * PLEDGES_PER_ANSWER)):
                    self.commitment(manager, answered_at, (opened + timedelta(weeks=1)).date(),
                                    what="pledge of the peer sync", peer_sync_id=sid)

    def meeting(self, p: Plan, monday: datetime, lam: float) -> int:
        rows = self.rows
        starts = monday + timedelta(days=1, hours=15)
        ends = starts + timedelta(hours=1)
        closed = random.random() < MEETING_CLOSED and ends < NOW
        organiser = p.managers[0]
        number = rows.next_number("M")
        mid = rows.next_id(Meeting)
        closed_at = before_now(ends + timedelta(hours=random.uniform(0.1, 20))) if closed else None
        rows.add(Meeting, {"id": mid, "workspace_id": 1, "number": number, "series_id": p.series_id,
                           "partnership_id": p.id, "organiser_id": organiser,
                           "purpose": f"Account planning {p.id}", "starts_at": starts, "ends_at": ends,
                           "closed_at": closed_at, "closed_by_id": organiser if closed else None,
                           "nudges": 0 if closed else 2, "cadence_at": None, "cadence_step": None})
        rows.log(starts, None, "meeting.started", f"M-{number}", {"partnership": f"P-{p.id}"})
        if closed:
            for _ in range(stochastic_round(lam * ACTION_ITEMS)):
                self.commitment(random.choice(p.members)[0], closed_at,
                                closed_at.date() + timedelta(days=random.randint(3, 14)),
                                what="action item of the meeting", meeting_id=mid)
        return mid

    def lead(self, p: Plan, monday: datetime, meeting_id: int | None) -> None:
        rows = self.rows
        created = before_now(monday + timedelta(hours=random.uniform(20, 110)))
        age = (NOW - created).days
        owner, originator = random.choice(p.members)[0], random.choice(p.members)[0]
        account = f"Account {random.randint(1, 3000)}"
        number = rows.next_number("L")
        lid = rows.next_id(Lead)
        status, closed_at, amount = "open", None, None
        if random.random() < min(0.7, age / 120):
            status = "won" if random.random() < 0.45 else "lost"
            closed_at = before_now(created + timedelta(days=random.uniform(7, max(8, min(age, 120)))))
        rows.log(created, originator, "lead.created", f"L-{number}", {"account": account})
        kept = []  # who kept a next activity: the win's contributors
        for _ in range(stochastic_round(NEXT_ACTIVITIES)):
            done_by = created + timedelta(days=random.randint(2, 30))
            _, was_kept = self.commitment(owner, created, done_by.date(), what=f"next step on {account}",
                                          account=account, lead_id=lid)
            if was_kept:
                kept.append(owner)
        if status == "won":
            amount = self.win(f"L-{number}", closed_at, owner, originator, owner, kept, lead_id=lid)
        # buffered after its next activities and win, inserted before them (Rows.flush's order)
        rows.add(Lead, {"id": lid, "workspace_id": 1, "number": number, "account": account,
                        "idea": f"co-sell {account}", "owner_id": owner, "created_by_id": originator,
                        "meeting_id": meeting_id if meeting_id and random.random() < 0.5 else None,
                        "partnership_id": p.id, "status": status, "amount_cents": amount,
                        "close_reason": "went with a competitor" if status == "lost" else None,
                        "closed_at": closed_at, "created_at": created})

    def handoff(self, p: Plan, monday: datetime) -> None:
        rows = self.rows
        created = before_now(monday + timedelta(hours=random.uniform(8, 110)))
        age_days = (NOW - created).total_seconds() / 86400
        a_to_b = random.random() < 0.5
        from_side, to_side = ("a", "b") if a_to_b else ("b", "a")
        sender = random.choice([m for m, s in p.members if s == from_side])
        receiver = random.choice([m for m, s in p.members if s == to_side])
        account = f"Account {random.randint(1, 3000)}"
        number = rows.next_number("H")
        hid = rows.next_id(Handoff)
        accepted_at = declined_at = None
        stage, stage_changed_at = "identified", created
        r = random.random()
        if r < 0.05 and age_days > 2:
            declined_at = created + timedelta(hours=random.uniform(1, 40))
        elif r < 0.95 or age_days < 2:
            accepted_at = before_now(created + timedelta(hours=random.uniform(1, 40)))
            step_days = random.uniform(5, 20)
            steps = min(int(age_days / step_days), len(OPEN_STAGES))
            if steps == len(OPEN_STAGES):
                stage = "won" if random.random() < 0.4 else "lost"
            else:
                stage = OPEN_STAGES[steps]
            stage_changed_at = before_now(created + timedelta(days=steps * step_days)) if steps else created
        is_open = stage in OPEN_STAGES and declined_at is None
        stale_at = stage_changed_at + timedelta(days=14)
        due_date = (created + timedelta(days=random.randint(14, 45))).date() if random.random() < 0.3 else None
        due_passed = due_date is not None and at(due_date) <= NOW
        rows.add(Handoff, {
            "id": hid, "workspace_id": 1, "number": number, "from_id": sender, "to_id": receiver, "account": account,
            "need": f"introduce {account}'s buyer", "due_date": due_date, "stage": stage,
            "stage_changed_at": stage_changed_at, "accepted_at": accepted_at, "declined_at": declined_at,
            "decline_reason": "not our territory" if declined_at else None, "created_at": created,
            "accept_nudged_at": created + timedelta(hours=48) if accepted_at is None and age_days > 2 else None,
            "stale_reported_at": stale_at if is_open and stale_at <= NOW else None,
            "due_reminded_at": at(due_date) - timedelta(days=1) if due_passed else None,
            "overdue_notified_at": at(due_date) if due_passed and is_open else None})
        rows.log(created, sender, "handoff.offered", f"H-{number}", {"account": account, "to": receiver})
        kept = []
        if accepted_at is not None:
            for _ in range(stochastic_round(TIED_TO_HANDOFF)):
                owner = random.choice((sender, receiver))
                _, was_kept = self.commitment(owner, accepted_at,
                                              (accepted_at + timedelta(days=random.randint(2, 21))).date(),
                                              what=f"work on {account}", account=account, handoff_id=hid)
                if was_kept:
                    kept.append(owner)
        if stage == "won":
            self.win(f"H-{number}", stage_changed_at, receiver, sender, receiver, kept, handoff_id=hid)

    def ask(self, p: Plan, monday: datetime) -> None:
        rows = self.rows
        created = before_now(monday + timedelta(hours=random.uniform(8, 110)))
        asker, side = random.choice(p.members)
        asked = random.choice([m for m, s in p.members if s != side])
        first = accepted = declined = answered = None
        status = "open"
        if created < NOW - timedelta(hours=6) and random.random() < 0.9:
            first = before_now(created + timedelta(hours=random.uniform(0.2, 72)))
            r = random.random()
            if r < 0.6:
                status, answered = "answered", first
            elif r < 0.9:
                status, accepted = "accepted", first
            else:
                status, declined = "declined", first
        number = rows.next_number("Q")
        rows.add(Ask, {
            "id": rows.next_id(Ask), "workspace_id": 1, "number": number, "asker_id": asker, "person_id": asked,
            "request": "a customer reference in retail",
            "due_date": (created + timedelta(days=7)).date() if random.random() < 0.4 else None, "handoff_id": None,
            "lead_id": None, "partnership_id": p.id, "status": status, "created_at": created,
            "first_response_at": first, "accepted_at": accepted, "declined_at": declined,
            "decline_reason": "no time this week" if declined else None, "answered_at": answered,
            "answer": "Yes: ask Ana Abe" if answered else None, "cadence_at": None, "cadence_step": None})
        rows.log(created, asker, "ask.created", f"Q-{number}", {"to": asked})

    def pulse(self, p: Plan, monday: datetime) -> None:
        rows = self.rows
        opened = monday.replace(hour=9)
        closes = opened + timedelta(days=3)
        if closes > NOW:
            return
        pid = rows.next_id(Pulse)
        rows.add(Pulse, {"id": pid, "workspace_id": 1, "partnership_id": p.id, "period": f"{monday:%Y-%m}",
                         "opened_at": opened, "closes_at": closes, "closed_at": closes})
        for person, side in p.members:
            if random.random() < PULSE_ANSWERED:
                rows.add(PulseAnswer, {
                    "pulse_id": pid, "person_id": person, "side": side,
                    "scores": {dimension: random.choice((2, 3, 3, 4, 4, 4, 5)) for dimension, _ in DIMENSIONS},
                    "comment": "more joint pipeline reviews" if random.random() < 0.2 else None,
                    "answered_at": opened + timedelta(hours=random.uniform(1, 70))})

    def personal(self, person: int, weeks: int) -> None:
        """Commitments of one's own, outside any partnership."""
        for back in range(weeks - 1, -1, -1):
            density = RECENT_DENSITY if back < RECENT_WEEKS else 1.0
            for _ in range(stochastic_round(self.intensity * PERSONAL_COMMITMENTS * density)):
                created = before_now(THIS_MONDAY - timedelta(weeks=back) + timedelta(hours=random.uniform(8, 110)))
                self.commitment(person, created, created.date() + timedelta(days=random.randint(1, 14)),
                                what="send the quarterly forecast")


def counted(partnerships: list[Plan], intensity: float) -> int:
    """The activity rows of these partnerships at `intensity`, only counted (the random state
    is left as it was)."""
    rows = Rows()
    state = random.getstate()
    h = History(rows, intensity)
    for p in partnerships:
        h.partnership(p)
    random.setstate(state)
    return rows.activity_rows()


def calibrate(partnerships: list[Plan], people: int, weeks: int, target: int) -> float:
    """The intensity at which the activity comes to about `target` rows: the partnerships'
    rows counted at intensity 0 (syncs, meetings, pulses: what does not scale) and 1, the
    commitments of one's own reckoned."""
    fixed = counted(partnerships, 0.0)
    dense_weeks = min(weeks, RECENT_WEEKS) * RECENT_DENSITY + max(0, weeks - RECENT_WEEKS)
    personal = people * dense_weeks * PERSONAL_COMMITMENTS
    return max(0.0, (target - fixed) / (counted(partnerships, 1.0) - fixed + personal))


async def populate(db: Database, people: int, partnerships: int, target: int) -> dict:
    random.seed(SEED)
    org = organisation(people)
    # the syncs, meetings and pulses grow with the weeks of history, not with the rows: a small
    # --rows gets a shorter history, so that they stay at most about half of it
    fixed = counted(plans(org, partnerships, HISTORY_WEEKS), 0.0)
    weeks = HISTORY_WEEKS
    if fixed > target / 2:
        weeks = max(RECENT_WEEKS + 1, int(HISTORY_WEEKS * target / 2 / fixed))
    random.seed(SEED + 1)
    planned = plans(org, partnerships, weeks)
    intensity = calibrate(planned, people, weeks, target)
    async with db.engine.begin() as conn:
        rows = Rows(conn)
        setup_rows(rows, org, people, planned)
        await rows.flush()
        h = History(rows, intensity)
        for p in planned:
            h.partnership(p)
            await rows.flush(CHUNK)
        for person in range(1, people + 1):
            h.personal(person, weeks)
            await rows.flush(CHUNK)
        for kind, value in sorted(rows.numbers.items()):
            rows.add(Counter, {"workspace_id": 1, "kind": kind, "value": value})
        await rows.flush()
        if conn.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for model in WITH_IDS:
                table = model.__tablename__
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
    if db.url.startswith("postgresql"):
        # autovacuum analyses tables after a bulk load like this one within a minute: do it now,
        # so that the plans measured are the ones a live server gets
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    return {"weeks": weeks, "depth": org.depth, "activity": rows.activity_rows()}


# ---------------------------------------------------------------------------------------
# What to request: chosen from the database, so that a kept one is measured alike
# ---------------------------------------------------------------------------------------

@dataclass
class Targets:
    signer: str  # the console user id of the workspace's top manager
    pages: list[tuple[str, str, str]]  # (kind, label, path)
    counts: dict[str, int]


def last_full_quarter(day: date) -> tuple[date, date]:
    first_month = (day.month - 1) // 3 * 3 + 1
    this_quarter = date(day.year, first_month, 1)
    end = this_quarter - timedelta(days=1)
    return date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


async def targets(db: Database) -> Targets:
    async with db.engine.connect() as conn:
        async def scalar(query):
            return (await conn.execute(query)).scalar_one()

        counts = {model.__tablename__: await scalar(select(func.count()).select_from(model))
                  for model in TABLES if model not in (Workspace, Counter)}
        top = await scalar(select(Person.id).where(Person.manager_id.is_(None)).order_by(Person.id).limit(1))
        signer = await scalar(select(Identity.external_id).where(Identity.person_id == top).limit(1))
        # how busy a partnership is: its pledges, action items, leads and asks
        busy = collections.Counter()
        for query in (
            select(PeerSync.partnership_id, func.count()).join(Commitment, Commitment.peer_sync_id == PeerSync.id)
            .group_by(PeerSync.partnership_id),
            select(Meeting.partnership_id, func.count()).join(Commitment, Commitment.meeting_id == Meeting.id)
            .group_by(Meeting.partnership_id),
            select(Lead.partnership_id, func.count()).group_by(Lead.partnership_id),
            select(Ask.partnership_id, func.count()).group_by(Ask.partnership_id),
        ):
            for pid, n in (await conn.execute(query)).all():
                busy[pid] += n
        for (pid,) in (await conn.execute(select(Partnership.id))).all():
            busy.setdefault(pid, 0)
        ranked = [pid for pid, _ in sorted(busy.items(), key=lambda item: (-item[1], item[0]))]
        boss_of = dict((await conn.execute(select(Person.id, Person.manager_id))).all())
        reports = collections.Counter(boss for boss in boss_of.values() if boss is not None)  # direct ones
        below = collections.Counter()  # everyone under a manager
        for person in boss_of:
            boss = boss_of[person]
            while boss is not None:
                below[boss] += 1
                boss = boss_of[boss]
        # the manager under the top one with the largest organisation, and the manager of reps
        # only (a first-line manager) with the most of them
        second = max((m for m in reports if boss_of[m] == top), key=lambda m: (below[m], -m), default=top)
        first_line = max((m for m in reports if below[m] == reports[m]), key=lambda m: (reports[m], -m), default=top)
        rep = (await conn.execute(
            select(Commitment.owner_id).where(Commitment.owner_id.not_in(list(reports)))
            .group_by(Commitment.owner_id).order_by(func.count().desc(), Commitment.owner_id).limit(1))).scalar()
        start, end = last_full_quarter(NOW.date())
        wins = await scalar(select(func.count()).select_from(Win).where(
            Win.won_at >= at(start, 0), Win.won_at < at(end + timedelta(days=1), 0)))
    period = f"from={start:%Y-%m-%d}&to={end:%Y-%m-%d}"
    # the overview as people open it (its snapshot, computed by the warm-up), and computed anew
    # ("Refresh now"; what refreshing a stale snapshot in the background costs)
    pages = [("overview", "overview (its snapshot)", "/app/"),
             ("overview-computed", "overview computed now (Refresh now, or a stale one's refresh)", "/app/?refresh=1")]
    pages += [("partnership", f"partnership {label} (id {pid}, busy {busy[pid]})", f"/app/partnerships/{pid}")
              for label, pid in (("busiest", ranked[0]), ("median", ranked[len(ranked) // 2]))]
    people = [("top manager", top, below[top]), ("manager below the top", second, below[second]),
              ("first-line manager", first_line, below[first_line])]
    pages += [("person", f"{label} (id {pid}, {n} below)", f"/app/people/{pid}") for label, pid, n in people]
    if rep is not None:
        pages.append(("person", f"busiest rep (id {rep})", f"/app/people/{rep}"))
    pages.append(("leaders", "leaders", "/app/leaders"))
    pages.append(("credit", f"credit {start:%Y-%m-%d}..{end:%Y-%m-%d} ({wins:,} wins)", f"/app/credit?{period}"))
    pages.append(("credit", "credit CSV, same quarter", f"/app/credit.csv?{period}"))
    return Targets(signer, pages, counts)


# ---------------------------------------------------------------------------------------
# Serving and measuring
# ---------------------------------------------------------------------------------------

async def sign_in(bot, http: aiohttp.ClientSession, base: str, user: str) -> str:
    """The session cookie from a real `dashboard` command's link."""
    from handlers.kernel.model import Command

    reply = await bot.dispatcher.dispatch(Command(platform="console", workspace=WORKSPACE, user=user,
                                                  user_name=user, text="dashboard", is_direct=True))
    found = re.search(r"/app/signin/[A-Za-z0-9_-]+", reply.text)
    if not reply.ok or not found:
        sys.exit(f"dashboard: `dashboard` gave no sign-in link: {reply.text}")
    async with http.get(base + found.group(0), allow_redirects=False) as response:
        morsel = response.cookies.get(COOKIE)
        if response.status != 303 or morsel is None or not morsel.value:
            sys.exit(f"dashboard: signing in answered {response.status}, no {COOKIE} cookie")
        return morsel.value


class OncePerError(logging.Filter):
    """aiohttp logs a traceback per failed request: each distinct error once is enough."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        error = repr(record.exc_info[1]) if record.exc_info else record.getMessage()
        if error in self.seen:
            return False
        self.seen.add(error)
        return True


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def measure(http: aiohttp.ClientSession, base: str, cookie: str, path: str, repeat: int,
                  max_seconds: float) -> dict:
    """`repeat` requests after 2 warm-up ones, one after another; fewer when they have taken
    `max_seconds` (a page slow enough to need that is far from its goal anyway)."""
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    times, statuses, size = [], collections.Counter(), 0
    for i in range(2 + repeat):
        began = time.perf_counter()
        async with http.get(base + path, headers=headers, allow_redirects=False) as response:
            body = await response.read()
        took = (time.perf_counter() - began) * 1000
        if i >= 2:  # after the warm-up
            times.append(took)
            statuses[response.status] += 1
            size = len(body)
            if sum(times) > max_seconds * 1000:
                break
    return {"p50": statistics.median(times), "p95": percentile(times, 95), "statuses": statuses, "size": size}


def describe(backend: str, setup: str, chosen: Targets, args: argparse.Namespace) -> None:
    print(f"{backend} on {cpu_model()} ({os.cpu_count()} CPUs); {setup}")
    activity = {table: n for table, n in chosen.counts.items() if table not in {m.__tablename__ for m in NOT_ACTIVITY}}
    print(f"{sum(activity.values()):,} activity rows: " + ", ".join(f"{table} {n:,}" for table, n in activity.items())
          + f"; and {chosen.counts['activity_log']:,} rows of the audit trail")
    print(f"{chosen.counts['person']:,} people, {chosen.counts['partnership']:,} partnerships "
          f"({chosen.counts['partnership_member']:,} memberships); signed in as the top manager "
          f"(console user {chosen.signer}); {args.repeat} requests per page after 2 warm-up ones (fewer after "
          f"{args.max_seconds:g} s); clock at {NOW:%Y-%m-%d %H:%M} UTC")
    print("| page | path | status | p50 ms | p95 ms | goal p95 | KB |")
    print("|---|---|---|---|---|---|---|", flush=True)


def row(kind: str, label: str, path: str, m: dict) -> bool:
    """Prints the page's line of the table; whether it answered 200 within its goal."""
    statuses = m["statuses"]
    status = ", ".join(f"{code} ×{n}" for code, n in sorted(statuses.items()))
    answered = set(statuses) == {200}
    goal = GOALS_MS.get(kind)
    verdict = "" if goal is None else f"< {goal}" + ("" if not answered else " ✓" if m["p95"] < goal else " ✗")
    print(f"| {label} | {path} | {status if answered else '**' + status + '**'} | {m['p50']:.1f} | {m['p95']:.1f} "
          f"| {verdict} | {m['size'] / 1024:.1f} |", flush=True)
    return answered and (goal is None or m["p95"] < goal)


async def serve_and_measure(url: str, chosen: Targets, args: argparse.Namespace) -> bool:
    """Serves the app, signs in, measures every page, printing its line as it is done; whether
    all of them answered 200 within their goals."""
    from bot.config import load_settings
    from bot.server import build_web_app
    from bot.wiring import Partnerbot

    logging.getLogger("aiohttp.server").addFilter(OncePerError())
    os.chdir(tempfile.mkdtemp())  # the built-in settings, whatever an app.yaml here says
    settings = load_settings({"DATABASE_URL": url, "PUBLIC_URL": PUBLIC_URL,
                              "PARTNERBOT_CADENCE__TICK_SECONDS": "86400"})
    bot = Partnerbot(settings, lambda: NOW)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    within, failing = True, []
    try:
        async with aiohttp.ClientSession() as http:
            cookie = await sign_in(bot, http, base, chosen.signer)
            for kind, label, path in chosen.pages:
                measured = await measure(http, base, cookie, path, args.repeat, args.max_seconds)
                within &= row(kind, label, path, measured)
                if set(measured["statuses"]) != {200}:
                    failing.append(label)
    finally:
        await runner.cleanup()  # stops the sender and the schedule, closes the bot
    if failing:
        print(f"not 200: {', '.join(failing)} (a page not written yet answers 404)")
    return within


async def prepare(url: str, args: argparse.Namespace, reuse: bool) -> str:
    db = Database(url)
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            held = (await conn.execute(select(func.count()).select_from(Person))).scalar_one()
        if reuse and held:
            return "the kept database reused (setup skipped)"
        if held:
            sys.exit(f"dashboard: {url} already holds people; give an empty database")
        began = time.perf_counter()
        made = await populate(db, args.people, args.partnerships, args.rows)
        took = time.perf_counter() - began
        return (f"setup {took:.1f} s: {made['activity']:,} activity rows ({made['activity'] / took:,.0f}/s) over "
                f"{made['weeks']} weeks, hierarchy {made['depth']} levels deep")
    finally:
        await db.dispose()


async def main(args: argparse.Namespace) -> int:
    throwaway = None
    if args.postgres:
        url, admin_dsn = await throwaway_postgres()
        throwaway = (url, admin_dsn)
    elif args.keep:
        url = f"sqlite+aiosqlite:///{Path(args.keep).resolve()}"
    else:
        url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/dashboard.db"
    try:
        setup = await prepare(url, args, reuse=bool(args.keep) or args.reuse)
        db = Database(url)
        try:
            chosen = await targets(db)
        finally:
            await db.dispose()
        describe("PostgreSQL" if url.startswith("postgresql") else "SQLite", setup, chosen, args)
        return 0 if await serve_and_measure(url, chosen, args) else 1
    finally:
        if throwaway:
            await drop_postgres(*throwaway)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000, help="people in the workspace (default 2,000)")
    parser.add_argument("--partnerships", type=int, default=200, help="partnerships (default 200)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="activity rows, about (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page measured (default 30)")
    parser.add_argument("--max-seconds", type=float, default=60,
                        help="fewer requests of a page once they have taken this long (default 60)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database")
    where.add_argument("--keep", metavar="FILE", help="a SQLite file: generated into once, then measured again")
    parser.add_argument("--reuse", action="store_true",
                        help="with --database-url: measure what it holds when it holds people already")
    args = parser.parse_args()
    if args.people < 50:
        parser.error("--people must be 50 or more")
    if args.partnerships < 2 or args.repeat < 1 or args.rows < 1000:
        parser.error("--partnerships 2 or more, --repeat 1 or more, --rows 1,000 or more")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
