"""Weekly rules → instants, in a person's timezone, with APScheduler's CronTrigger (DST-aware).

CronTrigger fires twice on a wall time that a fall-back transition repeats (01:30 on the
first Sunday of November in New York); a weekly rule never wants two runs on one local
day, so `next_fire` skips a fire that lands on the day of the previous one.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_TICK = timedelta(microseconds=1)


def _trigger(weekday: str, hhmm: str, tz: str) -> CronTrigger:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return CronTrigger(day_of_week=weekday, hour=hour, minute=minute, timezone=ZoneInfo(tz))


def fire_at_or_after(weekday: str, hhmm: str, tz: str, moment: datetime) -> datetime:
    """The first run of the rule at or after `moment`."""
    return _trigger(weekday, hhmm, tz).get_next_fire_time(None, moment)


def next_fire(weekday: str, hhmm: str, tz: str, previous: datetime) -> datetime:
    """The run after `previous`, never on the same local day."""
    trigger = _trigger(weekday, hhmm, tz)
    zone = ZoneInfo(tz)
    candidate = trigger.get_next_fire_time(previous, previous + _TICK)
    previous_day = previous.astimezone(zone).date()
    if candidate.astimezone(zone).date() == previous_day:  # the repeated hour of a fall-back
        next_day = datetime.combine(previous_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        candidate = trigger.get_next_fire_time(None, next_day)
    return candidate


def latest_fire_not_after(weekday: str, hhmm: str, tz: str, now: datetime) -> datetime:
    """The most recent run at or before `now` (a tick that was down for weeks runs only it)."""
    fire = fire_at_or_after(weekday, hhmm, tz, now - timedelta(days=7, hours=2))
    while (following := next_fire(weekday, hhmm, tz, fire)) <= now:
        fire = following
    return fire


def resume_at(weekday: str, hhmm: str, tz: str, now: datetime, pending: datetime, pending_tz: str) -> datetime:
    """When a weekly rule that moved to timezone `tz` runs next. `pending` is the run the old
    schedule (in `pending_tz`) was waiting for: if that week's run on the new clock is already
    past, at once (moving east must not skip it); otherwise at its time on the new clock."""
    latest = latest_fire_not_after(weekday, hhmm, tz, now)
    if week_of(latest, tz) == week_of(pending, pending_tz):
        return latest
    return fire_at_or_after(weekday, hhmm, tz, now)


def follow_clock(series, due_attr: str, tz: str, now: datetime) -> None:
    """Move a weekly series (weekday, time, timezone, and its next run in `due_attr`) to the
    clock `tz`, without skipping the run it owed (resume_at)."""
    if series.timezone != tz:
        setattr(series, due_attr, resume_at(series.weekday, series.time, tz, now, getattr(series, due_attr),
                                            series.timezone))
        series.timezone = tz


def week_of(moment: datetime, tz: str) -> str:
    """The ISO week of the local date, e.g. '2026-W48': a peer sync's period."""
    year, week, _ = moment.astimezone(ZoneInfo(tz)).date().isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def outside_quiet_hours(at: datetime, tz: str, quiet_from: str, quiet_until: str) -> datetime:
    """`at`, or the end of the night it falls in (`quiet_from`–`quiet_until`, local clock of
    `tz`, across midnight when from > until): nudges wait for the morning."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    start, end = time.fromisoformat(quiet_from), time.fromisoformat(quiet_until)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return at
    if start < end:
        quiet, morning = start <= clock < end, local.date()
    else:
        quiet = clock >= start or clock < end
        morning = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return at
    return datetime.combine(morning, end, tzinfo=zone)
