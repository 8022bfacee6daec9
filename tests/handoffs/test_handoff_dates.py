"""Issue 21, through `handoff`: its optional `by <date>` is the last `by`, a trailing `by …` meant
as a date that is none is refused (never swallowed into the need), and a date of next year shows
its year. The fixed clock: Mon 23 Nov 2026 10:00 UTC."""
from datetime import date

import pytest

from handlers.kernel.model import Reply
from storage.models import Handoff
from tests.helpers import assert_refused_without_change, outbox, rows


@pytest.mark.parametrize("command, reason", [
    ("handoff <@bob|Bob> Acme Corp: needs a security review by yesterday", "2026-11-22 is in the past"),
    ("handoff <@bob|Bob> Acme Corp: needs a security review by someday", "'someday' is not a date I can read; try "),
    ("handoff <@bob|Bob> Acme Corp: needs a security review by end of quarter", "'end of quarter' is not a date"),
    ("handoff <@bob|Bob> Acme Corp: needs a security review by 12/11", "'12/11' is ambiguous: 12 Nov or 11 Dec?"),
    ("handoff <@bob|Bob> Acme Corp: by fri", "Say what Acme Corp needs after the colon."),
])
async def test_a_date_that_cannot_be_used_is_refused_with_the_reason_and_changes_nothing(chat, db, command, reason):
    await assert_refused_without_change(chat, db, "ana", command, reason)
    assert await rows(db, Handoff) == []


async def test_by_inside_the_need_stays_and_only_the_last_by_is_the_date(chat, db):
    assert (await chat.say("ana", "handoff <@bob|Bob> Acme Corp: needs a review by legal by next friday")).ok
    assert (await chat.say("ana", "handoff <@bob|Bob> Globex: needs a sign-off by legal")).ok  # no date meant
    assert [(h.need, h.due_date) for h in await rows(db, Handoff)] == [
        ("needs a review by legal", date(2026, 11, 27)), ("needs a sign-off by legal", None)]


async def test_the_offer_shows_the_year_of_a_date_next_year_only(chat, db):
    await chat.say("ana", "handoff <@bob|Bob> Acme Corp: needs a security review by 11 dec")
    await chat.say("ana", "handoff <@bob|Bob> Globex: needs a pilot by 15 jan")
    offers = [Reply.from_dict(m.payload) for m in await outbox(db)]
    assert [dict((f.label, f.value) for f in o.cards[0].facts)["By"] for o in offers] == [
        "Fri 11 Dec", "Fri 15 Jan 2027"]
    listed = (await chat.say("ana", "list")).text
    assert "H-2 · Globex: needs a pilot · identified · ana → Bob · by Fri 15 Jan 2027" in listed


async def test_a_mention_or_a_reference_after_the_last_by_stays_in_the_need(chat, db):
    assert (await chat.say("ana", "handoff <@bob|Bob> Acme Corp: needs an intro by <@U7|carol>")).ok
    assert (await chat.say("ana", "handoff <@bob|Bob> Globex: needs the pricing agreed by H-1")).ok
    assert [(h.need, h.due_date) for h in await rows(db, Handoff)] == [
        ("needs an intro by <@U7|carol>", None), ("needs the pricing agreed by H-1", None)]
