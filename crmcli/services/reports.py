"""Sales reports: the funnel (conversion and time in stage), the pipeline forecast and sales.

Exact and reproducible: money is summed in integer cents and turned into Decimal once; ratios
and days are Decimal, rounded half up at the end (ratios to 4 places, days to 2, money to the
cent). The funnel's heavy lifting is SQL (a few grouped queries, no row per deal reaches
Python); definitions are on each function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from crmcli import db as dialect
from crmcli.errors import Invalid
from crmcli.models import Deal, database_proxy
from crmcli.services import stages as stage_service
from crmcli.services import tallies
from crmcli.services.periods import check_period
from crmcli.values import local_tz, to_utc

SALES_GROUPS = ("month", "quarter", "owner", "source")
_RATIO = Decimal("0.0001")
_DAYS = Decimal("0.01")
_CENT = Decimal("0.01")


def ratio(part: int, whole: int) -> Decimal | None:
    """part / whole to 4 places (half up); None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_RATIO, ROUND_HALF_UP)


def days(seconds: int | Decimal, count: int = 1) -> Decimal | None:
    """seconds / count as days to 2 places (half up); None for no count."""
    if not count:
        return None
    return (Decimal(seconds) / (Decimal(count) * 86400)).quantize(_DAYS, ROUND_HALF_UP)


def money(cents: int) -> Decimal:
    """Cents as an exact Decimal amount to the cent (`Decimal('1234.50')`); front ends format
    it, JSON writes it as the decimal string."""
    return Decimal(int(cents)).scaleb(-2)


def weighted(cents_times_percent: int) -> Decimal:
    """A probability-weighted amount (cents × percent) as Decimal to the cent."""
    return (Decimal(cents_times_percent) / 10000).quantize(_CENT, ROUND_HALF_UP)


def _cohort(
    since: datetime | None, until: datetime | None, currency: str, *, with_currency: bool = True
) -> tuple[str, list]:
    """The WHERE text (on deal `d`) and parameters of the deals a report looks at."""
    mark = dialect.placeholder()
    where, params = ([f"d.currency = {mark}"], [currency]) if with_currency else (["1 = 1"], [])
    if since is not None:
        where.append(f"d.created_at >= {mark}")
        params.append(Deal.created_at.db_value(since))
    if until is not None:
        where.append(f"d.created_at < {mark}")
        params.append(Deal.created_at.db_value(until))
    return " AND ".join(where), params


def _deals_table(since, until, currency) -> tuple[str, str]:
    """How a period's deals are read, and what to group them by to have one row per deal in
    the order they are read (so SQLite needs no sort). On SQLite, a period holding many deals
    is a scan in table order, `deal d NOT INDEXED` by id: the created_at index would jump to
    each deal (SQLite without stat4 cannot tell how many a range holds; the covering index
    counts them quickly). Fewer deals: the index, by created_at and id."""
    if dialect.plans_by_statistics():
        return "deal d", "d.id"
    where, params = _cohort(since, until, currency, with_currency=False)
    db = database_proxy.obj
    inside = db.execute_sql(f"SELECT COUNT(*) FROM deal d WHERE {where}", params).fetchone()[0]
    total = db.execute_sql("SELECT MAX(id) FROM deal").fetchone()[0] or 0
    if inside * 8 > total:
        return dialect.scanned("deal d"), "d.id"
    return "deal d", "d.created_at, d.id"


def _period_sql(since, until, currency: str, process: list[dict]) -> list[tuple[str, list]]:
    """The funnel of a period: the facts of each of its deals from its history (furthest open
    or won stage reached, the lost stages it entered) grouped with its stage and lost reason;
    then its completed stays counted per stage and whole day (see _middles)."""
    where, params = _cohort(since, until, currency)
    table, per_deal = _deals_table(since, until, currency)
    # A won stage counts only while the deal is in it (reopened, the win was undone).
    positions = " ".join(
        f"WHEN {s['id']} THEN "
        + (f"CASE WHEN d.stage_id = {s['id']} THEN {int(s['position'])} END" if s["is_won"]
           else str(int(s["position"])))
        for s in process
        if not s["is_lost"]
    )  # fmt: skip
    lost = [s["id"] for s in process if s["is_lost"]]
    top = f"MAX(CASE c.to_stage_id {positions} END)" if positions else "NULL"
    # Bit i: the deal is in the i-th lost stage now (one reopened is lost no more).
    mask = (
        " + ".join(
            f"MAX(CASE WHEN c.to_stage_id = {sid} AND d.stage_id = {sid} THEN {1 << i} ELSE 0 END)"
            for i, sid in enumerate(lost)
        )
        or "0"
    )
    # Grouped by deal first (in the order read, so SQLite needs no sort), then by the facts:
    # only a few rows reach Python.
    facts = (
        "SELECT top, lost, stage_id, lost_reason, COUNT(*), SUM(amount_cents) FROM ("
        f"SELECT d.id, d.stage_id, d.lost_reason, d.amount_cents, {top} AS top, {mask} AS lost "
        f"FROM {table} LEFT JOIN deal_stage_change c ON c.deal_id = d.id WHERE {where} "
        f"GROUP BY {per_deal}, d.stage_id, d.lost_reason, d.amount_cents{dialect.unmerged()}) x "
        "GROUP BY top, lost, stage_id, lost_reason"
    )
    stays = (
        f"SELECT c.to_stage_id, c.stay_seconds / {tallies.DAY}, COUNT(*) FROM {table} "
        f"JOIN deal_stage_change c ON c.deal_id = d.id WHERE c.stay_seconds IS NOT NULL AND "
        f"{where} GROUP BY c.to_stage_id, c.stay_seconds / {tallies.DAY}"
    )
    return [(facts, params), (stays, params)]


def _tally_sql(currency: str) -> tuple[str, list]:
    mark = dialect.placeholder()
    return (
        "SELECT kind, stage_id, sub, label, deals, cents FROM pipeline_tally "
        f"WHERE currency = {mark} ORDER BY kind, stage_id, sub",
        [currency],
    )


def _stay_buckets(tally: list[tuple]) -> dict[int, list[tuple[int, int]]]:
    """The stays counters (kind "stay") as {stage: [(whole days, stays), ...]} by day."""
    buckets: dict[int, list[tuple[int, int]]] = {}
    for kind, sid, sub, _, deals, _ in tally:
        if kind == "stay":
            buckets.setdefault(sid, []).append((sub, int(deals)))
    return buckets


def _middles(
    buckets: dict[int, list[tuple[int, int]]],
    currency: str,
    period: tuple[str, list] | None = None,
) -> tuple[str, list, dict[int, tuple[int, int]]]:
    """One statement that reads the middle stay(s) of every stage, and per stage its number of
    stays and which ranks are the middle (k, k or k + 1). `buckets` has how many stays of
    each whole day a stage has (sorted by day): the buckets of ranks k and k + 1 are found
    there, and the index on (to_stage, currency, stay_seconds) walks only from the start of
    the first to the end of the second, for a period (`period`: the WHERE on deal `d` and its
    parameters) over its deals' stays. (Unbounded, a walk for a period with one stay in a
    stage would look for a second one through all the stage's later stays.)"""
    mark = dialect.placeholder()
    parts, params, ranks = [], [], {}
    for sid, days_ in buckets.items():
        n = sum(d for _, d in days_)
        k = (n + 1) // 2
        middle = 1 if n % 2 else 2
        ranks[sid] = (n, middle)
        before, i = 0, 0
        while before + days_[i][1] < k:  # buckets sorted by day
            before += days_[i][1]
            i += 1
        first, last = days_[i][0], days_[i][0]
        if before + days_[i][1] < k + middle - 1:  # rank k + 1 is in the next bucket
            last = days_[i + 1][0]
        walk = (
            f"SELECT {sid} AS stage, c.stay_seconds FROM deal_stage_change c "
            f"WHERE c.to_stage_id = {mark} AND c.currency = {mark} "
            f"AND c.stay_seconds >= {mark} AND c.stay_seconds < {mark}"
        )
        step = [sid, currency, first * tallies.DAY, (last + 1) * tallies.DAY]
        if period is not None:
            # CROSS JOIN: SQLite walks the stays index first and looks each deal up.
            walk = walk.replace(" WHERE ", " CROSS JOIN deal d WHERE d.id = c.deal_id AND ")
            walk += f" AND {period[0]}"
            step += period[1]
        parts.append(
            f"SELECT * FROM ({walk} ORDER BY c.stay_seconds LIMIT {middle} OFFSET {mark}) m{sid}"
        )
        params += [*step, k - before - 1]
    return " UNION ALL ".join(parts), params, ranks


def _picked(rows, ranks) -> tuple[dict, dict]:
    """stays {stage: (sum of the middle stay(s), how many)} and {stage: number of stays}."""
    picked: dict[int, list[int]] = {}
    for sid, stay in rows:
        picked.setdefault(sid, []).append(int(stay))
    stays, stays_n = {}, {}
    for sid, (n, middle) in ranks.items():
        stays[sid] = (sum(picked[sid][:middle]), middle)
        stays_n[sid] = n
    return stays, stays_n


def funnel_sql(
    since: datetime | None = None, until: datetime | None = None, currency: str = "EUR"
) -> list[tuple[str, list]]:
    """The statements (SQL and parameters) funnel() runs, so the bench can time them raw.
    All deals (no since/until): the counters, then the middle stays. A period: its deals'
    facts, its stays per day, then the middle stays. The middle stays statement depends on
    the statement before it, which is run here to make it."""
    currency = _currency(currency)
    db = database_proxy.obj
    if since is not None or until is not None:
        facts, per_day = _period_sql(since, until, currency, stage_service.stages())
        buckets = _day_buckets(db.execute_sql(*per_day).fetchall())
        sql, params, _ = _middles(buckets, currency, _cohort(since, until, currency))
        return [facts, per_day] + ([(sql, params)] if sql else [])
    first = _tally_sql(currency)
    tally = db.execute_sql(*first).fetchall()
    sql, params, _ = _middles(_stay_buckets(tally), currency)
    return [first] + ([(sql, params)] if sql else [])


def _day_buckets(rows) -> dict[int, list[tuple[int, int]]]:
    buckets: dict[int, list[tuple[int, int]]] = {}
    for sid, day, n in sorted((int(a), int(b), int(c)) for a, b, c in rows):
        buckets.setdefault(sid, []).append((day, n))
    return buckets


def _from_tally(currency: str, positions: dict[int, int]):
    """tops, lost, stays, stays_n, reasons of all deals, from the counters."""
    db = database_proxy.obj
    tally = db.execute_sql(*_tally_sql(currency)).fetchall()
    per_top: dict[int, list[int]] = {}
    lost, reasons = {}, []
    for kind, sid, sub, label, deals, cents in tally:
        if kind == "reached":
            acc = per_top.setdefault(positions[sid], [0, 0, 0])
            acc[0] += deals
            acc[1] += cents
            acc[2] += deals if sub else 0
        elif kind == "lost":
            lost[sid] = (deals, cents)
        elif kind == "reason":
            reasons.append((label or None, deals, cents))
    tops = [(pos, n, v, w) for pos, (n, v, w) in per_top.items()]
    stays, stays_n = {}, {}
    sql, params, ranks = _middles(_stay_buckets(tally), currency)
    if sql:
        stays, stays_n = _picked(db.execute_sql(sql, params).fetchall(), ranks)
    return tops, lost, stays, stays_n, reasons


def _from_period(since, until, currency: str, process: list[dict]):
    """tops, lost, stays, stays_n, reasons of the deals created in [since, until)."""
    db = database_proxy.obj
    facts, per_day = _period_sql(since, until, currency, process)
    won = {s["id"] for s in process if s["is_won"]}
    lost_ids = [s["id"] for s in process if s["is_lost"]]
    per_top: dict[int, list[int]] = {}
    lost = {sid: [0, 0] for sid in lost_ids}
    per_reason: dict[str | None, list[int]] = {}
    for top, mask, stage_id, reason, n, cents in db.execute_sql(*facts).fetchall():
        cents = int(cents or 0)
        if top is not None:
            acc = per_top.setdefault(int(top), [0, 0, 0])
            acc[0] += n
            acc[1] += cents
            acc[2] += n if stage_id in won else 0
        for i, sid in enumerate(lost_ids):
            if int(mask or 0) >> i & 1:
                lost[sid][0] += n
                lost[sid][1] += cents
        if stage_id in lost_ids:
            acc = per_reason.setdefault(reason, [0, 0])
            acc[0] += n
            acc[1] += cents
    tops = [(pos, n, v, w) for pos, (n, v, w) in per_top.items()]
    reasons = [(reason, n, v) for reason, (n, v) in per_reason.items()]
    stays, stays_n = {}, {}
    buckets = _day_buckets(db.execute_sql(*per_day).fetchall())
    sql, params, ranks = _middles(buckets, currency, _cohort(since, until, currency))
    if sql:
        stays, stays_n = _picked(db.execute_sql(sql, params).fetchall(), ranks)
    lost = {sid: (n, v) for sid, (n, v) in lost.items() if n}
    return tops, lost, stays, stays_n, reasons


def funnel(
    since: datetime | None = None, until: datetime | None = None, *, currency: str = "EUR"
) -> dict:
    """The funnel of the deals created in [since, until) in `currency`.

    Per stage, in process order: `reached`, the deals that got at least that far (a deal that
    reached a later open stage passed this one, skipped or not; a won or lost stage counts
    the deals in it now, so one reopened from it counts there no more); `value`, their
    amount; `conversion_next`, reached of the next open or won stage / reached here;
    `conversion_won`, deals won among those that reached it / reached here; `median_days`,
    the median completed stay in the stage (entered until the deal's next step), with
    `stays` how many there were. `lost_reasons` ranks the reasons of the deals lost now,
    most deals first, then most value.

    All deals: read from the counters kept with every change (services.tallies); a period:
    from its deals, their history and stored stays, grouped in SQL. Both give the same
    figures.
    """
    check_period(since, until)
    currency = _currency(currency)
    process = stage_service.stages()
    if since is None and until is None:
        positions = {s["id"]: s["position"] for s in process}
        tops, lost, stays, stays_n, reasons = _from_tally(currency, positions)
    else:
        tops, lost, stays, stays_n, reasons = _from_period(since, until, currency, process)

    rows = []
    progress = [s for s in process if not s["is_lost"]]
    for s in process:
        if s["is_lost"]:
            n, value = lost.get(s["id"], (0, 0))
            won = 0
        else:
            further = [t for t in tops if t[0] >= s["position"]]
            n = sum(t[1] for t in further)
            value = sum(t[2] or 0 for t in further)
            won = sum(t[3] or 0 for t in further)
        total, middle = stays.get(s["id"], (0, 0))
        rows.append(
            {
                "stage": s["name"],
                "stage_id": s["id"],
                "position": s["position"],
                "probability": s["probability"],
                "is_won": s["is_won"],
                "is_lost": s["is_lost"],
                "reached": n,
                "value": money(value or 0),
                "won": won,
                "conversion_next": None,
                "conversion_won": None if s["is_lost"] else ratio(won, n),
                "median_days": days(total or 0, middle),
                "stays": stays_n.get(s["id"], 0),
            }  # fmt: skip
        )
    by_id = {r["stage_id"]: r for r in rows}
    for here, nxt in zip(progress, progress[1:], strict=False):
        if not here["is_won"]:
            by_id[here["id"]]["conversion_next"] = ratio(
                by_id[nxt["id"]]["reached"], by_id[here["id"]]["reached"]
            )
    lost_total = sum(n for _, n, _ in reasons)
    ranked = sorted(reasons, key=lambda r: (-r[1], -(r[2] or 0), r[0] or ""))
    return {
        "since": since,
        "until": until,
        "currency": currency,
        "deals": sum(t[1] for t in tops),
        "stages": rows,
        "lost_reasons": [
            {
                "reason": reason,
                "deals": n,
                "value": money(v or 0),
                "share": ratio(n, lost_total),
            }
            for reason, n, v in ranked
        ],  # fmt: skip
    }


def _currency(currency: str) -> str:
    code = (currency or "EUR").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise Invalid("currency", f"'{currency}' is not a currency code like EUR")
    return code


def pipeline(*, currency: str = "EUR") -> dict:
    """Open deals in `currency`: per stage their count, value and value weighted by the stage's
    probability; and by expected close month (a forecast; `month` None: no close date)."""
    from peewee import fn

    currency = _currency(currency)
    open_ = [s for s in stage_service.stages() if not (s["is_won"] or s["is_lost"])]
    percent = {s["id"]: s["probability"] for s in open_}
    query = (
        Deal.select(Deal.stage, Deal.expected_close, fn.COUNT(Deal.id), fn.SUM(Deal.amount_cents))
        .where(Deal.stage.in_(list(percent)) & (Deal.currency == currency))
        .group_by(Deal.stage, Deal.expected_close)
        .tuples()
    )
    per_stage: dict[int, list[int]] = {s["id"]: [0, 0, 0] for s in open_}
    per_month: dict[str | None, list[int]] = {}
    for sid, close, n, cents in query:
        cents = int(cents or 0)
        for acc in (per_stage[sid], per_month.setdefault(_month(close), [0, 0, 0])):
            acc[0] += n
            acc[1] += cents
            acc[2] += cents * percent[sid]

    def row(acc: Sequence[int]) -> dict:
        return {"deals": acc[0], "value": money(acc[1]), "weighted": weighted(acc[2])}

    stages_out = [
        {"stage": s["name"], "probability": s["probability"], **row(per_stage[s["id"]])}
        for s in open_
    ]
    months = sorted(per_month, key=lambda m: (m is None, m or ""))
    total = [sum(a[i] for a in per_stage.values()) for i in range(3)]
    # Open deals in other currencies are never added in: how many there are, so a front end
    # can say what the report leaves out.
    others = (
        Deal.select(Deal.currency, fn.COUNT(Deal.id))
        .where(Deal.stage.in_(list(percent)) & (Deal.currency != currency))
        .group_by(Deal.currency)
        .order_by(Deal.currency)
        .tuples()
    )
    return {
        "currency": currency,
        "stages": stages_out,
        "months": [{"month": m, **row(per_month[m])} for m in months],
        "total": row(total),
        "other_currencies": dict(others),
    }


def _month(day) -> str | None:
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


def _month_starts(first: datetime, last: datetime, months: int) -> list[tuple[str, datetime]]:
    """The local-time periods of `months` months (1: months, 3: quarters) from the one holding
    `first` to the one holding `last`: each one's label and the UTC instant it begins."""
    zone = local_tz()
    start = first.astimezone(zone)
    year, month = start.year, start.month - (start.month - 1) % months
    end = last.astimezone(zone)
    out = []
    while (year, month) <= (end.year, end.month):
        label = f"{year:04d}-{month:02d}" if months == 1 else f"{year:04d}-Q{(month - 1) // 3 + 1}"
        out.append((label, _local_start(year, month, zone)))
        month += months
        if month > 12:
            year, month = year + 1, month - 12
    return out


def _local_start(year: int, month: int, zone) -> datetime:
    """The first UTC instant whose local time is in `month` (local midnight of its 1st, or
    where a clock change skips that midnight, the first moment after it)."""
    guess = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)

    def inside(t: datetime) -> bool:
        local = t.astimezone(zone)
        return (local.year, local.month) >= (year, month)

    if inside(guess) and not inside(guess - timedelta(microseconds=1)):
        return guess
    lo, hi = guess - timedelta(days=2), guess + timedelta(days=2)  # lo outside, hi inside
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) / 2
        lo, hi = (lo, mid) if inside(mid) else (mid, hi)
    return hi


def _bucket(column: str, bounds: list, mark: str) -> tuple[str, list]:
    """SQL for the index i of the bucket `column` falls in: bounds[i - 1] <= it < bounds[i]
    (bucket 0 below bounds[0]), as a balanced tree of CASEs: a few comparisons per row."""

    def tree(lo: int, hi: int) -> tuple[str, list]:
        if lo == hi:
            return str(lo), []
        mid = (lo + hi + 1) // 2
        low, low_params = tree(lo, mid - 1)
        high, high_params = tree(mid, hi)
        sql = f"CASE WHEN {column} < {mark} THEN {low} ELSE {high} END"
        return sql, [bounds[mid - 1], *low_params, *high_params]

    return tree(0, len(bounds))


def _cycle_sql() -> str:
    """Seconds from created to closed, truncated like int(timedelta.total_seconds())."""
    return dialect.seconds_between("d.closed_at", "d.created_at")


def sales(
    *,
    by: str = "month",
    since: datetime | None = None,
    until: datetime | None = None,
    currency: str = "EUR",
) -> list[dict]:
    """Deals closed in [since, until) in `currency`, grouped by close month or quarter (local
    time), owner or source: won count and value, average won deal, win rate (won / closed)
    and the mean sales cycle of won deals (created to won, in days). The last row is the total
    (`group` None). Grouped in SQL: one scan, a row per group reaches Python."""
    check_period(since, until)
    if by not in SALES_GROUPS:
        raise Invalid("by", f"'{by}' must be one of {', '.join(SALES_GROUPS)}")
    currency = _currency(currency)
    process = stage_service.stages()
    won_ids = [s["id"] for s in process if s["is_won"]]
    closed_ids = [s["id"] for s in process if s["is_won"] or s["is_lost"]]
    mark = dialect.placeholder()
    db = database_proxy.obj
    where = [
        f"d.stage_id IN ({', '.join(str(i) for i in closed_ids) or 'NULL'})",
        "d.closed_at IS NOT NULL",
        f"d.currency = {mark}",
    ]
    params: list = [currency]
    for value, op in ((since, ">="), (until, "<")):
        if value is not None:
            where.append(f"d.closed_at {op} {mark}")
            params.append(Deal.closed_at.db_value(value))
    labels: list = []
    if by in ("month", "quarter"):
        # Apart, each is one step along the index; together SQLite would scan it.
        first, last = db.execute_sql(
            "SELECT (SELECT MIN(closed_at) FROM deal), (SELECT MAX(closed_at) FROM deal)"
        ).fetchone()
        if first is None:
            return [_sales_row(None, (0, 0, 0, 0))]
        first, last = Deal.closed_at.python_value(first), Deal.closed_at.python_value(last)
        if since is not None:
            first = max(first, to_utc(since))
        if until is not None:
            last = min(last, to_utc(until))
        periods = _month_starts(first, max(first, last), 1 if by == "month" else 3)
        labels = [label for label, _ in periods]
        bounds = [Deal.closed_at.db_value(start) for _, start in periods[1:]]
        key, key_params = _bucket("d.closed_at", bounds, mark)
    else:
        key, key_params = f"d.{by}", []
    won = f"d.stage_id IN ({', '.join(str(i) for i in won_ids) or 'NULL'})"
    # All time: a scan, not the index on stage or closed_at (most deals are closed; a scan
    # reads them in order, an index jumps to each). LIMIT -1 keeps SQLite from merging the
    # inner query into the grouping, which would then sort whole rows instead of four numbers.
    table = dialect.scanned("deal d") if since is None and until is None else "deal d"
    sql = (
        f"SELECT g, SUM(w), COUNT(*) - SUM(w), SUM(w * amount_cents), SUM(cycle) FROM ("
        f"SELECT {key} AS g, CASE WHEN {won} THEN 1 ELSE 0 END AS w, d.amount_cents, "
        f"CASE WHEN {won} THEN {_cycle_sql()} END AS cycle FROM {table} "
        f"WHERE {' AND '.join(where)}{dialect.unmerged()}) x GROUP BY g"
    )
    groups: dict = {}
    for g, *acc in db.execute_sql(sql, key_params + params).fetchall():
        groups[labels[g] if labels else g] = tuple(int(v or 0) for v in acc)
    total = tuple(sum(acc[i] for acc in groups.values()) for i in range(4))
    if by in ("month", "quarter"):
        keys = sorted(groups)
    else:
        keys = sorted(groups, key=lambda k: (-groups[k][2], -groups[k][0], k is None, k or ""))
    return [_sales_row(k, groups[k]) for k in keys] + [_sales_row(None, total)]


def _sales_row(key, acc) -> dict:
    won, lost, cents, cycle = acc
    average = None
    if won:
        average = (Decimal(cents) / won / 100).quantize(_CENT, ROUND_HALF_UP)
    return {
        "group": key, "won": won, "lost": lost, "won_value": money(cents),
        "average_deal": average, "win_rate": ratio(won, won + lost),
        "sales_cycle_days": days(cycle, won),
    }  # fmt: skip
