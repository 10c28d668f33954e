"""`crm remind` words its lines in the front end: dates in the user's locale, lines that fit
the terminal; the service hands over data (issue 15)."""

from __future__ import annotations

import pytest


@pytest.fixture
def due_call(crm, monkeypatch):
    """Anna, every 30 days, last called 30.04.2026 (ISO 2026-04-30); the call is due now."""
    for var in ("CRM_LOCALE", "LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(var, raising=False)
    crm("add", "contact", "Anna Weiß", "--every", "30 days")
    crm("log", "call", "weiß", "--at", "2026-04-30 10:00")
    return crm


def test_german_locale_words_the_whole_line_in_german(due_call, monkeypatch):
    monkeypatch.setenv("CRM_LOCALE", "de")
    line = due_call("remind", "--all").stdout.strip()
    assert "last contact 30.04.2026" in line
    assert "2026-04-30" not in line
    assert line.startswith("30.05.2026")


def test_without_a_locale_dates_stay_iso(due_call):
    line = due_call("remind", "--all").stdout.strip()
    assert "get in touch with Anna Weiß (every 30 days; last contact 2026-04-30)" in line


def test_json_keeps_its_keys_and_iso_data(due_call, monkeypatch):
    monkeypatch.setenv("CRM_LOCALE", "de")
    (item,) = due_call("remind", "--all", "-o", "json").json()
    assert item["kind"] == "cadence" and item["cadence_days"] == 30
    assert item["last_activity_at"].startswith("2026-04-30T")
    # JSON says dates in ISO 8601, in its sentences too
    assert item["text"] == "get in touch with Anna Weiß (every 30 days; last contact 2026-04-30)"


def test_a_day_cadence_reads_every_day(crm):
    crm("add", "contact", "Täglich", "--every", "1 day")
    crm("log", "call", "täglich", "--at", "-2d")
    assert "(every day; last contact 2026-11-21)" in crm("remind", "--all").stdout
