"""report: a scorecard of the last 8 weeks, each figure with its weekly trend.

`report` / `report me`: the caller's own, with a Done button per open commitment (the Slack
App Home publishes exactly this); `report @person`: theirs, for them and their managers;
`report P-n`: a partnership's, for its members, with the coaching view for its managers.
Nothing is written: a report only reads.
"""
from __future__ import annotations

from dataclasses import dataclass

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
from storage.models import Partnership, PartnershipMember, Person
from storage.queries.reports import People, Scope

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


async def _gather(ctx: Context, scope: Scope, window: metrics.Window) -> Rows:
    store, since = ctx.store, window.start
    meetings = await store.report_meetings(scope, since, window.now)
    syncs, answers = await store.report_syncs(scope, since)
    leads = await store.report_leads(scope, since)
    return Rows(
        commitments=await store.report_commitments(scope, since),
        handoffs=await store.report_handoffs(scope, since, OPEN_STAGES, STAGES),
        syncs=syncs, sync_answers=answers, meetings=meetings,
        action_items=await store.report_action_items([m.id for m in meetings]),
        leads=leads,
        leads_with_next=set(await store.next_activities([lead.id for lead in leads if lead.status == "open"])),
        asks=await store.report_asks(scope, since),
    )


# --- how a figure reads -----------------------------------------------------------------------
def _with_trend(text: str, weekly, bounds: tuple[float, float] | None = None) -> str:
    return f"{text} {sparkline(weekly, bounds)}"


def _rate(rate: metrics.Rate, what: str, none: str) -> str:
    if rate.percent is None:
        return _with_trend(f"— ({none})", rate.weekly, (0.0, 1.0))
    return _with_trend(f"{rate.percent}% ({rate.hits} of {rate.total} {what})", rate.weekly, (0.0, 1.0))


def _median(m: metrics.Median, what: str, none: str) -> str:
    if m.value is None:
        return _with_trend(f"— ({none})", m.weekly)
    return _with_trend(f"median {hours_text(m.value)} ({m.count} {what})", m.weekly)


def _stages(f: metrics.HandoffFigures) -> str:
    parts = [str(f.created.total)]
    stages = ", ".join(f"{stage} {f.by_stage[stage]}" for stage in STAGES if f.by_stage.get(stage))
    if stages:
        parts.append(stages)
    if f.declined:
        parts.append(f"{f.declined} declined")
    return _with_trend(" · ".join(parts), f.created.weekly)


def _common_facts(rows: Rows, window: metrics.Window) -> tuple[list[Fact], list[Fact]]:
    """The figures every scorecard has: (before the handoffs, after them)."""
    w = window
    overdue = metrics.overdue(rows.commitments, w)
    before = [
        Fact("Kept on time", _rate(metrics.kept_rate(rows.commitments, w), "kept on time", "nothing due yet")),
        Fact("Overdue now", _with_trend(str(overdue.total), overdue.weekly)),
    ]
    leads = metrics.lead_figures(rows.leads, rows.leads_with_next, w)
    won = str(leads.won.total) + (f" · {amount_text(leads.amount_won_cents)}" if leads.amount_won_cents else "")
    after = [
        Fact("Time to accept", _median(metrics.accept_hours(rows.handoffs, w), "accepted", "none accepted")),
        Fact("Handoffs won", _rate(metrics.won_share(rows.handoffs, w), "reached won", "no handoffs")),
        Fact("Peer syncs", _rate(metrics.sync_participation(rows.syncs, rows.sync_answers, w),
                                 "weeks both managers answered", "no peer sync due")),
        Fact("Meetings with action items", _rate(metrics.meeting_action_rate(rows.meetings, rows.action_items, w),
                                                 "meetings held were closed with an action item", "no meeting held")),
        Fact("Action items kept", _rate(metrics.kept_rate(rows.action_items, w), "kept on time",
                                        "no action item due yet")),
        Fact("Leads", _with_trend(f"{leads.created.total} created · {leads.with_next_activity} of {leads.open} open "
                                  f"with a next activity", leads.created.weekly)),
        Fact("Leads won", _with_trend(won, leads.won.weekly)),
    ]
    return before, after


def _ask_facts(asks: metrics.AskFigures) -> list[Fact]:
    return [
        Fact("Asks received", _with_trend(f"{asks.received.total} · {asks.answered} answered", asks.received.weekly)),
        Fact("First response", _median(asks.first_response, "responded", "no response")),
    ]




# --- a person ---------------------------------------------------------------------------------
async def _person_report(ctx: Context, person: Person) -> Reply:
    window = metrics.Window(ctx.now)
    scope = People((person.id,))
    rows = await _gather(ctx, scope, window)
    before, after = _common_facts(rows, window)
    given = [h for h in rows.handoffs if h.from_id == person.id]
    received = [h for h in rows.handoffs if h.to_id == person.id]
    handoffs = [Fact("Handoffs given", _stages(metrics.handoff_figures(given, window))),
                Fact("Handoffs received", _stages(metrics.handoff_figures(received, window)))]
    credit = metrics.credit_figures(await ctx.store.report_credits([person.id], window.start), window)
    credited = plural(credit.wins.total, "win") + (
        f" · {amount_text(credit.amount_cents)} credited" if credit.amount_cents else "") + (
        f" · {credit.without_amount} without an amount" if credit.without_amount else "")
    facts = [*before, *handoffs, *after, *_ask_facts(metrics.ask_figures(rows.asks, window)),
             Fact("Credit on wins", _with_trend(credited, credit.wins.weekly))]
    title = f"Scorecard of {person.display_name} — last 8 weeks"
    scorecard = Card(title=title, facts=tuple(facts))
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
    window = metrics.Window(ctx.now)
    members = await ctx.store.members(p.id)
    scope = between_sides(p, members)
    sides = {"a": scope.side_a, "b": scope.side_b}
    rows = await _gather(ctx, scope, window)
    before, after = _common_facts(rows, window)
    a_to_b = [h for h in rows.handoffs if h.from_id in sides["a"]]
    b_to_a = [h for h in rows.handoffs if h.from_id in sides["b"]]
    handoffs = [Fact("Handoffs A → B", _stages(metrics.handoff_figures(a_to_b, window))),
                Fact("Handoffs B → A", _stages(metrics.handoff_figures(b_to_a, window)))]
    asks = _ask_facts(metrics.ask_figures(rows.asks, window))
    for s in SIDES:  # responsiveness per side: the side of the person asked
        side_asks = metrics.ask_figures([a for a in rows.asks if a.person_id in sides[s]], window)
        asks.append(Fact(f"Asks answered by side {s.upper()}", _side_asks(side_asks)))
    wins, amount = metrics.win_figures(await ctx.store.report_wins(scope, window.start), window)
    won = plural(wins.total, "win") + (f" · {amount_text(amount)}" if amount else "")
    facts = [*before, *handoffs, *after, *asks, Fact("Wins", _with_trend(won, wins.weekly)),
             *await _health_facts(ctx, p)]
    if status := await status_line(ctx.store, p):
        facts.insert(0, Fact("Status", status))
    scorecard = Card(title=f"{p.ref} {p.name} — last 8 weeks", facts=tuple(facts))
    if me.role != "manager":
        return Reply.of_cards(scorecard)
    return Reply.of_cards(scorecard, *await coaching_cards(ctx, p, me.side, members))


def _side_asks(f: metrics.AskFigures) -> str:
    if not f.received.total and f.first_response.value is None:
        return "no asks"
    text = f"{f.answered} of {f.received.total}"
    if f.first_response.value is not None:
        text += f" · median {hours_text(f.first_response.value)} to first response"
    return text


async def _health_facts(ctx: Context, p: Partnership) -> list[Fact]:
    """The latest closed health pulse: per-side averages of the five dimensions and their gaps."""
    pulse = await ctx.store.last_closed_pulse(p.id)
    if pulse is None:
        return [Fact("Health", "no pulse closed yet")]
    summary = side_summary(await ctx.store.pulse_answers(pulse.id), ctx.settings.cadence.pulse.min_answers)
    flagged = {dim for dim, _, _ in imbalances(summary)}
    answered = " · ".join(f"{s.upper()} {summary[s].count_text}" for s in SIDES)
    facts = [Fact("Health", f"pulse of {period_label(pulse, ctx.tz)} · {answered}")]
    a, b = summary["a"].averages, summary["b"].averages
    for dim, label in DIMENSIONS:
        value = " · ".join(f"{s.upper()} {summary[s].averages.get(dim, '—')}" for s in SIDES)
        if dim in a and dim in b:
            value += f" · gap {abs(a[dim] - b[dim])}"
        facts.append(Fact(label, value + (" · imbalance" if dim in flagged else "")))
    return facts


VERBS = [
    Verb("report", ("report [me | @person | P-n]",),
         "a scorecard of the last 8 weeks with weekly trends: kept-rate, overdue, handoffs, peer syncs, meetings, "
         "leads, asks, credit (a partnership's with its health, and coaching for its managers)", (
             "report", "report @maria", "report P-1",
         ), report),
]
