"""-o csv of reports and cards with more than one table is one flat table: never JSON in a
cell, nothing of the JSON left out (issue 19)."""

from __future__ import annotations

import csv
import io

import pytest

from crmcli.commands import orders, portrait_report, value_reports


@pytest.fixture
def shop(crm):
    for args in (
        ("add", "contact", "Anna Weiß", "--city", "Köln", "--source", "shop",
         "--status", "customer"),
        ("add", "contact", "Bernd Bauer", "--city", "Bonn", "--status", "customer"),
        ("add", "product", "KAF", "Kaffee", "--price", "10", "--vat", "7", "--category", "Kaffee"),
        ("add", "product", "TASSE", "Tasse", "--price", "5", "--category", "Geschirr"),
        ("add", "order", "anna", "--item", "KAF:2", "--item", "TASSE:1:4,50", "--at", "1.8.2026",
         "-s", "paid"),
        ("add", "order", "bernd", "--item", "TASSE:3", "--at", "3.9.2026"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def rows_of(r) -> list[dict]:
    assert r.exit_code == 0, r.stderr
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    for row in table:
        for value in row.values():
            assert not value.startswith(("[", "{")), row  # no JSON in a cell
    return table


def test_show_order_is_a_row_per_line_with_the_order_repeated(shop):
    card = shop("show", "order", "1", "-o", "json").json()
    r = shop("show", "order", "1", "-o", "csv")
    assert next(csv.reader(io.StringIO(r.stdout))) == list(orders.ORDER_LINE_CSV_KEYS)
    table = rows_of(r)
    assert len(table) == len(card["lines"]) == 2
    for row, line in zip(table, card["lines"], strict=True):
        assert (row["id"], row["contact"], row["gross"], row["margin"]) == (
            "1",
            "Anna Weiß",
            card["gross"],
            card["margin"] or "",
        )  # fmt: skip  (no purchase price known: no margin, an empty cell)
        assert {k: row[f"line_{k}"] for k in orders.LINE_CSV_KEYS} == {
            k: "" if line[k] is None else str(line[k]) for k in orders.LINE_CSV_KEYS
        }
    assert [row["line_unit_price"] for row in table] == ["10.00", "4.50"]


def test_report_value_keeps_total_customers_and_every_breakdown(shop):
    report = shop("report", "value", "-o", "json").json()
    r = shop("report", "value", "-o", "csv")
    assert next(csv.reader(io.StringIO(r.stdout))) == ["section", *value_reports.VALUE_CSV_KEYS]
    table = rows_of(r)
    by = {}
    for row in table:
        by.setdefault(row["section"], []).append(row)
    assert [len(by[s]) for s in ("total", "customer", "category", "source", "city")] == [
        1, len(report["customers"]), len(report["by_category"]), len(report["by_source"]),
        len(report["by_city"]),
    ]  # fmt: skip
    (total,) = by["total"]
    assert (total["revenue"], total["customers"], total["margin"]) == (
        report["total"]["revenue"], str(report["total"]["customers"]),
        report["total"]["margin"] or "",  # no purchase price known: no margin, an empty cell
    )  # fmt: skip
    assert [(c["category"], c["revenue"]) for c in by["category"]] == [
        (g["category"], g["revenue"]) for g in report["by_category"]
    ]
    assert [(c["city"], c["revenue"]) for c in by["city"]] == [
        (g["city"], g["revenue"]) for g in report["by_city"]
    ]
    assert [c["contact"] for c in by["customer"]] == [g["contact"] for g in report["customers"]]


def test_report_portrait_is_a_row_per_group_of_each_dimension(shop):
    report = shop("report", "portrait", "-o", "json").json()
    r = shop("report", "portrait", "-o", "csv")
    assert next(csv.reader(io.StringIO(r.stdout))) == list(portrait_report.PORTRAIT_CSV_KEYS)
    table = rows_of(r)
    assert table[0] == {
        "status": "customer", "dimension": "all", "group": "", "contacts": "2", "buyers": "2",
        "revenue": report["revenue"],
    }  # fmt: skip
    for key in portrait_report.TITLES:
        got = [(t["group"], t["contacts"], t["revenue"]) for t in table if t["dimension"] == key]
        assert got == [(g["group"] or "", str(g["contacts"]), g["revenue"]) for g in report[key]], (
            key
        )
    assert rows_of(shop("report", "portrait", "--status", "all", "-o", "csv"))[0]["status"] == (
        "all"
    )
