"""Shared fixtures: a migrated database per test, a fixed clock, a way to type commands."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from bot.config import load_settings
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Command
from storage.db import Database
from storage.migrate import upgrade
from tests.postgres import MigratedDatabases, create_database, drop_database, fresh_postgres_url, url_of

pytest_plugins = ["tests.fakes.browser"]  # the `browser` fixture (headless Chromium)

# Mon 23 Nov 2026, 10:00 UTC: "fri" is the 27th, "next week" the 30th.
FIXED_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


class FixedClock:
    def __init__(self, now: datetime = FIXED_NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml here: built-in defaults
    return load_settings({})


# The backend every database test runs on: sqlite (default) or postgres.
BACKEND = os.environ.get("PARTNERBOT_TEST_BACKEND", "sqlite")

# The schema, built once per test run by the real migrations: a test's `db` is a copy of it (a
# file copy on SQLite; on PostgreSQL a database of MigratedDatabases, made with CREATE DATABASE
# … TEMPLATE and emptied for the next test), about a tenth of the time of migrating every
# test's database. Migrations from empty stay tested: test_storage, and every process started on
# an empty `db_url` (as `serve` and `tick` migrate at start).
_schema_templates: dict[str, str] = {}  # backend -> SQLite file / PostgreSQL database
_migrated_postgres: list[MigratedDatabases] = []  # at most one, made on first use


async def _schema_template(backend: str) -> str:
    if backend not in _schema_templates:
        if backend == "postgres":
            name = await create_database(prefix="pb_template")
            try:
                async with migrated(url_of(name)):
                    pass
            except BaseException:
                await drop_database(name)
                raise
            _schema_templates[backend] = name
        else:
            path = Path(tempfile.mkdtemp(prefix="pb_template_")) / "schema.db"
            async with migrated(f"sqlite+aiosqlite:///{path}"):
                pass
            _schema_templates[backend] = str(path)
    return _schema_templates[backend]


async def _migrated_postgres_databases() -> MigratedDatabases:
    if not _migrated_postgres:
        children_first = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
        _migrated_postgres.append(await MigratedDatabases.of(await _schema_template("postgres"), children_first))
    return _migrated_postgres[0]


@pytest.fixture(scope="session", autouse=True)
def _drop_schema_templates():
    yield
    if _migrated_postgres:
        asyncio.run(_migrated_postgres.pop().drop_all())
    if name := _schema_templates.pop("postgres", None):
        asyncio.run(drop_database(name))
    if path := _schema_templates.pop("sqlite", None):
        shutil.rmtree(Path(path).parent, ignore_errors=True)


@asynccontextmanager
async def database_url(backend: str, tmp_path, *, schema: bool = False) -> AsyncIterator[str]:
    """A database of the test's own: empty, or with `schema` already at the latest migration."""
    if backend == "postgres" and schema:
        databases = await _migrated_postgres_databases()
        name = await databases.take()
        try:
            yield url_of(name)
        finally:
            await databases.give_back(name)
    elif backend == "postgres":
        async with fresh_postgres_url() as url:
            yield url
    else:
        path = tmp_path / "pb.db"
        if schema:
            shutil.copyfile(await _schema_template(backend), path)
        yield f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def db_url(request, tmp_path):
    """The test's database. At the latest schema when the test uses `db` or `schema_url`;
    otherwise empty, for a process that migrates it at start as `serve` does."""
    schema = bool({"db", "schema_url"} & set(request.fixturenames))
    async with database_url(BACKEND, tmp_path, schema=schema) as url:
        yield url


@pytest.fixture
def schema_url(db_url) -> str:
    """The test's database already at the latest schema, for a bot built in the test process:
    its upgrade() then only checks. Migrating from empty is test_storage's, and every process
    started on an empty `db_url` does it."""
    return db_url


@pytest.fixture
async def db(db_url):
    async with migrated(db_url) as database:  # already at the latest schema: this only checks
        yield database


@pytest.fixture
def clock():
    return FixedClock()


class Chat:
    """Types commands as console-like users of one workspace."""

    def __init__(self, dispatcher: Dispatcher, platform: str = "console", workspace: str = "acme"):
        self.dispatcher, self.platform, self.workspace = dispatcher, platform, workspace

    async def say(self, user: str, text: str, **kw):
        return await self.dispatcher.dispatch(
            Command(platform=self.platform, workspace=self.workspace, user=user, user_name=user, text=text, **kw))


@pytest.fixture
def chat(db, settings, clock):
    return Chat(Dispatcher(db, settings, default_registry(), clock))


@pytest.fixture
def bot(db, settings, clock):
    """A chat plus the cadence tick on one clock (tests.helpers.Clocked)."""
    from tests.helpers import Clocked

    return Clocked(db, settings, clock)


@pytest.fixture
async def fake_slack():
    """The Slack Web API on loopback (point SLACK_API_URL at fake_slack.url)."""
    from tests.fakes.slack_api import FakeSlackApi

    fake = await FakeSlackApi().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def connector():
    """The Bot Framework connector on loopback: Teams activities name it as their serviceUrl."""
    from tests.fakes.teams_connector import FakeConnector

    fake = await FakeConnector().start()
    yield fake
    await fake.stop()
