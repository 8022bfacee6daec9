"""Missed runs are coalesced: after the tick was down for weeks, a peer-sync series runs only
its latest due prompt, and only while that sync's digest deadline is ahead; the weeks it
skipped are logged and counted in the tick's summary."""
from datetime import datetime, timezone

from storage.models import ActivityLog, PeerSync
from tests.helpers import person_named, rows, sent
from tests.peer_sync.test_peer_sync import start_partnership

UTC = timezone.utc


async def skipped_weeks(db) -> dict[int, list[str]]:
    """manager id -> the weeks logged as skipped for them."""
    logged = await rows(db, ActivityLog, ActivityLog.action == "peer_sync.skipped")
    return {entry.after["manager_id"]: entry.after["weeks"] for entry in logged}


async def test_three_weeks_without_a_tick_open_only_this_weeks_sync_and_log_the_weeks_skipped(bot, db):
    await start_partnership(bot, ana_tz="UTC", dana_tz="UTC")  # Mon 23 Nov: both next asked Mon 30 Nov 09:00
    done = await bot.at(datetime(2026, 12, 14, 10, 0, tzinfo=UTC))  # no tick since: W49 and W50 missed
    assert done["sync prompts"] == 2 and done["sync prompts skipped"] == 4
    (sync,) = await rows(db, PeerSync)
    assert sync.week == "2026-W51" and sync.digest_at is None and sync.deadline_at > bot.clock.now
    assert [m.idempotency_key.split(":")[2] for m in await sent(db, "sync.prompt")] == ["2026-W51"] * 2
    ana, dana = await person_named(db, "ana"), await person_named(db, "dana")
    assert await skipped_weeks(db) == {ana.id: ["2026-W49", "2026-W50"], dana.id: ["2026-W49", "2026-W50"]}
    # nothing more that day, and the next week runs as usual
    assert not await bot.at(datetime(2026, 12, 14, 10, 1, tzinfo=UTC))
    assert (await bot.at(datetime(2026, 12, 21, 9, 0, tzinfo=UTC)))["sync prompts"] == 2
    assert [s.week for s in await rows(db, PeerSync)] == ["2026-W51", "2026-W52"]


async def test_a_week_missed_across_timezones_does_not_open_the_week_already_over(bot, db):
    """The issue's case: down a week, back on Monday between Berlin's and New York's 09:00."""
    await start_partnership(bot)  # ana in Berlin, dana in New York
    await bot.at(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # W48: both asked
    await bot.at(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # W49: ana asked; then the server is down a week
    done = await bot.at(datetime(2026, 12, 14, 10, 0, tzinfo=UTC))  # 11:00 Berlin, 05:00 New York
    # dana's W49 run (30 Nov 14:00 UTC) and W50 run are past their digest deadlines: skipped, not asked
    assert done["sync prompts"] == 1 and done["sync prompts skipped"] == 3
    open_syncs = [s for s in await rows(db, PeerSync) if s.week >= "2026-W50"]
    assert [s.week for s in open_syncs] == ["2026-W51"]
    assert [m.idempotency_key.split(":")[2] for m in await sent(db, "sync.prompt", "dana")] == ["2026-W48"]
    ana, dana = await person_named(db, "ana"), await person_named(db, "dana")
    assert await skipped_weeks(db) == {ana.id: ["2026-W50"], dana.id: ["2026-W49", "2026-W50"]}
    # dana's own 09:00 comes: asked for this week's sync, the one ana already has
    await bot.at(datetime(2026, 12, 14, 14, 0, tzinfo=UTC))
    assert [m.idempotency_key.split(":")[2] for m in await sent(db, "sync.prompt", "dana")] == ["2026-W48", "2026-W51"]
    assert [s.week for s in await rows(db, PeerSync) if s.week >= "2026-W50"] == ["2026-W51"]


async def test_back_the_day_before_the_next_sync_the_week_is_skipped_not_opened(bot, db):
    await start_partnership(bot, ana_tz="UTC", dana_tz="UTC")
    done = await bot.at(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))  # Sun: W49's digest deadline has just passed
    assert "sync prompts" not in done and done["sync prompts skipped"] == 2
    assert not await rows(db, PeerSync) and not await sent(db, "sync.prompt")
    assert sorted((await skipped_weeks(db)).values()) == [["2026-W49"], ["2026-W49"]]
    done = await bot.at(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # Monday: this week's, as usual
    assert done["sync prompts"] == 2 and "sync prompts skipped" not in done
    assert [s.week for s in await rows(db, PeerSync)] == ["2026-W50"]
