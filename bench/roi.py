"""`crm report roi` over 100,000 contacts and 1,000,000 orders: target 1 s (issue 19).

    env -u PYTHONDONTWRITEBYTECODE python bench/roi.py [--contacts 100000] [--orders 1000000]
                                                       [--runs 5] [--db PATH] [--check]

Builds a SQLite database (a temporary one unless --db names one that holds the data already):
ten campaigns with keywords and two years of monthly costs, the contacts (40 % attributed to
a campaign and keyword), the orders (of random contacts over two years, 85 % of a purchase
status, attributed as their contact is) and a few thousand won deals, written with plain SQL
for speed. Then times the whole `crm report roi` process (-o json, median of --runs) for each
--by, and prints a Markdown table. Exit 0 unless the bench breaks, or with --check 1 when the
target is missed.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_SCRIPT = Path(sys.executable).with_name("crm")
CRM = [sys.executable, str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "crmcli"]
TARGET_S = 1.0
NOW = datetime(2026, 11, 23, 9, 0)


def _filler(conn, table: str, given: dict) -> tuple[list[str], list]:
    """The columns to insert: the given ones plus every NOT NULL column without a default."""
    extra = {}
    for _, name, kind, notnull, default, pk in conn.execute(f'PRAGMA table_info("{table}")'):
        if name in given or pk or not notnull or default is not None:
            continue
        extra[name] = 0 if kind.upper() in ("INTEGER", "BIGINT", "SMALLINT") else ""
    return [*given, *extra], list(extra.values())


def _insert(conn, table: str, columns: list[str], rows) -> None:
    cols, tail = _filler(conn, table, dict.fromkeys(columns))
    marks = ", ".join("?" for _ in cols)
    sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({marks})'
    conn.executemany(sql, (tuple(r) + tuple(tail) for r in rows))


def build(path: Path, contacts: int, orders: int) -> None:
    from crmcli import db as dbmod

    dbmod.open_database(str(path)).close()
    rng = random.Random(19)
    conn = sqlite3.connect(path)
    start = NOW - timedelta(days=730)
    stamp = NOW.isoformat(sep=" ")
    channels = ("search ads", "social", "newsletter", "print", "trade fair")
    campaigns = [(i, f"Kampagne {i}", channels[i % 5]) for i in range(1, 11)]
    _insert(conn, "campaign", ["id", "name", "name_fold", "channel", "created_at", "updated_at"],
            [(i, n, n.lower(), ch, stamp, stamp) for i, n, ch in campaigns])  # fmt: skip
    keywords = [(c * 10 + k, c, f"keyword {c}-{k}") for c, _, _ in campaigns for k in range(4)]
    _insert(conn, "campaign_keyword", ["id", "campaign_id", "keyword", "keyword_fold"],
            [(i, c, k, k) for i, c, k in keywords])  # fmt: skip
    costs = []
    for i, c, _ in keywords:
        for month in range(24):
            day = (start + timedelta(days=30 * month)).date().isoformat()
            costs.append((c, i, day, rng.randint(5_000, 150_000), stamp, stamp))
    _insert(conn, "campaign_cost",
            ["campaign_id", "keyword_id", "spent_on", "amount_cents", "created_at", "updated_at"],
            costs)  # fmt: skip
    attribution = {}
    rows = []
    for cid in range(1, contacts + 1):
        created = start + timedelta(seconds=rng.randrange(730 * 86400))
        pick = rng.choice(keywords) if rng.random() < 0.4 else None
        attribution[cid] = (pick[1], pick[0]) if pick else (None, None)
        rows.append((cid, f"Kontakt {cid}", f"kontakt {cid}", "lead",
                     rng.choice(("Website", "Google Ads", "Messe", None)),
                     *attribution[cid], created.isoformat(sep=" "), stamp))  # fmt: skip
    _insert(conn, "contact", ["id", "name", "name_key", "status", "source", "campaign_id",
                              "keyword_id", "created_at", "updated_at"], rows)  # fmt: skip
    statuses = ("shipped",) * 14 + ("paid", "open", "cancelled", "returned", "abandoned") * 1
    order_rows = []
    for _ in range(orders):
        cid = rng.randint(1, contacts)
        at = (start + timedelta(seconds=rng.randrange(730 * 86400))).isoformat(sep=" ")
        net = rng.randint(500, 30_000)
        vat = net * 19 // 100
        order_rows.append((cid, at, rng.choice(statuses), "EUR", 0, net, vat, net + vat,
                           *attribution[cid], at, at))  # fmt: skip
    _insert(conn, "sales_order", ["contact_id", "ordered_at", "status", "currency",
                                  "discount_bp", "net_cents", "vat_cents", "gross_cents",
                                  "campaign_id", "keyword_id", "created_at", "updated_at"],
            order_rows)  # fmt: skip
    won = conn.execute("SELECT id FROM stage WHERE is_won").fetchone()[0]
    deal_rows = []
    for n in range(contacts // 20):
        cid = rng.randint(1, contacts)
        at = (start + timedelta(seconds=rng.randrange(730 * 86400))).isoformat(sep=" ")
        deal_rows.append((f"Deal {n}", f"deal {n}", cid, rng.randint(10_000, 900_000), "EUR",
                          won, *attribution[cid], at, at, at))  # fmt: skip
    _insert(conn, "deal", ["title", "name_key", "contact_id", "amount_cents", "currency",
                           "stage_id", "campaign_id", "keyword_id", "closed_at", "created_at",
                           "updated_at"], deal_rows)  # fmt: skip
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def timed(path: Path, by: str, runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        subprocess.run(
            [*CRM, "--db", str(path), "report", "roi", "--by", by, "-o", "json"],
            check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])  # the first warms the page cache


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-roi-bench-") as tmp:
        path = args.db or Path(tmp) / "roi.db"
        if not path.exists():
            t = time.perf_counter()
            build(path, args.contacts, args.orders)
            print(f"built {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        what = f"crm report roi ({args.contacts:,} contacts, {args.orders:,} orders)"
        print(f"| {what} | median | target |")
        print("| --- | ---: | ---: |")
        worst = 0.0
        for by in ("campaign", "keyword", "channel", "source"):
            seconds = timed(path, by, args.runs)
            worst = max(worst, seconds) if by != "source" else worst
            print(f"| --by {by} | {seconds:.2f} s | {TARGET_S:.0f} s |")
    return 1 if args.check and worst > TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
