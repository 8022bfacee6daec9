"""The rules every series runs on → instants, in a timezone, with APScheduler's CronTrigger
(DST-aware): weekly (peer syncs, meetings) and monthly (the health pulse).

CronTrigger fires twice on a wall time that a fall-back transition repeats (01:30 on the
first Sunday of November in New York); a weekly rule never wants two runs on one local
day, so `next_fire` skips a fire that lands on the day of the previous one, and a monthly
rule counts from the 1st of the month, so it can never fire twice in one.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_TICK = timedelta(microseconds=1)


# --- weekly: <weekday> at <HH:MM> ---------------------------------------------------------------
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


def fires_before(weekday: str, hhmm: str, tz: str, owed: datetime, latest: datetime) -> list[datetime]:
    """The runs from `owed` (the one a series waited for) up to `latest`, excluded: those a tick
    that was down for a while coalesces into `latest` (APScheduler's coalesce)."""
    fires, fire = [], fire_at_or_after(weekday, hhmm, tz, owed)
    while fire < latest:
        fires.append(fire)
        fire = next_fire(weekday, hhmm, tz, fire)
    return fires


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


# --- monthly: the first <weekday> of the month at <HH:MM> ----------------------------------------
def _monthly_trigger(day: str, hhmm: str, tz: str) -> CronTrigger:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return CronTrigger(day=f"1st {day}", hour=hour, minute=minute, timezone=ZoneInfo(tz))


def monthly_fire_at_or_after(day: str, hhmm: str, tz: str, moment: datetime) -> datetime:
    """In UTC: a local time of a repeated (fall-back) hour compares unequal to every instant
    of another zone, even its own (PEP 495)."""
    return _monthly_trigger(day, hhmm, tz).get_next_fire_time(None, moment).astimezone(timezone.utc)


def fire_of_month(day: str, hhmm: str, tz: str, year: int, month: int) -> datetime:
    """The run of that month (CronTrigger is DST-aware: a wall time a spring-forward skips
    runs once, just after)."""
    return monthly_fire_at_or_after(day, hhmm, tz, datetime(year, month, 1, tzinfo=ZoneInfo(tz)))


def next_month_fire(day: str, hhmm: str, tz: str, fire: datetime) -> datetime:
    """The run of the month after `fire`'s: counted from the 1st, so a fall-back that repeats
    the hour of `fire` can never give a second run in one month."""
    local = fire.astimezone(ZoneInfo(tz))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return fire_of_month(day, hhmm, tz, year, month)


def latest_monthly_fire_not_after(day: str, hhmm: str, tz: str, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    fire = fire_of_month(day, hhmm, tz, local.year, local.month)
    if fire > now:
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        fire = fire_of_month(day, hhmm, tz, year, month)
    return fire


def month_of(fire: datetime, tz: str) -> str:
    """'2026-12': the month of a run, on its clock (a monthly series' period)."""
    local = fire.astimezone(ZoneInfo(tz))
    return f"{local.year}-{local.month:02d}"
