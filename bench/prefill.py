"""A big Slack workspace, written straight into a database at the current schema (issue 25).

Used by bench/slash_ack.py --prefill and bench/report_scale.py: the benches then measure the
bot on a database that holds years of use rather than on an empty one.

What `prefill(url, now)` writes, by default (Sizes):
  * the Slack workspace the benches' signed requests name (team T1), created two years ago;
  * 2,000 people, each with a Slack identity U1…U2000 (U1, the benches' caller, is person 1),
    their platform timezone UTC as users.info gives it (the fake Slack API's), in a manager
    hierarchy: a top manager, 20 directors, the partnerships' managers under the directors,
    their reps under them, and everyone else in teams of eight under a lead;
  * 100 accepted partnerships P-1…P-100 of 10 members each (a manager and four reps per side;
    U1 manages side A of P-1, U2 side B), each with its charter agreed, both managers' weekly
    peer-sync series and two years of weekly peer syncs (answers, digests);
  * P-1 is the busy one: besides its syncs, a weekly meeting series and its meetings, leads
    (some won, with their win and credit split), handoffs between the sides through their
    stages (some won), asks, and monthly health pulses with their answers;
  * 100,000 commitments (`commitment`): 10 % are P-1's (a quarter each: its syncs' pledges,
    its meetings' action items, its leads' next activities, work on its handoffs), 30 % the
    other partnerships' sync pledges, the rest everyone's own commitments (U1 included),
    three times as dense in the last 12 weeks as before; past due ones mostly done (some
    late, some dropped; a fifth of those due in the last 4 weeks still open, 1 % of older
    ones), future ones open with their reminder scheduled;
  * 1,000,000 rows of the audit trail (`activity_log`): every record's creation, every
    commitment's closing, the syncs' and meetings' openings and closings, handoff stages,
    wins…; the rest, to make up the number, are snoozes of those commitments (the volume of
    the trail, not a model of how often people snooze);
  * 100,000 processed deliveries (`processed_delivery`, Slack trigger ids of the last six
    days: inside the 7 days the tick keeps them);
  * the `counter` of every reference kind (C, S, M, L, H, Q, P) at the last number used, so
    that the next commitment is C-100001.

The data is quiet at `now`: nothing the tick does (reminders, nudges, digests, meeting
starts, pulses, stale handoffs, retention) falls due within the hour after it, so that a
served bot spends its time on the load only, as a live one would between its due instants.

Rows are written in one transaction, without the bot's code: on SQLite with the sqlite3
module's executemany (foreign keys on, checked at commit; the file written without its WAL,
put back in WAL mode and fsynced after, so that no write-back of it is left for the measured
run), on PostgreSQL with asyncpg's COPY (then the id sequences moved past the ids given, and
VACUUM ANALYZE, as autovacuum would shortly). About 30 s on SQLite and 50 s on PostgreSQL on a
2-core machine.
The schema comes first from the project's migrations (storage.migrate.upgrade, what `serve`
runs at start), and every NOT NULL column without a default of the tables written is checked
to be given. The database must hold no people yet.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.dashboard import FIRST, LAST  # the names the dashboard bench gives people too
from bench.fanout import drop_postgres, throwaway_postgres

__all__ = ["drop_postgres", "throwaway_postgres"]  # report_scale and slash_ack take them from here

UTC = timezone.utc
TEAM = "T1"  # the Slack team of the benches' signed requests (tests/fakes/slack_requests.py)
SEED = 25
DUE_TIME = (17, 0)  # cadence.commitments.due_time, in UTC: the default timezone
RECENT_WEEKS, RECENT_DENSITY = 12, 3.0
QUIET = timedelta(hours=1)  # nothing falls due in the hour after `now`
DIRECTORS, TEAM_SIZE, MEMBERS = 20, 9, 10  # a partnership: a manager and four reps per side

OWN_WORK = ("send the pricing deck", "follow up with procurement", "send the quarterly forecast",
            "book the demo", "update the account plan", "share the case study", "call the partner's SE")


@dataclass(frozen=True)
class Sizes:
    people: int = 2_000
    partnerships: int = 100
    commitments: int = 100_000
    activity: int = 1_000_000  # rows of activity_log
    deliveries: int = 100_000  # rows of processed_delivery
    weeks: int = 104  # of history
    busy_share: float = 0.10  # of the commitments: P-1's
    synced_share: float = 0.30  # of the commitments: the other partnerships' sync pledges


@dataclass
class Prefilled:
    backend: str
    counts: dict[str, int]  # rows written per table
    migrate_s: float
    generate_s: float
    write_s: float
    now: datetime
    team: str = TEAM
    # who to call as: (Slack user id, what they are)
    busy: str = "P-1"
    busy_manager: str = "U1"
    busy_rep: str = "U3"
    other: str = "P-2"
    other_manager: str = "U11"
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.migrate_s + self.generate_s + self.write_s

    def summary(self) -> str:
        main = ("commitment", "activity_log", "processed_delivery", "person", "identity", "partnership",
                "peer_sync", "meeting", "lead", "handoff", "ask", "win", "pulse")
        counts = ", ".join(f"{t} {self.counts.get(t, 0):,}" for t in main)
        rest = sum(n for t, n in self.counts.items() if t not in main)
        return (f"prefilled ({self.backend}) in {self.seconds:.1f} s (migrations {self.migrate_s:.1f} s, rows made "
                f"{self.generate_s:.1f} s, written {self.write_s:.1f} s): {counts}; {rest:,} rows in other tables; "
                f"busy partnership {self.busy} (U1 manages side A), clock at {self.now:%Y-%m-%d %H:%M} UTC")


# ---------------------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------------------

def _sqlite_ts(moment: datetime | None) -> str | None:
    """As SQLAlchemy's SQLite DateTime stores it (UTCDateTime: naive UTC)."""
    return None if moment is None else moment.isoformat(" ", "microseconds")


def _sqlite_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _same(value):
    return value


def _js(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value)


@dataclass
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple] = field(default_factory=list)


@dataclass
class Spec:
    """A commitment before it is numbered (in the order they were made)."""

    created: datetime
    owner: int
    created_by: int
    what: str
    due: date
    account: str | None = None
    handoff_id: int | None = None
    peer_sync_id: int | None = None
    meeting_id: int | None = None
    lead_id: int | None = None


class Builder:
    """Makes every table's rows. Datetimes are naive UTC until they are written (`ts`)."""

    def __init__(self, now: datetime, sizes: Sizes, sqlite: bool, team: str = TEAM, seed: int = SEED):
        from handlers.handoffs.service import OPEN_STAGES
        from handlers.wins import credit

        self.open_stages, self.credit = OPEN_STAGES, credit
        self.shares = credit.Shares(0.3, 0.5, 0.2)  # the built-in `credit` settings
        self.now = now.astimezone(UTC).replace(tzinfo=None)
        self.sizes, self.team = sizes, team
        self.rng = random.Random(seed)
        self.ts = _sqlite_ts if sqlite else _same
        self.day = _sqlite_day if sqlite else _same
        self.tables: dict[str, Table] = {}
        self.events: list[tuple] = []  # audit rows: (at, person_id, action, record, before, after)
        self.specs: list[Spec] = []
        self.numbers: dict[str, int] = {}
        self.this_monday = datetime.combine((self.now - timedelta(days=self.now.weekday())).date(), datetime.min.time())
        self.accepted = self.this_monday - timedelta(weeks=sizes.weeks, days=4)
        self.created = self.accepted - timedelta(days=30)  # the workspace

    # -- helpers ----------------------------------------------------------------------------
    def table(self, name: str, *columns: str) -> list:
        self.tables[name] = Table(name, columns)
        return self.tables[name].rows

    def number(self, kind: str) -> int:
        self.numbers[kind] = self.numbers.get(kind, 0) + 1
        return self.numbers[kind]

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random() if end > start else start

    def when(self, since: datetime | None = None) -> datetime:
        """An instant of the history, three times as likely per week in the last RECENT_WEEKS."""
        weeks = self.sizes.weeks
        recent = RECENT_WEEKS * RECENT_DENSITY / (RECENT_WEEKS * RECENT_DENSITY + max(0, weeks - RECENT_WEEKS))
        if self.rng.random() < recent or weeks <= RECENT_WEEKS:
            back = self.rng.uniform(0, min(weeks, RECENT_WEEKS))
        else:
            back = self.rng.uniform(RECENT_WEEKS, weeks)
        moment = self.now - timedelta(weeks=back) - timedelta(minutes=5)
        return max(moment, since) if since else moment

    def recency(self, moment: datetime) -> float:
        return RECENT_DENSITY if moment > self.now - timedelta(weeks=RECENT_WEEKS) else 1.0

    def log(self, at: datetime, person: int | None, action: str, record: str, after: dict | None = None,
            before: dict | None = None) -> None:
        self.events.append((at, person, action, record, before, after))

    def next_at(self, weekday: int, hour: int) -> datetime:
        """The next such weekday and hour at least QUIET after now."""
        moment = self.this_monday + timedelta(days=weekday, hours=hour)
        while moment < self.now + QUIET:
            moment += timedelta(weeks=1)
        return moment

    # -- people ---------------------------------------------------------------------------
    def people(self) -> None:
        s, ts = self.sizes, self.ts
        k = self.partnerships_n = max(2, min(s.partnerships, (s.people - DIRECTORS - 2) // MEMBERS))
        if s.people < k * MEMBERS + DIRECTORS + 2:
            raise ValueError(f"--people must be at least {2 * MEMBERS + DIRECTORS + 2}")
        top = k * MEMBERS + 1
        directors = list(range(top + 1, top + 1 + DIRECTORS))
        manager_of: dict[int, int | None] = {top: None}
        for d in directors:
            manager_of[d] = top
        for p in range(1, k + 1):
            base = (p - 1) * MEMBERS + 1
            a, b = base, base + 1
            manager_of[a] = manager_of[b] = directors[(p - 1) % DIRECTORS]
            for i in range(4):
                manager_of[base + 2 + i] = a
                manager_of[base + 6 + i] = b
        lead = None
        for i, person in enumerate(range(top + 1 + DIRECTORS, s.people + 1)):
            if i % TEAM_SIZE == 0:
                lead, manager_of[person] = person, directors[(i // TEAM_SIZE) % DIRECTORS]
            else:
                manager_of[person] = lead
        self.manager_of = manager_of
        self.table("workspace", "id", "platform", "external_id", "created_at").append(
            (1, "slack", self.team, ts(self.created)))
        people = self.table("person", "id", "workspace_id", "display_name", "timezone", "platform_timezone",
                            "manager_id", "created_at")
        identities = self.table("identity", "id", "workspace_id", "person_id", "platform", "external_id",
                                "channel_account_id", "email", "contact")
        for n in range(1, s.people + 1):
            name = f"{FIRST[(n - 1) % len(FIRST)]} {LAST[(n - 1) // len(FIRST) % len(LAST)]}"
            joined = ts(self.between(self.created, self.accepted))
            people.append((n, 1, name, None, "UTC", manager_of[n], joined))
            identities.append((n, 1, n, "slack", f"U{n}", None, None, None))

    def members(self, p: int) -> tuple[list[int], list[int]]:
        """Side A's and side B's people of partnership p, managers first."""
        base = (p - 1) * MEMBERS + 1
        return [base, *range(base + 2, base + 6)], [base + 1, *range(base + 6, base + 10)]

    # -- partnerships and their peer syncs --------------------------------------------------
    def partnerships(self) -> None:
        ts = self.ts
        rows = self.table("partnership", "id", "workspace_id", "number", "name", "name_key", "created_by_id",
                          "created_at", "charter_version", "status", "accepted_at", "pulse_next_at")
        members = self.table("partnership_member", "partnership_id", "person_id", "side", "role", "added_at")
        agreed = self.table("charter_agreement", "partnership_id", "person_id", "version", "agreed_at")
        series = self.table("sync_series", "id", "partnership_id", "person_id", "weekday", "time", "timezone",
                            "next_run_at")
        pulse_next = self.next_month_monday()
        next_sync = self.next_at(0, 9)
        for p in range(1, self.partnerships_n + 1):
            number = self.number("P")
            side_a, side_b = self.members(p)
            proposed = self.accepted - timedelta(days=1)
            rows.append((p, 1, number, f"Alliance {number}", f"alliance {number}", side_a[0], ts(proposed), 1,
                         "active", ts(self.accepted), ts(pulse_next)))
            for side, people in (("a", side_a), ("b", side_b)):
                for i, person in enumerate(people):
                    members.append((p, person, side, "rep" if i else "manager", ts(self.accepted)))
            self.log(proposed, side_a[0], "partnership.proposed", f"P-{number}", {"name": f"Alliance {number}"})
            self.log(self.accepted, side_b[0], "partnership.accepted", f"P-{number}", {"status": "active"})
            for manager in (side_a[0], side_b[0]):
                agreed.append((p, manager, 1, ts(self.accepted)))
                series.append((len(series) + 1, p, manager, "mon", "09:00", "UTC", ts(next_sync)))
                self.log(self.accepted, manager, "partnership.charter_agreed", f"P-{number}", {"version": 1})

    def next_month_monday(self) -> datetime:
        """The first Monday of a month, 09:00, at least a day away: the next monthly pulse."""
        year, month = self.now.year, self.now.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            first = datetime(year, month, 1, 9)
            monday = first + timedelta(days=(7 - first.weekday()) % 7)
            if monday > self.now + timedelta(days=1):
                return monday

    def peer_syncs(self) -> tuple[list, list]:
        """Weekly syncs of every partnership, week by week (so numbered in time order); the
        answered managers' parts: (P-1's, the others'), each (sync id, manager, answered at, due)."""
        from handlers.peer_sync.messages import QUESTIONS

        ts, rng = self.ts, self.rng
        syncs = self.table("peer_sync", "id", "workspace_id", "number", "partnership_id", "week", "opened_at",
                           "deadline_at", "pledges_due_at", "digest_at")
        answers = self.table("sync_answer", "peer_sync_id", "person_id", "side", "prompted_at", "nudges",
                             "last_nudged_at", "answered_at", "edited_at", "answers")
        busy, others = [], []
        monday = self.this_monday - timedelta(weeks=self.sizes.weeks - 1)
        while monday <= self.this_monday:
            opened, year_week = monday + timedelta(hours=9), monday.isocalendar()
            deadline = opened + timedelta(days=2)
            if deadline > self.now - QUIET:  # its digest is still to come: left out, quiet
                break
            week = f"{year_week[0]}-W{year_week[1]:02d}"
            for p in range(1, self.partnerships_n + 1):
                sid, number = len(syncs) + 1, self.number("S")
                syncs.append((sid, 1, number, p, week, ts(opened), ts(deadline), ts(opened + timedelta(weeks=1)),
                              ts(deadline)))
                self.log(opened, None, "peer_sync.opened", f"S-{number}", {"partnership": f"P-{p}", "week": week})
                self.log(deadline, None, "peer_sync.digest", f"S-{number}", {"answered": 2})
                side_a, side_b = self.members(p)
                for side, manager in (("a", side_a[0]), ("b", side_b[0])):
                    if rng.random() < 0.85:
                        at = opened + timedelta(hours=rng.uniform(0.5, 47))
                        nudges = int(at > opened + timedelta(hours=24))
                        text = {qid: f"{label}: notes of {week}" for qid, label in QUESTIONS}
                        answers.append((sid, manager, side, ts(opened), nudges,
                                        ts(opened + timedelta(hours=24)) if nudges else None, ts(at), None, _js(text)))
                        (busy if p == 1 else others).append((sid, manager, at, (opened + timedelta(weeks=1)).date()))
                    else:  # nudged twice, never answered
                        answers.append((sid, manager, side, ts(opened), 2, ts(opened + timedelta(hours=48)), None,
                                        None, None))
            monday += timedelta(weeks=1)
        return busy, others

    # -- P-1: meetings, leads, handoffs, asks, pulses ---------------------------------------
    def meetings(self) -> list[tuple[int, datetime]]:
        """P-1's weekly meetings (Tuesdays 15:00), each closed; (id, closed at) of each."""
        ts, rng = self.ts, self.rng
        organiser = self.members(1)[0][0]
        series_start = self.this_monday - timedelta(weeks=self.sizes.weeks - 1)
        self.table("meeting_series", "id", "workspace_id", "partnership_id", "organiser_id", "purpose", "weekday",
                   "time", "minutes", "timezone", "next_start_at", "created_at", "stopped_at").append(
            (1, 1, 1, organiser, "Account planning", "tue", "15:00", 60, "UTC", ts(self.next_at(1, 15)),
             ts(self.accepted), None))
        self.log(self.accepted, organiser, "meeting.series_created", "P-1", {"purpose": "Account planning"})
        rows = self.table("meeting", "id", "workspace_id", "number", "series_id", "partnership_id", "organiser_id",
                          "purpose", "starts_at", "ends_at", "closed_at", "closed_by_id", "nudges", "cadence_at",
                          "cadence_step")
        held = []
        starts = series_start + timedelta(days=1, hours=15)
        while starts + timedelta(hours=1, days=1) < self.now:  # ended, and its follow-up long done
            ends = starts + timedelta(hours=1)
            closed = ends + timedelta(hours=rng.uniform(0.1, 20))
            mid, number = len(rows) + 1, self.number("M")
            rows.append((mid, 1, number, 1, 1, organiser, "Account planning", ts(starts), ts(ends), ts(closed),
                         organiser, 0, None, None))
            self.log(starts, None, "meeting.started", f"M-{number}", {"partnership": "P-1"})
            self.log(closed, organiser, "meeting.closed", f"M-{number}", {"closed": True})
            held.append((mid, closed))
            starts += timedelta(weeks=1)
        return held

    def win(self, wins: list, credits: list, record: str, won_at: datetime, won_by: int, originator: int,
            deliverer: int, **record_id: int) -> int:
        amount = round(self.rng.lognormvariate(math.log(40_000), 1.0) * 100)
        wid = len(wins) + 1
        wins.append((wid, 1, record, record_id.get("handoff_id"), record_id.get("lead_id"), amount, won_by,
                     self.ts(won_at)))
        for c in self.credit.split(originator, deliverer, [], self.shares):
            credits.append((wid, c.person_id, ",".join(c.roles), c.share))
        self.log(won_at, won_by, "win.recorded", record, {"amount_cents": amount})
        return amount

    def leads_and_handoffs(self, count: int) -> tuple[list, list]:
        """P-1's leads and handoffs (`count` of each), with their wins; (lead id, owner, account,
        created, open until) of each lead and (handoff id, sender, receiver, account, accepted,
        open until) of each accepted handoff."""
        ts, rng, now = self.ts, self.rng, self.now
        side_a, side_b = self.members(1)
        everyone = side_a + side_b
        wins = self.table("win", "id", "workspace_id", "record", "handoff_id", "lead_id", "amount_cents",
                          "won_by_id", "won_at")
        credits = self.table("win_credit", "win_id", "person_id", "roles", "share")
        leads = self.table("lead", "id", "workspace_id", "number", "account", "idea", "owner_id", "created_by_id",
                           "meeting_id", "partnership_id", "status", "amount_cents", "close_reason", "closed_at",
                           "created_at")
        made = []
        for created in sorted(self.when(self.accepted) for _ in range(count)):
            lid, number = len(leads) + 1, self.number("L")
            owner, originator = rng.choice(everyone), rng.choice(everyone)
            account = f"Account {rng.randint(1, 3000)}"
            age = (now - created).days
            status, closed_at, amount = "open", None, None
            self.log(created, originator, "lead.created", f"L-{number}", {"account": account})
            if age > 8 and rng.random() < min(0.7, age / 120):
                closed_at = min(created + timedelta(days=rng.uniform(7, min(age, 120))), now - QUIET)
                if rng.random() < 0.45:
                    status = "won"
                    amount = self.win(wins, credits, f"L-{number}", closed_at, owner, originator, owner, lead_id=lid)
                else:
                    status = "lost"
                    self.log(closed_at, owner, "lead.lost", f"L-{number}", {"reason": "went with a competitor"})
            leads.append((lid, 1, number, account, f"co-sell {account}", owner, originator, None, 1, status, amount,
                          "went with a competitor" if status == "lost" else None, ts(closed_at), ts(created)))
            made.append((lid, owner, account, created, closed_at or now))
        handoffs = self.table("handoff", "id", "workspace_id", "number", "from_id", "to_id", "account", "need",
                              "due_date", "stage", "stage_changed_at", "accepted_at", "declined_at", "decline_reason",
                              "created_at", "accept_nudged_at", "stale_reported_at", "due_reminded_at",
                              "overdue_notified_at")
        accepted_ones = []
        stages = self.open_stages
        for created in sorted(self.when(self.accepted) for _ in range(count)):
            hid, number = len(handoffs) + 1, self.number("H")
            senders, receivers = (side_a, side_b) if rng.random() < 0.5 else (side_b, side_a)
            sender, receiver = rng.choice(senders), rng.choice(receivers)
            account = f"Account {rng.randint(1, 3000)}"
            age = (now - created).total_seconds() / 86400
            self.log(created, sender, "handoff.created", f"H-{number}", {"account": account, "to": receiver})
            accepted = declined = stale_reported = None
            stage, changed = stages[0], created
            if age > 2 and rng.random() < 0.05:
                declined = created + timedelta(hours=rng.uniform(1, 40))
            else:  # accepted: none is left waiting for its acceptance nudge
                accepted = self.between(created, min(now - timedelta(minutes=1), created + timedelta(hours=40)))
                step_days = rng.uniform(5, 20)
                steps = min(int(age / step_days), len(stages))
                for i in range(1, steps + 1):
                    stage = stages[i] if i < len(stages) else ("won" if rng.random() < 0.4 else "lost")
                    changed = min(created + timedelta(days=i * step_days), now - QUIET)
                    self.log(changed, receiver, "handoff.stage", f"H-{number}", {"stage": stage})
                if stage in stages and changed <= now - timedelta(days=13):  # stuck: its managers were told
                    stale_reported = min(changed + timedelta(days=14), now)
                if stage == "won":
                    self.win(wins, credits, f"H-{number}", changed, receiver, sender, receiver, handoff_id=hid)
                accepted_ones.append((hid, sender, receiver, account, accepted,
                                      changed if stage not in stages else now))
            handoffs.append((hid, 1, number, sender, receiver, account, f"introduce {account}'s buyer", None, stage,
                             ts(changed), ts(accepted), ts(declined), "not our territory" if declined else None,
                             ts(created), None, ts(stale_reported), None, None))
        return made, accepted_ones

    def asks(self, count: int) -> None:
        ts, rng, now = self.ts, self.rng, self.now
        side_a, side_b = self.members(1)
        rows = self.table("ask", "id", "workspace_id", "number", "asker_id", "person_id", "request", "due_date",
                          "handoff_id", "lead_id", "partnership_id", "status", "created_at", "first_response_at",
                          "accepted_at", "declined_at", "decline_reason", "answered_at", "answer", "cadence_at",
                          "cadence_step")
        for created in sorted(self.when(self.accepted) for _ in range(count)):
            number = self.number("Q")
            askers, asked = (side_a, side_b) if rng.random() < 0.5 else (side_b, side_a)
            asker, person = rng.choice(askers), rng.choice(asked)
            status, first = "open", None
            accepted = declined = answered = None
            cadence, step = None, None
            if created < now - timedelta(hours=6) and rng.random() < 0.9:
                first = min(created + timedelta(hours=rng.uniform(0.2, 72)), now - timedelta(minutes=1))
                r = rng.random()
                if r < 0.6:
                    status, answered = "answered", first
                elif r < 0.9:
                    status, accepted = "accepted", first
                else:
                    status, declined = "declined", first
            else:  # nobody responded: its nudge, then its escalation, unless both are past
                for hours, name in ((24, "nudge"), (72, "escalate")):
                    if created + timedelta(hours=hours) > now + QUIET:
                        cadence, step = created + timedelta(hours=hours), name
                        break
            due = (created + timedelta(days=7)).date() if rng.random() < 0.4 else None
            rows.append((len(rows) + 1, 1, number, asker, person, "a customer reference in retail", self.day(due),
                         None, None, 1, status, ts(created), ts(first), ts(accepted), ts(declined),
                         "no time this week" if declined else None, ts(answered),
                         "Yes: ask Ana Abe" if answered else None, ts(cadence), step))
            self.log(created, asker, "ask.created", f"Q-{number}", {"to": person})

    def pulses(self) -> None:
        from handlers.pulse.results import DIMENSIONS

        ts, rng = self.ts, self.rng
        side_a, side_b = self.members(1)
        pulses = self.table("pulse", "id", "workspace_id", "partnership_id", "period", "opened_at", "closes_at",
                            "closed_at")
        answers = self.table("pulse_answer", "pulse_id", "person_id", "side", "scores", "comment", "answered_at")
        monday = self.this_monday - timedelta(weeks=self.sizes.weeks - 1)
        while monday <= self.this_monday:
            opened, closes = monday + timedelta(hours=9), monday + timedelta(days=3, hours=9)
            if monday.day <= 7 and closes <= self.now - QUIET:  # the first Monday of a month
                pid = len(pulses) + 1
                pulses.append((pid, 1, 1, f"{monday:%Y-%m}", ts(opened), ts(closes), ts(closes)))
                for side, people in (("a", side_a), ("b", side_b)):
                    for person in people:
                        if rng.random() < 0.7:
                            scores = {dim: rng.choice((2, 3, 3, 4, 4, 4, 5)) for dim, _ in DIMENSIONS}
                            answers.append((pid, person, side, _js(scores),
                                            "more joint pipeline reviews" if rng.random() < 0.2 else None,
                                            ts(opened + timedelta(hours=rng.uniform(1, 70)))))
                self.log(closes, None, "pulse.closed", "P-1", {"period": f"{monday:%Y-%m}"})
            monday += timedelta(weeks=1)

    # -- commitments --------------------------------------------------------------------------
    def pledge(self, parts: list, count: int) -> None:
        """`count` pledges spread over answered sync parts, weighted to the recent weeks."""
        if not parts or count <= 0:
            return
        weights = [self.recency(at) for _, _, at, _ in parts]
        for sid, manager, at, due in self.rng.choices(parts, weights, k=count):
            self.specs.append(Spec(at, manager, manager, "pledge of the peer sync", due, peer_sync_id=sid))

    def busy_commitments(self, total: int, synced: list, meetings: list, leads: list, handoffs: list) -> int:
        """P-1's `total` commitments, a quarter of each kind; returns how many were made."""
        rng, now, made = self.rng, self.now, 0
        quarter = total // 4
        self.pledge(synced, quarter)
        made += quarter if synced else 0
        everyone = [p for side in self.members(1) for p in side]
        if meetings:
            weights = [self.recency(closed) for _, closed in meetings]
            for mid, closed in rng.choices(meetings, weights, k=quarter):
                due = (closed + timedelta(days=rng.randint(3, 14))).date()
                self.specs.append(Spec(closed, rng.choice(everyone), self.members(1)[0][0],
                                       "action item of the meeting", due, meeting_id=mid))
            made += quarter
        if leads:
            for lid, owner, account, created, until in rng.choices(leads, [self.recency(x[3]) for x in leads],
                                                                     k=quarter):
                at = self.between(created, min(until, now - timedelta(minutes=5)))
                self.specs.append(Spec(at, owner, owner, f"next step on {account}",
                                       (at + timedelta(days=rng.randint(2, 30))).date(), account, lead_id=lid))
            made += quarter
        if handoffs:
            for hid, sender, receiver, account, accepted, until in rng.choices(
                    handoffs, [self.recency(x[4]) for x in handoffs], k=quarter):
                at = self.between(accepted, min(until, accepted + timedelta(days=30), now - timedelta(minutes=5)))
                owner = rng.choice((sender, receiver))
                self.specs.append(Spec(at, owner, owner, f"work on {account}",
                                       (at + timedelta(days=rng.randint(2, 21))).date(), account, handoff_id=hid))
            made += quarter
        return made

    def own_commitments(self, count: int) -> None:
        rng, people = self.rng, self.sizes.people
        for _ in range(count):
            owner = rng.randint(1, people)
            boss = self.manager_of.get(owner)
            by = boss if boss and rng.random() < 0.1 else owner
            at = self.when(self.accepted)
            account = f"Account {rng.randint(1, 3000)}" if rng.random() < 0.3 else None
            due = (at + timedelta(days=rng.randint(1, 14))).date()
            self.specs.append(Spec(at, owner, by, rng.choice(OWN_WORK), due, account))

    def commitments(self) -> list[tuple]:
        """Numbered in the order they were made; their status as time has told. Returns
        (number, owner, created, closed or now, snapshot text) of each, for the snoozes."""
        ts, day, rng, now = self.ts, self.day, self.rng, self.now
        rows = self.table("commitment", "id", "workspace_id", "number", "owner_id", "created_by_id", "what",
                          "due_date", "due_at", "status", "closed_at", "close_note", "account", "handoff_id",
                          "created_at", "peer_sync_id", "cadence_at", "cadence_step", "meeting_id", "lead_id")
        self.specs.sort(key=lambda s: s.created)
        kept = []
        soon = now + timedelta(days=2)
        for spec in self.specs:
            created, due = spec.created, spec.due
            due_at = datetime.combine(due, datetime.min.time()).replace(hour=DUE_TIME[0], minute=DUE_TIME[1])
            if due_at <= created:
                due = created.date() + timedelta(days=1)
                due_at = datetime.combine(due, datetime.min.time()).replace(hour=DUE_TIME[0], minute=DUE_TIME[1])
            if now < due_at < soon:  # its reminder would fall due during a bench: a few days later
                due, due_at = due + timedelta(days=3), due_at + timedelta(days=3)
            closed, cadence, step = None, None, None
            r = rng.random()
            if due_at <= now:
                overdue = 0.2 if due_at > now - timedelta(weeks=4) else 0.01  # old ones get closed or dropped
                if r < overdue:
                    status = "open"  # its overdue notice went out: nothing more is due
                elif r < overdue + 0.08:
                    status, closed = "dropped", self.between(created, min(now, due_at + timedelta(days=7)))
                else:
                    status = "done"
                    if rng.random() < 0.8:
                        closed = self.between(created, due_at)
                    else:
                        closed = due_at + timedelta(hours=rng.uniform(1, 168))
                        if closed >= now:
                            closed = self.between(created, now)
            elif r < 0.15:
                status, closed = "done", self.between(created, now)
            else:
                status, cadence, step = "open", due_at - timedelta(hours=24), "reminder"
            number = self.number("C")
            rows.append((number, 1, number, spec.owner, spec.created_by, spec.what, day(due), ts(due_at), status,
                         ts(closed), None, spec.account, spec.handoff_id, ts(created), spec.peer_sync_id, ts(cadence),
                         step, spec.meeting_id, spec.lead_id))
            ref = f"C-{number}"
            snap = {"status": "open", "what": spec.what, "due_date": due.isoformat(), "owner_id": spec.owner,
                    "note": None}
            self.log(created, spec.created_by, "commitment.created", ref, snap)
            if closed is not None:
                self.log(closed, spec.owner, f"commitment.{status}", ref, {**snap, "status": status}, snap)
            kept.append((number, spec.owner, created, closed or now, json.dumps(spec.what), due))
        self.specs = []
        return kept

    # -- the audit trail, the deliveries, the counters --------------------------------------
    def activity(self, commitments: list[tuple]) -> None:
        """The audit rows made so far, then snoozes of the commitments up to --activity rows."""
        ts, rng = self.ts, self.rng
        made = self.events
        filler = max(0, self.sizes.activity - len(made))
        if len(made) > self.sizes.activity:
            del made[self.sizes.activity:]

        def rows() -> Iterator[tuple]:
            n = 0
            for at, person, action, record, before, after in made:
                n += 1
                yield (n, 1, ts(at), person, "slack", action, record, _js(before), _js(after))
            for number, owner, start, end, what, due in rng.choices(commitments, k=filler) if commitments else ():
                n += 1
                moved = due + timedelta(days=rng.randint(1, 7))
                common = f'"status": "open", "what": {what}, "owner_id": {owner}, "note": null}}'
                yield (n, 1, ts(self.between(start, end)), owner, "slack", "commitment.snoozed", f"C-{number}",
                       f'{{"due_date": "{due.isoformat()}", {common}', f'{{"due_date": "{moved.isoformat()}", {common}')

        self.tables["activity_log"] = Table("activity_log", ("id", "workspace_id", "at", "person_id", "platform",
                                                             "action", "record", "before", "after"), rows())

    def deliveries(self) -> None:
        ts, rng, now, team = self.ts, self.rng, self.now, self.team

        def rows() -> Iterator[tuple]:
            for _ in range(self.sizes.deliveries):
                yield (f"slack:{team}:{rng.getrandbits(128):032x}", ts(now - timedelta(days=rng.uniform(0, 6))))

        self.tables["processed_delivery"] = Table("processed_delivery", ("key", "at"), rows())

    def counters(self) -> None:
        self.table("counter", "workspace_id", "kind", "value").extend(
            (1, kind, value) for kind, value in sorted(self.numbers.items()))

    def build(self) -> list[Table]:
        s = self.sizes
        self.people()
        self.partnerships()
        busy_synced, other_synced = self.peer_syncs()
        meetings = self.meetings()
        busy_total = round(s.commitments * s.busy_share)
        per_kind = max(1, busy_total // 20)
        leads, handoffs = self.leads_and_handoffs(per_kind)
        self.asks(max(1, busy_total // 30))
        self.pulses()
        made = self.busy_commitments(busy_total, busy_synced, meetings, leads, handoffs)
        synced = min(round(s.commitments * s.synced_share), s.commitments - made) if other_synced else 0
        self.pledge(other_synced, synced)
        self.own_commitments(s.commitments - made - synced)
        kept = self.commitments()
        self.activity(kept)
        self.deliveries()
        self.counters()
        return [self.tables[name] for name in ORDER if name in self.tables]


# parents before children (foreign keys)
ORDER = ("workspace", "person", "identity", "partnership", "partnership_member", "charter_agreement", "sync_series",
         "meeting_series", "peer_sync", "sync_answer", "meeting", "lead", "handoff", "win", "win_credit", "commitment",
         "ask", "pulse", "pulse_answer", "activity_log", "processed_delivery", "counter")


def check_not_null(tables: list[Table]) -> None:
    """Every NOT NULL column without a server default of each table written is given."""
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (the tables' metadata)

    known = SQLModel.metadata.tables
    for t in tables:
        table = known[t.name]
        given = set(t.columns)
        unknown = given - {c.name for c in table.columns}
        missing = {c.name for c in table.columns if not c.nullable and c.server_default is None} - given
        if unknown or missing:
            raise RuntimeError(f"prefill: table {t.name}: columns missing {sorted(missing)}, unknown {sorted(unknown)}")


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------

def write_sqlite(path: str, tables: list[Table]) -> dict[str, int]:
    counts = {}
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout=10000")
        # written once into the file, not into the WAL and then the file; WAL again after
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA cache_size=-262144")  # 256 MB while it writes
        con.execute("BEGIN IMMEDIATE")
        con.execute("PRAGMA defer_foreign_keys=ON")  # checked at COMMIT (people name their managers)
        for t in tables:
            columns = ", ".join(f'"{c}"' for c in t.columns)
            marks = ", ".join("?" for _ in t.columns)
            cursor = con.executemany(f'INSERT INTO "{t.name}" ({columns}) VALUES ({marks})', t.rows)
            counts[t.name] = cursor.rowcount
        con.execute("COMMIT")  # fails on any foreign key without its row
        con.execute("PRAGMA journal_mode=WAL")  # as the migrations left it (storage/db.py)
    finally:
        con.close()
    # On disk now, not later: else the server's first WAL checkpoint (its fsync) waits for the
    # kernel to write the whole file out, a stall of a second or more during the measured load.
    with open(path, "rb+") as written:
        os.fsync(written.fileno())
    return counts


async def write_postgres(dsn: str, tables: list[Table]) -> dict[str, int]:
    import asyncpg

    counts = {}
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction():
            for t in tables:
                status = await conn.copy_records_to_table(t.name, records=t.rows, columns=list(t.columns))
                counts[t.name] = int(status.split()[-1])
            for t in tables:  # ids were given: the sequences move past them
                if "id" in t.columns:
                    await conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), "
                                       f"(SELECT coalesce(max(id), 0) + 1 FROM \"{t.name}\"), false)")
        # as autovacuum would within a minute of such a load (PostgreSQL 13+ vacuums after
        # inserts too): the statistics, and the visibility map that lets a read use an index alone
        await conn.execute("VACUUM ANALYZE")
        # on disk now, as write_sqlite's fsync: else the server's next checkpoint writes the load's
        # ~400 MB out during the measured run (issue 25: p99 172 ms in the first round after it)
        try:
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:  # only a superuser may; the run then says so
            print("prefill: not allowed to CHECKPOINT: the server may write the load out during the run")
    finally:
        await conn.close()
    return counts


async def prefill(url: str, now: datetime, sizes: Sizes = Sizes(), team: str = TEAM) -> Prefilled:
    """Migrates the empty database at `url`, then fills it (see the module's docstring)."""
    from sqlalchemy import func, make_url, select

    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Person

    began = time.perf_counter()
    db = Database(url)
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            held = (await conn.execute(select(func.count()).select_from(Person))).scalar_one()
    finally:
        await db.dispose()
    if held:
        raise RuntimeError(f"prefill: {url} already holds {held:,} person row(s); give an empty database")
    migrated = time.perf_counter()
    sqlite = url.startswith("sqlite")
    tables = Builder(now, sizes, sqlite, team).build()
    check_not_null(tables)
    generated = time.perf_counter()  # the audit trail and deliveries are made as they are written
    parsed = make_url(url)
    if sqlite:
        counts = await asyncio.to_thread(write_sqlite, parsed.database, tables)
    else:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        counts = await write_postgres(dsn, tables)
    written = time.perf_counter()
    return Prefilled("SQLite" if sqlite else "PostgreSQL", counts, migrated - began, generated - migrated,
                     written - generated, now)


if __name__ == "__main__":  # python bench/prefill.py URL: fill a database and say what it holds
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite+aiosqlite:///prefilled.db"
    print(asyncio.run(prefill(target, datetime.now(UTC).replace(microsecond=0))).summary())
