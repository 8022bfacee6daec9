"""The Store: everything code outside storage/ reads and writes, one instance per transaction.

Its methods come in groups, one module each (storage/queries/<capability>.py, claims.py,
outbox.py); the Store mixes them in and adds what every group shares: adding rows, reference
numbers and the activity log. Nothing outside storage/ touches its session (ruff's SLF001
checks it): a new query is a method here, so the next engineer finds every SQL statement of a
capability in one file.
"""
from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hot
from storage.claims import ClaimQueries
from storage.counter_queue import CounterQueue
from storage.outbox import OutboxQueries
from storage.queries.asks import AskQueries
from storage.queries.commitments import CommitmentQueries
from storage.queries.crm import CrmQueries
from storage.queries.dashboard import DashboardQueries
from storage.queries.exports import ExportQueries
from storage.queries.handoffs import HandoffQueries
from storage.queries.leads import LeadQueries
from storage.queries.meetings import MeetingQueries
from storage.queries.org import OrgQueries
from storage.queries.overview import OverviewQueries
from storage.queries.partnerships import PartnershipQueries
from storage.queries.peer_sync import PeerSyncQueries
from storage.queries.people import PeopleQueries
from storage.queries.pulse import PulseQueries
from storage.queries.reports import ReportQueries
from storage.queries.scope import ScopeQueries
from storage.queries.wins import WinQueries
from storage.session_on_demand import SessionOnDemand

Row = TypeVar("Row")


class AlreadyHandled(Exception):
    """The command's platform delivery was handled before (a retry): nothing of this transaction
    is kept. Raised where its claim is made late (PeopleQueries.claim_delivery)."""


class Store(PeopleQueries, CommitmentQueries, HandoffQueries, PartnershipQueries, PeerSyncQueries, MeetingQueries,
            LeadQueries, AskQueries, PulseQueries, WinQueries, ReportQueries, ExportQueries, ClaimQueries,
            OutboxQueries, OrgQueries, DashboardQueries, ScopeQueries,
            OverviewQueries, CrmQueries):
    def __init__(self, session: AsyncSession | SessionOnDemand, counters: CounterQueue | None = None, *,
                 driver: hot.SqliteDriver | hot.AsyncpgDriver | None = None):
        self._sessions = session if isinstance(session, SessionOnDemand) else SessionOnDemand.of(session)
        if driver is not None:  # known already: no session asked (Queries._hot_driver)
            self._driver = driver
        self.enqueued = 0  # messages written to the outbox in this transaction
        self._read_ahead: tuple[tuple[int, str], tuple | None] | None = None  # see claim_delivery
        self._counters = counters  # PostgreSQL's: see _counter_turn
        self._counters_held: set[tuple[int, str]] = set()  # (workspace id, kind) numbered in this transaction

    # --- rows -------------------------------------------------------------------------------------
    async def get(self, model: type[Row], key: Any) -> Row | None:
        """The row of `model` with this primary key (a tuple for a composite one), or None."""
        return await self._session.get(model, key)

    async def add(self, *rows: Any) -> None:
        """Write new rows now (their ids are then known)."""
        self._session.add_all(rows)
        await self._session.flush()

    async def insert_new(self, row: Any) -> None:
        """Write one new row now, as `add` does, in one prebuilt INSERT … RETURNING id instead of
        the ORM's flush (a quarter of its cost: the hot path of `commit`, issue 25). The row is
        then in the transaction as if read from it, so later changes to it are written as usual."""
        table = type(row).__table__
        written = row.__dict__  # the row's values, as new_row and the ORM keep them
        values = {name: written.get(name) for name in hot.column_names(table, "id")}
        # into its dict, as new_row: it is not tracked yet, and SQLModel's setattr costs ~10 µs
        written["id"] = (await self._hot_row(hot.insert_returning_id(table), values))[0]
        self._track(row)

    async def insert_numbered(self, row: Any, log: dict, *, last: bool = False) -> None:
        """Number a new row (a Commitment: C-n), write it and log its creation (`log`: the log
        row's values but its record, which is the row's reference). On PostgreSQL in one
        statement (hot.numbered_and_logged: the counter's lock then lasts only until the COMMIT
        that follows); elsewhere (or logged in another workspace) as next_number, insert_new and
        log. The row is then in the transaction as insert_new leaves it.

        `last`: the caller writes nothing after this. On PostgreSQL, when it is also the
        transaction's first write, the delivery's claim waits (claim_delivery) and no row read
        was changed, that claim is made in the same statement, which then commits on its own:
        no BEGIN, no COMMIT. A retry of the delivery raises AlreadyHandled (nothing written);
        any statement after it raises RuntimeError."""
        kind = type(row).KIND
        driver = await self._hot_driver()
        if log["workspace_id"] == row.workspace_id and isinstance(driver, hot.AsyncpgDriver):
            table = type(row).__table__
            written = row.__dict__
            values = {name: written.get(name) for name in hot.column_names(table, "id", "number")}
            values |= {"kind": kind, "count": 1, "ref_prefix": f"{kind}-"}
            values |= {f"log_{name}": value for name, value in log.items() if name != "workspace_id"}
            alone = last and driver.claim is not None and not driver.in_transaction and self._sessions.untouched()
            if alone:
                values |= driver.claim
            async with self._counter_turn(row.workspace_id, kind):
                found = await driver.row(hot.numbered_and_logged(table, claiming=alone), values, begin=not alone)
            if alone:
                driver.claim, driver.written_alone = None, True
                if found is None:
                    raise AlreadyHandled
            written["id"], written["number"] = found
            self._track(row)
            return
        row.__dict__["number"] = await self.next_number(row.workspace_id, kind)
        await self.insert_new(row)
        await self.log(**log, record=row.ref)

    def stage(self, *rows: Any) -> None:
        """Add new rows to the transaction; they are written at the next add, flush or commit."""
        self._session.add_all(rows)

    async def flush(self) -> None:
        """Write the changes made so far to rows already read, before a query that must see them."""
        await self._session.flush()

    async def insert_all(self, model: Any, rows: list[dict]) -> None:
        """Many rows in one statement (executemany), without reading their ids back."""
        if rows:
            await self._session.exec(self._insert(model), params=rows)

    # --- numbering and the activity log -----------------------------------------------------------
    async def next_number(self, workspace_id: int, kind: str) -> int:
        """The next reference number, in one upsert: the row lock serialises concurrent callers."""
        return await self.take_numbers(workspace_id, kind, 1)

    async def take_numbers(self, workspace_id: int, kind: str, count: int) -> int:
        """The first of `count` consecutive reference numbers."""
        async with self._counter_turn(workspace_id, kind):
            taken, = await self._hot_row(hot.take_numbers(self._dialect_name),
                                         {"workspace_id": workspace_id, "kind": kind, "count": count})
        return taken - count + 1

    def _counter_turn(self, workspace_id: int, kind: str) -> AbstractAsyncContextManager:
        """Wait for a turn at the counter (storage/counter_queue.py) before the statement that
        takes it; not when this transaction holds it already, nor without a queue (SQLite)."""
        counter = (workspace_id, kind)
        if self._counters is None or counter in self._counters_held:
            return nullcontext()
        self._counters_held.add(counter)
        return self._counters.turn(counter)

    async def log(
        self, *, workspace_id: int, at: datetime, person_id: int | None, platform: str,
        action: str, record: str, before: dict | None = None, after: dict | None = None,
    ) -> None:
        await self._hot_row(hot.LOG_ROW, {"workspace_id": workspace_id, "at": at, "person_id": person_id,
                                            "platform": platform, "action": action, "record": record,
                                            "before": before, "after": after})
