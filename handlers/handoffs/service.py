"""Handoffs (H-n): a customer need handed from one rep to a partner rep, moving along stages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers.handoffs.messages import date_card, date_hint, date_line, date_notice
from handlers.kernel.context import Context, JobContext
from handlers.kernel.dates import due_instant
from handlers.kernel.model import Card, Reply
from handlers.kernel.outbound import key
from storage.models import Handoff, Person

STAGES = ("identified", "positioned", "introduced", "delivered", "won", "lost")
CLOSED = ("won", "lost")
OPEN_STAGES = tuple(s for s in STAGES if s not in CLOSED)
WITHDRAWN = "withdrawn"  # taken back by its sender before it was accepted: neither open nor won or lost


def snapshot(h: Handoff) -> dict:
    """What the activity log keeps of a handoff before and after a change."""
    return {"stage": h.stage, "accepted": h.accepted_at is not None, "declined": h.declined_at is not None,
            "account": h.account, "need": h.need}


async def set_stage(ctx: Context, h: Handoff, stage: str, note: str | None) -> None:
    before = snapshot(h)
    h.stage, h.stage_changed_at = stage, ctx.now
    await ctx.log("handoff.stage", h.ref, before=before, after={**snapshot(h), "note": note})


async def withdraw(ctx: Context, h: Handoff, reason: str) -> None:
    """Its sender takes it back before acceptance; logged with the reason."""
    before = snapshot(h)
    h.stage, h.stage_changed_at = WITHDRAWN, ctx.now
    await ctx.log("handoff.withdrawn", h.ref, before=before, after={**snapshot(h), "reason": reason})


# --- its `by` date, reminded like a commitment's due date -----------------------------------------
# Due at `cadence.commitments.due_time` of its date on the clock of whoever hears of it (the
# sender until the receiver accepts, then the receiver), reminded `remind_before_hours` before
# (unless it was created that close to it), noticed overdue once due. The commitment reminder
# job sends them, in the same message as the person's commitments due at that tick.

@dataclass(frozen=True)
class DateNotice:
    """A handoff's reminder or overdue notice owed now: `reply` when it goes out alone, else its
    `line`, `card` and `hint` in a message listing several."""

    ref: str
    kind: str  # handoff.reminder | handoff.overdue
    period: str  # its date: a moved date would be reminded again
    overdue: bool
    reply: Reply
    line: str
    card: Card
    hint: str


def dates_due_by(now: datetime, remind_before_hours: float) -> date:
    """The latest `by` date whose reminder may be due at `now` on any clock (a day more for the
    timezones ahead of UTC): what the tick asks the database for."""
    return (now + timedelta(hours=remind_before_hours, days=1)).date()


async def owe_date_notices(cad: JobContext, workspace_id: int, person: Person, tz: str) -> list[DateNotice]:
    """What `person` (on clock `tz`) is owed now of the `by` dates of the handoffs they hear of,
    each marked sent and claimed in this transaction; soonest date first."""
    commitments = cad.settings.cadence.commitments
    handoffs = await cad.store.handoffs_with_dates_due_for(
        workspace_id, person.id, dates_due_by(cad.now, commitments.remind_before_hours), OPEN_STAGES)
    notices = []
    for h in handoffs:
        due_at = due_instant(h.due_date, commitments.due_time, tz)
        remind_at = due_at - timedelta(hours=commitments.remind_before_hours)
        if due_at <= cad.now:  # also when the reminder's moment passed while nobody ticked
            h.overdue_notified_at = cad.now
        elif h.due_reminded_at is None and h.created_at < remind_at <= cad.now:
            h.due_reminded_at = cad.now
        else:
            continue
        is_overdue = h.overdue_notified_at is not None
        kind, period = ("handoff.overdue" if is_overdue else "handoff.reminder"), h.due_date.isoformat()
        if await cad.store.claim(key(kind, workspace_id, h.ref, period, person.id), cad.now):
            notices.append(await _notice(cad, h, kind, period, is_overdue))
    return notices


async def _notice(cad: JobContext, h: Handoff, kind: str, period: str, is_overdue: bool) -> DateNotice:
    people = await cad.store.people({h.from_id, h.to_id})
    sender, receiver = people[h.from_id], people[h.to_id]
    next_stage = STAGES[STAGES.index(h.stage) + 1] if h.stage in OPEN_STAGES[:-1] else None
    return DateNotice(
        ref=h.ref, kind=kind, period=period, overdue=is_overdue,
        reply=date_notice(h, sender, receiver, is_overdue, next_stage),
        line=date_line(h, sender, receiver, is_overdue),
        card=date_card(h, sender, receiver, is_overdue, next_stage), hint=date_hint(h, alone=False))
