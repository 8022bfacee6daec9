"""Reading the database the way an auditor would: what was saved, logged and owed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Reply
from handlers.kernel.runner import Runner
from storage.db import Database
from storage.models import (
    ActivityLog,
    Ask,
    Commitment,
    ExportToken,
    Handoff,
    Lead,
    Meeting,
    MeetingSeries,
    OutboxMessage,
    Partnership,
    PartnershipGoal,
    PartnershipInvite,
    PartnershipMember,
    Person,
    Pulse,
    PulseAnswer,
    Win,
    WinCredit,
)

# For tests that run days of ticks in seconds: Slack's pace of a message a second per channel
# would make every further message to one person wait a real second (a minute and a half of
# the suite). The pace has tests of its own (tests/bot/test_throttling.py, tests/bot/test_outbox.py).
NO_SLACK_PACE = {"PARTNERBOT_OUTBOX__SLACK_CHANNEL_SECONDS": "0"}

# Teams as the tests run it, set the way a user trying Partnerbot with the Bot Framework Emulator
# would: the endpoint open without an app id (on loopback only), replies to the fake connector
# on loopback. Authenticated and refused requests have their own tests (tests/adapters/test_teams_trust.py).
TEAMS_ON_LOOPBACK = {"PARTNERBOT_TEAMS__UNAUTHENTICATED": "1", "PARTNERBOT_TEAMS__SERVICE_URL_HOSTS": "127.0.0.1,localhost"}


async def count(db: Database, model) -> int:
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).scalar_one()


async def snapshot(db: Database) -> dict[str, int]:
    """Row counts of everything a command may change, to prove a refusal changed nothing."""
    return {m.__name__: await count(db, m)
            for m in (Commitment, Handoff, ActivityLog, OutboxMessage, MeetingSeries, Meeting, Lead, Ask,
                      Pulse, PulseAnswer, Win, WinCredit, ExportToken, Partnership, PartnershipMember,
                      PartnershipInvite, PartnershipGoal)}


async def rows(db: Database, model, *where) -> list:
    """The rows of `model` (those matching `where`), oldest first: by primary key, since a
    table's physical order is insertion order only in a database that never deleted a row."""
    async with db.session() as s:
        query = select(model).where(*where).order_by(*model.__table__.primary_key.columns)
        return list((await s.exec(query)).scalars().all())


async def outbox(db: Database) -> list[OutboxMessage]:
    return await rows(db, OutboxMessage)


async def person_named(db: Database, name: str) -> Person:
    (person,) = await rows(db, Person, Person.display_name == name)
    return person


async def assert_refused_without_change(chat, db, user: str, command: str, reason: str) -> None:
    """A refusal: says why (with the usage line) and leaves every record as it was."""
    before = await snapshot(db)
    reply = await chat.say(user, command)
    assert not reply.ok
    assert reason in reply.text
    if "verb" not in reason:
        assert "Usage:" in reply.text
    assert await snapshot(db) == before


async def sent(db: Database, kind: str, person_name: str | None = None) -> list[OutboxMessage]:
    """Messages of one kind owed so far (to one person when named), oldest first."""
    messages = [m for m in await outbox(db) if m.idempotency_key.startswith(kind + ":")]
    if person_name:
        person = await person_named(db, person_name)
        messages = [m for m in messages if m.recipient_person_id == person.id]
    return messages


class Clocked:
    """Commands and the cadence tick sharing one movable clock."""

    def __init__(self, db: Database, settings, clock):
        from tests.conftest import Chat

        self.db, self.clock = db, clock
        self.chat = Chat(Dispatcher(db, settings, default_registry(), clock))
        self.runner = Runner(db, settings, default_registry())

    async def at(self, when: datetime):
        """Move the clock to `when` and run the tick there."""
        self.clock.now = when
        return await self.runner.tick(when)

    async def say(self, user: str, text: str, **kw) -> Reply:
        return await self.chat.say(user, text, **kw)
