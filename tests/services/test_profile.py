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
    # net 17,80 + 5,90 + 8,90 = 32,60; cost 3 × 4,10 + 4,90 + 2,50 = 19,70; TEE has none
    assert (p["spent"], p["cost"], p["margin"], p["uncosted_lines"]) == (
        Decimal("32.60"), Decimal("19.70"), Decimal("12.90"), 1,
    )  # fmt: skip


def _profile_line_by_line(contact_id: int) -> dict:
    """What customer_profile gave when it summed the purchase lines in Python: its categories,
    price range, cost and uncosted lines, for the comparison below."""
    import statistics

    from peewee import JOIN

    from crmcli.models import PURCHASE_STATUSES, OrderLine, Product, SalesOrder
    from crmcli.services.orders import LINE_COST

    lines = list(
        OrderLine.select(Product.category, OrderLine.unit_price_cents, OrderLine.qty,
                         OrderLine.net_cents, OrderLine.order, LINE_COST)
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & (SalesOrder.contact == contact_id))
        .tuples()
    )  # fmt: skip
    spent = sum(line[3] for line in lines)
    by_category: dict = {}
    for category, _, qty, net, order, _ in lines:
        entry = by_category.setdefault(category, [set(), 0, 0])
        entry[0].add(order)
        entry[1] += qty
        entry[2] += net
    categories = [
        {"category": cat, "orders": len(orders), "qty": qty, "net": profile._money(net),
         "share": profile._share(net, spent)}
        for cat, (orders, qty, net) in sorted(
            by_category.items(), key=lambda kv: (-kv[1][2], str(kv[0]))
        )
    ]  # fmt: skip
    prices = sorted(line[1] for line in lines)
    price_range = None
    if prices:
        q1, median, q3 = (
            statistics.quantiles(prices, n=4, method="inclusive")
            if len(prices) > 1
            else (prices[0],) * 3
        )
        price_range = {
            "lines": len(prices), "min": profile._money(prices[0]), "q1": profile._money(q1),
            "median": profile._money(median), "q3": profile._money(q3),
            "max": profile._money(prices[-1]),
        }  # fmt: skip
    return {
        "spent": profile._money(spent), "categories": categories, "price_range": price_range,
        "goods": sum(line[5] or 0 for line in lines),
        "uncosted_lines": sum(line[5] is None for line in lines),
    }  # fmt: skip


def test_the_sums_in_sql_are_the_line_by_line_sums(db):
    """customer_profile sums categories and counts prices in SQL: the same figures as
    summing each purchase line in Python, on seeded histories with lines of one category in
    one order, products without a category or a purchase price, prices given per line,
    costs recorded on the line, and every status."""
    import random

    from crmcli.models import PURCHASE_STATUSES, OrderLine, SalesOrder

    rng = random.Random(18)
    skus = []
    for i in range(12):
        products.add_product(
            f"P{i}", f"Produkt {i}", price_cents=rng.choice((99, 590, 890, 1999, 8990)),
            vat_bp=rng.choice((1900, 700, 0)), category=rng.choice(("Kaffee", "Tee", None)),
            cost_cents=rng.choice((None, 300, 410)), now=NOW,
        )  # fmt: skip
        skus.append(f"P{i}")
    people = [contacts.add_contact(f"Kunde {i}", now=NOW)["id"] for i in range(25)]
    statuses = ("open", "paid", "shipped", "cancelled", "returned", "abandoned")
    for cid in people:
        for _ in range(rng.choice((0, 1, 2, 5, 17))):
            items = [
                Item(rng.choice(skus), rng.randint(1, 4),
                     rng.choice((None, None, 1, 1234, 99_999)))
                for _ in range(rng.randint(1, 4))
            ]  # fmt: skip
            orders.add_order(cid, items, status=rng.choice(statuses),
                             discount_bp=rng.choice((0, 0, 1500)), now=NOW)  # fmt: skip
    # a cost recorded on some lines when they were ordered
    picked = [i for (i,) in OrderLine.select(OrderLine.id).tuples() if rng.random() < 0.3]
    OrderLine.update(cost_cents=777).where(OrderLine.id.in_(picked)).execute()
    assert SalesOrder.select().count() > 100
    for cid in people:
        p = profile.customer_profile(cid)
        expected = _profile_line_by_line(cid)
        other = sum(
            o.cost_cents for o in SalesOrder.select().where(
                (SalesOrder.contact == cid) & SalesOrder.status.in_(PURCHASE_STATUSES)
            )
        )  # fmt: skip
        assert p["cost"] == profile._money(expected["goods"] + other)
        assert {k: p[k] for k in ("spent", "categories", "price_range", "uncosted_lines")} == {
            k: v for k, v in expected.items() if k != "goods"
        }
