"""win: a won lead or handoff, credited once (originator, deliverer, everyone who kept a linked
commitment) and celebrated in the partnership's bound channels, or to the people credited.

The histories, on the fixed clock (Mon 23 Nov 2026 10:00 UTC):
- lead L-1: mia manages P-1 Acme Alliance (with pat), bound to channel C1. In C1 ana raises
  the idea "cross-sell the analytics add-on" for Acme, owned by bob. bob gives it three next
  activities: carl keeps his (C-1), dana drops hers (C-2), eve's is still open (C-3).
- handoff H-1: ana hands Globex to bob, who accepts. carl (bob's manager, set by an admin) keeps
  C-1 `re H-1` three days late, ana keeps C-2 `re H-1`, dana (ana's manager, set by an admin)
  drops C-3 `re H-1`. ana and bob share no partnership.
"""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.config import load_settings
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Reply
from storage.models import ActivityLog, Handoff, Lead, Person, Win, WinCredit
from tests.conftest import Chat
from tests.helpers import assert_refused_without_change, person_named, rows, sent

UTC = timezone.utc
LEAD_CREDIT = {"bob": ("deliverer", 0.5), "ana": ("originator", 0.3), "carl": ("contributor", 0.2)}
HANDOFF_CREDIT = {"bob": ("deliverer", 0.5), "ana": ("originator,contributor", 0.4), "carl": ("contributor", 0.1)}


async def saved(chat, who: str, command: str) -> str:
    """Run a command that saves a commitment; its C-n."""
    reply = await chat.say(who, command)
    assert reply.ok, reply.text
    return re.match(r"(C-\d+) saved", reply.text).group(1)


async def lead_history(chat) -> None:
    assert (await chat.say("mia", "partnership new Acme Alliance with <@pat|pat>", channel="C1")).ok
    assert (await chat.say("pat", "partnership P-1 accept")).ok
    assert (await chat.say("ana", "idea Acme: cross-sell the analytics add-on owner <@bob|bob>", channel="C1")).ok
    kept, dropped, _open = [await saved(chat, "bob", f"lead L-1 next step of {who} by fri <@{who}|{who}>")
                            for who in ("carl", "dana", "eve")]
    assert (await chat.say("carl", f"done {kept}")).ok
    assert (await chat.say("dana", f"drop {dropped} no budget this year")).ok


async def handoff_history(chat, clock) -> None:
    assert (await chat.say("ana", "handoff <@bob|bob> Globex: needs SSO by fri")).ok
    assert (await chat.say("bob", "handoff H-1 accept")).ok
    # only H-1's reps and their managers link commitments to it: carl and dana are made their managers
    assert (await chat.say("carl", "admin manager <@bob|bob> <@carl|carl>")).ok
    assert (await chat.say("dana", "admin manager <@ana|ana> <@dana|dana>")).ok
    late = await saved(chat, "carl", "commit send the SSO guide by fri re H-1")
    kept = await saved(chat, "ana", "commit intro call with their IT by fri re H-1")
    dropped = await saved(chat, "dana", "commit the security questionnaire by fri re H-1")
    assert (await chat.say("ana", f"done {kept}")).ok
    assert (await chat.say("dana", f"drop {dropped} they skipped it")).ok
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # carl keeps his after Friday 17:00: late still counts
    assert (await chat.say("carl", f"done {late}")).ok


async def credits_by_name(db) -> dict[str, tuple[str, float]]:
    async with db.session() as s:
        found = (await s.exec(select(Person.display_name, WinCredit.roles, WinCredit.share)
                              .join(Person, Person.id == WinCredit.person_id))).all()
    return {name: (roles, round(share, 9)) for name, roles, share in found}


def payload(message) -> Reply:
    return Reply.from_dict(message.payload)


def facts(message) -> list[tuple[str, str]]:
    return [(f.label, f.value) for f in payload(message).cards[0].facts]


# --- a lead ----------------------------------------------------------------------------------
async def test_a_won_lead_stores_the_split_and_celebrates_in_the_bound_channel(chat, db):
    await lead_history(chat)
    reply = await chat.say("bob", "win L-1 120k")
    assert reply.ok, reply.text
    assert reply.text == ("L-1 won (120,000): Acme — cross-sell the analytics add-on. Credit: "
                          "bob 50% (60,000) · deliverer; ana 30% (36,000) · originator; "
                          "carl 20% (24,000) · contributor. Celebrated in the bound channels of P-1 Acme Alliance.")
    (lead,) = await rows(db, Lead)
    assert (lead.status, lead.amount_cents, lead.closed_at) == ("won", 120_000_00, chat.dispatcher.clock())
    (won,) = await rows(db, Win)
    bob = await person_named(db, "bob")
    assert (won.record, won.lead_id, won.handoff_id, won.amount_cents, won.won_by_id) == (
        "L-1", lead.id, None, 120_000_00, bob.id)
    assert await credits_by_name(db) == LEAD_CREDIT  # dana dropped hers, eve's is open: not credited
    (post,) = await sent(db, "win.celebration")
    assert (post.channel, post.recipient_person_id) == ("C1", None)
    celebration = payload(post)
    assert celebration.cards[0].title == "🎉 Win: L-1 Acme"
    assert facts(post) == [("bob", "50% (60,000) · deliverer"), ("ana", "30% (36,000) · originator"),
                           ("carl", "20% (24,000) · contributor")]
    assert celebration.text.splitlines() == [
        "🎉 Win: L-1 Acme — cross-sell the analytics add-on (120,000), recorded by bob.",
        "bob 50% (60,000) · deliverer", "ana 30% (36,000) · originator", "carl 20% (24,000) · contributor"]
    (logged,) = await rows(db, ActivityLog, ActivityLog.action == "win.recorded")
    ana, carl = await person_named(db, "ana"), await person_named(db, "carl")
    assert (logged.record, logged.person_id, logged.after["amount_cents"]) == ("L-1", bob.id, 120_000_00)
    assert [(c["person_id"], c["roles"], c["share"]) for c in logged.after["credit"]] == [
        (bob.id, "deliverer", 0.5), (ana.id, "originator", 0.3), (carl.id, "contributor", 0.2)]
    (closed,) = await rows(db, ActivityLog, ActivityLog.action == "lead.won")
    assert closed.after == {"status": "won", "amount_cents": 120_000_00}


async def test_a_lead_nobody_contributed_to_gives_their_share_to_originator_and_deliverer(chat, db):
    assert (await chat.say("ana", "idea Initech: renewal bundle owner <@bob|bob>")).ok  # no partnership, no channel
    reply = await chat.say("bob", "win L-1 80k")
    assert reply.ok
    assert "Credit: bob 62.5% (50,000) · deliverer; ana 37.5% (30,000) · originator." in reply.text
    assert "their share went to ana and bob" in reply.text and "ana got the celebration" in reply.text
    assert await credits_by_name(db) == {"bob": ("deliverer", 0.625), "ana": ("originator", 0.375)}
    (message,) = await sent(db, "win.celebration")  # no bound channel: the credited, but not the caller
    assert message.recipient_person_id == (await person_named(db, "ana")).id
    assert facts(message) == [("bob", "62.5% (50,000) · deliverer"), ("ana", "37.5% (30,000) · originator")]
    assert "No contributors (nobody kept a commitment linked to it): their share went to ana and bob." \
        in payload(message).cards[0].text


async def test_custom_credit_shares_come_from_the_settings(db, settings, clock):
    custom = load_settings({"PARTNERBOT_CREDIT__ORIGINATOR": "0.2", "PARTNERBOT_CREDIT__DELIVERER": "0.6",
                            "PARTNERBOT_CREDIT__CONTRIBUTORS": "0.2"})
    chat = Chat(Dispatcher(db, custom, default_registry(), clock))
    await lead_history(chat)
    reply = await chat.say("bob", "win L-1 120k")
    assert "bob 60% (72,000) · deliverer; ana 20% (24,000) · originator; carl 20% (24,000) · contributor" \
        in reply.text
    assert await credits_by_name(db) == {"bob": ("deliverer", 0.6), "ana": ("originator", 0.2),
                                         "carl": ("contributor", 0.2)}


# --- a handoff -------------------------------------------------------------------------------
async def test_a_won_handoff_moves_to_won_and_credits_who_kept_commitments_re_it(chat, db, clock):
    await handoff_history(chat, clock)
    reply = await chat.say("bob", "win H-1")
    assert reply.ok, reply.text
    assert reply.text == ("H-1 won: Globex — needs SSO. Credit: bob 50% · deliverer; ana 40% · originator, "
                          "contributor; carl 10% · contributor. ana and carl got the celebration.")
    (h,) = await rows(db, Handoff)
    assert (h.stage, h.stage_changed_at) == ("won", clock.now)
    assert await credits_by_name(db) == HANDOFF_CREDIT
    (won,) = await rows(db, Win)
    assert (won.record, won.handoff_id, won.amount_cents) == ("H-1", h.id, None)
    stage_log = await rows(db, ActivityLog, ActivityLog.action == "handoff.stage")
    assert [(e.before["stage"], e.after["stage"]) for e in stage_log] == [("identified", "won")]
    # the two reps share no partnership: each credited person but bob gets it directly
    told = await sent(db, "win.celebration")
    names = {p.id: p.display_name for p in await rows(db, Person)}
    assert sorted(names[m.recipient_person_id] for m in told) == ["ana", "carl"]
    assert facts(told[0]) == [("bob", "50% · deliverer"), ("ana", "40% · originator, contributor"),
                              ("carl", "10% · contributor")]
    assert payload(told[0]).cards[0].title == "🎉 Win: H-1 Globex"


async def test_a_handoff_between_two_reps_of_a_partnership_is_celebrated_in_its_channels(chat, db):
    assert (await chat.say("mia", "partnership new Acme Alliance with <@pat|pat>", channel="C1")).ok
    assert (await chat.say("pat", "partnership P-1 accept")).ok
    assert (await chat.say("mia", "partnership P-1 add <@ana|ana>")).ok
    assert (await chat.say("ana", "partnership P-1 accept")).ok
    assert (await chat.say("pat", "partnership P-1 add <@bob|bob>")).ok
    assert (await chat.say("bob", "partnership P-1 accept")).ok
    assert (await chat.say("pat", "partnership P-1 channel", channel="C2")).ok
    assert (await chat.say("ana", "handoff <@bob|bob> Globex: needs SSO")).ok
    assert (await chat.say("bob", "handoff H-1 accept")).ok  # only an accepted handoff can be won
    reply = await chat.say("mia", "handoff H-1 won signed on Friday")  # ana's manager
    assert reply.ok and "Note: signed on Friday." in reply.text
    assert sorted(m.channel for m in await sent(db, "win.celebration")) == ["C1", "C2"]
    (won,) = await rows(db, Win)
    assert won.won_by_id == (await person_named(db, "mia")).id
    (logged,) = await rows(db, ActivityLog, ActivityLog.action == "win.recorded")
    assert logged.after["note"] == "signed on Friday"


# --- one win, whichever verb records it ------------------------------------------------------
@pytest.mark.parametrize("history, command, expected", [
    ("lead", "win L-1 120k", LEAD_CREDIT),
    ("lead", "lead L-1 won 120k", LEAD_CREDIT),
    ("handoff", "win H-1", HANDOFF_CREDIT),
    ("handoff", "handoff H-1 won", HANDOFF_CREDIT),
])
async def test_every_verb_that_wins_credits_the_same_way_once(chat, db, clock, history, command, expected):
    await (lead_history(chat) if history == "lead" else handoff_history(chat, clock))
    reply = await chat.say("bob", command)
    assert reply.ok and " won" in reply.text and "Credit: bob 50%" in reply.text
    assert await credits_by_name(db) == expected
    assert len(await rows(db, Win)) == 1
    assert len(await rows(db, ActivityLog, ActivityLog.action == "win.recorded")) == 1
    ref = command.split()[1]
    for again in (f"win {ref}", f"{'lead' if ref[0] == 'L' else 'handoff'} {ref} won"):
        await assert_refused_without_change(chat, db, "bob", again, "already won")


async def test_a_second_win_says_when_the_first_was(chat, db, clock):
    await handoff_history(chat, clock)
    await lead_history(chat)
    assert (await chat.say("bob", "win H-1")).ok
    assert (await chat.say("ana", "win L-1 5k")).ok  # whoever raised a lead may close it
    await assert_refused_without_change(chat, db, "bob", "win H-1 10k", "H-1 was already won on Mon 30 Nov 09:00 (UTC)")
    await assert_refused_without_change(chat, db, "bob", "handoff H-1 won", "H-1 was already won on Mon 30 Nov")
    await assert_refused_without_change(chat, db, "bob", "handoff H-1 lost", "H-1 is already won")
    await assert_refused_without_change(chat, db, "bob", "win L-1", "L-1 was already won on Mon 30 Nov 09:00 (UTC)")
    await assert_refused_without_change(chat, db, "bob", "lead L-1 won", "L-1 is already won")
    assert len(await rows(db, Win)) == 2


async def test_two_wins_of_one_lead_at_once_record_one(chat, db):
    """Both check, both find no win: the unique win of the record lets only one commit."""
    import asyncio

    await lead_history(chat)
    replies = await asyncio.gather(chat.say("bob", "win L-1 120k"), chat.say("ana", "win L-1 90k"))
    assert sorted(r.ok for r in replies) == [False, True]
    assert len(await rows(db, Win)) == 1 and await credits_by_name(db) == LEAD_CREDIT
    assert len(await sent(db, "win.celebration")) == 1
    assert len(await rows(db, ActivityLog, ActivityLog.action == "win.recorded")) == 1


# --- refusals --------------------------------------------------------------------------------
async def closed_records(chat, clock) -> None:
    """L-1 and H-1 open (bob's); H-2 declined, H-3 lost, L-2 lost."""
    await lead_history(chat)
    await handoff_history(chat, clock)
    assert (await chat.say("ana", "handoff <@bob|bob> Initech: needs a pilot")).ok
    assert (await chat.say("bob", "handoff H-2 decline not my territory")).ok
    assert (await chat.say("ana", "handoff <@bob|bob> Umbrella: needs a demo")).ok
    assert (await chat.say("ana", "handoff H-3 lost budget frozen")).ok
    assert (await chat.say("ana", "idea Hooli: joint webinar owner <@bob|bob>")).ok
    assert (await chat.say("bob", "lead L-2 lost went with a competitor")).ok
    assert (await chat.say("zoe", "help")).ok


@pytest.mark.parametrize("who, command, reason", [
    ("bob", "win", "Say what was won"),
    ("bob", "win C-1", "'C-1' is not a handoff or lead reference"),
    ("bob", "win Acme", "'Acme' is not a handoff or lead reference"),
    ("bob", "win H-9", "There is no handoff H-9 here"),
    ("bob", "win L-9", "There is no lead L-9 here"),
    ("bob", "win L-1 lots", "can't read 'lots' as an amount"),
    ("bob", "win H-1 12k and a bonus", "can't read '12k and a bonus' as an amount"),
    ("zoe", "win L-1", "L-1 belongs to bob"),
    ("zoe", "win H-1", "Only the two reps of H-1 or their managers can record its win"),
    ("zoe", "handoff H-1 won", "Only the two reps of H-1 or their managers can move it"),
    ("bob", "win H-2", "H-2 was declined"),
    ("bob", "handoff H-2 won", "H-2 was declined"),
    ("ana", "win H-3", "H-3 was lost; a lost handoff can't be won"),
    ("bob", "win L-2", "L-2 was lost (went with a competitor); a lost lead can't be won"),
])
async def test_bad_wins_get_a_reason_and_change_nothing(chat, db, clock, who, command, reason):
    await closed_records(chat, clock)
    await assert_refused_without_change(chat, db, who, command, reason)


async def test_a_reference_of_another_workspace_is_not_found_here(chat, db, clock):
    await closed_records(chat, clock)
    elsewhere = Chat(chat.dispatcher, workspace="globex")
    await assert_refused_without_change(elsewhere, db, "bob", "win L-1", "There is no lead L-1 here")
    await assert_refused_without_change(elsewhere, db, "bob", "win H-1", "There is no handoff H-1 here")
