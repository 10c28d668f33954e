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

from crmcli.models import PURCHASE_STATUSES, Activity, OrderLine, Product, SalesOrder


def _money(cents: float | int) -> Decimal:
    return Decimal(repr(cents)).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-2)


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def customer_profile(contact_id: int) -> dict:
    """Favourite categories (by net spent), price range, orders by channel and campaign,
    abandoned carts and inbound activities by kind, and the cost and margin, of one contact."""
    from crmcli.services.orders import LINE_COST

    bought = SalesOrder.status.in_(PURCHASE_STATUSES) & (SalesOrder.contact == contact_id)
    lines = list(
        OrderLine.select(Product.category, OrderLine.unit_price_cents, OrderLine.qty,
                         OrderLine.net_cents, OrderLine.order, LINE_COST)
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(bought)
        .tuples()
    )  # fmt: skip
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

    other_costs = [0]

    def grouped(field) -> list[dict]:
        rows = (
            SalesOrder.select(
                field, fn.COUNT(SalesOrder.id), fn.SUM(SalesOrder.net_cents),
                fn.SUM(SalesOrder.cost_cents),
            )
            .where(bought)
            .group_by(field)
            .tuples()
        )  # fmt: skip
        out = []
        other_costs[0] = 0
        for name, n, net, cost in rows:
            out.append({"name": name, "orders": n, "net": _money(int(net))})
            other_costs[0] += int(cost or 0)
        return sorted(out, key=lambda r: (-r["orders"], -r["net"], str(r["name"])))

    channels = grouped(SalesOrder.channel)
    cost = goods + other_costs[0]

    abandoned = (
        SalesOrder.select()
        .where((SalesOrder.contact == contact_id) & (SalesOrder.status == "abandoned"))
        .count()
    )
    responses = (
        Activity.select(Activity.kind, fn.COUNT(Activity.id))
        .where((Activity.contact == contact_id) & (Activity.direction == "in"))
        .group_by(Activity.kind)
        .tuples()
    )
    return {
        "contact_id": contact_id, "spent": _money(spent), "categories": categories,
        "price_range": price_range, "channels": channels, "cost": _money(cost),
        "margin": _money(spent - cost), "uncosted_lines": sum(line[5] is None for line in lines),
        "campaigns": [c for c in grouped(SalesOrder.campaign) if c["name"] is not None],
        "abandoned": abandoned,
        "responses": sorted(
            ({"kind": k, "count": n} for k, n in responses), key=lambda r: (-r["count"], r["kind"])
        ),
    }  # fmt: skip
