"""Claims: scheduled work done exactly once, however many ticks or processes run.

Each piece of scheduled work has a key (handlers.kernel.outbound.key); the process whose
INSERT of that key succeeds does the work, in the same transaction. On PostgreSQL a
concurrent claimer of the same key waits for that transaction and then finds it taken.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from storage.models import Claim
from storage.queries.base import Queries


class ClaimQueries(Queries):
    async def claim(self, key: str, now: datetime) -> bool:
        """Record that the work named `key` is being done; False when it was done before."""
        result = await self._session.exec(self._insert(Claim).values(key=key, at=now).on_conflict_do_nothing())
        return result.rowcount == 1

    async def claims_taken(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` were claimed before."""
        return set(await self._all(select(Claim.key).where(Claim.key.in_(set(keys)))))

    async def claim_all(self, keys: list[str], now: datetime) -> bool:
        """Claim every key in one statement; False when another process took one meanwhile (the
        caller then rolls everything back). In sorted order: two processes claiming overlapping
        pages take the rows' locks in the same order and never deadlock."""
        if not keys:
            return True
        rows = [{"key": key, "at": now} for key in sorted(keys)]
        result = await self._session.exec(self._insert(Claim).values(rows).on_conflict_do_nothing())
        return result.rowcount == len(rows)
