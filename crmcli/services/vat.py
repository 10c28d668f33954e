"""The figures a German VAT return needs: net turnover and VAT per rate in a month, quarter
or year, summed from the order lines as they were invoiced (services.orders prices them).

Orders count in the period of their order time (local time); open, paid and shipped orders
are turnover, cancelled, returned and abandoned ones are not.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal

from peewee import fn

from crmcli.errors import Invalid
from crmcli.models import PURCHASE_STATUSES, OrderLine, SalesOrder
from crmcli.values import at_local

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


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def vat_return(period: str) -> dict:
    """Net, VAT and gross per VAT rate (highest first) and in total, for the orders of the
    period, with how many orders and lines they come from."""
    label, start, end = parse_period(period)
    since: datetime = at_local(start, time())
    until: datetime = at_local(end, time())
    purchases = SalesOrder.status.in_(PURCHASE_STATUSES) & (
        (SalesOrder.ordered_at >= since) & (SalesOrder.ordered_at < until)
    )
    rows = (
        OrderLine.select(
            OrderLine.vat_bp, fn.COUNT(OrderLine.id), fn.SUM(OrderLine.net_cents),
            fn.SUM(OrderLine.vat_cents),
        )
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .where(purchases)
        .group_by(OrderLine.vat_bp)
        .order_by(OrderLine.vat_bp.desc())
        .tuples()
    )  # fmt: skip
    rates = []
    for bp, lines, net, vat in rows:
        net, vat = int(net), int(vat)
        rates.append({
            "vat_rate": Decimal(bp).scaleb(-2), "lines": lines, "net": _money(net),
            "vat": _money(vat), "gross": _money(net + vat),
        })  # fmt: skip
    orders = SalesOrder.select().where(purchases).count()
    net = sum(int(r["net"] * 100) for r in rates)
    vat = sum(int(r["vat"] * 100) for r in rates)
    return {
        "period": label, "since": start, "until": end, "orders": orders, "rates": rates,
        "total": {"net": _money(net), "vat": _money(vat), "gross": _money(net + vat)},
    }  # fmt: skip
