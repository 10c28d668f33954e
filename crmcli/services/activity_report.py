"""Activity over time: how many timeline entries of each kind fell in each local month."""

from __future__ import annotations

from datetime import datetime, timedelta

from crmcli import db as dialect
from crmcli.models import ACTIVITY_KINDS, Activity, database_proxy
from crmcli.services.periods import check_period
from crmcli.services.reports import _month_starts
from crmcli.values import to_utc


def activity_by_month(since: datetime | None = None, until: datetime | None = None) -> dict:
    """Activities that occurred in [since, until), counted per kind and local month.

    `months`: the month labels (`2026-03`) from the first to the last month of the period
    (without an end, through the latest activity); `kinds`: {kind: [count per month]} for
    every kind that occurred, most entries first; `totals`: {kind: count}. Counted in SQL, a
    month at a time.
    """
    check_period(since, until)
    db = database_proxy.obj
    first, last = db.execute_sql(
        "SELECT (SELECT MIN(occurred_at) FROM activity), (SELECT MAX(occurred_at) FROM activity)"
    ).fetchone()
    if first is None:
        return {"since": since, "until": until, "months": [], "kinds": {}, "totals": {}}
    first = Activity.occurred_at.python_value(first)
    last = Activity.occurred_at.python_value(last)
    if since is not None:
        first = to_utc(since)
    if until is not None:
        last = to_utc(until) - timedelta(microseconds=1)
    if last < first:
        return {"since": since, "until": until, "months": [], "kinds": {}, "totals": {}}
    periods = _month_starts(first, last, 1)
    labels = [label for label, _ in periods]
    mark = dialect.placeholder()
    kinds: dict[str, list[int]] = {}
    # A month at a time: each is a range of the (kind, occurred_at) index per kind, counted
    # in the index alone (one scan that puts each row in its month costs ten times more:
    # 1.0 s against 0.14 s at 1,000,000 activities). Every stored kind is one of
    # ACTIVITY_KINDS (services.activities.check_kind lets no other in).
    known = ", ".join(mark for _ in ACTIVITY_KINDS)
    for i, (_, start) in enumerate(periods):
        low = start if i else since
        high = periods[i + 1][1] if i + 1 < len(periods) else until
        where, params = [f"kind IN ({known})"], list(ACTIVITY_KINDS)
        for value, op in ((low, ">="), (high, "<")):
            if value is not None:
                where.append(f"occurred_at {op} {mark}")
                params.append(Activity.occurred_at.db_value(value))
        sql = f"SELECT kind, COUNT(*) FROM activity WHERE {' AND '.join(where)} GROUP BY kind"
        for kind, n in db.execute_sql(sql, params).fetchall():
            kinds.setdefault(kind, [0] * len(labels))[i] += int(n)
    totals = {k: sum(v) for k, v in kinds.items()}
    order = sorted(kinds, key=lambda k: (-totals[k], k))
    return {
        "since": since,
        "until": until,
        "months": labels,
        "kinds": {k: kinds[k] for k in order},
        "totals": {k: totals[k] for k in order},
    }
