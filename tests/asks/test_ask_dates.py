"""Issue 21, through `ask`: its optional `by <date>` is the last `by`, a trailing `by …` meant as a
date that is none is refused (never kept in the request), and a date of next year shows its year.
The fixed clock: Mon 23 Nov 2026 10:00 UTC."""
from datetime import date

import pytest

from handlers.kernel.model import Reply
from storage.models import Ask
from tests.helpers import assert_refused_without_change, rows, sent


@pytest.mark.parametrize("command, reason", [
    ("ask <@bob|bob> credit terms by asap", "'asap' is not a date I can read; try YYYY-MM-DD"),
    ("ask <@bob|bob> credit terms by next fortnight re P-1", "'next fortnight' is not a date I can read"),
    ("ask <@bob|bob> credit terms by yesterday", "2026-11-22 is in the past"),
    ("ask <@bob|bob> credit terms by 12/11", "'12/11' is ambiguous: 12 Nov or 11 Dec?"),
    ("ask <@bob|bob> by asap", "'asap' is not a date I can read"),
])
async def test_a_trailing_by_meant_as_a_date_that_is_none_is_refused_and_changes_nothing(bot, db, command, reason):
    await assert_refused_without_change(bot.chat, db, "ana", command, reason)
    assert await rows(db, Ask) == []


async def test_by_inside_the_request_stays_and_only_the_last_by_is_the_date(bot, db):
    reply = await bot.say("ana", "ask <@bob|bob> a review by legal by 11 dec")
    assert reply.text.startswith("Q-1 sent to bob: a review by legal — by Fri 11 Dec.")
    plain = await bot.say("ana", "ask <@bob|bob> a sign-off by legal")  # no date meant: kept as text
    assert plain.text.startswith("Q-2 sent to bob: a sign-off by legal.")
    assert [(a.request, a.due_date) for a in await rows(db, Ask)] == [
        ("a review by legal", date(2026, 12, 11)), ("a sign-off by legal", None)]


async def test_an_ask_due_next_year_shows_its_year_to_both(bot, db):
    reply = await bot.say("ana", "ask <@bob|bob> the renewal quote by 5 jan")
    assert reply.text.startswith("Q-1 sent to bob: the renewal quote — by Tue 5 Jan 2027.")
    (request,) = await sent(db, "ask.request", "bob")
    shown = Reply.from_dict(request.payload)
    assert "the renewal quote — by Tue 5 Jan 2027." in shown.text
    assert ("By", "Tue 5 Jan 2027") in [(f.label, f.value) for f in shown.cards[0].facts]
    listed = (await bot.say("ana", "list")).text
    assert "Q-1 · the renewal quote · waiting on bob · by Tue 5 Jan 2027 · no response yet" in listed
