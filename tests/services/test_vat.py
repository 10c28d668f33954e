"""The VAT return figures: net and VAT per rate of a month, quarter or year, local time."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.services import contacts, orders, products, vat
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-Q4", ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1))),
        ("q1/2027", ("2027-Q1", date(2027, 1, 1), date(2027, 4, 1))),
        ("2026-11", ("2026-11", date(2026, 11, 1), date(2026, 12, 1))),
        ("12/2026", ("2026-12", date(2026, 12, 1), date(2027, 1, 1))),
        ("2026", ("2026", date(2026, 1, 1), date(2027, 1, 1))),
    ],
)
def test_periods(text, expected):
    assert vat.parse_period(text) == expected


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "letztes Quartal", ""])
def test_bad_periods(text):
    with pytest.raises(Invalid, match="cannot read"):
        vat.parse_period(text)


def test_vat_per_rate_of_a_quarter(db):
    products.add_product("KAF", "Kaffee", price_cents=150, vat_bp=700, now=NOW)
    products.add_product("MUE", "Mühle", price_cents=4990, vat_bp=1900, now=NOW)
    products.add_product("GUT", "Gutschein", price_cents=2500, vat_bp=0, now=NOW)
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]

    def order(items, d, clock, status="paid"):
        at = at_local(d, clock)
        orders.add_order(cid, items, ordered_at=at, status=status, now=NOW)

    order([Item("KAF", 1), Item("KAF", 1), Item("MUE", 1)], date(2026, 10, 1), time(0, 10))
    order([Item("GUT", 1)], date(2026, 12, 31), time(23, 50), status="shipped")
    order([Item("MUE", 3)], date(2026, 11, 5), time(12), status="returned")  # not turnover
    order([Item("KAF", 5)], date(2026, 9, 30), time(23, 50))  # Q3 in Berlin
    order([Item("KAF", 5)], date(2027, 1, 1), time(0, 10))  # Q1
    report = vat.vat_return("2026-Q4")
    assert report["orders"] == 2
    assert [(r["vat_rate"], r["lines"], r["net"], r["vat"]) for r in report["rates"]] == [
        (Decimal("19.00"), 1, Decimal("49.90"), Decimal("9.48")),
        (Decimal("7.00"), 2, Decimal("3.00"), Decimal("0.22")),  # 0,105 rounded per line: 2 x 0,11
        (Decimal("0.00"), 1, Decimal("25.00"), Decimal("0.00")),
    ]
    assert report["total"] == {
        "net": Decimal("77.90"), "vat": Decimal("9.70"), "gross": Decimal("87.60"),
    }  # fmt: skip
    assert vat.vat_return("2026-09")["total"]["net"] == Decimal("7.50")
    assert vat.vat_return("2027-Q1")["orders"] == 1
