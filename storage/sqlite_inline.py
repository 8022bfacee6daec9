"""SQLite for the write path with its statements run on the event loop's own thread, under
SQLAlchemy's aiosqlite dialect (`Dialect`, the URL's sqlite+partnerbot_inline; the connections
are made by `creator`, handed to the engine as `async_creator`).

Why: through aiosqlite every DBAPI call (execute, fetchall, commit…) is a hand-off to its
worker thread and back, two thread switches and an event-loop wake-up, while the statement a
command runs takes tens of microseconds. A slash command made about 25 such calls: most of its
cost was the hand-offs (issue 25, bench/slash_ack.py). Here the call runs where it is made.

What could block the loop is SQLite waiting for a lock, and only BEGIN IMMEDIATE waits (in WAL
the writer holds the lock, and readers never wait): it is tried without waiting first, and only
when another process holds the lock does it wait in a thread, up to the busy timeout.
Long reads (the dashboard, streamed overview) keep their own aiosqlite engine (Database.reading),
where a slow query waits in a thread instead of holding up every command.
"""
from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

BUSY_TIMEOUT_MS = 10_000
DRIVER_NAME = "partnerbot_inline"  # the URL's driver for it: sqlite+partnerbot_inline (see Dialect)


class InlineCursor:
    """aiosqlite's Cursor, as SQLAlchemy's adapter uses it, over a sqlite3 cursor."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor):
        self._connection, self._cursor = connection, cursor

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        if sql.lstrip()[:5].upper() == "BEGIN":
            await self._connection.begin(self._cursor, sql)
        else:
            self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, seq_of_parameters: Any) -> InlineCursor:
        self._cursor.executemany(sql, seq_of_parameters)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self):
        return self

    async def __anext__(self):
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _RunNow:
    """aiosqlite's request queue, which SQLAlchemy's isolation-level setter puts a call on."""

    @staticmethod
    def put_nowait(item) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed back through the future, as aiosqlite does
            future.set_exception(error)


class InlineConnection:
    """aiosqlite's Connection, as SQLAlchemy's adapter uses it, over a sqlite3 connection."""

    def __init__(self, connection: sqlite3.Connection):
        self._conn = self._connection = connection
        self._tx = _RunNow()

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself: what storage/hot.py runs a command's statements on."""
        return self._conn

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def begin(self, cursor: sqlite3.Cursor, sql: str) -> None:
        """BEGIN at once when the write lock is free; else wait for it in a thread."""
        conn = self._conn
        conn.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(sql)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await asyncio.to_thread(cursor.execute, sql)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args, **kwargs) -> None:
        self._conn.create_function(*args, **kwargs)


class Dialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect, with SAVEPOINT, RELEASE and ROLLBACK TO sent to SQLite as
    they are. Why: a command whose ORM session opens takes a SAVEPOINT of its own inside its
    transaction's (storage/group_commit.py), and SQLAlchemy builds, compiles and executes a new
    clause for each (the savepoint clauses are not cached): ~0.3 ms of a command's ~2 ms on the
    2-core bench machine (issue 25)."""

    supports_statement_cache = True  # what it compiles is the aiosqlite dialect's, cached as there

    def do_savepoint(self, connection, name: str) -> None:
        _sqlite_of(connection).execute(f"SAVEPOINT {name}")  # SQLAlchemy's names: sa_savepoint_<n>

    def do_release_savepoint(self, connection, name: str) -> None:
        _sqlite_of(connection).execute(f"RELEASE SAVEPOINT {name}")

    def do_rollback_to_savepoint(self, connection, name: str) -> None:
        _sqlite_of(connection).execute(f"ROLLBACK TO SAVEPOINT {name}")


def _sqlite_of(connection) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy Connection of an engine made with `creator`."""
    return connection.connection.driver_connection.sqlite


registry.register(f"sqlite.{DRIVER_NAME}", __name__, "Dialect")


def creator(path: str):
    """The `async_creator` of an engine on the SQLite file at `path`."""

    async def connect() -> InlineConnection:
        # check_same_thread off: BEGIN may wait in a worker thread, one user at a time
        return InlineConnection(sqlite3.connect(path, check_same_thread=False, isolation_level=None))

    return connect
