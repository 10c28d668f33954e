"""Birthdays with and without a year (values.parse_birthday, YearlessDate)."""

from __future__ import annotations

from datetime import date

import pytest

from crmcli.errors import Invalid
from crmcli.values import NO_YEAR, YearlessDate, birthday_value, parse_birthday
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("text", "month", "day"),
    [("24.12.", 12, 24), ("24.12", 12, 24), ("1.2.", 2, 1), ("29.02.", 2, 29), ("--12-24", 12, 24),
     ("--0229", 2, 29), (" 24.12. ", 12, 24)],
)  # fmt: skip
def test_a_day_without_a_year_is_a_yearless_birthday(text, month, day):
    born = parse_birthday(text, NOW)
    assert isinstance(born, YearlessDate)
    assert born == date(NO_YEAR, month, day)
    assert born.isoformat() == f"--{month:02d}-{day:02d}"
    assert born.shown() == f"{day:02d}.{month:02d}."


def test_a_full_date_stays_a_date():
    born = parse_birthday("24.12.1968", NOW)
    assert type(born) is date and born == date(1968, 12, 24)
    assert parse_birthday("1968-12-24", NOW) == born


@pytest.mark.parametrize("text", ["30.02.", "31.04.", "0.1.", "24.13.", "--13-01"])
def test_impossible_days_are_refused(text):
    with pytest.raises(Invalid, match="birthday"):
        parse_birthday(text, NOW)


@pytest.mark.parametrize(
    "text", ["today", "heute", "gestern", "yesterday", "morgen", "next monday", "montag", "+3d",
             "vor 3 tagen"],
)  # fmt: skip
def test_relative_words_are_no_birthday(text):
    """A birthday is a calendar date: `gestern` would be another day tomorrow."""
    with pytest.raises(Invalid, match="is relative; a birthday is a calendar date") as err:
        parse_birthday(text, NOW)
    assert "24.12.1968" in err.value.why and "24.12." in err.value.why


def test_an_unreadable_birthday_suggests_no_relative_words():
    with pytest.raises(Invalid) as err:
        parse_birthday("irgendwann", NOW)
    assert "24.12.1968" in err.value.why and "1968-12-24" in err.value.why
    assert "today" not in err.value.why and "monday" not in err.value.why


def test_stored_sentinel_year_reads_back_yearless():
    assert isinstance(birthday_value(date(NO_YEAR, 12, 24)), YearlessDate)
    assert type(birthday_value(date(1968, 12, 24))) is date
    assert birthday_value(None) is None
