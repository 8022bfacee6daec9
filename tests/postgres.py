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


@asynccontextmanager
async def fresh_postgres_url() -> AsyncIterator[str]:
    """Creates a database, yields its SQLAlchemy async URL, drops it afterwards."""
    try:
        admin = await _admin()
    except Exception as error:  # refused, timed out, no such role…
        pytest.skip(f"PostgreSQL not reachable at {ADMIN_DSN} ({error.__class__.__name__}): PostgreSQL pass skipped")
    name = f"pb_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
