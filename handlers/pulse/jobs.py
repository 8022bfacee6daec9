"""The monthly health pulse on the clock: open it, prompt every member, close it.

A pulse opens on the first `cadence.pulse.day` of each month at the peer-sync time, and
closes after `close_after_days` (or at once when everyone has answered: verbs.py).

One clock per partnership: the pulse is one record per partnership and month that every
member answers together (they are asked at once and compared side against side), so it
opens on a single clock, that of side A's manager (who created the partnership), rather
than at each member's own 09:00, which would spread one pulse over a day and more.

Openings the tick missed (it was down) are coalesced: only the latest month's pulse opens, and
only while it would still be open (`close_after_days` after its opening); the months skipped
are logged.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handlers.kernel.context import JobContext
from handlers.kernel.registry import Job
from handlers.kernel.rules import latest_monthly_fire_not_after, month_of, monthly_fire_at_or_after, next_month_fire
from handlers.pulse.service import close, managers_by_side, open_pulse, prompt_members
from storage.models import Partnership, Pulse

SKIPPED = "health pulses skipped"  # what the tick's summary calls a missed month's pulse not opened

# A clock moved by up to 26 hours (UTC-12 → UTC+14) moves a month's opening by as much: the
# opening of the month a pending pulse_next_at stands for is the first one after it minus this.
_CLOCK_SHIFT = timedelta(hours=27)


async def due(cad: JobContext, _cursor) -> list:
    """Pulses to close first (a closing one makes way for the month's new one), then
    partnerships whose pulse opens now or that have no opening scheduled yet."""
    closing = [("close", pulse_id) for pulse_id in await cad.store.pulses_to_close(cad.now)]
    return closing + [("open", pid) for pid in await cad.store.partnerships_due_for_pulse(cad.now)]


async def run(cad: JobContext, item: Any) -> bool:
    kind, record_id = item
    if kind == "close":
        pulse = await cad.store.get(Pulse, record_id)
        if pulse is None or pulse.closed_at or pulse.closes_at > cad.now:
            return False  # another process closed it a moment ago
        return await close(cad, pulse, await cad.store.get(Partnership, pulse.partnership_id))
    return await _monthly(cad, record_id)


async def _monthly(cad: JobContext, partnership_id: int) -> bool:
    store = cad.store
    p = await store.lock_partnership(partnership_id)  # a second process waits here, then finds it done
    if p is None:
        return False
    day, hhmm = cad.settings.cadence.pulse.day, cad.settings.cadence.peer_sync.time
    tz = cad.timezone_of((await managers_by_side(store, p))["a"])
    if p.pulse_next_at is None:
        p.pulse_next_at = _first_opening(cad, p, day, hhmm, tz)
    # the opening on side A's manager's clock as it is now (it may have moved since it was planned)
    opening = monthly_fire_at_or_after(day, hhmm, tz, p.pulse_next_at - _CLOCK_SHIFT)
    if opening > cad.now:
        p.pulse_next_at = opening
        return False
    # after downtime, only the latest month, and only while its pulse would still be open
    fire = latest_monthly_fire_not_after(day, hhmm, tz, cad.now)
    period = month_of(fire, tz)
    p.pulse_next_at = next_month_fire(day, hhmm, tz, fire)
    skipped = []
    while opening < fire:
        skipped.append(month_of(opening, tz))
        opening = next_month_fire(day, hhmm, tz, opening)
    closed = cad.now >= fire + timedelta(days=cad.settings.cadence.pulse.close_after_days)
    if closed:
        skipped.append(period)
    if skipped:
        await cad.log("pulse.skipped", p.ref, after={"periods": skipped, "reason": "closed before the tick ran"},
                      workspace_id=p.workspace_id)
        cad.count(SKIPPED, len(skipped))
    if closed:
        return False
    already = await store.open_pulse(p.id)
    if already:  # a `pulse` asked for a few days ago is still open: it stands for this month's
        await cad.log("pulse.skipped", p.ref, after={"period": period, "open": already.period},
                      workspace_id=p.workspace_id)
        return False
    pulse = await open_pulse(cad, p, period)
    if pulse is None:
        return False
    await prompt_members(cad, pulse, p)
    return True


def _first_opening(cad: JobContext, p: Partnership, day: str, hhmm: str, tz: str) -> datetime:
    """When a partnership not scheduled yet first has its pulse: this month's opening if it
    came after the partnership was made and its pulse would still be open (the tick had not
    run since), else the next one. A partnership older than the pulse feature starts next
    opening, not with a late one at deployment."""
    latest = latest_monthly_fire_not_after(day, hhmm, tz, cad.now)
    if latest >= p.created_at and cad.now < latest + timedelta(days=cad.settings.cadence.pulse.close_after_days):
        return latest
    return monthly_fire_at_or_after(day, hhmm, tz, cad.now)


JOBS = [Job("health pulses", find=due, run=run, paged=False)]
