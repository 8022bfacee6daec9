"""Handoffs on the clock: not accepted within `accept_within_hours`, the receiver is nudged
once; stuck in a stage for `stale_after_days`, both reps' managers are told (once a stage)."""
from __future__ import annotations

from datetime import timedelta

from handlers.handoffs.messages import accept_nudge, stale
from handlers.handoffs.service import OPEN_STAGES
from handlers.kernel.context import JobContext
from handlers.kernel.outbound import key, to_person
from handlers.kernel.registry import Job
from storage.models import Handoff


async def due(cad: JobContext, after) -> list:
    handoffs = cad.settings.cadence.handoffs
    accept_before = cad.now - timedelta(hours=handoffs.accept_within_hours)
    stale_before = cad.now - timedelta(days=handoffs.stale_after_days)
    return await cad.store.handoffs_to_follow_up(accept_before, stale_before, OPEN_STAGES, after)


async def follow_up(cad: JobContext, handoff_id: int) -> bool:
    h = await cad.store.get(Handoff, handoff_id)
    if h.stage not in OPEN_STAGES or h.declined_at:
        return False
    handoffs = cad.settings.cadence.handoffs
    acted = False
    accept_by = h.created_at + timedelta(hours=handoffs.accept_within_hours)
    if h.accepted_at is None and h.accept_nudged_at is None and accept_by <= cad.now:
        h.accept_nudged_at = cad.now
        acted |= await _nudge_receiver(cad, h)
    stale_since = h.stage_changed_at
    if stale_since + timedelta(days=handoffs.stale_after_days) <= cad.now and \
            (h.stale_reported_at is None or h.stale_reported_at < stale_since):
        h.stale_reported_at = cad.now
        acted |= await _report_stale(cad, h)
    return acted


async def _nudge_receiver(cad: JobContext, h: Handoff) -> bool:
    store = cad.store
    if not await store.claim(key("handoff.accept_nudge", h.workspace_id, h.ref, "-", h.to_id), cad.now):
        return False
    people = await store.people({h.from_id, h.to_id})
    await to_person(store, workspace_id=h.workspace_id, person=people[h.to_id], kind="handoff.accept_nudge",
                    record=h.ref, period="-", now=cad.now, reply=accept_nudge(h, people[h.from_id]))
    return True


async def _report_stale(cad: JobContext, h: Handoff) -> bool:
    store = cad.store
    people = await store.people({h.from_id, h.to_id})
    manager_ids = {people[h.from_id].manager_id, people[h.to_id].manager_id} - {None}
    managers = await store.people(manager_ids)
    period = f"{h.stage}@{h.stage_changed_at.isoformat()}"
    sent = False
    for manager in managers.values():
        if not await store.claim(key("handoff.stale", h.workspace_id, h.ref, period, manager.id), cad.now):
            continue
        days = (cad.now - h.stage_changed_at).days
        reps = f"{people[h.from_id].display_name} → {people[h.to_id].display_name}"
        await to_person(store, workspace_id=h.workspace_id, person=manager, kind="handoff.stale", record=h.ref,
                        period=period, now=cad.now, reply=stale(h, reps, days))
        sent = True
    return sent


JOBS = [Job("handoff follow-ups", find=due, run=follow_up)]
