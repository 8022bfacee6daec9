"""`list done|won|lost|all [mine | @person | P-n] [since <date>]`: closed items, newest first;
the open `list` forms keep working."""
from datetime import timedelta

import pytest

from tests.helpers import assert_refused_without_change
from tests.reports.test_report import history


async def _closed_things(chat, clock):
    await chat.say("ana", "commit send deck by fri")
    await chat.say("ana", "commit call CFO by fri")
    await chat.say("ana", "commit book room by fri")
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await chat.say("ana", "handoff <@bob> Globex: needs a pilot")
    await chat.say("ana", "done C-1 sent")
    clock.now += timedelta(days=1)  # Tue 24 Nov
    await chat.say("ana", "drop C-2 customer paused")
    await chat.say("ana", "handoff H-2 withdraw wrong rep")
    await chat.say("bob", "handoff H-1 accept")
    await chat.say("ana", "handoff H-1 won")


async def test_done_won_lost_and_all_list_what_was_closed_newest_first(chat, clock):
    await _closed_things(chat, clock)
    assert (await chat.say("ana", "list done")).text == (
        "Done — yours:\n"
        "C-2 · call CFO · dropped Tue 24 Nov (customer paused) · ana\n"
        "C-1 · send deck · kept Mon 23 Nov (sent) · ana")
    assert (await chat.say("ana", "list won mine")).text == (
        "Won — yours:\nH-1 · Acme Corp: needs a security review · won Tue 24 Nov · ana → bob")
    assert "H-2 · Globex: needs a pilot · withdrawn Tue 24 Nov · ana → bob" in (await chat.say("bob", "list lost")).text
    everything = (await chat.say("ana", "list all")).text
    assert [line.split(" · ")[0] for line in everything.splitlines()[1:]] == ["C-2", "C-1", "H-2", "H-1"]
    assert "C-3" not in everything  # still open
    assert "C-3" in (await chat.say("ana", "list")).text and "C-3" in (await chat.say("ana", "list mine")).text


async def test_since_a_date_in_the_viewers_timezone(chat, clock):
    await _closed_things(chat, clock)
    assert (await chat.say("ana", "list done since tue")).text == (
        "Done — yours since Tue 24 Nov:\nC-2 · call CFO · dropped Tue 24 Nov (customer paused) · ana")
    assert "C-1" in (await chat.say("ana", "list done since 2026-11-23")).text
    assert "C-1" in (await chat.say("ana", "list done mine since yesterday")).text
    assert (await chat.say("ana", "list won since today")).text.startswith("Won — yours since Tue 24 Nov:\nH-1")
    assert (await chat.say("ana", "list lost since 1 days ago")).ok
    assert "C-1" in (await chat.say("ana", "list done since mon")).text  # the latest Monday: yesterday
    assert "nothing" in (await chat.say("carl", "list all")).text


async def test_a_manager_lists_their_reps_closed_items_and_a_partnership_its_own(bot):
    await history(bot)  # tests/reports/test_report.py: P-1 between ana's and dana's sides
    won = (await bot.say("maria", "list won P-1")).text
    assert won.startswith("Won — of P-1 Acme Alliance:") and "H-1" in won and "L-1" in won
    lost = (await bot.say("dana", "list lost P-1")).text
    assert "H-5 · " in lost and "declined" in lost
    bobs = (await bot.say("ana", "list done <@bob|bob>")).text  # ana manages bob's side of P-1
    assert bobs.startswith("Done — of bob:") and "C-2 · " in bobs and "C-12" not in bobs
    assert "C-12 · intro mail · kept late Wed 16 Dec" in (await bot.say("ana", "list done")).text


@pytest.mark.parametrize("command, reason", [
    ("list done <@ana>", "Only ana and their managers can see their list"),  # someone else's
    ("list done since", "Say since when"),
    ("list done since someday", "not a date I can read after `since`"),
    ("list done since 2027-01-01", "in the future"),
    ("list won P-9", "no partnership P-9"),
    ("list lost nonsense", "can't list lost 'nonsense'"),
])
async def test_who_may_list_whose_closed_items(chat, db, clock, command, reason):
    await _closed_things(chat, clock)
    await assert_refused_without_change(chat, db, "carl", command, reason)
