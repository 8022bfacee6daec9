from datetime import date, datetime, timezone

import pytest

from handlers.kernel.dates import format_day, format_instant, parse_date, reading_at
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import split_by_date

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


# --- issue 21: dates people actually type --------------------------------------------------------
@pytest.mark.parametrize("phrase, expected", [
    ("next friday", FRIDAY),  # the next one, as `fri`
    ("next fri", FRIDAY),
    ("Next Monday", date(2026, 11, 30)),
    ("11 dec", date(2026, 12, 11)),
    ("dec 11", date(2026, 12, 11)),
    ("11 december", date(2026, 12, 11)),
    ("11th Dec", date(2026, 12, 11)),
    ("23 nov", MONDAY),  # today is not in the past
    ("22 nov", date(2027, 11, 22)),  # yesterday's day and month: next year's
    ("5 jan", date(2027, 1, 5)),
    ("29 feb", date(2028, 2, 29)),  # the next one there is
    ("eom", date(2026, 11, 30)),
    ("end of month", date(2026, 11, 30)),
    ("in 2 weeks", date(2026, 12, 7)),
    ("2026-12-11", date(2026, 12, 11)),
])
def test_the_forms_people_type_read_against_the_callers_today(phrase, expected):
    assert parse_date(phrase, MONDAY) == expected


def test_eom_on_the_last_day_of_the_month_is_today():
    assert parse_date("end of month", date(2026, 2, 28)) == date(2026, 2, 28)
    assert parse_date("eom", date(2028, 2, 1)) == date(2028, 2, 29)


@pytest.mark.parametrize("phrase, reason", [
    ("12/11", "'12/11' is ambiguous: 12 Nov or 11 Dec? Write `12 nov` or `11 dec`."),
    ("12/11/2027", "'12/11/2027' is ambiguous: 12 Nov 2027 or 11 Dec 2027? Write `2027-11-12` or `2027-12-11`."),
    ("13/11", "write `13 nov`"),  # one reading, but never guessed: 11/13 would be the US one
    ("yesterday", "2026-11-22 is in the past"),
    ("13/13", "'13/13' is not a date I can read; try YYYY-MM-DD"),
    ("32 dec", "is not a date I can read"),
])
def test_an_ambiguous_past_or_impossible_date_is_refused_with_the_reason(phrase, reason):
    with pytest.raises(UserError) as refused:
        parse_date(phrase, MONDAY)
    assert reason in str(refused.value)


def test_the_refusal_lists_exactly_the_forms_that_are_read():
    with pytest.raises(UserError) as refused:
        parse_date("someday", MONDAY)
    listed = str(refused.value).split("try ", 1)[1]
    for form in ("YYYY-MM-DD", "today", "tomorrow", "fri", "next fri", "next week", "eow", "eom",
                 "end of month", "in N days|weeks", "dec 11", "11 dec", "11 december"):
        assert form in listed
        if form != "YYYY-MM-DD":  # each example listed is read
            example = form.replace("N", "3").replace("days|weeks", "days")
            assert parse_date(example, MONDAY) >= MONDAY


@pytest.mark.parametrize("day, shown", [
    (date(2026, 12, 1), "Tue 1 Dec"),
    (date(2027, 12, 1), "Wed 1 Dec 2027"),
    (date(2027, 1, 1), "Fri 1 Jan 2027"),
    (date(2025, 12, 31), "Wed 31 Dec 2025"),
])
def test_a_date_outside_the_current_year_is_written_with_its_year(day, shown):
    assert format_day(day, today=MONDAY) == shown


def test_an_instant_outside_the_year_of_the_command_shows_its_year_in_the_readers_clock():
    new_year_utc = datetime(2027, 1, 1, 0, 30, tzinfo=timezone.utc)
    with reading_at(datetime(2026, 12, 31, 12, tzinfo=timezone.utc)):
        assert format_instant(new_year_utc, "UTC") == "Fri 1 Jan 2027 00:30 (UTC)"
        assert format_instant(new_year_utc, "America/New_York") == "Thu 31 Dec 19:30 (America/New_York)"
        assert format_instant(datetime(2026, 12, 31, 17, tzinfo=timezone.utc), "UTC") == "Thu 31 Dec 17:00 (UTC)"


# --- the `by <date>` of a command: grammar.split_by_date ------------------------------------------
@pytest.mark.parametrize("text, split", [
    ("needs a review by legal by fri", ("needs a review by legal", "fri")),
    ("needs a review by legal", ("needs a review by legal", None)),  # no date meant: text
    ("send the deck by 11 december", ("send the deck", "11 december")),
    ("send the deck by 12/11", ("send the deck", "12/11")),  # parse_date says which of two
    ("send the deck by yesterday", ("send the deck", "yesterday")),  # parse_date: in the past
    ("by fri", ("", "fri")),  # no what: the verb asks for it
])
def test_only_the_last_by_starts_the_date(text, split):
    assert split_by_date(text, MONDAY) == split


@pytest.mark.parametrize("text, words", [
    ("credit terms by asap", "asap"),
    ("credit terms by next fortnight", "next fortnight"),
    ("needs a review by legal by the weekend", "the weekend"),
    ("send it by 3pm", "3pm"),
    ("send it by 31 nov", "31 nov"),
])
def test_words_after_the_last_by_that_read_like_a_date_but_are_none_are_refused(text, words):
    with pytest.raises(UserError) as refused:
        split_by_date(text, MONDAY)
    assert str(refused.value).startswith(f"'{words}' is not a date I can read; try YYYY-MM-DD")
