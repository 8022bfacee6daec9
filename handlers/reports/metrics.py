"""The figures of a scorecard (SPEC §4), computed from rows already fetched: no database here.

Every figure covers a window of 8 rolling weeks ending now, split into 8 buckets of 7 days
(oldest first), so that each comes with its weekly trend. A record falls in the bucket of
the instant that decides it (a commitment when it was resolved, a handoff when it was
created, an acceptance when it happened…); records outside the window count nowhere.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from itertools import accumulate

from storage.models import Ask, Commitment, Handoff, Lead, Meeting, PeerSync, SyncAnswer, Win, WinCredit
from storage.queries.reports import CommitmentGroup

WEEK = timedelta(days=7)
WEEKS = 8


@dataclass(frozen=True)
class Window:
    now: datetime
    weeks: int = WEEKS

    @cached_property  # asked for each of a report's thousands of records
    def start(self) -> datetime:
        return self.now - self.weeks * WEEK

    @cached_property
    def starts(self) -> list[datetime]:
        """The instant each bucket starts, oldest first."""
        return [self.start + i * WEEK for i in range(self.weeks)]

    def bucket(self, at: datetime | None) -> int | None:
        """The bucket `at` falls in: bucket i covers [now-(weeks-i)·7d, now-(weeks-1-i)·7d).
        The newest bucket also holds `now` itself, so something done in the very instant of
        the report (a Done click followed by the Home tab) is not left out."""
        if at is None or at > self.now or at < self.start:
            return None
        return bisect_right(self.starts, at) - 1  # a bisection: a report places thousands

    def ends(self) -> list[datetime]:
        """The instant each bucket ends, oldest first (the last is now)."""
        return [start + WEEK for start in self.starts]


# --- the shapes of a figure ---------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """hits of total over the window, and hits/total per week (None: nothing to count that week)."""

    hits: int
    total: int
    weekly: tuple[float | None, ...]

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return (200 * self.hits + self.total) // (2 * self.total)  # rounded half up, in integers


@dataclass(frozen=True)
class Tally:
    """A count over the window and per week (a week with none is 0, which is data)."""

    total: int
    weekly: tuple[int, ...]


@dataclass(frozen=True)
class Median:
    """The median over the window (None: no values) of how many there were, and per week."""

    value: float | None
    count: int
    weekly: tuple[float | None, ...]


@dataclass(frozen=True)
class HandoffFigures:
    created: Tally
    by_stage: dict[str, int]  # current stage of those created in the window, declined ones left out
    declined: int


@dataclass(frozen=True)
class LeadFigures:
    created: Tally
    open: int  # open now, whenever created
    with_next_activity: int  # of those open, with an open commitment linked to them
    won: Tally  # by when they were won
    amount_won_cents: int


@dataclass(frozen=True)
class AskFigures:
    received: Tally
    answered: int  # of those received in the window
    first_response: Median  # hours, by when the first response came


@dataclass(frozen=True)
class CreditFigures:
    wins: Tally  # by when they were won
    amount_cents: int  # the person's share of each amount given
    without_amount: int = field(default=0)  # wins recorded without an amount


# --- small pure helpers -------------------------------------------------------------------------
def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _rate(window: Window, decided: Iterable[tuple[datetime | None, bool]]) -> Rate:
    hits, totals = [0] * window.weeks, [0] * window.weeks
    for at, hit in decided:
        i = window.bucket(at)
        if i is None:
            continue
        totals[i] += 1
        hits[i] += hit
    return rate_of(hits, totals)


def rate_of(hits: Sequence[int], totals: Sequence[int]) -> Rate:
    """The Rate of these weekly hits of these weekly totals."""
    weekly = tuple(h / t if t else None for h, t in zip(hits, totals, strict=True))
    return Rate(sum(hits), sum(totals), weekly)


def _tally(window: Window, instants: Iterable[datetime | None]) -> Tally:
    weekly = [0] * window.weeks
    for at in instants:
        i = window.bucket(at)
        if i is not None:
            weekly[i] += 1
    return Tally(sum(weekly), tuple(weekly))


def _median(window: Window, timed: Iterable[tuple[datetime | None, float]]) -> Median:
    per_week: list[list[float]] = [[] for _ in range(window.weeks)]
    for at, value in timed:
        i = window.bucket(at)
        if i is not None:
            per_week[i].append(value)
    every = [v for week in per_week for v in week]
    return Median(median(every), len(every), tuple(median(week) for week in per_week))


# --- commitments --------------------------------------------------------------------------------
def is_kept(c: Commitment) -> bool:
    """Kept on time: done on or before its due instant."""
    return c.status == "done" and c.closed_at is not None and c.closed_at <= c.due_at


def resolved_at(c: Commitment, now: datetime) -> datetime | None:
    """When a commitment counts for the kept-rate: when it was done or dropped, or, still open,
    when it fell due (once that has passed); None while it is open and not yet due."""
    if c.status in ("done", "dropped"):
        return c.closed_at
    return c.due_at if c.due_at < now else None


def kept_rate(commitments: Iterable[Commitment], window: Window) -> Rate:
    return _rate(window, ((resolved_at(c, window.now), is_kept(c)) for c in commitments))


def overdue_at(c: Commitment, instant: datetime) -> bool:
    """Open at `instant` (made by then, not closed yet) and due before it."""
    still_open = c.closed_at is None or c.closed_at > instant
    return still_open and c.created_at <= instant and c.due_at < instant


def overdue(commitments: Sequence[Commitment], window: Window) -> Tally:
    """Open commitments past due now; per week, how many were overdue at the end of it (overdue_at
    of each week's end, found by bisection: an overview sums this over 100,000 commitments)."""
    now_count = sum(1 for c in commitments if c.status == "open" and c.due_at < window.now)
    ends = window.ends()
    starts = [0] * (len(ends) + 1)  # +1 where a run of overdue weeks starts, -1 after it ends
    for c in commitments:
        first = max(bisect_right(ends, c.due_at), bisect_left(ends, c.created_at))
        last = len(ends) if c.closed_at is None else bisect_left(ends, c.closed_at)
        if first < last:
            starts[first] += 1
            starts[last] -= 1
    return Tally(now_count, tuple(accumulate(starts[:-1])))


@dataclass(frozen=True)
class CommitmentFigures:
    """What a scorecard says of commitments: the kept-rate and how many are overdue."""

    kept: Rate
    overdue: Tally


def commitment_figures(commitments: Sequence[Commitment], window: Window) -> CommitmentFigures:
    return CommitmentFigures(kept_rate(commitments, window), overdue(commitments, window))


def counted_figures(groups: Iterable[CommitmentGroup], window: Window) -> CommitmentFigures:
    """commitment_figures of commitments placed among the window's weeks and counted
    (ReportQueries.commitment_groups): the same rules, applied to each group at once."""
    weeks = window.weeks
    hits, totals, still_overdue = [0] * weeks, [0] * weeks, [0] * (weeks + 1)
    overdue_now = 0
    for g in groups:
        due_before_now = g.due_week < weeks
        if g.status in ("done", "dropped"):  # resolved_at: when closed
            resolved = g.closed_week
        else:  # when it fell due, once that has passed
            resolved = g.due_week if due_before_now else None
            overdue_now += g.count if g.status == "open" and due_before_now else 0
        if resolved is not None and 0 <= resolved < weeks:
            totals[resolved] += g.count
            hits[resolved] += g.count * g.kept
        # overdue at the end of weeks first…last-1: made by then and due before it, not closed yet
        first, last = max(g.due_week, 0, g.created_by), g.closed_by  # due_week: how many weeks end by its due
        if first < last:
            still_overdue[first] += g.count
            still_overdue[last] -= g.count
    return CommitmentFigures(rate_of(hits, totals), Tally(overdue_now, tuple(accumulate(still_overdue[:-1]))))


# --- handoffs -----------------------------------------------------------------------------------
def handoff_figures(handoffs: Iterable[Handoff], window: Window) -> HandoffFigures:
    created = [h for h in handoffs if window.bucket(h.created_at) is not None]
    stages = Counter(h.stage for h in created if h.declined_at is None)
    return HandoffFigures(_tally(window, (h.created_at for h in created)), dict(stages),
                          sum(1 for h in created if h.declined_at is not None))


def accept_hours(handoffs: Iterable[Handoff], window: Window) -> Median:
    """Hours from handing over to acceptance, by when it was accepted."""
    return _median(window, ((h.accepted_at, hours_between(h.created_at, h.accepted_at))
                            for h in handoffs if h.accepted_at is not None))


def won_share(handoffs: Iterable[Handoff], window: Window) -> Rate:
    """Of the handoffs made in each week (declined ones included: they did not reach won),
    how many are won now."""
    return _rate(window, ((h.created_at, h.stage == "won") for h in handoffs))


# --- peer syncs and meetings --------------------------------------------------------------------
def both_answered(answers: Sequence[SyncAnswer]) -> bool:
    return len(answers) >= 2 and all(a.answered_at is not None for a in answers)


def sync_participation(syncs: Iterable[PeerSync], answers: Iterable[SyncAnswer], window: Window) -> Rate:
    """Weeks in which both managers answered, of the weeks whose sync is decided: its deadline
    passed, or both answered already. A sync still open and waiting for a manager is not
    counted yet (either way); each counts in the week it was opened."""
    by_sync: dict[int, list[SyncAnswer]] = defaultdict(list)
    for a in answers:
        by_sync[a.peer_sync_id].append(a)
    decided = []
    for s in syncs:
        both = both_answered(by_sync[s.id])
        if both or s.deadline_at <= window.now:
            decided.append((s.opened_at, both))
    return _rate(window, decided)


def meeting_action_rate(meetings: Iterable[Meeting], action_items: Iterable[Commitment], window: Window) -> Rate:
    """Meetings closed with at least one action item that is not dropped, of the meetings held
    (ended by now), by when each ended."""
    with_action = {c.meeting_id for c in action_items if c.status != "dropped"}
    return _rate(window, ((m.ends_at, m.closed_at is not None and m.id in with_action)
                          for m in meetings if m.ends_at <= window.now))


# --- leads, asks, wins --------------------------------------------------------------------------
def lead_figures(leads: Sequence[Lead], with_next_activity: set[int], window: Window) -> LeadFigures:
    open_leads = [lead for lead in leads if lead.status == "open"]
    won = [lead for lead in leads if lead.status == "won" and window.bucket(lead.closed_at) is not None]
    return LeadFigures(
        created=_tally(window, (lead.created_at for lead in leads)),
        open=len(open_leads),
        with_next_activity=sum(1 for lead in open_leads if lead.id in with_next_activity),
        won=_tally(window, (lead.closed_at for lead in won)),
        amount_won_cents=sum(lead.amount_cents or 0 for lead in won),
    )


def ask_figures(asks: Sequence[Ask], window: Window) -> AskFigures:
    received = [a for a in asks if window.bucket(a.created_at) is not None]
    return AskFigures(
        received=_tally(window, (a.created_at for a in received)),
        answered=sum(1 for a in received if a.status == "answered"),
        first_response=_median(window, ((a.first_response_at, hours_between(a.created_at, a.first_response_at))
                                        for a in asks if a.first_response_at is not None)),
    )


def credit_figures(credits: Sequence[tuple[WinCredit, Win]], window: Window,
                   parts: dict[tuple[int, int], int | None]) -> CreditFigures:
    """A person's credit on the wins of the window: how many, and their part of each amount
    (`parts` by (win id, person id): the cents of the credit report, which add up to each win's amount)."""
    counted = [(credit, win) for credit, win in credits if window.bucket(win.won_at) is not None]
    return CreditFigures(
        wins=_tally(window, (win.won_at for _, win in counted)),
        amount_cents=sum(parts.get((win.id, credit.person_id)) or 0 for credit, win in counted),
        without_amount=sum(1 for _, win in counted if win.amount_cents is None),
    )


def win_figures(wins: Sequence[Win], window: Window) -> tuple[Tally, int]:
    """A partnership's wins of the window and their total amount."""
    counted = [w for w in wins if window.bucket(w.won_at) is not None]
    return _tally(window, (w.won_at for w in counted)), sum(w.amount_cents or 0 for w in counted)
