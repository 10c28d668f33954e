"""Values that used to slip through `crm` wrongly: phone numbers that lost a digit, a TZ
outside the zone database, recurrence rules that never occur."""

from __future__ import annotations

import pytest


def test_a_phone_number_is_never_stored_with_a_digit_eaten(crm):
    r = crm("add", "contact", "Hans Null", "-p", "+49004390427")
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: phone: '+49004390427' would be stored as")
    assert len(r.stderr.splitlines()) == 1
    assert crm("list", "contacts", "-o", "json").json() == []  # nothing written
    r = crm("add", "contact", "Hans Null", "-p", "+49 (0)30 1234567", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "+49301234567" in r.stdout


def test_a_tz_outside_the_zone_database_is_one_line_and_writes_nothing(crm, monkeypatch):
    monkeypatch.setenv("TZ", "Mars/Olympus")
    for args in (
        ("add", "task", "Rückruf", "--due", "tomorrow 9:00"),
        ("add", "contact", "Hans Null"),
        ("log", "note", "1", "-m", "hallo"),
        ("remind",),
        ("list", "tasks"),
    ):
        r = crm(*args)
        assert r.exit_code == 1, args
        assert r.stderr == (
            "crm: error: TZ: 'Mars/Olympus' is not a time zone (try Europe/Berlin, or unset "
            "TZ for the system's)\n"
        ), args
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert crm("list", "contacts", "-o", "json").json() == []
    assert crm("list", "tasks", "-o", "json").json() == []


def test_a_rule_that_never_occurs_is_refused_at_once(crm):
    import time

    started = time.perf_counter()
    r = crm("add", "task", "Nie", "--due", "fri", "--every", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    assert time.perf_counter() - started < 2  # was 6 s
    assert r.exit_code == 1
    assert r.stderr == (
        "crm: error: every: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30' never occurs "
        "(no date matches it)\n"
    )
    assert crm("list", "tasks", "-o", "json").json() == []


@pytest.mark.parametrize(
    ("args", "option", "ceiling"),
    [
        (("demo", "--contacts"), "--contacts", 2_000_000),
        (("demo", "--companies"), "--companies", 2_000_000),
        (("demo", "--activities"), "--activities", 20_000_000),
        (("demo", "--tasks"), "--tasks", 2_000_000),
        (("add", "task", "Serie", "--every", "daily", "--due", "tomorrow", "--count"), "--count",
         10_000),
    ],
)  # fmt: skip
def test_counts_have_a_documented_ceiling_and_past_it_a_usage_error(crm, args, option, ceiling):
    for value in (str(ceiling + 1), "99999999999999999999"):
        r = crm(*args, value)
        assert r.exit_code == 2, r.stderr
        assert f"Invalid value for '{option}'" in r.stderr and f"<={ceiling}" in r.stderr
        assert "overflow" not in r.stderr.lower()
    assert crm("list", "contacts", "-o", "json").json() == []
    assert crm("list", "tasks", "-o", "json").json() == []
    command = args[:1] if args[0] == "demo" else args[:2]
    help_text = " ".join(crm(*command, "--help").stdout.split())
    assert f"at most {ceiling:,}" in help_text


def test_the_count_ceiling_holds_in_the_service_too():
    from crmcli.errors import Invalid
    from crmcli.services import tasks

    assert tasks.with_end("FREQ=DAILY", count=10_000).endswith("COUNT=10000")
    with pytest.raises(Invalid, match="from 1 to 10,000"):
        tasks.with_end("FREQ=DAILY", count=10_001)
