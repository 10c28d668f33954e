"""A period's ends look back: `--since 1.11.` is the most recent 1 November (today counts),
not next year's; due dates and close dates keep meaning the next such day. The tests' clock
is Monday 23 November 2026, 10:00 in Berlin."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crmcli.values import parse_date, parse_when

NOW = datetime.fromisoformat("2026-11-23T10:00:00+01:00")


def local_day(text: str, **kw) -> date:
    from crmcli.values import local_tz

    return parse_when(text, NOW, **kw).astimezone(local_tz()).date()


@pytest.mark.parametrize(
    ("text", "past", "future"),
    [
        ("1.11.", date(2026, 11, 1), date(2027, 11, 1)),
        ("1.1.", date(2026, 1, 1), date(2027, 1, 1)),
        ("23.11.", date(2026, 11, 23), date(2026, 11, 23)),  # today either way
        ("24.11.", date(2025, 11, 24), date(2026, 11, 24)),
        ("29.02.", date(2024, 2, 29), date(2028, 2, 29)),
        ("fri", date(2026, 11, 20), date(2026, 11, 27)),
        ("freitag", date(2026, 11, 20), date(2026, 11, 27)),
        ("mon", date(2026, 11, 23), date(2026, 11, 30)),  # today is a Monday
        ("next fri", date(2026, 11, 27), date(2026, 11, 27)),  # said so: ahead
        ("1.11.2027", date(2027, 11, 1), date(2027, 11, 1)),  # a year is a year
        ("-7d", date(2026, 11, 16), date(2026, 11, 16)),
        ("1.11. 14:00", date(2026, 11, 1), date(2027, 11, 1)),
    ],
)
def test_past_and_future(text, past, future):
    assert local_day(text, prefer="past") == past
    assert local_day(text) == future
    if ":" not in text:
        assert parse_date(text, NOW, prefer="past") == past


def test_an_end_after_a_start_is_the_first_such_day_after_it():
    assert local_day("1.12.", prefer="past", after=date(2026, 11, 1)) == date(2026, 12, 1)
    assert local_day("31.12.", prefer="past", after=date(2026, 1, 1)) == date(2026, 12, 31)
    assert local_day("fri", prefer="past", after=date(2026, 11, 1)) == date(2026, 11, 6)
    assert local_day("1.12.", prefer="past") == date(2025, 12, 1)


@pytest.fixture
def history(crm):
    crm("add", "contact", "Anna Weiß")
    for at in ("2025-11-05 10:00", "2026-11-05 10:00", "2026-11-20 10:00"):
        assert crm("log", "call", "anna", "-m", at, "--at", at).exit_code == 0
    return crm


def bodies(crm, *args) -> list[str]:
    r = crm("list", "activities", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return sorted(a["body"] for a in r.json())


def test_list_activities_since_a_day_without_a_year(history):
    assert bodies(history, "--since", "1.11.") == ["2026-11-05 10:00", "2026-11-20 10:00"]
    assert bodies(history, "--since", "1.11.", "--until", "10.11.") == ["2026-11-05 10:00"]
    assert bodies(history, "--until", "1.12.") == ["2025-11-05 10:00"]
    assert bodies(history, "--since", "fr") == ["2026-11-20 10:00"]


def test_an_until_day_is_included_and_a_time_is_the_moment(history):
    """One rule in every command: --until 20.11. counts the 20th, 20.11. 10:00 stops there."""
    assert bodies(history, "--since", "1.11.", "--until", "20.11.") == [
        "2026-11-05 10:00", "2026-11-20 10:00",
    ]  # fmt: skip
    assert bodies(history, "--since", "20.11.", "--until", "20.11.") == ["2026-11-20 10:00"]
    assert bodies(history, "--since", "1.11.", "--until", "20.11. 10:00") == ["2026-11-05 10:00"]
    assert bodies(history, "--since", "1.11.", "--until", "19.11.") == ["2026-11-05 10:00"]
    r = history("list", "orders", "--until", "19.11.", "-o", "json")
    assert r.exit_code == 0, r.stderr


def test_report_since_a_day_without_a_year(crm):
    crm("add", "contact", "Anna Weiß")
    crm("add", "deal", "Dach", "--contact", "anna", "--amount", "100")
    r = crm("report", "funnel", "--since", "1.1.", "-o", "json")
    assert r.exit_code == 0, r.stderr
    whole = r.stdout
    assert "2027" not in whole
    r = crm("report", "funnel", "--since", "1.1.", "--until", "31.12.", "-o", "json")
    assert r.exit_code == 0, r.stderr  # one year, not an empty period
    r = crm("report", "sales", "--since", "1.1.", "-o", "json")
    assert r.exit_code == 0, r.stderr


def test_created_since_a_day_without_a_year(crm):
    crm("add", "contact", "Anna Weiß")
    for kind in ("contacts", "companies"):
        r = crm("list", kind, "--created-since", "1.11.", "-o", "json")
        assert r.exit_code == 0, r.stderr
    assert [
        c["name"] for c in crm("list", "contacts", "--created-since", "1.11.", "-o", "json").json()
    ] == ["Anna Weiß"]


def test_due_dates_still_look_ahead(crm):
    r = crm("add", "task", "Karte", "--due", "1.11.", "-o", "json")
    assert r.json()["due_at"].startswith("2027-10-31T23:00")


def test_where_created_since_a_day_without_a_year(crm):
    crm("add", "contact", "Anna Weiß")
    r = crm("delete", "--where", "--created-since", "1.11.", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "Would delete 1 contact;" in r.stderr


def test_an_until_equal_to_the_since_is_that_one_day(history):
    """`--since 20.11. --until 20.11.` is that day (walk finding 3: the same day at both ends
    was refused as an empty period), not a year; an end before the start is still refused."""
    assert bodies(history, "--since", "20.11.", "--until", "20.11.") == ["2026-11-20 10:00"]
    assert bodies(history, "--since", "fri", "--until", "fri") == ["2026-11-20 10:00"]
    assert bodies(history, "--since", "5.11.2025", "--until", "5.11.2025") == ["2025-11-05 10:00"]
    r = history("list", "activities", "--since", "20.11.2026", "--until", "19.11.2026")
    assert r.exit_code == 1 and "would be empty" in r.stderr
    r = history("list", "activities", "--since", "20.11.2026 12:00", "--until", "20.11.2026 12:00")
    assert r.exit_code == 1 and "would be empty" in r.stderr  # a moment, not a day


def test_an_until_before_the_since_is_named_as_typed(crm):
    for args in (("list", "orders"), ("list", "activities"), ("report", "funnel")):
        r = crm(*args, "--since", "5.11.2026", "--until", "1.11.2026")
        assert r.exit_code != 0 and r.stdout == ""
        assert r.stderr.strip() == (
            "crm: error: until: 2026-11-01 is before since 2026-11-05 00:00: "
            "the period would be empty"
        )
