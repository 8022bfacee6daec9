"""The monthly health pulse on the five "shared", driven by the clock: opening on side A's
manager's first Monday at 09:00, prompts, answers, the results per side and the imbalance flag.

P-1 Acme Alliance: side A is ana (manager, Berlin), rita and ravi; side B is dana (manager,
New York) and sam. Made Mon 23 Nov 2026 10:00 UTC in channel C1.
"""
from datetime import datetime, timedelta, timezone

import pytest

from bot.config import load_settings
from handlers.kernel.model import Reply
from handlers.kernel.rules import latest_monthly_fire_not_after as latest_fire_not_after
from handlers.kernel.rules import monthly_fire_at_or_after as fire_at_or_after
from handlers.kernel.rules import next_month_fire
from storage.models import ActivityLog, Claim, Partnership, Pulse, PulseAnswer
from tests.helpers import Clocked, assert_refused_without_change, count, person_named, rows, sent, snapshot

UTC = timezone.utc
OPENS = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Mon 7 Dec 09:00 in Berlin (CET)
CLOSES = OPENS + timedelta(days=3)
DIMS = ("risk", "resources", "rewards", "vision", "values")
MEMBERS = ("ana", "dana", "rita", "ravi", "sam")


def ratings(risk, resources, rewards, vision, values, comment=""):
    return {"risk": str(risk), "resources": str(resources), "rewards": str(rewards), "vision": str(vision),
            "values": str(values), "comment": comment}


# Hand-written numbers. Side A (3): risk 5+4+5 = 14/3 = 4.67 → 4.7; resources 4+4+3 = 11/3 → 3.7;
# rewards 4+4+4 → 4.0; vision 5+4+4 = 13/3 → 4.3; values 4+4+5 = 13/3 → 4.3.
# Side B (2): risk 2+3 → 2.5; resources 3+4 → 3.5; rewards 2+2 → 2.0; vision 4+5 → 4.5; values 3+2 → 2.5.
# Gaps: risk 2.2 and rewards 2.0 are imbalances; values 1.8, resources 0.2 and vision 0.2 are not.
ANSWERS = {
    "ana": ratings(5, 4, 4, 5, 4, "We carry all the deal risk"),
    "rita": ratings(4, 4, 4, 4, 4),
    "ravi": ratings(5, 3, 4, 4, 5),
    "dana": ratings(2, 3, 2, 4, 3, "Rewards feel one-sided"),
    "sam": ratings(3, 4, 2, 5, 2, "Their reps skip our joint calls"),
}


@pytest.fixture
def bot_min2(db, settings, clock):
    """The bot with cadence.pulse.min_answers 2: side B's two answers are enough to show."""
    return Clocked(db, load_settings({"PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS": "2"}), clock)


async def start_partnership(bot):
    await bot.say("ana", "timezone Europe/Berlin")
    await bot.say("dana", "timezone America/New_York")
    assert (await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await bot.say("dana", "partnership P-1 accept")).ok
    assert (await bot.say("ana", "partnership P-1 add <@rita|rita>")).ok
    assert (await bot.say("rita", "partnership P-1 accept")).ok
    assert (await bot.say("ana", "partnership P-1 add <@ravi|ravi>")).ok
    assert (await bot.say("ravi", "partnership P-1 accept")).ok
    assert (await bot.say("dana", "partnership P-1 add <@sam|sam>")).ok
    assert (await bot.say("sam", "partnership P-1 accept")).ok


async def prompts(db, name=None):
    return await sent(db, "pulse.prompt", name)


async def answer(bot, name, values):
    reply = await bot.say(name, "pulse submit P-1", form_values=values)
    assert reply.ok, reply.text
    return reply


async def refused(bot, db, user, text, reason, **kw):
    """A refusal with form values: says why, and neither a row nor an answer changed."""
    before = await snapshot(db)
    answers = [(a.person_id, a.scores, a.comment, a.answered_at) for a in await rows(db, PulseAnswer)]
    reply = await bot.say(user, text, **kw)
    assert not reply.ok and reason in reply.text and "Usage:" in reply.text, reply.text
    assert await snapshot(db) == before
    assert [(a.person_id, a.scores, a.comment, a.answered_at) for a in await rows(db, PulseAnswer)] == answers


async def field_refused(bot, db, user, values):
    """A pulse answer refused field by field: the form comes back as typed, nothing saved."""
    before = await snapshot(db)
    answers = [(a.person_id, a.scores, a.comment, a.answered_at) for a in await rows(db, PulseAnswer)]
    reply = await bot.say(user, "pulse submit P-1", form_values=values)
    assert not reply.ok and reply.text.startswith("Nothing was saved yet: fix the marked answers"), reply.text
    assert reply.form.submit_command.startswith("pulse submit P-1")
    assert await snapshot(db) == before
    assert [(a.person_id, a.scores, a.comment, a.answered_at) for a in await rows(db, PulseAnswer)] == answers
    return reply


# --- the clock -------------------------------------------------------------------------------------
async def test_the_pulse_opens_at_nine_on_the_first_monday_on_side_as_clock_and_again_in_january(bot, db):
    await start_partnership(bot)
    assert "health pulses" not in await bot.at(datetime(2026, 12, 7, 7, 59, tzinfo=UTC))  # 08:59 in Berlin
    assert not await prompts(db) and not await rows(db, Pulse)
    done = await bot.at(OPENS)
    assert done["health pulses"] == 1
    (pulse,) = await rows(db, Pulse)
    assert (pulse.period, pulse.opened_at, pulse.closes_at, pulse.closed_at) == ("2026-12", OPENS, CLOSES, None)
    for name in MEMBERS:  # both sides, managers and reps, once each
        (prompt,) = await prompts(db, name)
        shown = Reply.from_dict(prompt.payload)
        assert shown.text.startswith("Time for the monthly health pulse of P-1 Acme Alliance: rate shared risk")
        assert [(b.label, b.command, b.style) for b in shown.cards[0].buttons] == [
            ("Answer", "pulse answer P-1", "primary")]
    dana_prompt = Reply.from_dict((await prompts(db, "dana"))[0].payload)
    assert "Open until Thu 10 Dec 03:00 (America/New_York)" in dana_prompt.text  # her own clock
    # New York's 09:00 (14:00 UTC) opens nothing more: one clock for the partnership
    assert "health pulses" not in await bot.at(datetime(2026, 12, 7, 14, 0, tzinfo=UTC))
    (p1,) = await rows(db, Partnership)
    assert p1.pulse_next_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Mon 4 Jan 09:00 Berlin
    assert (await bot.at(CLOSES))["health pulses"] == 1  # closed: nobody answered, which is said
    assert "Nobody answered this pulse." in Reply.from_dict((await sent(db, "pulse.results", "ana"))[0].payload).text

    assert "health pulses" not in await bot.at(datetime(2027, 1, 4, 7, 59, tzinfo=UTC))
    assert (await bot.at(datetime(2027, 1, 4, 8, 0, tzinfo=UTC)))["health pulses"] == 1
    assert [p.period for p in await rows(db, Pulse)] == ["2026-12", "2027-01"]
    for name in MEMBERS:
        assert len(await prompts(db, name)) == 2


async def test_the_same_tick_twice_changes_nothing(bot, db):
    await start_partnership(bot)
    assert (await bot.at(OPENS))["health pulses"] == 1
    before, claims = await snapshot(db), await count(db, Claim)
    assert "health pulses" not in await bot.at(OPENS)
    assert await snapshot(db) == before and await count(db, Claim) == claims
    await answer(bot, "ana", ANSWERS["ana"])
    assert (await bot.at(CLOSES))["health pulses"] == 1
    before, claims = await snapshot(db), await count(db, Claim)
    assert "health pulses" not in await bot.at(CLOSES)
    assert await snapshot(db) == before and await count(db, Claim) == claims
    assert len(await sent(db, "pulse.results")) == 3  # ana, dana, C1: once


async def test_the_answer_button_opens_six_questions_and_the_answer_is_saved_with_the_members_side(bot, db):
    await start_partnership(bot)
    await bot.at(OPENS)
    opened = await bot.say("rita", "pulse answer P-1", from_button=True)
    assert opened.ok and opened.text == "Opening the health pulse form of P-1 Acme Alliance."
    form = opened.form
    assert (form.title, form.submit_command) == ("Health pulse P-1", "pulse submit P-1 2026-12")
    assert [(q.id, q.label, q.kind, q.choices, q.hint) for q in form.questions[:5]] == [
        (dim, f"Shared {dim}", "choice", ("1", "2", "3", "4", "5"), "1 (poor) to 5 (strong)") for dim in DIMS]
    comment = form.questions[5]
    assert (comment.id, comment.label, comment.multiline) == ("comment", "Comment (optional)", True)
    assert "side A" in form.intro

    bot.clock.now = OPENS + timedelta(hours=2)
    reply = await bot.say("rita", form.submit_command, form_values={**ANSWERS["rita"], "risk": " 4 "})
    assert reply.ok and reply.text.startswith("Your health pulse answer for P-1 Acme Alliance is saved. "
                                              "4 member(s) still to answer")
    rita = await person_named(db, "rita")
    (saved,) = await rows(db, PulseAnswer, PulseAnswer.person_id == rita.id)
    assert (saved.side, saved.scores, saved.comment, saved.answered_at) == (
        "a", {"risk": 4, "resources": 4, "rewards": 4, "vision": 4, "values": 4}, None, OPENS + timedelta(hours=2))
    sam = await person_named(db, "sam")
    await answer(bot, "sam", ANSWERS["sam"])
    (saved,) = await rows(db, PulseAnswer, PulseAnswer.person_id == sam.id)
    assert (saved.side, saved.comment) == ("b", "Their reps skip our joint calls")
    (logged,) = await rows(db, ActivityLog, ActivityLog.action == "pulse.answered", ActivityLog.person_id == rita.id)
    assert logged.after == {"period": "2026-12", "side": "a"}  # who answered, never what
    assert not await sent(db, "pulse.results")


# --- the results ------------------------------------------------------------------------------------
async def test_when_everyone_has_answered_both_managers_and_the_channel_get_the_averages_and_imbalances(
        bot_min2, db):
    bot = bot_min2  # side B's two answers are shown
    await start_partnership(bot)
    await bot.at(OPENS)
    for name in ("ana", "rita", "ravi", "dana"):
        await answer(bot, name, ANSWERS[name])
    assert not await sent(db, "pulse.results")
    bot.clock.now = OPENS + timedelta(days=1)
    last = await answer(bot, "sam", ANSWERS["sam"])
    assert "Everyone has answered: the results are on their way" in last.text
    (pulse,) = await rows(db, Pulse)
    assert pulse.closed_at == OPENS + timedelta(days=1)

    results = await sent(db, "pulse.results")
    ana, dana = await person_named(db, "ana"), await person_named(db, "dana")
    assert sorted((m.recipient_person_id or 0, m.channel or "") for m in results) == [
        (0, "C1"), (ana.id, ""), (dana.id, "")]  # not the reps
    (posted,) = [m for m in results if m.channel]  # the channel post notifies both managers, as managers
    assert sorted(m.name for m in Reply.from_dict(posted.payload).mentions) == ["ana", "dana"]
    report = Reply.from_dict(results[0].payload)
    assert report.text == "\n".join([
        "Health pulse · P-1 Acme Alliance · December 2026",
        "Side A (ana): 3 of 3 answered. Side B (dana): 2 of 2 answered.",
        "Imbalance: shared risk (A 4.7, B 2.5, gap 2.2); shared rewards (A 4.0, B 2.0, gap 2.0). "
        "Worth talking through at the next peer sync.",
        "",
        "Averages, 1 (poor) to 5 (strong):",
        "  Shared risk: A 4.7 · B 2.5 · imbalance",
        "  Shared resources: A 3.7 · B 3.5",
        "  Shared rewards: A 4.0 · B 2.0 · imbalance",
        "  Shared vision: A 4.3 · B 4.5",
        "  Shared values: A 4.3 · B 2.5",
        "",
        "Comments · Side A (ana):",
        "  • We carry all the deal risk",
        "",
        "Comments · Side B (dana):",
        "  • Rewards feel one-sided",
        "  • Their reps skip our joint calls",
    ])
    assert [c.title for c in report.cards] == ["Health pulse · P-1 Acme Alliance · December 2026",
                                               "Averages, 1 (poor) to 5 (strong)",
                                               "Comments · Side A (ana)", "Comments · Side B (dana)"]
    assert [(f.label, f.value) for f in report.cards[1].facts][0] == ("Shared risk", "A 4.7 · B 2.5 · imbalance")
    # closed: the tick at the deadline sends nothing more
    assert "health pulses" not in await bot.at(CLOSES)
    assert len(await sent(db, "pulse.results")) == 3


async def test_at_close_after_days_the_results_go_out_with_one_side_silent(bot_min2, db):
    bot = bot_min2  # side A's two answers are shown
    await start_partnership(bot)
    await bot.at(OPENS)
    await answer(bot, "ana", ratings(4, 3, 5, 4, 4, "Good start"))
    await answer(bot, "ravi", ratings(3, 3, 2, 5, 4))  # side A: 3.5, 3.0, 3.5, 4.5, 4.0
    assert "health pulses" not in await bot.at(CLOSES - timedelta(minutes=1))
    assert not await sent(db, "pulse.results")
    assert (await bot.at(CLOSES))["health pulses"] == 1
    (pulse,) = await rows(db, Pulse)
    assert pulse.closed_at == CLOSES
    results = await sent(db, "pulse.results")
    assert len(results) == 3
    report = Reply.from_dict(results[0].payload)
    assert report.text == "\n".join([
        "Health pulse · P-1 Acme Alliance · December 2026",
        "Side A (ana): 2 of 3 answered. Side B (dana): too few answers to show (0 of 2).",
        "Side B (dana): too few answers to show, so no imbalance can be computed.",
        "",
        "Averages, 1 (poor) to 5 (strong):",
        "  Shared risk: A 3.5 · B —",
        "  Shared resources: A 3.0 · B —",
        "  Shared rewards: A 3.5 · B —",
        "  Shared vision: A 4.5 · B —",
        "  Shared values: A 4.0 · B —",
    ])
    # the sides agreeing (within 2 points) is said as such
    await bot.say("dana", "pulse P-1")
    for name, values in (("dana", ratings(2, 2, 2, 2, 2)), ("sam", ratings(2, 2, 2, 2, 2)),
                         ("ana", ratings(4, 3, 3, 3, 3)), ("rita", ratings(3, 3, 3, 3, 3)),
                         ("ravi", ratings(3, 3, 3, 3, 3))):
        await answer(bot, name, values)
    report = Reply.from_dict((await sent(db, "pulse.results", "dana"))[-1].payload)
    assert "No imbalance: the sides are less than 2 points apart on every dimension." in report.text
    assert "Shared risk: A 3.3 · B 2.0\n" in report.text and "Comments" not in report.text


# --- anonymity: a side's results only from cadence.pulse.min_answers answers up ---------------------------
SIDE_B_SECRETS = ("Rewards feel one-sided", "Their reps skip our joint calls", "B 2.5", "B 3.5", "B 2.0", "B 4.5")


async def test_a_side_with_two_answers_shows_neither_ratings_nor_comments_only_that_too_few_answered(bot, db):
    await start_partnership(bot)
    await bot.at(OPENS)
    for name in ("ana", "rita", "ravi", "dana", "sam"):  # 3 answers on side A, 2 on side B
        await answer(bot, name, ANSWERS[name])
    results = await sent(db, "pulse.results")
    assert len(results) == 3 and len({m.payload["text"] for m in results}) == 1  # ana, dana, C1: the same
    report = Reply.from_dict(results[0].payload)
    assert report.text == "\n".join([
        "Health pulse · P-1 Acme Alliance · December 2026",
        "Side A (ana): 3 of 3 answered. Side B (dana): too few answers to show (2 of 2).",
        "Side B (dana): too few answers to show, so no imbalance can be computed.",
        "",
        "Averages, 1 (poor) to 5 (strong):",
        "  Shared risk: A 4.7 · B —",
        "  Shared resources: A 3.7 · B —",
        "  Shared rewards: A 4.0 · B —",
        "  Shared vision: A 4.3 · B —",
        "  Shared values: A 4.3 · B —",
    ])
    shown = str(report.to_dict())  # cards, facts and all
    assert not [secret for secret in SIDE_B_SECRETS if secret in shown]
    # the log keeps no more than was shown
    (closed,) = await rows(db, ActivityLog, ActivityLog.action == "pulse.closed")
    assert closed.after["side_b"] == {"answered": 2, "asked": 2}
    assert closed.after["side_a"]["averages"]["risk"] == "4.7"


async def test_two_answers_of_three_are_too_few_and_three_are_enough(bot, db):
    await start_partnership(bot)
    assert (await bot.say("dana", "partnership P-1 add <@sue|sue>")).ok
    assert (await bot.say("sue", "partnership P-1 accept")).ok  # side B: dana, sam, sue
    await bot.at(OPENS)
    for name in ("ana", "rita", "dana", "sam"):
        await answer(bot, name, ANSWERS[name])
    await bot.at(CLOSES)  # side A: 2 of 3, side B: 2 of 3
    report = Reply.from_dict((await sent(db, "pulse.results", "dana"))[-1].payload)
    assert report.text.splitlines()[1:3] == [
        "Side A (ana): too few answers to show (2 of 3). Side B (dana): too few answers to show (2 of 3).",
        "Side A (ana) and Side B (dana): too few answers to show, so no imbalance can be computed."]
    assert "We carry all the deal risk" not in report.text and "A —" in report.text

    # the next pulse: three on each side answer, and both sides' averages and comments are shown
    assert (await bot.say("sue", "pulse P-1")).ok
    for name in ("ana", "rita", "ravi", "dana", "sam"):
        await answer(bot, name, ANSWERS[name])
    await answer(bot, "sue", ratings(1, 3, 2, 4, 2, "Nobody calls us back"))  # B: 6/3 2.0, 10/3 3.3, 6/3 2.0, 13/3 4.3, 7/3 2.3
    report = Reply.from_dict((await sent(db, "pulse.results", "dana"))[-1].payload)
    assert report.text.splitlines()[1:3] == [
        "Side A (ana): 3 of 3 answered. Side B (dana): 3 of 3 answered.",
        "Imbalance: shared risk (A 4.7, B 2.0, gap 2.7); shared rewards (A 4.0, B 2.0, gap 2.0); "
        "shared values (A 4.3, B 2.3, gap 2.0). Worth talking through at the next peer sync."]
    assert report.text.endswith("Comments · Side B (dana):\n  • Rewards feel one-sided\n"
                                "  • Their reps skip our joint calls\n  • Nobody calls us back")


async def test_the_setting_sets_the_threshold(db, settings, clock):
    strict = Clocked(db, load_settings({"PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS": "4"}), clock)
    await start_partnership(strict)
    await strict.at(OPENS)
    for name in MEMBERS:
        await answer(strict, name, ANSWERS[name])
    report = Reply.from_dict((await sent(db, "pulse.results", "ana"))[-1].payload)
    assert report.text.splitlines()[1] == \
        "Side A (ana): too few answers to show (3 of 3). Side B (dana): too few answers to show (2 of 2)."
    assert "Shared risk: A — · B —" in report.text and "Comments" not in report.text


# --- pulse [P-n] --------------------------------------------------------------------------------------
async def test_pulse_opens_one_now_the_caller_gets_the_form_the_others_a_prompt_and_a_second_is_refused(bot, db):
    await start_partnership(bot)
    reply = await bot.say("rita", "pulse")  # rita belongs to P-1 only
    assert reply.ok and reply.text.startswith("Health pulse of P-1 Acme Alliance opened: 4 other member(s) asked "
                                              "to answer by Thu 26 Nov 10:00 (UTC). Opening your form.")
    assert reply.form.submit_command == "pulse submit P-1 20261123T100000Z"
    (pulse,) = await rows(db, Pulse)
    assert (pulse.period, pulse.closes_at) == ("20261123T100000Z", datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    assert not await prompts(db, "rita")
    for name in ("ana", "dana", "ravi", "sam"):
        (prompt,) = await prompts(db, name)
        assert Reply.from_dict(prompt.payload).text.startswith("rita asked for a health pulse of P-1 Acme Alliance")
    await assert_refused_without_change(bot.chat, db, "dana", "pulse P-1", "A health pulse of P-1 is open already")
    await answer(bot, "rita", ANSWERS["rita"])

    # the monthly one is not held up by it once closed, and does not collide with it
    await bot.at(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    assert (await rows(db, Pulse))[0].closed_at is not None
    await bot.at(OPENS)
    assert [p.period for p in await rows(db, Pulse)] == ["20261123T100000Z", "2026-12"]


async def test_a_pulse_asked_for_days_before_the_first_monday_stands_for_that_months(bot, db):
    await start_partnership(bot)
    await bot.at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # scheduled: Mon 7 Dec 08:00 UTC
    bot.clock.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert (await bot.say("dana", "pulse")).ok  # open until Tue 8 Dec 12:00
    assert "health pulses" not in await bot.at(OPENS)
    assert [p.period for p in await rows(db, Pulse)] == ["20261205T120000Z"]
    assert len(await prompts(db, "ana")) == 1
    (skipped,) = await rows(db, ActivityLog, ActivityLog.action == "pulse.skipped")
    assert skipped.after == {"period": "2026-12", "open": "20261205T120000Z"}
    (p1,) = await rows(db, Partnership)
    assert p1.pulse_next_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


async def test_pulse_without_a_reference_names_the_choices_when_the_caller_has_several(bot, db):
    await start_partnership(bot)
    assert (await bot.say("ana", "partnership new Globex Alliance with <@gil|gil>")).ok
    assert (await bot.say("gil", "partnership P-2 accept")).ok
    await assert_refused_without_change(bot.chat, db, "ana", "pulse",
                                        "You belong to several partnerships (P-1, P-2); say which: `pulse P-1`.")
    await assert_refused_without_change(bot.chat, db, "zoe", "pulse", "You are not a member of any partnership")
    await assert_refused_without_change(bot.chat, db, "zoe", "pulse P-1", "You are not a member of P-1")
    await assert_refused_without_change(bot.chat, db, "ana", "pulse P-1 now", "Say `pulse` or `pulse P-1`")
    assert (await bot.say("ana", "pulse P-2")).ok


# --- bad input ------------------------------------------------------------------------------------------
async def test_each_bad_answer_is_refused_saying_why_and_nothing_changes(bot, db):
    await start_partnership(bot)
    await bot.at(OPENS)
    good = ANSWERS["rita"]
    # each bad rating comes back under its own field, the other answers (the comment too) kept
    cases = [("risk", "6", "6 is outside 1 to 5"), ("resources", "0", "0 is outside 1 to 5"),
             ("vision", "great", "'great' is not a number"), ("rewards", "3.5", "3.5 is not a whole number"),
             ("values", " ", "Missing")]
    for dim, typed, reason in cases:
        reply = await field_refused(bot, db, "rita", {**good, dim: typed, "comment": "Keep this"})
        assert reply.form.errors == {dim: f"{reason}: pick 1 (poor) to 5 (strong)."}
        assert f"Shared {dim}: {reason}" in reply.text
        assert {q.id: q.value for q in reply.form.questions}["comment"] == "Keep this"
    both = await field_refused(bot, db, "rita", {"risk": "4", "resources": "4", "rewards": "9"})
    assert list(both.form.errors) == ["rewards", "vision", "values"]
    assert "• Shared rewards: 9 is outside 1 to 5" in both.text and "• Shared values: Missing" in both.text
    assert [q.value for q in both.form.questions[:3]] == ["4", "4", "9"]
    # typed without the form
    await assert_refused_without_change(bot.chat, db, "rita", "pulse submit P-1",
                                        "Answer the health pulse with its form: click Answer or type "
                                        "`pulse answer P-1`.")
    # not a member
    await refused(bot, db, "zoe", "pulse submit P-1", "You are not a member of P-1", form_values=good)
    await assert_refused_without_change(bot.chat, db, "zoe", "pulse answer P-1", "You are not a member of P-1")
    # twice
    await answer(bot, "rita", good)
    await refused(bot, db, "rita", "pulse submit P-1", "You already answered this health pulse of P-1",
                  form_values={**good, "risk": "1"})
    await assert_refused_without_change(bot.chat, db, "rita", "pulse answer P-1",
                                        "You already answered this health pulse of P-1")
    # after it closed (the form opened before, submitted after)
    form = (await bot.say("ravi", "pulse answer P-1")).form
    await bot.at(CLOSES)
    bot.clock.now = CLOSES + timedelta(hours=1)
    await refused(bot, db, "ravi", form.submit_command,
                  "P-1 has no health pulse open: its December 2026 pulse closed Thu 10 Dec 08:00 (UTC) and its "
                  "results went out. The next one opens Mon 4 Jan 2027 08:00 (UTC).", form_values=good)
    await refused(bot, db, "ravi", "pulse submit P-1", "P-1 has no health pulse open", form_values=good)
    await assert_refused_without_change(bot.chat, db, "ravi", "pulse answer P-1", "P-1 has no health pulse open")


async def test_a_member_added_after_the_pulse_opened_is_asked_next_time(bot, db):
    await start_partnership(bot)
    await bot.at(OPENS)
    assert (await bot.say("dana", "partnership P-1 add <@sue|sue>")).ok
    assert (await bot.say("sue", "partnership P-1 accept")).ok
    await refused(bot, db, "sue", "pulse submit P-1", "You joined P-1 after this health pulse opened",
                  form_values=ANSWERS["sam"])
    assert not await prompts(db, "sue")


# --- the rule itself ---------------------------------------------------------------------------------------
def test_the_monthly_rule_follows_daylight_saving_and_never_opens_twice_in_a_month():
    ny = "America/New_York"
    # 09:00 EST on Mon 1 Mar 2027 (14:00 UTC), 09:00 EDT on Mon 5 Apr 2027 (13:00 UTC)
    march = fire_at_or_after("mon", "09:00", ny, datetime(2027, 2, 2, tzinfo=UTC))
    assert march == datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
    assert next_month_fire("mon", "09:00", ny, march) == datetime(2027, 4, 5, 13, 0, tzinfo=UTC)
    # Sun 1 Nov 2026 is New York's fall-back: 01:30 happens twice; the month opens once, at the first
    first = fire_at_or_after("sun", "01:30", ny, datetime(2026, 10, 5, tzinfo=UTC))
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert next_month_fire("sun", "01:30", ny, first) == datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    assert latest_fire_not_after("sun", "01:30", ny, datetime(2026, 11, 30, tzinfo=UTC)) == first
    assert latest_fire_not_after("mon", "09:00", ny, datetime(2027, 3, 1, 13, 59, tzinfo=UTC)) == \
        datetime(2027, 2, 1, 14, 0, tzinfo=UTC)


async def test_a_partnership_made_after_this_months_opening_waits_for_next_month(bot, db):
    bot.clock.now = OPENS + timedelta(hours=2)
    await start_partnership(bot)
    assert "health pulses" not in await bot.at(OPENS + timedelta(hours=2, minutes=1))
    (p1,) = await rows(db, Partnership)
    assert p1.pulse_next_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    assert not await rows(db, Pulse)


async def test_a_new_side_a_clock_moves_the_opening(bot, db):
    await start_partnership(bot)
    await bot.at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # planned at 09:00 Berlin: 08:00 UTC
    await bot.say("ana", "timezone America/Los_Angeles")  # 09:00 in Los Angeles is 17:00 UTC
    assert "health pulses" not in await bot.at(OPENS)
    assert "health pulses" not in await bot.at(datetime(2026, 12, 7, 16, 59, tzinfo=UTC))
    assert (await bot.at(datetime(2026, 12, 7, 17, 0, tzinfo=UTC)))["health pulses"] == 1
    assert [p.period for p in await rows(db, Pulse)] == ["2026-12"]


async def test_on_the_console_the_questions_come_in_turn_and_the_answers_are_saved(bot, db):
    import io

    from adapters.console.console import ask_form

    await start_partnership(bot)
    await bot.at(OPENS)
    form = (await bot.say("sam", "pulse answer P-1")).form
    typed = iter(["4\n", "3\n", "2\n", "5\n", "4\n", "Joint calls are good\n", "but slow\n", "\n"])

    async def read_line() -> str:
        return next(typed, "")

    out = io.StringIO()
    answers = await ask_form(form, read_line, out)
    shown = out.getvalue()
    assert "Shared risk\n  (1 (poor) to 5 (strong))\n" in shown and "Comment (optional)\n" in shown
    reply = await bot.say("sam", form.submit_command, form_values=answers)
    assert reply.ok, reply.text
    sam = await person_named(db, "sam")
    (saved,) = await rows(db, PulseAnswer, PulseAnswer.person_id == sam.id)
    assert saved.scores == {"risk": 4, "resources": 3, "rewards": 2, "vision": 5, "values": 4}
    assert saved.comment == "Joint calls are good\nbut slow"


async def test_an_answer_after_the_closing_time_is_refused_even_before_the_tick_closes_it(bot, db):
    await start_partnership(bot)
    await bot.at(OPENS)
    bot.clock.now = CLOSES  # the tick of this minute has not run yet
    await refused(bot, db, "rita", "pulse submit P-1", "P-1 has no health pulse open: its December 2026 pulse "
                  "closed Thu 10 Dec 08:00 (UTC)", form_values=ANSWERS["rita"])
    # `pulse` then closes it (its results go out) and opens a new one
    reply = await bot.say("rita", "pulse")
    assert reply.ok and reply.form
    assert [(p.period, p.closed_at) for p in await rows(db, Pulse)] == [("2026-12", CLOSES), ("20261210T080000Z", None)]
    assert len(await sent(db, "pulse.results")) == 3
    assert "health pulses" not in await bot.at(CLOSES)
