"""Service statistics: inquiries, complaints and returns received in a period, how many were
resolved and are still open, and the median time to resolve them, by month (local time) or
kind; and per product the share of the quantity sold that came back: the lines of orders
whose status is returned, or that a logged return is about (`crm log return --order`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from peewee import Case, fn

from crmcli.errors import Invalid
from crmcli.models import TRACKED_KINDS, Activity, OrderLine, Product, SalesOrder
from crmcli.services.periods import check_period
from crmcli.values import local_tz

BY = ("month", "kind")
# Orders whose goods went out: what a return rate is a share of.
DELIVERED = ("open", "paid", "shipped", "returned")


def _days(seconds: float) -> Decimal:
    return Decimal(repr(seconds / 86400)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def service_report(
    *, since: datetime | None = None, until: datetime | None = None, by: str = "month"
) -> dict:
    """Per group (month or kind) and in total: received, resolved, open and the median days
    to resolve (of the resolved); and the return rate per product."""
    if by not in BY:
        raise Invalid("by", f"'{by}' is not one of {', '.join(BY)}")
    check_period(since, until)
    query = Activity.select(
        Activity.kind, Activity.occurred_at, Activity.status, Activity.resolved_at
    ).where(Activity.kind.in_(TRACKED_KINDS))
    if since is not None:
        query = query.where(Activity.occurred_at >= since)
    if until is not None:
        query = query.where(Activity.occurred_at < until)
    zone = local_tz()
    groups: dict[str | None, list] = defaultdict(lambda: [0, 0, 0, []])
    for kind, at, status, resolved in query.tuples():
        key = kind if by == "kind" else at.astimezone(zone).strftime("%Y-%m")
        for name in (key, None):  # None: the total
            g = groups[name]
            g[0] += 1
            if status == "resolved" and resolved is not None:
                g[1] += 1
                g[3].append((resolved - at).total_seconds())
            elif status == "open":
                g[2] += 1

    def row(name, g) -> dict:
        return {
            "group": name, "received": g[0], "resolved": g[1], "open": g[2],
            "median_days": _days(statistics.median(g[3])) if g[3] else None,
        }  # fmt: skip

    total: list = groups.pop(None, [0, 0, 0, []])
    rows = [row(name, groups[name]) for name in sorted(groups, key=str)]
    return {
        "by": by, "rows": rows, "total": row(None, total),
        "returns": _return_rates(since, until),
    }  # fmt: skip


def _return_rates(since: datetime | None, until: datetime | None) -> list[dict]:
    """Per product sold in the period: quantity delivered, quantity returned, their ratio."""
    about = Activity.select(Activity.id).where(
        (Activity.order == SalesOrder.id) & (Activity.kind == "return")
    )
    came_back = (SalesOrder.status == "returned") | fn.EXISTS(about)
    returned = fn.SUM(Case(None, [(came_back, OrderLine.qty)], 0))
    query = (
        OrderLine.select(Product.sku, Product.name, fn.SUM(OrderLine.qty), returned)
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(DELIVERED))
    )
    if since is not None:
        query = query.where(SalesOrder.ordered_at >= since)
    if until is not None:
        query = query.where(SalesOrder.ordered_at < until)
    out = []
    for sku, name, sold, back in query.group_by(Product.sku, Product.name).tuples():
        sold, back = int(sold), int(back)
        rate = (Decimal(back) / Decimal(sold)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        out.append({"sku": sku, "product": name, "sold": sold, "returned": back, "rate": rate})
    return sorted(out, key=lambda r: (-r["rate"], -r["returned"], r["sku"]))
