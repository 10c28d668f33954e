"""The funnel table's median days: a stage nobody completed a stay in has an empty cell (JSON
null), and a median is always shown beside how many stays it is of, so a lost stage that
reached 0 (its deal was reopened) but holds a stay of 0 days reads as what it is."""

from __future__ import annotations

import pytest


@pytest.fixture
def reopened(crm):
    crm("add", "contact", "Müller")
    crm("add", "deal", "Fassade", "--contact", "müller", "--amount", "8000")
    crm("lost", "fassade", "--reason", "Preis zu hoch")
    assert crm("reopen", "deal", "fassade").exit_code == 0


def test_funnel_json_has_null_for_no_stays(crm, reopened):
    stages = {s["stage"]: s for s in crm("report", "funnel", "-o", "json").json()["stages"]}
    assert stages["Qualifiziert"]["stays"] == 0 and stages["Qualifiziert"]["median_days"] is None
    assert stages["Verloren"]["reached"] == 0 and stages["Verloren"]["stays"] == 1


def test_funnel_table_shows_stays_beside_the_median(crm, reopened):
    lines = crm("report", "funnel").stdout.splitlines()
    assert lines[0].split()[-3:] == ["MEDIAN", "DAYS", "STAYS"]
    rows = {ln.split()[0]: ln.split() for ln in lines[1:] if ln.strip()}
    assert rows["Qualifiziert"][-1] == "0"  # no stays: no median, an empty cell
    assert rows["Qualifiziert"][-2] != "0,00"
    assert rows["Verloren"][-2:] == ["0,00", "1"]
