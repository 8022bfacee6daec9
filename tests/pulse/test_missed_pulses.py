"""Missed openings are coalesced: after the tick was down for months, only the latest month's
pulse opens, and only while it would still be open; the months skipped are logged and counted."""
from datetime import datetime, timezone

from storage.models import ActivityLog, Partnership, Pulse
from tests.helpers import rows, sent
from tests.pulse.test_pulse import MEMBERS, start_partnership

UTC = timezone.utc
FEB_OPENS = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)  # Mon 1 Feb 09:00 in Berlin
MAR_OPENS = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


async def scheduled_then_down(bot):
    await start_partnership(bot)
    assert "health pulses" not in await bot.at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # due Mon 7 Dec


async def test_after_two_missed_months_only_this_months_pulse_opens(bot, db):
    await scheduled_then_down(bot)
    done = await bot.at(datetime(2027, 2, 2, 10, 0, tzinfo=UTC))  # December's and January's were missed
    assert done["health pulses"] == 1 and done["health pulses skipped"] == 2
    (pulse,) = await rows(db, Pulse)
    assert pulse.period == "2027-02" and pulse.closed_at is None
    assert len(await sent(db, "pulse.prompt")) == len(MEMBERS)
    (skipped,) = await rows(db, ActivityLog, ActivityLog.action == "pulse.skipped")
    assert skipped.record == "P-1" and skipped.after["periods"] == ["2026-12", "2027-01"]


async def test_when_even_the_latest_months_pulse_would_have_closed_none_opens(bot, db):
    await scheduled_then_down(bot)
    done = await bot.at(datetime(2027, 2, 4, 8, 0, tzinfo=UTC))  # February's would close now (3 days)
    assert "health pulses" not in done and done["health pulses skipped"] == 3
    assert not await rows(db, Pulse) and not await sent(db, "pulse.prompt")
    (skipped,) = await rows(db, ActivityLog, ActivityLog.action == "pulse.skipped")
    assert skipped.after["periods"] == ["2026-12", "2027-01", "2027-02"]
    (p1,) = await rows(db, Partnership)
    assert p1.pulse_next_at == MAR_OPENS
    assert not await bot.at(datetime(2027, 2, 4, 8, 1, tzinfo=UTC))  # nothing twice
    assert (await bot.at(MAR_OPENS))["health pulses"] == 1
    assert [p.period for p in await rows(db, Pulse)] == ["2027-03"]
