"""The storage contract, run against SQLite and (when reachable) PostgreSQL."""
import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from storage.migrate import current_revision
from storage.store import AlreadyHandled, Store
from tests.conftest import database_url, migrated

NOW = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
async def store_db(request, tmp_path):
    async with database_url(request.param, tmp_path) as url:
        async with migrated(url) as database:
            yield database


async def test_migrations_reach_head_and_are_idempotent(store_db):
    from storage.migrate import upgrade

    head = _head()
    assert head is not None and await current_revision(store_db) == head
    await upgrade(store_db)  # a second run (every `serve` start) changes nothing
    assert await current_revision(store_db) == head


def _head() -> str | None:
    """The newest migration's revision."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_the_migrations_build_the_schema_the_models_describe(store_db):
    """A model changed without its migration would fail only on a real database, later."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (the tables)

    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return [d for d in compare_metadata(context, SQLModel.metadata) if not _ignorable(d)]

    async with store_db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


def _ignorable(difference) -> bool:
    """alembic's own bookkeeping table, and SQLite's unnamed-constraint noise."""
    kind = difference[0] if isinstance(difference, tuple) else difference[0][0]
    return kind in {"remove_table"} and difference[1].name == "alembic_version"


async def test_numbers_are_per_workspace_and_kind_and_never_repeat(store_db):
    async with store_db.session() as s:
        store = Store(s)
        acme = await store.workspace("slack", "T1", NOW)
        globex = await store.workspace("slack", "T2", NOW)
        got = [await store.next_number(acme.id, "C") for _ in range(3)]
        got += [await store.next_number(acme.id, "H"), await store.next_number(globex.id, "C")]
    assert got == [1, 2, 3, 1, 1]


async def test_concurrent_numbering_gives_distinct_numbers(store_db):
    async with store_db.session() as s:
        ws = await Store(s).workspace("slack", "T1", NOW)

    async def take() -> int:
        async with store_db.session() as s:
            return await Store(s).next_number(ws.id, "C")

    numbers = await asyncio.gather(*(take() for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))


async def test_a_person_is_found_again_by_their_platform_identity(store_db):
    async with store_db.session() as s:
        store = Store(s)
        ws = await store.workspace("slack", "T1", NOW)
        first = await store.person(ws, "U1", "U1", NOW)
        again = await store.person(ws, "U1", "ana", NOW)  # a real name learnt later
    assert first.id == again.id and again.display_name == "ana"


async def test_a_teams_user_met_by_either_id_is_one_person_once_both_are_known(store_db):
    """A mention gives the 29:… id, a people picker the AAD object id, a message both: until a
    message (or the roster) ties them, each id is a person; then they are one, for good."""
    from storage.models import Identity, Person

    async with store_db.transaction() as store:
        ws = await store.workspace("teams", "tenant-1", NOW)
        mentioned = await store.person(ws, "29:m", "Megan", NOW)
        picked = await store.person(ws, "aad-m", None, NOW)
        assert mentioned.id != picked.id and (await store.person(ws, "29:m", None, NOW)).id == mentioned.id
        wrote = await store.person(ws, "aad-m", "Megan", NOW, other_id="29:m", email="megan@example.com")
        assert (await store.person(ws, "29:m", None, NOW)).id == wrote.id
        assert (await store.person(ws, "aad-m", None, NOW)).id == wrote.id
    async with store_db.session() as s:
        assert [p.display_name for p in (await s.exec(select(Person))).scalars()] == ["Megan"]
        assert [(i.person_id, i.external_id, i.channel_account_id, i.email)
                for i in (await s.exec(select(Identity))).scalars()] == [(wrote.id, "aad-m", "29:m", "megan@example.com")]


async def test_a_delivery_id_is_claimed_once(store_db):
    async with store_db.session() as s:
        assert await Store(s).claim_delivery("slack:T1:abc", NOW)
    async with store_db.session() as s:
        assert not await Store(s).claim_delivery("slack:T1:abc", NOW)


async def test_a_delivery_claimed_with_its_caller_finds_them_once_and_refuses_the_retry(store_db):
    """The dispatcher claims a command's delivery naming its caller: PostgreSQL reads them at
    once, the claim waiting for the command's writes (PeopleQueries.claim_delivery). Whoever is
    read so, person() answers
    as it would have read them: the known caller, a new one created on first sight; a retry is
    refused; a look-up of someone else is not answered with the caller."""
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        ana = await store.person(ws, "U1", "ana", NOW)
    async with store_db.transaction() as store:
        assert await store.claim_delivery("slack:T1:d1", NOW, caller=(ws.id, "U1"))
        assert (await store.person(ws, "U1", "ana", NOW)).id == ana.id
    assert not await _claimed_in_a_transaction(store_db, "slack:T1:d1", (ws.id, "U1"))
    async with store_db.transaction() as store:
        assert await store.claim_delivery("slack:T1:d2", NOW, caller=(ws.id, "U2"))
        bo = await store.person(ws, "U2", "bo", NOW)  # not met yet: created
        assert bo.id != ana.id and (await store.person(ws, "U2", None, NOW)).id == bo.id
    async with store_db.transaction() as store:
        assert await store.claim_delivery("slack:T1:d3", NOW, caller=(ws.id, "U2"))
        assert (await store.person(ws, "U1", None, NOW)).id == ana.id  # asked for another: read as usual
        assert (await store.person(ws, "U2", None, NOW)).id == bo.id
    async with store_db.session() as s:
        from storage.models import Person
        assert sorted(p.display_name for p in (await s.exec(select(Person))).scalars()) == ["ana", "bo"]


async def _claimed_in_a_transaction(store_db, key: str, caller: tuple[int, str]) -> bool:
    """Whether a transaction claiming `key` for `caller`, and writing nothing else, is its
    delivery's first: a retry is refused at once (claim_delivery answers False) or, where the
    claim waits for the transaction's writes (PostgreSQL), at its end (AlreadyHandled)."""
    try:
        async with store_db.transaction() as store:
            if not await store.claim_delivery(key, NOW, caller=caller):
                return False
    except AlreadyHandled:
        return False
    return True


async def test_a_claim_made_with_the_commands_writes_refuses_a_retry_and_keeps_nothing_of_it(store_db):
    """On PostgreSQL a command's claim waits for its writes (Store.claim_delivery): made just
    before COMMIT, or in the one statement of a command whose only write is a new commitment.
    Either way a retry keeps nothing it wrote, and a first delivery keeps everything."""
    from storage.models import ActivityLog, Commitment
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        ana = await store.person(ws, "U1", "ana", NOW)
    assert await _claimed_in_a_transaction(store_db, "slack:T1:d1", (ws.id, "U1"))  # a read-only command's
    for key, last in (("slack:T1:d2", True), ("slack:T1:d3", False)):
        for _attempt in ("first", "retry"):
            try:
                async with store_db.transaction() as store:
                    if not await store.claim_delivery(key, NOW, caller=(ws.id, "U1")):
                        raise AlreadyHandled
                    c, log = _new_commitment(ws, await store.person(ws, "U1", None, NOW), f"commitment of {key}")
                    await store.insert_numbered(c, log, last=last)
            except AlreadyHandled:
                assert _attempt == "retry"
            else:
                assert _attempt == "first"
    assert not await _claimed_in_a_transaction(store_db, "slack:T1:d1", (ws.id, "U1"))
    async with store_db.session() as s:
        made = sorted((c.number, c.what) for c in (await s.exec(select(Commitment))).scalars())
        assert made == [(1, "commitment of slack:T1:d2"), (2, "commitment of slack:T1:d3")]
        assert len((await s.exec(select(ActivityLog))).all()) == 2
    assert ana.id == c.owner_id


async def test_nothing_may_follow_a_commands_one_write_once_it_committed_on_its_own(store_db):
    """Where a command's one write (`last`) commits on its own (PostgreSQL), a statement after it
    would be outside its transaction: it fails loudly instead of being written apart."""
    if store_db.is_sqlite:
        pytest.skip("SQLite writes a command's statements in its transaction, committed at its end: none alone")
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        await store.person(ws, "U1", "ana", NOW)
    with pytest.raises(RuntimeError):
        async with store_db.transaction() as store:
            assert await store.claim_delivery("slack:T1:d1", NOW, caller=(ws.id, "U1"))
            c, log = _new_commitment(ws, await store.person(ws, "U1", None, NOW), "send the deck")
            await store.insert_numbered(c, log, last=True)
            await store.next_number(ws.id, "H")


async def test_an_outbox_key_is_owed_once(store_db):
    async with store_db.session() as s:
        store = Store(s)
        ws = await store.workspace("slack", "T1", NOW)
        args = dict(workspace_id=ws.id, key="handoff.offered:1/H-1:-:2", platform="slack",
                    payload={"text": "hi"}, now=NOW, channel="C1")
        assert await store.enqueue(**args)
        assert not await store.enqueue(**args)
        assert store.enqueued == 1


async def test_a_failed_transaction_leaves_nothing_behind(store_db):
    with pytest.raises(RuntimeError):
        async with store_db.session() as s:
            store = Store(s)
            ws = await store.workspace("slack", "T9", NOW)
            await store.next_number(ws.id, "C")
            raise RuntimeError("handler blew up")
    async with store_db.session() as s:
        store = Store(s)
        ws = await store.workspace("slack", "T9", NOW)
        assert await store.next_number(ws.id, "C") == 1


async def test_a_reading_transaction_never_holds_a_write_up_and_cannot_write(store_db):
    """The dashboard's pages read in Database.reading: a command's write goes through while one is
    open (on SQLite every other transaction takes the write lock), and the reader still sees the
    state it began with; writing through it fails and leaves nothing."""
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
    async with store_db.reading() as reader:
        before = await reader.workspace_people(ws.id)

        async def command_writes() -> None:
            async with store_db.transaction() as store:
                await store.person(await store.workspace("slack", "T1", NOW), "U1", "ana", NOW)

        await asyncio.wait_for(command_writes(), timeout=5)  # would wait for the reader's end if it held the lock
        assert await reader.workspace_people(ws.id) == before == set()  # what it began with
    async with store_db.reading() as reader:
        assert len(await reader.workspace_people(ws.id)) == 1
    with pytest.raises(Exception, match="(?i)read.only|readonly"):
        async with store_db.reading() as reader:
            await reader.person(ws, "U2", "bob", NOW)
    async with store_db.reading() as reader:
        assert len(await reader.workspace_people(ws.id)) == 1


async def test_processes_upgrading_at_once_apply_each_step_once(request, tmp_path):
    from storage.db import Database
    from storage.migrate import upgrade
    from tests.conftest import BACKEND

    async with database_url(BACKEND, tmp_path) as url:
        engines = [Database(url) for _ in range(3)]  # three processes' engines, one database
        try:
            await asyncio.wait_for(asyncio.gather(*(upgrade(e) for e in engines)), 60)
            assert await current_revision(engines[0]) == _head()
        finally:
            for e in engines:
                await e.dispose()


async def test_processes_opening_a_new_sqlite_file_at_once_all_get_in(tmp_path):
    """Three processes' first connections to a new file all switch it to WAL at once: none is
    turned away with "database is locked" (SQLite does not wait there: it would deadlock)."""
    from sqlalchemy import text

    from storage.db import Database

    async def first_read(db: Database) -> int:
        async with db.engine.connect() as conn:
            return (await conn.execute(text("SELECT 1"))).scalar_one()

    for attempt in range(30):  # the race is lost about one start in four
        engines = [Database(f"sqlite+aiosqlite:///{tmp_path / f'new{attempt}.db'}") for _ in range(3)]
        try:
            assert await asyncio.gather(*(first_read(e) for e in engines)) == [1, 1, 1]
            async with engines[0].engine.connect() as conn:
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        finally:
            for e in engines:
                await e.dispose()


async def test_a_row_written_by_insert_new_takes_later_changes_like_any_other(store_db):
    """Store.insert_new (the hot path's INSERT … RETURNING id): the row has its id at once, and a
    change made to it later in the same transaction is written at commit."""
    from datetime import date

    from storage.models import Commitment
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        ana = await store.person(ws, "U1", "ana", NOW)
        c = Commitment(workspace_id=ws.id, number=1, owner_id=ana.id, created_by_id=ana.id, what="send the deck",
                       due_date=date(2026, 11, 27), due_at=NOW, created_at=NOW)
        await store.insert_new(c)
        assert c.id is not None
        c.what = "send the deck and the pricing"
    async with store_db.transaction() as store:
        found = await store.get(Commitment, c.id)
        assert (found.what, found.number, found.due_at) == ("send the deck and the pricing", 1, NOW)


def _new_commitment(ws, owner, what: str):
    from datetime import date

    from storage.models import Commitment, new_row
    row = new_row(Commitment, workspace_id=ws.id, owner_id=owner.id, created_by_id=owner.id, what=what,
                  due_date=date(2026, 11, 27), due_at=NOW, created_at=NOW)
    log = {"workspace_id": ws.id, "at": NOW, "person_id": owner.id, "platform": "slack",
           "action": "commitment.created", "before": None, "after": {"what": what}}
    return row, log


async def test_changes_to_rows_a_command_read_and_wrote_before_any_orm_query_are_saved(store_db):
    """A `commit` runs only prebuilt statements (claim and caller, then numbered insert and log),
    and on PostgreSQL its transaction opens no ORM session (storage/session_on_demand.py). What
    it changes on those rows (a real name learnt for a caller known by id; a commitment's text)
    is still written at commit, and the same rows read through the ORM later in the
    transaction are the very objects it holds."""
    from storage.models import Commitment, Person
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        known_by_id = await store.person(ws, "U1", None, NOW)
    async with store_db.transaction() as store:
        assert await store.claim_delivery("slack:T1:d1", NOW, caller=(ws.id, "U1"))
        caller = await store.person(ws, "U1", "ana", NOW)  # their name learnt: a change to the row read
        c, log = _new_commitment(ws, caller, "send the deck")
        await store.insert_numbered(c, log)
        c.what = "send the deck and the pricing"
    async with store_db.transaction() as store:
        assert (await store.get(Person, known_by_id.id)).display_name == "ana"
        found = await store.get(Commitment, c.id)
        assert (found.ref, found.what) == ("C-1", "send the deck and the pricing")
    async with store_db.transaction() as store:
        assert await store.claim_delivery("slack:T1:d2", NOW, caller=(ws.id, "U1"))
        caller = await store.person(ws, "U1", None, NOW)
        caller.timezone = "Europe/Berlin"
        assert await store.person(ws, "U1", None, NOW) is caller  # read again: the row it holds
        c, log = _new_commitment(ws, caller, "call Acme")
        await store.insert_numbered(c, log)
        assert await store.get(Person, caller.id) is caller and await store.get(Commitment, c.id) is c
    async with store_db.transaction() as store:
        assert (await store.get(Person, caller.id)).timezone == "Europe/Berlin"


async def test_a_command_that_fails_after_its_prebuilt_writes_leaves_nothing_behind(store_db):
    """The same transaction, failing after its claim, numbered insert and log: none of them is
    kept (the retry of the delivery is handled, and takes the same number)."""
    from storage.models import ActivityLog, Commitment
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        ana = await store.person(ws, "U1", "ana", NOW)
    with pytest.raises(RuntimeError):
        async with store_db.transaction() as store:
            assert await store.claim_delivery("slack:T1:d1", NOW, caller=(ws.id, "U1"))
            await store.person(ws, "U1", "ana", NOW)
            c, log = _new_commitment(ws, ana, "send the deck")
            await store.insert_numbered(c, log)
            raise RuntimeError("handler blew up")
    async with store_db.transaction() as store:
        assert await store.claim_delivery("slack:T1:d1", NOW, caller=(ws.id, "U1"))
        c, log = _new_commitment(ws, await store.person(ws, "U1", "ana", NOW), "send the deck")
        await store.insert_numbered(c, log)
        assert c.ref == "C-1"
    async with store_db.session() as s:
        assert len((await s.exec(select(Commitment))).all()) == 1
        assert len((await s.exec(select(ActivityLog))).all()) == 1


async def test_a_record_read_for_a_report_has_the_instants_written_in_utc(store_db):
    """Reads of records (base.read_columns: PostgreSQL converts them in SQL, SQLite in Python)
    give back the instant that was written, as aware UTC, whatever offset it was written with."""
    from datetime import date, timedelta
    from datetime import timezone as tz

    from storage.models import Commitment, new_row
    due = datetime(2026, 11, 20, 17, 30, tzinfo=tz(timedelta(hours=5, minutes=30)))  # 12:00 UTC
    async with store_db.transaction() as store:
        ws = await store.workspace("slack", "T1", NOW)
        ana = await store.person(ws, "U1", "ana", NOW)
        c = new_row(Commitment, workspace_id=ws.id, number=1, owner_id=ana.id, created_by_id=ana.id,
                    what="send the deck", due_date=date(2026, 11, 20), due_at=due, created_at=NOW)
        await store.insert_new(c)
    async with store_db.reading() as store:
        overdue, = await store.overdue_commitments([ana.id], NOW)
    assert overdue.due_at == due and overdue.due_at.utcoffset() == timedelta(0)
    assert (overdue.due_at.hour, overdue.created_at, overdue.closed_at) == (12, NOW, None)


async def test_sqlite_stores_an_instant_as_the_same_utc_text_whichever_way_it_is_written(tmp_path):
    """On SQLite instants are text, compared as text in every report's SQL: the hot path's one-step
    writing (types.UTCDateTime.bind_processor) must write exactly what the ORM writes, and refuse
    a naive datetime as it does."""
    from datetime import date, timedelta
    from datetime import timezone as tz

    from sqlalchemy import text

    from storage.models import Commitment, new_row
    due = datetime(2026, 11, 20, 17, 30, tzinfo=tz(timedelta(hours=5, minutes=30)))  # 12:00 UTC
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        async with db.transaction() as store:
            ws = await store.workspace("slack", "T1", NOW)
            ana = await store.person(ws, "U1", "ana", NOW)

            def commitment(number: int, **instants) -> Commitment:
                return new_row(Commitment, workspace_id=ws.id, number=number, owner_id=ana.id, created_by_id=ana.id,
                               what="w", due_date=date(2026, 11, 20), **instants)
            await store.insert_new(commitment(1, due_at=due, created_at=NOW))  # prebuilt, on sqlite3 itself
            await store.add(commitment(2, due_at=due, created_at=NOW.replace(microsecond=5)))  # the ORM's flush
            with pytest.raises(ValueError, match="naive"):
                await store.insert_new(commitment(3, due_at=due.replace(tzinfo=None), created_at=NOW))
        async with db.session() as s:
            stored = (await s.exec(text("SELECT number, due_at, created_at FROM commitment ORDER BY number"))).all()
    assert [tuple(row) for row in stored] == [(1, "2026-11-20 12:00:00.000000", "2026-11-23 10:00:00.000000"),
                                              (2, "2026-11-20 12:00:00.000000", "2026-11-23 10:00:00.000005")]


async def test_a_postgres_connection_that_died_while_idle_is_replaced_before_a_command_gets_it(tmp_path):
    """The server restarted (or a proxy dropped the connections) while the bot sat idle: the next
    transactions get new connections and succeed, instead of "Something went wrong". A connection
    in use every few seconds is not checked (storage/db.py: _ping_after_idle)."""
    from storage.db import Database
    from storage.migrate import upgrade

    async with database_url("postgres", tmp_path) as url:
        database = Database(url, ping_after_idle_seconds=0.2)
        try:
            await upgrade(database)
            await asyncio.gather(*(_claim(database, f"before:{n}") for n in range(3)))  # three pooled
            assert await _terminate_other_connections(url) >= 3
            await asyncio.sleep(0.3)  # idle past the check's threshold
            claimed = await asyncio.gather(*(_claim(database, f"after:{n}") for n in range(3)))
            assert claimed == [True, True, True]
        finally:
            await database.dispose()


async def test_a_postgres_transaction_whose_connection_died_fails_and_its_connection_is_not_pooled_again(tmp_path):
    """The server ends a connection in the middle of a command (a restart, an admin's
    pg_terminate_backend): that command fails, nothing of it is saved, and the next commands get
    a working connection instead of the dead one back from the pool (storage/pg_transaction.py
    invalidates a connection whose COMMIT or ROLLBACK failed)."""
    from storage.db import Database
    from storage.migrate import upgrade

    async with database_url("postgres", tmp_path) as url:
        database = Database(url)
        try:
            await upgrade(database)
            assert await _claim(database, "before")  # one connection, pooled
            # asyncpg says so in words that depend on when it read the server's goodbye: "connection
            # was closed", "terminating connection", or "another operation is in progress"
            with pytest.raises(Exception, match="(?i)connection|terminat|another operation"):
                async with database.transaction() as store:
                    await store.claim_delivery("lost", NOW)
                    assert await _terminate_other_connections(url) >= 1
            assert [await _claim(database, f"after:{n}") for n in range(3)] == [True, True, True]
            assert await _claim(database, "lost")  # the lost transaction's claim was not saved
        finally:
            await database.dispose()


@pytest.mark.postgres
async def test_the_hot_statements_run_on_asyncpg_itself_under_this_sqlalchemy(tmp_path):
    """storage/hot.py runs a command's statements on the asyncpg connection under SQLAlchemy's
    adapter when it knows that adapter (AsyncpgDriver.fits); an upgrade of SQLAlchemy that
    changed it would quietly send them the slow way, through SQLAlchemy (issue 25)."""
    from storage import hot

    async with database_url("postgres", tmp_path) as url, migrated(url) as database:
        async with database.engine.connect() as connection:
            assert isinstance(hot.driver_of(connection, connection.dialect), hot.AsyncpgDriver)


async def _terminate_other_connections(url: str) -> int:
    """End every other connection to the database at `url`, as a server restart would, and wait
    until they are gone (pg_terminate_backend only signals them); answers how many there were."""
    from tests.postgres import _connect

    admin = await _connect(url.rsplit("/", 1)[1])
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    try:
        killed = await admin.fetchval(f"SELECT count(pg_terminate_backend(pid)) {others}")
        for _ in range(500):
            if not await admin.fetchval(f"SELECT count(*) {others}"):
                break
            await asyncio.sleep(0.01)
        return killed
    finally:
        await admin.close()


async def _claim(database, key: str) -> bool:
    async with database.transaction() as store:
        return await store.claim_delivery(key, NOW)


def test_new_row_makes_the_row_the_models_constructor_makes():
    """storage.models.new_row, the hot path's constructor: the same values, defaults and fields
    set as SQLModel's own; a field the model does not have is refused (the constructor drops it
    without a word, and a misspelt link would be lost)."""
    from datetime import date

    from storage.models import Commitment, new_row
    values = dict(workspace_id=1, owner_id=2, created_by_id=2, what="send the deck", due_date=date(2026, 11, 27),
                  due_at=NOW, created_at=NOW, handoff_id=7)
    made, constructed = new_row(Commitment, **values), Commitment(**values)
    assert made.model_dump() == constructed.model_dump()
    assert (made.status, made.id, made.closed_at) == ("open", None, None)
    assert made.model_fields_set == constructed.model_fields_set == set(values)
    with pytest.raises(TypeError, match="no field colour"):
        new_row(Commitment, colour="red", **values)


async def test_a_command_waits_for_another_process_holding_sqlites_write_lock_without_stalling_the_loop(tmp_path):
    """The write path runs SQLite on the event loop's thread (storage/sqlite_inline.py): while
    another process holds the write lock, BEGIN waits for it in a thread, so the loop keeps
    serving others, and the write goes through once the lock is free."""
    import sqlite3
    import time

    async with database_url("sqlite", tmp_path) as url, migrated(url) as database:
        other = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)  # as another process would
        other.execute("BEGIN IMMEDIATE")
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        async def write() -> int:
            async with database.transaction() as store:
                return (await store.workspace("slack", "T1", NOW)).id

        beat = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writing.done()  # waiting for the lock
        other.execute("ROLLBACK")
        assert await asyncio.wait_for(writing, timeout=10)
        beat.cancel()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert len(ticks) > 20 and max(gaps) < 0.25  # the loop went on while it waited
        other.close()
