"""What every group of Store methods builds on: the session of the transaction, and the few
statement shapes they share (an INSERT that may conflict, a page of a keyset-ordered query)."""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select, tuple_, union, union_all
from sqlalchemy.orm.util import identity_key
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hot
from storage.models import new_row
from storage.session_on_demand import SessionOnDemand
from storage.types import UTCDateTime, read_as_utc

# Rows of one page of what the tick finds due: one query walks everything due a page at a time,
# each row once, holding no more than a page (keyset paging: a page costs the same however deep).
PAGE = 500

Page = list[tuple[tuple, Any]]  # (cursor, item)
STREAMED = 2000  # rows of a streamed read made at a time
Cursor = tuple | None  # None: from the first


class Queries:
    """A group of Store methods (Store mixes them all in). Only storage/ touches `_session`."""

    _sessions: SessionOnDemand  # the transaction's session, opened at its first use (see there)
    # (workspace id, platform user id) and PERSON_BY_ONE_ID's row for them (None: not met yet),
    # read by claim_delivery for the person() look-up that follows
    _read_ahead: tuple[tuple[int, str], tuple | None] | None
    _driver: hot.SqliteDriver | hot.AsyncpgDriver | None | bool = False  # False: not asked yet (_hot_row)

    @property
    def _session(self) -> AsyncSession:
        return self._sessions.session()

    @property
    def _dialect_name(self) -> str:
        """sqlite or postgresql: asked of the driver when the transaction was given it, so that
        asking does not open the session."""
        if self._driver:
            return self._driver.dialect.name
        return self._session.bind.dialect.name

    def _insert(self, model: Any):
        """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
        return hot.dialect_insert(self._dialect_name, model)

    async def _insert_ignore(self, model: Any, values: dict, conflict: Sequence[str]) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted."""
        stmt = self._insert(model).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
        result = await self._session.exec(stmt)
        return result.rowcount == 1

    async def _core(self, statement, params: dict):
        """A prebuilt Core statement (storage/hot.py) on the transaction's connection: without the
        ORM's handling of a statement, which costs several times the statement itself."""
        return await (await self._session.connection()).execute(statement, params)

    async def _hot_row(self, statement, params: dict) -> tuple | None:
        """The first row a prebuilt statement of storage/hot.py answers (None: no row), run on the
        transaction's driver connection where there is one (see there), else through _core."""
        driver = await self._hot_driver()
        if driver is None:
            found = (await self._core(statement, params)).first()
            return None if found is None else tuple(found)
        return await driver.row(statement, params)

    async def _hot_driver(self) -> hot.SqliteDriver | hot.AsyncpgDriver | None:
        if self._driver is False:  # asked once per transaction (a Store is one)
            self._driver = self._session.info.get(hot.DRIVER) or \
                hot.driver_of(await self._session.connection(), self._session.bind.dialect)
        return self._driver

    def _as_loaded(self, model: Any, values: Sequence) -> Any:
        """A `model` row read by _hot_row (its columns in table order, the id first) as the ORM
        object the session would have loaded: the one it holds already, else a new one it now
        tracks, so that a change to it is written at commit as usual."""
        held = self._sessions.held(identity_key(model, values[0]))
        if held is not None:
            return held
        row = new_row(model, **dict(zip(model.__table__.columns.keys(), values, strict=True)))
        self._track(row)
        return row

    def _track(self, row: Any) -> None:
        """A row written or read outside the ORM (its id set), in the session as if loaded from
        it: a later change to it is written at commit."""
        self._sessions.track(row)

    async def _first(self, query):
        return (await self._session.exec(query)).scalars().first()

    async def _all(self, query) -> list:
        return list((await self._session.exec(query)).scalars().all())

    async def _read_only(self, model: Any, *where, order_by: Sequence = (), streamed: bool = False) -> list:
        """The rows of `model` matching `where`, as read-only records (see `record_class`): a
        report reads thousands, and ORM objects cost several times as much (profiled on the dashboard's
        overview: 284,000 ORM objects took 10 s, 300,000 records 1.3 s). `streamed`: see _streamed."""
        read = plain_read(model, *where, order_by=order_by)
        if streamed:
            return await self._streamed(read.statement, read.make)
        return await self._read(read)

    async def _streamed(self, query, make: Callable[[Any], Any]) -> list:
        """`make` of each row of a read of tens of thousands, STREAMED rows at a time: each batch is
        fetched while the event loop serves others, so the commands this process acks wait for one
        batch (milliseconds), not for the whole read (2 s for the overview's 150,000 commitments)."""
        found: list = []
        async for rows in (await self._session.stream(query)).partitions(STREAMED):
            found.extend(make(row) for row in rows)
        return found

    async def _read(self, read: Read, params: dict | None = None) -> list:
        """The records `read` finds, with `params` for its bound parameters."""
        rows = await self._rows(read.statement, params)
        if read.id_at is not None:  # a UNION ALL: each record once here
            rows = {row[read.id_at]: row for row in rows}.values()
        return [read.make(row) for row in rows]

    async def _rows(self, query, params: dict | None = None) -> list:
        """The rows of a Core SELECT of columns, on the transaction's connection: the ORM's handling
        of a result (session.exec) cost ~4 µs a row more, 13 of the 80 ms of `report P-1` on
        bench/report_scale.py (issue 25), and these rows are no ORM objects anyway."""
        return (await (await self._session.connection()).execute(query, params)).all()

    async def _page(self, query, order: tuple, after: Cursor, item=lambda row: row[-1]) -> Page:
        """The next PAGE rows of `query`, which selects the columns of `order`, after the row
        whose values are `after`; each row's item is its last column (the id) unless `item` says."""
        if after is not None:
            query = query.where(tuple_(*order) > tuple(after))
        rows = (await self._session.exec(query.order_by(*order).limit(PAGE))).all()
        return [(tuple(row), item(row)) for row in rows]


@dataclass(frozen=True)
class Read:
    """A SELECT of read-only records (Queries._read runs it). Those of a report are built once,
    with bound parameters (storage/queries/reports.py): building one cost SQLAlchemy ~0.3 ms, more
    than running it, and a report runs twenty."""

    statement: Any
    make: Callable[[Any], Any]  # a row as its record
    id_at: int | None = None  # where the id is in a row of a UNION ALL, whose duplicates are dropped in Python


def read_columns(model: Any, columns: Sequence[str] | None = None) -> list:
    """What a Read selects of `model`: its `columns` (all when None), each by its own name, the
    UTC instants read as aware ones by the driver itself (types.read_as_utc)."""
    table = model.__table__
    return [read_as_utc(column).label(column.name) if isinstance(column.type, UTCDateTime) else column
            for column in ([table.c[name] for name in columns] if columns else table.c)]


def plain_read(model: Any, *where, order_by: Sequence = (), columns: Sequence[str] | None = None) -> Read:
    """The rows of `model` matching `where`, as records of `columns` (all when None)."""
    query = select(*read_columns(model, columns)).where(*where)
    if order_by:
        query = query.order_by(*order_by)
    return Read(query, record_class(model, tuple(columns) if columns else None)._make)


def union_read(model: Any, searches: Sequence, *where, order_by: Sequence[str] = (), limit: int | None = None,
               columns: Sequence[str] | None = None) -> Read:
    """The rows of `model` found by any of `searches` (each with `where`), each once, as read-only
    records: a UNION of the searches' rows, so that each search uses its own index (an OR of
    them makes PostgreSQL read the whole table; so does `id IN (a UNION of ids)`, which it
    guesses finds half the table). `model` must have no JSON column (no equality).
    With a `limit`, each search keeps only its first `limit` rows before the UNION: the first
    `limit` of all are among them, and a busy partnership's 1,400 open commitments are not all
    read, sorted and deduplicated to show 30 (issue 25). `columns`: only these (the id among
    them, which keeps two records apart), as record_class(model, columns). Without `order_by`
    or `limit` the rows come in no particular order, from a UNION ALL whose duplicates
    Queries._read drops: sorting a busy partnership's 3,700 took 6 ms, and deduplicating them in
    SQLite's temporary B-tree 4 ms more than in a dict."""
    table = model.__table__
    selected = read_columns(model, columns)
    arms = [select(*selected).where(search, *where) for search in searches]
    make = record_class(model, tuple(columns) if columns else None)._make
    if not order_by and limit is None:
        return Read(union_all(*arms), make, [c.name for c in selected].index("id"))
    if limit is not None:  # SQLite allows no LIMIT in a UNION's arm itself: each is a subquery
        order = [table.c[name] for name in order_by]
        arms = [select(*arm.order_by(*order).limit(limit).subquery().c) for arm in arms]
    found = union(*arms).subquery()
    query = select(*found.c).order_by(*(found.c[name] for name in order_by))
    return Read(query.limit(limit) if limit is not None else query, make)


@cache
def record_class(model: Any, columns: tuple[str, ...] | None = None) -> type:
    """A read-only record of `model`'s row: its columns by name (only `columns` when given), and
    its `ref` (C-12) when the model is numbered and its number read; what reports read, never
    written back (it is no ORM object)."""
    names = columns or tuple(column.name for column in model.__table__.c)
    base = namedtuple(f"{model.__name__}Record", names)
    namespace: dict[str, Any] = {"__slots__": ()}
    if hasattr(model, "KIND") and "number" in names:
        namespace["ref"] = property(lambda self, kind=model.KIND: f"{kind}-{self.number}")
    return type(base.__name__, (base,), namespace)
