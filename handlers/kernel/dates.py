"""The date forms of SPEC §2, read in the caller's timezone, and how dates are written."""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
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
# Every form parse_date reads, as `help` and the refusals list them (README and SPEC §2 say the same).
DATE_FORMS = ("YYYY-MM-DD, today, tomorrow, a weekday (fri, next fri: the next one), next week (Monday), "
              "eow (Friday), eom or end of month, in N days|weeks, or a day and month (dec 11, 11 dec, 11 december)")

# No date phrase has more letters and digits than this ("september 30th" has 13, "in 999 weeks"
# 10): a longer one is not read at all. Why: grammar.split_by_date looks for the date only among
# the last characters of a command, which keeps every parser linear in the command's length.
# It also reads only the text after the last `by`: keep the word `by` out of every date form.
MAX_DATE_CHARS = 24

_IN_N = re.compile(r"^in\s+(\d{1,3})\s+(day|days|week|weeks)$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}|\d{2}))?$")  # 12/11, 12.11.26: day or month first?

# Words that only a date (or a deadline) is made of: a `by …` ending a command with one of these, or
# a word starting with a digit, in at most DATE_LIKE_WORDS words is a date the writer meant, so it is
# refused when it is not one of DATE_FORMS ('by yesterday', 'by asap', 'by 3pm') rather than kept as
# text ('a review by legal', 'an intro by @maria'). Words that are also plain English ('may', 'next',
# 'end', 'this') are not here.
_DATE_WORDS = frozenset({
    *WEEKDAYS, *(m for m in MONTHS if m != "may"),
    "today", "tomorrow", "tmrw", "tmr", "yesterday", "tonight", "day", "days", "week", "weeks", "weekend",
    "fortnight", "month", "months", "quarter", "year", "years", "eod", "eow", "eom", "eoq", "eoy",
    "noon", "midnight", "morning", "afternoon", "evening", "asap", "soon", "later", "someday", "sometime",
    "whenever", "tbd", "q1", "q2", "q3", "q4",
})
DATE_LIKE_WORDS = 3


class _Unusable(str):
    """A phrase that reads as a date but cannot be one: why (`12/11`: which of two?)."""


def parse_date(text: str, today: date) -> date:
    """Turn a date phrase into a date; `today` is the caller's local date. Past dates are refused."""
    phrase = " ".join(text.lower().split())
    result = _parse(phrase, today)
    if result is None:
        raise UserError(not_a_date(text))
    if isinstance(result, _Unusable):
        raise UserError(str(result))
    if result < today:
        raise UserError(f"{result.isoformat()} is in the past. Pick today or a later date.")
    if result.year > today.year + MAX_YEARS_AHEAD:
        raise UserError(f"{result.isoformat()} is too far ahead. Pick a date within {MAX_YEARS_AHEAD} years.")
    return result


_AGO = re.compile(r"^(\d{1,3})\s+(day|days|week|weeks)\s+ago$")
PAST_FORMS = "YYYY-MM-DD, today, yesterday, a weekday (the latest, today's included), dec 3, or N days|weeks ago"


def parse_past_date(text: str, today: date, *, after: str) -> date:
    """A day at or before `today` (`list done since mon`): a weekday or a day and month is the
    latest one not after today. `after` names what the date follows, for the refusal."""
    phrase = " ".join(text.lower().split())
    found: date | None = None
    if phrase in ("today", "yesterday"):
        found = today - timedelta(days=phrase == "yesterday")
    elif phrase in WEEKDAYS:
        found = today - timedelta(days=(today.weekday() - WEEKDAYS[phrase]) % 7)
    elif m := _AGO.match(phrase):
        found = today - timedelta(days=int(m.group(1)) * (7 if m.group(2).startswith("week") else 1))
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", phrase):
        with suppress(ValueError):
            found = date.fromisoformat(phrase)
    elif (m := _MONTH_DAY.match(phrase)) and m.group(1) in MONTHS:
        found = _last_month_day(MONTHS[m.group(1)], int(m.group(2)), today)
    elif (m := _DAY_MONTH.match(phrase)) and m.group(2) in MONTHS:
        found = _last_month_day(MONTHS[m.group(2)], int(m.group(1)), today)
    if found is None:
        raise UserError(f"'{text}' is not a date I can read after {after}; try {PAST_FORMS}.")
    if found > today:
        raise UserError(f"{found.isoformat()} is in the future: {after} takes today or an earlier date.")
    return found


def _last_month_day(month: int, day: int, today: date) -> date | None:
    """`dec 3` looking back: this year's, or last year's when this year's is still to come."""
    for year in (today.year, today.year - 1):
        with suppress(ValueError):
            if (candidate := date(year, month, day)) <= today:
                return candidate
    return None


def not_a_date(text: str) -> str:
    """The refusal of words that were meant as a date and are none."""
    return f"'{' '.join(text.split())}' is not a date I can read; try {DATE_FORMS}."


def is_date(text: str, today: date) -> bool:
    """Whether `text` is meant as a date of DATE_FORMS: parse_date reads it, or says why it can't
    be used (in the past, ambiguous like `12/11`)."""
    return _parse(" ".join(text.lower().split()), today) is not None


def looks_like_date(text: str) -> bool:
    """Whether `text`, found after a `by`, was meant as a date though it may be none: at most
    DATE_LIKE_WORDS words, one of them a word of _DATE_WORDS or starting with a digit (`3pm`,
    `12/11`; not a mention's or a reference's digits)."""
    words = [w.strip(".,;:!?") for w in text.lower().split()]
    return 0 < len(words) <= DATE_LIKE_WORDS and any(w in _DATE_WORDS or w[:1].isdigit() for w in words)


def _parse(phrase: str, today: date) -> date | _Unusable | None:
    if len(phrase) - phrase.count(" ") > MAX_DATE_CHARS:
        return None
    if phrase == "today":
        return today
    if phrase == "tomorrow":
        return today + timedelta(days=1)
    if phrase == "yesterday":  # read, to be refused as in the past rather than kept as text
        return today - timedelta(days=1)
    weekday = phrase.removeprefix("next ")
    if weekday in WEEKDAYS:  # the next one, never today; `next fri` is the same day as `fri`
        ahead = (WEEKDAYS[weekday] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    if phrase == "next week":
        return today + timedelta(days=7 - today.weekday())
    if phrase == "eow":  # this week's Friday; at the weekend, the coming one
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if phrase in ("eom", "end of month"):  # this month's last day (today on it)
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
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
    if (m := _DAY_MONTH.match(phrase)) and m.group(2) in MONTHS:
        return _next_month_day(MONTHS[m.group(2)], int(m.group(1)), today)
    if m := _NUMERIC.match(phrase):
        return _numeric(phrase, int(m.group(1)), int(m.group(2)), m.group(3))
    return None


def _next_month_day(month: int, day: int, today: date) -> date | None:
    """`dec 3` is the next 3 December that is not in the past: this year's, or next year's once
    this year's has passed (`feb 29` the next leap year's)."""
    if day < 1 or day > calendar.monthrange(2000, month)[1]:  # 2000: a leap year
        return None
    for year in range(today.year, today.year + 9):
        if (month, day) != (2, 29) or calendar.isleap(year):
            if (candidate := date(year, month, day)) >= today:
                return candidate
    return None


def _numeric(phrase: str, first: int, second: int, year: str | None) -> _Unusable | None:
    """`12/11` is 12 Nov in most of the world and 11 Dec in the US: never guessed. Refused with
    its readings written out, and what to type instead."""
    readings: list[tuple[int, int]] = []
    for day, month in ((first, second), (second, first)):
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2000, month)[1] and (day, month) not in readings:
            readings.append((day, month))
    if not readings:
        return None
    full = int(year) + (2000 if len(year) == 2 else 0) if year else None
    named = [f"{day} {calendar.month_abbr[month]}" + (f" {full}" if full else "") for day, month in readings]
    typed = [f"`{full:04d}-{month:02d}-{day:02d}`" if full else f"`{day} {calendar.month_abbr[month].lower()}`"
             for day, month in readings]
    if len(readings) == 2:
        return _Unusable(f"'{phrase}' is ambiguous: {named[0]} or {named[1]}? Write {typed[0]} or {typed[1]}.")
    return _Unusable(f"'{phrase}' is not read: numbers alone are day first in some countries and month first "
                     f"in others; write {typed[0]}.")


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def due_instant(day: date, due_time: str, tz: str) -> datetime:
    """The aware instant a commitment dated `day` falls due in its owner's timezone."""
    return datetime.combine(day, time.fromisoformat(due_time), tzinfo=ZoneInfo(tz))


# --- how dates are written --------------------------------------------------------------------
# The instant whose year is "this year" for every date written while a command or a tick runs:
# the dispatcher and the runner set it (reading_at) to their clock's now. Why a context variable:
# a date outside the reader's current year is written with its year, and that is decided where
# dates are written, in dozens of messages that otherwise know no clock.
_READING_AT: ContextVar[datetime | None] = ContextVar("partnerbot_reading_at", default=None)


@contextmanager
def reading_at(now: datetime) -> Iterator[None]:
    """Dates written within are read at `now` (see format_day)."""
    token = _READING_AT.set(now)
    try:
        yield
    finally:
        _READING_AT.reset(token)


def _this_year(tz: str | None) -> int:
    now = _READING_AT.get() or datetime.now(timezone.utc)
    return (now.astimezone(ZoneInfo(tz)) if tz else now).year


# English names, as strftime's %a and %b give them in the C locale Python runs in, without its
# cost (two strftime calls were ~1 % of a `commit` command's CPU, bench/slash_ack.py)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_day(d: date, tz: str | None = None, *, today: date | None = None) -> str:
    """'Fri 27 Nov'; 'Wed 1 Dec 2027' outside the current year (`today`'s, else that of the
    instant the command or tick runs at, in `tz`), so a date never reads as one past."""
    year = today.year if today else _this_year(tz)
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}" + (f" {d.year}" if d.year != year else "")


def format_instant(at: datetime, tz: str) -> str:
    """'Fri 27 Nov 17:00 (Europe/Berlin)': an instant as the reader's clock shows it (with its
    year outside the current one: 'Fri 1 Jan 2027 17:00 (Europe/Berlin)')."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{format_day(local.date(), tz)} {local.hour:02d}:{local.minute:02d} ({tz})"
