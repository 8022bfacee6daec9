"""Transactions waiting for a reference counter take turns in the process (storage/counter_queue.py):
at most two at PostgreSQL at once, numbers still gap-free, and no deadlock hidden from it."""
import asyncio
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text

from storage.counter_queue import AT_ONCE, CounterQueue
from storage.db import Database
from storage.models import Commitment, Person, new_row
from storage.store import Store
from tests.conftest import database_url, migrated

NOW = datetime(2026, 12, 7, 10, tzinfo=timezone.utc)
COUNTER = (1, "C")


# --- the queue itself ---------------------------------------------------------------------------

async def _hold(queue: CounterQueue, counter, entered: list, release: asyncio.Event, name: str) -> None:
    async with queue.turn(counter):
        entered.append(name)
        await release.wait()


async def _settle() -> None:
    """A few turns of the event loop: enough for every task that can go on to reach its next wait.
    Not a sleep: a CI machine running two suites at once can stall a sleep past a patience."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_two_at_a_time_take_a_counter_and_the_next_goes_when_one_is_done():
    queue, entered, releases = CounterQueue(), [], [asyncio.Event() for _ in range(4)]
    tasks = [asyncio.create_task(_hold(queue, COUNTER, entered, releases[n], f"t{n}")) for n in range(4)]
    await _settle()
    assert entered == ["t0", "t1"] and queue.waiting(COUNTER) == 4
    releases[0].set()
    await _settle()
    assert entered == ["t0", "t1", "t2"]  # in the order they came
    for release in releases:
        release.set()
    await asyncio.gather(*tasks)
    assert entered == ["t0", "t1", "t2", "t3"] and queue.waiting(COUNTER) == 0  # nothing kept


async def test_another_counter_does_not_wait_for_a_busy_one():
    queue, entered, busy, other = CounterQueue(), [], asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(_hold(queue, COUNTER, entered, busy, f"c{n}")) for n in range(3)]
    tasks.append(asyncio.create_task(_hold(queue, (1, "H"), entered, other, "h")))
    tasks.append(asyncio.create_task(_hold(queue, (2, "C"), entered, other, "c-of-workspace-2")))
    await _settle()
    assert sorted(entered) == ["c-of-workspace-2", "c0", "c1", "h"]
    busy.set()
    other.set()
    await asyncio.gather(*tasks)


async def test_a_waiter_past_its_patience_goes_on_without_a_turn():
    """What keeps a deadlock PostgreSQL's to find: after its patience a waiter goes to the database."""
    queue, entered, release = CounterQueue(at_once=1, patience_seconds=0.3), [], asyncio.Event()
    holder = asyncio.create_task(_hold(queue, COUNTER, entered, release, "holder"))
    waiter = asyncio.create_task(_hold(queue, COUNTER, entered, release, "waiter"))
    await _settle()
    assert entered == ["holder"]
    await _until(lambda: len(entered) == 2)
    assert entered == ["holder", "waiter"] and not release.is_set()  # while the holder still holds its turn
    release.set()
    await asyncio.gather(holder, waiter)
    assert queue.waiting(COUNTER) == 0


async def test_a_turn_is_given_back_when_its_statement_fails():
    queue = CounterQueue(at_once=1)
    with pytest.raises(RuntimeError):
        async with queue.turn(COUNTER):
            raise RuntimeError("the statement failed")
    async with asyncio.timeout(1):  # would wait out the patience if the turn were still held
        async with queue.turn(COUNTER):
            pass


async def test_a_waiter_cancelled_while_it_waits_leaves_no_turn_taken():
    """A command cancelled in the queue (its client gone, serve stopping) takes nobody's turn."""
    queue, entered, release = CounterQueue(at_once=1), [], asyncio.Event()
    holder = asyncio.create_task(_hold(queue, COUNTER, entered, release, "holder"))
    cancelled = asyncio.create_task(_hold(queue, COUNTER, entered, release, "cancelled"))
    await _settle()
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    assert queue.waiting(COUNTER) == 1
    release.set()
    await holder
    async with asyncio.timeout(0.5):  # a turn at once: none was lost to the cancelled waiter
        async with queue.turn(COUNTER):
            assert entered == ["holder"]
    assert queue.waiting(COUNTER) == 0


# --- on PostgreSQL ------------------------------------------------------------------------------

@pytest.fixture
async def pg(tmp_path):
    async with database_url("postgres", tmp_path) as url:
        async with migrated(url) as database:
            async with database.transaction() as store:
                ws = await store.workspace("slack", "T1", NOW)
                ana = await store.person(ws, "U1", "ana", NOW)
            yield database, ws.id, ana.id


async def _number(store: Store, workspace_id: int, person_id: int) -> Commitment:
    """A new commitment numbered C-n, as commitments.service.create writes one."""
    c = new_row(Commitment, workspace_id=workspace_id, owner_id=person_id, created_by_id=person_id,
                what="send the deck", due_date=date(2026, 12, 11), due_at=NOW, created_at=NOW)
    await store.insert_numbered(c, {"workspace_id": workspace_id, "at": NOW, "person_id": person_id,
                                    "platform": "slack", "action": "commitment.created",
                                    "before": None, "after": {"what": c.what}})
    return c


async def _waiting_on_locks(database: Database) -> int:
    """How many of the database's backends wait for a lock now."""
    async with database.engine.connect() as connection:
        return (await connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ))).scalar_one()


async def _until(check, timeout: float = 5.0) -> None:
    """Until `check()` is true (or, when it is a coroutine, what it answers)."""
    async with asyncio.timeout(timeout):
        while not await _answer(check()):
            await asyncio.sleep(0.005)


async def _answer(checked) -> bool:
    return await checked if asyncio.iscoroutine(checked) else checked


async def _numbers(database: Database, workspace_id: int) -> list[int]:
    """The numbers of the workspace's saved commitments, in order."""
    async with database.engine.connect() as connection:
        return list((await connection.execute(text("SELECT number FROM commitment WHERE workspace_id = :ws "
                                                   "ORDER BY number"), {"ws": workspace_id})).scalars())


@pytest.mark.postgres
async def test_sixteen_commands_numbering_at_once_queue_two_at_postgres_and_get_every_number_once(pg):
    database, ws, ana = pg
    most_waiting, done = 0, asyncio.Event()

    async def command() -> None:
        async with database.transaction() as store:
            await _number(store, ws, ana)
            await asyncio.sleep(0.03)  # the rest of a command, holding the counter until COMMIT

    async def watch() -> None:
        nonlocal most_waiting
        while not done.is_set():
            most_waiting = max(most_waiting, await _waiting_on_locks(database))
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(command() for _ in range(16)))
    done.set()
    await watcher
    # the next one is already queued at PostgreSQL when the holder commits; the rest wait here
    assert 1 <= most_waiting <= AT_ONCE
    assert await _numbers(database, ws) == list(range(1, 17))


@pytest.mark.postgres
async def test_a_transaction_numbering_again_does_not_wait_behind_those_queued_for_its_counter(pg):
    database, ws, ana = pg
    database.counters = CounterQueue(patience_seconds=60)  # a wait here would outlast the test
    numbered_once = asyncio.Event()

    async def twice() -> None:
        async with database.transaction() as store:
            await _number(store, ws, ana)
            numbered_once.set()
            await _until(lambda: _count_is(database, AT_ONCE))  # the others are queued at PostgreSQL
            async with asyncio.timeout(5):
                await _number(store, ws, ana)  # it holds the counter: no turn to wait for

    async def once() -> None:
        await numbered_once.wait()
        async with database.transaction() as store:
            await _number(store, ws, ana)

    others = [once() for _ in range(AT_ONCE + 1)]
    await asyncio.wait_for(asyncio.gather(twice(), *others), 20)
    assert await _numbers(database, ws) == list(range(1, AT_ONCE + 4))


async def _count_is(database: Database, waiting: int) -> bool:
    return await _waiting_on_locks(database) == waiting


@pytest.mark.postgres
async def test_a_deadlock_through_the_queue_is_still_found_by_postgres_and_ends_one_transaction(pg):
    """The counter's holder (A) wants a row that a transaction waiting for a turn (B) holds, while
    the turns are held by two waiting at PostgreSQL for A. PostgreSQL cannot see B's wait; after
    its patience B goes to the database, where the deadlock is found and one of A and B is ended.
    Without the patience this would hang for ever."""
    database, ws, ana = pg
    database.counters = queue = CounterQueue(patience_seconds=0.3)
    a_numbered, b_waits = asyncio.Event(), asyncio.Event()

    async def a() -> None:
        async with database.transaction() as store:
            await _number(store, ws, ana)
            a_numbered.set()
            await b_waits.wait()
            person = await store.get(Person, ana)
            person.display_name = "ana by A"
            await store.flush()  # waits for B, which holds ana's row

    async def queued_at_postgres() -> None:
        await a_numbered.wait()
        async with database.transaction() as store:
            await _number(store, ws, ana)

    async def b() -> None:
        await _until(lambda: _count_is(database, AT_ONCE))  # both turns held, by those waiting for A
        async with database.transaction() as store:
            person = await store.get(Person, ana)
            person.display_name = "ana by B"
            await store.flush()  # B holds ana's row
            waiting = asyncio.create_task(_number(store, ws, ana))
            await _until(lambda: queue.waiting((ws, "C")) == AT_ONCE + 1)  # B waits for a turn
            b_waits.set()
            await waiting

    outcomes = await asyncio.wait_for(asyncio.gather(a(), b(), *(queued_at_postgres() for _ in range(AT_ONCE)),
                                                     return_exceptions=True), 20)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and "deadlock" in str(failed[0]).lower()
    assert outcomes.index(failed[0]) in (0, 1)  # A or B, whichever PostgreSQL chose
    assert await _numbers(database, ws) == list(range(1, AT_ONCE + 2))  # the ended one's number was not kept
