"""What a customer's records say about them: the product categories they buy most, the price
range they buy in, and the channels and campaigns they respond to.

Purchases are orders in PURCHASE_STATUSES; abandoned carts count as interest, apart. The
price range is that of the net unit prices of their purchase lines (each line once): the
median and the quartiles (statistics.quantiles, inclusive method), rounded half up to the
cent. Responses are the activities that came in from them, by kind (a call, a mail...).
Cost and margin as in services.value: the goods' purchase cost plus the orders' own costs.
"""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal

from peewee import JOIN, fn

from crmcli.models import PURCHASE_STATUSES, Activity, Campaign, OrderLine, Product, SalesOrder


def _money(cents: float | int) -> Decimal:
    return Decimal(repr(cents)).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-2)


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _lines_query(contact):
    from crmcli.services.orders import LINE_COST

    return (
        OrderLine.select(Product.category, OrderLine.unit_price_cents, OrderLine.qty,
                         OrderLine.net_cents, OrderLine.order, LINE_COST)
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & (SalesOrder.contact == contact))
    )  # fmt: skip


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
        ("profile_lines", _lines_query, (contact_id,)),
        ("profile_orders", _orders_query, (contact_id,)),
        ("profile_responses", _responses_query, (contact_id,)),
    ]


def customer_profile(contact_id: int) -> dict:
    """Favourite categories (by net spent), price range, orders by channel and campaign,
    abandoned carts and inbound activities by kind, and the cost and margin, of one contact.
    Three queries, their SQL built once (services.prepared): the contact card shows this."""
    from crmcli.services import prepared

    lines = prepared.run("profile_lines", _lines_query, contact_id)
    spent = sum(line[3] for line in lines)
    goods = sum(line[5] or 0 for line in lines)
    by_category: dict = {}
    for category, _, qty, net, order, _ in lines:
        entry = by_category.setdefault(category, [set(), 0, 0])
        entry[0].add(order)
        entry[1] += qty
        entry[2] += net
    categories = [
        {"category": cat, "orders": len(orders), "qty": qty, "net": _money(net),
         "share": _share(net, spent)}
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
            "lines": len(prices), "min": _money(prices[0]), "q1": _money(q1),
            "median": _money(median), "q3": _money(q3), "max": _money(prices[-1]),
        }  # fmt: skip
    channels: dict = {}
    campaigns: dict = {}
    abandoned = other_costs = 0
    for status, channel, campaign, n, net, cost in prepared.run(
        "profile_orders", _orders_query, contact_id
    ):
        if status == "abandoned":
            abandoned += n
        if status not in PURCHASE_STATUSES:
            continue
        other_costs += int(cost or 0)
        for groups, name in ((channels, channel), (campaigns, campaign)):
            group = groups.setdefault(name, [0, 0])
            group[0] += n
            group[1] += int(net or 0)

    def grouped(groups: dict) -> list[dict]:
        out = [{"name": k, "orders": n, "net": _money(net)} for k, (n, net) in groups.items()]
        return sorted(out, key=lambda r: (-r["orders"], -r["net"], str(r["name"])))

    cost = goods + other_costs
    responses = prepared.run("profile_responses", _responses_query, contact_id)
    return {
        "contact_id": contact_id, "spent": _money(spent), "categories": categories,
        "price_range": price_range, "channels": grouped(channels), "cost": _money(cost),
        "margin": _money(spent - cost), "uncosted_lines": sum(line[5] is None for line in lines),
        "campaigns": [c for c in grouped(campaigns) if c["name"] is not None],
        "abandoned": abandoned,
        "responses": sorted(
            ({"kind": k, "count": n} for k, n in responses), key=lambda r: (-r["count"], r["kind"])
        ),
    }  # fmt: skip
