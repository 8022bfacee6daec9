"""Column types that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offset, PostgreSQL's would differ."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)

    def bind_processor(self, dialect):
        """process_bind_param in one call per value on SQLite: the text SQLAlchemy's DATETIME
        writes there ("2026-10-12 03:37:47.000000"), made by isoformat. Why: a `commit` writes
        six instants, and TypeDecorator's two steps (process_bind_param, then the dialect's
        formatting) were 3 % of its CPU (bench/slash_ack.py, issue 25)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        utc = timezone.utc

        def as_stored(value: datetime | None):
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(utc).replace(tzinfo=None).isoformat(" ", "microseconds")
        return as_stored

    def result_processor(self, dialect, coltype):
        """process_result_value in one call per value: a report reads ~25,000 of these, and
        TypeDecorator's reading (the dialect's parse, then process_result_value's replace) took
        0.8 µs each, 20 of the 80 ms of `report P-1` on bench/report_scale.py (issue 25). SQLite
        hands back the text SQLAlchemy wrote ("2026-10-12 03:37:47.000000"): one fromisoformat
        of it as UTC takes 0.1 µs."""
        if dialect.name == "sqlite":
            parse = datetime.fromisoformat
            return lambda value: None if value is None else parse(value + "+00:00")
        read = self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype)
        utc = timezone.utc
        if read is None:  # the driver hands back datetime objects (asyncpg)
            return lambda value: None if value is None else value.replace(tzinfo=utc)
        return lambda value: None if value is None else read(value).replace(tzinfo=utc)


class _ReadAsUTC(TypeDecorator):
    """The type of read_as_utc(column): aware UTC, as UTCDateTime reads it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql" and dialect.driver == "asyncpg":
            return None  # a timestamptz: asyncpg hands back an aware datetime in UTC
        return UTCDateTime().result_processor(dialect, coltype)


class read_as_utc(FunctionElement):  # lower case, as SQLAlchemy names its SQL functions
    """A UTCDateTime column in a SELECT's columns, read as aware UTC by the database's driver where
    it can (PostgreSQL: `timezone('UTC', column)`, a timestamptz, which asyncpg decodes aware in
    C), elsewhere as UTCDateTime reads it. Why: a report reads ~13,000 of these, and attaching
    UTC to each naive value in Python was a third of `report P-1`'s CPU on PostgreSQL
    (bench/report_scale.py, issue 25)."""

    inherit_cache = True
    type = _ReadAsUTC()
    name = "read_as_utc"


@compiles(read_as_utc)
def _as_stored(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(read_as_utc, "postgresql")
def _as_timestamptz(element, compiler, **kw):
    return f"timezone('UTC', {compiler.process(element.clauses, **kw)})"
