"""ask: requests for help (Q-n) — the person's Accept/Decline/Answer, the asker told of each,
links and due dates, `list` both ways, and the follow-up on the fixed movable clock: a nudge
after 24 h, the manager told after 72 h, each once, stopped by the first response."""
from datetime import date, datetime, timedelta, timezone

import pytest

from handlers.kernel.model import Reply
from storage.models import ActivityLog, Ask, Claim
from tests.helpers import assert_refused_without_change, person_named, rows, sent, snapshot

UTC = timezone.utc
ASKED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the fixed clock: Mon 23 Nov 2026 10:00 UTC
NUDGE, ESCALATE = ASKED + timedelta(hours=24), ASKED + timedelta(hours=72)
REQUEST = "ask <@bob|bob> special credit terms for Distributor X by fri"


async def the_ask(db) -> Ask:
    (a,) = await rows(db, Ask)
    return a


def buttons(message) -> list[tuple[str, str]]:
    return [(b.label, b.command) for b in Reply.from_dict(message.payload).cards[0].buttons]


async def with_manager(bot, rep: str = "bob", manager: str = "mia") -> None:
    """`manager` starts P-1 with pat and adds `rep` to their side: `rep`'s manager is `manager`."""
    assert (await bot.say(manager, "partnership new Acme Alliance with <@pat|pat>")).ok
    assert (await bot.say("pat", "partnership P-1 accept")).ok
    assert (await bot.say(manager, f"partnership P-1 add <@{rep}|{rep}>")).ok
    assert (await bot.say(rep, "partnership P-1 accept")).ok


# --- asking ---------------------------------------------------------------------------------
async def test_an_ask_reaches_the_person_with_accept_decline_and_answer_and_is_logged(bot, db):
    reply = await bot.say("ana", REQUEST)
    assert reply.ok
    assert reply.text == ("Q-1 sent to bob: special credit terms for Distributor X — by Fri 27 Nov. "
                          "I'll tell you when they respond.")
    a = await the_ask(db)
    ana, bob = await person_named(db, "ana"), await person_named(db, "bob")
    assert (a.number, a.asker_id, a.person_id, a.request, a.due_date, a.status) == (
        1, ana.id, bob.id, "special credit terms for Distributor X", date(2026, 11, 27), "open")
    assert (a.created_at, a.first_response_at) == (ASKED, None)
    assert (a.cadence_at, a.cadence_step) == (NUDGE, "nudge")
    (log,) = await rows(db, ActivityLog, ActivityLog.action == "ask.created")
    assert (log.record, log.person_id, log.after["status"]) == ("Q-1", ana.id, "open")
    (request,) = await sent(db, "ask.request", "bob")
    shown = Reply.from_dict(request.payload)
    assert shown.text == ("ana asks you for help (Q-1): special credit terms for Distributor X — by Fri 27 Nov. "
                          "Accept, decline or answer it.")
    assert shown.cards[0].title == "Q-1 · ana asks for your help"
    assert buttons(request) == [("Accept", "ask Q-1 accept"), ("Decline", "ask Q-1 decline"),
                                ("Answer", "ask Q-1 answer")]


async def test_the_asker_is_told_when_the_person_cannot_be_messaged_yet(bot, db):
    bot.chat.platform = "teams"  # Teams lets a bot message only people who have talked to it
    reply = await bot.say("ana", "ask <@bob|bob> a price for 40 seats")
    assert reply.ok and reply.text == ("Q-1 sent to bob: a price for 40 seats. bob has not talked to Partnerbot yet, "
                                       "so I can't message them; the request waits and reaches them as soon as they do.")
    (waiting,) = await sent(db, "ask.request", "bob")
    assert waiting.status == "pending"


async def test_asks_are_numbered_per_workspace(bot):
    assert (await bot.say("ana", "ask <@bob> a price for 40 seats")).text.startswith("Q-1 sent to bob")
    assert (await bot.say("bob", "ask <@ana> the Acme contact")).text.startswith("Q-2 sent to ana")
    bot.chat.workspace = "globex"
    assert (await bot.say("ana", "ask <@bob> a price for 40 seats")).text.startswith("Q-1 sent to bob")


async def test_re_links_a_handoff_a_lead_or_a_partnership_and_re_inside_the_request_stays(bot, db):
    await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>")
    await bot.say("dana", "partnership P-1 accept")
    await bot.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await bot.say("ana", "idea Acme: cross-sell the analytics add-on")
    replies = [await bot.say("ana", text) for text in (
        "ask <@bob> a return authorisation re H-1",
        "ask <@bob> a reference customer by fri re l1",
        "ask <@dana> special credit terms re #P-1 by next week",
        "ask <@bob> your view re pricing by tomorrow",
    )]
    assert all(r.ok for r in replies), [r.text for r in replies]
    assert replies[0].text.startswith("Q-1 sent to bob: a return authorisation — re H-1 (Acme Corp).")
    assert replies[1].text.startswith("Q-2 sent to bob: a reference customer — by Fri 27 Nov, re L-1 (Acme).")
    assert replies[2].text.startswith("Q-3 sent to dana: special credit terms — by Mon 30 Nov, re P-1 Acme Alliance.")
    q1, q2, q3, q4 = sorted(await rows(db, Ask), key=lambda a: a.number)
    assert (q1.handoff_id, q1.lead_id, q1.partnership_id, q1.due_date) == (1, None, None, None)
    assert (q2.lead_id, q2.request, q2.due_date) == (1, "a reference customer", date(2026, 11, 27))
    assert (q3.partnership_id, q3.request, q3.due_date) == (1, "special credit terms", date(2026, 11, 30))
    assert (q4.request, q4.due_date, q4.handoff_id, q4.lead_id, q4.partnership_id) == (
        "your view re pricing", date(2026, 11, 24), None, None, None)
    (to_dana,) = await sent(db, "ask.request", "dana")
    assert "special credit terms — by Mon 30 Nov, re P-1 Acme Alliance" in to_dana.payload["text"]


# --- responding -----------------------------------------------------------------------------
async def test_accept_from_the_button_then_answer_tells_the_asker_each_time(bot, db):
    await bot.say("ana", REQUEST)
    bot.clock.now = ASKED + timedelta(hours=3)
    accepted = await bot.say("bob", "ask Q-1 accept", from_button=True)
    assert accepted.ok and accepted.replace_source
    assert accepted.text.startswith("You accepted Q-1: special credit terms for Distributor X. ana has been told")
    assert [b.command for b in accepted.cards[0].buttons] == ["ask Q-1 decline", "ask Q-1 answer"]
    a = await the_ask(db)
    assert (a.status, a.accepted_at, a.first_response_at, a.cadence_at, a.cadence_step) == (
        "accepted", ASKED + timedelta(hours=3), ASKED + timedelta(hours=3), None, None)
    (told,) = await sent(db, "ask.accepted", "ana")
    assert told.payload["text"] == ("bob accepted Q-1: special credit terms for Distributor X — by Fri 27 Nov. "
                                    "They'll answer it here.")

    bot.clock.now = ASKED + timedelta(hours=30)
    answered = await bot.say("bob", "ask q1 answer approved: net 60 for this order")
    assert answered.ok and answered.text.startswith("You answered Q-1 (special credit terms for Distributor X): "
                                                    "approved: net 60 for this order. ana has been told.")
    a = await the_ask(db)
    assert (a.status, a.answer, a.answered_at) == ("answered", "approved: net 60 for this order",
                                                   ASKED + timedelta(hours=30))
    assert a.first_response_at == ASKED + timedelta(hours=3)  # the first response is what is timed
    (told,) = await sent(db, "ask.answered", "ana")
    shown = Reply.from_dict(told.payload)
    assert shown.text == "bob answered Q-1 (special credit terms for Distributor X): approved: net 60 for this order"
    assert shown.cards[0].text == "approved: net 60 for this order"
    log = await rows(db, ActivityLog, ActivityLog.record == "Q-1")
    assert [entry.action for entry in log] == ["ask.created", "ask.accepted", "ask.answered"]
    assert log[2].before["status"] == "accepted" and log[2].after["answer"] == "approved: net 60 for this order"


async def test_answer_from_the_button_opens_a_form_whose_submission_answers(bot, db):
    await bot.say("ana", REQUEST)
    before = await snapshot(db)
    asked = await bot.say("bob", "ask Q-1 answer", from_button=True)
    assert asked.ok and asked.form is not None
    assert (asked.form.title, asked.form.submit_command) == ("Answer Q-1", "ask Q-1 answer")
    assert [q.id for q in asked.form.questions] == ["answer"]
    assert "special credit terms for Distributor X" in asked.form.intro
    assert await snapshot(db) == before and (await the_ask(db)).first_response_at is None  # asking changes nothing

    empty = await bot.say("bob", "ask Q-1 answer", form_values={"answer": "  "})
    assert not empty.ok and "Write the answer before sending it." in empty.text
    assert empty.form.errors == {"answer": "Write the answer before sending it."}  # the form stays open
    assert await snapshot(db) == before

    answered = await bot.say("bob", "ask Q-1 answer", form_values={"answer": "yes, net 60"})
    assert answered.ok and "You answered Q-1" in answered.text
    a = await the_ask(db)
    assert (a.status, a.answer, a.first_response_at, a.cadence_at) == ("answered", "yes, net 60", ASKED, None)
    (told,) = await sent(db, "ask.answered", "ana")
    assert told.payload["text"].endswith(": yes, net 60")


async def test_decline_from_the_button_asks_the_reason_in_a_form_and_the_asker_is_told_it(bot, db):
    await bot.say("ana", REQUEST)
    before = await snapshot(db)
    asked = await bot.say("bob", "ask Q-1 decline", from_button=True)
    assert asked.ok and asked.form is not None and asked.form.submit_command == "ask Q-1 decline"
    assert [(q.id, q.multiline) for q in asked.form.questions] == [("reason", False)]
    assert await snapshot(db) == before

    declined = await bot.say("bob", "ask Q-1 decline", from_button=True,
                             form_values={"reason": "credit is finance's call, ask Lee"})
    assert declined.ok and declined.replace_source
    assert declined.text == ("You declined Q-1: special credit terms for Distributor X. "
                             "Reason: credit is finance's call, ask Lee. ana has been told.")
    assert declined.cards[0].buttons == ()
    a = await the_ask(db)
    assert (a.status, a.decline_reason, a.declined_at, a.first_response_at) == (
        "declined", "credit is finance's call, ask Lee", ASKED, ASKED)
    (told,) = await sent(db, "ask.declined", "ana")
    assert told.payload["text"] == ("bob declined Q-1: special credit terms for Distributor X. "
                                    "Reason: credit is finance's call, ask Lee.")


async def test_a_typed_decline_may_leave_out_the_reason_and_accepted_asks_may_still_be_declined(bot, db):
    await bot.say("ana", "ask <@bob> a price for 40 seats")
    declined = await bot.say("bob", "ask Q-1 decline")
    assert declined.ok and declined.text == "You declined Q-1: a price for 40 seats. ana has been told."
    assert (await sent(db, "ask.declined", "ana"))[0].payload["text"] == "bob declined Q-1: a price for 40 seats."

    await bot.say("ana", "ask <@bob> the Acme contact")
    bot.clock.now = ASKED + timedelta(hours=1)
    await bot.say("bob", "ask Q-2 accept")
    bot.clock.now = ASKED + timedelta(hours=5)
    assert (await bot.say("bob", "ask Q-2 decline I left the Acme team")).ok
    q2 = (await rows(db, Ask, Ask.number == 2))[0]
    assert (q2.status, q2.decline_reason, q2.first_response_at) == (
        "declined", "I left the Acme team", ASKED + timedelta(hours=1))


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("who, command, reason", [
    ("ana", "ask <@ana> a price for 40 seats", "can't ask yourself"),
    ("ana", "ask bob a price for 40 seats", "Mention the person you ask with @"),
    ("ana", "ask", "Mention the person you ask with @"),
    ("ana", "ask <@bob>", "Say what you need from bob"),
    ("ana", "ask <@bob>   by fri", "Say what you need from bob"),
    ("ana", "ask <@bob> re H-1", "Say what you need from bob"),
    ("ana", "ask <@bob> a price by 2026-11-01", "is in the past"),
    ("ana", "ask <@bob> a price re H-9", "There is no handoff H-9 here."),
    ("ana", "ask <@bob> a price re L-9", "There is no lead L-9 here."),
    ("ana", "ask <@bob> a price re P-9", "There is no partnership P-9 here."),
    ("ana", "ask <@bob> a price re C-1", "not C-1"),
    ("bob", "ask Q-9 accept", "There is no ask Q-9 here."),
    ("carol", "ask Q-1", "Only ana or bob and their managers can see Q-1"),  # `ask Q-n` shows it
    ("bob", "ask Q-1 maybe", "'maybe' is not a response to Q-1"),
    ("bob", "ask Q-1 answer", "Say the answer"),
    ("carol", "ask Q-1 accept", "Q-1 is someone else's record: only bob, who was asked"),
    ("carol", "ask Q-1 answer yes", "someone else's record"),
    ("ana", "ask Q-1 decline no", "someone else's record"),
])
async def test_bad_asks_get_a_reason_and_change_nothing(bot, db, who, command, reason):
    await bot.say("ana", "commit send the deck by fri")  # C-1 exists: an ask is not about a commitment
    await bot.say("ana", REQUEST)
    await bot.say("carol", "help")
    before = await the_ask(db)
    await assert_refused_without_change(bot.chat, db, who, command, reason)
    assert (await the_ask(db)).model_dump() == before.model_dump()


@pytest.mark.parametrize("first, second, reason", [
    ("accept", "accept", "Q-1 was already accepted; answer it with `ask Q-1 answer <text>`."),
    ("answer net 60", "answer net 90", "Q-1 was already answered."),
    ("answer net 60", "accept", "Q-1 was already answered."),
    ("answer net 60", "decline too late", "Q-1 was already answered."),
    ("decline not mine", "accept", "Q-1 was already declined."),
    ("decline not mine", "decline again", "Q-1 was already declined."),
    ("decline not mine", "answer net 60", "Q-1 was already declined."),
])
async def test_responding_twice_is_refused_and_changes_nothing(bot, db, first, second, reason):
    await bot.say("ana", REQUEST)
    assert (await bot.say("bob", f"ask Q-1 {first}")).ok
    before = await the_ask(db)
    await assert_refused_without_change(bot.chat, db, "bob", f"ask Q-1 {second}", reason)
    assert (await the_ask(db)).model_dump() == before.model_dump()


async def test_a_stale_button_on_an_answered_ask_says_so_and_opens_no_form(bot, db):
    await bot.say("ana", REQUEST)
    await bot.say("bob", "ask Q-1 answer net 60")
    again = await bot.say("bob", "ask Q-1 answer", from_button=True)
    assert not again.ok and again.form is None and "Q-1 was already answered." in again.text


async def test_help_ask_shows_the_usage_and_examples(bot):
    reply = await bot.say("ana", "help ask")
    assert reply.ok and reply.text.startswith("ask: ask someone for help")
    for line in ("ask @person <request> [by <date>] [re H-n|L-n|P-n]", "ask Q-n accept",
                 "ask Q-n decline [reason]", "ask Q-n answer <text>",
                 "ask @maria special credit terms for Distributor X by fri re P-1"):
        assert line in reply.text
    assert "ask @person <request>" in (await bot.say("ana", "help")).text


# --- list -----------------------------------------------------------------------------------
async def test_list_shows_open_asks_both_ways_and_not_the_closed_ones(bot, db):
    await bot.say("ana", REQUEST)  # ana waits on bob
    await bot.say("bob", "ask <@ana> the Acme CFO's name")  # ana was asked
    await bot.say("carol", "ask <@ana> last year's price list by 2026-11-25")
    await bot.say("ana", "ask Q-2 accept")
    await bot.say("ana", "ask <@carol> a demo slot")  # Q-4, then answered
    await bot.say("carol", "ask Q-4 answer tue 10:00")

    mine = await bot.say("ana", "list")
    assert mine.text.splitlines() == [
        "Your open items:",
        "Q-3 · last year's price list · asked by carol · by Wed 25 Nov · no response yet",
        "Q-1 · special credit terms for Distributor X · waiting on bob · by Fri 27 Nov · no response yet",
        "Q-2 · the Acme CFO's name · asked by bob · accepted",
    ]
    assert (await bot.say("ana", "list mine")).text == mine.text
    # `list @person` is for them and their managers (as `report`): an admin makes ana bob's manager
    assert (await bot.say("ana", "admin manager <@bob|bob> <@ana|ana>")).ok
    bobs = await bot.say("ana", "list <@bob>")
    assert bobs.text.splitlines() == [
        "Open items of bob:",
        "Q-1 · special credit terms for Distributor X · asked by ana · by Fri 27 Nov · no response yet",
        "Q-2 · the Acme CFO's name · waiting on ana · accepted",
    ]
    await bot.say("bob", "ask Q-1 decline not mine")
    assert "Q-1" not in (await bot.say("ana", "list")).text
    assert "Q-" not in (await bot.say("ana", "list overdue")).text


# --- the follow-up --------------------------------------------------------------------------
async def test_an_unanswered_ask_is_nudged_once_at_exactly_24_hours_with_the_buttons(bot, db):
    await bot.say("ana", REQUEST)
    assert not await bot.at(NUDGE - timedelta(minutes=1))
    assert not await sent(db, "ask.nudge")
    assert await bot.at(NUDGE) == {"ask follow-ups": 1}
    (nudge,) = await sent(db, "ask.nudge", "bob")
    shown = Reply.from_dict(nudge.payload)
    assert shown.text == ("Reminder: ana is still waiting for your response to Q-1 (asked Mon 23 Nov 10:00 (UTC)): "
                          "special credit terms for Distributor X — by Fri 27 Nov. Accept, decline or answer it.")
    assert buttons(nudge) == [("Accept", "ask Q-1 accept"), ("Decline", "ask Q-1 decline"),
                              ("Answer", "ask Q-1 answer")]
    a = await the_ask(db)
    assert (a.cadence_at, a.cadence_step) == (ESCALATE, "escalate")
    assert not await bot.at(NUDGE + timedelta(hours=1))
    assert len(await sent(db, "ask.nudge")) == 1


async def test_the_same_tick_twice_changes_nothing(bot, db):
    await with_manager(bot)
    await bot.say("ana", REQUEST)
    for instant in (NUDGE, ESCALATE):
        assert await bot.at(instant) == {"ask follow-ups": 1}
        before = (await snapshot(db), len(await rows(db, Claim)), (await the_ask(db)).model_dump())
        assert not await bot.at(instant)
        assert (await snapshot(db), len(await rows(db, Claim)), (await the_ask(db)).model_dump()) == before
    assert len(await sent(db, "ask.nudge")) == len(await sent(db, "ask.escalate")) == 1


async def test_after_72_hours_the_persons_manager_is_told_once(bot, db):
    await with_manager(bot)  # bob's manager is mia
    await bot.say("ana", REQUEST)
    await bot.at(NUDGE)
    assert not await bot.at(ESCALATE - timedelta(minutes=1))
    assert await bot.at(ESCALATE) == {"ask follow-ups": 1}
    await bot.at(ESCALATE + timedelta(days=3))
    (told,) = await sent(db, "ask.escalate")
    assert told.recipient_person_id == (await person_named(db, "mia")).id
    shown = Reply.from_dict(told.payload)
    assert shown.text == ("bob has not responded to Q-1 from ana since Mon 23 Nov 10:00 (UTC): special credit terms "
                          "for Distributor X — by Fri 27 Nov. Worth a word with bob.")
    assert shown.cards[0].buttons == ()  # the manager cannot respond for bob
    assert len(await sent(db, "ask.nudge")) == 1
    a = await the_ask(db)
    assert (a.cadence_at, a.cadence_step, a.status) == (None, None, "open")
    # bob still can respond; the asker is told as usual
    assert (await bot.say("bob", "ask Q-1 accept")).ok
    assert (await the_ask(db)).first_response_at == ESCALATE + timedelta(days=3)


async def test_without_a_known_manager_the_asker_learns_nobody_was_told_at_72_hours(bot, db):
    await bot.say("ana", REQUEST)
    await bot.at(NUDGE)
    assert await bot.at(ESCALATE) == {"ask follow-ups": 1}
    assert not await bot.at(ESCALATE + timedelta(days=1))
    assert not await sent(db, "ask.escalate")
    (told,) = await sent(db, "ask.no_manager", "ana")
    assert told.payload["text"] == (
        "bob has not responded to Q-1 since Mon 23 Nov 10:00 (UTC): special credit terms for Distributor X — by "
        "Fri 27 Nov. Nobody else was told: Partnerbot knows no manager of bob (an admin sets one with "
        "`admin manager @rep @manager`).")
    assert ((await the_ask(db)).cadence_at, (await the_ask(db)).cadence_step) == (None, None)


async def test_the_asker_who_is_the_persons_manager_is_not_told_of_their_own_ask(bot, db):
    await with_manager(bot)
    await bot.say("mia", "ask <@bob|bob> the Globex forecast")
    await bot.at(ESCALATE)
    assert len(await sent(db, "ask.nudge", "bob")) == 1 and not await sent(db, "ask.escalate")


async def test_a_response_before_24_hours_means_no_nudge_and_no_escalation(bot, db):
    await with_manager(bot)
    await bot.say("ana", REQUEST)
    bot.clock.now = NUDGE - timedelta(minutes=5)
    await bot.say("bob", "ask Q-1 accept")
    assert not await bot.at(NUDGE)
    assert not await bot.at(ESCALATE)
    assert not await sent(db, "ask.nudge") and not await sent(db, "ask.escalate")


async def test_a_response_after_the_nudge_stops_the_escalation(bot, db):
    await with_manager(bot)
    await bot.say("ana", REQUEST)
    await bot.at(NUDGE)
    bot.clock.now = NUDGE + timedelta(hours=2)
    declined = await bot.say("bob", "ask Q-1 decline", from_button=True, form_values={"reason": "not my area"})
    assert declined.ok
    assert (await the_ask(db)).first_response_at == NUDGE + timedelta(hours=2)
    assert not await bot.at(ESCALATE)
    assert not await sent(db, "ask.escalate")


async def test_after_downtime_one_tick_nudges_and_escalates_once_each(bot, db):
    await with_manager(bot)
    await bot.say("ana", REQUEST)
    assert await bot.at(ESCALATE + timedelta(hours=8)) == {"ask follow-ups": 1}
    assert not await bot.at(ESCALATE + timedelta(hours=9))
    assert len(await sent(db, "ask.nudge", "bob")) == len(await sent(db, "ask.escalate", "mia")) == 1
    keys = sorted(c.key for c in await rows(db, Claim) if c.key.startswith("ask."))
    bob, mia = await person_named(db, "bob"), await person_named(db, "mia")
    ws = (await the_ask(db)).workspace_id
    assert keys == [f"ask.escalate:{ws}/Q-1:-:{mia.id}", f"ask.nudge:{ws}/Q-1:-:{bob.id}"]


async def test_an_ask_is_shown_with_its_history_to_the_asker_and_the_asked(bot):
    await bot.say("ana", REQUEST)
    await bot.say("bob", "ask Q-1 answer approved: net 60")
    text = (await bot.say("ana", "ask Q-1")).text
    assert text.startswith("Q-1 · special credit terms for Distributor X · waiting on bob")
    assert "ana created it" in text and "bob answered it" in text
    assert (await bot.say("bob", "ask Q-1")).ok
