"""Where a process's transactions wait for a reference counter (C-n, H-n, …) on PostgreSQL: in
the event loop, at most AT_ONCE of them at the database.

Why: numbering takes the counter's row of a workspace and kind (hot.take_numbers,
hot.numbered_and_logged), and the row stays locked until COMMIT (a `commit` whose one write
commits on its own holds it for that statement only). Under load (bench/slash_ack.py
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
from collections.abc import Hashable

AT_ONCE = 2
PATIENCE_SECONDS = 1.0


class CounterQueue:
    def __init__(self, at_once: int = AT_ONCE, patience_seconds: float = PATIENCE_SECONDS):
        self.at_once, self.patience_seconds = at_once, patience_seconds
        self._lines: dict[Hashable, _Line] = {}  # a counter's, while someone holds or waits for a turn

    def turn(self, counter: Hashable) -> _Turn:
        """`async with` it: one of the counter's AT_ONCE turns, held while the statement that
        takes the counter runs."""
        return _Turn(self._lines, counter, self.at_once, self.patience_seconds)

    def waiting(self, counter: Hashable) -> int:
        """How many transactions hold or wait for a turn of `counter` (0 when none)."""
        line = self._lines.get(counter)
        return line.users if line else 0


class _Line:
    __slots__ = ("turns", "users")

    def __init__(self, at_once: int):
        self.turns, self.users = asyncio.Semaphore(at_once), 0


class _Turn:
    """A class, not an @asynccontextmanager: every numbered command takes one (issue 25)."""

    __slots__ = ("lines", "counter", "at_once", "patience_seconds", "line", "held")

    def __init__(self, lines: dict[Hashable, _Line], counter: Hashable, at_once: int, patience_seconds: float):
        self.lines, self.counter, self.at_once, self.patience_seconds = lines, counter, at_once, patience_seconds

    async def __aenter__(self) -> None:
        self.line = line = self.lines.get(self.counter) or self.lines.setdefault(self.counter, _Line(self.at_once))
        line.users += 1
        if not line.turns.locked():  # a turn is free and nobody waits before us: no timer
            await line.turns.acquire()
            self.held = True
            return
        try:
            async with asyncio.timeout(self.patience_seconds):
                await line.turns.acquire()
            self.held = True
        except TimeoutError:  # long enough: the database's own queue takes over (see above)
            self.held = False
        except BaseException:  # cancelled while waiting: nothing held
            self._leave()
            raise

    async def __aexit__(self, *_exc) -> None:
        if self.held:
            self.line.turns.release()
        self._leave()

    def _leave(self) -> None:
        self.line.users -= 1
        if not self.line.users:  # nobody else holds or waits: a workspace's counter is not kept for ever
            del self.lines[self.counter]
