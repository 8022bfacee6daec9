"""The overview as a snapshot: computed once for a set of partnerships, shown "as of" then.

Computing the overview of 200 busy partnerships reads every figure's rows of 12 weeks (about 5 s
at 1,000,000 activity rows), too slow for a page that should open at once. So, like a CRM's
dashboard, the page shows the figures as of the time they were computed:
- younger than FRESH_FOR: shown as is;
- older, up to SHOWN_STALE_FOR: shown at once (saying so) while it is computed again in the
  background, so the next look shows the new one;
- older still, missing, or "Refresh now": computed on the request.
The figures themselves come from reports.overview (the read model of `report P-n`); the chat is
always current. Computing reads in a read-only transaction (Database.reading), so it never holds
a command's write up; keeping the result is one short write.

One snapshot serves everyone who sees the same set of partnerships (all executives of a workspace
share one); the session's scope is checked on every request before a snapshot is looked up, and a
snapshot is only ever found by the exact set it was computed for.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from handlers.kernel.registry import pruning_job
from handlers.kernel.settings import SettingsLike
from handlers.partnerships.policy import DashboardView
from handlers.reports import overview
from handlers.reports.charts import Chart, FigureView, Series
from handlers.reports.overview import Cell, Overview, OverviewRow
from storage.store import Store

log = logging.getLogger(__name__)

FRESH_FOR = timedelta(minutes=5)  # shown as is
SHOWN_STALE_FOR = timedelta(hours=1)  # shown while computed again in the background
FORGOTTEN_AFTER = timedelta(days=1)  # a snapshot nobody viewed for this long is deleted
VIEWS_NOTED_EVERY = timedelta(hours=1)  # when it was last viewed, to this precision

Transaction = Callable[[], AbstractAsyncContextManager[Store]]


def scope_key(partnership_ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(partnership_ids)).encode()).hexdigest()


class OverviewSnapshots:
    """The overview pages of one process: each set's snapshot, and the refreshes under way."""

    def __init__(self, reading: Transaction, writing: Transaction, settings: SettingsLike,
                 clock: Callable[[], datetime]):
        self._reading, self._writing = reading, writing
        self._settings, self._clock = settings, clock
        self._refreshing: dict[tuple[int, str], asyncio.Task] = {}

    async def page(self, view: DashboardView, refresh: bool = False) -> tuple[Overview, bool]:
        """The overview of the view's partnerships, and whether a newer one is being computed."""
        ids = sorted(view.partnerships)
        key, now = scope_key(ids), self._clock()
        if not refresh:
            async with self._reading() as store:
                snapshot = await store.overview_snapshot(view.workspace_id, key)
            if snapshot is not None and now - snapshot.computed_at < SHOWN_STALE_FOR:
                if now - snapshot.viewed_at >= VIEWS_NOTED_EVERY:  # a write per view only serves the pruning
                    async with self._writing() as store:
                        await store.overview_viewed(snapshot.id, now)
                stale = now - snapshot.computed_at >= FRESH_FOR
                if stale:
                    self._refresh_later(view.workspace_id, ids, key)
                return from_payload(snapshot.payload, snapshot.computed_at), stale
        return await self._compute(view.workspace_id, ids, key), False

    async def _compute(self, workspace_id: int, ids: list[int], key: str) -> Overview:
        now = self._clock()
        async with self._reading() as store:
            page = await overview.overview(store, ids, now, self._settings)
        async with self._writing() as store:
            await store.keep_overview_snapshot(workspace_id, key, ids, now, to_payload(page))
        return page

    def _refresh_later(self, workspace_id: int, ids: list[int], key: str) -> None:
        """Compute the set's overview in the background, once at a time per set in this process
        (two replicas may both do it: the later result stays)."""
        running = self._refreshing.get((workspace_id, key))
        if running is not None and not running.done():
            return
        task = asyncio.create_task(self._compute(workspace_id, ids, key))
        self._refreshing[(workspace_id, key)] = task
        task.add_done_callback(lambda done: self._finished((workspace_id, key), done))

    def _finished(self, which: tuple[int, str], task: asyncio.Task) -> None:
        if self._refreshing.get(which) is task:
            del self._refreshing[which]
        if not task.cancelled() and task.exception() is not None:
            # the stale snapshot stays shown; the next look tries again
            log.error("overview refresh failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for the refreshes under way (a test, or a clean stop)."""
        while self._refreshing:
            await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def close(self) -> None:
        for task in self._refreshing.values():
            task.cancel()
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)


JOBS = [
    pruning_job("dashboard overviews nobody looks at", lambda cad: cad.now - FORGOTTEN_AFTER,
                Store.old_overview_snapshots, Store.forget_overview_snapshots),
]


# --- the snapshot's JSON -----------------------------------------------------------------------
def to_payload(page: Overview) -> dict:
    return {
        "rows": [{"partnership_id": r.partnership_id, "ref": r.ref, "name": r.name, "status": r.status,
                  "health": _cell_json(r.health), "cells": {k: _cell_json(c) for k, c in r.cells.items()},
                  "attention": list(r.attention)} for r in page.rows],
        "trends": [{"label": t.label, "text": t.text, "chart": _chart_json(t.chart)} for t in page.trends],
    }


def from_payload(payload: dict, as_of: datetime) -> Overview:
    rows = tuple(OverviewRow(r["partnership_id"], r["ref"], r["name"], r["status"], _cell(r["health"]),
                             {k: _cell(c) for k, c in r["cells"].items()}, tuple(r["attention"]))
                 for r in payload["rows"])
    trends = tuple(FigureView(t["label"], t["text"], _chart(t["chart"])) for t in payload["trends"])
    return Overview(rows, trends, as_of=as_of)


def _cell_json(cell: Cell) -> list:
    return [cell.text, cell.number]


def _cell(pair: list) -> Cell:
    return Cell(pair[0], pair[1])


def _chart_json(chart: Chart | None) -> dict | None:
    if chart is None:
        return None
    return {"label": chart.label, "text": chart.text, "x": list(chart.x), "is_rate": chart.is_rate,
            "y_max": chart.y_max, "series": [{"name": s.name, "values": list(s.values)} for s in chart.series]}


def _chart(data: dict | None) -> Chart | None:
    if data is None:
        return None
    return Chart(data["label"], data["text"], tuple(data["x"]),
                 tuple(Series(s["name"], tuple(s["values"])) for s in data["series"]), data["is_rate"],
                 data["y_max"])
