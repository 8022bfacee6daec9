"""PostgreSQL's transactions: the Store's ORM session opened only when something uses it
(session_on_demand.py), and its steps called without greenlets.

Why: through AsyncSession, a transaction's begin, first connection, commit and close each ran
in a greenlet of its own, and `partnerbot serve` is CPU-bound under load: on the 2-core bench
machine a `commit` command spent ~1.5 ms of CPU, a fifth of it in that machinery (issue 25,
bench/slash_ack.py --postgres). Making the session, beginning, committing and closing it then
still cost ~8 %, for a command that runs only prebuilt statements on asyncpg. Here:

  * the pool checkout and checkin are awaited through SQLAlchemy: they may connect, ping an
    idle connection (db.py _ping_after_idle) or close an overflow connection;
  * the session, once something needs it, is begun on the sync session: SQLAlchemy's asyncpg
    adapter sends BEGIN only with the transaction's first statement, so beginning does no I/O;
  * COMMIT and ROLLBACK are sent on asyncpg itself (hot.AsyncpgDriver); the session's commit or
    rollback that follows then finds no transaction left on the connection and does no I/O;
  * a flush of ORM changes does I/O and is awaited, as in group_commit.py;
  * the command's delivery claim, when it waited for the writes (PeopleQueries.claim_delivery)
    and was not made with the one write of a `commit`, is made just before COMMIT.

A connection whose COMMIT or ROLLBACK failed is invalidated (closed, never pooled again), as
SQLAlchemy's own disconnect handling would.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hot
from storage.counter_queue import CounterQueue
from storage.session_on_demand import SessionOnDemand
from storage.store import AlreadyHandled, Store

log = logging.getLogger(__name__)


@asynccontextmanager
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in one transaction on a pooled connection: committed on success, rolled back on error."""
    async with _transaction(engine) as (sessions, _driver):
        yield sessions.session()


@asynccontextmanager
async def store(engine: AsyncEngine, counters: CounterQueue | None = None) -> AsyncIterator[Store]:
    """The Store of one transaction on a pooled connection, its ORM session opened only if it is
    used (session_on_demand.py): committed on success, rolled back on error."""
    async with _transaction(engine) as (sessions, driver):
        yield Store(sessions, counters, driver=driver)


@asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[tuple[SessionOnDemand, hot.AsyncpgDriver | None]]:
    connection = await engine.connect()
    try:
        driver = hot.driver_of(connection, connection.dialect)
        if not isinstance(driver, hot.AsyncpgDriver):  # an adapter this does not know: SQLAlchemy's own way
            async with AsyncSession(bind=connection, expire_on_commit=False, autoflush=False) as s, s.begin():
                yield SessionOnDemand.of(s), None
            return

        def open_session() -> AsyncSession:
            if driver.written_alone:  # its one write committed already: nothing may follow it
                raise RuntimeError("the ORM used after the transaction's one write, which was committed on its own")
            s = AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
            s.info[hot.DRIVER] = driver
            s.sync_session.begin()  # no I/O: the adapter sends BEGIN with the first statement
            return s

        sessions = SessionOnDemand(open_session)
        try:
            yield sessions, driver
            await sessions.flush_for_commit()
            await _make_claim(driver)
            await _end(driver.commit, connection)
            sessions.commit()  # nothing left to send (see the top)
        except BaseException as failed:
            await _end(driver.rollback, connection)
            sessions.rollback()
            if isinstance(failed, Exception) and await _handled_before(driver):
                # a retry whose command refused (say, a button clicked twice: "already accepted")
                # is told it was handled, as when its claim is made first
                raise AlreadyHandled from failed
            raise
        finally:
            sessions.close()
    finally:
        await connection.close()  # back to the pool (checkin may close an overflow connection)


async def _make_claim(driver: hot.AsyncpgDriver) -> None:
    """The delivery's claim that waited (Store.claim_delivery), made now: in the transaction, with
    what it wrote, or alone when it wrote nothing. AlreadyHandled for a retry (rolled back)."""
    claim, driver.claim = driver.claim, None
    if claim is not None and await driver.row(hot.claim_delivery("postgresql"), claim, begin=False) is None:
        raise AlreadyHandled


async def _handled_before(driver: hot.AsyncpgDriver) -> bool:
    """Whether the delivery whose claim waited (and now never will be made) was handled before;
    False when nothing waited, or when the connection cannot tell (the error is then the answer)."""
    claim, driver.claim = driver.claim, None
    if claim is None or driver.written_alone:
        return False
    try:
        return await driver.row(hot.DELIVERY_HANDLED, {"key": claim["key"]}, begin=False) is not None
    except Exception:
        log.exception("could not tell whether a failed command's delivery was handled before")
        return False


async def _end(end, connection: AsyncConnection) -> None:
    """COMMIT or ROLLBACK on asyncpg; on failure the connection is invalidated, then the error raised."""
    try:
        await end()
    except BaseException:
        if not connection.invalidated:
            try:
                await connection.invalidate()
            except Exception:  # closing a broken connection may fail too: the pool drops it either way
                log.exception("could not invalidate a PostgreSQL connection whose transaction failed to end")
        raise
