"""Group commit: the transactions of concurrent commands on SQLite's write path, committed as one.

This is the one place where a command's writes are gathered. SQLite has one writer, and each
COMMIT appends the pages it changed to the WAL with a write() each (the counter's page, the
commitment's, the log's and their indexes'), so a commit cost ~130 µs of the ~1 ms a `commit`
command takes (issue 25, bench/slash_ack.py). Here:

  * the first transaction that finds no batch open begins one: BEGIN IMMEDIATE on the write
    connection, which the batch then holds;
  * each transaction runs in a SAVEPOINT of the batch, one at a time (the write lock): a refusal
    or an error rolls back that one alone, released it stays in the batch;
  * a released transaction waits for the batch's COMMIT before its `async with` ends, so nothing
    is acknowledged (`saved`) before it is durable, and a kill -9 loses only what nobody was told;
  * the COMMIT runs as soon as the event loop has run what was ready when the batch began: the
    commands whose requests arrived together are committed together, and under no load a batch
    is one transaction, committed at once (no timer, no added wait);
  * a failed COMMIT fails every transaction of its batch (each is told nothing was changed).

Measured (bench/slash_ack.py, 16 connections, 2-core VM): Partnerbot went from 0.64-0.70x to
0.80-0.83x the bare bolt app's requests/s. A transaction alone pays ~0.3 ms more (its SAVEPOINT
and RELEASE, the batch's BEGIN and COMMIT, a loop turn): invisible next to Slack's 3 s.

Only SQLite's file databases with the write path on the loop's thread (sqlite_inline) batch;
PostgreSQL runs concurrent transactions itself and commits each on its own.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hot
from storage.session_on_demand import SessionOnDemand

log = logging.getLogger(__name__)

_SAVEPOINT = "pb_transaction"  # a command's, in its batch (SQLAlchemy's own are sa_savepoint_<n>)


class _Batch:
    def __init__(self, connection: AsyncConnection, transaction: AsyncTransaction):
        self.connection, self.transaction = connection, transaction
        self.sqlite = connection.sync_connection.connection.driver_connection.sqlite  # the sqlite3 connection
        self.released: list[asyncio.Future] = []  # one per transaction waiting for the COMMIT
        self.ended = False  # committed or rolled back: by its scheduled task, or at close()


class GroupCommit:
    def __init__(self, engine: AsyncEngine, write_lock: asyncio.Lock):
        self.engine = engine
        self.write_lock = write_lock  # one transaction at a time, and the COMMIT between them
        self._open: _Batch | None = None
        self._connection: AsyncConnection | None = None  # the write connection, kept between batches
        self.batches = self.transactions = 0  # committed so far (tests/storage/test_group_commit.py)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a SAVEPOINT of the open batch: released on success (and durable once the
        batch commits, before this returns), rolled back on error."""
        async with self.transaction() as (sessions, _driver):
            yield sessions.session()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[SessionOnDemand, hot.SqliteDriver]]:
        """A transaction in a SAVEPOINT of the open batch, its ORM session opened only if used
        (session_on_demand.py: a `commit` runs only storage/hot.py's statements, on the driver
        this yields too): released on success (and durable once the batch commits, before this
        returns), rolled back on error."""
        async with self.write_lock:
            batch = self._open or await self._begin()
            sqlite, driver = batch.sqlite, hot.SqliteDriver(batch.sqlite, batch.connection.dialect)
            sqlite.execute(f"SAVEPOINT {_SAVEPOINT}")

            def open_session() -> AsyncSession:
                # the session's own SAVEPOINT, inside this transaction's: its rollback is its own
                session = AsyncSession(bind=batch.connection, join_transaction_mode="create_savepoint",
                                       expire_on_commit=False, autoflush=False)
                sync = session.sync_session
                sync.begin()
                sync.connection()
                session.info[hot.DRIVER] = driver
                return session

            sessions = SessionOnDemand(open_session)
            try:
                yield sessions, driver
                await sessions.flush_for_commit()
                sessions.commit()  # RELEASE of its own savepoint
                sqlite.execute(f"RELEASE {_SAVEPOINT}")  # into the batch
            except BaseException:
                try:
                    sessions.rollback()
                finally:
                    sqlite.execute(f"ROLLBACK TO {_SAVEPOINT}")  # this transaction's changes alone
                    sqlite.execute(f"RELEASE {_SAVEPOINT}")  # (ROLLBACK TO leaves it open)
                raise
            finally:
                sessions.close()
            committed = asyncio.get_running_loop().create_future()
            batch.released.append(committed)
        await committed

    async def close(self) -> None:
        """Commit what is open and give the write connection back (Database.dispose)."""
        if self._open is not None:
            await self._end(self._open)
        async with self.write_lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None

    async def _begin(self) -> _Batch:
        if self._connection is None:
            self._connection = await self.engine.connect()
        try:
            transaction = await self._connection.begin()  # BEGIN IMMEDIATE, now (storage/db.py _on_begin)
        except BaseException:  # e.g. another process held the write lock past the busy timeout
            await self._drop_connection()
            raise
        self._open = batch = _Batch(self._connection, transaction)
        # a task, a loop turn later: the transactions ready to run by then join this batch
        asyncio.get_running_loop().call_soon(lambda: _in_background(self._end(batch)))
        return batch

    async def _end(self, batch: _Batch) -> None:
        """COMMIT the batch (ROLLBACK when no transaction of it was released), then tell each
        of its transactions how it went."""
        async with self.write_lock:  # behind the transactions already waiting: they join it
            if batch.ended:
                return
            batch.ended = True
            self._open = None  # who comes next begins the next batch
            error: BaseException | None = None
            try:
                if batch.released:
                    await batch.transaction.commit()
                else:  # every transaction of it was refused or failed
                    await batch.transaction.rollback()
            except BaseException as failed:  # every transaction of the batch fails with it
                error = failed
                await self._roll_back(batch)
                await self._drop_connection()
            finally:
                self._settle(batch, error)

    def _settle(self, batch: _Batch, error: BaseException | None) -> None:
        if error is None and batch.released:
            self.batches += 1
            self.transactions += len(batch.released)
        for released in batch.released:
            if released.done():  # its caller was cancelled meanwhile
                continue
            if error is None:
                released.set_result(None)
            elif isinstance(error, asyncio.CancelledError):
                released.cancel()
            else:
                released.set_exception(error)

    @staticmethod
    async def _roll_back(batch: _Batch) -> None:
        """What a failed COMMIT left open (SQLite keeps the transaction when COMMIT fails)."""
        try:
            await batch.transaction.rollback()
        except Exception:  # the connection is broken: closing it is all that is left
            log.exception("could not roll back a batch whose COMMIT failed")

    async def _drop_connection(self) -> None:
        """After a failed BEGIN or COMMIT: the next batch begins on a new connection."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.close()
        except Exception:  # broken beyond closing: the pool discards it
            log.exception("could not close SQLite's write connection after a failure")


_running: set[asyncio.Task] = set()  # the batches' COMMITs under way (a task needs a reference)


def _in_background(work) -> None:
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
