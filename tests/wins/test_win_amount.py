"""A win's amount: typed with `handoff H-n won` / `lead L-n won` (an amount, then a note), and
corrected later with `win H-n|L-n amount <amount>` by whoever may win the record — logged,
the credit following the new amount, the celebration not posted again.

The histories are those of tests/wins/test_wins.py: H-1 (ana → bob, accepted; carl is bob's
manager, dana ana's; credit bob 50%, ana 40%, carl 10%; ana and bob share no partnership) and
L-1 (owned by bob in P-1 Acme Alliance, bound to C1; credit bob 50%, ana 30%, carl 20%).
"""
import pytest

from storage.models import ActivityLog, Lead, Win
from tests.helpers import assert_refused_without_change, person_named, rows, sent
from tests.wins.test_wins import HANDOFF_CREDIT, LEAD_CREDIT, credits_by_name, handoff_history, lead_history


def facts(reply) -> dict[str, str]:
    return {f.label: f.value for f in reply.cards[0].facts}


async def amount_of_win(db) -> int | None:
    (won,) = await rows(db, Win)
    return won.amount_cents


# --- the amount typed with `won` -------------------------------------------------------------
async def test_handoff_won_with_an_amount_records_it_and_the_scorecard_counts_it(chat, db, clock):
    """Issue 21: `handoff H-1 won 120k` kept "120k" as a note and the win had no amount, for good."""
    await handoff_history(chat, clock)
    reply = await chat.say("bob", "handoff H-1 won 120k")
    assert reply.ok, reply.text
    assert reply.text.startswith("H-1 won (120,000): Globex — needs SSO. Credit: bob 50% (60,000) · deliverer; "
                                 "ana 40% (48,000) · originator, contributor; carl 10% (12,000) · contributor.")
    assert "Note" not in reply.text
    assert await amount_of_win(db) == 120_000_00
    (logged,) = await rows(db, ActivityLog, ActivityLog.action == "win.recorded")
    assert (logged.after["amount_cents"], logged.after["note"]) == (120_000_00, None)
    celebrated = await sent(db, "win.celebration", "ana")
    assert "(120,000)" in celebrated[0].payload["text"]
    credit = facts(await chat.say("bob", "report"))["Credit on wins"]
    assert credit.startswith("1 win · 60,000 credited ") and "without an amount" not in credit


@pytest.mark.parametrize("typed, cents, note", [
    ("120k", 120_000_00, None),
    ("$1.5m signed on Friday", 1_500_000_00, "signed on Friday"),
    ("120,000.50 after a long pilot", 120_000_50, "after a long pilot"),
    ("$ 80 k two-year deal", 80_000_00, "two-year deal"),
    ("signed on Friday", None, "signed on Friday"),  # no amount first: all of it is the note, as before
    ("2 year deal, renewal", None, "2 year deal, renewal"),  # a number that counts years is not the amount
    ("30 seats of the analytics add-on", None, "30 seats of the analytics add-on"),
    ("90k 2 year deal", 90_000_00, "2 year deal"),
])
async def test_an_amount_after_won_is_the_wins_and_what_follows_stays_a_note(chat, db, clock, typed, cents, note):
    await handoff_history(chat, clock)
    reply = await chat.say("bob", f"handoff H-1 won {typed}")
    assert reply.ok, reply.text
    assert await amount_of_win(db) == cents
    (logged,) = await rows(db, ActivityLog, ActivityLog.action == "win.recorded")
    assert logged.after["note"] == note
    assert (f"Note: {note}." in reply.text) == (note is not None)
    assert await credits_by_name(db) == HANDOFF_CREDIT


async def test_lead_won_takes_an_amount_then_a_note(chat, db):
    await lead_history(chat)
    reply = await chat.say("bob", "lead L-1 won 120k signed on Friday")
    assert reply.ok, reply.text
    assert "L-1 won (120,000)" in reply.text and "Note: signed on Friday." in reply.text
    (lead,) = await rows(db, Lead)
    assert (lead.status, lead.amount_cents) == ("won", 120_000_00)
    assert await amount_of_win(db) == 120_000_00


async def test_lead_won_with_something_that_is_no_amount_is_refused(chat, db):
    await lead_history(chat)
    await assert_refused_without_change(chat, db, "bob", "lead L-1 won lots", "can't read 'lots' as an amount")
    await assert_refused_without_change(chat, db, "bob", "lead L-1 won 2000000000000m",
                                        "more than any deal I can record")


async def test_winning_again_says_how_to_correct_the_amount(chat, db, clock):
    await handoff_history(chat, clock)
    await lead_history(chat)
    assert (await chat.say("bob", "handoff H-1 won")).ok
    assert (await chat.say("bob", "lead L-1 won")).ok
    await assert_refused_without_change(chat, db, "bob", "win H-1 120k", "to correct its amount: `win H-1 amount")
    await assert_refused_without_change(chat, db, "bob", "handoff H-1 won 120k", "`win H-1 amount <amount>`")
    await assert_refused_without_change(chat, db, "bob", "lead L-1 won 120k", "`win L-1 amount <amount>`")


# --- correcting it ---------------------------------------------------------------------------
async def test_correcting_a_handoffs_amount_logs_it_rescales_credit_and_does_not_celebrate_again(chat, db, clock):
    await handoff_history(chat, clock)
    assert (await chat.say("bob", "handoff H-1 won")).ok
    assert "1 without an amount" in facts(await chat.say("bob", "report"))["Credit on wins"]
    celebrations = len(await sent(db, "win.celebration"))

    reply = await chat.say("bob", "win H-1 amount 120k")
    assert reply.ok, reply.text
    assert reply.text == ("H-1 (Globex): the win's amount is now 120,000 (was no amount). Credit: "
                          "bob 50% (60,000) · deliverer; ana 40% (48,000) · originator, contributor; "
                          "carl 10% (12,000) · contributor. The celebration is not posted again.")
    assert await amount_of_win(db) == 120_000_00
    assert await credits_by_name(db) == HANDOFF_CREDIT  # the shares stand; the amounts follow the new total
    assert len(await sent(db, "win.celebration")) == celebrations
    credit = facts(await chat.say("bob", "report"))["Credit on wins"]
    assert credit.startswith("1 win · 60,000 credited ") and "without an amount" not in credit

    # a manager of either rep may correct it too, and each correction is logged with before and after
    assert (await chat.say("dana", "win h1 amount $90,000")).ok  # ana's manager
    assert await amount_of_win(db) == 90_000_00
    bob, ana, carl, dana = [await person_named(db, n) for n in ("bob", "ana", "carl", "dana")]
    first, second = await rows(db, ActivityLog, ActivityLog.action == "win.amount")
    assert (first.record, first.person_id, second.person_id) == ("H-1", bob.id, dana.id)
    assert first.before == {"amount_cents": None, "credit": [
        {"person_id": bob.id, "amount_cents": None}, {"person_id": ana.id, "amount_cents": None},
        {"person_id": carl.id, "amount_cents": None}]}
    assert first.after == {"amount_cents": 120_000_00, "credit": [
        {"person_id": bob.id, "amount_cents": 60_000_00}, {"person_id": ana.id, "amount_cents": 48_000_00},
        {"person_id": carl.id, "amount_cents": 12_000_00}]}
    assert (second.before["amount_cents"], second.after["amount_cents"]) == (120_000_00, 90_000_00)
    assert [c["amount_cents"] for c in second.after["credit"]] == [45_000_00, 36_000_00, 9_000_00]
    assert len(await sent(db, "win.celebration")) == celebrations


async def test_correcting_a_leads_amount_changes_the_lead_too(chat, db):
    await lead_history(chat)
    assert (await chat.say("bob", "lead L-1 won 12k")).ok  # a typo: 120k was meant
    (post,) = await sent(db, "win.celebration")
    reply = await chat.say("ana", "win L-1 amount 120k")  # whoever raised the lead may win it
    assert reply.ok, reply.text
    assert "now 120,000 (was 12,000)" in reply.text and "bob 50% (60,000) · deliverer" in reply.text
    (lead,) = await rows(db, Lead)
    assert (lead.status, lead.amount_cents) == ("won", 120_000_00)
    assert await amount_of_win(db) == 120_000_00
    assert await credits_by_name(db) == LEAD_CREDIT
    assert await sent(db, "win.celebration") == [post]
    assert (await chat.say("bob", "lead L-1")).text.endswith(" · won (120,000)")


@pytest.mark.parametrize("who, command, reason", [
    ("zoe", "win H-1 amount 10k", "Only the two reps of H-1 or their managers can correct its amount"),
    ("zoe", "win L-1 amount 10k", "L-1 belongs to bob"),
    ("bob", "win H-1 amount lots", "can't read 'lots' as an amount"),
    ("bob", "win H-1 amount 12k and a bonus", "can't read '12k and a bonus' as an amount"),
    ("bob", "win H-1 amount", "Say the win's correct amount: `win H-1 amount 120k`"),
    ("bob", "win L-1 amount 50k", "L-1's win is already recorded at 50,000"),
    ("bob", "win H-2 amount 10k", "H-2 has no win recorded yet"),
    ("bob", "win L-2 amount 10k", "L-2 has no win recorded yet"),
    ("bob", "win H-9 amount 10k", "There is no handoff H-9 here"),
])
async def test_bad_corrections_get_a_reason_and_change_nothing(chat, db, clock, who, command, reason):
    await handoff_history(chat, clock)
    await lead_history(chat)
    assert (await chat.say("bob", "handoff H-1 won 80k")).ok
    assert (await chat.say("bob", "lead L-1 won 50k")).ok
    assert (await chat.say("ana", "handoff <@bob|bob> Initech: needs a pilot")).ok  # H-2, open
    assert (await chat.say("ana", "idea Hooli: joint webinar owner <@bob|bob>")).ok  # L-2, open
    assert (await chat.say("zoe", "help")).ok
    await assert_refused_without_change(chat, db, who, command, reason)
    assert sorted(w.amount_cents for w in await rows(db, Win)) == [50_000_00, 80_000_00]
    assert {lead.number: lead.amount_cents for lead in await rows(db, Lead)} == {1: 50_000_00, 2: None}
