"""A transaction's session steps (begin, commit, rollback, close) called on its sync session.

Why: through AsyncSession each step runs in a greenlet of its own (SQLAlchemy's bridge from
async to its sync core), ~4 a command and a fifth of an empty transaction's cost on the 2-core
bench machine (issue 25). SQLite's group commit calls them directly: its SAVEPOINT, RELEASE and
ROLLBACK TO go to SQLite straight from sqlite_inline.Dialect, with no I/O through the async
adapter. Only a flush of ORM changes does I/O: it is awaited. (PostgreSQL's transactions call
the same steps on a session opened on demand: pg_transaction.py.)
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession


@asynccontextmanager
async def in_transaction(session: AsyncSession) -> AsyncIterator[None]:
    """Begin the session's transaction; on success flush and commit it, on error roll it back;
    close the session either way."""
    sync = session.sync_session
    try:
        sync.begin()
        yield
        if sync.new or sync.dirty or sync.deleted:
            await session.flush()
        sync.commit()
    except BaseException:
        sync.rollback()
        raise
    finally:
        sync.close()
