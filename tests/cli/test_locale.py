"""Dates for people follow a locale (CRM_LOCALE, else LC_ALL/LC_TIME/LANG): German shows
24.12.2026 14:00; without one, ISO. JSON and CSV are ISO-8601 always."""

from __future__ import annotations

import pytest


@pytest.fixture
def dated(crm, monkeypatch):
    for var in ("CRM_LOCALE", "LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(var, raising=False)
    crm("add", "contact", "Jürgen Müller", "--birthday", "1980-12-24")
    crm("add", "task", "Anrufen", "--contact", "müller", "--due", "2026-12-24 14:00")
    crm("add", "task", "Karte", "--contact", "müller", "--due", "2026-12-25")
    crm("add", "deal", "Dach", "--contact", "müller", "--amount", "10", "--close", "2027-01-31")
    return crm


@pytest.mark.parametrize(
    ("env", "german"),
    [
        ({"CRM_LOCALE": "de"}, True),
        ({"CRM_LOCALE": "de_DE.UTF-8"}, True),
        ({"LANG": "de_DE.UTF-8"}, True),
        ({"LC_TIME": "de_AT.UTF-8", "LANG": "en_US.UTF-8"}, True),
        ({"LC_ALL": "C.UTF-8", "LANG": "de_DE.UTF-8"}, False),  # LC_ALL wins, as in POSIX
        ({"CRM_LOCALE": "en", "LANG": "de_DE.UTF-8"}, False),
        ({}, False),
    ],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_dates_for_people_follow_the_locale(dated, monkeypatch, env, german):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    tasks = dated("list", "tasks").stdout
    card = dated("show", "müller").stdout
    deals = dated("list", "deals").stdout
    if german:
        assert "24.12.2026 14:00" in tasks and "25.12.2026" in tasks
        assert "24.12.1980" in card and "31.01.2027" in deals
        assert "2026-12-24" not in tasks + card + deals
    else:
        assert "2026-12-24 14:00" in tasks and "2026-12-25" in tasks
        assert "1980-12-24" in card and "2027-01-31" in deals


def test_machine_formats_stay_iso(dated, monkeypatch):
    monkeypatch.setenv("CRM_LOCALE", "de")
    task = dated("list", "tasks", "-o", "json").json()[0]
    assert task["due_at"] == "2026-12-24T13:00:00+00:00"
    csv = dated("list", "contacts", "-o", "csv").stdout
    assert "1980-12-24" in csv and "24.12.1980" not in csv
    assert "2027-01-31" in dated("list", "deals", "-o", "csv").stdout


def test_search_details_follow_the_locale_and_keep_their_json_keys(dated, monkeypatch):
    dated("log", "call", "müller", "-m", "Dach besprochen", "--at", "2026-11-20 10:00")
    monkeypatch.setenv("CRM_LOCALE", "de")
    table = dated("search", "dach").stdout
    assert "call 20.11.2026 10:00: Dach besprochen" in table
    assert "Lead · 10,00 € · Jürgen Müller" in table
    assert "2026-11-20" not in table
    monkeypatch.setenv("CRM_LOCALE", "en")
    table = dated("search", "dach").stdout
    assert "call 2026-11-20 10:00: Dach besprochen" in table and "€10.00" in table
    hits = dated("search", "dach", "-o", "json").json()
    stable = ["kind", "id", "name", "detail", "contact_id", "email", "company", "city"]
    assert all(list(h)[:8] == stable for h in hits)
    deal = next(h for h in hits if h["kind"] == "deal")
    assert (deal["stage"], deal["amount"], deal["currency"]) == ("Lead", "10.00", "EUR")
    call = next(h for h in hits if h["kind"] == "activity")
    assert call["at"].startswith("2026-11-20T") and call["summary"] == "Dach besprochen"


def test_a_steady_locale_is_read_once_for_its_block(monkeypatch):
    """A long list reads the locale once (output.steady_locale); outside the block, and in
    the next command, the environment decides again."""
    from crmcli import output

    monkeypatch.setenv("CRM_LOCALE", "de")
    with output.steady_locale():
        monkeypatch.setenv("CRM_LOCALE", "en")
        assert output.locale() == "de"
        assert output.display_date(output.datetime(2026, 12, 24).date()) == "24.12.2026"
    assert output.locale() == "en"
