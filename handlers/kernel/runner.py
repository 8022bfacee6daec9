"""The tick: every piece of scheduled work that is due at `now`, each done exactly once.

The runner knows no job: it walks the jobs of the registry (each capability's `JOBS`), in
their order. Work is found with cheap indexed queries a page (storage.queries.base.PAGE) at a
time, and one tick walks every page, so 10,000 prompts due at one instant all go out in it
while it holds no more than a page of ids. Each item is done in a transaction of its own (or
ITEMS_PER_TRANSACTION at once, for a job with `run_page`) that re-reads it, inserts its claim
and writes its outbox rows together, committed at once, so the outbox sender starts sending
while the tick goes on: a second tick at the same instant, a restart or a second process
finds the claim and does nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from handlers.kernel.context import JobContext
from handlers.kernel.dates import reading_at
from handlers.kernel.registry import Job, PageTaken, Registry
from handlers.kernel.settings import SettingsLike
from storage.db import Database
from storage.queries.base import PAGE

log = logging.getLogger(__name__)

# Items a page-at-once job (run_page) writes in one transaction: a statement then serves ~100
# prompts, and a command waiting for SQLite's one writer waits ~50 ms, not the whole page.
ITEMS_PER_TRANSACTION = 100


class Runner:
    def __init__(self, db: Database, settings: SettingsLike, registry: Registry):
        self.db = db
        self.settings = settings
        self.registry = registry

    async def tick(self, now: datetime) -> Counter:
        """Run what is due at `now`; returns how many items of each job did something, and what
        the items counted besides (JobContext.count: missed runs skipped)."""
        done: Counter = Counter()
        with reading_at(now):  # a date written outside `now`'s year shows its year (dates.format_day)
            for job in self.registry.jobs:
                await self._walk(job, now, done)
        return done

    async def _walk(self, job: Job, now: datetime, done: Counter) -> None:
        """Every item of `job` due now, a page at a time; only the current page is held."""
        after, previous = None, frozenset()
        while True:
            async with self.db.transaction() as store:
                found = await job.find(JobContext(store, now, self.settings), after)
            if job.paged:
                items = [item for _, item in found]
            else:  # asked from the start again: what it still finds from the last batch was tried already
                items = [item for item in found if item not in previous]
                previous = frozenset(found)
            for item in await self._run_pages(job, now, items, done) if job.run_page else items:
                await self._run(job, now, item, done)
            if len(found) < PAGE or not items:
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
            async with self.db.transaction() as store:
                cad = JobContext(store, now, self.settings)
                acted, left = await job.run_page(cad, items)
        except PageTaken as taken:
            log.info("%s: another process is on this page (%s); one at a time", job.name, taken)
            return items
        except Exception:
            log.exception("%s: a page of %d failed; one at a time", job.name, len(items))
            return items
        if acted:
            done[job.name] += acted
        done.update(cad.tally)
        return left

    async def _run(self, job: Job, now: datetime, item: Any, done: Counter) -> None:
        try:
            async with self.db.transaction() as store:
                cad = JobContext(store, now, self.settings)
                if await job.run(cad, item):
                    done[job.name] += 1
            done.update(cad.tally)  # committed
        except Exception:  # one bad record must not stop the cadence of the others
            log.exception("%s failed for %r", job.name, item)
