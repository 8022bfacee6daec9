"""`list P-n`: a partnership's open items, on the known history of tests/reports/test_report.py
(read there: who is on which side, and what each reference is)."""
import pytest

from tests.helpers import assert_refused_without_change
from tests.reports.test_report import history

P1_OPEN = """Open items of P-1 Acme Alliance:
C-4 · share the pipeline · due Mon 16 Nov 09:00 (UTC) · ana · re Acme Alliance
C-8 · send references · due Fri 27 Nov 17:00 (UTC) · bob · re Umbrella
C-13 · plan workshop · due Wed 23 Dec 17:00 (UTC) · ana · re Globex
H-2 · Globex: needs a data migration · introduced · maria → ana
H-3 · Initech: needs a pilot · identified · bob → maria · not accepted yet
H-4 · Umbrella: needs a reference call · positioned · maria → bob
L-2 · Globex: renewal bundle · owner ana · next: C-13 plan workshop, due Wed 23 Dec 17:00 (UTC)
L-3 · Initech: joint webinar · owner bob · no next activity
"""


async def test_a_member_lists_what_is_open_between_the_sides_soonest_due_first(bot):
    """The sync pledge, the commitment about a handoff between the sides and the lead's
    activity; the open handoffs both ways; the open leads; the ask still waiting. Not ana's
    own C-6, the won H-1 and L-1, the declined H-5, nor bob's Q-4 that is about nothing of P-1."""
    await history(bot)
    reply = await bot.say("maria", "list P-1")
    assert reply.ok
    assert reply.text == P1_OPEN + "Q-2 · credit terms · dana asked ana · accepted"
    # the same items for everyone; an ask reads from where they stand
    assert (await bot.say("ana", "list p1")).text == P1_OPEN + "Q-2 · credit terms · asked by dana · accepted"
    assert (await bot.say("dana", "list P-1")).text == P1_OPEN + "Q-2 · credit terms · waiting on ana · accepted"


async def test_what_is_closed_leaves_the_list(bot):
    await history(bot)
    for user, command in (("ana", "done C-4"), ("bob", "handoff H-4 won"), ("ana", "lead L-3 lost no budget"),
                          ("ana", "ask Q-2 answer 60 days")):
        assert (await bot.say(user, command)).ok, command
    listed = (await bot.say("leo", "list P-1")).text
    assert [line.split(" · ")[0] for line in listed.splitlines()[1:]] == ["C-8", "C-13", "H-2", "H-3", "L-2"]


async def test_another_partnerships_items_are_not_listed(bot):
    await history(bot)
    await bot.say("zed", "partnership new Globex Guild with <@yan|yan>", channel="C9")
    await bot.say("yan", "partnership P-2 accept")
    await bot.say("zed", "handoff <@yan|yan> Stark: needs a quote")  # H-6, between P-2's sides
    await bot.say("zed", "commit price it by fri re H-6")  # C-14
    assert "H-6" not in (await bot.say("ana", "list P-1")).text
    listed = (await bot.say("yan", "list P-2")).text
    assert listed.splitlines() == ["Open items of P-2 Globex Guild:",
                                   "C-14 · price it · due Fri 25 Dec 17:00 (UTC) · zed · re Stark",
                                   "H-6 · Stark: needs a quote · identified · zed → yan · not accepted yet"]


async def test_a_partnership_with_nothing_open_says_so(bot):
    await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")
    await bot.say("dana", "partnership P-1 accept")
    assert (await bot.say("dana", "list P-1")).text == "Open items of P-1 Acme Alliance: nothing open."


@pytest.mark.parametrize("user, command, reason", [
    ("zed", "list P-1", "Only the members of P-1 can list its open items"),
    ("ana", "list P-9", "There is no partnership P-9 here"),
    ("ana", "list P-1 overdue", "I don't understand 'overdue' after P-1"),
])
async def test_refusals_change_nothing(bot, db, user, command, reason):
    await history(bot)
    await bot.say("zed", "help")  # zed exists before the refusal is measured
    await assert_refused_without_change(bot, db, user, command, reason)


async def test_a_long_list_shows_the_soonest_due_of_all_its_kinds(bot):
    """More open commitments than a list shows (30), 35 found by each of two searches (about a
    handoff between the sides, and a lead's activities): the 30 soonest due of both, in order."""
    from datetime import date, datetime, timedelta, timezone

    bot.clock.now = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")
    await bot.say("dana", "partnership P-1 accept")
    assert (await bot.say("ana", "handoff <@dana|dana> Acme Corp: needs a review")).ok  # H-1
    assert (await bot.say("ana", "idea Acme: bundle the add-on", channel="C1")).ok  # L-1
    first = date(2026, 11, 3)
    for day in range(70):  # H-1's on odd days from the first, L-1's on even ones; the latest first
        n = 69 - day
        target = "H-1" if n % 2 else "L-1"
        reply = await bot.say("ana", f"commit step {n} by {(first + timedelta(days=n)).isoformat()} re {target}")
        assert reply.ok, reply.text
    listed = (await bot.say("dana", "list P-1")).text.splitlines()
    steps = [line.split(" · ")[1] for line in listed if line.startswith("C-")]
    assert steps == [f"step {n}" for n in range(30)]
    assert listed[-1] == "(only the first few are shown)"
