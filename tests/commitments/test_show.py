"""`commit C-n`: one commitment with its history, on the viewer's clock, for those who may see it."""
from datetime import timedelta

from tests.helpers import assert_refused_without_change


async def test_a_commitment_is_shown_with_who_did_what_when_in_the_viewers_timezone(chat, clock):
    await chat.say("ana", "timezone Europe/Berlin")
    await chat.say("ana", "commit send deck by fri re Acme")
    clock.now += timedelta(hours=2)
    await chat.say("ana", "done C-1 sent with the case study")
    clock.now += timedelta(hours=1)
    await chat.say("ana", "reopen C-1")
    reply = await chat.say("ana", "commit C-1")
    assert reply.ok
    assert reply.text.splitlines() == [
        "C-1 · send deck · due Fri 27 Nov 17:00 (Europe/Berlin) · ana · re Acme · open",
        "History (times in Europe/Berlin):",
        "Mon 23 Nov 11:00 · ana created it",
        "Mon 23 Nov 13:00 · ana marked it kept — note: sent with the case study",
        "Mon 23 Nov 14:00 · ana reopened it",
    ]


async def test_the_owners_manager_sees_it_and_a_closed_one_says_when(chat):
    await chat.say("bob", "commit b by fri")
    await chat.say("bob", "drop C-1 customer paused")
    assert (await chat.say("ana", "admin manager <@bob> <@ana>")).ok
    text = (await chat.say("ana", "commit c1")).text
    assert "· dropped Mon 23 Nov 10:00 (UTC) — customer paused" in text and "bob dropped it — note: customer paused" in text


async def test_who_may_not_see_a_commitment(chat, db):
    await chat.say("ana", "commit a by fri")
    await assert_refused_without_change(chat, db, "bob", "commit C-1", "Only ana and their managers can see C-1")
    await assert_refused_without_change(chat, db, "bob", "commit C-9", "no commitment C-9")
