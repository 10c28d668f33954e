"""Importing a shop's order export: grouping by order number, contacts by email, gross
amounts with the VAT taken out per line, unknown SKUs rejected, re-imports add nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.models import Contact, OrderLine, OrderStatusChange, SalesOrder
from crmcli.services import contacts, orders, products
from crmcli.services.import_orders import import_orders
from tests.conftest import NOW


def rows(*recs: dict):
    return [(f"line {i + 2}", dict(r)) for i, r in enumerate(recs)]


SHOP = (
    {"order_number": "#1001", "email": "anna@example.de", "name": "Anna Schmidt",
     "date": "2026-11-03 14:22:10 +0100", "status": "paid", "sku": "KAF-500", "qty": "2",
     "price": "9,52"},
    {"order_number": "#1001", "email": "anna@example.de", "item": "Filter", "qty": "1",
     "price": "7,66"},
    {"order_number": "#1002", "email": "Jm@Example.de", "date": "04.11.2026",
     "status": "refunded", "amount": "11,90"},
)  # fmt: skip


@pytest.fixture
def shop(db):
    products.add_product("KAF-500", "Kaffee 500 g", price_cents=890, vat_bp=700, now=NOW)
    return contacts.add_contact("Jürgen Müller", email="jm@example.de", now=NOW)


def test_orders_are_grouped_priced_and_linked(shop):
    result = import_orders(rows(*SHOP), now=NOW)
    assert (result.rows, result.new, result.contacts_new) == (3, 2, 1)
    first = orders.order_card(orders.resolve_order("#1001"))
    assert first["contact"] == "Anna Schmidt" and first["status"] == "paid"
    assert first["ordered_at"].isoformat() == "2026-11-03T13:22:10+00:00"
    # 2 × 9,52 gross at 7 %: net 19,04 / 1,07 = 17,79 (half up), VAT the rest 1,25.
    got = [(ln["sku"], ln["name"], ln["net"], ln["vat"], ln["gross"]) for ln in first["lines"]]
    assert got == [
        ("KAF-500", "Kaffee 500 g", Decimal("17.79"), Decimal("1.25"), Decimal("19.04")),
        (None, "Filter", Decimal("6.44"), Decimal("1.22"), Decimal("7.66")),
    ]  # fmt: skip
    assert (first["net"], first["vat"], first["gross"]) == (
        Decimal("24.23"), Decimal("2.47"), Decimal("26.70"),
    )  # fmt: skip
    second = orders.order_card(orders.resolve_order("#1002"))
    assert second["contact_id"] == shop["id"] and second["status"] == "returned"
    assert [(ln["name"], ln["net"], ln["vat"]) for ln in second["lines"]] == [
        ("Bestellung #1002", Decimal("10.00"), Decimal("1.90")),
    ]
    anna = Contact.get(Contact.email_key == "anna@example.de")
    assert (anna.name, anna.status) == ("Anna Schmidt", "customer")


def test_importing_again_changes_nothing(shop):
    import_orders(rows(*SHOP), now=NOW)
    before = (SalesOrder.select().count(), OrderLine.select().count(), Contact.select().count())
    again = import_orders(rows(*SHOP), now=NOW)
    assert (again.new, again.unchanged, again.contacts_new) == (0, 2, 0)
    assert (SalesOrder.select().count(), OrderLine.select().count(),
            Contact.select().count()) == before  # fmt: skip


def test_a_status_changed_in_the_shop_is_taken_over_by_a_second_import(shop):
    """As `crm edit order --status`: dated, the customer status settled; lines stay."""
    import_orders(rows(*SHOP), now=NOW)
    later = [dict(r) for r in SHOP]
    later[0]["status"] = "refunded"
    lines = OrderLine.select().count()
    skipped = import_orders(rows(*later), on_conflict="skip", now=NOW)
    assert (skipped.updated, skipped.skipped, skipped.unchanged) == (0, 1, 1)
    assert orders.order_card(orders.resolve_order("#1001"))["status"] == "paid"
    result = import_orders(rows(*later), now=NOW)
    assert (result.new, result.updated, result.unchanged) == (0, 1, 1)
    assert orders.order_card(orders.resolve_order("#1001"))["status"] == "returned"
    assert [(c.old_status, c.new_status) for c in OrderStatusChange.select()] == [
        ("paid", "returned")
    ]
    assert Contact.get(Contact.email_key == "anna@example.de").status != "customer"
    assert OrderLine.select().count() == lines
    again = import_orders(rows(*later), now=NOW)
    assert (again.updated, again.unchanged) == (0, 2)
    with pytest.raises(Invalid, match="orders are matched by their number"):
        import_orders(rows(*later), on_conflict="new", now=NOW)


def test_lines_of_quantity_0_are_refunded_lines_left_out(shop):
    refunded = [{**SHOP[0], "qty": "0"}, SHOP[1],
                {**SHOP[2], "item": "Kanne", "qty": "0", "price": "11,90"}]  # fmt: skip
    result = import_orders(rows(*refunded), now=NOW)
    assert (result.new, result.skipped, result.rejected_count) == (1, 1, 0)
    first = orders.order_card(orders.resolve_order("#1001"))
    assert [ln["name"] for ln in first["lines"]] == ["Filter"]
    assert SalesOrder.select().count() == 1
    assert result.warnings == [
        "order #1001: 'KAF-500' left out, its quantity is 0 (refunded)",
        "order #1002 not imported: every line's quantity is 0 (refunded)",
    ]


def test_an_unknown_sku_rejects_its_order_and_nothing_is_written(shop):
    bad = dict(SHOP[0], sku="NOPE")
    with pytest.raises(
        Invalid, match="2 bad rows, nothing imported: line 2: sku: no product with SKU 'NOPE'"
    ):
        import_orders(rows(bad, SHOP[1], SHOP[2]), now=NOW)
    assert SalesOrder.select().count() == 0 and Contact.select().count() == 1


def test_with_rejects_kept_the_good_orders_land_and_no_contact_is_left_over(shop):
    bad = dict(SHOP[0], sku="NOPE")
    result = import_orders(rows(bad, SHOP[1], SHOP[2]), keep_going=True, now=NOW)
    assert (result.new, result.rejected_count, result.contacts_new) == (1, 2, 0)
    assert [w for w, _, _ in result.rejected] == ["line 2", "line 3"]
    assert Contact.select().count() == 1  # Anna's contact went with her rejected order


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email": ""}, "no customer email"),
        ({"email": "kein-at"}, "email"),
        ({"date": ""}, "needs its date"),
        ({"date": "2030-01-01"}, "in the future"),
        ({"date": "2030-01-01 10:00:00 +0100"}, "in the future"),  # a shop's own form
        ({"amount": "abc"}, "cannot read 'abc' as an amount"),
        ({"amount": "-5"}, "0 or more"),
        ({"status": "vielleicht"}, "not an order status"),
        ({"vat": "250"}, "more than 100 %"),
        ({"order_number": ""}, "order number"),
    ],
)
def test_bad_orders_are_rejected_with_their_reason(db, change, reason):
    rec = {"order_number": "A-1", "email": "x@example.de", "date": "01.11.2026",
           "amount": "10", **change}  # fmt: skip
    with pytest.raises(Invalid, match=reason):
        import_orders(rows(rec), now=NOW)
    assert SalesOrder.select().count() == 0 and Contact.select().count() == 0


def test_net_prices_and_a_dry_run(shop):
    rec = {"order_number": "N-1", "email": "jm@example.de", "date": "01.11.2026",
           "sku": "kaf-500", "qty": "3", "price": "1,00"}  # fmt: skip
    dry = import_orders(rows(rec), prices="net", dry_run=True, now=NOW)
    assert dry.new == 1 and SalesOrder.select().count() == 0
    import_orders(rows(rec), prices="net", now=NOW)
    card = orders.order_card(orders.resolve_order("N-1"))
    assert (card["net"], card["vat"], card["gross"]) == (
        Decimal("3.00"), Decimal("0.21"), Decimal("3.21"),
    )  # fmt: skip


SHOPIFY_1003 = {
    "order_number": "#1003", "email": "sd@example.de", "date": "01.11.2026", "status": "paid",
    "sku": "KAF-500", "qty": "2", "price": "8.90", "discount": "2.00", "shipping": "4.90",
    "taxes": "1.35", "amount": "20.70",
}  # fmt: skip


def line_figures(card: dict) -> list[tuple]:
    return [(ln["name"], ln["vat_rate"], ln["discount"], ln["net"], ln["vat"], ln["gross"])
            for ln in card["lines"]]  # fmt: skip


def test_the_shops_discount_and_shipping_are_part_of_the_order(shop):
    result = import_orders(rows(SHOPIFY_1003), now=NOW)
    assert result.warnings == []  # total and taxes agree with the lines
    card = orders.order_card(orders.resolve_order("#1003"))
    # 2 × 8,90 gross less 2,00 gross discount: 15,80 gross, net 14,77 at 7 %; shipping
    # shares the goods' rate as on a German invoice: 4,90 gross, net 4,58.
    assert line_figures(card) == [
        ("Kaffee 500 g", Decimal("7.00"), Decimal("1.87"), Decimal("14.77"), Decimal("1.03"),
         Decimal("15.80")),
        ("Versand", Decimal("7.00"), Decimal("0.00"), Decimal("4.58"), Decimal("0.32"),
         Decimal("4.90")),
    ]  # fmt: skip
    assert (card["net"], card["vat"], card["gross"]) == (
        Decimal("19.35"), Decimal("1.35"), Decimal("20.70"),
    )  # fmt: skip


def test_shipping_is_split_by_rate_when_the_goods_carry_two(shop):
    filt = {"order_number": "#1003", "email": "sd@example.de", "item": "Filter", "qty": "1",
            "price": "8.20"}  # fmt: skip
    import_orders(rows(dict(SHOPIFY_1003, discount="", taxes="", amount=""), filt), now=NOW)
    card = orders.order_card(orders.resolve_order("#1003"))
    shipping = [(ln["vat_rate"], ln["gross"]) for ln in card["lines"] if ln["name"] == "Versand"]
    # goods 17,80 at 7 % and 8,20 at 19 %: 4,90 split 3,35 / 1,55
    assert shipping == [(Decimal("19.00"), Decimal("1.55")), (Decimal("7.00"), Decimal("3.35"))]
    assert card["gross"] == Decimal("30.90")


def test_a_total_or_taxes_unlike_the_lines_is_warned_of(shop):
    rec = dict(SHOPIFY_1003, amount="21.70", taxes="1.04")
    result = import_orders(rows(rec), now=NOW)
    assert result.warnings == [
        "order #1003: the file's total 21,70 € differs from its lines' 20,70 €",
        "order #1003: the file's taxes 1,04 € differ from its lines' VAT 1,35 €",
    ]


def test_a_vat_rate_in_the_file_wins_over_the_catalogues_with_a_warning(shop):
    rec = dict(SHOP[0], vat="19")
    result = import_orders(rows(rec), now=NOW)
    assert result.warnings == [
        "order #1001: KAF-500 imported at the file's VAT 19 % (the catalogue says 7 %)"
    ]
    (line,) = orders.order_card(orders.resolve_order("#1001"))["lines"]
    assert (line["vat_rate"], line["net"], line["vat"]) == (
        Decimal("19.00"), Decimal("16.00"), Decimal("3.04"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "status"),
    [("wc-completed", "shipped"), ("wc-processing", "open"), ("wc-on-hold", "open"),
     ("wc-cancelled", "cancelled"), ("wc-refunded", "returned"), ("WC-Pending", "open")],
)  # fmt: skip
def test_woocommerce_statuses_with_their_prefix(db, text, status):
    rec = {"order_number": "W-1", "email": "w@example.de", "date": "01.11.2026",
           "amount": "10", "status": text}  # fmt: skip
    import_orders(rows(rec), now=NOW)
    assert orders.order_card(orders.resolve_order("W-1"))["status"] == status


def test_a_contact_is_counted_once_and_only_when_its_order_lands(db):
    new = {"order_number": "A-1", "email": "neu@example.de", "date": "01.11.2026",
           "amount": "10", "status": "vielleicht"}  # fmt: skip
    second = dict(new, order_number="A-2", status="paid")
    third = dict(new, order_number="A-3", status="paid", email="NEU@example.de")
    result = import_orders(rows(new, second, third), keep_going=True, now=NOW)
    assert (result.new, result.rejected_count, result.contacts_new) == (2, 1, 1)
    assert Contact.select().count() == 1
