"""A handoff its sender took back (sent to the wrong rep, say) was a mistake undone, not a
handoff given: the scorecards and the coaching lines do not count it."""
from tests.reports.test_report import facts


async def test_a_withdrawn_handoff_is_not_counted_as_given_or_received(bot):
    await bot.say("ana", "handoff <@bob|bob> Acme Corp: needs a security review")
    assert (await bot.say("ana", "handoff H-1 withdraw sent to the wrong rep")).ok
    assert (await bot.say("ana", "handoff <@leo|leo> Acme Corp: needs a security review")).ok

    ana = facts(await bot.say("ana", "report"))
    assert ana["Handoffs given"].startswith("1 · identified 1 ")  # H-2 only
    assert "withdrawn" not in ana["Handoffs given"]
    bob = facts(await bot.say("bob", "report"))
    assert bob["Handoffs received"].startswith("0 ")
