"""Commitment reminders and overdue notices, their buttons, snooze; handoff follow-ups."""
from datetime import datetime, timedelta, timezone

from handlers.kernel.model import Reply
from storage.models import Commitment
from tests.helpers import assert_refused_without_change, person_named, rows, sent, snapshot

UTC = timezone.utc
# `commit … by fri` on Mon 23 Nov is due Fri 27 Nov 17:00 in the owner's timezone
DUE = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


async def test_a_reminder_a_day_before_and_an_overdue_notice_at_due_time_each_once(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    assert not await bot.at(DUE - timedelta(hours=24, minutes=1))
    await bot.at(DUE - timedelta(hours=24))
    await bot.at(DUE - timedelta(hours=1))
    (reminder,) = await sent(db, "commitment.reminder", "ana")
    shown = Reply.from_dict(reminder.payload)
    assert "C-1 is due Fri 27 Nov 17:00 (UTC)" in shown.text and "send the deck" in shown.text
    assert [(b.label, b.command) for b in shown.cards[0].buttons] == [
        ("Done", "done C-1"), ("Snooze 1 day", "snooze C-1"), ("Drop", "drop C-1")]
    assert not await sent(db, "commitment.overdue")
    await bot.at(DUE)
    await bot.at(DUE + timedelta(days=2))
    (notice,) = await sent(db, "commitment.overdue", "ana")
    assert "C-1 is overdue" in notice.payload["text"]


async def test_reminders_follow_the_owners_timezone(bot, db):
    await bot.say("ana", "timezone America/New_York")
    await bot.say("ana", "commit send the deck by fri")  # 17:00 New York = 22:00 UTC
    await bot.at(datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    assert not await sent(db, "commitment.overdue")
    await bot.at(datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    assert len(await sent(db, "commitment.overdue")) == 1


async def test_done_from_the_button_stops_the_reminders(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    await bot.at(DUE - timedelta(hours=24))
    reply = await bot.say("ana", "done C-1", from_button=True)
    assert reply.ok and reply.replace_source and "C-1 kept (on time)" in reply.text
    await bot.at(DUE + timedelta(hours=1))
    assert not await sent(db, "commitment.overdue")


async def test_snooze_moves_the_due_date_a_day_and_reminds_again(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    await bot.at(DUE)  # overdue notice
    reply = await bot.say("ana", "snooze C-1", from_button=True)
    assert reply.ok and reply.replace_source and "Sat 28 Nov 17:00" in reply.text
    (c,) = await rows(db, Commitment)
    assert c.due_at == DUE + timedelta(days=1)
    await bot.at(DUE + timedelta(days=1))
    assert len(await sent(db, "commitment.overdue")) == 2  # one per due instant
    assert "3d" not in (await bot.say("ana", "snooze C-1 3d")).text
    (c,) = await rows(db, Commitment)
    assert c.due_date.isoformat() == "2026-12-01"


async def test_snooze_refuses_bad_days_and_other_peoples_commitments(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    await assert_refused_without_change(bot.chat, db, "ana", "snooze C-1 forever", "number of days")
    await assert_refused_without_change(bot.chat, db, "bob", "snooze C-1", "belongs to ana")
    await assert_refused_without_change(bot.chat, db, "ana", "snooze C-9", "no commitment C-9")


async def test_drop_from_the_button_asks_for_the_reason_in_a_form(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    before = await snapshot(db)
    asked = await bot.say("ana", "drop C-1", from_button=True)
    assert asked.ok and asked.form and asked.form.submit_command == "drop C-1"
    assert [q.id for q in asked.form.questions] == ["reason"]
    assert await snapshot(db) == before  # asking changes nothing
    dropped = await bot.say("ana", "drop C-1", form_values={"reason": "customer paused"})
    assert dropped.ok and "customer paused" in dropped.text
    (c,) = await rows(db, Commitment)
    assert (c.status, c.close_note, c.cadence_at) == ("dropped", "customer paused", None)


async def test_an_unaccepted_handoff_is_nudged_to_the_receiver_once(bot, db):
    await bot.say("ana", "handoff <@bob|bob> Acme Corp: needs a security review")
    created = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    await bot.at(created + timedelta(hours=47))
    assert not await sent(db, "handoff.accept_nudge")
    await bot.at(created + timedelta(hours=48))
    await bot.at(created + timedelta(hours=96))
    (nudge,) = await sent(db, "handoff.accept_nudge", "bob")
    shown = Reply.from_dict(nudge.payload)
    assert "ana is still waiting for you to accept H-1" in shown.text
    assert [b.command for b in shown.cards[0].buttons] == ["handoff H-1 accept", "handoff H-1 decline"]


async def test_an_accepted_handoff_is_not_nudged(bot, db):
    await bot.say("ana", "handoff <@bob|bob> Acme Corp: needs a security review")
    await bot.say("bob", "handoff H-1 accept")
    await bot.at(datetime(2026, 11, 23, 10, 0, tzinfo=UTC) + timedelta(hours=49))
    assert not await sent(db, "handoff.accept_nudge")


async def test_a_stuck_handoff_is_reported_to_both_reps_managers_once_per_stage(bot, db):
    await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>")
    await bot.say("dana", "partnership P-1 accept")
    await bot.say("ana", "partnership P-1 add <@rita|rita>")
    await bot.say("rita", "partnership P-1 accept")
    await bot.say("dana", "partnership P-1 add <@sam|sam>")
    await bot.say("sam", "partnership P-1 accept")
    await bot.say("rita", "handoff <@sam|sam> Globex: needs SIEM pricing")
    await bot.say("sam", "handoff H-1 accept")
    await bot.say("rita", "handoff H-1 positioned")
    stuck = datetime(2026, 11, 23, 10, 0, tzinfo=UTC) + timedelta(days=14)
    await bot.at(stuck - timedelta(minutes=1))
    assert not await sent(db, "handoff.stale")
    await bot.at(stuck)
    await bot.at(stuck + timedelta(days=3))
    reports = await sent(db, "handoff.stale")
    managers = {(await person_named(db, name)).id for name in ("ana", "dana")}
    assert len(reports) == 2 and {m.recipient_person_id for m in reports} == managers
    assert "H-1 (Globex: needs SIEM pricing) has been positioned for 14 days" in reports[0].payload["text"]
    # moving on starts the clock again: stuck in the next stage is reported again
    bot.clock.now = stuck + timedelta(days=4)
    await bot.say("sam", "handoff H-1 introduced")
    await bot.at(stuck + timedelta(days=18))
    assert len(await sent(db, "handoff.stale")) == 4


async def test_commitments_overdue_at_one_tick_come_in_one_message_with_a_done_button_each(bot, db):
    for what in ("send the deck", "call Acme", "book the demo"):
        await bot.say("ana", f"commit {what} by fri")
    await bot.say("bob", "commit chase legal by fri")
    await bot.at(DUE)  # the reminders a day before were never ticked: straight to overdue
    (message,) = await sent(db, "commitment.together", "ana")
    shown = Reply.from_dict(message.payload)
    assert shown.text.startswith("3 of your commitments are overdue:")
    for line in ("C-1 is overdue (was due Fri 27 Nov 17:00 (UTC)): send the deck", "C-2 is overdue",
                 "C-3 is overdue (was due Fri 27 Nov 17:00 (UTC)): book the demo"):
        assert line in shown.text
    assert [b.command for card in shown.cards for b in card.buttons if b.label == "Done"] == [
        "done C-1", "done C-2", "done C-3"]
    assert not await sent(db, "commitment.overdue", "ana")
    assert len(await sent(db, "commitment.overdue", "bob")) == 1  # alone, the usual notice
    # a later tick (or a second process) sends nothing more; done from the message works
    await bot.at(DUE + timedelta(hours=1))
    await bot.at(DUE + timedelta(days=3))
    assert len(await sent(db, "commitment.together")) == 1 and len(await sent(db, "commitment.overdue")) == 1
    assert "C-2 kept" in (await bot.say("ana", "done C-2", from_button=True)).text


async def test_reminders_due_together_come_in_one_message(bot, db):
    await bot.say("ana", "commit send the deck by fri")
    await bot.say("ana", "commit call Acme by fri")
    await bot.at(DUE - timedelta(hours=24))
    (message,) = await sent(db, "commitment.together", "ana")
    assert message.payload["text"].startswith("2 of your commitments are due soon:")
    assert "C-2 is due Fri 27 Nov 17:00 (UTC): call Acme" in message.payload["text"]
    await bot.at(DUE - timedelta(hours=2))
    assert len(await sent(db, "commitment.together")) == 1
    await bot.say("ana", "done C-1")
    await bot.at(DUE)  # only C-2 is left: its notice alone
    (notice,) = await sent(db, "commitment.overdue", "ana")
    assert "C-2 is overdue" in notice.payload["text"]
