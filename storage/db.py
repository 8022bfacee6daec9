"""Engine and transactions. SQLite gets WAL, a busy timeout and one writer at a time."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import pg_transaction, sqlite_inline
from storage.counter_queue import CounterQueue
from storage.group_commit import GroupCommit
from storage.store import Store

# A pooled PostgreSQL connection unused this long is checked before a transaction gets it.
PING_AFTER_IDLE_SECONDS = 10.0


class Database:
    """Owns the engine; hands out transactions: a Store for code outside storage/, a session inside it."""

    def __init__(self, url: str, *, echo: bool = False, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10)
        # a plain SQLite file: the write path's statements run on the loop's own thread
        # (sqlite_inline.py), and concurrent transactions commit together (group_commit.py)
        inline = self.is_sqlite and not _is_memory(url) and not make_url(url).query
        engine_url = url
        if inline:
            kwargs.update(async_creator=sqlite_inline.creator(make_url(url).database))
            engine_url = make_url(url).set(drivername=f"sqlite+{sqlite_inline.DRIVER_NAME}")
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        # SQLite allows one writer; queueing here is cheaper than sleeping in its busy handler.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _ping_after_idle(self.engine, ping_after_idle_seconds)
        self._read_engine: AsyncEngine | None = None  # SQLite's readers: see reading()
        self.group_commit = GroupCommit(self.engine, self._write_lock) if inline else None
        # PostgreSQL: this process's transactions take turns at a reference counter (see there);
        # SQLite has one writer at a time anyway
        self.counters = None if self.is_sqlite else CounterQueue()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        if self.group_commit is not None:
            async with self.group_commit.session() as s:
                yield s
        elif self._write_lock is not None:
            async with self._write_lock:
                async with self._session() as s:
                    yield s
        else:  # PostgreSQL
            async with pg_transaction.session(self.engine) as s:
                yield s

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        """The Store of one transaction: what handlers and the wiring work through (committed
        on success, rolled back on error)."""
        # its ORM session opened only if something uses it (storage/session_on_demand.py)
        if self.group_commit is not None:
            async with self.group_commit.transaction() as (sessions, driver):
                yield Store(sessions, driver=driver)
        elif not self.is_sqlite:
            async with pg_transaction.store(self.engine, self.counters) as store:
                yield store
        else:  # an in-memory SQLite database, or one whose URL has options: SQLAlchemy's way
            async with self.session() as session:
                yield Store(session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Store]:
        """The Store of a transaction that only reads (the dashboard's pages): it sees one
        consistent state and never waits for, nor holds up, a writer. On SQLite every other
        transaction takes the write lock at BEGIN (see _on_begin), so a page that reads for a
        second would hold every command up that long; here it reads from its own connection in
        a deferred transaction, which WAL lets run beside the writer. On PostgreSQL it is a
        REPEATABLE READ, READ ONLY transaction. Either way all its statements see one state, and
        writing through it fails."""
        if self.is_sqlite and _is_memory(self.url):  # one connection holds that database: share it
            async with self.transaction() as store:
                yield store
            return
        engine = self.engine
        if self.is_sqlite:
            if self._read_engine is None:
                self._read_engine = create_async_engine(self.url)
                _configure_sqlite(self._read_engine, begin="BEGIN", query_only=True)
            engine = self._read_engine
        async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as s:
            async with s.begin():
                if not self.is_sqlite:
                    # one snapshot for all its statements, like SQLite's reader (a read-only
                    # transaction never fails to serialize)
                    await s.exec(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
                yield Store(s)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        # autoflush off: Store.add flushes when a handler needs an id; everything else is
        # flushed once at commit instead of before every query.
        async with AsyncSession(self.engine, expire_on_commit=False, autoflush=False) as s:
            async with s.begin():
                yield s

    async def dispose(self) -> None:
        if self.group_commit is not None:
            await self.group_commit.close()
        await self.engine.dispose()
        if self._read_engine is not None:
            await self._read_engine.dispose()


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection that sat idle for `idle_seconds` before handing it out; one
    found dead (the server restarted, a proxy dropped it) is replaced, and so is every other
    connection pooled before it. Why not SQLAlchemy's pool_pre_ping: it checks every checkout,
    and asyncpg's check is three round trips (BEGIN, an empty query, ROLLBACK), where a `commit`
    command makes two of its own (issue 25: bench/slash_ack.py --postgres 289 -> 366 req/s without
    them, when it made five).
    A connection in use every few seconds is alive; one that dies in use fails its transaction,
    which the user is told, and the pool is then renewed (SQLAlchemy's disconnect handling)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as dead:
            raise InvalidatePoolError(f"a pooled connection idle for {time.monotonic() - idle_since:.0f} s "
                                      f"did not answer: {dead}") from dead


def _is_memory(url: str) -> bool:
    database = make_url(url).database
    return database in (None, "", ":memory:") or "mode=memory" in url


def _configure_sqlite(engine: AsyncEngine, begin: str = "BEGIN IMMEDIATE", query_only: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let BEGIN below decide when transactions start (pysqlite's own handling defers them).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # first: without it, the pragmas below fail at once with "database is locked" while
        # another process is writing, instead of waiting their turn
        cursor.execute("PRAGMA busy_timeout=10000")
        _use_wal(cursor)
        # NORMAL in WAL mode: a commit survives the process being killed; only an OS crash
        # or power loss can take the last commits back.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if query_only:  # a reader's connection: any write through it fails at once
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front: two processes (serve + console) upgrading a
        # read lock at once would deadlock and one would fail with "database is locked".
        # Readers (Database.reading) begin a deferred transaction, which never takes it.
        conn.exec_driver_sql(begin)


WAL_SWITCH_SECONDS = 10.0  # as long as the busy timeout


def _use_wal(cursor) -> None:
    """Switch the file to WAL, which it then stays in. Two connections switching a new file at
    once (`serve` and `partnerbot tick` starting together, replicas migrating) each hold a read
    lock and want the exclusive one: SQLite answers one of them "database is locked" at once,
    without its busy timeout, because waiting would deadlock (1 start in 4 of three at once, in
    a loop of 200). Once the other has switched it, the pragma has nothing to do: so try again."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as error:  # the driver's OperationalError, as the adapter raises it
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # only while a new file is being switched: at first start
