"""The tick: every piece of scheduled work that is due at `now`, each done exactly once.

Work is found with cheap indexed queries a page (storage.queries.peer_sync.BATCH) at a time,
and one tick walks every page, so 10,000 prompts due at one instant all go out in it while
it holds no more than a page of ids. Each item is handled in a transaction of its own (the
weekly prompts, ITEMS_PER_TRANSACTION at once: handlers.peer_sync.fanout) that re-reads it,
inserts its claim and writes its outbox rows together, committed at once, so the outbox
sender starts sending while the tick goes on: a second tick at the same instant, a restart
or a second process finds the claim and does nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from handlers.asks import jobs as ask_cadence
from handlers.pulse import service as pulse_cadence
from handlers.handoffs.verbs import OPEN_STAGES
from handlers.meetings.service import follow_up, start_meeting
from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.outbound import to_person
from handlers.peer_sync.service import nudge, open_week_sync, prompt, prompt_late_joiners, send_digest
from handlers.commitments.messages import overdue, reminder, stop_reminders
from handlers.kernel.scheduled import Cadence
from handlers.kernel.rules import follow_clock, latest_fire_not_after, next_fire, week_of
from handlers.peer_sync.fanout import PageTaken, prompt_page
from storage.queries.peer_sync import BATCH
from storage.db import Database
from storage.models import Commitment, Handoff, Meeting, MeetingSeries, Partnership, PeerSync, SyncSeries
from storage.store import Store

log = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)
# Items a page-at-once job (run_page) writes in one transaction: a statement then serves ~100
# prompts, and a command waiting for SQLite's one writer waits ~50 ms, not the whole page.
ITEMS_PER_TRANSACTION = 100


@dataclass(frozen=True)
class Job:
    """One kind of scheduled work: how to find what is due, and how to do one item of it."""

    name: str
    run: Callable[[Cadence, Any], Awaitable[bool]]
    # paged: fetch(store, cursor) returns a page of (cursor, item) after the cursor (None: the
    # first page); else fetch(store, None) returns the first due items, and is asked again
    # while what it returns changes (those queries take no cursor)
    fetch: Callable[[Store, Any], Awaitable[list]]
    paged: bool = True
    # ITEMS_PER_TRANSACTION items at once, in one transaction: returns how many of them did
    # something, and those it leaves to `run`
    run_page: Callable[[Cadence, list], Awaitable[tuple[int, list]]] | None = None


class CadenceRunner:
    def __init__(self, db: Database, settings: Any):
        self.db = db
        self.settings = settings

    async def tick(self, now: datetime) -> Counter:
        """Run what is due at `now`; returns how many items of each kind did something."""
        done: Counter = Counter()
        for job in self._jobs(now):
            await self._walk(job, now, done)
        async with self.db.session() as session:
            if swept := await Store(session).delete_expired_export_tokens(now):
                done["expired export links"] += swept
        return done

    def _jobs(self, now: datetime) -> list[Job]:
        get = self.settings.get
        prompted_before = now - timedelta(hours=get("cadence.peer_sync.nudge_after_hours"))
        max_nudges = get("cadence.peer_sync.max_nudges")
        accept_before = now - timedelta(hours=get("cadence.handoffs.accept_within_hours"))
        stale_before = now - timedelta(days=get("cadence.handoffs.stale_after_days"))
        return [
            Job("sync prompts", self._run_series, lambda store, after: store.due_series(now, after),
                run_page=prompt_page),
            Job("sync nudges", self._nudge,
                lambda store, after: store.syncs_to_nudge(now, prompted_before, max_nudges, after)),
            Job("sync digests", self._deadline, lambda store, after: store.syncs_past_deadline(now, after)),
            Job("meeting starts", self._start_meeting, lambda store, after: store.due_meeting_series(now, after)),
            Job("meeting follow-ups", self._follow_up_meeting,
                lambda store, after: store.meetings_due_for_cadence(now, after)),
            Job("commitment reminders", self._remind,
                lambda store, after: store.commitments_due_for_cadence(now, after)),
            Job("handoff follow-ups", self._follow_up_handoff,
                lambda store, after: store.handoffs_to_follow_up(accept_before, stale_before, OPEN_STAGES, after)),
            Job("ask follow-ups", ask_cadence.follow_up,
                lambda store, _: ask_cadence.due(store, now, self.settings), paged=False),
            Job("health pulses", pulse_cadence.run,
                lambda store, _: pulse_cadence.due(store, now, self.settings), paged=False),
        ]

    async def _walk(self, job: Job, now: datetime, done: Counter) -> None:
        """Every item of `job` due now, a page at a time; only the current page is held."""
        after, previous = None, frozenset()
        while True:
            async with self.db.session() as session:
                found = await job.fetch(Store(session), after)
            if job.paged:
                items = [item for _, item in found]
            else:  # asked from the start again: what it still finds from the last batch was tried already
                items = [item for item in found if item not in previous]
                previous = frozenset(found)
            for item in await self._run_pages(job, now, items, done) if job.run_page else items:
                await self._run(job, now, item, done)
            if len(found) < BATCH or not items:
                return
            if job.paged:
                after = found[-1][0]

    async def _run_pages(self, job: Job, now: datetime, items: list, done: Counter) -> list:
        """`items` ITEMS_PER_TRANSACTION at a time; returns what is left to run one at a time."""
        left = []
        for at in range(0, len(items), ITEMS_PER_TRANSACTION):
            left += await self._run_page(job, now, items[at:at + ITEMS_PER_TRANSACTION], done)
        return left

    async def _run_page(self, job: Job, now: datetime, items: list, done: Counter) -> list:
        """`items` at once; returns what is left to run one at a time: what run_page leaves, or
        all of them when it fails (one bad record then fails alone)."""
        try:
            async with self.db.session() as session:
                acted, left = await job.run_page(Cadence(Store(session), now, self.settings), items)
        except PageTaken as taken:
            log.info("%s: another process is on this page (%s); one at a time", job.name, taken)
            return items
        except Exception:
            log.exception("%s: a page of %d failed; one at a time", job.name, len(items))
            return items
        if acted:
            done[job.name] += acted
        return left

    async def _run(self, job: Job, now: datetime, item: Any, done: Counter) -> None:
        try:
            async with self.db.session() as session:
                if await job.run(Cadence(Store(session), now, self.settings), item):
                    done[job.name] += 1
        except Exception:  # one bad record must not stop the cadence of the others
            log.exception("%s failed for %r", job.name, item)

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
