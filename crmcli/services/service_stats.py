"""Service statistics: inquiries, complaints and returns received in a period, how many were
resolved and are still open, and the median time to resolve them, by month (local time) or
kind; and per product the share of the quantity sold that came back: the lines of orders
whose status is returned, or that a logged return about the order names (see
_return_rates)."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from peewee import Case, fn

from crmcli.errors import Invalid
from crmcli.models import TRACKED_KINDS, Activity, OrderLine, Product, SalesOrder
from crmcli.services.periods import check_period
from crmcli.values import fold, local_tz

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
    returns, unnamed = _return_rates(since, until)
    rows = [row(name, groups[name]) for name in sorted(groups, key=str)]
    return {
        "by": by, "rows": rows, "total": row(None, total),
        "returns": returns, "returns_naming_no_line": unnamed,
    }  # fmt: skip


def _return_rates(since: datetime | None, until: datetime | None) -> tuple[list[dict], int]:
    """Per product sold in the period: quantity delivered, quantity returned, their ratio; and
    how many logged returns named none of their order's lines (counted against no product).

    A returned order's lines all came back. A return logged about an order (`crm log return
    --order`) counts the lines whose product's SKU or name its subject or text names: "Mühle
    defekt" is the grinder's line, not the coffee's of the same order. A return that names no
    line cannot say what came back, so it is counted apart rather than as the whole order."""
    query = (
        OrderLine.select(Product.sku, Product.name, fn.SUM(OrderLine.qty),
                         fn.SUM(Case(None, [(SalesOrder.status == "returned", OrderLine.qty)], 0)))
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(DELIVERED))
    )  # fmt: skip
    logged = (
        Activity.select(Activity.order, Activity.subject, Activity.body)
        .join(SalesOrder, on=(Activity.order == SalesOrder.id))
        .where((Activity.kind == "return") & SalesOrder.status.in_(DELIVERED)
               & (SalesOrder.status != "returned"))
    )  # fmt: skip
    if since is not None:
        query = query.where(SalesOrder.ordered_at >= since)
        logged = logged.where(SalesOrder.ordered_at >= since)
    if until is not None:
        query = query.where(SalesOrder.ordered_at < until)
        logged = logged.where(SalesOrder.ordered_at < until)
    rows = {sku: [name, int(sold), int(back)] for sku, name, sold, back in
            query.group_by(Product.sku, Product.name).tuples()}  # fmt: skip
    unnamed = 0
    texts: dict[int, list[str]] = defaultdict(list)
    for order_id, subject, body in logged.tuples():
        texts[order_id].append(fold(f"{subject or ''} {body or ''}"))
    named: set[tuple[int, int]] = set()  # (order, line): a line comes back once
    lines = (
        OrderLine.select(OrderLine.order, OrderLine.id, Product.sku, Product.name, OrderLine.qty)
        .join(Product, on=(OrderLine.product == Product.id))
        .where(OrderLine.order.in_(list(texts)))
        .tuples()
    ) if texts else []  # fmt: skip
    by_order: dict[int, list[tuple]] = defaultdict(list)
    for order_id, line_id, sku, name, qty in lines:
        by_order[order_id].append((line_id, sku, name, qty))
    for order_id, said in texts.items():
        for text in said:
            hits = [ln for ln in by_order[order_id] if _names(text, ln[1], ln[2])]
            if not hits:
                unnamed += 1
            for line_id, sku, _, qty in hits:
                if (order_id, line_id) not in named:
                    named.add((order_id, line_id))
                    rows[sku][2] += qty
    out = []
    for sku, (name, sold, back) in rows.items():
        rate = (Decimal(back) / Decimal(sold)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        out.append({"sku": sku, "product": name, "sold": sold, "returned": back, "rate": rate})
    return sorted(out, key=lambda r: (-r["rate"], -r["returned"], r["sku"])), unnamed


def _names(text: str, sku: str, name: str) -> bool:
    """Whether a return's folded text names a product: its SKU or its name as whole words."""
    return any(
        re.search(rf"(?<!\w){re.escape(fold(word))}(?!\w)", text) for word in (sku, name) if word
    )
