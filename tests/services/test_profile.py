"""What a customer buys: categories by money spent, the price range, channels, campaigns."""

from __future__ import annotations

from decimal import Decimal

from crmcli.services import activities, campaigns, contacts, orders, products, profile
from crmcli.services.orders import Item
from tests.conftest import NOW


def test_a_customers_profile_on_a_known_history(db):
    for sku, cents, category in (("KAF", 890, "Kaffee"), ("TEE", 590, "Tee"),
                                 ("MUE", 8990, "Geräte")):  # fmt: skip
        products.add_product(sku, sku, price_cents=cents, vat_bp=700, category=category, now=NOW)
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    campaigns.add_campaign("Herbst", now=NOW)
    orders.add_order(cid, [Item("KAF", 2), Item("TEE", 1)], channel="shop", now=NOW)
    orders.add_order(cid, [Item("KAF", 1)], channel="shop", campaign="Herbst", now=NOW)
    orders.add_order(cid, [Item("MUE", 1)], channel="phone", now=NOW)
    orders.add_order(cid, [Item("MUE", 2)], status="returned", now=NOW)  # not bought
    orders.add_order(cid, [Item("TEE", 9)], status="abandoned", now=NOW)  # interest
    activities.log_activity("email", contact_id=cid, direction="in", now=NOW)
    activities.log_activity("call", contact_id=cid, direction="in", now=NOW)
    activities.log_activity("email", contact_id=cid, direction="in", now=NOW)
    activities.log_activity("call", contact_id=cid, direction="out", now=NOW)
    p = profile.customer_profile(cid)
    assert p["spent"] == Decimal("122.50")  # 17,80 + 5,90 + 8,90 + 89,90
    assert [
        (c["category"], c["orders"], c["qty"], c["net"], c["share"]) for c in p["categories"]
    ] == [  # fmt: skip
        ("Geräte", 1, 1, Decimal("89.90"), Decimal("0.7339")),
        ("Kaffee", 2, 3, Decimal("26.70"), Decimal("0.2180")),
        ("Tee", 1, 1, Decimal("5.90"), Decimal("0.0482")),
    ]
    # unit prices of the four lines: 5,90 8,90 8,90 89,90; inclusive quartiles interpolate
    # at 0.75, 1.5 and 2.25 of the sorted positions: 8,15, 8,90 and 8,90 + 0.25 x 81,00
    assert p["price_range"] == {
        "lines": 4, "min": Decimal("5.90"), "q1": Decimal("8.15"), "median": Decimal("8.90"),
        "q3": Decimal("29.15"), "max": Decimal("89.90"),
    }  # fmt: skip
    assert [(c["name"], c["orders"]) for c in p["channels"]] == [("shop", 2), ("phone", 1)]
    assert [(c["name"], c["net"]) for c in p["campaigns"]] == [("Herbst", Decimal("8.90"))]
    assert p["abandoned"] == 1
    assert p["responses"] == [{"kind": "email", "count": 2}, {"kind": "call", "count": 1}]
    card = contacts.contact_card(cid, now=NOW)
    assert card["profile"] == p


def test_no_purchases_no_profile(db):
    cid = contacts.add_contact("Niemand", now=NOW)["id"]
    p = profile.customer_profile(cid)
    assert (p["categories"], p["price_range"], p["spent"]) == ([], None, Decimal("0.00"))


def test_a_customers_margin(db):
    products.add_product("KAF", "Kaffee", price_cents=890, vat_bp=700, now=NOW)
    products.add_product("TEE", "Tee", price_cents=590, vat_bp=700, now=NOW)
    products.edit_product(products.resolve_product("KAF"), {"cost_cents": 410})
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    campaigns.add_campaign("Herbst", now=NOW)
    orders.add_order(cid, [Item("KAF", 2), Item("TEE", 1)], cost_cents=490, now=NOW)
    orders.add_order(cid, [Item("KAF", 1)], campaign="Herbst", cost_cents=250, now=NOW)
    orders.add_order(cid, [Item("KAF", 5)], status="cancelled", cost_cents=999, now=NOW)
    p = profile.customer_profile(cid)
    # net 17,80 + 5,90 + 8,90 = 32,60; cost 3 × 4,10 + 4,90 + 2,50 = 19,70; TEE has none,
    # so the margin is over the rest: 32,60 − 5,90 − 19,70 (it was 12,90, TEE as pure margin)
    assert (p["spent"], p["cost"], p["margin"], p["uncosted_lines"], p["lines"]) == (
        Decimal("32.60"), Decimal("19.70"), Decimal("7.00"), 1, 3,
    )  # fmt: skip
