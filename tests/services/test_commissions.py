"""Commissions on a known history: the rule valid on each deal's and order's day, rounded
half up per deal and order, summed per owner; bad rules refused."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from crmcli.errors import Conflict, Invalid
from crmcli.models import Commission
from crmcli.services import commissions, contacts, deals, orders, products
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW


def at(d: date, hour: int = 12):
    return at_local(d, time(hour))


@pytest.fixture
def history(db):
    rule = commissions.add_commission
    rule("Lukas Köhler", 500, basis="deals", valid_from=date(2026, 1, 1), now=NOW)
    rule("lukas kohler", 750, basis="deals", valid_from=date(2026, 11, 15), now=NOW)
    rule("Lukas Köhler", 250, basis="orders", valid_from=date(2026, 11, 1), now=NOW)
    rule("Anna Schmidt", 333, basis="orders", valid_from=date(2026, 11, 10), now=NOW)
    anna = contacts.add_contact("Carla Kunde", owner="Anna Schmidt", now=NOW)["id"]
    bert = contacts.add_contact("Bert Kunde", owner="Lukas Köhler", now=NOW)["id"]

    def won(title, cents, day, owner="Lukas Köhler"):
        deal = deals.add_deal(title, contact_id=bert, amount_cents=cents, owner=owner, now=NOW)
        deals.win_deal(deal["id"], now=at(day))

    won("Dach", 123_45, date(2026, 11, 3))  # 5 % of 123,45 = 6,1725: 6,17
    won("Fenster", 99_99, date(2026, 11, 20))  # 7,5 % of 99,99 = 7,49925: 7,50
    won("Tür", 1_000_00, date(2026, 10, 31))  # October: not this month
    won("Ohne Regel", 500_00, date(2026, 11, 5), owner="Jonas Becker")  # no rule: nothing
    products.add_product("KAF", "Kaffee", price_cents=1_01, vat_bp=700, now=NOW)
    # Lukas 2,5 % of 3,03 = 0,07575: 0,08; of 1,01 = 0,02525: 0,03 (half up, per order)
    orders.add_order(bert, [Item("KAF", 3)], ordered_at=at(date(2026, 11, 2)), now=NOW)
    orders.add_order(bert, [Item("KAF", 1)], ordered_at=at(date(2026, 11, 30), 23), now=NOW)
    orders.add_order(bert, [Item("KAF", 9)], ordered_at=at(date(2026, 11, 3)),
                     status="cancelled", now=NOW)  # fmt: skip
    # Anna's rule starts on the 10th: the order of the 9th earns nothing; 3,33 % of 15,15
    orders.add_order(anna, [Item("KAF", 5)], ordered_at=at(date(2026, 11, 9)), now=NOW)
    orders.add_order(anna, [Item("KAF", 15)], ordered_at=at(date(2026, 11, 10), 0), now=NOW)


def test_commissions_of_a_month_exact_to_the_cent(history):
    report = commissions.commission_report(date(2026, 11, 1), date(2026, 12, 1))
    rows = {(r["owner"], r["basis"]): (r["count"], r["base"], r["commission"])
            for r in report["rows"]}  # fmt: skip
    assert rows == {
        ("Lukas Köhler", "deals"): (2, Decimal("223.44"), Decimal("13.67")),
        ("Lukas Köhler", "orders"): (2, Decimal("4.04"), Decimal("0.11")),
        ("Anna Schmidt", "orders"): (1, Decimal("15.15"), Decimal("0.50")),  # 0,504495
    }
    assert [(i["what"], i["rate"], i["commission"]) for i in report["items"]] == [
        ("Carla Kunde", Decimal("3.33"), Decimal("0.50")),
        ("Dach", Decimal("5.00"), Decimal("6.17")),
        ("Fenster", Decimal("7.50"), Decimal("7.50")),
        ("Bert Kunde", Decimal("2.50"), Decimal("0.08")),
        ("Bert Kunde", Decimal("2.50"), Decimal("0.03")),
    ]  # fmt: skip
    assert report["total"] == [
        {"currency": "EUR", "base": Decimal("242.63"), "commission": Decimal("14.28")}
    ]


def test_a_zero_rate_ends_a_commission(history):
    commissions.add_commission("Lukas Köhler", 0, basis="deals", valid_from=date(2026, 11, 4))
    report = commissions.commission_report(date(2026, 11, 1), date(2026, 12, 1))
    deals_rows = [r for r in report["rows"] if r["basis"] == "deals"]
    # the 7,5 % rule of the 15th still takes over after the 0 % of the 4th
    assert [(r["count"], r["commission"]) for r in deals_rows] == [(2, Decimal("13.67"))]


def test_rules_keep_one_spelling_per_owner_and_bad_rules_write_nothing(history):
    assert [(r["owner"], r["basis"], r["rate"]) for r in commissions.list_commissions()] == [
        ("Anna Schmidt", "orders", Decimal("3.33")),
        ("Lukas Köhler", "deals", Decimal("5.00")),
        ("Lukas Köhler", "deals", Decimal("7.50")),
        ("Lukas Köhler", "orders", Decimal("2.50")),
    ]  # fmt: skip
    before = Commission.select().count()
    with pytest.raises(Conflict, match="already"):
        commissions.add_commission("LUKAS KÖHLER", 100, basis="orders",
                                   valid_from=date(2026, 11, 1))  # fmt: skip
    for owner, bp, basis, why in (
        ("", 100, "deals", "owner"),
        ("X", 10_001, "deals", "0 to 100 %"),
        ("X", 100, "invoices", "not one of deals, orders"),
    ):
        with pytest.raises(Invalid, match=why):
            commissions.add_commission(owner, bp, basis=basis, valid_from=date(2026, 1, 1))
    assert Commission.select().count() == before
