from datetime import date

import pytest

from handlers.kernel.dates import parse_date
from handlers.kernel.errors import UserError

MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize("phrase, expected", [
    ("2026-12-01", date(2026, 12, 1)),
    ("today", MONDAY),
    ("Tomorrow", date(2026, 11, 24)),
    ("fri", FRIDAY),
    ("friday", FRIDAY),
    ("mon", date(2026, 11, 30)),  # the next Monday, never today
    ("next week", date(2026, 11, 30)),
    ("eow", FRIDAY),
    ("in 3 days", date(2026, 11, 26)),
    ("in 1 day", date(2026, 11, 24)),
    ("in 2 weeks", date(2026, 12, 7)),
    ("dec 3", date(2026, 12, 3)),
    ("December 3rd", date(2026, 12, 3)),
    ("jan 5", date(2027, 1, 5)),  # already past this year: next year's
    ("nov 23", MONDAY),
])
def test_every_spec_form_reads_against_the_callers_today(phrase, expected):
    assert parse_date(phrase, MONDAY) == expected


def test_eow_on_a_saturday_is_the_coming_friday():
    assert parse_date("eow", date(2026, 11, 28)) == date(2026, 12, 4)


def test_next_week_on_a_sunday_is_tomorrow():
    assert parse_date("next week", date(2026, 11, 29)) == date(2026, 11, 30)


@pytest.mark.parametrize("phrase", ["2026-11-20", "2025-01-01"])
def test_a_past_date_is_refused(phrase):
    with pytest.raises(UserError, match="in the past"):
        parse_date(phrase, MONDAY)


@pytest.mark.parametrize("phrase", ["someday", "2026-02-30", "feb 30", "in many days", ""])
def test_unreadable_dates_say_which_forms_work(phrase):
    with pytest.raises(UserError, match="YYYY-MM-DD"):
        parse_date(phrase, MONDAY)
