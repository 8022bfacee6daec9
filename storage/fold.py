"""One person's rows folded into another's: the statements, from whichever schema is given.

Two callers: the store, with the models' metadata, when a Teams user turns out to be two
persons (one met by mention, one who wrote); and migration 0012, with the schema reflected
from the database as it is at that revision (the models may have moved on since). Nothing
here knows a table by name except `person` itself: every column with a foreign key to
person.id is followed, so a table added later is folded without a list to keep in step.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, MetaData, Table, UniqueConstraint, and_, delete, exists, select, tuple_, update


def person_columns(metadata: MetaData) -> tuple[tuple[Table, Column], ...]:
    """Every (table, column) with a foreign key to person.id, in dependency order."""
    return tuple(
        (table, column)
        for table in metadata.sorted_tables
        for column in table.columns
        if any(fk.target_fullname == "person.id" for fk in column.foreign_keys)
    )


def keyed_with(table: Table, column: Column) -> list[list[Column]]:
    """The other columns of each primary key or unique constraint `column` is part of: a
    person may have one row per value of them."""
    keys = [list(table.primary_key.columns)] + [
        list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    return [[c for c in key if c is not column] for key in keys if any(c is column for c in key)]


def same_record(column: Column, others: list[Column], absorbed_id: int, into_id: int):
    """`absorbed_id`'s rows for which `into_id` has a row with the same `others`."""
    if not others:
        return and_(column == absorbed_id, exists(select(column).where(column == into_id)))
    theirs = select(*others).where(column == into_id)
    mine = others[0] if len(others) == 1 else tuple_(*others)
    return and_(column == absorbed_id, mine.in_(theirs))


def fold_statements(columns: Iterable[tuple[Table, Column]], person: Table, absorbed_id: int,
                    into_id: int) -> list:
    """Statements that make every row of `absorbed_id` `into_id`'s and delete `absorbed_id`.
    Where both have a row keyed by person (a partnership membership, a sync answer), `into_id`'s
    stands. Nobody ends up managing themselves."""
    statements: list = []
    for table, column in columns:
        for others in keyed_with(table, column):
            statements.append(delete(table).where(same_record(column, others, absorbed_id, into_id)))
        statements.append(update(table).where(column == absorbed_id).values({column.name: into_id}))
    statements.append(update(person).where(person.c.id == into_id, person.c.manager_id == into_id)
                      .values(manager_id=None))
    statements.append(delete(person).where(person.c.id == absorbed_id))
    return statements


def keeper_fields(keeper: dict, absorbed: dict, ids: set[str]) -> dict:
    """What the keeper's person row takes from the absorbed one: a name where theirs is only
    one of their platform `ids` (a person first seen without a name), and a timezone or a
    manager where theirs is blank."""
    values = {}
    if keeper["display_name"] in ids and absorbed["display_name"] not in ids:
        values["display_name"] = absorbed["display_name"]
    for field in ("timezone", "platform_timezone"):
        if not keeper[field] and absorbed[field]:
            values[field] = absorbed[field]
    if not keeper["manager_id"] and absorbed["manager_id"] not in (None, keeper["id"]):
        values["manager_id"] = absorbed["manager_id"]
    return values
