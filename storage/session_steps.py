"""A transaction's session steps (begin, commit, rollback, close) called on its sync session.

Why: through AsyncSession each step runs in a greenlet of its own (SQLAlchemy's bridge from
async to its sync core), ~4 a command and a fifth of an empty transaction's cost on the 2-core
bench machine (issue 25). The two write paths whose steps do no I/O through the async adapter
call them directly: SQLite's group commit (its SAVEPOINT, RELEASE and ROLLBACK TO go to SQLite
straight from sqlite_inline.Dialect) and PostgreSQL's transactions (COMMIT or ROLLBACK is sent
on asyncpg first, so the session's own finds nothing left to send). Only a flush of ORM changes
does I/O: it is awaited.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

End = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


@asynccontextmanager
async def in_transaction(session: AsyncSession, *, before_commit: End = _nothing,
                         before_rollback: End = _nothing) -> AsyncIterator[None]:
    """Begin the session's transaction; on success flush and commit it, on error roll it back;
    close the session either way. `before_commit` / `before_rollback`: the I/O that ends the
    transaction on the connection, awaited first."""
    sync = session.sync_session
    try:
        sync.begin()
        yield
        if sync.new or sync.dirty or sync.deleted:
            await session.flush()
        await before_commit()
        sync.commit()
    except BaseException:
        await before_rollback()
        sync.rollback()
        raise
    finally:
        sync.close()
