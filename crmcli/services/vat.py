"""The figures a German VAT return needs: net turnover and VAT per rate in a month, quarter
or year, summed from the order lines as they were invoiced (services.orders prices them).

Orders count in the period of their order time (local time) when they were turnover then
(open, paid, shipped; not cancelled, returned or abandoned). A later return or cancellation
does not rewrite that period: it is a correction in the period of the status change
(Berichtigung nach § 17 UStG), negative; an order that becomes a purchase later (an abandoned
cart paid after all) counts in the period of that change. Orders changed before migration
0017 have no dated change and count in no period, as they did.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal

from peewee import fn

from crmcli.errors import Invalid
from crmcli.models import (
    PURCHASE_STATUSES,
    OrderLine,
    OrderStatusChange,
    SalesOrder,
    UTCDateTimeField,
)
from crmcli.values import at_local, cents_money

_TIME = UTCDateTimeField().python_value
_HINT = "try 2026-Q4, Q4/2026, 2026-11, 11/2026 or 2026"


def parse_period(text: str) -> tuple[str, date, date]:
    """A quarter, month or year as (label, first day, first day after)."""
    spec = text.strip().upper()
    if m := re.fullmatch(r"(?a)(\d{4})-?Q([1-4])|Q([1-4])[/ -]?(\d{4})", spec):
        year, quarter = int(m[1] or m[4]), int(m[2] or m[3])
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return f"{year}-Q{quarter}", start, end
    if m := re.fullmatch(r"(?a)(\d{4})-(\d{1,2})|(\d{1,2})[/.](\d{4})", spec):
        year, month = int(m[1] or m[4]), int(m[2] or m[3])
        if 1 <= month <= 12:
            start = date(year, month, 1)
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            return f"{year}-{month:02d}", start, end
    if re.fullmatch(r"(?a)\d{4}", spec) and int(spec) >= 1:
        return spec, date(int(spec), 1, 1), date(int(spec) + 1, 1, 1)
    raise Invalid("period", f"cannot read '{text}' as a month, quarter or year ({_HINT})")


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


_money = cents_money  # integer cents as a Decimal amount


def _invoiced_at_order():
    """Whether an order counted as turnover when it was ordered: its first status, which is
    the one its first recorded change left, else the one it has."""
    first = (
        OrderStatusChange.select(OrderStatusChange.old_status)
        .where(OrderStatusChange.order == SalesOrder.id)
        .order_by(OrderStatusChange.at, OrderStatusChange.id)
        .limit(1)
    )
    return fn.COALESCE(first, SalesOrder.status).in_(PURCHASE_STATUSES)


def _corrections(since: datetime, until: datetime) -> list[dict]:
    """The status changes made in [since, until) that took an order out of the turnover
    (returned, cancelled: its lines negative) or into it (positive), per change and rate."""
    old_in = OrderStatusChange.old_status.in_(PURCHASE_STATUSES)
    new_in = OrderStatusChange.new_status.in_(PURCHASE_STATUSES)
    rows = (
        OrderStatusChange.select(
            OrderStatusChange.id, OrderStatusChange.order, SalesOrder.ordered_at,
            OrderStatusChange.at, OrderStatusChange.old_status, OrderStatusChange.new_status,
            OrderLine.vat_bp, fn.COUNT(OrderLine.id), fn.SUM(OrderLine.net_cents),
            fn.SUM(OrderLine.vat_cents),
        )
        .join(SalesOrder, on=(OrderStatusChange.order == SalesOrder.id))
        .join_from(OrderStatusChange, OrderLine, on=(OrderLine.order == OrderStatusChange.order))
        .where(
            (OrderStatusChange.at >= since) & (OrderStatusChange.at < until)
            & ((old_in & ~new_in) | (~old_in & new_in))
        )
        .group_by(
            OrderStatusChange.id, OrderStatusChange.order, SalesOrder.ordered_at,
            OrderStatusChange.at, OrderStatusChange.old_status, OrderStatusChange.new_status,
            OrderLine.vat_bp,
        )
        .order_by(OrderStatusChange.at, OrderStatusChange.id, OrderLine.vat_bp.desc())
        .tuples()
    )  # fmt: skip
    out = []
    for _, order_id, ordered_at, at, old, new, bp, lines, net, vat in rows:
        sign = -1 if old in PURCHASE_STATUSES else 1
        net, vat = sign * int(net), sign * int(vat)
        out.append({
            "order_id": order_id, "ordered_at": _TIME(ordered_at), "changed_at": _TIME(at),
            "old_status": old, "status": new, "vat_rate": Decimal(bp).scaleb(-2),
            "lines": lines, "net": _money(net), "vat": _money(vat), "gross": _money(net + vat),
        })  # fmt: skip
    return out


def vat_return(period: str) -> dict:
    """Net, VAT and gross per VAT rate (highest first) and in total, for the period: the
    orders ordered in it that were turnover then, corrected by the status changes made in
    it (an order returned or cancelled in it negative, in whichever period it was ordered:
    a period once filed stays as it was). The corrections are listed apart as well."""
    label, start, end = parse_period(period)
    since: datetime = at_local(start, time())
    until: datetime = at_local(end, time())
    invoiced = _invoiced_at_order() & (
        (SalesOrder.ordered_at >= since) & (SalesOrder.ordered_at < until)
    )
    rows = (
        OrderLine.select(
            OrderLine.vat_bp, fn.COUNT(OrderLine.id), fn.SUM(OrderLine.net_cents),
            fn.SUM(OrderLine.vat_cents),
        )
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .where(invoiced)
        .group_by(OrderLine.vat_bp)
        .tuples()
    )  # fmt: skip
    sums: dict[int, list[int]] = {bp: [n, int(net), int(vat)] for bp, n, net, vat in rows}
    corrections = _corrections(since, until)
    for c in corrections:
        sum_ = sums.setdefault(int(c["vat_rate"] * 100), [0, 0, 0])
        sum_[1] += int(c["net"] * 100)
        sum_[2] += int(c["vat"] * 100)
    rates = [
        {"vat_rate": Decimal(bp).scaleb(-2), "lines": lines, "net": _money(net),
         "vat": _money(vat), "gross": _money(net + vat)}
        for bp, (lines, net, vat) in sorted(sums.items(), reverse=True)
    ]  # fmt: skip
    orders = SalesOrder.select().where(invoiced).count()
    net = sum(n for _, n, _ in sums.values())
    vat = sum(v for _, _, v in sums.values())
    return {
        "period": label, "since": start, "until": end, "orders": orders, "rates": rates,
        "corrections": corrections,
        "total": {"net": _money(net), "vat": _money(vat), "gross": _money(net + vat)},
    }  # fmt: skip
