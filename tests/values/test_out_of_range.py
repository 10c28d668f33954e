"""A value that reads but lies past what crm keeps says it is out of range, with the range,
not "cannot read"."""

from __future__ import annotations

from datetime import datetime

import pytest

from crmcli.errors import Invalid
from crmcli.values import parse_date, parse_duration, parse_when

NOW = datetime.fromisoformat("2026-11-23T10:00:00+01:00")


@pytest.mark.parametrize(
    "text",
    ["+99999999d", "+99999999y", "+9999999999999999999999d", "in 99999 years", "-3000y",
     "vor 5000 jahren", "999999 weeks ago", "+999999999999h"],
)  # fmt: skip
def test_dates_out_of_range(text):
    for parse in (parse_when, parse_date):
        with pytest.raises(Invalid) as err:
            parse(text, NOW, field="due")
        assert str(err.value) == (
            f"due: {text!r} is out of range (dates run from 0001-01-01 to 9999-12-31)"
        )


def test_long_offsets_that_fit_still_read():
    assert parse_when("+1000000h", NOW).year == 2140
    assert parse_date("in 7000 years", NOW).year == 9026


@pytest.mark.parametrize("text", ["99999999h", "100001", "99999999", "2000 Stunden", "1667:00"])
def test_durations_out_of_range(text):
    with pytest.raises(Invalid) as err:
        parse_duration(text)
    assert str(err.value) == (
        f"duration: {text!r} is out of range (a duration runs from 1 minute to 1666:40, "
        "100,000 minutes)"
    )


def test_the_longest_duration_reads():
    assert parse_duration("1666:40") == 100_000


def test_cli_says_out_of_range(crm):
    r = crm("add", "task", "X", "--due", "+99999999d")
    assert r.exit_code == 1 and "out of range" in r.stderr and "9999-12-31" in r.stderr
    r = crm("add", "contact", "Anna")
    r = crm("log", "call", "anna", "-m", "x", "--duration", "99999999h")
    assert r.exit_code == 1 and "out of range" in r.stderr and "1666:40" in r.stderr
