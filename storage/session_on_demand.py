"""A transaction's ORM session, opened at its first use: a command that runs only
storage/hot.py's statements (a `commit`: its delivery claimed and caller read, its commitment
numbered, written and logged) never opens one.

Why: `partnerbot serve` is CPU-bound under load, and an AsyncSession's making, begin (on SQLite
its SAVEPOINT in the batch, group_commit.py), commit and close, and adding each row read outside
the ORM to it, were ~8 % of a `commit` command's CPU on PostgreSQL and ~17 % on SQLite (py-spy,
bench/slash_ack.py, issue 25).

Until the session opens, the rows read or written outside the ORM (Queries._track) wait here,
already as the ORM holds a loaded row (detached, with its identity), so a change made to one is
recorded on it. When something needs the session, it opens, begun, and they all join it first:
it then holds each as it would have from the start. At the end of the transaction, rows changed
while no session was open make it open, so the change is flushed as the session would have.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.base import instance_state
from sqlmodel.ext.asyncio.session import AsyncSession


class SessionOnDemand:
    def __init__(self, open_session: Callable[[], AsyncSession] | None = None, *,
                 opened: AsyncSession | None = None):
        self._open_session = open_session  # makes the session, begun in the transaction
        self.opened = opened  # None until something needed it
        self._waiting: dict[tuple, Any] = {}  # identity key -> a row tracked before it opened

    @classmethod
    def of(cls, session: AsyncSession) -> SessionOnDemand:
        """A session open from the start (a reader's, an in-memory database's): everything goes to it at once."""
        return cls(opened=session)

    def session(self) -> AsyncSession:
        """The session, opened now if it was not yet (the rows tracked so far join it)."""
        if self.opened is None:
            self.opened = self._open_session()
            sync = self.opened.sync_session
            for row in self._waiting.values():
                sync.add(row)
            self._waiting.clear()
        return self.opened

    def held(self, key: tuple) -> Any | None:
        """The row with this identity key the transaction holds already, or None."""
        if self.opened is None:
            return self._waiting.get(key)
        return self.opened.sync_session.identity_map.get(key)

    def track(self, row: Any) -> None:
        """A row written or read outside the ORM (its id set), held as if loaded: a later change
        to it is written at commit."""
        make_transient_to_detached(row)
        if self.opened is None:
            self._waiting[instance_state(row).key] = row
        else:
            self.opened.sync_session.add(row)  # what AsyncSession.add calls, without its proxy

    def untouched(self) -> bool:
        """No session opened, and no row it holds changed: the transaction has nothing to write yet."""
        return self.opened is None and not any(instance_state(row).modified for row in self._waiting.values())

    async def flush_for_commit(self) -> None:
        """Write what changed and is not written yet: the session's changes, or the changes made
        to rows held while none was open (which opens it)."""
        if self.untouched():
            return
        session = self.session()
        sync = session.sync_session
        if sync.new or sync.dirty or sync.deleted:
            await session.flush()

    # the session's own end, where one was opened; none does I/O (the transaction's COMMIT,
    # ROLLBACK or RELEASE is sent on the driver by who made this)
    def commit(self) -> None:
        if self.opened is not None:
            self.opened.sync_session.commit()

    def rollback(self) -> None:
        if self.opened is not None:
            self.opened.sync_session.rollback()

    def close(self) -> None:
        if self.opened is not None:
            self.opened.sync_session.close()
