"""The partnership charter: shown, written by either manager, agreed by both, agreed again
after every change, and called out in the weekly digest until both have agreed."""
from datetime import datetime, timezone

import pytest

from handlers.kernel.model import Reply
from storage.models import CharterAgreement, CharterRule
from tests.helpers import assert_refused_without_change, rows, sent

UTC = timezone.utc


async def start(bot):
    assert (await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await bot.say("dana", "partnership P-1 accept")).ok
    assert (await bot.say("ana", "partnership P-1 add <@maria|maria>")).ok
    assert (await bot.say("maria", "partnership P-1 accept")).ok
    assert (await bot.say("ana", "partnership P-1 goal 3 joint wins this quarter")).ok


async def test_the_charter_shows_goals_the_default_code_of_conduct_and_how_problems_are_resolved(bot):
    await start(bot)
    shown = await bot.say("maria", "partnership P-1 charter")  # any member may read it
    assert shown.ok
    text = shown.text
    assert "1. 3 joint wins this quarter" in text
    for rule in ("1. Treat your partner the way you want to be treated.", "5. When in doubt, don't."):
        assert rule in text
    assert "How problems are resolved:" in text and "peer sync" in text
    assert "ana not agreed yet" in text and "dana not agreed yet" in text
    agree = [(b.label, b.command) for card in (await bot.say("dana", "partnership P-1 charter")).cards
             for b in card.buttons]
    assert agree == [("Agree", "partnership P-1 agree")]  # a manager who has not agreed gets the button
    assert not [b for card in shown.cards for b in card.buttons]  # a rep does not


async def test_both_managers_agree_and_a_change_asks_both_again(bot, db):
    await start(bot)
    first = await bot.say("ana", "partnership P-1 agree")
    assert first.ok and "Waiting for dana" in first.text
    both = await bot.say("dana", "partnership P-1 agree", from_button=True)
    assert both.ok and "Both managers have agreed" in both.text and both.replace_source
    agreements = await rows(db, CharterAgreement)
    assert {(a.version, a.agreed_at) for a in agreements} == {(2, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))}
    await assert_refused_without_change(bot, db, "ana", "partnership P-1 agree", "agreed to this charter")
    changed = await bot.say("dana", "partnership P-1 rule Answer each other's requests within one working day")
    assert changed.ok and "Rule 6" in changed.text and "both managers agree again" in changed.text
    assert [r.text for r in await rows(db, CharterRule)][-1] == "Answer each other's requests within one working day"
    told = await sent(db, "charter.changed", "ana")
    assert len(told) == 1 and "dana changed the charter of P-1" in Reply.from_dict(told[0].payload).text
    shown = (await bot.say("ana", "partnership P-1 charter")).text
    assert "6. Answer each other's requests within one working day" in shown
    assert "ana not agreed yet" in shown and "dana not agreed yet" in shown  # version 3 now
    assert (await bot.say("ana", "partnership P-1 agree")).ok


async def test_the_weekly_digest_says_who_has_not_agreed_to_the_charter(bot, db):
    await start(bot)
    await bot.say("ana", "partnership P-1 agree")

    async def digest_of(week_answers_at: datetime) -> str:
        await bot.say("ana", "sync now")
        await bot.say("dana", "sync now")
        number = len(await sent(db, "sync.digest", "ana")) + 1
        await bot.say("ana", f"sync submit S-{number}", form_values={"results": "ok"})
        await bot.say("dana", f"sync submit S-{number}", form_values={"results": "fine"})
        return Reply.from_dict((await sent(db, "sync.digest", "ana"))[-1].payload).text

    assert "Charter not agreed by dana: `partnership P-1 agree`." in await digest_of(bot.clock.now)
    await bot.say("dana", "partnership P-1 agree")
    bot.clock.now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert "Charter not agreed" not in await digest_of(bot.clock.now)


@pytest.mark.parametrize("user, command, reason", [
    ("maria", "partnership P-1 agree", "Only the two managers of P-1 can agree"),
    ("zoe", "partnership P-1 agree", "Only the two managers of P-1 can agree"),
    ("maria", "partnership P-1 rule Be nice", "Only the two managers of P-1 can change"),
    ("ana", "partnership P-1 rule", "Say the rule"),
    ("ana", "partnership P-1 rule    ", "Say the rule"),
    ("zoe", "partnership P-1 charter", "not a member of P-1"),
    ("ana", "partnership P-1 sign", "not something a partnership does"),
])
async def test_bad_charter_input_is_refused_and_changes_nothing(bot, db, user, command, reason):
    await start(bot)
    await assert_refused_without_change(bot, db, user, command, reason)
    assert not await rows(db, CharterAgreement) and not await rows(db, CharterRule)
