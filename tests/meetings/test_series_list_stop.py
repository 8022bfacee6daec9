"""`meeting list [P-n]`: running series with their next meeting and the M-n it will take;
`meeting stop P-n [series]`: stop a series, before its first meeting too."""
from storage.models import ActivityLog, Meeting, MeetingSeries
from tests.helpers import assert_refused_without_change, rows
from tests.meetings.test_meetings import PURPOSE, STARTS, start_series


async def test_meeting_list_shows_each_series_with_its_next_meeting_and_its_m_n(bot, db):
    await start_series(bot)
    assert (await bot.say("dana", 'meeting new P-1 "Pipeline review" every wed 09:00', channel="C1")).ok
    listed = (await bot.say("maria", "meeting list P-1")).text
    assert listed.splitlines()[:3] == [
        "Meeting series of P-1 Acme Alliance:",
        f"P-1 series 1 · {PURPOSE} · every tue 15:00 for 45 min (Europe/Berlin) · organiser ana · next "
        "Tue 24 Nov 14:00 (UTC) as M-1",
        "P-1 series 2 · Pipeline review · every wed 09:00 for 60 min (America/New_York) · organiser dana · next "
        "Wed 25 Nov 14:00 (UTC) as M-2",
    ]
    await bot.at(STARTS)  # series 1 meets as M-1
    (m,) = await rows(db, Meeting)
    assert m.number == 1
    after = (await bot.say("ana", "meeting list")).text  # every partnership of the caller
    assert "series 1" in after and "next Tue 1 Dec 15:00 (Europe/Berlin) as M-3" in after
    assert "next Wed 25 Nov 15:00 (Europe/Berlin) as M-2" in after


async def test_a_series_is_stopped_before_its_first_meeting(bot, db):
    await start_series(bot)
    reply = await bot.say("ana", "meeting stop P-1")
    assert reply.ok and "Series 1 of P-1 (Brainstorm new business at Acme) is stopped" in reply.text
    (series,) = await rows(db, MeetingSeries)
    assert series.stopped_at is not None
    assert await rows(db, ActivityLog, ActivityLog.action == "meeting.series_stopped")
    assert "meeting starts" not in await bot.at(STARTS)
    assert not await rows(db, Meeting)
    assert "none running" in (await bot.say("ana", "meeting list P-1")).text


async def test_who_may_stop_or_list_a_series(bot, db):
    await start_series(bot)
    assert (await bot.say("dana", 'meeting new P-1 "Pipeline review" every wed 09:00', channel="C1")).ok
    await assert_refused_without_change(bot.chat, db, "maria", "meeting stop P-1 1", "Only the organiser of series 1")
    await assert_refused_without_change(bot.chat, db, "carl", "meeting list P-1", "not a member of P-1")
    await assert_refused_without_change(bot.chat, db, "ana", "meeting stop P-1", "runs 2 meeting series")
    await assert_refused_without_change(bot.chat, db, "ana", "meeting stop P-1 7", "no meeting series '7'")
    assert (await bot.say("dana", "meeting stop P-1 1")).ok  # a manager of the partnership
    await assert_refused_without_change(bot.chat, db, "ana", "meeting stop P-1 1", "was stopped")
