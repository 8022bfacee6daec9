"""Commitment reminders on the clock: one before due, an overdue notice at due time; and the
same for handoffs' `by` dates (handoffs/service.py says who hears of them and when).

The claim makes each step happen once per due instant (a snooze moves the instant, so the
snoozed commitment is reminded again). What one owner is owed at one tick goes out as one
message: each commitment's step is claimed, and moved on, in the transaction that owes it.
"""
from __future__ import annotations

import hashlib

from handlers.commitments.messages import AlsoDue, overdue, reminder, together
from handlers.commitments.service import stop_reminders
from handlers.handoffs import service as handoff_dates
from handlers.kernel.context import JobContext
from handlers.kernel.outbound import key, to_person
from handlers.kernel.registry import Job


async def due(cad: JobContext, after) -> list:
    handoffs_by = handoff_dates.dates_due_by(cad.now, cad.settings.cadence.commitments.remind_before_hours)
    return await cad.store.people_due_for_reminders(cad.now, handoffs_by, handoff_dates.OPEN_STAGES, after)


async def remind(cad: JobContext, owner_of: tuple[int, int]) -> bool:
    """Everything one owner (in one workspace) is owed now, in one message: their commitments'
    reminders and overdue notices, and those of the `by` dates of handoffs they hear of; False
    when another process (or an earlier tick) owed it already."""
    store = cad.store
    workspace_id, owner_id = owner_of
    owner = await store.get_person(owner_id)
    tz = cad.timezone_of(owner)
    owed = []  # (commitment, kind, period) whose step this transaction claimed
    for c in await store.commitments_due_for_cadence(workspace_id, owner_id, cad.now):
        if c.cadence_step == "reminder" and cad.now < c.due_at:
            kind = "commitment.reminder"
            c.cadence_at, c.cadence_step = c.due_at, "overdue"
        else:  # due now (or the reminder's moment passed while nobody ticked)
            kind = "commitment.overdue"
            stop_reminders(c)
        period = c.due_at.isoformat()
        if await store.claim(key(kind, workspace_id, c.ref, period, owner.id), cad.now):
            owed.append((c, kind, period))
    dated = await handoff_dates.owe_date_notices(cad, workspace_id, owner, tz)
    if not owed and not dated:
        return False
    if len(owed) + len(dated) == 1:
        if owed:
            ((c, kind, period),) = owed
            message = reminder(c, tz) if kind == "commitment.reminder" else overdue(c, tz)
            record = c.ref
        else:
            (notice,) = dated
            kind, record, period, message = notice.kind, notice.ref, notice.period, notice.reply
    else:  # the claims above make the set unique: a later tick claims none of these again
        message = together([(c, kind == "commitment.overdue") for c, kind, _ in owed], tz,
                           [AlsoDue(n.line, n.card, n.overdue, n.hint) for n in dated])
        kind, period = "commitment.together", cad.now.isoformat()
        record = _refs([c.ref for c, _, _ in owed] + [n.ref for n in dated])
    await to_person(store, workspace_id=workspace_id, person=owner, kind=kind, record=record, period=period,
                    reply=message, now=cad.now)
    return True


def _refs(refs: list[str]) -> str:
    """The record part of a message about many records: their refs, `C-1+C-4+H-2`; a long list
    (a key must fit an index) as its first ref and a digest of them all."""
    joined = "+".join(refs)
    return joined if len(joined) <= 200 else f"{refs[0]}+{hashlib.sha256(joined.encode()).hexdigest()[:16]}"


JOBS = [Job("commitment reminders", find=due, run=remind)]
