"""Missed starts are coalesced: after the tick was down, a meeting series starts only its
latest meeting, and only while it is on; the meetings skipped are logged and counted."""
from datetime import timedelta, timezone

from storage.models import ActivityLog, Meeting
from tests.helpers import rows, sent
from tests.meetings.test_meetings import PURPOSE, STARTS, start_series

UTC = timezone.utc
WEEK = timedelta(weeks=1)


async def skipped_starts(db) -> list[list[str]]:
    return [entry.after["starts_at"] for entry in
            await rows(db, ActivityLog, ActivityLog.action == "meeting.skipped")]


async def test_after_two_missed_meetings_only_the_one_on_now_starts(bot, db):
    await start_series(bot)  # Tuesdays 14:00-14:45 UTC, first on 24 Nov; no tick until 8 Dec
    done = await bot.at(STARTS + 2 * WEEK + timedelta(minutes=10))
    assert done["meeting starts"] == 1 and done["meeting starts skipped"] == 2
    (m,) = await rows(db, Meeting)
    assert m.number == 1 and m.starts_at == STARTS + 2 * WEEK
    (post,) = await sent(db, "meeting.start")
    assert "M-1" in post.payload["text"] and PURPOSE in post.payload["text"]
    assert await skipped_starts(db) == [["2026-11-24T15:00:00+01:00", "2026-12-01T15:00:00+01:00"]]
    (logged,) = await rows(db, ActivityLog, ActivityLog.action == "meeting.skipped")
    assert logged.record == "P-1" and logged.after["purpose"] == PURPOSE
    assert not await bot.at(STARTS + 2 * WEEK + timedelta(minutes=11))  # nothing twice


async def test_after_missed_meetings_none_starts_when_the_latest_has_ended(bot, db):
    await start_series(bot)
    done = await bot.at(STARTS + 2 * WEEK + timedelta(hours=1))  # 8 Dec's meeting ended at 14:45
    assert "meeting starts" not in done and done["meeting starts skipped"] == 3
    assert not await rows(db, Meeting) and not await sent(db, "meeting.start") and not await sent(db, "meeting.end")
    assert len((await skipped_starts(db))[0]) == 3
    # the following week's meeting starts as usual
    assert (await bot.at(STARTS + 3 * WEEK))["meeting starts"] == 1
    assert [m.starts_at for m in await rows(db, Meeting)] == [STARTS + 3 * WEEK]
