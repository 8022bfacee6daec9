"""The manager's coaching view of `report P-n`: per rep of their own side, what they did
together with the partner in the last 4 weeks, where they are stuck, and two or three
questions for the next one-to-one, chosen from those facts by simple rules.

The facts and the questions are pure functions of rows; only `coaching_cards` reads the
database (five SELECTs for all the side's reps at once).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.handoffs.service import OPEN_STAGES, STAGES
from handlers.kernel.context import Context
from handlers.kernel.model import Card, Fact
from handlers.kernel.settings import HandoffSettings
from handlers.kernel.text import day_text, plural
from storage.models import Ask, Commitment, Handoff, Lead, Partnership, PartnershipMember, Person
from storage.queries.reports import People
from storage.store import Store

COACHING_DAYS = 28
MAX_QUESTIONS = 3


@dataclass(frozen=True)
class Activity:
    """What a rep did with partners in the last 4 weeks."""

    handoffs_given: int = 0
    handoffs_received: int = 0
    commitments_kept: int = 0
    ideas_raised: int = 0
    asks_answered: int = 0

    @property
    def any(self) -> bool:
        return any((self.handoffs_given, self.handoffs_received, self.commitments_kept, self.ideas_raised,
                    self.asks_answered))


@dataclass(frozen=True)
class RepFacts:
    rep: Person
    activity: Activity
    unaccepted: list[Handoff] = field(default_factory=list)  # they gave it; not accepted in time
    stale: list[Handoff] = field(default_factory=list)  # theirs, in one stage too long
    overdue: list[Commitment] = field(default_factory=list)  # theirs, open past due (pledges too)


def rep_facts(rep: Person, handoffs: Sequence[Handoff], overdue: Sequence[Commitment], kept: Mapping[int, int],
              leads: Sequence[Lead], asks: Sequence[Ask], now: datetime, accept_within: timedelta,
              stale_after: timedelta) -> RepFacts:
    """The facts of one rep from rows that may hold other people's too (`overdue`: open
    commitments past due; `kept`: how many each person did in the last 4 weeks)."""
    since = now - timedelta(days=COACHING_DAYS)

    def recent(at: datetime | None) -> bool:
        return at is not None and since <= at <= now

    mine = [h for h in handoffs if rep.id in (h.from_id, h.to_id)]
    activity = Activity(
        handoffs_given=sum(1 for h in mine if h.from_id == rep.id and recent(h.created_at)),
        handoffs_received=sum(1 for h in mine if h.to_id == rep.id and recent(h.created_at)),
        commitments_kept=kept.get(rep.id, 0),
        ideas_raised=sum(1 for lead in leads if lead.created_by_id == rep.id and recent(lead.created_at)),
        asks_answered=sum(1 for a in asks if a.person_id == rep.id and a.status == "answered"
                          and recent(a.answered_at)),
    )
    live = [h for h in mine if h.stage in OPEN_STAGES and h.declined_at is None]
    return RepFacts(
        rep=rep, activity=activity,
        unaccepted=[h for h in live if h.from_id == rep.id and h.accepted_at is None
                    and h.created_at + accept_within <= now],
        stale=[h for h in live if h.stage_changed_at + stale_after <= now],
        overdue=[c for c in overdue if c.owner_id == rep.id],
    )


def questions(facts: RepFacts, people: dict[int, Person], partner_reps: Sequence[str] = ()) -> list[str]:
    """At most three questions, each naming what it is about: what is stuck first (the kinds
    in turn, one question per reference), then the absence of any collaboration, or,
    when all is well, what others could learn from the rep."""
    rep = facts.rep.display_name
    stuck: list[list[tuple[str, str]]] = [
        [(h.ref, f"What would help {people[h.to_id].display_name} accept {h.ref}: "
                           f"is the need clear enough?") for h in facts.unaccepted],
        [(c.ref, f"What got in the way of {c.ref}, and is the new date real?")
         for c in facts.overdue],
        [(h.ref, f"What is the next step that moves {h.ref} past {h.stage}?") for h in facts.stale],
    ]
    asked: list[str] = []
    about: set[str] = set()
    while any(stuck) and len(asked) < MAX_QUESTIONS:
        for kind in stuck:  # one of each kind in turn, so three questions cover three kinds
            while kind and kind[0][0] in about:
                kind.pop(0)
            if kind:
                ref, question = kind.pop(0)
                about.add(ref)
                asked.append(question)
    if not facts.activity.any:
        who = f" ({', '.join(partner_reps)})" if partner_reps else ""
        asked.append(f"Which partner rep{who} could {rep} bring a customer to this month?")
    elif not asked:
        asked.append(f"What worked for {rep} that others could copy?")
    return asked[:MAX_QUESTIONS]


# --- rendering ---------------------------------------------------------------------------------
def _day(at: datetime, tz: str) -> str:
    return day_text(at.astimezone(ZoneInfo(tz)).date())


def _for(delta: timedelta) -> str:
    return f"{delta.days} days" if delta >= timedelta(days=2) else f"{int(delta.total_seconds() // 3600)} h"


def activity_text(a: Activity) -> str:
    if not a.any:
        return "none in 4 weeks"
    return " · ".join((plural(a.handoffs_given, "handoff") + " given", f"{a.handoffs_received} received",
                       plural(a.commitments_kept, "commitment") + " kept", plural(a.ideas_raised, "idea") + " raised",
                       plural(a.asks_answered, "ask") + " answered"))


def rep_card(facts: RepFacts, asked: list[str], people: dict[int, Person], now: datetime, tz: str,
             side: str | None) -> Card:
    rows = [Fact("Activity", activity_text(facts.activity))]
    if facts.unaccepted:
        rows.append(Fact("Not accepted", "; ".join(
            f"{h.ref} by {people[h.to_id].display_name}, waiting {_for(now - h.created_at)}"
            for h in facts.unaccepted)))
    if facts.stale:
        rows.append(Fact("Stuck in a stage", "; ".join(
            f"{h.ref} {h.stage} for {_for(now - h.stage_changed_at)}" for h in facts.stale)))
    if facts.overdue:
        rows.append(Fact("Overdue", "; ".join(
            f"{c.ref} {c.what}{' (sync pledge)' if c.peer_sync_id else ''}, due {_day(c.due_at, tz)}"
            for c in facts.overdue)))
    text = "Questions for your next one-to-one:\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(asked, 1))
    where = f" (side {side.upper()})" if side else ""
    return Card(title=f"Coaching · {facts.rep.display_name}{where} — last 4 weeks", text=text, facts=tuple(rows))


async def coaching_cards(ctx: Context, p: Partnership, side: str, members: Sequence[PartnershipMember]) -> list[Card]:
    """One card per rep of `side`, or one saying there is none yet."""
    reps = [m.person_id for m in members if m.side == side and m.role == "rep"]
    if not reps:
        add = f"partnership {p.ref} add @rep"
        return [Card(title=f"Coaching · side {side.upper()}",
                     text=f"No reps on your side of {p.ref} yet: add one with `{add}`.")]
    partner_ids = [m.person_id for m in members if m.side != side and m.role == "rep"]
    people = await ctx.store.people(set(reps))
    return await _coaching(ctx.store, [people[pid] for pid in reps], ctx.now, ctx.settings.cadence.handoffs, ctx.tz,
                           side, partner_ids)


async def reports_coaching(store: Store, reps: Sequence[Person], now: datetime, handoffs_rule: HandoffSettings,
                           tz: str) -> list[Card]:
    """The same coaching, per person reporting to a manager, across all their partnerships (the
    dashboard's person page of a manager)."""
    return await _coaching(store, reps, now, handoffs_rule, tz) if reps else []


async def _coaching(store: Store, reps: Sequence[Person], now: datetime, handoffs_rule: HandoffSettings, tz: str,
                    side: str | None = None, partner_ids: Sequence[int] = ()) -> list[Card]:
    """A card per rep, from five SELECTs for all of them; `partner_ids`: the partner side's reps,
    whom a rep with no activity could bring a customer to."""
    since = now - timedelta(days=COACHING_DAYS)
    scope = People(tuple(r.id for r in reps))
    handoffs = await store.report_handoffs(scope, since, OPEN_STAGES, STAGES)
    overdue = await store.overdue_commitments(scope.ids, now)
    kept = await store.kept_counts(scope.ids, since, now)
    leads = await store.report_leads(scope, since)
    asks = await store.report_asks(scope, since)
    people = {r.id: r for r in reps} | await store.people(
        set(partner_ids) | {h.to_id for h in handoffs} | {h.from_id for h in handoffs})
    partner_reps = [people[pid].display_name for pid in partner_ids]
    accept_within = timedelta(hours=handoffs_rule.accept_within_hours)
    stale_after = timedelta(days=handoffs_rule.stale_after_days)
    cards = []
    for rep in reps:
        facts = rep_facts(rep, handoffs, overdue, kept, leads, asks, now, accept_within, stale_after)
        cards.append(rep_card(facts, questions(facts, people, partner_reps), people, now, tz, side))
    return cards
