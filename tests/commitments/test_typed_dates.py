"""Issue 21, through `commit`, `list` and `snooze`: the date forms people type, a missing "what",
and a date outside the current year shown with its year (the fixed clock: Mon 23 Nov 2026 10:00 UTC)."""
from datetime import date, datetime, timedelta, timezone

import pytest

from handlers.kernel.model import Reply
from storage.models import Commitment
from tests.helpers import assert_refused_without_change, rows, sent

UTC = timezone.utc


@pytest.mark.parametrize("phrase, due, shown", [
    ("next friday", date(2026, 11, 27), "Fri 27 Nov 17:00 (UTC)"),
    ("11 dec", date(2026, 12, 11), "Fri 11 Dec 17:00 (UTC)"),
    ("dec 11", date(2026, 12, 11), "Fri 11 Dec 17:00 (UTC)"),
    ("11 december", date(2026, 12, 11), "Fri 11 Dec 17:00 (UTC)"),
    ("end of month", date(2026, 11, 30), "Mon 30 Nov 17:00 (UTC)"),
    ("eom", date(2026, 11, 30), "Mon 30 Nov 17:00 (UTC)"),
    ("in 2 weeks", date(2026, 12, 7), "Mon 7 Dec 17:00 (UTC)"),
    ("2026-12-11", date(2026, 12, 11), "Fri 11 Dec 17:00 (UTC)"),
    ("22 nov", date(2027, 11, 22), "Mon 22 Nov 2027 17:00 (UTC)"),  # yesterday's: next year's, with its year
])
async def test_commit_reads_the_forms_people_type(chat, db, phrase, due, shown):
    reply = await chat.say("ana", f"commit send the deck by {phrase}")
    assert reply.ok, reply.text
    assert reply.text == f"C-1 saved: send the deck — due {shown}."
    (c,) = await rows(db, Commitment)
    assert (c.what, c.due_date) == ("send the deck", due)


async def test_commit_by_a_date_and_nothing_else_asks_for_the_what(chat, db):
    await assert_refused_without_change(chat, db, "ana", "commit by fri", "Say what you will do before `by`.")
    reply = await chat.say("ana", "commit by fri")
    assert "needs a date" not in reply.text


@pytest.mark.parametrize("command, reason", [
    ("commit send the deck by 12/11", "'12/11' is ambiguous: 12 Nov or 11 Dec? Write `12 nov` or `11 dec`."),
    ("commit send the deck by yesterday", "2026-11-22 is in the past"),
    ("commit send the deck by asap", "'asap' is not a date I can read; try YYYY-MM-DD, today, tomorrow"),
    ("commit send the deck by 31 nov", "'31 nov' is not a date I can read"),
])
async def test_a_date_that_cannot_be_used_is_refused_with_the_reason_and_changes_nothing(chat, db, command, reason):
    await chat.say("ana", "commit a by fri")
    await assert_refused_without_change(chat, db, "ana", command, reason)


async def test_list_shows_the_year_of_a_date_in_another_year_only(chat):
    await chat.say("ana", "commit renew the contract by 5 jan")
    await chat.say("ana", "commit send the deck by fri")
    listed = (await chat.say("ana", "list")).text
    assert "C-1 · renew the contract · due Tue 5 Jan 2027 17:00 (UTC)" in listed
    assert "C-2 · send the deck · due Fri 27 Nov 17:00 (UTC)" in listed


async def test_snooze_over_new_year_says_the_new_year_and_the_reminder_in_it_does_not(bot, db):
    bot.clock.now = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    assert (await bot.say("ana", "commit send the deck by today")).ok
    reply = await bot.say("ana", "snooze C-1")
    assert reply.text == "C-1 snoozed: now due Fri 1 Jan 2027 17:00 (UTC): send the deck."
    (c,) = await rows(db, Commitment)
    assert c.due_date == date(2027, 1, 1)
    await bot.at(datetime(2027, 1, 1, 17, 0, tzinfo=UTC) - timedelta(hours=1))
    reminders = [Reply.from_dict(m.payload).text for m in await sent(db, "commitment.reminder", "ana")]
    assert any("C-1 is due Fri 1 Jan 17:00 (UTC)" in text for text in reminders), reminders  # read in 2027


async def test_snooze_of_an_overdue_commitment_counts_from_today_and_shows_a_future_date(bot, db):
    assert (await bot.say("ana", "commit send the deck by fri")).ok
    bot.clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # six days overdue
    reply = await bot.say("ana", "snooze C-1 2")
    assert reply.text == "C-1 snoozed: now due Sat 5 Dec 17:00 (UTC): send the deck."


async def test_help_of_a_dated_verb_lists_exactly_the_forms_that_are_read(chat):
    shown = (await chat.say("ana", "help commit")).text
    dates = shown.split("\nDates: ", 1)[1]
    for form in ("YYYY-MM-DD", "today", "tomorrow", "fri", "next fri", "next week", "eow", "eom",
                 "end of month", "in N days|weeks", "dec 11", "11 dec", "11 december"):
        assert form in dates
