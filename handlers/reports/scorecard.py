"""report: a scorecard of the last 8 weeks, each figure with its weekly trend.

`report` / `report me`: the caller's own, with a Done button per open commitment (the Slack
App Home publishes exactly this); `report @person`: theirs, for them and their managers;
`report P-n`: a partnership's, for its members, with the coaching view for its managers.
Nothing is written: a report only reads.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from handlers.handoffs.service import OPEN_STAGES, STAGES
from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import parse_ref, take_mention
from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.text import amount_text, commitment_line, hours_text, plural
from handlers.partnerships import policy
from handlers.partnerships.service import between_sides, find_partnership, status_line
from handlers.pulse.service import DIMENSIONS, SIDES, imbalances, period_label, side_summary
from handlers.reports import metrics
from handlers.reports.coaching import coaching_cards
from handlers.reports.sparkline import sparkline
from handlers.wins.service import credited_amounts
from storage.models import Partnership, PartnershipMember, Person, Pulse, PulseAnswer, Win
from storage.queries.reports import People, Scope
from storage.store import Store

OPEN_CARDS = 10  # open commitments shown under one's own scorecard, soonest due first


async def report(ctx: Context, args: str) -> Reply:
    target = args.strip()
    if target.lower() in ("", "me"):
        return await _person_report(ctx, ctx.caller)
    if mention := take_mention(target):
        user_id, name, rest = mention
        if rest:
            raise UserError(f"I don't understand '{rest}' after the mention; say `report @person`.")
        person = await ctx.mentioned_person(user_id, name)
        await policy.may_see(ctx, person)
        return await _person_report(ctx, person)
    token, _, rest = target.partition(" ")
    if parse_ref(token, "P") is not None:
        if rest.strip():
            raise UserError(f"I don't understand '{rest.strip()}' after {token.upper()}; say `report P-1`.")
        p = await find_partnership(ctx, token)
        me = await policy.membership(ctx, p)
        if me is None:
            raise UserError(f"Only the members of {p.ref} can see its scorecard; ask one of its managers "
                            f"to add you.")
        return await _partnership_report(ctx, p, me)
    raise UserError(f"I can report on you (`report`), a person (`report @maria`) or a partnership (`report P-1`), "
                    f"not '{target}'.")


# --- gathering --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rows:
    commitments: list
    handoffs: list
    syncs: list
    sync_answers: list
    meetings: list
    action_items: list
    leads: list
    leads_with_next: set[int]
    asks: list
    counted: metrics.CommitmentFigures | None = None  # of commitments counted, not read (commitments empty)

    def commitment_figures(self, window: metrics.Window) -> metrics.CommitmentFigures:
        return self.counted or metrics.commitment_figures(self.commitments, window)


async def _gather(store: Store, scope: Scope, window: metrics.Window, listed: bool = True) -> Rows:
    """The rows of a scorecard. `listed`: whole commitments, for a view that lists them (one's own
    open ones, the dashboard's page); without it (a partnership's in the chat) none: their
    figures come from counts (`counted`)."""
    since = window.start
    meetings = await store.report_meetings(scope, since, window.now)
    syncs, answers = await store.report_syncs(scope, since)
    leads = await store.report_leads(scope, since)
    commitments, counted = [], None
    if listed:
        commitments = await store.report_commitments(scope, since)
    else:
        counted = metrics.counted_figures(await store.commitment_groups(scope, window.starts, window.now), window)
    return Rows(
        commitments=commitments, counted=counted,
        handoffs=await store.report_handoffs(scope, since, OPEN_STAGES, STAGES),
        syncs=syncs, sync_answers=answers, meetings=meetings,
        action_items=await store.report_action_items([m.id for m in meetings], counted_only=not listed),
        leads=leads,
        leads_with_next=await store.leads_with_next_activity([lead.id for lead in leads if lead.status == "open"]),
        asks=await store.report_asks(scope, since),
    )


# --- how a figure reads -----------------------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    """A figure's text and its weekly series (oldest first; None: no data that week), between
    `bounds` when it has them (a rate: 0 to 1). Chat shows it as a sparkline, the dashboard as a chart."""

    text: str
    weekly: tuple[float | None, ...]
    bounds: tuple[float, float] | None = None
    number: float | None = None  # the headline value (a rate's percent, a count, cents), to sort a table by

    def __str__(self) -> str:
        return f"{self.text} {sparkline(self.weekly, self.bounds)}"


@dataclass(frozen=True)
class Figure:
    """One line of a scorecard: what `report` shows as a Fact and the dashboard as a chart."""

    label: str
    value: str | Trend

    @property
    def fact(self) -> Fact:
        return Fact(self.label, str(self.value))


def _with_trend(text: str, weekly, bounds: tuple[float, float] | None = None, number: float | None = None) -> Trend:
    return Trend(text, tuple(weekly), bounds, number)


def _rate(rate: metrics.Rate, what: str, none: str) -> Trend:
    if rate.percent is None:
        return _with_trend(f"— ({none})", rate.weekly, (0.0, 1.0))
    return _with_trend(f"{rate.percent}% ({rate.hits} of {rate.total} {what})", rate.weekly, (0.0, 1.0),
                       rate.percent)


def _median(m: metrics.Median, what: str, none: str) -> Trend:
    if m.value is None:
        return _with_trend(f"— ({none})", m.weekly)
    return _with_trend(f"median {hours_text(m.value)} ({m.count} {what})", m.weekly, number=m.value)


def _stages(f: metrics.HandoffFigures) -> Trend:
    parts = [str(f.created.total)]
    stages = ", ".join(f"{stage} {f.by_stage[stage]}" for stage in STAGES if f.by_stage.get(stage))
    if stages:
        parts.append(stages)
    if f.declined:
        parts.append(f"{f.declined} declined")
    return _with_trend(" · ".join(parts), f.created.weekly, number=f.created.total)


def _common_facts(rows: Rows, window: metrics.Window) -> tuple[list[Figure], list[Figure]]:
    """The figures every scorecard has: (before the handoffs, after them)."""
    w = window
    commitments = rows.commitment_figures(w)
    overdue = commitments.overdue
    before = [
        Figure("Kept on time", _rate(commitments.kept, "kept on time", "nothing due yet")),
        Figure("Overdue now", _with_trend(str(overdue.total), overdue.weekly, number=overdue.total)),
    ]
    leads = metrics.lead_figures(rows.leads, rows.leads_with_next, w)
    won = str(leads.won.total) + (f" · {amount_text(leads.amount_won_cents)}" if leads.amount_won_cents else "")
    after = [
        Figure("Time to accept", _median(metrics.accept_hours(rows.handoffs, w), "accepted", "none accepted")),
        Figure("Handoffs won", _rate(metrics.won_share(rows.handoffs, w), "reached won", "no handoffs")),
        Figure("Peer syncs", _rate(metrics.sync_participation(rows.syncs, rows.sync_answers, w),
                                 "weeks both managers answered", "no peer sync due")),
        Figure("Meetings with action items", _rate(metrics.meeting_action_rate(rows.meetings, rows.action_items, w),
                                                 "meetings held were closed with an action item", "no meeting held")),
        Figure("Action items kept", _rate(metrics.kept_rate(rows.action_items, w), "kept on time",
                                        "no action item due yet")),
        Figure("Leads", _with_trend(f"{leads.created.total} created · {leads.with_next_activity} of {leads.open} open "
                                  f"with a next activity", leads.created.weekly, number=leads.open)),
        Figure("Leads won", _with_trend(won, leads.won.weekly, number=leads.won.total)),
    ]
    return before, after


def common_figures(rows: Rows, window: metrics.Window) -> list[Figure]:
    """The figures every scorecard has, in their order (the dashboard's trends)."""
    before, after = _common_facts(rows, window)
    return [*before, *after]


def _ask_facts(asks: metrics.AskFigures) -> list[Figure]:
    return [
        Figure("Asks received", _with_trend(f"{asks.received.total} · {asks.answered} answered", asks.received.weekly)),
        Figure("First response", _median(asks.first_response, "responded", "no response")),
    ]




# --- a person ---------------------------------------------------------------------------------
async def person_figures(store: Store, person: Person, now: datetime) -> tuple[list[Figure], Rows]:
    """A person's scorecard of the 8 weeks before `now`, and the rows it was computed from:
    `report` and the dashboard's person page both show exactly these."""
    window = metrics.Window(now)
    scope = People((person.id,))
    rows = await _gather(store, scope, window)
    before, after = _common_facts(rows, window)
    given = [h for h in rows.handoffs if h.from_id == person.id]
    received = [h for h in rows.handoffs if h.to_id == person.id]
    handoffs = [Figure("Handoffs given", _stages(metrics.handoff_figures(given, window))),
                Figure("Handoffs received", _stages(metrics.handoff_figures(received, window)))]
    credits = await store.report_credits([person.id], window.start)
    credit = metrics.credit_figures(credits, window, await _credited_parts(store, [win for _, win in credits]))
    credited = plural(credit.wins.total, "win") + (
        f" · {amount_text(credit.amount_cents)} credited" if credit.amount_cents else "") + (
        f" · {credit.without_amount} without an amount" if credit.without_amount else "")
    facts = [*before, *handoffs, *after, *_ask_facts(metrics.ask_figures(rows.asks, window)),
             Figure("Credit on wins", _with_trend(credited, credit.wins.weekly))]
    return facts, rows


async def _credited_parts(store: Store, wins: Sequence[Win]) -> dict[tuple[int, int], int | None]:
    """Each credited person's cents of these wins, as the credit report splits them."""
    every = await store.credits_of_wins([w.id for w in wins])
    parts = {}
    for win in wins:
        lines = every.get(win.id, [])
        for line, cents in zip(lines, credited_amounts(lines, win.amount_cents), strict=True):
            parts[(win.id, line.person_id)] = cents
    return parts


def person_title(person: Person) -> str:
    return f"Scorecard of {person.display_name} — last 8 weeks"


async def _person_report(ctx: Context, person: Person) -> Reply:
    facts, rows = await person_figures(ctx.store, person, ctx.now)
    title = person_title(person)
    scorecard = Card(title=title, facts=tuple(f.fact for f in facts))
    if person.id != ctx.caller.id:
        return Reply.of_cards(scorecard)
    open_now = [c for c in rows.commitments if c.status == "open"]  # fetched soonest due first
    mine = open_now[:OPEN_CARDS]
    done_cards = tuple(Card(title=f"{c.ref} · {c.what}", text=f"due {format_instant(c.due_at, ctx.tz)}",
                            buttons=(Button("Done", f"done {c.ref}", "primary"),)) for c in mine)
    head = "Your open commitments:" if len(open_now) <= OPEN_CARDS else (
        f"Your open commitments (the first {OPEN_CARDS} of {len(open_now)}, soonest due; `list mine` shows more):")
    listed = head + "\n" + "\n".join(commitment_line(c, None, ctx.tz) for c in mine) if mine \
        else "You have no open commitments."
    return Reply.of_cards(scorecard, then=listed, more_cards=done_cards)


# --- a partnership ----------------------------------------------------------------------------
async def _partnership_report(ctx: Context, p: Partnership, me: PartnershipMember) -> Reply:
    facts, _, members = await partnership_figures(ctx.store, p, ctx.now, ctx.settings.cadence.pulse.min_answers,
                                                  ctx.tz, listed=False)
    scorecard = Card(title=partnership_title(p), facts=tuple(f.fact for f in facts))
    if me.role != "manager":
        return Reply.of_cards(scorecard)
    return Reply.of_cards(scorecard, *await coaching_cards(ctx, p, me.side, members))


def partnership_title(p: Partnership) -> str:
    return f"{p.ref} {p.name} — last 8 weeks"


async def partnership_figures(store: Store, p: Partnership, now: datetime, min_answers: int, tz: str,
                              listed: bool = True) -> tuple[list[Figure], Rows, list[PartnershipMember]]:
    """A partnership's scorecard of the 8 weeks before `now`, the rows it was computed from and
    its members: `report P-n` and the dashboard's partnership page both show exactly these
    (`listed`: whole commitments among the rows, which the page lists and the chat does not)."""
    window = metrics.Window(now)
    members = await store.members(p.id)
    scope = between_sides(p, members)
    rows = await _gather(store, scope, window, listed)
    wins = await store.report_wins(scope, window.start)
    pulse = await store.last_closed_pulse(p.id)
    answers = await store.pulse_answers(pulse.id) if pulse is not None else []
    facts = [*collaboration_figures(rows, scope.side_a, scope.side_b, wins, window),
             *health_figures(pulse, answers, min_answers, tz)]
    if status := await status_line(store, p):
        facts.insert(0, Figure("Status", status))
    return facts, rows, members


def collaboration_figures(rows: Rows, side_a: Sequence[int], side_b: Sequence[int], wins: Sequence[Win],
                          window: metrics.Window) -> list[Figure]:
    """What a partnership's sides did together, from its rows (fetched for it alone by `report
    P-n`, or split from many partnerships' by the dashboard's overview)."""
    sides = {"a": set(side_a), "b": set(side_b)}
    before, after = _common_facts(rows, window)
    a_to_b = [h for h in rows.handoffs if h.from_id in sides["a"]]
    b_to_a = [h for h in rows.handoffs if h.from_id in sides["b"]]
    handoffs = [Figure("Handoffs A → B", _stages(metrics.handoff_figures(a_to_b, window))),
                Figure("Handoffs B → A", _stages(metrics.handoff_figures(b_to_a, window)))]
    asks = _ask_facts(metrics.ask_figures(rows.asks, window))
    for s in SIDES:  # responsiveness per side: the side of the person asked
        side_asks = metrics.ask_figures([a for a in rows.asks if a.person_id in sides[s]], window)
        asks.append(Figure(f"Asks answered by side {s.upper()}", _side_asks(side_asks)))
    won, amount = metrics.win_figures(wins, window)
    text = plural(won.total, "win") + (f" · {amount_text(amount)}" if amount else "")
    return [*before, *handoffs, *after, *asks, Figure("Wins", _with_trend(text, won.weekly, number=amount))]


def _side_asks(f: metrics.AskFigures) -> str:
    if not f.received.total and f.first_response.value is None:
        return "no asks"
    text = f"{f.answered} of {f.received.total}"
    if f.first_response.value is not None:
        text += f" · median {hours_text(f.first_response.value)} to first response"
    return text


def health_figures(pulse: Pulse | None, answers: list[PulseAnswer], min_answers: int, tz: str) -> list[Figure]:
    """The latest closed health pulse: per-side averages of the five dimensions and their gaps."""
    if pulse is None:
        return [Figure("Health", "no pulse closed yet")]
    summary = side_summary(answers, min_answers)
    flagged = {dim for dim, _, _ in imbalances(summary)}
    answered = " · ".join(f"{s.upper()} {summary[s].count_text}" for s in SIDES)
    facts = [Figure("Health", f"pulse of {period_label(pulse, tz)} · {answered}")]
    a, b = summary["a"].averages, summary["b"].averages
    for dim, label in DIMENSIONS:
        value = " · ".join(f"{s.upper()} {summary[s].averages.get(dim, '—')}" for s in SIDES)
        if dim in a and dim in b:
            value += f" · gap {abs(a[dim] - b[dim])}"
        facts.append(Figure(label, value + (" · imbalance" if dim in flagged else "")))
    return facts


VERBS = [
    Verb("report", ("report [me | @person | P-n]",),
         "a scorecard of the last 8 weeks with weekly trends: kept-rate, overdue, handoffs, peer syncs, meetings, "
         "leads, asks, credit (a partnership's with its health, and coaching for its managers)", (
             "report", "report @maria", "report P-1",
         ), report),
]
