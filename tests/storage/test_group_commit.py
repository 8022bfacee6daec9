"""Group commit on SQLite's write path (storage/group_commit.py): transactions that run together
commit together, each durable before it returns, each failing alone, and a failed COMMIT failing
all of its batch."""
import asyncio
import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from tests.conftest import database_url, migrated

NOW = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)


@pytest.fixture
async def sqlite_db(tmp_path):
    async with database_url("sqlite", tmp_path) as url, migrated(url) as database:
        yield database, url.split("///", 1)[1]


def claimed_elsewhere(path: str) -> set[str]:
    """The delivery keys another connection (another process) sees committed."""
    other = sqlite3.connect(path)
    try:
        return {key for (key,) in other.execute("SELECT key FROM processed_delivery")}
    finally:
        other.close()


async def test_transactions_that_run_together_commit_together_each_durable_when_it_returns(sqlite_db):
    database, path = sqlite_db
    seen_on_return: dict[str, bool] = {}

    async def claim(key: str) -> None:
        async with database.transaction() as store:
            assert await store.claim_delivery(key, NOW)
        seen_on_return[key] = key in claimed_elsewhere(path)  # committed before the `async with` ended

    keys = [f"slack:T1:{n}" for n in range(20)]
    await asyncio.gather(*(claim(key) for key in keys))
    assert seen_on_return == dict.fromkeys(keys, True)
    assert claimed_elsewhere(path) == set(keys)
    commits = database.group_commit
    assert commits.transactions == 20 and commits.batches < 5  # one COMMIT for many


async def test_a_failing_transaction_rolls_back_alone_in_its_batch(sqlite_db):
    database, path = sqlite_db

    async def claim(key: str, fail: bool) -> None:
        async with database.transaction() as store:
            await store.claim_delivery(key, NOW)
            if fail:
                raise RuntimeError("refused")

    outcomes = await asyncio.gather(claim("a", False), claim("b", True), claim("c", False), return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == ["NoneType", "RuntimeError", "NoneType"]
    assert claimed_elsewhere(path) == {"a", "c"}


async def test_a_failed_commit_fails_its_whole_batch_and_the_next_one_goes_through(sqlite_db):
    """A COMMIT that SQLite refuses (here a foreign key checked at commit) fails every transaction
    of its batch, none of which is then saved; the next transaction begins a new batch."""
    database, path = sqlite_db

    async def orphan() -> None:
        async with database.session() as session:
            await session.exec(text("PRAGMA defer_foreign_keys = ON"))  # checked at COMMIT
            await session.exec(text("INSERT INTO person (workspace_id, display_name, created_at) "
                                    "VALUES (999, 'nobody', '2026-11-23 10:00:00.000000')"))  # no workspace 999

    async def claim(key: str) -> None:
        async with database.transaction() as store:
            await store.claim_delivery(key, NOW)

    outcomes = await asyncio.gather(claim("before"), orphan(), claim("after"), return_exceptions=True)
    assert all(isinstance(o, Exception) and "FOREIGN KEY" in str(o) for o in outcomes), outcomes
    assert claimed_elsewhere(path) == set()
    await claim("next")
    assert claimed_elsewhere(path) == {"next"}


async def test_a_batch_still_open_when_the_database_closes_is_committed_first(sqlite_db):
    """`serve` stopping (Database.dispose) commits the open batch: whoever waits for it is
    answered, and what it holds is saved."""
    database, path = sqlite_db

    async def claim() -> None:
        async with database.transaction() as store:
            await store.claim_delivery("last", NOW)

    claiming = asyncio.create_task(claim())
    await asyncio.sleep(0)  # the claim runs and waits for its batch's COMMIT, not yet begun
    assert not claiming.done()
    await database.group_commit.close()
    await asyncio.wait_for(claiming, timeout=5)
    assert claimed_elsewhere(path) == {"last"}
