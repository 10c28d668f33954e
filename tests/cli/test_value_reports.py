"""crm report value and crm report clv: the whole report in JSON, rows in CSV, errors."""

from __future__ import annotations

import csv
import io

import pytest

from crmcli.commands import value_reports


@pytest.fixture
def shop(crm):
    steps = [
        ("add", "contact", "Anna Weiß", "--city", "Köln", "--source", "shop"),
        ("add", "contact", "Bernd Bauer", "--city", "Bonn"),
        ("add", "contact", "Carla Klein", "--city", "Köln"),
        ("add", "product", "KAF", "Kaffee", "--price", "10", "--vat", "7", "--category", "Kaffee"),
        ("add", "product", "TASSE", "Tasse", "--price", "5", "--category", "Geschirr"),
    ]
    for at in ("1.1.2026", "5.2.2026", "10.3.2026", "2.5.2026", "1.8.2026"):
        steps.append(("add", "order", "anna", "--item", "KAF:2", "--at", at, "-s", "paid"))
    for at in ("3.1.2026", "20.6.2026"):
        steps.append(("add", "order", "bernd", "--item", "TASSE:3", "--item", "KAF:1", "--at", at))
    steps.append(("add", "order", "carla", "--item", "KAF:1", "--at", "1.3.2026"))
    steps.append(
        ("add", "order", "carla", "--item", "KAF:5", "--at", "1.4.2026", "-s", "abandoned")
    )
    for args in steps:
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def test_report_value(shop):
    report = shop("report", "value", "-o", "json").json()
    assert report["total"] == {
        "customers": 3, "orders": 8, "revenue": "160.00", "average_order": "20.00",
        "abandoned": 1, "cost": None, "margin": None, "uncosted_lines": 10, "lines": 10,
    }  # fmt: skip
    assert [(r["contact"], r["revenue"], r["orders"]) for r in report["customers"]] == [
        ("Anna Weiß", "100.00", 5), ("Bernd Bauer", "50.00", 2), ("Carla Klein", "10.00", 1),
    ]  # fmt: skip
    assert [(r["category"], r["revenue"]) for r in report["by_category"]] == [
        ("Kaffee", "130.00"), ("Geschirr", "30.00"),
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(shop("report", "value", "-o", "csv").stdout)))
    assert rows[0] == ["section", *value_reports.VALUE_CSV_KEYS]
    assert [r[0] for r in rows[1:]].count("customer") == 3
    table = shop("report", "value").stdout
    assert "160,00 €" in table and "By category" in table and "(none)" in table
    since = shop("report", "value", "--since", "1.6.2026", "-o", "json").json()
    assert [(r["contact"], r["revenue"], r["historic_clv"]) for r in since["customers"]] == [
        ("Bernd Bauer", "25.00", "50.00"), ("Anna Weiß", "20.00", "100.00"),
    ]  # fmt: skip


def test_report_value_shows_the_margin(shop):
    assert shop("edit", "product", "KAF", "--cost", "6,50").exit_code == 0
    assert shop("edit", "order", "1", "--cost", "4,90").exit_code == 0  # Anna's first
    report = shop("report", "value", "-o", "json").json()
    # 13 KAF at 6,50 = 84,50, plus 4,90 shipping; the 2 TASSE lines (30,00) have no purchase
    # price: left out of the margin, 160,00 − 30,00 − 89,40
    assert (report["total"]["cost"], report["total"]["margin"]) == ("89.40", "40.60")
    assert report["total"]["uncosted_lines"] == 2
    anna = report["customers"][0]
    assert (anna["contact"], anna["cost"], anna["margin"]) == ("Anna Weiß", "69.90", "30.10")
    table = shop("report", "value").stdout
    assert "Margin:" in table and "40,60 € (costs known for 8 of 10 lines" in table
    card = shop("show", "order", "1", "-o", "json").json()
    assert (card["goods_cost"], card["cost"], card["margin"]) == ("13.00", "4.90", "2.10")
    product = shop("show", "product", "KAF", "-o", "json").json()
    assert (product["cost"], product["margin"]) == ("6.50", "3.50")
    r = shop("add", "order", "anna", "--item", "KAF:1", "--cost", "-2")
    assert r.exit_code == 1 and "cost" in r.stderr
    assert len(shop("list", "orders", "-o", "json").json()) == 9


def test_report_clv(shop):
    report = shop("report", "clv", "--until", "30.11.2026", "-o", "json").json()
    assert (report["customers"], report["repeat_customers"], report["unit"]) == (3, 2, "weeks")
    assert set(report["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(report["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    assert [r["contact"] for r in report["rows"]] == ["Anna Weiß", "Bernd Bauer", "Carla Klein"]
    anna = report["rows"][0]
    assert (anna["x"], anna["T"]) == (4, round(333 / 7, 4))  # 1.1. to 30.11.: 333 days
    days = shop("report", "clv", "--unit", "days", "--until", "30.11.2026", "-o", "csv").stdout
    rows = list(csv.reader(io.StringIO(days)))
    assert rows[0] == list(value_reports.CLV_KEYS) and rows[1][2:5] == ["4", "212.0", "333.0"]
    table = shop("report", "clv").stdout
    assert "BG/NBD" in table and "log-likelihood" in table and "Anna Weiß" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--unit", "months"), "unit: 'months' is not one of days, weeks"),
        (("--until", "1.2.2026"), "too little history"),
    ],
)
def test_report_clv_errors(shop, args, message):
    r = shop("report", "clv", *args)
    assert r.exit_code == 1 and r.stderr.startswith(f"crm: error: {message}")
    assert r.stderr.count("\n") == 1 and r.stdout == ""


def test_report_rfm_and_apply_tags(shop, tmp_path):
    report = shop("report", "rfm", "--until", "30.11.2026", "-o", "json").json()
    assert [(c["contact"], c["frequency"], c["monetary"]) for c in report["customers"]] == [
        ("Anna Weiß", 5, "100.00"), ("Bernd Bauer", 2, "50.00"), ("Carla Klein", 1, "10.00"),
    ]  # fmt: skip
    assert [c["score"] for c in report["customers"]] == ["555", "333", "111"]  # middle ranks
    r = shop("report", "rfm", "--until", "30.11.2026", "--apply-tags", "-o", "csv")
    assert r.exit_code == 0 and "Tagged 3 customers" in r.stderr
    assert next(csv.reader(io.StringIO(r.stdout))) == list(value_reports.RFM_KEYS)
    tagged = shop("list", "contacts", "--tag", "rfm:Champions", "-o", "json").json()
    assert [c["name"] for c in tagged] == ["Anna Weiß"]
    rules = tmp_path / "rules.csv"
    rules.write_text("r,f,segment\n4-5,1-5,Aktiv\n1-3,1-5,Schlafend\n")
    mine = shop("report", "rfm", "--until", "30.11.2026", "--segments", str(rules), "-o", "json")
    assert [c["segment"] for c in mine.json()["customers"]] == ["Aktiv", "Schlafend", "Schlafend"]
    rules.write_text("r,f,segment\n4-5,1-5,Aktiv\n")
    bad = shop("report", "rfm", "--segments", str(rules), "--apply-tags")
    assert bad.exit_code == 1 and "no rule for R and F scores 11" in bad.stderr
    still = shop("list", "contacts", "--tag", "rfm:Champions", "-o", "json").json()
    assert [c["name"] for c in still] == ["Anna Weiß"]  # nothing written
    assert "Segments" in shop("report", "rfm").stdout


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("r;f;segment\n1-3;1-5;Schlafend\n4-5;1-5\n", "line 3: the segment name is missing"),
        ('r,f,segment\n1-5,1-5,"A, B"\n', "line 2: a segment name cannot hold a comma ('A, B')"),
        ("r,f,segment\n\n1-5,0-5,Alle\n", "line 3: '0-5' is not a score or range (1-5)"),
    ],
)
def test_a_segments_file_names_the_line_and_what_is_wrong(shop, tmp_path, text, says):
    """Walkthrough: a row without its name (`4-5;1-5`) said 'a segment needs a name without
    commas'."""
    rules = tmp_path / "rules.csv"
    rules.write_text(text)
    r = shop("report", "rfm", "--segments", str(rules))
    assert (r.exit_code, r.stderr) == (1, f"crm: error: segments: {says}\n")


def test_report_next_purchase(shop):
    report = shop("report", "next-purchase", "--within", "30d", "--until", "30.11.2026", "-o",
                  "json").json()  # fmt: skip
    assert report["within_days"] == 30 and set(report["model"]) >= {"r", "alpha", "a", "b"}
    assert [r["contact"] for r in report["rows"]][0] == "Anna Weiß"
    assert all(r["method"] == "bgnbd" for r in report["rows"])
    rows = list(csv.reader(io.StringIO(shop("report", "next-purchase", "-o", "csv").stdout)))
    assert rows[0] == list(value_reports.NEXT_KEYS) and len(rows) == 4
    assert "Chance" in shop("report", "next-purchase", "-w", "2w").stdout.title()
    bad = shop("report", "next-purchase", "--within", "bald")
    assert bad.exit_code == 1 and bad.stderr.startswith("crm: error: within:")


def test_report_vat(shop):
    report = shop("report", "vat", "--year", "2026", "-o", "json").json()
    assert report["period"] == "2026" and report["orders"] == 8  # the abandoned cart is not
    assert [(r["vat_rate"], r["net"], r["vat"]) for r in report["rates"]] == [
        ("19.00", "30.00", "5.70"), ("7.00", "130.00", "9.10"),
    ]  # fmt: skip
    assert report["total"] == {"net": "160.00", "vat": "14.80", "gross": "174.80"}
    q1 = shop("report", "vat", "--quarter", "Q1/2026", "-o", "csv").stdout
    assert q1.splitlines() == ["vat_rate,lines,net,vat,gross", "19.00,1,15.00,2.85,17.85",
                               "7.00,5,80.00,5.60,85.60"]  # fmt: skip
    table = shop("report", "vat", "--month", "2026-03").stdout
    assert "VAT 2026-03" in table and "Total" in table and "32,10 €" in table
    now = shop("report", "vat", "-o", "json").json()  # this quarter (the tests' clock: Q4)
    assert now["period"] == "2026-Q4" and now["orders"] == 0
    bad = shop("report", "vat", "--quarter", "2026-Q1", "--month", "2026-01")
    assert bad.exit_code == 1 and "exclude each other" in bad.stderr
    bad = shop("report", "vat", "--quarter", "2026-Q5")
    assert bad.exit_code == 1 and "cannot read '2026-Q5'" in bad.stderr


def test_report_customer_and_the_cards_buys_line(shop):
    report = shop("report", "customer", "bernd", "-o", "json").json()
    assert report["contact"] == "Bernd Bauer" and report["spent"] == "50.00"
    assert [(c["category"], c["net"], c["share"]) for c in report["categories"]] == [
        ("Geschirr", "30.00", "0.6000"), ("Kaffee", "20.00", "0.4000"),
    ]  # fmt: skip
    assert report["price_range"]["median"] == "7.50"  # unit prices 5, 5, 10, 10
    table = shop("report", "customer", "bernd").stdout
    assert "Categories" in table and "60,0 %" in table
    card = shop("show", "bernd").stdout
    assert "Buys:" in card and "Geschirr 60 %, Kaffee 40 %" in card
    assert shop("show", "bernd", "-o", "json").json()["profile"]["spent"] == "50.00"
    assert "Buys:" not in shop("add", "contact", "Neu", "-o", "table").stdout
    missing = shop("report", "customer", "niemand")
    assert missing.exit_code == 1 and missing.stderr.startswith("crm: error: ")


def test_report_service(shop):
    for args in (
        ("log", "complaint", "anna", "-m", "Bohnen alt", "--at", "3.9.2026 12:00"),
        ("log", "return", "bernd", "-m", "Tasse kaputt", "--at", "4.10.2026 12:00"),
        ("resolve", "1", "-m", "Ersatz geschickt"),
        ("add", "order", "bernd", "--item", "TASSE:2", "-s", "returned"),
    ):
        r = shop(*args)
        assert r.exit_code == 0, (args, r.stderr)
    report = shop("report", "service", "-o", "json").json()
    assert [(r["group"], r["received"], r["resolved"], r["open"]) for r in report["rows"]] == [
        ("2026-09", 1, 1, 0), ("2026-10", 1, 0, 1),
    ]  # fmt: skip
    assert [(r["sku"], r["sold"], r["returned"], r["rate"]) for r in report["returns"]] == [
        ("TASSE", 8, 2, "0.2500"), ("KAF", 13, 0, "0.0000"),
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(shop("report", "service", "--by", "kind", "-o",
                                            "csv").stdout)))  # fmt: skip
    # resolved at the tests' clock, 23.11. 10:00: 81 days less the hour summer time gave
    assert rows == [
        ["group", "received", "resolved", "open", "median_days"],
        ["complaint", "1", "1", "0", "80.96"], ["return", "1", "0", "1", ""],
    ]  # fmt: skip
    table = shop("report", "service").stdout
    assert "Returns by product" in table and "25,0 %" in table and "Total" in table
    bad = shop("report", "service", "--by", "week")
    assert bad.exit_code == 1 and "'week' is not one of month, kind" in bad.stderr


def test_report_portrait(shop):
    for name in ("anna", "bernd", "carla"):
        assert shop("edit", name, "--status", "customer").exit_code == 0
    report = shop("report", "portrait", "-o", "json").json()
    assert (report["contacts"], report["buyers"], report["revenue"]) == (3, 3, "160.00")
    assert [(r["group"], r["contacts"], r["revenue"]) for r in report["city"]] == [
        ("Köln", 2, "110.00"), ("Bonn", 1, "50.00"),
    ]  # fmt: skip
    table = shop("report", "portrait").stdout
    assert "People at their company" in table and "(none)" in table
    bad = shop("report", "portrait", "--status", "vip")
    assert bad.exit_code == 1 and "'vip' is not one of" in bad.stderr


def test_report_portrait_draws_bars_on_a_terminal_only(shop, monkeypatch):
    from crmcli import env

    assert "█" not in shop("report", "portrait", "--status", "all").stdout  # piped
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    monkeypatch.setenv("COLUMNS", "120")
    out = shop("report", "portrait", "--status", "all").stdout
    köln = next(line for line in out.splitlines() if "Köln" in line)
    bonn = next(line for line in out.splitlines() if "Bonn" in line)
    assert köln.count("█") == 20 and bonn.count("█") == 10  # 2 and 1 contacts


def test_next_purchase_refuses_an_empty_window_and_has_a_title(shop):
    for zero in ("0d", "0w", "1h"):
        r = shop("report", "next-purchase", "-w", zero)
        assert r.exit_code == 1
        assert r.stderr.startswith("crm: error: within: ") and "less than a day" in r.stderr
    table = shop("report", "next-purchase", "--until", "30.11.2026").stdout.splitlines()
    assert table[:4] == [
        "Next purchases", "History until: 2026-11-30", "Window:        30 days after 2026-11-30",
        "Model:         BG/NBD (Next: the median wait of an active customer, beyond 2 years"
        " not expected)",
    ]  # fmt: skip
    assert "Customers, highest chance × order value first" in table


def test_next_purchase_at_80_columns_keeps_the_rhythm_and_the_sort_key(shop, monkeypatch):
    """Walkthrough: at 80 columns the "Usual rhythm" and "× chance" columns, which the header
    explains and sorts by, were left out; the last purchase and the count of purchases go
    first now."""
    from crmcli import env
    from tests.cli.test_table_width import visible

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    monkeypatch.setenv("COLUMNS", "80")
    lines = visible(shop("report", "next-purchase", "--until", "30.11.2026").stdout)
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if line.lstrip().startswith("Id")).split()
    assert {"Next", "Usual", "rhythm", "Chance", "Per", "order", "×", "chance"} <= set(header)


def test_clv_table_is_sorted_by_clv_as_its_title_says(shop):
    report = shop("report", "clv", "--until", "30.11.2026", "-o", "json").json()
    clvs = [float(r["clv"]) for r in report["rows"]]
    assert clvs == sorted(clvs, reverse=True) and report["spend_note"] is None
    assert "Customers, highest CLV first" in shop("report", "clv").stdout
