"""Settings crm cannot use are refused with one line, not quietly replaced by something else:
an empty --db, a TZ that is no zone, a CRM_LOCALE crm has no rules for."""

from __future__ import annotations

import time

import pytest

from crmcli.errors import Invalid


def test_an_empty_db_option_is_a_usage_error(crm, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from crmcli.cli import app

    monkeypatch.setenv("CRM_DB", str(tmp_path / "other.db"))
    for empty in ("", "  "):
        r = CliRunner().invoke(app, ["--db", empty, "list", "contacts"])
        assert r.exit_code == 2
        assert r.stderr.startswith("crm: error: Invalid value for '--db': is empty")
    assert not (tmp_path / "other.db").exists()


@pytest.mark.parametrize("value", ["garbage", "Not/AZone", "CEST", "berlin"])
def test_a_tz_that_is_no_zone_is_refused(crm, monkeypatch, value):
    monkeypatch.setenv("TZ", value)
    time.tzset()  # the C library then knows the name (as at a real start-up): no excuse
    r = crm("list", "tasks")
    assert r.exit_code == 1
    assert r.stderr == (
        f"crm: error: TZ: {value!r} is not a time zone (try Europe/Berlin, or unset TZ for "
        "the system's)\n"
    )


@pytest.mark.parametrize(
    ("value", "offset_hours"),
    [("EST5EDT", -5), ("XST3", -3), ("UTC", 0), ("Etc/GMT-2", 2)],
)
def test_posix_rules_and_names_still_work(monkeypatch, value, offset_hours):
    from datetime import datetime, timedelta

    from crmcli.values import local_tz

    monkeypatch.setenv("TZ", value)
    offset = datetime(2026, 1, 15, tzinfo=local_tz()).utcoffset()
    assert offset == timedelta(hours=offset_hours)


@pytest.mark.parametrize("value", ["fr", "fr_FR.UTF-8", "C", "german", "x" * 100])
def test_a_locale_crm_has_no_rules_for_is_refused(crm, monkeypatch, value):
    monkeypatch.setenv("CRM_LOCALE", value)
    r = crm("list", "contacts")
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: CRM_LOCALE: '")
    assert r.stderr.endswith(
        "is not a locale crm has (choose de or en, or unset it for ISO dates)\n"
    )
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("value", ["de", "DE", "de_DE.UTF-8", "de_AT@euro", "de-CH", "en", "en_GB"])
def test_the_locales_crm_has(crm, monkeypatch, value):
    monkeypatch.setenv("CRM_LOCALE", value)
    assert crm("list", "contacts").exit_code == 0


def test_an_empty_locale_means_unset(crm, monkeypatch):
    crm("add", "task", "Karte", "--due", "2026-12-24 14:00")
    monkeypatch.setenv("CRM_LOCALE", "")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    r = crm("list", "tasks")
    assert r.exit_code == 0 and "24.12.2026 14:00" in r.stdout


def test_check_settings_raises_invalid(monkeypatch):
    from crmcli.env import check_settings

    monkeypatch.setenv("CRM_LOCALE", "fr")
    with pytest.raises(Invalid):
        check_settings()
