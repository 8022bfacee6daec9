"""Shared fixtures: a migrated database per test, a fixed clock, a way to type commands."""
from __future__ import annotations

import os
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

import pytest

from bot.config import load_settings
from handlers.dispatch import Dispatcher
from handlers.model import Command
from storage.db import Database
from storage.migrate import upgrade
from tests.postgres import fresh_postgres_url

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


@asynccontextmanager
async def database_url(backend: str, tmp_path) -> AsyncIterator[str]:
    if backend == "postgres":
        async with fresh_postgres_url() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path}/pb.db"


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def db_url(tmp_path):
    async with database_url(BACKEND, tmp_path) as url:
        yield url


@pytest.fixture
async def db(db_url):
    async with migrated(db_url) as database:
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
    return Chat(Dispatcher(db, settings, clock))


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
