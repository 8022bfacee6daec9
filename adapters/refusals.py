"""What both platform endpoints do with a request they do not believe: a short answer, and at
most one short log line a second per kind of refusal (never the body, never a traceback:
strangers choose both), plus the nesting check that keeps their JSON from recursing."""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

# Deeper than anything Slack or Teams sends (about ten levels): deeper is refused before a
# parser, bolt, botbuilder or our storing of a reference recurses into it
MAX_NESTING = 64


class RefusalLog:
    """One line per refused request (its reason and remote address), at most one a second per
    kind; a line counts the refusals of its kind left unlogged since the one before. Why:
    bolt logged the whole body of every unsigned request at INFO, so anyone could write forged
    lines and 900 KB lines into our log, and botbuilder logged a traceback per forged token."""

    def __init__(self, log: logging.Logger, endpoint: str, clock: Callable[[], float] = time.monotonic,
                 interval: float = 1.0):
        self.log, self.endpoint = log, endpoint
        self.clock, self.interval = clock, interval
        self._last: dict[str, float] = {}  # kind -> when it was last logged (a handful of kinds)
        self._unlogged: Counter[str] = Counter()

    def note(self, kind: str, remote: str | None, reason: str | None = None, status: int | None = None) -> None:
        now = self.clock()
        if now - self._last.get(kind, now - self.interval) < self.interval:
            self._unlogged[kind] += 1
            return
        self._last[kind] = now
        unlogged = self._unlogged.pop(kind, 0)
        more = f" (and {unlogged} more since the last such line)" if unlogged else ""
        answered = f" ({status})" if status else ""
        self.log.warning("%s request refused%s from %s: %s%s", self.endpoint, answered, remote or "unknown",
                         reason or kind, more)


def nested_deeper_than(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether parsed JSON nests arrays and objects more than `limit` levels (walked level by
    level, without recursion)."""
    level: list[Any] = [value]
    for _ in range(limit + 1):
        level = [child for v in level if isinstance(v, (dict, list))
                 for child in (v.values() if isinstance(v, dict) else v)]
        if not level:
            return False
    return True
