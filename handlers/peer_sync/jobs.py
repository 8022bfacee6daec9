"""The peer sync on the clock: each manager's weekly prompt, the nudges of those who have not
answered, and the digest at the deadline."""
from __future__ import annotations

from datetime import timedelta

from handlers.kernel.context import JobContext
from handlers.kernel.registry import Job
from handlers.kernel.rules import follow_clock, week_of
from handlers.peer_sync.fanout import prompt_page
from handlers.peer_sync.service import (
    due_run,
    nudge,
    open_week_sync,
    prompt,
    prompt_late_joiners,
    send_digest,
    skip_missed,
)
from storage.models import Partnership, PeerSync, SyncSeries

ONE_DAY = timedelta(days=1)


# --- the weekly prompts --------------------------------------------------------------------------
async def due_series(cad: JobContext, after) -> list:
    return await cad.store.due_series(cad.now, after)


async def run_series(cad: JobContext, series_id: int) -> bool:
    """One manager's weekly run: open the week's sync and prompt them (and a peer who joined
    too late for their own run this week). A page at a time: fanout.prompt_page."""
    store = cad.store
    series = await store.get(SyncSeries, series_id)
    if series is None or series.next_run_at > cad.now:
        return False  # another process ran it a moment ago
    manager = await store.get_person(series.person_id)
    tz = cad.timezone_of(manager)
    if tz != series.timezone:  # their clock changed by a way that did not move the series
        follow_clock(series, "next_run_at", tz, cad.now)
        if series.next_run_at > cad.now:
            return False
    # the latest run due, if its digest deadline is still ahead (after downtime, only it: nobody
    # wants last month's prompts); the weeks skipped are logged
    fire, skipped, series.next_run_at = due_run(series.weekday, series.time, tz, series.next_run_at, cad.now)
    series.timezone = tz
    p = await store.get(Partnership, series.partnership_id)
    if skipped and not await skip_missed(cad, p, manager, skipped):
        return False  # another process ran it a moment ago
    if fire is None:
        return False
    sync = await open_week_sync(cad, p, week_of(fire, tz), manager)
    if sync.digest_at:
        return False
    prompted = await prompt(cad, sync, p, manager)
    return await prompt_late_joiners(cad, sync, p) > 0 or prompted


# --- nudges --------------------------------------------------------------------------------------
async def due_nudges(cad: JobContext, after) -> list:
    rule = cad.settings.cadence.peer_sync
    prompted_before = cad.now - timedelta(hours=rule.nudge_after_hours)
    return await cad.store.syncs_to_nudge(cad.now, prompted_before, rule.max_nudges, after)


async def run_nudge(cad: JobContext, part: tuple[int, int]) -> bool:
    """(peer sync id, person id): nudge that manager, at most `max_nudges` times, never twice a day."""
    store, rule = cad.store, cad.settings.cadence.peer_sync
    answer = await store.sync_answer(*part)
    sync = await store.get(PeerSync, part[0])
    if answer is None or answer.answered_at or sync.digest_at or answer.prompted_at is None:
        return False
    due = answer.prompted_at + timedelta(hours=rule.nudge_after_hours * (answer.nudges + 1))
    if answer.last_nudged_at:
        due = max(due, answer.last_nudged_at + ONE_DAY)  # never more than one nudge a day
    if cad.now < due or answer.nudges >= rule.max_nudges:
        return False
    return await nudge(cad, sync, await store.get(Partnership, sync.partnership_id), answer)


# --- the digest at the deadline --------------------------------------------------------------------
async def due_digests(cad: JobContext, after) -> list:
    return await cad.store.syncs_past_deadline(cad.now, after)


async def run_digest(cad: JobContext, sync_id: int) -> bool:
    sync = await cad.store.get(PeerSync, sync_id)
    if sync.digest_at or sync.deadline_at > cad.now:
        return False
    return await send_digest(cad, sync, await cad.store.get(Partnership, sync.partnership_id))


JOBS = [
    Job("sync prompts", find=due_series, run=run_series, run_page=prompt_page),
    Job("sync nudges", find=due_nudges, run=run_nudge),
    Job("sync digests", find=due_digests, run=run_digest),
]
