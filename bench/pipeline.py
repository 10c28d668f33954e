"""Prove the pipeline's speed promises of issue 11 and print them as a Markdown table.

    python bench/pipeline.py [--deals 200000] [--contacts 5000] [--runs 41] [--db PATH] [--check]

1. Builds a database of demo contacts and N deals with their stage histories (crm demo's
   generator: crmcli.demo.fill_demo) in a temporary directory, or reuses `--db PATH` when it
   already holds N deals, and reports how long that took.
2. Times in process, p50/p95: `reports.funnel()` next to the same statements in raw SQL
   (`reports.funnel_sql()`, run on the same connection with fetchall), paired and alternating;
   `deals.list_deals(stage=X, limit=50)`; and, reported only, the funnel of a period (the
   last year and the last 30 days, each next to its raw SQL), `reports.pipeline()` and
   `reports.sales(by=...)` for every grouping.

Targets: funnel p50 ≤ 25 ms and ≤ 2× raw SQL (paired ratio: the median of run-by-run ratios),
list page p50 ≤ 2 ms. A report, not a test: exit code 0 unless the bench breaks, or with
`--check` 1 when a target fails. Progress goes to stderr; stdout is only the Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crmcli import demo  # noqa: E402
from crmcli.db import open_database  # noqa: E402
from crmcli.services import deals, reports, stages  # noqa: E402

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
FUNNEL_MS = 25.0
FUNNEL_RATIO = 2.0
LIST_MS = 2.0


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def series(fn, runs: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        fn()
    return [timed(fn) for _ in range(runs)]


def paired(a, b, runs: int, warm: int = 2) -> tuple[list[float], list[float]]:
    """Alternating runs of a and b, so a busy stretch of the machine hits both."""
    for _ in range(warm):
        a(), b()
    ta, tb = [], []
    for _ in range(runs):
        ta.append(timed(a))
        tb.append(timed(b))
    return ta, tb


def build(db, n_deals: int, n_contacts: int) -> str:
    held = db.execute_sql("SELECT COUNT(*) FROM deal").fetchone()[0]
    if held == n_deals:
        return f"reused ({held:,} deals)"
    log(f"building {n_deals:,} deals for {n_contacts:,} contacts ...")
    start = time.perf_counter()
    demo.fill_demo(contacts=n_contacts, deals=n_deals, activities=0, force=True, now=NOW)
    db.execute_sql("ANALYZE")
    # The build leaves a WAL as large as the database; a used database has it checkpointed.
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return f"built in {time.perf_counter() - start:.0f} s"


def ms(x: float) -> str:
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--contacts", type=int, default=5_000)
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--db", help="build the database here once and reuse it on later runs")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    tmp = None
    if args.db:
        path = args.db
    else:
        tmp = tempfile.TemporaryDirectory(prefix="crm-bench-pipeline-")
        path = os.path.join(tmp.name, "crm.db")
    load = os.getloadavg()
    db = open_database(path)
    how = build(db, args.deals, args.contacts)
    history = db.execute_sql("SELECT COUNT(*) FROM deal_stage_change").fetchone()[0]
    runs = args.runs
    log("timing ...")

    def raw_of(statements):
        def raw():
            for sql, params in statements:
                db.execute_sql(sql, params).fetchall()

        return raw

    f_in, f_raw = paired(reports.funnel, raw_of(reports.funnel_sql()), runs)
    ratios = [a / b for a, b in zip(f_in, f_raw, strict=True)]
    stage = next(s["name"] for s in stages.stages() if not (s["is_won"] or s["is_lost"]))
    listed = series(lambda: deals.list_deals(stage=stage, limit=50), runs * 5)
    periods = {}
    for label, days in (("1 year", 365), ("30 days", 30)):
        since = NOW - timedelta(days=days)
        held = reports.funnel(since=since)["deals"]
        periods[label, held] = paired(
            lambda since=since: reports.funnel(since=since),
            raw_of(reports.funnel_sql(since=since)),
            max(3, runs // 4),
            warm=1,
        )
    pipe = series(reports.pipeline, max(5, runs // 4))
    sales = {
        by: series(lambda by=by: reports.sales(by=by), max(5, runs // 4))
        for by in reports.SALES_GROUPS
    }
    end_load = os.getloadavg()

    p50, p95 = statistics.median(f_in), percentile(f_in, 95)
    r50 = statistics.median(f_raw)
    ratio = statistics.median(ratios)
    l50, l95 = statistics.median(listed), percentile(listed, 95)
    checks = {
        "funnel": p50 <= FUNNEL_MS and ratio <= FUNNEL_RATIO,
        "list": l50 <= LIST_MS,
    }

    def ok(name: str) -> str:
        return "✅" if checks[name] else "❌"

    def times(values: list[float]) -> str:
        return f"{ms(statistics.median(values))} | {ms(percentile(values, 95))}"

    out = [
        f"Pipeline bench: {args.deals:,} deals, {history:,} stage-history rows, database "
        f"{how}; {runs} runs. Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {load[0]:.2f} → {end_load[0]:.2f}.",
        "",
        "| What | p50 | p95 | Raw SQL p50 | Paired ratio | Target | |",
        "|---|---:|---:|---:|---:|---|---|",
        f"| `reports.funnel()` (`crm report funnel`) | {ms(p50)} | {ms(p95)} | {ms(r50)} | "
        f"{ratio:.2f}× | ≤ {FUNNEL_MS:g} ms, ≤ {FUNNEL_RATIO:g}× raw | {ok('funnel')} |",
        f"| `list_deals(stage={stage!r}, limit=50)` | {ms(l50)} | {ms(l95)} | | | "
        f"≤ {LIST_MS:g} ms | {ok('list')} |",
    ]
    for (label, held), (t_in, t_raw) in periods.items():
        pr = statistics.median([a / b for a, b in zip(t_in, t_raw, strict=True)])
        out.append(
            f"| `reports.funnel(since={label} ago)` ({held:,} deals) | {times(t_in)} | "
            f"{ms(statistics.median(t_raw))} | {pr:.2f}× | reported | |"
        )
    out.append(f"| `reports.pipeline()` | {times(pipe)} | | | reported | |")
    for by, values in sales.items():
        out.append(f"| `reports.sales(by={by!r})` | {times(values)} | | | reported | |")
    print("\n".join(out))
    db.close()
    if tmp is not None:
        tmp.cleanup()
    return 1 if args.check and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
