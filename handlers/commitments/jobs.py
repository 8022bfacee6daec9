"""Commitment reminders on the clock: one before due, an overdue notice at due time.

The claim makes each step happen once per due instant (a snooze moves the instant, so the
snoozed commitment is reminded again).
"""
from __future__ import annotations

from handlers.commitments.messages import overdue, reminder
from handlers.commitments.service import stop_reminders
from handlers.kernel.context import JobContext
from handlers.kernel.outbound import key, to_person
from handlers.kernel.registry import Job
from storage.models import Commitment


async def due(cad: JobContext, after) -> list:
    return await cad.store.commitments_due_for_cadence(cad.now, after)


async def remind(cad: JobContext, commitment_id: int) -> bool:
    store = cad.store
    c = await store.get(Commitment, commitment_id)
    if c.status != "open" or c.cadence_at is None or c.cadence_at > cad.now:
        return False
    owner = await store.get_person(c.owner_id)
    if c.cadence_step == "reminder" and cad.now < c.due_at:
        kind, message = "commitment.reminder", reminder(c, cad.timezone_of(owner))
        c.cadence_at, c.cadence_step = c.due_at, "overdue"
    else:  # due now (or the reminder's moment passed while nobody ticked)
        kind, message = "commitment.overdue", overdue(c, cad.timezone_of(owner))
        stop_reminders(c)
    period = c.due_at.isoformat()
    if not await store.claim(key(kind, c.workspace_id, c.ref, period, owner.id), cad.now):
        return False
    await to_person(store, workspace_id=c.workspace_id, person=owner, kind=kind, record=c.ref, period=period,
                    reply=message, now=cad.now)
    return True


JOBS = [Job("commitment reminders", find=due, run=remind)]
