"""Issue 21: a handoff's `by <date>` is reminded and noticed overdue like a commitment's due date,
once each: to its sender while the receiver has not accepted it, then to the receiver; together
with the commitments and other handoffs due for that person at the same tick.
The fixed clock: Mon 23 Nov 2026 10:00 UTC; `by fri` is due Fri 27 Nov 17:00 on the reader's clock."""
from datetime import datetime, timedelta, timezone

from handlers.kernel.model import Reply
from storage.models import Handoff
from tests.helpers import person_named, rows, sent

UTC = timezone.utc
DUE = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
HAND_OVER = "handoff <@bob|bob> Acme Corp: needs a security review by fri"


def buttons(reply: Reply) -> list[tuple[str, str]]:
    return [(b.label, b.command) for card in reply.cards for b in card.buttons]


async def nothing_about_dates(db) -> bool:
    return not any([await sent(db, "handoff.reminder"), await sent(db, "handoff.overdue"),
                    await sent(db, "commitment.together")])


async def test_before_acceptance_the_sender_hears_the_date_is_near_then_passed_once_each(bot, db):
    await bot.say("ana", HAND_OVER)
    await bot.at(DUE - timedelta(hours=24, minutes=1))
    assert await nothing_about_dates(db)
    await bot.at(DUE - timedelta(hours=24))
    await bot.at(DUE - timedelta(hours=1))
    (reminder,) = await sent(db, "handoff.reminder")
    assert reminder.recipient_person_id == (await person_named(db, "ana")).id
    shown = Reply.from_dict(reminder.payload)
    assert shown.text == ("Reminder: H-1 to bob is due Fri 27 Nov and bob has not accepted it yet: Acme Corp — "
                          "needs a security review. Nudge the receiver, or take it back: "
                          "`handoff H-1 withdraw <reason>`.")
    assert buttons(shown) == [("Show", "handoff H-1")]
    assert (await bot.say("ana", "handoff H-1", from_button=True)).ok  # the button shows it
    assert not await sent(db, "handoff.overdue")
    await bot.at(DUE)
    await bot.at(DUE + timedelta(days=2))
    (notice,) = await sent(db, "handoff.overdue", "ana")
    assert notice.payload["text"].startswith(
        "H-1 to bob is overdue (was due Fri 27 Nov) and bob has not accepted it yet: Acme Corp — needs a security review.")
    assert len(await sent(db, "handoff.reminder")) == 1
    assert not await sent(db, "handoff.reminder", "bob") and not await sent(db, "handoff.overdue", "bob")


async def test_once_accepted_the_receiver_hears_it_with_the_next_stage_as_a_button(bot, db):
    await bot.say("ana", HAND_OVER)
    await bot.say("bob", "handoff H-1 accept")
    await bot.say("bob", "handoff H-1 positioned")
    await bot.at(DUE - timedelta(hours=24))
    (reminder,) = await sent(db, "handoff.reminder", "bob")
    shown = Reply.from_dict(reminder.payload)
    assert shown.text.startswith(
        "Reminder: H-1 from ana is due Fri 27 Nov: Acme Corp — needs a security review (now positioned). "
        "Move it along with `handoff H-1 <stage>`")
    assert buttons(shown) == [("Introduced", "handoff H-1 introduced"), ("Show", "handoff H-1")]
    moved = await bot.say("bob", "handoff H-1 introduced", from_button=True)
    assert moved.ok and "H-1 (Acme Corp) is now introduced" in moved.text
    await bot.at(DUE)
    await bot.at(DUE + timedelta(hours=5))
    (notice,) = await sent(db, "handoff.overdue", "bob")
    assert "H-1 from ana is overdue (was due Fri 27 Nov): Acme Corp — needs a security review (now introduced)" \
        in notice.payload["text"]
    assert not await sent(db, "handoff.reminder", "ana") and not await sent(db, "handoff.overdue", "ana")


async def test_accepted_after_the_reminder_the_overdue_notice_goes_to_the_receiver(bot, db):
    await bot.say("ana", HAND_OVER)
    await bot.at(DUE - timedelta(hours=24))
    bot.clock.now = DUE - timedelta(hours=2)
    await bot.say("bob", "handoff H-1 accept")
    await bot.at(DUE)
    assert [len(await sent(db, kind, name)) for kind in ("handoff.reminder", "handoff.overdue")
            for name in ("ana", "bob")] == [1, 0, 0, 1]


async def test_the_receivers_clock_decides_when_it_is_due(bot, db):
    await bot.say("bob", "timezone America/New_York")
    await bot.say("ana", HAND_OVER)
    await bot.say("bob", "handoff H-1 accept")
    await bot.at(DUE)  # 12:00 in New York
    assert not await sent(db, "handoff.overdue")
    await bot.at(DUE + timedelta(hours=5))  # 17:00 in New York
    assert len(await sent(db, "handoff.overdue", "bob")) == 1


async def test_a_date_too_close_for_a_reminder_gets_only_the_overdue_notice(bot, db):
    await bot.say("ana", "handoff <@bob|bob> Acme Corp: needs a security review by tomorrow")  # Tue 17:00
    bot.clock.now = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    await bot.say("ana", "handoff <@bob|bob> Globex: needs SIEM pricing by tomorrow")  # made after its reminder time
    await bot.at(datetime(2026, 11, 23, 18, 1, tzinfo=UTC))
    (reminder,) = await sent(db, "handoff.reminder", "ana")
    assert "H-1 to bob is due Tue 24 Nov" in reminder.payload["text"]
    await bot.at(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))
    (together,) = await sent(db, "commitment.together", "ana")
    assert together.payload["text"].startswith("2 of your handoffs are overdue:")
    assert len(await sent(db, "handoff.reminder")) == 1


async def test_closed_declined_withdrawn_and_undated_handoffs_are_not_reminded(bot, db):
    for account in ("Acme", "Globex", "Initech", "Umbrella"):
        await bot.say("ana", f"handoff <@bob|bob> {account}: needs a review by fri")
    await bot.say("ana", "handoff <@bob|bob> Hooli: needs a review")  # no date
    await bot.say("bob", "handoff H-1 decline not my territory")
    await bot.say("bob", "handoff H-2 accept")
    assert (await bot.say("bob", "handoff H-2 won 10k")).ok
    await bot.say("ana", "handoff H-3 withdraw sent to the wrong rep")
    await bot.say("bob", "handoff H-4 accept")
    await bot.say("bob", "handoff H-4 lost went with a competitor")
    await bot.at(DUE - timedelta(hours=24))
    await bot.at(DUE + timedelta(days=1))
    assert await nothing_about_dates(db)
    assert [h.overdue_notified_at for h in await rows(db, Handoff)] == [None] * 5


async def test_one_person_gets_their_commitments_and_handoffs_due_at_one_tick_in_one_message(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    await bot.say("ana", HAND_OVER)  # H-1: ana waits on bob
    await bot.say("bob", "handoff <@ana|ana> Globex: needs SIEM pricing by fri")  # H-2: ana's to do
    await bot.say("ana", "handoff H-2 accept")
    await bot.at(DUE)  # the reminders a day before were never ticked: straight to overdue
    (message,) = await sent(db, "commitment.together", "ana")
    shown = Reply.from_dict(message.payload)
    assert shown.text.split("\n") == [
        "3 of your commitments and handoffs are overdue:",
        "• C-1 is overdue (was due Fri 27 Nov 17:00 (UTC)): send the deck",
        "• H-1 to bob is overdue (was due Fri 27 Nov) and bob has not accepted it yet: Acme Corp — needs a security review",
        "• H-2 from bob is overdue (was due Fri 27 Nov): Globex — needs SIEM pricing (now identified)",
        "Mark each done, snooze it 1 day or drop it with a reason: `done C-n`, `snooze C-n`, `drop C-n <reason>`.",
        "Nudge the receiver, or take a handoff back: `handoff H-n withdraw <reason>`.",
        "Move a handoff along with `handoff H-n <stage>` (won or lost closes it), or see it: `handoff H-n`.",
    ]
    assert buttons(shown) == [("Done", "done C-1"), ("Snooze 1 day", "snooze C-1"), ("Drop", "drop C-1"),
                              ("Show", "handoff H-1"), ("Positioned", "handoff H-2 positioned"),
                              ("Show", "handoff H-2")]
    assert not await sent(db, "commitment.overdue") and not await sent(db, "handoff.overdue", "ana")
    # bob is owed nothing: H-1 is ana's to hear of until he accepts, H-2 is ana's once accepted
    assert not await sent(db, "handoff.overdue", "bob") and not await sent(db, "commitment.together", "bob")
    await bot.at(DUE + timedelta(hours=1))
    await bot.at(DUE + timedelta(days=3))
    assert len(await sent(db, "commitment.together")) == 1 and not await sent(db, "handoff.overdue")


async def test_handoffs_due_soon_together_then_the_one_left_alone(bot, db):
    await bot.say("ana", HAND_OVER)
    await bot.say("ana", "handoff <@bob|bob> Globex: needs SIEM pricing by fri")
    await bot.at(DUE - timedelta(hours=24))
    (message,) = await sent(db, "commitment.together", "ana")
    assert message.payload["text"].startswith("2 of your handoffs are due soon:\n• H-1 to bob is due Fri 27 Nov")
    await bot.say("ana", "handoff H-1 withdraw customer paused")
    await bot.at(DUE)
    (notice,) = await sent(db, "handoff.overdue", "ana")
    assert notice.payload["text"].startswith("H-2 to bob is overdue")
    assert len(await sent(db, "commitment.together")) == 1

