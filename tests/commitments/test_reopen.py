"""reopen C-n: a mistaken done or drop undone, with its reminders back, logged."""
from datetime import timedelta

import pytest

from storage.models import ActivityLog, Commitment
from tests.helpers import Clocked, assert_refused_without_change, rows, sent


async def test_reopening_a_kept_commitment_opens_it_with_its_reminders_and_logs_it(chat, db):
    await chat.say("ana", "commit send deck by fri")
    await chat.say("ana", "done C-1")
    reply = await chat.say("ana", "reopen C-1")
    assert reply.ok and "C-1 reopened (it was kept)" in reply.text and "Fri 27 Nov" in reply.text
    (c,) = await rows(db, Commitment)
    assert (c.status, c.closed_at, c.close_note) == ("open", None, None)
    assert c.cadence_step == "reminder" and c.cadence_at < c.due_at  # as for a new one
    (log,) = await rows(db, ActivityLog, ActivityLog.action == "commitment.reopened")
    assert (log.before["status"], log.after["status"]) == ("done", "open")
    assert "C-1" in (await chat.say("ana", "list")).text


async def test_a_reopened_dropped_commitment_is_reminded_again(db, settings, clock):
    bot = Clocked(db, settings, clock)
    await bot.say("ana", "commit send deck by fri")
    await bot.say("ana", "drop C-1 wrong account")
    assert "it was dropped" in (await bot.say("ana", "reopen c1")).text
    await bot.at(clock.now + timedelta(days=4))  # Fri 10:00 UTC: the reminder before 17:00
    assert len(await sent(db, "commitment.reminder", "ana")) == 1


async def test_the_owners_manager_may_reopen_it(chat):
    await chat.say("bob", "commit a by fri")
    await chat.say("bob", "done C-1")
    assert (await chat.say("ana", "admin manager <@bob> <@ana>")).ok
    assert "reopened" in (await chat.say("ana", "reopen C-1")).text


@pytest.mark.parametrize("command, reason", [
    ("reopen C-1", "belongs to ana; only they or their manager can reopen it"),  # someone else's
    ("reopen C-2", "open already"),  # bob's own, not closed
    ("reopen C-9", "no commitment C-9"),
    ("reopen Q-1", "not a commitment reference"),
    ("reopen", "which commitment"),
])
async def test_who_may_reopen_and_what(chat, db, command, reason):
    await chat.say("ana", "commit a by fri")
    await chat.say("ana", "done C-1")
    await chat.say("bob", "commit b by fri")
    await assert_refused_without_change(chat, db, "bob", command, reason)
