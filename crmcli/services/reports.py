"""Sales reports: the funnel (conversion and time in stage), the pipeline forecast and sales.

Exact and reproducible: money is summed in integer cents and turned into Decimal once; ratios
and days are Decimal, rounded half up at the end (ratios to 4 places, days to 2, money to the
cent). The funnel's heavy lifting is SQL (a few grouped queries, no row per deal reaches
Python); definitions are on each function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from crmcli.errors import Invalid
from crmcli.models import Deal, Stage, database_proxy
from crmcli.services import stages as stage_service
from crmcli.values import local_tz, money_str

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


def weighted(cents_times_percent: int) -> str:
    """A probability-weighted amount (cents × percent) as a decimal string of euros."""
    value = (Decimal(cents_times_percent) / 10000).quantize(_CENT, ROUND_HALF_UP)
    return f"{value:.2f}"


def _sqlite() -> bool:
    from peewee import SqliteDatabase

    return isinstance(database_proxy.obj, SqliteDatabase)


def _epoch(column: str) -> str:
    """Whole seconds since 1970 of a stored (naive UTC) datetime column, as SQL text."""
    if _sqlite():
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


def _cohort(since: datetime | None, until: datetime | None, currency: str) -> tuple[str, list]:
    """The WHERE text (on deal `d`) and parameters of the deals a report looks at."""
    mark = "?" if _sqlite() else "%s"
    where, params = [f"d.currency = {mark}"], [currency]
    if since is not None:
        where.append(f"d.created_at >= {mark}")
        params.append(Deal.created_at.db_value(since))
    if until is not None:
        where.append(f"d.created_at < {mark}")
        params.append(Deal.created_at.db_value(until))
    return " AND ".join(where), params


def funnel_sql(
    since: datetime | None = None, until: datetime | None = None, currency: str = "EUR"
) -> list[tuple[str, list]]:
    """The funnel's three queries (SQL and parameters): furthest stage reached per deal,
    lost stages entered, and the median stay per stage. Public so the bench can time them raw."""
    where, params = _cohort(since, until, currency)
    reached = (
        "SELECT t.top, COUNT(*), SUM(d.amount_cents), "
        "SUM(CASE WHEN cs.is_won THEN 1 ELSE 0 END) "
        "FROM (SELECT c.deal_id AS deal, MAX(s.position) AS top FROM deal_stage_change c "
        "JOIN stage s ON s.id = c.to_stage_id JOIN deal d ON d.id = c.deal_id "
        f"WHERE NOT s.is_lost AND {where} GROUP BY c.deal_id) t "
        "JOIN deal d ON d.id = t.deal JOIN stage cs ON cs.id = d.stage_id GROUP BY t.top"
    )
    lost = (
        "SELECT x.stage, COUNT(*), SUM(d.amount_cents) FROM (SELECT DISTINCT c.deal_id AS deal, "
        "c.to_stage_id AS stage FROM deal_stage_change c JOIN stage s ON s.id = c.to_stage_id "
        f"JOIN deal d ON d.id = c.deal_id WHERE s.is_lost AND {where}) x "
        "JOIN deal d ON d.id = x.deal GROUP BY x.stage"
    )
    # A stay runs from entering a stage to the deal's next step; stays still running count
    # not (their length is not known yet). Median: the middle one, or the mean of the two.
    at = _epoch("c.changed_at")
    stays = (
        "WITH h AS (SELECT c.to_stage_id AS stage, "
        f"LEAD({at}) OVER (PARTITION BY c.deal_id ORDER BY c.changed_at, c.id) - {at} AS d "
        f"FROM deal_stage_change c JOIN deal d ON d.id = c.deal_id WHERE {where}), "
        "r AS (SELECT stage, d, ROW_NUMBER() OVER (PARTITION BY stage ORDER BY d) AS rn, "
        "COUNT(*) OVER (PARTITION BY stage) AS n FROM h WHERE d IS NOT NULL) "
        "SELECT stage, SUM(d), COUNT(*), MAX(n) FROM r "
        "WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY stage"
    )
    reasons = (
        "SELECT d.lost_reason, COUNT(*), SUM(d.amount_cents) FROM deal d "
        f"JOIN stage s ON s.id = d.stage_id WHERE s.is_lost AND {where} GROUP BY d.lost_reason"
    )
    return [(reached, params), (lost, params), (stays, params), (reasons, params)]


def funnel(
    since: datetime | None = None, until: datetime | None = None, *, currency: str = "EUR"
) -> dict:
    """The funnel of the deals created in [since, until) in `currency`.

    Per stage, in process order: `reached`, the deals that got at least that far (a deal that
    reached a later open or won stage passed this one, skipped or not; a lost stage counts
    the deals that entered it); `value`, their amount; `conversion_next`, reached of the next
    open or won stage / reached here; `conversion_won`, deals won among those that reached
    it / reached here; `median_days`, the median completed stay in the stage (entered until
    the deal's next step), with `stays` how many there were. `lost_reasons` ranks the reasons
    of the deals lost now, most deals first, then most value.
    """
    currency = _currency(currency)
    db = database_proxy.obj
    reached_q, lost_q, stays_q, reasons_q = funnel_sql(since, until, currency)
    tops = db.execute_sql(*reached_q).fetchall()
    lost = {sid: (n, v) for sid, n, v in db.execute_sql(*lost_q).fetchall()}
    stay_rows = db.execute_sql(*stays_q).fetchall()
    stays = {sid: (int(total), middle) for sid, total, middle, _ in stay_rows}
    stays_n = {sid: n for sid, _, _, n in stay_rows}
    reasons = db.execute_sql(*reasons_q).fetchall()

    rows = []
    process = stage_service.stages()
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
                "value": money_str(int(value or 0)),
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
                "value": money_str(int(v or 0)),
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
        return {"deals": acc[0], "value": money_str(acc[1]), "weighted": weighted(acc[2])}

    stages_out = [
        {"stage": s["name"], "probability": s["probability"], **row(per_stage[s["id"]])}
        for s in open_
    ]
    months = sorted(per_month, key=lambda m: (m is None, m or ""))
    total = [sum(a[i] for a in per_stage.values()) for i in range(3)]
    return {
        "currency": currency,
        "stages": stages_out,
        "months": [{"month": m, **row(per_month[m])} for m in months],
        "total": row(total),
    }


def _month(day) -> str | None:
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


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
    (`group` None)."""
    if by not in SALES_GROUPS:
        raise Invalid("by", f"'{by}' must be one of {', '.join(SALES_GROUPS)}")
    currency = _currency(currency)
    query = (
        Deal.select(
            Deal.closed_at,
            Deal.created_at,
            Deal.owner,
            Deal.source,
            Deal.amount_cents,
            Stage.is_won,
        )  # fmt: skip
        .join(Stage, on=(Deal.stage == Stage.id))
        .where(
            (Stage.is_won | Stage.is_lost)
            & Deal.closed_at.is_null(False)
            & (Deal.currency == currency)
        )
    )
    if since is not None:
        query = query.where(Deal.closed_at >= since)
    if until is not None:
        query = query.where(Deal.closed_at < until)
    groups: dict = {}
    total = [0, 0, 0, 0]  # won, lost, won cents, cycle seconds of won deals
    zone = local_tz()
    for closed, created, owner, source, cents, won in query.tuples():
        local = closed.astimezone(zone)
        key = {
            "month": f"{local.year:04d}-{local.month:02d}",
            "quarter": f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}",
            "owner": owner,
            "source": source,
        }[by]
        for acc in (groups.setdefault(key, [0, 0, 0, 0]), total):
            if won:
                acc[0] += 1
                acc[2] += cents
                acc[3] += int((closed - created).total_seconds())
            else:
                acc[1] += 1

    def row(key, acc) -> dict:
        won, lost, cents, cycle = acc
        average = None
        if won:
            average = f"{(Decimal(cents) / won / 100).quantize(_CENT, ROUND_HALF_UP):.2f}"
        return {
            "group": key, "won": won, "lost": lost, "won_value": money_str(cents),
            "average_deal": average, "win_rate": ratio(won, won + lost),
            "sales_cycle_days": days(cycle, won),
        }  # fmt: skip

    if by in ("month", "quarter"):
        keys = sorted(groups)
    else:
        keys = sorted(groups, key=lambda k: (-groups[k][2], -groups[k][0], k is None, k or ""))
    return [row(k, groups[k]) for k in keys] + [row(None, total)]
