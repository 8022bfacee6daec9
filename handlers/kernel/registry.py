"""What the handlers can do: the verbs people type and the jobs the tick runs, registered.

Each capability package lists its own (`VERBS`, `JOBS`, `TIMEZONE_FOLLOWERS`: handlers/__init__.py
collects them); the registry checks them and is the one place the dispatcher, `help` and the
runner look them up. Adding a verb or a job never means editing the kernel.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from handlers.kernel.model import Reply

if TYPE_CHECKING:
    from handlers.kernel.context import Context, JobContext
    from storage.store import Store

Handler = Callable[["Context", str], Awaitable[Reply]]
# A person's clock changed: move what is scheduled on it (store, person id, new zone, now).
TimezoneFollower = Callable[["Store", int, str, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Verb:
    name: str
    usage: tuple[str, ...]  # one line per form, each starting with the verb
    summary: str
    examples: tuple[str, ...]
    handler: Handler

    @property
    def usage_text(self) -> str:
        return " | ".join(f"`{u}`" for u in self.usage)


class PageTaken(Exception):
    """Another process claimed some of a page's work while it was worked out: the runner rolls
    the page back and does its items one at a time (they then find their work done)."""


@dataclass(frozen=True)
class Job:
    """One kind of scheduled work: how to find what is due, and how to do one item of it.

    `find(ctx, cursor)`: with `paged`, a page of (cursor, item) after `cursor` (None: the first
    page); else the first items due, asked again while what it returns changes (for queries that
    take no cursor). `run(ctx, item)` does one item in a transaction of its own, re-reading it
    (another process may have done it a moment ago), and says whether it did something.
    `run_page(ctx, items)`, when given, does many items in one transaction: it returns how many
    did something and the items it leaves to `run`, or raises PageTaken.
    """

    name: str  # what the tick's summary calls an item done, e.g. "commitment reminders"
    find: Callable[[JobContext, Any], Awaitable[list]]
    run: Callable[[JobContext, Any], Awaitable[bool]]
    paged: bool = True
    run_page: Callable[[JobContext, list], Awaitable[tuple[int, list]]] | None = None


def pruning_job(name: str, cutoff: Callable[[JobContext], datetime],
                find: Callable[[Store, datetime, Any], Awaitable[list]],
                forget: Callable[[Store, list, datetime], Awaitable[int]]) -> Job:
    """A job that deletes the rows older than `cutoff`: found a page at a time (`find(store,
    cutoff, cursor)`), deleted many at once (`forget(store, keys, cutoff)`, which re-checks each
    row is still due, so two processes running the tick forget each row once)."""

    async def due(cad: JobContext, after) -> list:
        return await find(cad.store, cutoff(cad), after)

    async def run_page(cad: JobContext, keys: list) -> tuple[int, list]:
        return await forget(cad.store, keys, cutoff(cad)), []

    async def run(cad: JobContext, key) -> bool:
        return await forget(cad.store, [key], cutoff(cad)) == 1

    return Job(name, find=due, run=run, run_page=run_page)


class Registry:
    def __init__(self, verbs: Iterable[Verb] = (), jobs: Iterable[Job] = (),
                 timezone_followers: Iterable[TimezoneFollower] = ()):
        self._verbs: dict[str, Verb] = {}
        self._jobs: dict[str, Job] = {}
        self.timezone_followers = tuple(timezone_followers)
        for verb in verbs:
            self.add(verb)
        for job in jobs:
            self.add_job(job)

    def add(self, verb: Verb) -> None:
        if verb.name in self._verbs:
            raise ValueError(f"verb '{verb.name}' registered twice")
        if not verb.usage or not all(u.startswith(verb.name) for u in verb.usage):
            raise ValueError(f"verb '{verb.name}': every usage line must start with the verb")
        if not verb.examples:
            raise ValueError(f"verb '{verb.name}' needs at least one example")
        self._verbs[verb.name] = verb

    def add_job(self, job: Job) -> None:
        if job.name in self._jobs:
            raise ValueError(f"job '{job.name}' registered twice")
        self._jobs[job.name] = job

    def with_verbs(self, *verbs: Verb) -> Registry:
        """This registry and more verbs (a plugin, a test's verb), as a new registry."""
        return Registry([*self, *verbs], self.jobs, self.timezone_followers)

    def get(self, name: str) -> Verb | None:
        return self._verbs.get(name)

    def __iter__(self) -> Iterator[Verb]:
        return iter(self._verbs.values())

    @property
    def jobs(self) -> tuple[Job, ...]:
        """In the order they were registered: the order of a tick."""
        return tuple(self._jobs.values())

    async def follow_timezone(self, store: Store, person_id: int, tz: str, now: datetime) -> None:
        """A person's clock changed: everything scheduled on it moves with it."""
        for follow in self.timezone_followers:
            await follow(store, person_id, tz, now)
