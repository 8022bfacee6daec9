"""The weekly peer-sync prompts of a page of due series at once.

jobs.run_series prompts one series in a transaction of ~20 statements: 40 prompts a second
on a 2-core machine, slower than Slack lets them out, when 10,000 managers are due at 09:00
on Monday. This does the same for a page of series (runner.ITEMS_PER_TRANSACTION) in one
transaction of about 20 statements in all (~2,000 prompts a second): it reads all the page
needs up front, works out in memory what the one-at-a-time path would do, series after
series in the page's order, then claims all that work in one statement and writes it in a
few. Its rows are built by the same builders as the one-at-a-time path's (service.py), and
tests/peer_sync/test_fanout.py checks that both write the same rows.

What it cannot do the same way it leaves to run_series, one series at a time: every series
of a partnership one of whose managers' clock changed, or that owes runs the tick missed
(skipped and logged: service.skip_missed), and a partnership whose sync of the week was
claimed without being there to read. If another process claims any of the page's
work meanwhile, PageTaken rolls the page back and every series of it goes one at a time
(they then find their work done and skip).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from handlers.kernel.context import JobContext
from handlers.kernel.outbound import choose_platform, key
from handlers.kernel.registry import PageTaken
from handlers.kernel.rules import latest_fire_not_after, next_fire, week_of
from handlers.peer_sync.service import (
    due_run,
    manager_parts,
    new_sync,
    open_key,
    opened_details,
    pledges_due_at,
    prompt_key,
    prompt_to,
)
from storage.models import ActivityLog, Partnership, PeerSync, Person, SyncAnswer, SyncSeries
from storage.outbox import message_row


@dataclass
class _Prompt:
    sync: PeerSync
    p: Partnership
    manager: Person


async def prompt_page(cad: JobContext, series_ids: list[int]) -> tuple[int, list[int]]:
    """Run the due series `series_ids` (in this order); returns how many of them prompted
    someone, and the ids left for run_series."""
    page = await _Page.read(cad, series_ids)
    acted, prompts = page.work_out(series_ids)
    if not await cad.store.claim_all(page.claims, cad.now):
        raise PageTaken(f"{len(page.claims)} claims")
    await page.write(prompts)
    return acted, page.left


class _Page:
    """What a page of series needs, read up front, and what it will write."""

    def __init__(self, cad: JobContext):
        self.cad = cad
        self.series: dict[int, SyncSeries] = {}
        self.series_of: dict[tuple[int, int], SyncSeries] = {}  # (partnership id, person id)
        self.partnerships: dict[int, Partnership] = {}
        self.managers: dict[int, list[tuple[int, str]]] = {}  # partnership id -> (person id, side), as Store.members
        self.people: dict[int, Person] = {}
        self.syncs: dict[tuple[int, str], PeerSync] = {}  # (partnership id, week)
        self.answers: dict[tuple[int, str], list[SyncAnswer]] = {}  # (partnership id, week) -> its parts, by side
        self.groups: set[tuple[int, str]] = set()  # (partnership id, week) of the due series on their clocks
        self.taken: set[str] = set()  # claims made before, and those this page makes
        self.claims: list[str] = []  # those this page makes
        self.opened: list[PeerSync] = []
        self.left: list[int] = []
        self._rules: dict[tuple, datetime] = {}

    @classmethod
    async def read(cls, cad: JobContext, series_ids: list[int]) -> _Page:
        store, page = cad.store, cls(cad)
        for s in await store.series_with_partners(series_ids):
            page.series[s.id] = s
            page.series_of[s.partnership_id, s.person_id] = s
        partnership_ids = {s.partnership_id for s in page.series.values()}
        page.partnerships = await store.partnerships_by_id(partnership_ids)
        for m in await store.managers_of(partnership_ids):
            page.managers.setdefault(m.partnership_id, []).append((m.person_id, m.side))
        page.people = await store.people({s.person_id for s in page.series.values()}
                                         | {person for ms in page.managers.values() for person, _ in ms})
        page.groups = {(s.partnership_id, page.week(s)) for s in page.series.values()
                       if s.next_run_at <= cad.now and page.on_its_clock(s)}
        page.syncs = await store.syncs_of_weeks(partnership_ids, {week for _, week in page.groups})
        by_id = {sync.id: key for key, sync in page.syncs.items()}
        for a in await store.answers_of(by_id):
            page.answers.setdefault(by_id[a.peer_sync_id], []).append(a)
        missing = {a.person_id for parts in page.answers.values() for a in parts} - page.people.keys()
        page.people.update(await store.people(missing))  # a part of someone no longer a manager
        candidates = [open_key(page.partnerships[p], week) for p, week in page.groups]
        candidates += [prompt_key(page.partnerships[p], week, person) for p, week in page.groups
                       for person in page._people_of(p, week)]
        page.taken = await store.claims_taken(candidates)
        return page

    # --- working it out, as run_series would, series after series ----------------------------
    def work_out(self, series_ids: list[int]) -> tuple[int, list[_Prompt]]:
        cad, acted, prompts = self.cad, 0, []
        odd = {s.partnership_id for s in self.series.values() if not self.on_its_clock(s)}
        odd |= {p for p, week in self.groups if (p, week) not in self.syncs
                and open_key(self.partnerships[p], week) in self.taken}
        odd |= {s.partnership_id for s in self.series.values() if s.next_run_at <= cad.now and self.misses_runs(s)}
        for series_id in series_ids:
            s = self.series.get(series_id)
            if s is None or s.next_run_at > cad.now:
                continue  # another process ran it a moment ago
            if s.partnership_id in odd:
                self.left.append(series_id)
                continue
            tz = s.timezone
            fire = self._rule(latest_fire_not_after, s.weekday, s.time, tz, cad.now)
            s.next_run_at = self._rule(next_fire, s.weekday, s.time, tz, fire)
            p, manager = self.partnerships[s.partnership_id], self.people[s.person_id]
            sync = self._open(p, week_of(fire, tz), manager)
            if sync.digest_at:
                continue
            prompted = self._prompt(sync, p, manager, prompts)
            late = self._prompt_late_joiners(sync, p, prompts)
            acted += bool(prompted or late)
        return acted, prompts

    def _open(self, p: Partnership, week: str, opener: Person) -> PeerSync:
        """open_week_sync: this week's sync, or a new one (numbered when it is written)."""
        if (p.id, week) in self.syncs:
            return self.syncs[p.id, week]
        self._claim(open_key(p, week))
        s = self.series_of.get((p.id, opener.id))
        rule = self.cad.settings.cadence.peer_sync
        weekday, hhmm = (s.weekday, s.time) if s else (rule.weekday, rule.time)
        pledges_due = self._rule(pledges_due_at, weekday, hhmm, self.cad.timezone_of(opener), week)
        sync = new_sync(self.cad, p, week, pledges_due, number=0)  # numbered when it is written
        self.syncs[p.id, week] = sync
        self.opened.append(sync)
        self.answers[p.id, week] = manager_parts(sync, self.managers.get(p.id, []))
        return sync

    def _prompt(self, sync: PeerSync, p: Partnership, manager: Person, prompts: list[_Prompt]) -> bool:
        """prompt: once per manager and week, unless they have answered."""
        key = prompt_key(p, sync.week, manager.id)
        if key in self.taken:
            return False
        self._claim(key)
        answer = next((a for a in self._parts(sync) if a.person_id == manager.id), None)
        if answer is None or answer.answered_at:
            return False
        answer.prompted_at = answer.prompted_at or self.cad.now
        prompts.append(_Prompt(sync, p, manager))
        return True

    def _prompt_late_joiners(self, sync: PeerSync, p: Partnership, prompts: list[_Prompt]) -> int:
        prompted = 0
        for a in self._parts(sync):
            s = self.series_of.get((p.id, a.person_id))
            if a.prompted_at is None and s and week_of(s.next_run_at, s.timezone) > sync.week:
                prompted += self._prompt(sync, p, self.people[a.person_id], prompts)
        return prompted

    # --- writing it ---------------------------------------------------------------------------
    async def write(self, prompts: list[_Prompt]) -> None:
        store, now = self.cad.store, self.cad.now
        for workspace_id in {sync.workspace_id for sync in self.opened}:
            opened = [sync for sync in self.opened if sync.workspace_id == workspace_id]
            first = await store.take_numbers(workspace_id, PeerSync.KIND, len(opened))
            for n, sync in enumerate(opened):
                sync.number = first + n
        await store.insert_all(PeerSync, [_columns(sync) for sync in self.opened])
        written = await store.syncs_of_weeks({s.partnership_id for s in self.opened}, {s.week for s in self.opened})
        parts, log = [], []
        for sync in self.opened:
            sync.id = written[sync.partnership_id, sync.week].id
            for a in self._parts(sync):
                a.peer_sync_id = sync.id
                parts.append(_columns(a))
            log.append(_columns(ActivityLog(
                workspace_id=sync.workspace_id, at=now, person_id=None, platform=self.cad.platform,
                action="peer_sync.opened", record=sync.ref,
                after=opened_details(self.partnerships[sync.partnership_id], sync.week))))
        await store.insert_all(SyncAnswer, parts)
        await store.insert_all(ActivityLog, log)
        await store.enqueue_all(await self._messages(prompts))

    async def _messages(self, prompts: list[_Prompt]) -> list[dict]:
        """to_person's outbox rows: on the record's workspace's platform when the manager is on it."""
        store, now = self.cad.store, self.cad.now
        platforms = await store.platforms_of_people({pr.manager.id for pr in prompts})
        workspace_platforms = await store.workspace_platforms({pr.sync.workspace_id for pr in prompts})
        rows = []
        for pr in prompts:
            sync, manager = pr.sync, pr.manager
            kind, record, period, reply = prompt_to(sync, pr.p, manager, self._peer_of(sync, manager),
                                                    self.cad.timezone_of(manager))
            platform = choose_platform(platforms.get(manager.id, []), workspace_platforms.get(sync.workspace_id))
            rows.append(message_row(workspace_id=sync.workspace_id, platform=platform, payload=reply.to_dict(),
                                    key=key(kind, sync.workspace_id, record, period, manager.id),
                                    person_id=manager.id, now=now))
        return rows

    # --- helpers ------------------------------------------------------------------------------
    def on_its_clock(self, s: SyncSeries) -> bool:
        """Planned on its manager's clock as it is now (else run_series moves it first)."""
        return s.person_id in self.people and self.cad.timezone_of(self.people[s.person_id]) == s.timezone

    def misses_runs(self, s: SyncSeries) -> bool:
        """Owes runs the tick missed (it was down), or one past its digest deadline: skipped and
        logged (service.skip_missed), which run_series does."""
        return bool(self._rule(due_run, s.weekday, s.time, s.timezone, s.next_run_at, self.cad.now)[1])

    def week(self, s: SyncSeries) -> str:
        return week_of(self._rule(latest_fire_not_after, s.weekday, s.time, s.timezone, self.cad.now), s.timezone)

    def _people_of(self, partnership_id: int, week: str) -> set[int]:
        """Whoever this page might prompt for that sync."""
        return ({person for person, _ in self.managers.get(partnership_id, [])}
                | {a.person_id for a in self.answers.get((partnership_id, week), [])})

    def _parts(self, sync: PeerSync) -> list[SyncAnswer]:
        return self.answers.get((sync.partnership_id, sync.week), [])

    def _peer_of(self, sync: PeerSync, manager: Person) -> Person:
        """_peer_of: the first other manager by side, else the manager themself."""
        other = next((a.person_id for a in self._parts(sync) if a.person_id != manager.id), manager.id)
        return self.people[other]

    def _claim(self, key: str) -> None:
        self.taken.add(key)
        self.claims.append(key)

    def _rule(self, rule: Callable, *args) -> datetime:
        """The weekly rules are few (most managers share one): each instant computed once a page."""
        key = (rule, *args)
        if key not in self._rules:
            self._rules[key] = rule(*args)
        return self._rules[key]


def _columns(row) -> dict:
    """A new row's columns, for a bulk insert (its id is the database's to give)."""
    return {column.name: getattr(row, column.name) for column in row.__table__.columns if column.name != "id"}
