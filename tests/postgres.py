"""A PostgreSQL database per test (a new empty one, or a migrated one emptied after its last
test), or a clear skip when the server is not there."""
from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

ADMIN_DSN = os.environ.get("PARTNERBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin():
    import asyncpg

    return await asyncpg.connect(ADMIN_DSN, timeout=3)


def url_of(name: str) -> str:
    """The SQLAlchemy async URL of database `name` on the test server."""
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def create_database(*, template: str | None = None, prefix: str = "pb_test") -> str:
    """A new database (a copy of `template` when given); returns its name. Skips the test,
    saying why, when the server is not there."""
    try:
        admin = await _admin()
    except Exception as error:  # refused, timed out, no such role…
        pytest.skip(f"PostgreSQL not reachable at {ADMIN_DSN} ({error.__class__.__name__}): PostgreSQL pass skipped")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await admin.close()
    return name


async def drop_database(name: str) -> None:
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_postgres_url() -> AsyncIterator[str]:
    """Creates an empty database, yields its SQLAlchemy async URL, drops it afterwards."""
    name = await create_database()
    try:
        yield url_of(name)
    finally:
        await drop_database(name)


class MigratedDatabases:
    """Databases at the latest schema, reused from test to test. Handing one back empties it
    (every row deleted in foreign-key order, every sequence restarted), which leaves it as a
    fresh copy of the template would be: ~30 ms, where CREATE DATABASE … TEMPLATE takes ~400 ms
    on a disk with slow fsync. One that cannot be emptied, or whose schema a test changed, is
    dropped instead."""

    def __init__(self, template: str, schema_version: str, tables_children_first: list[str]):
        self.template = template
        self.schema_version = schema_version
        self._empty_rows = "; ".join(f'DELETE FROM "{table}"' for table in tables_children_first)
        self._free: list[str] = []
        self._made: set[str] = set()

    @classmethod
    async def of(cls, template: str, tables_children_first: list[str]) -> MigratedDatabases:
        connection = await _connect(template)
        try:
            version = await connection.fetchval(SCHEMA_VERSION)
        finally:
            await connection.close()
        return cls(template, version, tables_children_first)

    async def take(self) -> str:
        if self._free:
            return self._free.pop()
        name = await create_database(template=self.template)
        self._made.add(name)
        return name

    async def give_back(self, name: str) -> None:
        try:
            await self._empty(name)
        except Exception:
            self._made.discard(name)
            await drop_database(name)
        else:
            self._free.append(name)

    async def _empty(self, name: str) -> None:
        connection = await _connect(name)
        try:
            # what the test left connected: an engine not disposed, a killed process's session
            await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            if (version := await connection.fetchval(SCHEMA_VERSION)) != self.schema_version:
                raise RuntimeError(f"the test moved the schema to {version}")
            sequences = await connection.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            async with connection.transaction():
                await connection.execute(self._empty_rows)
                for (sequence,) in sequences:
                    await connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
        finally:
            await connection.close()

    async def drop_all(self) -> None:
        for name in self._made:
            await drop_database(name)
        self._made.clear()
        self._free.clear()


SCHEMA_VERSION = "SELECT string_agg(version_num, ',') FROM alembic_version"


async def _connect(name: str):
    import asyncpg

    return await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + "/" + name, timeout=3)
