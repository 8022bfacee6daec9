"""The dashboard's overview: every partnership in scope as a row of the figures of `report P-n`,
"needs attention" first, and a 12-week trend of each figure over all of them.

The rows come from one bulk read (storage/queries/overview.py) split per partnership here, and
each row's figures are computed by scorecard.collaboration_figures, the very function of `report
P-n`, so a row and the chat never disagree. Plain data: adapters/web draws it.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.handoffs.service import OPEN_STAGES, STAGES
from handlers.kernel.settings import SettingsLike
from handlers.pulse.service import SIDES, imbalances, side_summary
from handlers.reports import metrics
from handlers.reports.charts import FigureView, figure_view
from handlers.reports.scorecard import Figure, Rows, collaboration_figures, common_figures
from storage.queries.overview import ManyRows, Placed
from storage.store import Store

TREND_WEEKS = 12
# (key, figure label of `report P-n`): the overview's columns after the partnership and its health
COLUMNS = (
    ("syncs", "Peer syncs"),
    ("a_to_b", "Handoffs A → B"),
    ("b_to_a", "Handoffs B → A"),
    ("kept", "Kept on time"),
    ("meetings", "Meetings with action items"),
    ("leads", "Leads"),
    ("leads_won", "Leads won"),
    ("wins", "Wins"),
)
# the 12-week charts: figures of all the rows together
TRENDS = ("Peer syncs", "Kept on time", "Overdue now", "Meetings with action items", "Action items kept",
          "Handoffs won", "Leads", "Leads won")


@dataclass(frozen=True)
class Cell:
    text: str
    number: float | None  # what the column sorts by; None sorts last


@dataclass(frozen=True)
class OverviewRow:
    partnership_id: int
    ref: str
    name: str
    status: str
    health: Cell
    cells: dict[str, Cell]  # by COLUMNS key
    attention: tuple[str, ...]  # why it needs attention, most pressing first; () when it does not


@dataclass(frozen=True)
class Overview:
    rows: tuple[OverviewRow, ...]
    trends: tuple[FigureView, ...]  # each figure over all the rows together, with its 12-week chart
    columns: tuple[tuple[str, str], ...] = COLUMNS  # (key of a row's cell, its heading)
    as_of: datetime | None = None  # when its figures were computed (overview_snapshot.py keeps them)
    as_of_text: str = ""  # the same on the reader's clock, for the page
    refreshing: bool = False  # newer figures are being computed


async def overview(store: Store, partnership_ids: Iterable[int], now: datetime, settings: SettingsLike) -> Overview:
    """The overview of these partnerships (those a DashboardView may see), computed now."""
    partnerships = sorted((await store.partnerships_by_id(partnership_ids)).values(), key=lambda p: p.id)
    members = await store.members_of(p.id for p in partnerships)
    sides = {p.id: _sides(members.get(p.id, [])) for p in partnerships}
    window, trend_window = metrics.Window(now), metrics.Window(now, TREND_WEEKS)
    everyone = sorted({pid for a, b in sides.values() for pid in (*a, *b)})
    many = await store.many_partnerships_rows([p.id for p in partnerships], everyone, trend_window.start, now,
                                              OPEN_STAGES, STAGES)
    pulses = await _latest_pulses(store, [p.id for p in partnerships], settings.cadence.pulse.min_answers)
    stale_before = now - timedelta(days=settings.cadence.handoffs.stale_after_days)
    rows, index = [], await asyncio.to_thread(_Index, many)
    for p in partnerships:
        await asyncio.sleep(0)  # 200 rows take seconds: let the commands waiting on this process through
        a, b = sides[p.id]
        split, wins = _split(index, p.id, set(a), set(b))
        figures = {f.label: f for f in collaboration_figures(split, a, b, wins, window)}
        health = pulses.get(p.id) or (Cell("no pulse closed yet", None), ())
        rows.append(OverviewRow(
            p.id, p.ref, p.name, p.status, health[0],
            {key: _cell(figures[label]) for key, label in COLUMNS},
            (*_attention(split, window, stale_before), *health[1])))
    rows.sort(key=lambda r: (-len(r.attention), r.name.lower()))
    # a second of pure computing over every row: in a thread, so the event loop gets its turns
    trends = await asyncio.to_thread(_trends, many, {p.id for p in partnerships}, sides, trend_window)
    weeks = week_labels(trend_window)
    return Overview(tuple(rows), tuple(figure_view(label, trends[label].value, weeks) for label in TRENDS),
                    as_of=now)


def week_labels(window: metrics.Window) -> tuple[str, ...]:
    return tuple(f"{start.day} {start:%b}" for start in (window.start + i * metrics.WEEK for i in range(window.weeks)))


def _sides(members) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(tuple(m.person_id for m in members if m.side == s) for s in SIDES)


def _cell(figure: Figure) -> Cell:
    value = figure.value
    return Cell(value, None) if isinstance(value, str) else Cell(value.text, value.number)


class _Index:
    """The bulk read grouped once by what places each row (a partnership id, a sync, a meeting,
    the rep who handed over), so splitting it costs each partnership only its own rows."""

    def __init__(self, many: ManyRows):
        self.many = many
        self.syncs = _group(many.syncs, lambda s: s.partnership_id)
        self.answers = _group(many.sync_answers, lambda a: a.peer_sync_id)
        self.meetings = _group(many.meetings, lambda m: m.partnership_id)
        self.action_items = _group(many.action_items, lambda c: c.meeting_id)
        self.leads = _group(many.leads, lambda lead: lead.partnership_id)
        self.handoffs = _group(many.handoffs, lambda h: h.from_id)
        self.commitments = _group(many.commitments, lambda c: c.partnership_id)
        self.commitments_by_sender = _group(many.commitments, lambda c: c.from_id)
        self.wins = _group(many.wins, lambda w: w.partnership_id)
        self.wins_by_sender = _group(many.wins, lambda w: w.from_id)


def _group(rows, key) -> dict:
    grouped = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _across(by_sender: dict, a: set[int], b: set[int]) -> list:
    """What goes between the sides: from a member of one to a member of the other."""
    return [x for side, other in ((a, b), (b, a)) for sender in side for x in by_sender.get(sender, ())
            if x.to_id in other]


def _once(placed: list[Placed]) -> list:
    """The rows, each once (a row placed by its partnership and by its handoff is one row), in order."""
    seen, rows = set(), []
    for p in placed:
        if id(p.row) not in seen:
            seen.add(id(p.row))
            rows.append(p.row)
    return rows


def _split(index: _Index, pid: int, a: set[int], b: set[int]) -> tuple[Rows, list]:
    """One partnership's rows out of the bulk read, by the rules of storage/queries/reports.py:
    its syncs', meetings' and leads' own, the handoffs between its sides and what is about them."""
    members = a | b
    syncs = index.syncs.get(pid, [])
    meetings = index.meetings.get(pid, [])
    commitments = _once(index.commitments.get(pid, []) + [
        c for c in _across(index.commitments_by_sender, a, b) if c.row.owner_id in members])
    rows = Rows(
        commitments=sorted(commitments, key=lambda c: (c.due_at, c.id)),
        handoffs=sorted(_across(index.handoffs, a, b), key=lambda h: (h.created_at, h.id)),
        syncs=syncs, sync_answers=[x for s in syncs for x in index.answers.get(s.id, ())],
        meetings=meetings, action_items=[c for m in meetings for c in index.action_items.get(m.id, ())],
        leads=index.leads.get(pid, []), leads_with_next=index.many.leads_with_next,
        asks=[],  # the overview shows no figure of asks: not read
    )
    wins = _once(index.wins.get(pid, []) + _across(index.wins_by_sender, a, b))
    return rows, sorted(wins, key=lambda w: w.won_at)


def _trends(many: ManyRows, ids: set[int], sides: dict[int, tuple], window: metrics.Window) -> dict[str, Figure]:
    return {f.label: f for f in common_figures(_union(many, ids, sides), window)}


def _union(many: ManyRows, ids: set[int], sides: dict[int, tuple]) -> Rows:
    """The rows of all the partnerships together, each once (the overview's trends)."""
    pairs = {(x, y) for a, b in sides.values() for x in a for y in b}
    between = pairs | {(y, x) for x, y in pairs}
    commitments = {c.row.id: c.row for c in many.commitments
                   if c.partnership_id in ids or (c.from_id, c.to_id) in between}
    return Rows(commitments=list(commitments.values()),
                handoffs=[h for h in many.handoffs if (h.from_id, h.to_id) in between],
                syncs=many.syncs, sync_answers=many.sync_answers, meetings=many.meetings,
                action_items=many.action_items, leads=many.leads, leads_with_next=many.leads_with_next, asks=[])


def _attention(rows: Rows, window: metrics.Window, stale_before: datetime) -> list[str]:
    now, reasons = window.now, []
    by_sync = defaultdict(list)
    for answer in rows.sync_answers:
        by_sync[answer.peer_sync_id].append(answer)
    skipped = sum(1 for s in rows.syncs if window.bucket(s.opened_at) is not None and s.deadline_at <= now
                  and not metrics.both_answered(by_sync[s.id]))
    if skipped:
        reasons.append(f"{skipped} peer sync{'s' if skipped > 1 else ''} skipped")
    overdue = sum(1 for c in rows.commitments if c.status == "open" and c.due_at < now)
    overdue += sum(1 for h in rows.handoffs if h.stage in OPEN_STAGES and h.declined_at is None
                   and h.due_date is not None and h.due_date < now.date())
    if overdue:
        reasons.append(f"{overdue} overdue")
    stuck = sum(1 for h in rows.handoffs if h.stage in OPEN_STAGES and h.declined_at is None
                and h.stage_changed_at <= stale_before)
    if stuck:
        reasons.append(f"{stuck} handoff{'s' if stuck > 1 else ''} stuck")
    return reasons


async def _latest_pulses(store: Store, ids: list[int], min_answers: int) -> dict[int, tuple[Cell, tuple]]:
    """Each partnership's latest closed pulse: (its health cell, its attention reasons)."""
    latest: dict[int, object] = {}
    for pulse in await store.closed_pulses(ids):  # newest first
        latest.setdefault(pulse.partnership_id, pulse)
    answers = defaultdict(list)
    for answer in await store.answers_of_pulses([p.id for p in latest.values()]):
        answers[answer.pulse_id].append(answer)
    out = {}
    for pid, pulse in latest.items():
        summary = side_summary(answers[pulse.id], min_answers)
        means = {s: _mean(summary[s].averages) for s in SIDES}
        text = " · ".join(f"{s.upper()} {means[s] if means[s] is not None else summary[s].count_text}"
                          for s in SIDES)
        flagged = [label for _, label, _ in imbalances(summary)]
        if flagged:
            text += " · imbalance: " + ", ".join(flagged)
        silent = tuple(f"side {s.upper()} silent in the pulse" for s in SIDES if summary[s].answered == 0)
        known = [m for m in means.values() if m is not None]
        reasons = silent + (("pulse imbalance",) if flagged else ())
        out[pid] = (Cell(text, float(min(known)) if known else None), reasons)
    return out


def _mean(averages: dict) -> object | None:
    """The mean of a side's five averages, to one decimal; None while they are withheld."""
    if not averages:
        return None
    return round(sum(averages.values()) / len(averages), 1)
