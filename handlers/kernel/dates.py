"""The date forms of SPEC §2, read in the caller's timezone."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.kernel.errors import UserError

WEEKDAYS = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}
MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
# Why: a date near 9999-12-31 passed and then overflowed `snooze` (date + days); nothing is
# planned further ahead than this, and `in 999 weeks` (19 years) still fits.
MAX_YEARS_AHEAD = 20
DATE_FORMS = "YYYY-MM-DD, today, tomorrow, a weekday (fri), next week, eow, in N days|weeks, or dec 3"

# No date phrase has more letters and digits than this ("september 30th" has 13, "in 999 weeks"
# 10): a longer one is not read at all. Why: grammar.split_by_date looks for the date only among
# the last characters of a command, which keeps every parser linear in the command's length.
# It also reads only the text after the last `by`: keep the word `by` out of every date form.
MAX_DATE_CHARS = 24

_IN_N = re.compile(r"^in\s+(\d{1,3})\s+(day|days|week|weeks)$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?$")


def parse_date(text: str, today: date) -> date:
    """Turn a date phrase into a date; `today` is the caller's local date. Past dates are refused."""
    phrase = " ".join(text.lower().split())
    result = _parse(phrase, today)
    if result is None:
        raise UserError(f"I can't read '{text}' as a date. Use {DATE_FORMS}.")
    if result < today:
        raise UserError(f"{result.isoformat()} is in the past. Pick today or a later date.")
    if result.year > today.year + MAX_YEARS_AHEAD:
        raise UserError(f"{result.isoformat()} is too far ahead. Pick a date within {MAX_YEARS_AHEAD} years.")
    return result


def is_date(text: str, today: date) -> bool:
    return _parse(" ".join(text.lower().split()), today) is not None


def _parse(phrase: str, today: date) -> date | None:
    if len(phrase) - phrase.count(" ") > MAX_DATE_CHARS:
        return None
    if phrase == "today":
        return today
    if phrase == "tomorrow":
        return today + timedelta(days=1)
    if phrase in WEEKDAYS:  # the next one, never today
        ahead = (WEEKDAYS[phrase] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    if phrase == "next week":
        return today + timedelta(days=7 - today.weekday())
    if phrase == "eow":  # this week's Friday; at the weekend, the coming one
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if m := _IN_N.match(phrase):
        n = int(m.group(1))
        return today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", phrase):
        try:
            return date.fromisoformat(phrase)
        except ValueError:
            return None
    if (m := _MONTH_DAY.match(phrase)) and m.group(1) in MONTHS:
        return _next_month_day(MONTHS[m.group(1)], int(m.group(2)), today)
    return None


def _next_month_day(month: int, day: int, today: date) -> date | None:
    """`dec 3` is this year's, or next year's once this year's has passed."""
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def due_instant(day: date, due_time: str, tz: str) -> datetime:
    """The aware instant a commitment dated `day` falls due in its owner's timezone."""
    return datetime.combine(day, time.fromisoformat(due_time), tzinfo=ZoneInfo(tz))


def format_instant(at: datetime, tz: str) -> str:
    """'Fri 27 Nov 17:00 (Europe/Berlin)': an instant as the reader's clock shows it."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %H:%M')} ({tz})"
