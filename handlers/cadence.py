"""The tick: every piece of scheduled work that is due at `now`, each done exactly once.

Work is found with cheap indexed queries, then each item is handled in a transaction of
its own that re-reads it, inserts its claim and writes its outbox rows together: a second
tick at the same instant, a restart or a second process finds the claim and does nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from handlers import ask_cadence, pulse_cadence
from handlers.handoffs import OPEN_STAGES
from handlers.meeting_cadence import follow_up, start_meeting
from handlers.model import Button, Card, Fact, Reply
from handlers.outbound import to_person
from handlers.peer_sync import nudge, open_week_sync, prompt, prompt_late_joiners, send_digest
from handlers.reminders import overdue, reminder, stop_reminders
from handlers.scheduled import Cadence
from handlers.schedule import follow_clock, latest_fire_not_after, next_fire, week_of
from storage.db import Database
from storage.models import Commitment, Handoff, Meeting, MeetingSeries, Partnership, PeerSync, SyncSeries
from storage.repository import Store

log = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)


class CadenceRunner:
    def __init__(self, db: Database, settings: Any):
        self.db = db
        self.settings = settings

    async def tick(self, now: datetime) -> Counter:
        """Run what is due at `now`; returns how many items of each kind did something."""
        done: Counter = Counter()
        async with self.db.session() as session:  # what is due, read once
            store = Store(session)
            hours = self.settings.get
            series = await store.due_series(now)
            to_nudge = await store.syncs_to_nudge(
                now, now - timedelta(hours=hours("cadence.peer_sync.nudge_after_hours")),
                hours("cadence.peer_sync.max_nudges"))
            deadlines = await store.syncs_past_deadline(now)
            commitments = await store.commitments_due_for_cadence(now)
            meeting_series = await store.due_meeting_series(now)
            meetings = await store.meetings_due_for_cadence(now)
            asks = await ask_cadence.due(store, now, self.settings)
            pulses = await pulse_cadence.due(store, now, self.settings)
            handoffs = await store.handoffs_to_follow_up(
                now - timedelta(hours=hours("cadence.handoffs.accept_within_hours")),
                now - timedelta(days=hours("cadence.handoffs.stale_after_days")), OPEN_STAGES)
        jobs: list[tuple[str, Callable[[Cadence, Any], Awaitable[bool]], list]] = [
            ("sync prompts", self._run_series, series),
            ("sync nudges", self._nudge, to_nudge),
            ("sync digests", self._deadline, deadlines),
            ("meeting starts", self._start_meeting, meeting_series),
            ("meeting follow-ups", self._follow_up_meeting, meetings),
            ("commitment reminders", self._remind, commitments),
            ("handoff follow-ups", self._follow_up_handoff, handoffs),
            ("ask follow-ups", ask_cadence.follow_up, asks),
            ("health pulses", pulse_cadence.run, pulses),
        ]
        for name, job, items in jobs:
            for item in items:
                try:
                    async with self.db.session() as session:
                        if await job(Cadence(Store(session), now, self.settings), item):
                            done[name] += 1
                except Exception:  # one bad record must not stop the cadence of the others
                    log.exception("%s failed for %r", name, item)
        return done

    # --- peer sync ----------------------------------------------------------------------
    async def _run_series(self, cad: Cadence, series_id: int) -> bool:
        store = cad.store
        series = await store.session.get(SyncSeries, series_id)
        if series is None or series.next_run_at > cad.now:
            return False  # another process ran it a moment ago
        manager = await store.get_person(series.person_id)
        tz = cad.tz(manager)
        if tz != series.timezone:  # their clock changed by a way that did not move the series
            follow_clock(series, "next_run_at", tz, cad.now)
            if series.next_run_at > cad.now:
                return False
        # the latest run due (after downtime, only it: nobody wants last month's prompts)
        fire = latest_fire_not_after(series.weekday, series.time, tz, cad.now)
        series.next_run_at, series.timezone = next_fire(series.weekday, series.time, tz, fire), tz
        p = await store.session.get(Partnership, series.partnership_id)
        sync = await open_week_sync(cad, p, week_of(fire, tz), manager)
        if sync.digest_at:
            return False
        prompted = await prompt(cad, sync, p, manager)
        return await prompt_late_joiners(cad, sync, p) > 0 or prompted

    async def _nudge(self, cad: Cadence, key: tuple[int, int]) -> bool:
        store = cad.store
        answer = await store.sync_answer(*key)
        sync = await store.session.get(PeerSync, key[0])
        if answer is None or answer.answered_at or sync.digest_at or answer.prompted_at is None:
            return False
        due = answer.prompted_at + timedelta(hours=cad.get("cadence.peer_sync.nudge_after_hours") * (answer.nudges + 1))
        if answer.last_nudged_at:
            due = max(due, answer.last_nudged_at + ONE_DAY)  # never more than one nudge a day
        if cad.now < due or answer.nudges >= cad.get("cadence.peer_sync.max_nudges"):
            return False
        return await nudge(cad, sync, await store.session.get(Partnership, sync.partnership_id), answer)

    async def _deadline(self, cad: Cadence, sync_id: int) -> bool:
        sync = await cad.store.session.get(PeerSync, sync_id)
        if sync.digest_at or sync.deadline_at > cad.now:
            return False
        return await send_digest(cad, sync, await cad.store.session.get(Partnership, sync.partnership_id))

    # --- meetings -----------------------------------------------------------------------
    async def _start_meeting(self, cad: Cadence, series_id: int) -> bool:
        series = await cad.store.session.get(MeetingSeries, series_id)
        if series is None or series.stopped_at or series.next_start_at > cad.now:
            return False  # another process started it a moment ago, or it was stopped
        return await start_meeting(cad, series) is not None

    async def _follow_up_meeting(self, cad: Cadence, meeting_id: int) -> bool:
        m = await cad.store.session.get(Meeting, meeting_id)
        if m.closed_at or m.cadence_at is None or m.cadence_at > cad.now:
            return False
        return await follow_up(cad, m)

    # --- commitments --------------------------------------------------------------------
    async def _remind(self, cad: Cadence, commitment_id: int) -> bool:
        store = cad.store
        c = await store.session.get(Commitment, commitment_id)
        if c.status != "open" or c.cadence_at is None or c.cadence_at > cad.now:
            return False
        owner = await store.get_person(c.owner_id)
        ref = f"C-{c.number}"
        if c.cadence_step == "reminder" and cad.now < c.due_at:
            kind, message = "commitment.reminder", reminder(c, cad.tz(owner))
            c.cadence_at, c.cadence_step = c.due_at, "overdue"
        else:  # due now (or the reminder's moment passed while nobody ticked)
            kind, message = "commitment.overdue", overdue(c, cad.tz(owner))
            stop_reminders(c)
        period = c.due_at.isoformat()
        if not await store.claim(f"{kind}:{c.workspace_id}/{ref}:{period}:{owner.id}", cad.now):
            return False
        await to_person(store, workspace_id=c.workspace_id, person=owner, kind=kind, record=ref, period=period,
                        reply=message, now=cad.now)
        return True

    # --- handoffs -----------------------------------------------------------------------
    async def _follow_up_handoff(self, cad: Cadence, handoff_id: int) -> bool:
        store = cad.store
        h = await store.session.get(Handoff, handoff_id)
        if h.stage not in OPEN_STAGES or h.declined_at:
            return False
        acted = False
        accept_by = h.created_at + timedelta(hours=cad.get("cadence.handoffs.accept_within_hours"))
        if h.accepted_at is None and h.accept_nudged_at is None and accept_by <= cad.now:
            h.accept_nudged_at = cad.now
            acted |= await self._nudge_receiver(cad, h)
        stale_since = h.stage_changed_at
        if stale_since + timedelta(days=cad.get("cadence.handoffs.stale_after_days")) <= cad.now and \
                (h.stale_reported_at is None or h.stale_reported_at < stale_since):
            h.stale_reported_at = cad.now
            acted |= await self._report_stale(cad, h)
        return acted

    async def _nudge_receiver(self, cad: Cadence, h: Handoff) -> bool:
        store, ref = cad.store, f"H-{h.number}"
        key = f"handoff.accept_nudge:{h.workspace_id}/{ref}:-:{h.to_id}"
        if not await store.claim(key, cad.now):
            return False
        people = await store.people({h.from_id, h.to_id})
        giver, receiver = people[h.from_id], people[h.to_id]
        await to_person(store, workspace_id=h.workspace_id, person=receiver, kind="handoff.accept_nudge", record=ref,
                        period="-", now=cad.now, reply=Reply(
            f"{giver.display_name} is still waiting for you to accept {ref}: {h.account} — {h.need}.",
            cards=(Card(title=f"{ref} is waiting for your answer", text=f"{h.account}: {h.need}",
                        facts=(Fact("From", giver.display_name),),
                        buttons=(Button("Accept", f"handoff {ref} accept", "primary"),
                                 Button("Decline", f"handoff {ref} decline", "danger"))),),
        ))
        return True

    async def _report_stale(self, cad: Cadence, h: Handoff) -> bool:
        store, ref = cad.store, f"H-{h.number}"
        people = await store.people({h.from_id, h.to_id})
        manager_ids = {people[h.from_id].manager_id, people[h.to_id].manager_id} - {None}
        managers = await store.people(manager_ids)
        period = f"{h.stage}@{h.stage_changed_at.isoformat()}"
        sent = False
        for manager in managers.values():
            if not await store.claim(f"handoff.stale:{h.workspace_id}/{ref}:{period}:{manager.id}", cad.now):
                continue
            days = (cad.now - h.stage_changed_at).days
            reps = f"{people[h.from_id].display_name} → {people[h.to_id].display_name}"
            await to_person(store, workspace_id=h.workspace_id, person=manager, kind="handoff.stale", record=ref,
                            period=period, now=cad.now, reply=Reply(
                f"{ref} ({h.account}: {h.need}) has been {h.stage} for {days} days ({reps}). "
                f"Worth a word with the reps.",
                cards=(Card(title=f"{ref} is stuck at {h.stage}", text=f"{h.account}: {h.need}",
                            facts=(Fact("Reps", reps), Fact("Days in stage", str(days)))),),
            ))
            sent = True
        return sent
