"""Where a process's transactions wait for a reference counter (C-n, H-n, …) on PostgreSQL: in
the event loop, at most AT_ONCE of them at the database.

Why: numbering takes the counter's row of a workspace and kind (hot.take_numbers,
hot.numbered_and_logged), and the row stays locked until COMMIT. Under load (bench/slash_ack.py
--postgres: 16 connections, one workspace) a dozen backends queued on that lock, and each COMMIT
woke them all: their wake-ups took ~60% of a core of the 2-core machine, some of it from `serve`
itself (85–92% busy instead of ~98%), and p99 was 100–130 ms. With two at the database, the
next one is already queued there when the holder commits, so the lock still passes on inside
PostgreSQL, with no event-loop turn in between; the others wait here, costing nothing (issue 25:
0.42–0.45 → 0.47–0.49 of the bare app, p99 ~50 ms, in the same session).

Deadlocks stay PostgreSQL's to find. A transaction that holds the counter already (it numbered
that kind before) never waits here: it would wait for those queued behind itself. Any other
waits at most PATIENCE_SECONDS, then goes to the database anyway: if it holds a row that the
counter's holder wants, the wait is then one PostgreSQL sees, and its deadlock detector ends it
as it did before this queue.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

AT_ONCE = 2
PATIENCE_SECONDS = 1.0


class CounterQueue:
    def __init__(self, at_once: int = AT_ONCE, patience_seconds: float = PATIENCE_SECONDS):
        self.at_once, self.patience_seconds = at_once, patience_seconds
        self._lines: dict[Hashable, tuple[asyncio.Semaphore, int]] = {}  # counter -> (turns, its users)

    @asynccontextmanager
    async def turn(self, counter: Hashable) -> AsyncIterator[None]:
        """Hold one of the counter's AT_ONCE turns while the statement that takes it runs."""
        turns, users = self._lines.get(counter) or (asyncio.Semaphore(self.at_once), 0)
        self._lines[counter] = (turns, users + 1)
        try:
            try:
                async with asyncio.timeout(self.patience_seconds):
                    await turns.acquire()
            except TimeoutError:  # long enough: the database's own queue takes over (see above)
                yield
                return
            try:
                yield
            finally:
                turns.release()
        finally:
            turns, users = self._lines[counter]
            if users == 1:  # nobody else waits for it: a workspace's counter is not kept forever
                del self._lines[counter]
            else:
                self._lines[counter] = (turns, users - 1)

    def waiting(self, counter: Hashable) -> int:
        """How many transactions hold or wait for a turn of `counter` (0 when none)."""
        line = self._lines.get(counter)
        return line[1] if line else 0
