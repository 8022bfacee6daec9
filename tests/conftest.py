"""Shared fixtures: a migrated database per test, a fixed clock, a way to type commands."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from bot.config import load_settings
from handlers.dispatch import Dispatcher
from handlers.model import Command
from storage.db import Database
from storage.migrate import upgrade

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


@pytest.fixture
async def db(tmp_path):
    database = Database(os.environ.get("PARTNERBOT_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path}/pb.db")
    await upgrade(database)
    yield database
    await database.dispose()


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
