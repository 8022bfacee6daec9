"""`report` on a known history built through real commands on a movable clock.

P-1 Acme Alliance (channel C1): side A is ana (manager), bob and leo (reps); side B is dana
(manager) and maria (rep). Everyone is on UTC. The report is read on Mon 21 Dec 2026 10:00,
so its 8 weeks start Mon 26 Oct 10:00 and each bucket runs Monday 10:00 to Monday 10:00:
b0 26 Oct · b1 2 Nov · b2 9 Nov · b3 16 Nov · b4 23 Nov · b5 30 Nov · b6 7 Dec · b7 14 Dec.

What happens (and the bucket it counts in):
  ana's commitments
    C-1  send deck, due Fri 30 Oct, done Thu 29 Oct ............................ kept, b0
    C-3  pledge of S-1, due Mon 9 Nov 09:00, done Tue 10 Nov ................... late, b2
    C-4  pledge of S-2, due Mon 16 Nov 09:00, still open ....................... overdue, b2
    C-5  call the CFO, due Fri 13 Nov, dropped Wed 11 Nov ...................... dropped, b2
    C-6  draft proposal, due Wed 18 Nov, still open ............................ overdue, b3
    C-7  book webinar, due Fri 27 Nov, done that morning ....................... kept, b4
    C-9  renewal plan, due Thu 3 Dec, done Wed 2 Dec ........................... kept, b5
    C-10 demo (next activity of L-1), due Fri 11 Dec, done Thu 10 Dec .......... kept, b6
    C-11 joint offer, due Fri 11 Dec, dropped Tue 8 Dec ........................ dropped, b6
    C-12 intro mail, due Tue 15 Dec, done Wed 16 Dec ........................... late, b7
    C-13 plan workshop (next activity of L-2), due Wed 23 Dec .................. not due
  others: C-2 bob's action item of M-1, done on time (b0); C-8 bob's `re H-4`, due Fri 27 Nov, open (b4)
  handoffs
    H-1 ana → maria, Tue 27 Oct 10:00 (b0), accepted after 6 h, positioned, won Thu 3 Dec
    H-2 maria → ana, Mon 9 Nov 11:00 (b2), accepted after 24 h, introduced
    H-3 bob → maria, Mon 16 Nov 11:00 (b3), never accepted
    H-4 maria → bob, Mon 23 Nov 11:00 (b4), accepted after 48 h, positioned Thu 26 Nov
    H-5 ana → dana, Mon 30 Nov 11:00 (b5), declined
  peer syncs: S-1 (opened Mon 2 Nov, b1) answered by both; S-2 (Mon 9 Nov, b2) by ana only
  meetings: M-1 (Tue 27 Oct, b0) closed with C-2; M-2 (Tue 3 Nov, b1) never closed
  leads: L-1 ana (Mon 2 Nov, b1) won 120k on Mon 14 Dec (b7); L-2 ana (Mon 16 Nov, b3) with C-13;
         L-3 bob (Tue 24 Nov, b4), no next activity
  asks: Q-1 maria → ana re P-1 (b1) answered after 4 h; Q-2 dana → ana re L-1 (b3) accepted after 24 h;
        Q-3 ana → maria re H-2 (b4) answered after 2 h; Q-4 bob → ana (b7), no response
  health pulse of November 2026: risk A 5, 5, 4 (4.7) and B 2, 3 (2.5); every other rating 4
"""
from datetime import datetime, timezone

from bot.config import load_settings
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from storage.models import Lead, Person, Win, WinCredit
from tests.conftest import Chat
from tests.helpers import Clocked, assert_refused_without_change, person_named, rows

UTC = timezone.utc
REPORT_AT = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)
SYNC = {"results": "r", "people": "p", "working": "w", "change": "c", "problems": "x"}


def at(month: int, day: int, hour: int = 11, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def rating(risk: int) -> dict:
    return {"risk": str(risk), "resources": "4", "rewards": "4", "vision": "4", "values": "4"}


async def history(bot) -> None:
    async def say(when: datetime, user: str, text: str, **kw):
        bot.clock.now = when
        reply = await bot.say(user, text, **kw)
        assert reply.ok, f"{user}: {text} → {reply.text}"
        return reply

    # Tue 27 Oct (b0)
    await say(at(10, 27, 9), "ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")
    await say(at(10, 27, 9), "dana", "partnership P-1 accept")
    await say(at(10, 27, 9), "ana", "partnership P-1 add <@bob|bob>")
    await say(at(10, 27, 9), "bob", "partnership P-1 accept")
    await say(at(10, 27, 9), "ana", "partnership P-1 add <@leo|leo>")
    await say(at(10, 27, 9), "leo", "partnership P-1 accept")
    await say(at(10, 27, 9), "dana", "partnership P-1 add <@maria|maria>")
    await say(at(10, 27, 9), "maria", "partnership P-1 accept")
    await say(at(10, 27, 9), "ana", 'meeting new P-1 "Brainstorm new business at Acme" every tue 15:00 for 60m',
              channel="C1")
    await say(at(10, 27, 10), "ana", "handoff <@maria|maria> Acme Corp: needs a security review")
    await say(at(10, 27, 10), "ana", "commit send deck by fri")  # C-1
    await bot.at(at(10, 27, 15))  # M-1 starts
    await say(at(10, 27, 15, 30), "ana", "action M-1 <@bob|bob> send the case study by fri", channel="C1")  # C-2
    await say(at(10, 27, 16), "maria", "handoff H-1 accept")
    await say(at(10, 27, 16, 30), "ana", "meeting close M-1", channel="C1")
    await say(at(10, 29, 10), "ana", "done C-1")
    await say(at(10, 29, 10), "bob", "done C-2")
    # Mon 2 Nov (b1)
    await say(at(11, 2), "ana", "sync now")  # S-1
    await say(at(11, 2), "ana", "sync submit S-1", form_values={**SYNC, "commit": "send the Q1 plan"})  # C-3
    await say(at(11, 2), "dana", "sync submit S-1", form_values={**SYNC, "commit": ""})
    await say(at(11, 2), "ana", "handoff H-1 positioned")
    await say(at(11, 2), "ana", "idea Acme: cross-sell the analytics add-on", channel="C1")  # L-1
    await say(at(11, 2), "maria", "ask <@ana|ana> pricing for Acme re P-1")
    await say(at(11, 2, 15), "ana", "ask Q-1 answer 20% off the first year")
    await bot.at(at(11, 3, 15))  # M-2 starts, never closed; the monthly pulse opens
    for name, risk in (("ana", 5), ("bob", 5), ("leo", 4), ("dana", 2), ("maria", 3)):
        await say(at(11, 4, 10), name, "pulse submit P-1", form_values=rating(risk))
    # Mon 9 Nov (b2)
    await say(at(11, 9), "ana", "sync now")  # S-2: dana never answers
    await say(at(11, 9), "ana", "sync submit S-2", form_values={**SYNC, "commit": "share the pipeline"})  # C-4
    await say(at(11, 9), "ana", "commit call the CFO by fri")  # C-5
    await say(at(11, 9), "maria", "handoff <@ana|ana> Globex: needs a data migration")  # H-2
    await say(at(11, 10, 10), "ana", "done C-3")
    await say(at(11, 10), "ana", "handoff H-2 accept")
    await say(at(11, 10), "ana", "handoff H-2 positioned")
    await say(at(11, 10, 12), "ana", "handoff H-2 introduced")
    await say(at(11, 11), "ana", "drop C-5 they went quiet")
    # Mon 16 Nov (b3)
    await say(at(11, 16), "ana", "commit draft proposal by wed")  # C-6
    await say(at(11, 16), "bob", "handoff <@maria|maria> Initech: needs a pilot")  # H-3
    await say(at(11, 16), "ana", "idea Globex: renewal bundle", channel="C1")  # L-2
    await say(at(11, 16), "dana", "ask <@ana|ana> credit terms re L-1")
    await say(at(11, 17), "ana", "ask Q-2 accept")
    # Mon 23 Nov (b4)
    await say(at(11, 23), "ana", "commit book webinar by fri")  # C-7
    await say(at(11, 23), "maria", "handoff <@bob|bob> Umbrella: needs a reference call")  # H-4
    await say(at(11, 23), "ana", "ask <@maria|maria> a case study re H-2")
    await say(at(11, 23, 13), "maria", "ask Q-3 answer attached")
    await say(at(11, 24), "bob", "commit send references by fri re H-4")  # C-8
    await say(at(11, 24), "bob", "idea Initech: joint webinar", channel="C1")  # L-3
    await say(at(11, 25), "bob", "handoff H-4 accept")
    await say(at(11, 26), "bob", "handoff H-4 positioned")
    await say(at(11, 27, 12), "ana", "done C-7")
    # Mon 30 Nov (b5)
    await say(at(11, 30), "ana", "commit renewal plan by thu")  # C-9
    await say(at(11, 30), "ana", "handoff <@dana|dana> Hooli: needs a reseller")  # H-5
    await say(at(11, 30, 12), "dana", "handoff H-5 decline not our segment")
    await say(at(12, 2), "ana", "done C-9")
    await say(at(12, 3), "ana", "handoff H-1 won")
    # Mon 7 Dec (b6)
    await say(at(12, 7), "ana", "lead L-1 next demo by fri")  # C-10
    await say(at(12, 7), "ana", "commit joint offer by fri")  # C-11
    await say(at(12, 8), "ana", "drop C-11 merged into the demo")
    await say(at(12, 10), "ana", "done C-10")
    # Mon 14 Dec (b7)
    await say(at(12, 14), "ana", "commit intro mail by tomorrow")  # C-12
    await say(at(12, 14), "ana", "lead L-2 next plan workshop by 2026-12-23")  # C-13
    await say(at(12, 14), "ana", "lead L-1 won 120k")
    await say(at(12, 14), "bob", "ask <@ana|ana> an intro to their CFO")
    await say(at(12, 16), "ana", "done C-12")
    bot.clock.now = REPORT_AT


def facts(reply, card: int = 0) -> dict[str, str]:
    return {f.label: f.value for f in reply.cards[card].facts}


ANA = {
    "Kept on time": "40% (4 of 10 kept on time) █·▁▁██▅▁",
    "Overdue now": "2 ▁▅▅█████",
    "Handoffs given": "2 · won 1 · 1 declined █▁▁▁▁█▁▁",
    "Handoffs received": "1 · introduced 1 ▁▁█▁▁▁▁▁",
    "Time to accept": "median 15 h (2 accepted) ▁·█·····",
    "Handoffs won": "33% (1 of 3 reached won) █·▁··▁··",
    "Peer syncs": "50% (1 of 2 weeks both managers answered) ·█▁·····",
    "Meetings with action items": "50% (1 of 2 meetings held were closed with an action item) █▁······",
    "Action items kept": "100% (1 of 1 kept on time) █·······",  # a rate at 100%: full height
    "Leads": "2 created · 1 of 1 open with a next activity ▁█▁█▁▁▁▁",
    "Leads won": "1 · 120,000 ▁▁▁▁▁▁▁█",
    "Asks received": "3 · 1 answered ▁█▁█▁▁▁█",
    "First response": "median 14 h (2 responded) ·▁·█····",
    # H-1 (b5) was won without an amount; L-1 (b7) is all ana's: she raised it, owns it and kept C-10
    "Credit on wins": "2 wins · 120,000 credited · 1 without an amount ▁▁▁▁▁█▁█",
}

P1 = {
    "Kept on time": "40% (2 of 5 kept on time) █·▁·▁·█·",  # C-2, C-3, C-4, C-8, C-10
    "Overdue now": "2 ▁▅▅▅████",  # C-4 and C-8
    "Handoffs A → B": "3 · identified 1, won 1 · 1 declined █▁▁█▁█▁▁",
    "Handoffs B → A": "2 · positioned 1, introduced 1 ▁▁█▁█▁▁▁",
    "Time to accept": "median 24 h (3 accepted) ▁·▄·█···",  # 6, 24, 48 h: 24 is 3/7 of the way
    "Handoffs won": "20% (1 of 5 reached won) █·▁▁▁▁··",
    "Peer syncs": "50% (1 of 2 weeks both managers answered) ·█▁·····",
    "Meetings with action items": "50% (1 of 2 meetings held were closed with an action item) █▁······",
    "Action items kept": "100% (1 of 1 kept on time) █·······",  # a rate at 100%: full height
    "Leads": "3 created · 1 of 2 open with a next activity ▁█▁██▁▁▁",
    "Leads won": "1 · 120,000 ▁▁▁▁▁▁▁█",
    "Asks received": "3 · 2 answered ▁█▁██▁▁▁",
    "First response": "median 4 h (3 responded) ·▂·█▁···",  # 4, 24, 2 h: 4 is 2/22 of the way
    "Asks answered by side A": "1 of 2 · median 14 h to first response",
    "Asks answered by side B": "1 of 1 · median 2 h to first response",
    "Wins": "2 wins · 120,000 ▁▁▁▁▁█▁█",  # H-1 (b5) and L-1 (b7)
    # side B's two answers are too few to show (cadence.pulse.min_answers, 3)
    "Health": "pulse of November 2026 · A 3 of 3 answered · B too few answers to show (2 of 2)",
    "Shared risk": "A 4.7 · B —",
    "Shared resources": "A 4.0 · B —",
    "Shared rewards": "A 4.0 · B —",
    "Shared vision": "A 4.0 · B —",
    "Shared values": "A 4.0 · B —",
}
# the same pulse with cadence.pulse.min_answers 2
P1_HEALTH_FROM_TWO = {
    "Health": "pulse of November 2026 · A 3 of 3 answered · B 2 of 2 answered",
    "Shared risk": "A 4.7 · B 2.5 · gap 2.2 · imbalance",
    "Shared resources": "A 4.0 · B 4.0 · gap 0.0",
    "Shared rewards": "A 4.0 · B 4.0 · gap 0.0",
    "Shared vision": "A 4.0 · B 4.0 · gap 0.0",
    "Shared values": "A 4.0 · B 4.0 · gap 0.0",
}


async def test_own_scorecard_from_a_known_history_with_its_open_commitments_to_tick_off(bot):
    await history(bot)
    reply = await bot.say("ana", "report")
    assert reply.ok
    assert reply.cards[0].title == "Scorecard of ana — last 8 weeks"
    assert list(facts(reply).items()) == list(ANA.items())  # in this order
    # soonest due first, each with its Done button
    assert [(c.title, c.text, [(b.label, b.command) for b in c.buttons]) for c in reply.cards[1:]] == [
        ("C-4 · share the pipeline", "due Mon 16 Nov 09:00 (UTC)", [("Done", "done C-4")]),
        ("C-6 · draft proposal", "due Wed 18 Nov 17:00 (UTC)", [("Done", "done C-6")]),
        ("C-13 · plan workshop", "due Wed 23 Dec 17:00 (UTC)", [("Done", "done C-13")]),
    ]
    # the text alone says it all (the console shows only the text)
    lines = reply.text.splitlines()
    assert lines[0] == "Scorecard of ana — last 8 weeks"
    for label, value in ANA.items():
        assert f"{label}: {value}" in lines
    assert reply.text.endswith("Your open commitments:\n"
                               "C-4 · share the pipeline · due Mon 16 Nov 09:00 (UTC) · re Acme Alliance\n"
                               "C-6 · draft proposal · due Wed 18 Nov 17:00 (UTC)\n"
                               "C-13 · plan workshop · due Wed 23 Dec 17:00 (UTC) · re Globex")
    assert (await bot.say("ana", "report me")).text == reply.text
    # the Done button of a card works like the typed command, and the scorecard follows
    assert (await bot.say("ana", "done C-6", from_button=True)).ok
    after = await bot.say("ana", "report")
    # C-6 is no longer overdue now, but was at the end of the weeks before
    assert facts(after)["Overdue now"] == "1 ▁▅▅████▅"
    # done late this very instant: it moves from b3 (when it fell due) to b7 (when it was done)
    assert facts(after)["Kept on time"] == "40% (4 of 10 kept on time) █·▁·██▅▁"
    assert [c.title for c in after.cards[1:]] == ["C-4 · share the pipeline", "C-13 · plan workshop"]


async def test_a_partnership_scorecard_for_a_rep_has_its_health_but_no_coaching(bot):
    await history(bot)
    reply = await bot.say("bob", "report P-1")
    assert reply.ok
    assert [c.title for c in reply.cards] == ["P-1 Acme Alliance — last 8 weeks"]
    assert list(facts(reply).items()) == list(P1.items())
    assert "Coaching" not in reply.text and "Questions" not in reply.text
    assert reply.text.splitlines()[0] == "P-1 Acme Alliance — last 8 weeks"
    assert "Shared risk: A 4.7 · B —" in reply.text.splitlines()
    assert "B 2.5" not in reply.text  # side B's two answers stay unseen


async def test_a_partnerships_health_shows_a_side_once_it_has_the_answers_the_setting_asks_for(db, settings, clock):
    bot = Clocked(db, load_settings({"PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS": "2"}), clock)
    await history(bot)
    reply = await bot.say("bob", "report P-1")
    assert {k: v for k, v in facts(reply).items() if k in P1_HEALTH_FROM_TWO} == P1_HEALTH_FROM_TWO
    assert "Shared risk: A 4.7 · B 2.5 · gap 2.2 · imbalance" in reply.text.splitlines()


async def test_each_manager_coaches_their_own_sides_reps_by_what_is_stuck(bot):
    await history(bot)
    ana = await bot.say("ana", "report P-1")
    assert facts(ana) == P1
    assert [c.title for c in ana.cards[1:]] == ["Coaching · bob (side A) — last 4 weeks",
                                                "Coaching · leo (side A) — last 4 weeks"]
    bob, leo = ana.cards[1], ana.cards[2]
    assert [(f.label, f.value) for f in bob.facts] == [
        ("Activity", "0 handoffs given · 1 received · 0 commitments kept · 1 idea raised · 0 asks answered"),
        ("Not accepted", "H-3 by maria, waiting 34 days"),
        ("Stuck in a stage", "H-3 identified for 34 days; H-4 positioned for 24 days"),
        ("Overdue", "C-8 send references, due Fri 27 Nov"),
    ]
    assert bob.text == ("Questions for your next one-to-one:\n"
                        "1. What would help maria accept H-3: is the need clear enough?\n"
                        "2. What got in the way of C-8, and is the new date real?\n"
                        "3. What is the next step that moves H-4 past positioned?")
    assert [(f.label, f.value) for f in leo.facts] == [("Activity", "none in 4 weeks")]
    assert leo.text.endswith("1. Which partner rep (maria) could leo bring a customer to this month?")
    assert "Coaching · bob (side A) — last 4 weeks\nActivity: 0 handoffs given" in ana.text
    assert "3. What is the next step that moves H-4 past positioned?" in ana.text

    dana = await bot.say("dana", "report P-1")
    (maria,) = dana.cards[1:]
    assert maria.title == "Coaching · maria (side B) — last 4 weeks"
    assert [(f.label, f.value) for f in maria.facts] == [
        ("Activity", "1 handoff given · 0 received · 0 commitments kept · 0 ideas raised · 1 ask answered"),
        ("Stuck in a stage", "H-2 introduced for 40 days; H-3 identified for 34 days; H-4 positioned for 24 days"),
    ]
    assert maria.text.splitlines()[1:] == ["1. What is the next step that moves H-2 past introduced?",
                                           "2. What is the next step that moves H-3 past identified?",
                                           "3. What is the next step that moves H-4 past positioned?"]


async def test_coaching_counts_the_commitments_a_rep_kept_in_the_last_four_weeks(bot):
    """bob's C-2 was done on 29 Oct, before the 4 weeks; C-8, overdue, is done now and leaves the
    overdue facts; a commitment done 29 days ago does not count."""
    await history(bot)
    bot.clock.now = at(11, 22, 9)  # 29 days before the report
    assert (await bot.say("bob", "commit call Umbrella by mon")).ok
    assert (await bot.say("bob", "done C-14")).ok
    bot.clock.now = REPORT_AT
    assert (await bot.say("bob", "done C-8")).ok
    assert (await bot.say("bob", "commit send the pilot plan by tue")).ok
    assert (await bot.say("bob", "done C-15")).ok
    bob = (await bot.say("ana", "report P-1")).cards[1]
    assert bob.title == "Coaching · bob (side A) — last 4 weeks"
    assert [(f.label, f.value) for f in bob.facts] == [
        ("Activity", "0 handoffs given · 1 received · 2 commitments kept · 1 idea raised · 0 asks answered"),
        ("Not accepted", "H-3 by maria, waiting 34 days"),
        ("Stuck in a stage", "H-3 identified for 34 days; H-4 positioned for 24 days"),
    ]


async def test_a_person_is_reported_to_themselves_their_manager_and_their_partnerships_managers(bot):
    await history(bot)
    by_manager = await bot.say("ana", "report <@bob|bob>")  # ana is bob's manager
    by_peer_manager = await bot.say("dana", "report <@bob|bob>")  # dana manages a partnership bob is in
    by_himself = await bot.say("bob", "report <@bob|bob>")
    assert by_manager.ok and by_peer_manager.ok and by_himself.ok
    assert by_manager.cards[0].title == "Scorecard of bob — last 8 weeks"
    bob = facts(by_manager)
    assert bob["Kept on time"] == "50% (1 of 2 kept on time) █···▁···"  # C-2 on time, C-8 overdue
    assert bob["Handoffs given"] == "1 · identified 1 ▁▁▁█▁▁▁▁"
    assert bob["Handoffs received"] == "1 · positioned 1 ▁▁▁▁█▁▁▁"
    assert len(by_manager.cards) == 1 and "Your open commitments" not in by_manager.text  # not theirs
    assert facts(by_peer_manager) == bob
    assert [c.title for c in by_himself.cards[1:]] == ["C-8 · send references"]  # his own: with Done


async def test_who_may_not_see_a_scorecard_is_told_and_nothing_changes(bot, db, settings, clock):
    await history(bot)
    await assert_refused_without_change(bot, db, "bob", "report <@maria|maria>",
                                        "Only maria and their managers can see their scorecard.")
    await assert_refused_without_change(bot, db, "bob", "report <@ana|ana>",
                                        "Only ana and their managers can see their scorecard.")
    await assert_refused_without_change(bot, db, "olga", "report P-1", "Only the members of P-1 can see its scorecard")
    await assert_refused_without_change(bot, db, "ana", "report P-9", "There is no partnership P-9 here.")
    await assert_refused_without_change(bot, db, "ana", "report pipeline", "not 'pipeline'")
    await assert_refused_without_change(bot, db, "ana", "report P-1 now", "I don't understand 'now'")
    await assert_refused_without_change(bot, db, "ana", "report <@bob|bob> weekly", "I don't understand 'weekly'")
    # another workspace: its own ana is someone else, and P-1 there does not exist
    elsewhere = Chat(Dispatcher(db, settings, default_registry(), clock), workspace="globex")
    await assert_refused_without_change(elsewhere, db, "ana", "report P-1", "There is no partnership P-1 here.")
    assert len(await rows(db, Person, Person.display_name == "olga")) == 0  # the refusal saved no one


async def test_credit_on_stored_wins_counts_the_persons_share_of_each_amount(bot, db):
    """Win rows as `win` stores them, with shares of a person below 1 and an old win, read by
    the scorecard."""
    bot.clock.now = at(11, 23, 9)
    assert (await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await bot.say("dana", "partnership P-1 accept")).ok
    for account in ("Acme", "Globex", "Initech"):
        assert (await bot.say("ana", f"idea {account}: joint offer", channel="C1")).ok
    leads = {lead.number: lead for lead in await rows(db, Lead)}
    ana, dana = await person_named(db, "ana"), await person_named(db, "dana")
    wins = [Win(workspace_id=leads[1].workspace_id, record="L-1", lead_id=leads[1].id, amount_cents=12_000_000,
                won_by_id=ana.id, won_at=at(12, 1)),  # b5
            Win(workspace_id=leads[2].workspace_id, record="L-2", lead_id=leads[2].id, amount_cents=None,
                won_by_id=ana.id, won_at=at(12, 15)),  # b7
            Win(workspace_id=leads[3].workspace_id, record="L-3", lead_id=leads[3].id, amount_cents=5_000_050,
                won_by_id=ana.id, won_at=at(10, 1))]  # before the window
    async with db.session() as s:
        s.add_all(wins)
        await s.flush()
        s.add_all([WinCredit(win_id=wins[0].id, person_id=ana.id, roles="originator,deliverer", share=0.8),
                   WinCredit(win_id=wins[0].id, person_id=dana.id, roles="contributor", share=0.2),
                   WinCredit(win_id=wins[1].id, person_id=ana.id, roles="originator,deliverer", share=1.0),
                   WinCredit(win_id=wins[2].id, person_id=ana.id, roles="originator", share=0.3)])
        await s.commit()
    bot.clock.now = REPORT_AT
    ana_credit = facts(await bot.say("ana", "report"))["Credit on wins"]
    assert ana_credit == "2 wins · 96,000 credited · 1 without an amount ▁▁▁▁▁█▁█"  # 0.8 × 120,000
    assert facts(await bot.say("dana", "report"))["Credit on wins"] == "1 win · 24,000 credited ▁▁▁▁▁█▁▁"  # 0.2 × …
    assert facts(await bot.say("dana", "report P-1"))["Wins"] == "2 wins · 120,000 ▁▁▁▁▁█▁█"
