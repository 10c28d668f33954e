"""Customer value from orders: what each customer has bought (crm report value) and what the
BG/NBD and Gamma-Gamma models expect of them (crm report clv).

A purchase is an order in PURCHASE_STATUSES (open, paid, shipped) of a contact; cancelled,
returned and abandoned orders are not revenue. Revenue is net (VAT is not the shop's). Cost
is the goods' purchase cost (orders.LINE_COST) plus the orders' own costs (shipping...).
Margin is never guessed: it is taken over the lines whose cost is known, the revenue less
the net of the goods lines without a purchase price (counted as `uncosted_lines`, of
`lines`) less the cost; with no purchase price known at all it is None. An order's shipping
line (orders.SHIPPING_NAME) is revenue whose cost is the order's own, never uncosted. For
the models a customer buys at most once a day: the orders of one local day are one purchase
of their summed value, as Fader, Hardie and Lee count the CDNOW data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from peewee import JOIN, Case, fn

from crmcli.errors import Invalid
from crmcli.models import (
    PURCHASE_STATUSES,
    Contact,
    OrderLine,
    Product,
    SalesOrder,
    UTCDateTimeField,
)
from crmcli.services import clv
from crmcli.values import at_local, cents_money, local_tz

UNITS = {"days": 1, "weeks": 7}
_TIME = UTCDateTimeField().python_value
_FOUR = Decimal("0.0001")


_money = cents_money  # integer cents as a Decimal amount


def _cents(value: float) -> Decimal:
    """A float amount of cents as money, rounded half up to the cent."""
    return Decimal(repr(value)).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-2)


def _ratio(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_FOUR, ROUND_HALF_UP)


def _end(until: date | None) -> datetime | None:
    """The first moment after the local day `until`."""
    return None if until is None else at_local(until + timedelta(days=1), datetime.min.time())


def _purchases(since: datetime | None = None, before: datetime | None = None):
    query = SalesOrder.select().where(
        SalesOrder.status.in_(PURCHASE_STATUSES) & SalesOrder.contact.is_null(False)
    )
    if since is not None:
        query = query.where(SalesOrder.ordered_at >= since)
    if before is not None:
        query = query.where(SalesOrder.ordered_at < before)
    return query


class History(NamedTuple):
    """A customer's purchase history as the models see it, times in the chosen unit."""

    contact_id: int
    x: int  # repeat purchases: purchase days after the first
    t_x: float  # from the first purchase day to the last
    T: float  # from the first purchase day to the end of the period
    repeat_mean: float | None  # the mean net value of the repeat purchase days, in EUR
    first: date  # the first purchase day
    mean_value: float  # the mean net value of all purchase days, in EUR


def histories(until: date, unit: str = "weeks") -> list[History]:
    """Per customer with a purchase up to the local day `until` (included): x, t_x and T
    in `unit` (days or weeks), and the mean value of their repeat purchase days. Grouped in
    SQL by customer and local day (one row per customer reaches Python)."""
    if unit not in UNITS:
        raise Invalid("unit", f"'{unit}' is not one of {', '.join(UNITS)}")
    per = UNITS[unit]
    from crmcli.db import placeholder
    from crmcli.models import database_proxy

    db, mark = database_proxy.obj, placeholder()
    end = at_local(until + timedelta(days=1), datetime.min.time())
    before = SalesOrder.ordered_at.db_value(end)
    statuses = ", ".join(f"'{s}'" for s in PURCHASE_STATUSES)
    where = f"status IN ({statuses}) AND contact_id IS NOT NULL AND ordered_at < {mark}"
    first = db.execute_sql(f"SELECT MIN(ordered_at) FROM sales_order WHERE {where}", [before])
    start = first.fetchone()[0]
    if start is None:
        return []
    offset, offset_params = _offset_sql("e", _TIME(start), end, mark)
    # Each purchase's local day (day numbers since 1970), read along the covering index
    # (contact_id, ordered_at, status, net_cents) in its order: no sort, and a customer's
    # days arrive in order, so one pass folds them (a GROUP BY by customer and day would
    # sort 1,000,000 rows twice).
    sql = (
        f"SELECT contact_id, (e + {offset}) / 86400, net_cents FROM (SELECT contact_id, "
        f"ordered_at, {_epoch_sql()} AS e, net_cents FROM sales_order WHERE {where}) a "
        "ORDER BY contact_id, ordered_at"
    )
    epoch_day = date(1970, 1, 1).toordinal()
    end_day = until.toordinal() - epoch_day
    out: list[History] = []

    def close(cid: int, days: int, low: int, high: int, total: int, first_value: int) -> None:
        x = days - 1
        out.append(History(
            cid, x, (high - low) / per, (end_day - low) / per,
            (total - first_value) / x / 100 if x else None,
            date.fromordinal(low + epoch_day), total / days / 100,
        ))  # fmt: skip

    cid = None
    days = low = high = total = first_value = 0
    for who, day, value in db.execute_sql(sql, [*offset_params, before]):
        if who != cid:
            if cid is not None:
                close(cid, days, low, high, total, first_value)
            cid, days, low, high, total, first_value = who, 1, day, day, value, value
            continue
        total += value
        if day != high:
            days, high = days + 1, day
        elif days == 1:
            first_value += value
    if cid is not None:
        close(cid, days, low, high, total, first_value)
    return out


def _epoch_sql() -> str:
    """Whole seconds since 1970 of sales_order.ordered_at (stored naive UTC), as SQL; the
    same truncation as db.epoch."""
    from peewee import SqliteDatabase

    from crmcli.models import database_proxy

    if isinstance(database_proxy.obj, SqliteDatabase):
        return "CAST(strftime('%s', ordered_at) AS INTEGER)"
    return "CAST(FLOOR(EXTRACT(EPOCH FROM ordered_at)) AS BIGINT)"


def _offset_sql(column: str, first: datetime, last: datetime, mark: str) -> tuple[str, list]:
    """SQL for the local time zone's UTC offset in seconds at the instant `column` (seconds
    since 1970), for instants from `first` to `last`: a CASE over the zone's changes."""
    zone = local_tz()
    changes: list[tuple[int, int]] = []  # (first second of an offset, the offset)
    moment = first.astimezone(zone)
    current = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]
    step = timedelta(hours=6)
    t = first
    while t <= last + step:
        nxt = t + step
        off = int(nxt.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        if off != current:
            lo, hi = t, nxt  # the change lies in (lo, hi]: find its second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                m_off = int(mid.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
                lo, hi = (lo, mid) if m_off != current else (mid, hi)
            changes.append((int(hi.timestamp()), off))
            current = off
        t = nxt
    base = int(first.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
    if not changes:
        return str(base), []
    sql = "CASE " + " ".join(f"WHEN {column} < {mark} THEN {{}}" for _ in changes)
    offsets = [base, *(off for _, off in changes[:-1])]
    sql = sql.format(*offsets) + f" ELSE {changes[-1][1]} END"
    return sql, [at for at, _ in changes]


def clv_report(*, until: date, unit: str = "weeks", horizon: float = 52) -> dict:
    """Fit BG/NBD and Gamma-Gamma to every customer's history up to `until`; per customer the
    chance they are still active, their expected purchases and spend per purchase over the
    next `horizon` units, and the product of the two (predicted CLV, net, undiscounted).
    Where Gamma-Gamma cannot say (no fit, or q ≤ 1) the spend per purchase is the customer's
    own mean order value, and `spend_note` says why."""
    if horizon <= 0:
        raise Invalid("horizon", "must be more than 0")
    people = histories(until, unit)
    repeaters = [h for h in people if h.x > 0]
    if len(people) < 2 or not repeaters:
        raise Invalid(None, "too little history to fit: the model needs customers who bought again")
    model = clv.fit_bgnbd((h.x, h.t_x, h.T) for h in people)
    spend, note = None, None
    if len({h.repeat_mean for h in repeaters}) > 1:
        spend = clv.fit_gamma_gamma((h.x, h.repeat_mean or 0.0) for h in repeaters)
        if spend.q <= 1:
            # The fit is sound but its population mean spend, p·gamma/(q − 1), is unbounded:
            # customers' order values differ far more between them than each one's does
            # (a few buy machines, most buy coffee), so q ends up at 1 or below.
            note = (f"q {spend.q:.2f} ≤ 1 (order values vary too widely between customers "
                    "for a mean spend): each customer's own mean order value is used")  # fmt: skip
            spend = None
    else:
        note = "too few distinct repeat order values to fit: each customer's own mean order "
        note += "value is used"
    names = contact_names([h.contact_id for h in people])
    rows: list[dict] = []
    for h in people:
        alive = clv.p_alive(model, h.x, h.t_x, h.T)
        expected = clv.expected_purchases(model, horizon, h.x, h.t_x, h.T)
        value = clv.expected_value(spend, h.x, h.repeat_mean) if spend else h.mean_value
        rows.append({
            "contact_id": h.contact_id, "contact": names.get(h.contact_id),
            "x": h.x, "t_x": round(h.t_x, 4), "T": round(h.T, 4),
            "p_alive": _ratio(alive), "expected_purchases": _ratio(expected),
            "expected_value": None if value is None else _cents(value * 100),
            "clv": None if value is None else _cents(expected * value * 100),
        })  # fmt: skip
    rows.sort(key=lambda r: (-(r["clv"] or 0), -r["expected_purchases"], r["contact_id"]))
    return {
        "until": until, "unit": unit, "horizon": horizon, "customers": len(people),
        "repeat_customers": len(repeaters),
        "bgnbd": {k: round(v, 6) for k, v in model._asdict().items()},
        "gamma_gamma": None if spend is None
        else {k: round(v, 6) for k, v in spend._asdict().items()},
        "spend_note": note,
        "rows": rows,
    }  # fmt: skip


def contact_names(ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        out.update(Contact.select(Contact.id, Contact.name).where(Contact.id.in_(part)).tuples())
    return out


def margin_cents(revenue: int, cost: int, uncosted_net: int, uncosted: int, lines: int):
    """The margin over the lines whose cost is known: revenue less the net of the goods lines
    without a purchase price, less the cost; None when no goods line has a purchase price."""
    if lines and uncosted >= lines:
        return None
    return revenue - uncosted_net - cost


def known_cost(cost: int, uncosted: int, lines: int) -> int | None:
    """The cost where it is known: None when no goods line has a purchase price, as the
    margin (margin_cents) is then; 0 would read as goods that cost nothing."""
    return None if lines and uncosted >= lines else cost


def _group_totals(rows: list[dict], key: str) -> list[dict]:
    groups: dict = defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0])
    for r in rows:
        g = groups[r[key]]
        g[0] += 1
        g[1] += r["orders"]
        g[2] += r["revenue_cents"]
        g[3] += r["cost_cents"]
        for i, part in enumerate(r["_lines"], start=4):
            g[i] += part
    return [
        {key: name, "customers": n, "orders": orders, "revenue": _money(cents),
         "average_order": _money(round(cents / orders)) if orders else None,
         "cost": _money(known_cost(cost, unc, lines)),
         "margin": _money(margin_cents(cents, cost, unet, unc, lines)), "uncosted_lines": unc}
        for name, (n, orders, cents, cost, unet, unc, lines) in sorted(
            groups.items(), key=lambda item: (-item[1][2], str(item[0]))
        )
    ]  # fmt: skip


def _goods_costs(since: datetime | None, until: datetime | None, group) -> dict:
    """{group value: (goods cost, net of the goods lines without a purchase price, how many
    of those, goods lines)} of the purchases, in cents; shipping lines are no goods."""
    from crmcli.services.orders import LINE_COST, NOT_SHIPPING

    uncosted = LINE_COST.is_null() & NOT_SHIPPING
    query = (
        OrderLine.select(
            group, fn.SUM(fn.COALESCE(LINE_COST, 0)),
            fn.SUM(Case(None, [(uncosted, OrderLine.net_cents)], 0)),
            fn.SUM(Case(None, [(uncosted, 1)], 0)), fn.SUM(Case(None, [(NOT_SHIPPING, 1)], 0)),
        )
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & SalesOrder.contact.is_null(False))
    )  # fmt: skip
    if since is not None:
        query = query.where(SalesOrder.ordered_at >= since)
    if until is not None:
        query = query.where(SalesOrder.ordered_at < until)
    return {
        k: (int(c), int(unet), int(unc), int(lines))
        for k, c, unet, unc, lines in query.group_by(group).tuples()
    }


def value_report(*, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Per customer (purchases in [since, until)): orders, net revenue, average order, first
    and last purchase, abandoned carts, and historic CLV (net revenue of every purchase before
    `until`); totals; revenue by product category, lead source and city."""
    period = _purchases(since, until)
    rows = (
        period.select(
            SalesOrder.contact, Contact.name, Contact.city, Contact.source,
            fn.COUNT(SalesOrder.id), fn.SUM(SalesOrder.net_cents),
            fn.MIN(SalesOrder.ordered_at), fn.MAX(SalesOrder.ordered_at),
            fn.SUM(SalesOrder.cost_cents),
        )
        .join(Contact, on=(SalesOrder.contact == Contact.id))
        .group_by(SalesOrder.contact, Contact.name, Contact.city, Contact.source)
        .tuples()
    )  # fmt: skip
    historic = dict(
        _purchases(before=until)
        .select(SalesOrder.contact, fn.SUM(SalesOrder.net_cents))
        .group_by(SalesOrder.contact)
        .tuples()
    )
    carts = SalesOrder.select(SalesOrder.contact, fn.COUNT(SalesOrder.id)).where(
        (SalesOrder.status == "abandoned") & SalesOrder.contact.is_null(False)
    )
    if since is not None:
        carts = carts.where(SalesOrder.ordered_at >= since)
    if until is not None:
        carts = carts.where(SalesOrder.ordered_at < until)
    abandoned = dict(carts.group_by(SalesOrder.contact).tuples())
    goods = _goods_costs(since, until, SalesOrder.contact)
    customers = []
    for cid, name, city, source, orders, cents, first, last, other in rows:
        cents = int(cents)
        goods_cost, *lines = goods.get(cid, (0, 0, 0, 0))
        cost = goods_cost + int(other or 0)
        customers.append({
            "contact_id": cid, "contact": name, "city": city, "source": source,
            "orders": orders, "revenue": _money(cents), "revenue_cents": cents,
            "average_order": _money(round(cents / orders)),
            "first_purchase": _TIME(first), "last_purchase": _TIME(last),
            "abandoned": abandoned.get(cid, 0), "historic_clv": _money(int(historic[cid])),
            "cost": _money(known_cost(cost, *lines[1:])),
            "margin": _money(margin_cents(cents, cost, *lines)),
            "uncosted_lines": lines[1], "cost_cents": cost, "_lines": lines,
        })  # fmt: skip
    customers.sort(key=lambda r: (-r["revenue_cents"], r["contact_id"]))
    orders = sum(r["orders"] for r in customers)
    cents = sum(r["revenue_cents"] for r in customers)
    cost = sum(r["cost_cents"] for r in customers)
    unet, unc, lines = (sum(r["_lines"][i] for r in customers) for i in range(3))
    total = {
        "customers": len(customers), "orders": orders, "revenue": _money(cents),
        "average_order": _money(round(cents / orders)) if orders else None,
        "abandoned": sum(abandoned.values()), "cost": _money(known_cost(cost, unc, lines)),
        "margin": _money(margin_cents(cents, cost, unet, unc, lines)),
        "uncosted_lines": unc, "lines": lines,
    }  # fmt: skip
    by_source = _group_totals(customers, "source")
    by_city = _group_totals(customers, "city")
    for r in customers:
        del r["revenue_cents"], r["cost_cents"], r["_lines"]
    return {
        "total": total, "customers": customers, "by_category": _by_category(since, until),
        "by_source": by_source, "by_city": by_city,
    }  # fmt: skip


def _by_category(since: datetime | None, until: datetime | None) -> list[dict]:
    """Net revenue, goods cost and margin (over the lines with a purchase price) of the order
    lines by their product's category (the product segment; the orders' own costs belong to
    no category)."""
    query = (
        OrderLine.select(
            Product.category, fn.COUNT(fn.DISTINCT(SalesOrder.contact)),
            fn.COUNT(fn.DISTINCT(SalesOrder.id)), fn.SUM(OrderLine.net_cents),
        )
        .join(SalesOrder, on=(OrderLine.order == SalesOrder.id))
        .switch(OrderLine)
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & SalesOrder.contact.is_null(False))
    )  # fmt: skip
    if since is not None:
        query = query.where(SalesOrder.ordered_at >= since)
    if until is not None:
        query = query.where(SalesOrder.ordered_at < until)
    rows = query.group_by(Product.category).tuples()
    goods = _goods_costs(since, until, Product.category)
    out = []
    for cat, n, orders, cents in rows:
        cost, *lines = goods.get(cat, (0, 0, 0, 0))
        out.append({
            "category": cat, "customers": n, "orders": orders, "revenue": _money(int(cents)),
            "cost": _money(known_cost(cost, *lines[1:])),
            "margin": _money(margin_cents(int(cents), cost, *lines)),
            "uncosted_lines": lines[1],
        })  # fmt: skip
    return sorted(out, key=lambda r: (-r["revenue"], str(r["category"])))


def revenue_by_month(since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Net revenue and orders of the purchases in [since, until) by local month, oldest
    first, every month from the first purchase to the last (a month without any: 0). One
    grouped scan in SQL (the months as a CASE tree over ordered_at), a row per month back."""
    from crmcli.db import placeholder
    from crmcli.models import database_proxy
    from crmcli.services.reports import _bucket, _month_starts
    from crmcli.values import to_utc

    db, mark = database_proxy.obj, placeholder()
    statuses = ", ".join(f"'{s}'" for s in PURCHASE_STATUSES)
    where, params = [f"status IN ({statuses})", "contact_id IS NOT NULL"], []
    for value, op in ((since, ">="), (until, "<")):
        if value is not None:
            where.append(f"ordered_at {op} {mark}")
            params.append(SalesOrder.ordered_at.db_value(value))
    first, last = db.execute_sql(
        f"SELECT MIN(ordered_at), MAX(ordered_at) FROM sales_order WHERE {' AND '.join(where)}",
        params,
    ).fetchone()
    if first is None:
        return []
    first, last = _TIME(first), _TIME(last)
    if since is not None:
        first = max(first, to_utc(since))
    periods = _month_starts(first, max(first, last), 1)
    bounds = [SalesOrder.ordered_at.db_value(start) for _, start in periods[1:]]
    key, key_params = _bucket("ordered_at", bounds, mark)
    sql = (
        f"SELECT g, COUNT(*), SUM(net_cents) FROM (SELECT {key} AS g, net_cents "
        f"FROM sales_order WHERE {' AND '.join(where)}) x GROUP BY g"
    )
    found = {g: (n, int(c or 0)) for g, n, c in db.execute_sql(sql, key_params + params)}
    return [
        {"month": label, "orders": found.get(i, (0, 0))[0],
         "revenue": _money(found.get(i, (0, 0))[1])}
        for i, (label, _) in enumerate(periods)
    ]  # fmt: skip
