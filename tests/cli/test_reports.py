"""`crm report funnel|pipeline|sales` through the CLI: JSON and CSV for scripts, tables for
people, errors as one line."""

from __future__ import annotations

import pytest


@pytest.fixture
def pipeline(crm):
    """Three deals created today (NOW): one won, one lost, one open in Angebot."""
    crm("add", "contact", "Jürgen Müller")
    for title, amount in (("A", "1.000"), ("B", "2000"), ("C", "300,50")):
        r = crm("add", "deal", title, "-C", "müller", "--amount", amount, "--close", "15.12.")
        assert r.exit_code == 0, r.stderr
    crm("move", "A", "angebot")
    crm("won", "A")
    crm("lost", "B", "--reason", "Preis zu hoch")
    crm("move", "C", "angebot")
    return crm


def test_funnel_json(pipeline):
    r = pipeline("report", "funnel", "-o", "json")
    assert r.exit_code == 0, r.stderr
    f = r.json()
    assert f["deals"] == 3
    stages = {s["stage"]: s for s in f["stages"]}
    assert (stages["Lead"]["reached"], stages["Lead"]["value"]) == (3, "3300.50")
    assert stages["Angebot"]["reached"] == 2 and stages["Qualifiziert"]["reached"] == 2
    assert stages["Lead"]["conversion_next"] == "0.6667"
    assert stages["Lead"]["conversion_won"] == "0.3333"
    assert stages["Verloren"]["reached"] == 1
    assert f["lost_reasons"] == [
        {"reason": "Preis zu hoch", "deals": 1, "value": "2000.00", "share": "1.0000"}
    ]


def test_funnel_table_and_csv(pipeline):
    table = pipeline("report", "funnel").stdout
    assert "Lead" in table and "66,7 %" in table and "Preis zu hoch" in table
    assert "3.300,50 €" in table  # money and percentages both German
    assert "\x1b[" not in table and "█" not in table  # piped: plain
    csv = pipeline("report", "funnel", "-o", "csv").stdout.splitlines()
    assert csv[0].startswith("stage,stage_id,position") and len(csv) == 7


def test_pipeline_and_sales_json(pipeline):
    p = pipeline("report", "pipeline", "-o", "json").json()
    assert p["total"] == {"deals": 1, "value": "300.50", "weighted": "150.25"}
    assert p["months"] == [
        {"month": "2026-12", "deals": 1, "value": "300.50", "weighted": "150.25"}
    ]
    s = pipeline("report", "sales", "--by", "owner", "-o", "json").json()
    assert s[-1] == {
        "group": None, "won": 1, "lost": 1, "won_value": "1000.00",
        "average_deal": "1000.00", "win_rate": "0.5000", "sales_cycle_days": "0.00",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["funnel", "--since", "irgendwann"], "since: cannot read"),
        (["sales", "--by", "weekday"], "must be one of month, quarter, owner, source"),
        (["pipeline", "--currency", "euro"], "currency"),
    ],
)
def test_bad_report_options(pipeline, args, message):
    r = pipeline("report", *args)
    assert r.exit_code == 1 and r.stderr.startswith("crm: error: ") and message in r.stderr
    assert r.stdout == ""


def test_empty_database_reports_are_empty_not_errors(crm):
    r = crm("report", "funnel", "-o", "json")
    assert r.exit_code == 0 and r.json()["deals"] == 0
    assert crm("report", "sales").exit_code == 0


def test_numbers_follow_the_locale(pipeline, monkeypatch):
    total = pipeline("report", "sales", "--by", "owner").stdout.splitlines()[-1].split()
    assert total == ["Total", "1", "1", "1.000,00", "€", "1.000,00", "€", "50,0", "%", "0,00"]
    monkeypatch.setenv("CRM_LOCALE", "en")
    table = pipeline("report", "funnel").stdout
    assert "66.7 %" in table and "€3,300.50" in table
    total = pipeline("report", "sales", "--by", "owner").stdout.splitlines()[-1].split()
    assert total == ["Total", "1", "1", "€1,000.00", "€1,000.00", "50.0", "%", "0.00"]
    assert pipeline("report", "funnel", "-o", "json").json()["stages"][0]["value"] == "3300.50"


def test_pipeline_says_which_deals_in_other_currencies_it_leaves_out(crm):
    assert crm("add", "contact", "Anna Weiß").exit_code == 0
    assert crm("add", "deal", "A", "-C", "anna", "--amount", "8.000").exit_code == 0
    assert (
        crm("add", "deal", "B", "-C", "anna", "--amount", "900", "--currency", "CHF").exit_code == 0
    )
    r = crm("report", "pipeline")
    assert r.exit_code == 0
    assert (
        "Not in this report: 1 open deal in CHF (crm report pipeline --currency CHF)." in r.stderr
    )
    assert crm("report", "pipeline", "-o", "json").json()["other_currencies"] == {"CHF": 1}
    r = crm("report", "pipeline", "--currency", "CHF", "-o", "json")
    assert r.json()["other_currencies"] == {"EUR": 1} and r.json()["total"]["deals"] == 1
