"""What a customer's records say about them: the product categories they buy most, the price
range they buy in, and the channels and campaigns they respond to.

Purchases are orders in PURCHASE_STATUSES; abandoned carts count as interest, apart. The
categories, quantities and price range are of products: an order's shipping line
(orders.SHIPPING_NAME, no product) is left out of them, and counted in what was spent (the
orders' net) and so in the margin. The
price range is that of the net unit prices of their purchase lines (each line once): the
median and the quartiles (statistics.quantiles, inclusive method), rounded half up to the
cent. Responses are the activities that came in from them, by kind (a call, a mail...).
Cost and margin as in services.value: the goods' purchase cost plus the orders' own costs;
the margin over the lines whose cost is known (None without any).
"""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal

from peewee import JOIN, Case, SqliteDatabase, fn

from crmcli.models import (
    PURCHASE_STATUSES,
    Activity,
    Campaign,
    OrderLine,
    Product,
    SalesOrder,
    database_proxy,
)


def _money(cents: float | int) -> Decimal:
    return Decimal(repr(cents)).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-2)


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _categories_query(contact):
    """The purchase lines of a contact summed per product category, in SQL (the lines of a
    customer with a hundred orders cost more to hand to Python than to sum), with the
    category's unit prices as one text (`890,590,890`): one pass over the lines for both.
    Shipping lines are no product (orders.NOT_SHIPPING); the net of the lines without a
    purchase price is summed apart (the margin leaves it out)."""
    from crmcli.services.orders import LINE_COST, NOT_SHIPPING

    return (
        OrderLine.select(
            Product.category, fn.COUNT(OrderLine.order.distinct()), fn.SUM(OrderLine.qty),
            fn.SUM(OrderLine.net_cents), fn.SUM(LINE_COST), fn.COUNT(OrderLine.id),
            fn.COUNT(LINE_COST),
            fn.SUM(Case(None, [(LINE_COST.is_null(), OrderLine.net_cents)], 0)),
            _joined(OrderLine.unit_price_cents),
        )
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine).where(NOT_SHIPPING)  # shipping: no product (spent counts it)
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & (SalesOrder.contact == contact))
        .group_by(Product.category)
    )  # fmt: skip


def _joined(numbers):
    """The numbers of a group as text, comma-separated, in no particular order."""
    if isinstance(database_proxy.obj, SqliteDatabase):
        return fn.GROUP_CONCAT(numbers)
    return fn.STRING_AGG(numbers.cast("text"), ",")


def _orders_query(contact):
    return (
        SalesOrder.select(
            SalesOrder.status, SalesOrder.channel, Campaign.name, fn.COUNT(SalesOrder.id),
            fn.SUM(SalesOrder.net_cents), fn.SUM(SalesOrder.cost_cents),
        )
        .join(Campaign, JOIN.LEFT_OUTER, on=(SalesOrder.campaign == Campaign.id))
        .where(SalesOrder.contact == contact)
        .group_by(SalesOrder.status, SalesOrder.channel, Campaign.name)
    )  # fmt: skip


def _responses_query(contact):
    return (
        Activity.select(Activity.kind, fn.COUNT(Activity.id))
        .where((Activity.contact == contact) & (Activity.direction == "in"))
        .group_by(Activity.kind)
    )


def profile_queries(contact_id: int) -> list[tuple]:
    """customer_profile's queries as prepared.run takes them (name, build, args)."""
    return [
        ("profile_categories", _categories_query, (contact_id,)),
        ("profile_orders", _orders_query, (contact_id,)),
        ("profile_responses", _responses_query, (contact_id,)),
    ]


def customer_profile(contact_id: int) -> dict:
    """Favourite categories (by net spent), price range, orders by channel and campaign,
    abandoned carts and inbound activities by kind, and the cost and margin, of one contact.
    Three queries, their SQL built once (services.prepared): the contact card shows this."""
    from crmcli.services import prepared

    # SUM is numeric on PostgreSQL for bigint columns: every sum is made an int.
    rows = prepared.run("profile_categories", _categories_query, contact_id)
    by_category = [
        (category, orders, int(qty), int(net), int(goods or 0), lines - costed, lines,
         int(unet or 0))
        for category, orders, qty, net, goods, lines, costed, unet, _ in rows
    ]  # fmt: skip
    spent = sum(g[3] for g in by_category)
    goods = sum(g[4] for g in by_category)
    categories = [
        {"category": cat, "orders": orders, "qty": qty, "net": _money(net),
         "share": _share(net, spent)}
        for cat, orders, qty, net, *_ in sorted(by_category, key=lambda g: (-g[3], str(g[0])))
    ]  # fmt: skip
    prices = sorted(int(p) for *_, text in rows for p in text.split(","))
    price_range = None
    if prices:
        q1, median, q3 = (
            statistics.quantiles(prices, n=4, method="inclusive")
            if len(prices) > 1
            else (prices[0],) * 3
        )
        price_range = {
            "lines": len(prices), "min": _money(prices[0]), "q1": _money(q1),
            "median": _money(median), "q3": _money(q3), "max": _money(prices[-1]),
        }  # fmt: skip
    channels: dict = {}
    campaigns: dict = {}
    abandoned = other_costs = paid = 0
    for status, channel, campaign, n, net, cost in prepared.run(
        "profile_orders", _orders_query, contact_id
    ):
        if status == "abandoned":
            abandoned += n
        if status not in PURCHASE_STATUSES:
            continue
        other_costs += int(cost or 0)
        paid += int(net or 0)
        for groups, name in ((channels, channel), (campaigns, campaign)):
            group = groups.setdefault(name, [0, 0])
            group[0] += n
            group[1] += int(net or 0)

    def grouped(groups: dict) -> list[dict]:
        out = [{"name": k, "orders": n, "net": _money(net)} for k, (n, net) in groups.items()]
        return sorted(out, key=lambda r: (-r["orders"], -r["net"], str(r["name"])))

    cost = goods + other_costs
    spent = paid  # the orders' net, their shipping lines too (the shares above are of goods)
    from crmcli.services.value import margin_cents

    uncosted, lines = (sum(g[i] for g in by_category) for i in (5, 6))
    margin = margin_cents(spent, cost, sum(g[7] for g in by_category), uncosted, lines)
    responses = prepared.run("profile_responses", _responses_query, contact_id)
    return {
        "contact_id": contact_id, "spent": _money(spent), "categories": categories,
        "price_range": price_range, "channels": grouped(channels), "cost": _money(cost),
        "margin": None if margin is None else _money(margin), "uncosted_lines": uncosted,
        "lines": lines,
        "campaigns": [c for c in grouped(campaigns) if c["name"] is not None],
        "abandoned": abandoned,
        "responses": sorted(
            ({"kind": k, "count": n} for k, n in responses), key=lambda r: (-r["count"], r["kind"])
        ),
    }  # fmt: skip
