"""Service statistics on a known history: received, resolved, open, median days to resolve,
by month and kind, and return rates per product."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.services import activities, contacts, orders, products, service_stats
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW


def at(d: date, hour: int = 12):
    return at_local(d, time(hour))


@pytest.fixture
def history(db):
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]

    def issue(kind, when, days=None):
        a = activities.log_activity(kind, contact_id=cid, occurred_at=when, now=NOW)
        if days is not None:
            activities.resolve_activity(a["id"], now=when + timedelta(days=days))

    issue("complaint", at(date(2026, 9, 3)), days=2)
    issue("complaint", at(date(2026, 9, 20)), days=5)
    issue(
        "inquiry",
        at(
            date(
                2026,
                9,
                30,
            ),
            23,
        ),
        days=1,
    )  # 30.9. 23:00 in Berlin: September
    issue(
        "return",
        at(
            date(
                2026,
                10,
                1,
            ),
            0,
        ),
    )  # still open
    issue("inquiry", at(date(2026, 10, 5)), days=0.5)
    activities.log_activity("call", contact_id=cid, occurred_at=at(date(2026, 10, 6)), now=NOW)
    products.add_product("KAF", "Kaffee", price_cents=890, vat_bp=700, now=NOW)
    products.add_product("MUE", "Mühle", price_cents=8990, now=NOW)
    orders.add_order(cid, [Item("KAF", 3), Item("MUE", 1)], status="shipped", now=NOW)
    orders.add_order(cid, [Item("MUE", 1)], status="returned", now=NOW)
    orders.add_order(cid, [Item("KAF", 1)], status="paid", now=NOW)
    orders.add_order(cid, [Item("KAF", 9)], status="abandoned", now=NOW)  # never delivered
    return cid


def test_by_month(history):
    report = service_stats.service_report(by="month")
    got = [(r["group"], r["received"], r["resolved"], r["open"], r["median_days"])
           for r in report["rows"]]  # fmt: skip
    assert got == [
        ("2026-09", 3, 3, 0, Decimal("2.00")),  # 2, 5 and 1 day: median 2
        ("2026-10", 2, 1, 1, Decimal("0.50")),
    ]
    total = report["total"]
    assert (total["received"], total["resolved"], total["open"], total["median_days"]) == (
        5, 4, 1, Decimal("1.50"),
    )  # fmt: skip


def test_by_kind_and_a_period(history):
    report = service_stats.service_report(by="kind", since=at(date(2026, 9, 10), 0))
    assert [(r["group"], r["received"], r["open"]) for r in report["rows"]] == [
        ("complaint", 1, 0), ("inquiry", 2, 0), ("return", 1, 1),
    ]  # fmt: skip


def test_return_rates(history):
    rates = service_stats.service_report()["returns"]
    assert [(r["sku"], r["sold"], r["returned"], r["rate"]) for r in rates] == [
        ("MUE", 2, 1, Decimal("0.5000")), ("KAF", 4, 0, Decimal("0.0000")),
    ]  # fmt: skip


def test_bad_grouping(db):
    with pytest.raises(Invalid, match="'week' is not one of month, kind"):
        service_stats.service_report(by="week")


def test_a_return_logged_about_an_order_counts_the_lines_it_names(history):
    shipped = orders.iter_orders(status="shipped")[-1]  # KAF 3 and MUE 1
    activities.log_activity("return", order_id=shipped["id"], now=NOW, subject="Mühle defekt")
    report = service_stats.service_report()
    rates = report["returns"]
    # the grinder came back, not the coffee of the same order
    assert [(r["sku"], r["sold"], r["returned"]) for r in rates] == [("MUE", 2, 2), ("KAF", 4, 0)]
    assert report["returns_naming_no_line"] == 0
    # a complaint about the order is no return; the same line named again is counted once
    activities.log_activity("complaint", order_id=shipped["id"], now=NOW, subject="Spät")
    activities.log_activity("return", order_id=shipped["id"], now=NOW, body="die muhle, nochmal")
    assert service_stats.service_report()["returns"] == rates


def test_a_return_naming_no_line_counts_against_no_product(history):
    shipped = orders.iter_orders(status="shipped")[-1]
    activities.log_activity("return", order_id=shipped["id"], now=NOW, subject="Paket zurück")
    activities.log_activity("return", order_id=shipped["id"], now=NOW, body="kaf ging kaputt")
    report = service_stats.service_report()
    assert [(r["sku"], r["returned"]) for r in report["returns"]] == [("KAF", 3), ("MUE", 1)]
    assert report["returns_naming_no_line"] == 1
