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


def test_a_return_later_is_a_correction_in_the_period_of_the_change(db):
    """Walk finding (issue 18): returning an order of August in November emptied Q3 and left
    Q4 without a trace. Q3 keeps what was filed; Q4 carries the negative correction."""
    from datetime import timedelta

    products.add_product("KAF", "Kaffee", price_cents=150, vat_bp=700, now=NOW)
    products.add_product("MUE", "Mühle", price_cents=4990, vat_bp=1900, now=NOW)
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    august = at_local(date(2026, 8, 15), time(10))
    returned = orders.add_order(
        cid, [Item("KAF", 3), Item("MUE", 1)], ordered_at=august, status="paid", now=august
    )["id"]
    kept = orders.add_order(cid, [Item("MUE", 2)], ordered_at=august, status="shipped", now=august)
    cancelled_same_quarter = orders.add_order(
        cid, [Item("KAF", 1)], ordered_at=august, status="open", now=august
    )["id"]
    orders.edit_order(cancelled_same_quarter, {"status": "cancelled"}, now=august + timedelta(1))
    q3 = vat.vat_return("2026-Q3")
    orders.edit_order(returned, {"status": "returned"}, now=at_local(date(2026, 11, 2), time(9)))
    orders.edit_order(kept["id"], {"status": "paid"}, now=at_local(date(2026, 11, 3), time(9)))
    assert vat.vat_return("2026-Q3") == q3  # a period once filed stays as it was
    assert [(r["vat_rate"], r["net"], r["vat"]) for r in q3["rates"]] == [
        (Decimal("19.00"), Decimal("149.70"), Decimal("28.44")),  # 49,90 + 99,80
        # 4,50 (VAT 0,315 → 0,32) and 1,50 (0,11) ordered, the cancelled 1,50 taken back
        (Decimal("7.00"), Decimal("4.50"), Decimal("0.32")),
    ]
    q4 = vat.vat_return("2026-Q4")
    assert q4["orders"] == 0
    assert [(r["vat_rate"], r["net"], r["vat"], r["gross"]) for r in q4["rates"]] == [
        (Decimal("19.00"), Decimal("-49.90"), Decimal("-9.48"), Decimal("-59.38")),
        (Decimal("7.00"), Decimal("-4.50"), Decimal("-0.32"), Decimal("-4.82")),  # 0,315 → 0,32
    ]
    assert q4["total"] == {
        "net": Decimal("-54.40"),
        "vat": Decimal("-9.80"),
        "gross": Decimal("-64.20"),
    }
    assert [(c["order_id"], c["status"], c["vat_rate"], c["net"]) for c in q4["corrections"]] == [
        (returned, "returned", Decimal("19.00"), Decimal("-49.90")),
        (returned, "returned", Decimal("7.00"), Decimal("-4.50")),
    ]
    # paid again (the return was a mistake): counted again in the period of that change
    orders.edit_order(returned, {"status": "paid"}, now=at_local(date(2027, 1, 4), time(9)))
    q1 = vat.vat_return("2027-Q1")
    assert q1["total"] == {
        "net": Decimal("54.40"),
        "vat": Decimal("9.80"),
        "gross": Decimal("64.20"),
    }
    assert vat.vat_return("2026-Q4")["total"]["net"] == Decimal("-54.40")


def test_an_order_recorded_as_returned_counts_nowhere(db):
    products.add_product("MUE", "Mühle", price_cents=4990, vat_bp=1900, now=NOW)
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    at = at_local(date(2026, 8, 15), time(10))
    orders.add_order(cid, [Item("MUE", 1)], ordered_at=at, status="returned", now=NOW)
    orders.add_order(cid, [Item("MUE", 1)], ordered_at=at, status="abandoned", now=NOW)
    for period in ("2026-Q3", "2026-Q4"):
        report = vat.vat_return(period)
        assert (report["rates"], report["corrections"], report["orders"]) == ([], [], 0)
