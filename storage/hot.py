"""The statements every command runs, built once per dialect with bind parameters, and run on
the transaction's driver connection itself (see "run on the driver itself" below).

Why: building a statement is most of what executing it costs through SQLAlchemy (coercing each
column and value, then computing the cache key that finds its compiled form). Measured on the
2-core bench machine (bench/slash_ack.py's host, issue 25): the caller's person lookup took
860 µs built per call and 320 µs prebuilt; the same held for the counter, the delivery claim and
the activity log row. A statement built once keeps its cache key, and only its values change.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam, cast, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import ActivityLog, Counter, Identity, Person, ProcessedDelivery
from storage.sqlite_inline import InlineConnection


def dialect_insert(dialect: str, model):
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


@cache
def claim_delivery(dialect: str):
    """A platform delivery id, once: its key when inserted, no row for a retry of it."""
    return dialect_insert(dialect, ProcessedDelivery).values(key=bindparam("key"), at=bindparam("at")) \
        .on_conflict_do_nothing(index_elements=["key"]).returning(ProcessedDelivery.key)


# whether a platform delivery id was claimed (a retry's, once its command refused)
DELIVERY_HANDLED = select(ProcessedDelivery.key).where(ProcessedDelivery.key == bindparam("key"))


@cache
def take_numbers(dialect: str):
    """`count` more reference numbers of a kind: the last one taken."""
    count = bindparam("count")
    return (dialect_insert(dialect, Counter)
            .values(workspace_id=bindparam("workspace_id"), kind=bindparam("kind"), value=count)
            .on_conflict_do_update(index_elements=["workspace_id", "kind"], set_={"value": Counter.value + count})
            .returning(Counter.value))


@cache
def column_names(table, *leaving_out: str) -> tuple[str, ...]:
    """The names of `table`'s columns but `leaving_out`, in table order."""
    return tuple(column.name for column in table.columns if column.name not in leaving_out)


@cache
def insert_returning_id(table):
    """A new row of `table` (its values with each execution), answering its id."""
    return table.insert().returning(table.c.id)


LOG_ROW = ActivityLog.__table__.insert()  # its values come with each execution, as a dict


@cache
def numbered_and_logged(table, claiming: bool = False):
    """PostgreSQL: the next number of the row's workspace and kind taken, the row of `table`
    written with it and its creation logged, in one statement answering (id, number). Why: the
    counter's row stays locked until COMMIT, and every command of a workspace takes it; taken in
    its own statement, it was held over three round trips, and under 16 connections the others
    queued on it (pg_stat_activity: Lock/transactionid; bench/slash_ack.py, issue 25). Values: the
    row's columns but id and number, `kind`, `count` (1), `ref_prefix` ("C-") and log_<column>
    for the log row's columns but id, workspace_id and record.

    `claiming`: the command's delivery claimed in the same statement too (`key`, `at`), and
    nothing written unless that claim is new (no row answered for a retry): a command whose only
    write this is runs it alone, without BEGIN and COMMIT (Store.insert_numbered)."""
    log = ActivityLog.__table__
    if claiming:
        claimed = claim_delivery("postgresql").cte("claimed")
        count = bindparam("count", type_=Counter.value.type)
        taken = (postgresql.insert(Counter)
                 .from_select(["workspace_id", "kind", "value"],
                              select(bindparam("workspace_id", type_=Counter.workspace_id.type),
                                     bindparam("kind", type_=Counter.kind.type), count)
                              .where(select(claimed.c.key).exists()))
                 .on_conflict_do_update(index_elements=["workspace_id", "kind"], set_={"value": Counter.value + count})
                 .returning(Counter.value).cte("taken"))
    else:
        taken = take_numbers("postgresql").cte("taken")
    columns = [c for c in table.columns if c.name not in ("id", "number")]
    made = (table.insert()
            .from_select([*(c.name for c in columns), "number"],
                         select(*(bindparam(c.name, type_=c.type) for c in columns), taken.c.value))
            .returning(table.c.id, table.c.number).cte("made"))
    logged = [c for c in log.columns if c.name not in ("id", "workspace_id", "record")]
    ref = bindparam("ref_prefix", type_=log.c.record.type) + cast(made.c.number, log.c.record.type)
    return (log.insert()
            .from_select(["workspace_id", *(c.name for c in logged), "record"],
                         select(bindparam("workspace_id", type_=log.c.workspace_id.type),
                                *(bindparam(f"log_{c.name}", type_=c.type) for c in logged), ref))
            .returning(select(made.c.id).scalar_subquery(), select(made.c.number).scalar_subquery()))


# the caller by one platform id: their main one, or (Teams) the 29:… one mentions carry; the
# person's columns in table order (Queries._as_loaded), then their identity's id and email
PERSON_BY_ONE_ID = (
    select(*Person.__table__.c, Identity.id, Identity.email).join(Identity, Identity.person_id == Person.id)
    .where(Identity.workspace_id == bindparam("workspace_id"),
           or_(Identity.external_id == bindparam("external_id"),
               Identity.channel_account_id == bindparam("external_id")))
)


# --- run on the driver itself -------------------------------------------------------------------
# Why: even prebuilt, a statement through SQLAlchemy's async engine costs ~150 µs of Python (a
# greenlet switch, the execution context, the result's metadata) around ~20 µs of SQLite; a
# `commit` runs five (issue 25: 1,150 → 640 µs a command, bench/slash_ack.py 0.41 → 0.64× the
# bare bolt app). So these statements are compiled once to the driver's SQL and run on the
# driver connection of the transaction (SqliteDriver, AsyncpgDriver), their values passed through
# the type processors SQLAlchemy itself applies: what is written reads back exactly as if
# SQLAlchemy had written it, and it is in the same transaction as the rest of the command.

@dataclass(frozen=True)
class DriverForm:
    """A statement as its driver runs it: SQL text, the order of its values, their processors."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    result_processors: tuple[Callable[[Any], Any] | None, ...]

    def arguments(self, params: dict) -> list:
        return [params[name] if process is None else process(params[name])
                for name, process in zip(self.names, self.processors, strict=True)]

    def row(self, found) -> tuple | None:
        if found is None:
            return None
        return tuple(value if process is None else process(value)
                     for value, process in zip(found, self.result_processors, strict=True))


@lru_cache(maxsize=256)
def driver_form(statement, dialect, keys: tuple[str, ...]) -> DriverForm:
    """`statement` compiled for `dialect` (a positional paramstyle), with values for `keys`."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) if statement.is_insert else None)
    if compiled.insert_prefetch or compiled.update_prefetch:  # a Python-side default no caller passed
        raise ValueError(f"values missing for {statement}: {compiled.insert_prefetch + compiled.update_prefetch}")
    processors = compiled._bind_processors  # noqa: SLF001 - what SQLAlchemy itself applies to each value
    names = tuple(compiled.positiontup or ())
    results = tuple(column.type._cached_result_processor(dialect, None)  # noqa: SLF001 - as its Result would
                    for column in compiled._result_columns)  # noqa: SLF001
    return DriverForm(compiled.string, names, tuple(processors.get(name) for name in names), results)


class SqliteDriver:
    """The sqlite3 connection of a transaction on the write path (storage/sqlite_inline.py): a
    statement runs right here, on the loop's thread, in the transaction BEGIN IMMEDIATE opened."""

    def __init__(self, connection, dialect):
        self.connection, self.dialect = connection, dialect

    async def row(self, statement, params: dict) -> tuple | None:
        form = driver_form(statement, self.dialect, tuple(params))
        cursor = self.connection.execute(form.sql, form.arguments(params))
        try:
            return form.row(cursor.fetchone())
        finally:
            cursor.close()  # an INSERT … RETURNING is complete only once its cursor is done


class AsyncpgDriver:
    """The asyncpg connection under SQLAlchemy's adapter of it: a statement is prepared once per
    connection (in the adapter's own cache of prepared statements) and runs in the adapter's
    transaction, begun here when it is the transaction's first (as the adapter would).

    One per transaction, it also holds the command's delivery claim while it waits to be made
    (`claim`: its key and instant; see Store.claim_delivery), and knows when the transaction's
    one write was made alone (`written_alone`: nothing may follow it)."""

    def __init__(self, adapted, dialect):
        self.adapted, self.dialect = adapted, dialect
        self.claim: dict | None = None
        self.written_alone = False

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction was begun (by a statement here, or by the ORM through the adapter)."""
        return self.adapted._transaction is not None  # noqa: SLF001 - see fits()

    @staticmethod
    def fits(adapted) -> bool:
        """SQLAlchemy's asyncpg adapter, as this knows it (else the statements go through SQLAlchemy)."""
        return _adapter_fits(type(adapted))

    async def row(self, statement, params: dict, *, begin: bool = True) -> tuple | None:
        """The statement's first row. `begin`: begin the transaction first if none was (False:
        the statement runs as its own transaction when none was begun)."""
        if self.written_alone:
            raise RuntimeError("a statement after the transaction's one write, which was committed on its own")
        form = driver_form(statement, self.dialect, tuple(params))
        adapted = self.adapted
        async with adapted._execute_mutex:  # noqa: SLF001 - see fits()
            if begin and adapted._transaction is None:  # noqa: SLF001
                await adapted._start_transaction()  # noqa: SLF001
            prepared, _ = await adapted._prepare(form.sql, self.dialect._invalidate_schema_cache_asof)  # noqa: SLF001
            return form.row(await prepared.fetchrow(*form.arguments(params)))

    async def commit(self) -> None:
        """COMMIT on asyncpg itself (pg_transaction.py), as the adapter's commit would: the
        adapter then holds no transaction (none begun: nothing to send)."""
        adapted = self.adapted
        if adapted._transaction is not None:  # noqa: SLF001 - see fits()
            await adapted._call_and_discard(adapted._transaction.commit)  # noqa: SLF001

    async def rollback(self) -> None:
        """ROLLBACK on asyncpg itself, as commit()."""
        adapted = self.adapted
        if adapted._transaction is not None:  # noqa: SLF001 - see fits()
            await adapted._call_and_discard(adapted._transaction.rollback)  # noqa: SLF001


@cache  # asked at every transaction's start: once per adapter class is enough
def _adapter_fits(adapter: type) -> bool:
    return all(hasattr(adapter, name) for name in ("_execute_mutex", "_transaction", "_start_transaction",
                                                   "_prepare", "_connection", "_call_and_discard"))


# a session's info key: the driver its transaction already knows (group_commit.py, pg_transaction.py)
DRIVER = "hot_driver"


def driver_of(connection, dialect) -> SqliteDriver | AsyncpgDriver | None:
    """The driver a transaction's hot statements run on (`connection`: its SQLAlchemy one), or
    None where they go through SQLAlchemy (SQLite's readers and in-memory databases, whose
    driver, aiosqlite, runs each call in its own thread)."""
    pooled = connection.sync_connection.connection
    if isinstance(pooled.driver_connection, InlineConnection):
        return SqliteDriver(pooled.driver_connection.sqlite, dialect)
    if dialect.driver == "asyncpg" and AsyncpgDriver.fits(pooled.dbapi_connection):
        return AsyncpgDriver(pooled.dbapi_connection, dialect)
    return None
