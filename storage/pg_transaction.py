"""PostgreSQL's transactions, with the session's own steps called without greenlets
(session_steps.py).

Why: through AsyncSession, a transaction's begin, first connection, commit and close each ran
in a greenlet of its own, and `partnerbot serve` is CPU-bound under load: on the 2-core bench
machine a `commit` command spent ~1.5 ms of CPU, a fifth of it in that machinery (issue 25,
bench/slash_ack.py --postgres). Here:

  * the pool checkout and checkin are awaited through SQLAlchemy: they may connect, ping an
    idle connection (db.py _ping_after_idle) or close an overflow connection;
  * the session's begin is called on the sync session: SQLAlchemy's asyncpg adapter sends BEGIN
    only with the transaction's first statement, so beginning does no I/O;
  * COMMIT and ROLLBACK are sent on asyncpg itself (hot.AsyncpgDriver); the session's commit or
    rollback that follows then finds no transaction left on the connection and does no I/O;
  * a flush of ORM changes does I/O and is awaited, as in group_commit.py.

A connection whose COMMIT or ROLLBACK failed is invalidated (closed, never pooled again), as
SQLAlchemy's own disconnect handling would.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hot, session_steps

log = logging.getLogger(__name__)


@asynccontextmanager
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in one transaction on a pooled connection: committed on success, rolled back on error."""
    connection = await engine.connect()
    try:
        driver = hot.driver_of(connection, connection.dialect)
        if not isinstance(driver, hot.AsyncpgDriver):  # an adapter this does not know: SQLAlchemy's own way
            async with AsyncSession(bind=connection, expire_on_commit=False, autoflush=False) as s, s.begin():
                yield s
            return
        s = AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
        s.info[hot.DRIVER] = driver
        async with session_steps.in_transaction(s, before_commit=lambda: _end(driver.commit, connection),
                                                before_rollback=lambda: _end(driver.rollback, connection)):
            yield s
    finally:
        await connection.close()  # back to the pool (checkin may close an overflow connection)


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
