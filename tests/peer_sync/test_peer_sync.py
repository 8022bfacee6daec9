"""The weekly peer sync, driven by the clock: prompts, answers, pledges, nudges, digest."""
from datetime import datetime, timedelta, timezone

from bot.config import load_settings
from handlers.kernel.model import Reply
from storage.models import Commitment, PeerSync, SyncAnswer
from tests.helpers import Clocked, assert_refused_without_change, person_named, rows, sent, snapshot

UTC = timezone.utc
ANSWERS = {"results": "Closed Globex", "people": "Rita ramping well", "working": "joint demos",
           "change": "faster quotes", "commit": "- send the Q1 plan\n\n* book the EMEA webinar", "problems": "pricing"}


async def start_partnership(bot, ana_tz="Europe/Berlin", dana_tz="America/New_York"):
    await bot.say("ana", f"timezone {ana_tz}")
    await bot.say("dana", f"timezone {dana_tz}")
    assert (await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await bot.say("dana", "partnership P-1 accept")).ok


async def test_each_manager_is_prompted_at_nine_on_their_own_clock(bot, db):
    await start_partnership(bot)  # Mon 23 Nov, 10:00 UTC: 11:00 in Berlin, 05:00 in New York
    # New York's 09:00 is still ahead today (14:00 UTC); Berlin's passed before the partnership
    # existed, so ana is asked along with dana rather than be counted silent without being asked
    assert not await bot.at(datetime(2026, 11, 23, 13, 59, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    assert len(await sent(db, "sync.prompt", "dana")) == 1 and len(await sent(db, "sync.prompt", "ana")) == 1
    # next Monday: 09:00 in Berlin is 08:00 UTC, in New York 14:00 UTC
    assert "sync prompts" not in await bot.at(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    assert len(await sent(db, "sync.prompt", "ana")) == 2 and len(await sent(db, "sync.prompt", "dana")) == 1
    assert "sync prompts" not in await bot.at(datetime(2026, 11, 30, 13, 59, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    to_dana = await sent(db, "sync.prompt", "dana")
    prompt = Reply.from_dict(to_dana[-1].payload)
    assert len(to_dana) == 2 and "S-2" in prompt.text and "ana" in prompt.text
    assert [(b.label, b.command) for b in prompt.cards[0].buttons] == [("Answer", "sync answer S-2")]
    assert [s.week for s in await rows(db, PeerSync)] == ["2026-W48", "2026-W49"]  # one sync a week


async def w49_prompts(db, name):
    return [m.created_at for m in await sent(db, "sync.prompt", name) if ":2026-W49:" in m.idempotency_key]


async def test_a_timezone_change_moves_the_prompt(bot, db):
    await start_partnership(bot, ana_tz="UTC")
    await bot.say("ana", "timezone Asia/Tokyo")  # 09:00 Tokyo on Mon 30 Nov is 00:00 UTC
    await bot.at(datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    assert not await w49_prompts(db, "ana")
    await bot.at(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    assert await w49_prompts(db, "ana") == [datetime(2026, 11, 30, 0, 0, tzinfo=UTC)]


async def test_a_clock_moved_east_on_the_day_itself_does_not_skip_the_week(bot, db):
    await start_partnership(bot, ana_tz="UTC")  # ana's next prompt: Mon 30 Nov 09:00 UTC
    bot.clock.now = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 14:00 in Tokyo: its 09:00 is past
    await bot.say("ana", "timezone Asia/Tokyo")
    await bot.at(datetime(2026, 11, 30, 5, 1, tzinfo=UTC))
    assert await w49_prompts(db, "ana") == [datetime(2026, 11, 30, 5, 1, tzinfo=UTC)]


async def test_the_same_tick_twice_sends_nothing_new(bot, db):
    await start_partnership(bot)
    at = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    first = await bot.at(at)
    before = await snapshot(db)
    assert first and not await bot.at(at)
    assert await snapshot(db) == before


async def test_answering_turns_pledge_lines_into_commitments_due_by_the_next_sync(bot, db):
    await start_partnership(bot)
    opened = await bot.say("ana", "sync now")
    assert opened.ok and opened.form and opened.form.submit_command == "sync submit S-1"
    assert [q.id for q in opened.form.questions] == ["results", "people", "working", "change", "commit", "problems"]
    reply = await bot.say("ana", "sync submit S-1", form_values=ANSWERS)
    assert reply.ok and "C-1, C-2" in reply.text and "Waiting for dana" in reply.text
    pledges = await rows(db, Commitment)
    assert [c.what for c in pledges] == ["send the Q1 plan", "book the EMEA webinar"]
    # due by the next sync: ana's next Monday 09:00 Berlin
    assert {c.due_at for c in pledges} == {datetime(2026, 11, 30, 8, 0, tzinfo=UTC)}
    # the peer was prompted at once, the caller was not (they have the form)
    assert len(await sent(db, "sync.prompt", "dana")) == 1 and not await sent(db, "sync.prompt", "ana")


async def test_a_second_submit_is_refused_and_the_first_answer_stands(bot, db):
    await start_partnership(bot)
    await bot.say("ana", "sync now")
    await bot.say("ana", "sync submit S-1", form_values=ANSWERS)
    before = await snapshot(db)
    again = await bot.say("ana", "sync submit S-1", form_values={**ANSWERS, "results": "changed"})
    assert not again.ok and "already answered S-1" in again.text and "sync edit S-1" in again.text
    assert await snapshot(db) == before
    (mine,) = [a for a in await rows(db, SyncAnswer) if a.answered_at]
    assert mine.answers["results"] == "Closed Globex"


async def test_an_edit_before_the_digest_replaces_the_answer_and_its_pledges(bot, db):
    await start_partnership(bot)
    await bot.say("ana", "sync now")
    await bot.say("ana", "sync submit S-1", form_values=ANSWERS)
    edit = await bot.say("ana", "sync edit S-1")
    assert edit.form.submit_command == "sync submit S-1 edit"
    assert {q.id: q.value for q in edit.form.questions}["results"] == "Closed Globex"
    reply = await bot.say("ana", "sync submit S-1 edit",
                          form_values={**ANSWERS, "commit": "send the Q1 plan\ncall Initech"})
    assert reply.ok and "updated" in reply.text and "C-3" in reply.text
    status = {c.what: c.status for c in await rows(db, Commitment)}
    assert status == {"send the Q1 plan": "open", "book the EMEA webinar": "dropped", "call Initech": "open"}


async def test_the_digest_goes_out_once_both_answered_side_by_side(bot, db):
    await start_partnership(bot)
    await bot.say("ana", "partnership P-1 goal 3 joint wins")
    await bot.say("ana", "sync now")
    await bot.say("ana", "sync submit S-1", form_values=ANSWERS)
    reply = await bot.say("dana", "sync submit S-1",
                          form_values={"results": "Two intros", "commit": "ship the pricing sheet"})
    assert reply.ok and "digest is on its way" in reply.text
    digests = await sent(db, "sync.digest")
    recipients = {(m.recipient_person_id, m.channel) for m in digests}
    ana, dana = await person_named(db, "ana"), await person_named(db, "dana")
    assert recipients == {(ana.id, None), (dana.id, None), (None, "C1")}
    digest = Reply.from_dict(digests[0].payload)
    assert "Both managers answered" in digest.text and "3 joint wins" in digest.text
    results = next(c for c in digest.cards if c.title == "Results since the last sync")
    assert [(f.label, f.value) for f in results.facts] == [("ana", "Closed Globex"), ("dana", "Two intros")]
    # the deadline later finds it sent: no second digest
    await bot.at(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))
    assert len(await sent(db, "sync.digest")) == 3


async def test_at_the_deadline_a_one_sided_digest_shows_who_did_not_answer(bot, db):
    await start_partnership(bot)
    await bot.say("ana", "sync now")
    await bot.say("ana", "sync submit S-1", form_values=ANSWERS)
    (s,) = await rows(db, PeerSync)
    # next sync (ana's Mon 30 Nov 09:00 Berlin) minus one day
    assert s.deadline_at == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    await bot.at(s.deadline_at - timedelta(minutes=1))
    assert not await sent(db, "sync.digest")
    await bot.at(s.deadline_at)
    digest = Reply.from_dict((await sent(db, "sync.digest", "ana"))[0].payload)
    assert "One-sided: dana did not answer." in digest.text
    late = await bot.say("dana", "sync submit S-1", form_values=ANSWERS)
    assert not late.ok and "digest of S-1 went out" in late.text


async def test_next_weeks_digest_reports_last_weeks_pledges(bot, db):
    await start_partnership(bot, ana_tz="UTC", dana_tz="UTC")
    await bot.say("ana", "sync now")
    await bot.say("ana", "sync submit S-1", form_values={"commit": "send the Q1 plan\nbook the webinar\nhire an SE"})
    await bot.say("dana", "sync submit S-1", form_values={"results": "ok"})
    bot.clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    await bot.say("ana", "done C-1")
    await bot.say("ana", "drop C-3 budget frozen")
    await bot.at(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # week 49's prompts; C-2 is now past due
    await bot.say("ana", "sync submit S-2", form_values={"results": "week 49"})
    await bot.say("dana", "sync submit S-2", form_values={"results": "week 49 too"})
    (digest,) = [Reply.from_dict(m.payload) for m in await sent(db, "sync.digest", "ana")
                 if "S-2" in m.idempotency_key]
    pledges = next(c for c in digest.cards if c.title.startswith("Last week's pledges (S-1)"))
    assert [f.value for f in pledges.facts] == ["send the Q1 plan: kept", "book the webinar: missed",
                                                "hire an SE: dropped"]


async def test_only_the_non_responder_is_nudged_at_most_twice(bot, db):
    await start_partnership(bot, ana_tz="UTC", dana_tz="UTC")
    await bot.at(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # both prompted
    await bot.say("ana", "sync submit S-1", form_values=ANSWERS)
    for hours in (23, 24, 30, 48, 72, 96):
        await bot.at(datetime(2026, 11, 30, 9, 0, tzinfo=UTC) + timedelta(hours=hours))
    nudges = await sent(db, "sync.nudge")
    dana = await person_named(db, "dana")
    assert [m.recipient_person_id for m in nudges] == [dana.id, dana.id]
    assert [m.created_at.hour for m in nudges] == [9, 9]  # at +24 h and +48 h
    assert "ana has answered" in nudges[0].payload["text"]


async def test_nudges_are_never_more_than_one_a_day(db, clock):
    settings = load_settings({"PARTNERBOT_CADENCE__PEER_SYNC__NUDGE_AFTER_HOURS": "2",
                              "PARTNERBOT_CADENCE__PEER_SYNC__MAX_NUDGES": "3"})
    bot = Clocked(db, settings, clock)
    await start_partnership(bot, ana_tz="UTC", dana_tz="UTC")
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await bot.at(start)
    for hours in (2, 4, 6, 25, 26, 50):
        await bot.at(start + timedelta(hours=hours))
    times = sorted({m.created_at - start for m in await sent(db, "sync.nudge", "dana")})
    assert times == [timedelta(hours=2), timedelta(hours=26), timedelta(hours=50)]


async def test_sync_refusals_change_nothing(bot, db):
    await start_partnership(bot)
    await assert_refused_without_change(bot.chat, db, "eve", "sync now", "not a manager of any partnership")
    await assert_refused_without_change(bot.chat, db, "eve", "sync now P-1", "Only the two managers of P-1")
    await bot.say("ana", "sync now")
    await assert_refused_without_change(bot.chat, db, "eve", "sync answer S-1", "Only the two managers of P-1")
    await assert_refused_without_change(bot.chat, db, "ana", "sync submit S-1", "with its form")
    before = await snapshot(db)
    empty = await bot.say("ana", "sync submit S-1", form_values={"results": "  "})
    assert not empty.ok and "empty" in empty.text and await snapshot(db) == before
    await assert_refused_without_change(bot.chat, db, "ana", "sync answer S-7", "no peer sync S-7")
    await assert_refused_without_change(bot.chat, db, "ana", "sync later", "Usage")


async def test_a_manager_of_two_partnerships_must_say_which(bot, db):
    await start_partnership(bot)
    await bot.say("ana", "partnership new Beta Bridge with <@bob>")
    await bot.say("bob", "partnership P-2 accept")
    await assert_refused_without_change(bot.chat, db, "ana", "sync now", "P-1, P-2")
    assert (await bot.say("ana", "sync now P-2")).form is not None


async def test_a_timezone_learnt_from_the_platform_later_moves_the_prompt(bot, db):
    await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>")  # dana's clock unknown: UTC
    await bot.say("dana", "partnership P-1 accept")
    await bot.at(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    await bot.say("dana", "list", platform_timezone="America/New_York")  # her profile says New York
    await bot.at(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # 04:00 in New York: not yet
    assert not [m for m in await sent(db, "sync.prompt", "dana") if "W49" in m.idempotency_key]
    await bot.at(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 09:00 in New York
    (prompt,) = [m for m in await sent(db, "sync.prompt", "dana") if "W49" in m.idempotency_key]
    assert prompt.created_at == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
