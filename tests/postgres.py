"""A throwaway PostgreSQL database per test, or a clear skip when the server is not there."""
from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

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
async def fresh_postgres_url(*, template: str | None = None) -> AsyncIterator[str]:
    """Creates a database (empty, or a copy of `template`), yields its SQLAlchemy async URL,
    drops it afterwards."""
    name = await create_database(template=template)
    try:
        yield url_of(name)
    finally:
        await drop_database(name)
