"""Return on investment of campaigns (`crm report roi`): per campaign, keyword, channel or lead
source, what it cost, the leads and customers it brought, their revenue, and when it paid back.

Definitions (every figure in EUR; amounts in other currencies are left out):
- cost: the campaign's cost entries dated in the period (a keyword's entries by keyword; an
  entry without keyword is the "(no keyword)" row of its campaign). Lead sources have no
  costs: costs belong to campaigns.
- leads: contacts attributed to the group, created in the period (by source: contacts with
  that source).
- customers: those leads with a purchase (an order in PURCHASE_STATUSES) or a won deal
  before the period's end; each contact counts once, however many purchases it has.
- revenue (revenue_by_day): the net of purchase orders plus the amounts of won deals that
  carry the group's campaign, ordered or won in the period, each order and each deal once
  (an order or deal takes its contact's campaign when it is recorded without one, see
  services.campaigns; one sale recorded both as a won deal and as an order would count
  twice, so record a sale as one of them). By source: through the contact's source.
- margin (`--margin`, margin_by_day): revenue less each order's own costs (shipping...) and
  its goods at the purchase prices its lines were ordered at (a line without a known
  purchase price at no cost); ROI and payback are then on margin, as the "revenue" figure.
- conversion = customers / leads; cost per lead and per customer; ROI = (revenue - cost) /
  cost.
- payback: the local day from which on cumulative revenue stayed at or above cumulative cost
  (both counted by day, from the start of the period), or not yet, with the amount missing
  at the end of the period.

Everything is summed in SQL (GROUP BY group and day); Python walks the few day totals of
each group once, in order. Orders, the many rows, are summed per group and UTC day along an
index that holds them in that order (no join, no sort: migration 0016), each UTC day's part
after its local midnight apart (services.localdays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crmcli.errors import Invalid
from crmcli.models import PURCHASE_STATUSES, Campaign, CampaignKeyword, Stage, database_proxy
from crmcli.services import localdays
from crmcli.services.periods import check_period
from crmcli.values import cents_money, local_tz

GROUPINGS = ("campaign", "keyword", "channel", "source")
NO_KEYWORD = "(no keyword)"
NO_SOURCE = "(none)"
_FOUR = Decimal("0.0001")
_CENT = Decimal("0.01")

# A day series: {group key: {day: cents}}.
Series = dict[object, dict[date, int]]


_money = cents_money  # integer cents as a Decimal amount


def _ratio(part: int, whole: int) -> Decimal | None:
    return None if not whole else (Decimal(part) / Decimal(whole)).quantize(_FOUR, ROUND_HALF_UP)


def _per(cents: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(cents) / count).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-2)


def _sqlite() -> bool:
    return localdays.is_sqlite()


def _param(moment: datetime):
    """A moment as the driver takes it for a stored naive-UTC datetime column."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(sep=" ") if _sqlite() else naive


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


class _Query:
    """The hand-written SQL of one report: the group's columns, the period, the parameters."""

    def __init__(self, level: str, since, until, campaign_ids):
        self.level = level  # "campaign", "keyword" or "source"
        self.since, self.until = since, until
        self.campaign_ids = campaign_ids
        self.mark = "?" if _sqlite() else "%s"

    def key_sql(self, alias: str, contact: str | None = None) -> str:
        if self.level == "source":
            return f"{contact}.source"
        if self.level == "keyword":
            return f"{alias}.campaign_id, {alias}.keyword_id"
        return f"{alias}.campaign_id"

    def where(self, alias: str, column: str, params: list) -> str:
        parts = []
        if self.level != "source":
            parts.append(f"{alias}.campaign_id IS NOT NULL")
            if self.campaign_ids is not None:
                ids = ", ".join(str(int(i)) for i in self.campaign_ids) or "NULL"
                parts.append(f"{alias}.campaign_id IN ({ids})")
        if self.since is not None:
            parts.append(f"{alias}.{column} >= {self.mark}")
            params.append(_param(self.since))
        if self.until is not None:
            parts.append(f"{alias}.{column} < {self.mark}")
            params.append(_param(self.until))
        return " AND ".join(parts) or "1 = 1"

    def run(self, sql: str, params: Sequence) -> list[tuple]:
        return list(database_proxy.obj.execute_sql(sql, tuple(params)).fetchall())

    def key(self, row: tuple) -> tuple[object, tuple]:
        width = 2 if self.level == "keyword" else 1
        head = row[:width]
        return (head if width == 2 else head[0]), row[width:]


def _won_stage_ids() -> str:
    ids = [i for (i,) in Stage.select(Stage.id).where(Stage.is_won).tuples()]
    return ", ".join(str(i) for i in ids) or "NULL"


def _statuses() -> str:
    return ", ".join(f"'{s}'" for s in PURCHASE_STATUSES)


def _span(q: _Query) -> tuple[date, date]:
    """The local days the revenue of the report can fall on: the period, else the data's."""
    tz = local_tz()
    lo = q.since.astimezone(tz).date() if q.since is not None else None
    hi = q.until.astimezone(tz).date() if q.until is not None else None
    if lo is None or hi is None:
        # Every order's span, not only the attributed ones': two steps in an index each.
        found = q.run(
            "SELECT (SELECT MIN(ordered_at) FROM sales_order), "
            "(SELECT MAX(ordered_at) FROM sales_order), (SELECT MIN(closed_at) FROM deal), "
            "(SELECT MAX(closed_at) FROM deal)",
            (),
        )
        moments = [_moment(v) for row in found for v in row if v is not None]
        if not moments:
            today = datetime.now(UTC).date()
            return lo or today, hi or today
        lo = lo or min(moments).date()
        hi = hi or max(moments).date()
    return lo - timedelta(days=1), hi + timedelta(days=1)


def _moment(value) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value[:19])
    return value


def _order_net(o: str) -> str:
    return f"{o}.net_cents"


def _order_margin(o: str) -> str:
    """What an order earned for margin: its net less its own costs (shipping...) and its
    lines' goods at their purchase prices (a line without a known purchase price counts at
    no cost; goods_cost_cents is the sum of the known ones, kept by triggers: 0016)."""
    return f"{o}.net_cents - {o}.cost_cents - {o}.goods_cost_cents"


# The SQL of an order's value (revenue or margin) for a table alias.
OrderValue = Callable[[str], str]


def revenue_by_day(q: _Query) -> Series:
    """Revenue per group and local day, in cents: purchase orders' net and won deals' amounts
    (EUR), ordered or won in the period. The one place revenue is defined."""
    return _earned_by_day(q, _order_net)


def margin_by_day(q: _Query) -> Series:
    """Margin per group and local day, in cents: as revenue_by_day, but each order less its
    own costs and its goods' purchase costs (deals have no costs recorded: their amount)."""
    return _earned_by_day(q, _order_margin)


def _earned_by_day(q: _Query, order_value: OrderValue) -> Series:
    first, last = _span(q)
    out: Series = {}

    def add(key, day: date, cents: int) -> None:
        days = out.setdefault(key, {})
        days[day] = days.get(day, 0) + cents

    cuts = localdays.utc_day_cuts(first, last)
    if cuts is not None:
        _orders_by_utc_day(q, order_value, cuts, out)
    else:
        for key, day, cents in _orders_by_local_day(q, order_value, first, last):
            add(key, day, cents)
    params: list = []
    if q.level == "source":
        deal_from = "deal d LEFT JOIN contact c ON c.id = d.contact_id"
        deal_key = "COALESCE(c.source, d.source)"
    else:
        deal_from, deal_key = "deal d", q.key_sql("d")
    deal_day = localdays.local_day_sql("d.closed_at", first, last)
    where_d = q.where("d", "closed_at", params)
    for row in q.run(
        f"SELECT {deal_key}, {deal_day}, SUM(d.amount_cents) FROM {deal_from} "
        f"WHERE {where_d} AND d.stage_id IN ({_won_stage_ids()}) AND d.currency = 'EUR' "
        f"GROUP BY {deal_key}, {deal_day}",
        params,
    ):
        key, (day, cents) = q.key(row)
        add(key, _day(day), int(cents))
    return out


def _order_group(q: _Query) -> list[str]:
    """The grouped columns of the orders: on SQLite by keyword for campaigns too, the index's
    order (a campaign's figures are then its keywords' summed; PostgreSQL hashes the groups
    it is asked for); by source the contact's, which the order carries (migration 0016)."""
    if q.level == "source":
        return ["source"]
    return (
        ["campaign_id"]
        if q.level == "campaign" and not _sqlite()
        else ["campaign_id", "keyword_id"]
    )


def _order_filter(q: _Query, o: str, params: list) -> str:
    """Which orders of table alias `o` count: purchases in EUR in the period (and the group)."""
    where = q.where(o, "ordered_at", params)
    if q.level == "source":  # an order without contact has no source to count under
        where = f"{o}.contact_id IS NOT NULL AND {where}"
    return f"{where} AND {o}.status IN ({_statuses()}) AND {o}.currency = 'EUR'"


def _order_key(q: _Query, head: tuple):
    return head if q.level == "keyword" else head[0]


def _orders_by_utc_day(q: _Query, value: OrderValue, cuts: localdays.Cuts, out: Series) -> None:
    """Add the purchase orders to `out` by group and local day: summed per group and UTC day
    along an index in that order (no sort), the part from the day's local midnight on apart."""
    columns = _order_group(q)
    width = len(columns)
    params: list = []
    if not _sqlite():  # a hash aggregate, the part after the cut summed row by row
        key = ", ".join(f"o.{c}" for c in columns)
        utc_day = localdays.utc_day_sql("o.ordered_at")
        cut = localdays.cut_sql("o.ordered_at", cuts)
        late = (
            f"SUM(CASE WHEN CAST(o.ordered_at AS TIME) >= {cut} THEN {value('o')} ELSE 0 END)"
            if cut
            else "0"
        )
        where = _order_filter(q, "o", params)
        sql = (
            f"SELECT {key}, {utc_day}, SUM({value('o')}), {late} FROM sales_order o "
            f"WHERE {where} GROUP BY {key}, {utc_day}"
        )
    else:
        # The index in the grouped order (0016), also when a period would tempt the planner
        # to the index on ordered_at and a sort. The part after the cut is a short range of
        # that index per group and day, not an expression evaluated on every row.
        index = f"INDEXED BY sales_order_roi_{'source' if width == 1 else 'campaign'}"
        cut = localdays.cut_sql("g.day", cuts)
        late = "0"
        if cut:
            same = " AND ".join(f"o2.{c} IS g.g{i}" for i, c in enumerate(columns))
            where = _order_filter(q, "o2", params)
            late = (
                f"(SELECT SUM({value('o2')}) FROM sales_order o2 {index} WHERE {same} "
                f"AND substr(o2.ordered_at, 1, 10) = g.day "
                f"AND o2.ordered_at >= g.day || ' ' || {cut} AND {where})"
            )
        key = ", ".join(f"o.{c} AS g{i}" for i, c in enumerate(columns))
        groups = ", ".join(f"g{i}" for i in range(width))
        where = _order_filter(q, "o", params)
        sql = (
            f"SELECT {groups}, g.day, g.total, {late} FROM (SELECT {key}, "
            f"substr(o.ordered_at, 1, 10) AS day, SUM({value('o')}) AS total "
            f"FROM sales_order o {index} WHERE {where} GROUP BY {groups}, day) g"
        )
    # Tens of thousands of rows (by keyword): the loop is kept plain.
    local_days: dict[object, tuple[date, date, time | None]] = {}
    for day, parts in cuts.items():
        local_days[day] = local_days[day.isoformat()] = parts  # SQLite gives the day as text
    keyword = q.level == "keyword"
    for row in q.run(sql, params):
        group = row[:2] if keyword else row[0]
        before_cut, from_cut, _ = local_days[row[width]]
        cents, after = int(row[width + 1]), int(row[width + 2] or 0)
        days = out.get(group)
        if days is None:
            days = out[group] = {}
        if cents != after or not after:  # a day of 0 is a day too: its group is in the report
            days[before_cut] = days.get(before_cut, 0) + cents - after
        if after:
            days[from_cut] = days.get(from_cut, 0) + after


def _orders_by_local_day(q: _Query, value: OrderValue, first: date, last: date):
    """As _orders_by_utc_day, for zones whose UTC days that cannot take: by each row's local
    day (sorts every row)."""
    params: list = []
    columns = _order_group(q)
    key = ", ".join(f"o.{c}" for c in columns)
    day = localdays.local_day_sql("o.ordered_at", first, last)
    where = _order_filter(q, "o", params)
    for row in q.run(
        f"SELECT {key}, {day}, SUM({value('o')}) FROM sales_order o WHERE {where} "
        f"GROUP BY {key}, {day}",
        params,
    ):
        yield _order_key(q, row[: len(columns)]), _day(row[len(columns)]), int(row[-1])


def cost_by_day(q: _Query) -> Series:
    """Cost entries per group and day, in cents (no costs by source)."""
    if q.level == "source":
        return {}
    params: list = []
    parts = ["1 = 1"]
    if q.campaign_ids is not None:
        parts.append(
            f"k.campaign_id IN ({', '.join(str(int(i)) for i in q.campaign_ids) or 'NULL'})"
        )
    tz = local_tz()
    if q.since is not None:
        parts.append(f"k.spent_on >= {q.mark}")
        params.append(_first_day(q.since.astimezone(tz)))
    if q.until is not None:
        parts.append(f"k.spent_on < {q.mark}")
        params.append(_first_day(q.until.astimezone(tz)))
    key = q.key_sql("k")
    rows = q.run(
        f"SELECT {key}, k.spent_on, SUM(k.amount_cents) FROM campaign_cost k "
        f"WHERE {' AND '.join(parts)} GROUP BY {key}, k.spent_on",
        params,
    )
    out: Series = {}
    for row in rows:
        group, (day, cents) = q.key(row)
        out.setdefault(group, {})[_day(day)] = int(cents)
    return out


def _first_day(local: datetime) -> date:
    """The first whole local day from `local` on (a period starts and ends at local days)."""
    day = local.date()
    return day if local.time() == time() else day + timedelta(days=1)


def leads_and_customers(q: _Query) -> dict[object, tuple[int, int]]:
    """Per group: (leads, customers), see the module's definitions."""
    params: list = []
    where = q.where("c", "created_at", params)
    order_end = deal_end = ""
    if q.until is not None:
        order_end = f" AND o.ordered_at < {q.mark}"
        deal_end = f" AND d.closed_at < {q.mark}"
    bought = (
        f"EXISTS (SELECT 1 FROM sales_order o WHERE o.contact_id = c.id "
        f"AND o.status IN ({_statuses()}){order_end})"
    )
    won = (
        f"EXISTS (SELECT 1 FROM deal d WHERE d.contact_id = c.id "
        f"AND d.stage_id IN ({_won_stage_ids()}){deal_end})"
    )
    if q.until is not None:
        params = [_param(q.until), _param(q.until), *params]
    key = q.key_sql("c", "c")
    rows = q.run(
        f"SELECT {key}, COUNT(*), SUM(CASE WHEN {bought} OR {won} THEN 1 ELSE 0 END) "
        f"FROM contact c WHERE {where} GROUP BY {key}",
        params,
    )
    out = {}
    for row in rows:
        group, (leads, customers) = q.key(row)
        out[group] = (int(leads), int(customers or 0))
    return out


def payback(costs: dict[date, int], revenue: dict[date, int]) -> tuple[date | None, int, int, int]:
    """One ordered pass over the days: (the day from which on cumulative revenue stayed at or
    above cumulative cost, or None; the amount still missing at the end, in cents; the total
    cost; the total revenue). Without any cost there is nothing to pay back (None, 0)."""
    cost_sum = revenue_sum = 0
    since: date | None = None
    for day in sorted(costs.keys() | revenue.keys()):
        cost_sum += costs.get(day, 0)
        revenue_sum += revenue.get(day, 0)
        if revenue_sum < cost_sum:
            since = None
        elif since is None and cost_sum > 0:
            since = day
    missing = max(cost_sum - revenue_sum, 0)
    return since, missing, cost_sum, revenue_sum


def empty_figures() -> dict:
    return _figures({}, {}, 0, 0, has_costs=True)


def _figures(costs: dict, revenue: dict, leads: int, customers: int, *, has_costs: bool) -> dict:
    since, missing, cost, earned = payback(costs, revenue)
    paid_back = since is not None
    return {
        "cost": _money(cost) if has_costs else None,
        "leads": leads,
        "customers": customers,
        "conversion": _ratio(customers, leads),
        "revenue": _money(earned),
        "cost_per_lead": _per(cost, leads) if has_costs else None,
        "cost_per_customer": _per(cost, customers) if has_costs else None,
        "roi": _ratio(earned - cost, cost) if has_costs else None,
        "paid_back": paid_back if has_costs and cost else None,
        "payback_on": since,
        "missing": _money(missing) if has_costs and cost and not paid_back else None,
    }


def _merge(series: Series, into: Callable[[object], object]) -> Series:
    out: Series = {}
    for key, days in series.items():
        merged = out.setdefault(into(key), {})
        for day, cents in days.items():
            merged[day] = merged.get(day, 0) + cents
    return out


def roi_report(
    *,
    by: str = "campaign",
    since: datetime | None = None,
    until: datetime | None = None,
    campaign_ids: Sequence[int] | None = None,
    margin: bool = False,
) -> dict:
    """The ROI report: per group (see GROUPINGS) cost, leads, customers, conversion, revenue,
    cost per lead and customer, ROI and payback (the module says how each is counted), the
    groups by revenue minus cost, best first, and the total. With `margin`, "revenue" is the
    margin (margin_by_day): ROI and payback on what the sales earned after their costs."""
    revenue: Callable[[_Query], Series] = margin_by_day if margin else revenue_by_day
    if by not in GROUPINGS:
        raise Invalid("by", f"'{by}' is not one of {', '.join(GROUPINGS)}")
    check_period(since, until)
    level = {"channel": "campaign"}.get(by, by)
    q = _Query(level, since, until, campaign_ids)
    costs, earned, people = cost_by_day(q), revenue(q), leads_and_customers(q)
    campaigns = {
        cid: (name, channel)
        for cid, name, channel in Campaign.select(Campaign.id, Campaign.name, Campaign.channel)
        .where(True if campaign_ids is None else Campaign.id.in_(list(campaign_ids)))
        .tuples()
    }
    keywords = (
        dict(CampaignKeyword.select(CampaignKeyword.id, CampaignKeyword.keyword).tuples())
        if by == "keyword"
        else {}
    )
    if by == "channel":

        def channel(cid):
            return campaigns[cid][1] if cid in campaigns else "other"

        costs, earned = _merge(costs, channel), _merge(earned, channel)
        merged_people: dict = {}
        for cid, (leads, customers) in people.items():
            was = merged_people.get(channel(cid), (0, 0))
            merged_people[channel(cid)] = (was[0] + leads, was[1] + customers)
        people = merged_people
    keys = set(costs) | set(earned) | set(people)
    if by == "campaign":
        keys |= set(campaigns)  # every campaign shows, those without figures too
    groups = []
    for key in keys:
        leads, customers = people.get(key, (0, 0))
        row = {"group": _label(by, key, campaigns, keywords), **_ids(by, key, campaigns)}
        row.update(
            _figures(costs.get(key, {}), earned.get(key, {}), leads, customers,
                     has_costs=by != "source")
        )  # fmt: skip
        groups.append(row)
    groups.sort(
        key=lambda r: (-((r["revenue"] or 0) - (r["cost"] or 0)), str(r["group"]).casefold())
    )
    total_costs = _merge(costs, lambda _: None).get(None, {})
    total_revenue = _merge(earned, lambda _: None).get(None, {})
    total = _figures(
        total_costs, total_revenue, sum(r["leads"] for r in groups),
        sum(r["customers"] for r in groups), has_costs=by != "source",
    )  # fmt: skip
    report: dict[str, Any] = {
        "by": by, "basis": "margin" if margin else "revenue", "since": since, "until": until,
        "currency": "EUR",
        "groups": groups, "total": total,
    }  # fmt: skip
    if margin:
        report["products_without_cost"] = products_without_cost()
    return report


def products_without_cost() -> int:
    """How many products were sold on lines without a cost of their own and have no purchase
    price: on margin those lines count as earned in full (what the ROI report can say, at
    the cost of a look-up per product rather than a pass over every line)."""
    cursor = database_proxy.execute_sql(
        "SELECT COUNT(*) FROM product p WHERE p.cost_cents IS NULL AND EXISTS "
        "(SELECT 1 FROM order_line l WHERE l.product_id = p.id AND l.cost_cents IS NULL)"
    )
    return int(cursor.fetchone()[0])


def _label(by: str, key, campaigns: dict, keywords: dict) -> str:
    if by == "source":
        return key if key else NO_SOURCE
    if by == "channel":
        return str(key)
    if by == "keyword":
        cid, kid = key
        name = campaigns.get(cid, (f"#{cid}", ""))[0]
        return f"{name}: {keywords.get(kid, NO_KEYWORD) if kid is not None else NO_KEYWORD}"
    return campaigns.get(key, (f"#{key}", ""))[0]


def _ids(by: str, key, campaigns: dict) -> dict:
    if by == "campaign":
        return {"campaign_id": key, "channel": campaigns.get(key, ("", None))[1]}
    if by == "keyword":
        return {"campaign_id": key[0], "keyword_id": key[1]}
    return {}


def figures(*, campaign_ids: Sequence[int]) -> dict[int, dict]:
    """All-time figures of these campaigns by id (list and card of campaigns)."""
    if not campaign_ids:
        return {}
    report = roi_report(by="campaign", campaign_ids=campaign_ids)
    return {
        r["campaign_id"]: {
            k: v for k, v in r.items() if k not in ("group", "campaign_id", "channel")
        }
        for r in report["groups"]
    }
