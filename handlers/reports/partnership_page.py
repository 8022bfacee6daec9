"""The dashboard's partnership page as plain data: the figures of `report P-n` (computed by
scorecard.partnership_figures, so the page and the chat never disagree) and what a manager needs
around them: charter and who agreed, members per side, the handoff funnel each way, sync history,
meetings with their action items, leads with their next activity, the pulse over time, open items."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from handlers.handoffs.service import OPEN_STAGES, STAGES
from handlers.kernel.dates import format_instant
from handlers.kernel.settings import SettingsLike
from handlers.partnerships.service import between_sides, charter_rules
from handlers.pulse.service import DIMENSIONS, SIDES, period_label, side_summary
from handlers.reports import metrics
from handlers.reports.charts import Chart, FigureView, Series, figure_view
from handlers.reports.overview import week_labels
from handlers.reports.scorecard import partnership_figures, partnership_title
from storage.models import Partnership
from storage.store import Store

PULSES_SHOWN = 12  # the pulse over time: the last 12 closed (a year of monthly pulses)
OPEN_SHOWN = 20  # open items of each kind, soonest due first
# a busy partnership has hundreds of leads and action items in 8 weeks: the page shows those that
# need a look first and says how many more there are
LEADS_SHOWN = 50
ACTION_ITEMS_SHOWN = 10  # per meeting


@dataclass(frozen=True)
class Member:
    person_id: int
    name: str
    role: str  # manager | rep
    linked: bool = False  # the viewer may open their page (set by reports/dashboard.py from the policy)


@dataclass(frozen=True)
class SyncRow:
    ref: str
    week: str
    answered: str  # both | one-sided | none | open (its deadline not passed yet)
    who: str  # who answered


@dataclass(frozen=True)
class MeetingRow:
    ref: str
    purpose: str
    when: str
    closed: bool
    action_items: tuple[str, ...]  # the first ACTION_ITEMS_SHOWN
    more_action_items: int = 0


@dataclass(frozen=True)
class LeadRow:
    ref: str
    account: str
    idea: str
    owner: str
    status: str
    next_activity: str  # "C-13 plan workshop, due Wed 23 Dec", or "none"


@dataclass(frozen=True)
class PartnershipPage:
    partnership_id: int
    ref: str
    title: str
    status: str
    charter: tuple[str, ...]
    agreements: tuple[str, ...]  # "ana agreed to version 1 on Tue 27 Oct" / "dana has not agreed to version 2"
    sides: tuple[tuple[str, tuple[Member, ...]], ...]  # ("A", members), ("B", members)
    weeks: tuple[str, ...]
    figures: tuple[FigureView, ...]
    funnels: tuple[Chart, ...]  # handoffs A → B and B → A by the stage they are in
    syncs: tuple[SyncRow, ...]
    meetings: tuple[MeetingRow, ...]
    leads: tuple[LeadRow, ...]  # open without a next activity, open with one, then closed: LEADS_SHOWN of them
    leads_total: int
    pulse: tuple[Chart, ...]  # per dimension, side A and side B over the last closed pulses
    open_items: tuple[str, ...]


async def partnership_page(store: Store, partnership_id: int, now: datetime, settings: SettingsLike,
                           tz: str) -> PartnershipPage | None:
    p = await store.get(Partnership, partnership_id)
    if p is None:
        return None
    figures, rows, members = await partnership_figures(store, p, now, settings.cadence.pulse.min_answers, tz)
    window = metrics.Window(now)
    weeks = week_labels(window)
    people = await store.people({m.person_id for m in members} | {h.from_id for h in rows.handoffs}
                                | {h.to_id for h in rows.handoffs} | {c.owner_id for c in rows.commitments}
                                | {c.owner_id for c in rows.action_items} | {lead.owner_id for lead in rows.leads})

    def name(person_id: int) -> str:
        return people[person_id].display_name if person_id in people else "someone"

    scope = between_sides(p, members)
    return PartnershipPage(
        p.id, p.ref, partnership_title(p), p.status,
        charter=tuple(await charter_rules(store, p)),
        agreements=await _agreements(store, p, members, name, tz),
        sides=tuple((s.upper(), tuple(Member(m.person_id, name(m.person_id), m.role)
                                      for m in members if m.side == s)) for s in SIDES),
        weeks=weeks,
        figures=tuple(figure_view(f.label, f.value, weeks) for f in figures),
        funnels=(_funnel("Handoffs A → B by stage", [h for h in rows.handoffs if h.from_id in scope.side_a], window),
                 _funnel("Handoffs B → A by stage", [h for h in rows.handoffs if h.from_id in scope.side_b], window)),
        syncs=_syncs(rows, now, name),
        meetings=_meetings(rows, name, tz),
        leads=_leads(rows, name, tz)[:LEADS_SHOWN],
        leads_total=len(rows.leads),
        pulse=await _pulse_charts(store, p, settings.cadence.pulse.min_answers, tz),
        open_items=await _open_items(store, scope, rows, name, tz),
    )


def _funnel(label: str, handoffs, window: metrics.Window) -> Chart:
    """How many of the handoffs made in the window are in each stage now (declined ones apart)."""
    f = metrics.handoff_figures(handoffs, window)
    counts = tuple(float(f.by_stage.get(stage, 0)) for stage in STAGES) + (float(f.declined),)
    text = f"{f.created.total} made in the last 8 weeks"
    return Chart(label, text, (*STAGES, "declined"), (Series("handoffs", counts),))


async def _agreements(store: Store, p: Partnership, members, name, tz: str) -> tuple[str, ...]:
    agreed = {a.person_id: a for a in await store.charter_agreements(p.id)}
    lines = []
    for m in (m for m in members if m.role == "manager"):
        a = agreed.get(m.person_id)
        if a is not None and a.version == p.charter_version:
            lines.append(f"{name(m.person_id)} agreed to version {a.version} on {format_instant(a.agreed_at, tz)}")
        else:
            lines.append(f"{name(m.person_id)} has not agreed to version {p.charter_version} yet")
    return tuple(lines)


def _syncs(rows, now: datetime, name) -> tuple[SyncRow, ...]:
    by_sync = defaultdict(list)
    for answer in rows.sync_answers:
        by_sync[answer.peer_sync_id].append(answer)
    out = []
    for s in sorted(rows.syncs, key=lambda s: s.opened_at, reverse=True):
        answered = [a for a in by_sync[s.id] if a.answered_at is not None]
        if metrics.both_answered(by_sync[s.id]):
            state = "both"
        elif s.deadline_at > now:
            state = "open"
        else:
            state = "one-sided" if answered else "none"
        out.append(SyncRow(s.ref, s.week, state, ", ".join(name(a.person_id) for a in answered) or "nobody"))
    return tuple(out)


def _meetings(rows, name, tz: str) -> tuple[MeetingRow, ...]:
    items = defaultdict(list)
    for c in rows.action_items:
        items[c.meeting_id].append(f"{c.ref} {c.what} — {name(c.owner_id)}, {c.status}")
    return tuple(MeetingRow(m.ref, m.purpose, format_instant(m.starts_at, tz), m.closed_at is not None,
                            tuple(items[m.id][:ACTION_ITEMS_SHOWN]), max(0, len(items[m.id]) - ACTION_ITEMS_SHOWN))
                 for m in sorted(rows.meetings, key=lambda m: m.ends_at, reverse=True))


def _leads(rows, name, tz: str) -> tuple[LeadRow, ...]:
    """The leads of the window, those that need a look first: open ones without a next activity
    (oldest first), open ones by their next activity's due date, then closed ones, newest first."""
    planned: dict[int, list] = defaultdict(list)  # each open lead's open commitments: its next activities
    for c in rows.commitments:
        if c.lead_id is not None and c.status == "open":
            planned[c.lead_id].append(c)

    def order(lead) -> tuple:
        if lead.status != "open":
            return (2, -lead.closed_at.timestamp() if lead.closed_at else 0, lead.id)
        if not planned[lead.id]:
            return (0, 0, lead.id)
        return (1, min(c.due_at for c in planned[lead.id]).timestamp(), lead.id)

    return tuple(LeadRow(lead.ref, lead.account, lead.idea, name(lead.owner_id), lead.status,
                         _next_activity(lead, planned[lead.id], tz)) for lead in sorted(rows.leads, key=order))


def _next_activity(lead, planned: list, tz: str) -> str:
    if lead.status != "open":
        return "—"
    if not planned:
        return "none"
    first = min(planned, key=lambda c: c.due_at)
    return f"{first.ref} {first.what}, due {format_instant(first.due_at, tz)}"


async def _pulse_charts(store: Store, p: Partnership, min_answers: int, tz: str) -> tuple[Chart, ...]:
    pulses = list(reversed((await store.closed_pulses([p.id]))[:PULSES_SHOWN]))  # oldest first
    if not pulses:
        return ()
    answers = defaultdict(list)
    for answer in await store.answers_of_pulses([x.id for x in pulses]):
        answers[answer.pulse_id].append(answer)
    summaries = [side_summary(answers[x.id], min_answers) for x in pulses]
    labels = tuple(period_label(x, tz) for x in pulses)
    charts = []
    for dim, label in DIMENSIONS:
        series = tuple(Series(f"side {s.upper()}", tuple(_float(summary[s].averages.get(dim)) for summary in summaries))
                       for s in SIDES)
        text = "average rating per side, 1 (poor) to 5 (strong); a side with too few answers is not shown"
        charts.append(Chart(label, text, labels, series, y_max=5))
    return tuple(charts)


def _float(value) -> float | None:
    return None if value is None else float(value)


async def _open_items(store: Store, scope, rows, name, tz: str) -> tuple[str, ...]:
    """What is open now, soonest due first (as `list P-n` orders it). The scorecard's rows hold every
    open commitment, handoff and lead of the partnership whatever its age; only asks are read again
    (the scorecard reads those of the window)."""
    commitments = sorted((c for c in rows.commitments if c.status == "open"), key=lambda c: (c.due_at, c.id))
    handoffs = sorted((h for h in rows.handoffs if h.stage in OPEN_STAGES and h.declined_at is None),
                      key=lambda h: (h.due_date is None, h.due_date or date.min, h.id))
    leads = sorted((lead for lead in rows.leads if lead.status == "open"), key=lambda lead: lead.id)
    lines = [f"{c.ref} {c.what} — {name(c.owner_id)}, due {format_instant(c.due_at, tz)}"
             for c in commitments[:OPEN_SHOWN]]
    lines += [f"{h.ref} {h.account} — {name(h.from_id)} → {name(h.to_id)}, {h.stage}"
              + (f", by {h.due_date:%a %d %b}" if h.due_date else "")
              for h in handoffs[:OPEN_SHOWN]]
    lines += [f"{lead.ref} {lead.account}: {lead.idea} — {name(lead.owner_id)}" for lead in leads[:OPEN_SHOWN]]
    lines += [f"{a.ref} {a.request} — {name(a.asker_id)} asked {name(a.person_id)}, {a.status}"
              for a in await store.open_asks_of(scope, OPEN_SHOWN)]
    return tuple(lines)
