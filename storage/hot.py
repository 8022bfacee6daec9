"""The statements every command runs, built once per dialect with bind parameters.

Why: building a statement is most of what executing it costs through SQLAlchemy (coercing each
column and value, then computing the cache key that finds its compiled form). Measured on the
2-core bench machine (bench/slash_ack.py's host, issue 25): the caller's person lookup took
860 µs built per call and 320 µs prebuilt; the same held for the counter, the delivery claim and
the activity log row. A statement built once keeps its cache key, and only its values change.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import ActivityLog, Counter, Identity, Person, ProcessedDelivery


def dialect_insert(dialect: str, model):
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


@cache
def claim_delivery(dialect: str):
    """A platform delivery id, once (a retry of it inserts nothing)."""
    return dialect_insert(dialect, ProcessedDelivery).values(key=bindparam("key"), at=bindparam("at")) \
        .on_conflict_do_nothing(index_elements=["key"])


@cache
def take_numbers(dialect: str):
    """`count` more reference numbers of a kind: the last one taken."""
    count = bindparam("count")
    return (dialect_insert(dialect, Counter)
            .values(workspace_id=bindparam("workspace_id"), kind=bindparam("kind"), value=count)
            .on_conflict_do_update(index_elements=["workspace_id", "kind"], set_={"value": Counter.value + count})
            .returning(Counter.value))


@cache
def insert_returning_id(table):
    """A new row of `table` (its values with each execution), answering its id."""
    return table.insert().returning(table.c.id)


LOG_ROW = ActivityLog.__table__.insert()  # its values come with each execution, as a dict


# the caller by one platform id: their main one, or (Teams) the 29:… one mentions carry
PERSON_BY_ONE_ID = (
    select(Person, Identity.id, Identity.email).join(Identity, Identity.person_id == Person.id)
    .where(Identity.workspace_id == bindparam("workspace_id"),
           or_(Identity.external_id == bindparam("external_id"),
               Identity.channel_account_id == bindparam("external_id")))
)
