"""Products and orders through the services: the catalogue, German invoice maths, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import OrderLine, Product, SalesOrder
from crmcli.services import contacts, merge, orders, products
from crmcli.services.orders import Item, parse_item, price_lines
from tests.conftest import NOW


@pytest.fixture
def person(db):
    return contacts.add_contact("Jürgen Müller", now=NOW)


@pytest.fixture
def catalogue(db):
    products.add_product("KAF-500", "Kaffee 500 g", price_cents=150, vat_bp=700,
                         category="Kaffee", now=NOW)  # fmt: skip
    products.add_product("MUEHLE", "Kaffeemühle", price_cents=4990, category="Geräte", now=NOW)
    products.add_product("GUTSCHEIN", "Gutschein", price_cents=2500, vat_bp=0, now=NOW)


def test_add_product_keeps_net_price_and_rate_exact(db):
    p = products.add_product("tee-1", "Grüner Tee", price_cents=399, vat_bp=700, unit="Dose")
    assert (p["sku"], p["price"], p["vat_rate"], p["unit"], p["active"]) == (
        "tee-1", Decimal("3.99"), Decimal("7.00"), "Dose", True,
    )  # fmt: skip
    assert products.resolve_product("TEE-1") == p["id"]
    assert products.resolve_product(str(p["id"])) == p["id"]


def test_a_sku_is_unique_whatever_its_case(catalogue):
    with pytest.raises(Conflict, match="exists already"):
        products.add_product("kaf-500", "Doppelt", price_cents=1)
    assert Product.select().count() == 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(sku="A B", name="x", price_cents=1), "sku"),
        (dict(sku="A", name=" ", price_cents=1), "name"),
        (dict(sku="A", name="x", price_cents=-1), "price"),
        (dict(sku="A", name="x", price_cents=1, vat_bp=25_000), "vat"),
    ],
)
def test_bad_products_are_refused_and_nothing_is_written(db, kwargs, field):
    kwargs = dict(kwargs)  # the parameters are shared by the SQLite and PostgreSQL runs
    sku, name = kwargs.pop("sku"), kwargs.pop("name")
    with pytest.raises(Invalid) as exc:
        products.add_product(sku, name, **kwargs)
    assert exc.value.field == field
    assert Product.select().count() == 0


def test_edit_product_and_inactive_products_cannot_be_ordered(catalogue, person):
    pid = products.resolve_product("muehle")
    p = products.edit_product(pid, {"price_cents": 5490, "active": False, "category": "Zubehör"})
    assert (p["price"], p["active"], p["category"]) == (Decimal("54.90"), False, "Zubehör")
    assert [r["sku"] for r in products.list_products(active=True)] == ["GUTSCHEIN", "KAF-500"]
    assert [r["sku"] for r in products.list_products(category="zubehör")] == ["MUEHLE"]
    with pytest.raises(Invalid, match="not active"):
        orders.add_order(person["id"], [Item("MUEHLE", 1)], now=NOW)
    assert SalesOrder.select().count() == 0


def test_price_lines_round_vat_half_up_per_line_and_sum_it_per_rate():
    lines = [
        {"qty": 1, "unit_price_cents": 150, "vat_bp": 700},  # 10.5 ct VAT -> 11
        {"qty": 1, "unit_price_cents": 150, "vat_bp": 700},  # per line: 11 + 11, not 21
        {"qty": 3, "unit_price_cents": 4990, "vat_bp": 1900},
    ]
    priced, rates = price_lines(lines, 0)
    assert [p["vat_cents"] for p in priced] == [11, 11, 2844]  # 14970 * 19 % = 2844.3
    assert rates == [
        {"vat_bp": 1900, "net_cents": 14970, "vat_cents": 2844, "gross_cents": 17814},
        {"vat_bp": 700, "net_cents": 300, "vat_cents": 22, "gross_cents": 322},
    ]


def test_a_discount_is_each_lines_share_rounded_half_up():
    priced, rates = price_lines([{"qty": 1, "unit_price_cents": 235, "vat_bp": 700}], 1000)
    # 10 % of 2,35 = 0,235 -> 0,24; net 2,11; VAT 0,1477 -> 0,15
    assert [(p["discount_cents"], p["net_cents"], p["vat_cents"], p["gross_cents"])
            for p in priced] == [(24, 211, 15, 226)]  # fmt: skip


def test_add_order_prices_lines_stores_totals_and_shows_vat_per_rate(catalogue, person):
    at = NOW - timedelta(days=3)
    from crmcli.services import campaigns

    campaigns.add_campaign("Herbst", now=NOW)
    card = orders.add_order(
        person["id"], [Item("KAF-500", 2), Item("muehle", 1, 3990), Item("GUTSCHEIN", 1)],
        ordered_at=at, discount_bp=1000, channel="Shop", campaign="Herbst", status="paid",
        now=NOW,
    )  # fmt: skip
    # KAF: 300 - 30 = 270, VAT 18.9 -> 19; MUEHLE: 3990 - 399 = 3591, VAT 682.29 -> 682;
    # GUTSCHEIN: 2500 - 250 = 2250, VAT 0
    assert [(ln["sku"], ln["net"], ln["vat"]) for ln in card["lines"]] == [
        ("KAF-500", Decimal("2.70"), Decimal("0.19")),
        ("MUEHLE", Decimal("35.91"), Decimal("6.82")),
        ("GUTSCHEIN", Decimal("22.50"), Decimal("0.00")),
    ]
    assert (card["net"], card["vat"], card["gross"]) == (
        Decimal("61.11"), Decimal("7.01"), Decimal("68.12"),
    )  # fmt: skip
    assert [(r["vat_rate"], r["vat"]) for r in card["vat_by_rate"]] == [
        (Decimal("19.00"), Decimal("6.82")), (Decimal("7.00"), Decimal("0.19")),
        (Decimal("0.00"), Decimal("0.00")),
    ]  # fmt: skip
    assert (card["contact"], card["status"], card["channel"], card["items"]) == (
        "Jürgen Müller", "paid", "shop", 3,
    )  # fmt: skip
    assert card["ordered_at"] == at and card["discount"] == Decimal("10.00")
    assert [o["id"] for o in orders.orders_of(person["id"])] == [card["id"]]
    assert orders.resolve_order(f"#{card['id']}") == card["id"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("KAF-500:0", "1 or more"),
        ("KAF-500:-2", "1 or more"),
        ("KAF-500:zwei", "not a whole number"),
        ("KAF-500", "SKU:QTY"),
        ("KAF-500:1:-3", "0 or more"),
    ],
)
def test_bad_items_are_refused(text, message):
    with pytest.raises(Invalid, match=message):
        parse_item(text)


def test_parse_item_reads_a_german_price():
    assert parse_item(" KAF-500:2:8,50 ") == Item("KAF-500", 2, 850)


@pytest.mark.parametrize(
    ("items", "kwargs", "error", "message"),
    [
        ([Item("NOPE", 1)], {}, NotFound, "no product with SKU 'NOPE'"),
        ([Item("KAF-500", 1)], {"discount_bp": 10_001}, Invalid, "0 to 100 %"),
        ([Item("KAF-500", 1)], {"status": "lost"}, Invalid, "not one of"),
        ([], {}, Invalid, "at least one item"),
    ],
)
def test_bad_orders_write_nothing(catalogue, person, items, kwargs, error, message):
    with pytest.raises(error, match=message):
        orders.add_order(person["id"], items, now=NOW, **kwargs)
    assert SalesOrder.select().count() == 0 and OrderLine.select().count() == 0


def test_an_order_for_an_unknown_contact_writes_nothing(catalogue):
    with pytest.raises(NotFound, match="no contact"):
        orders.add_order(999, [Item("KAF-500", 1)], now=NOW)
    assert SalesOrder.select().count() == 0


def test_an_external_id_is_recorded_once(catalogue, person):
    orders.add_order(person["id"], [Item("KAF-500", 1)], external_id="shop-1", now=NOW)
    with pytest.raises(Conflict, match="shop-1"):
        orders.add_order(person["id"], [Item("KAF-500", 1)], external_id="shop-1", now=NOW)
    assert SalesOrder.select().count() == 1 and OrderLine.select().count() == 1
    assert orders.resolve_order("shop-1") == SalesOrder.get().id


def test_list_orders_filters_and_edit_order(catalogue, person):
    other = contacts.add_contact("Anna Weiß", now=NOW)
    a = orders.add_order(person["id"], [Item("KAF-500", 1)], ordered_at=NOW - timedelta(days=9),
                         channel="phone", now=NOW)  # fmt: skip
    b = orders.add_order(other["id"], [Item("KAF-500", 4)], status="abandoned", now=NOW)
    assert [o["id"] for o in orders.iter_orders()] == [b["id"], a["id"]]
    assert [o["id"] for o in orders.iter_orders(status="abandoned")] == [b["id"]]
    assert [o["id"] for o in orders.iter_orders(channel="PHONE")] == [a["id"]]
    assert [o["id"] for o in orders.iter_orders(since=NOW - timedelta(days=1))] == [b["id"]]
    edited = orders.edit_order(a["id"], {"status": "shipped", "note": "DHL"}, now=NOW)
    assert (edited["status"], edited["note"], edited["gross"]) == (
        "shipped", "DHL", Decimal("1.61"),
    )  # fmt: skip


def test_orders_outlive_their_contact_and_follow_a_merge(catalogue, person):
    other = contacts.add_contact("J. Müller", now=NOW)
    o = orders.add_order(other["id"], [Item("KAF-500", 1)], now=NOW)
    merge.merge_contacts(person["id"], [other["id"]], force=True, now=NOW)
    assert orders.order_card(o["id"])["contact_id"] == person["id"]
    contacts.delete_contact(person["id"])
    assert orders.order_card(o["id"])["contact_id"] is None
