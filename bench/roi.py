"""`crm report roi` over 100,000 contacts and 1,000,000 orders: target 1 s (issue 19).

    env -u PYTHONDONTWRITEBYTECODE python bench/roi.py [--contacts 100000] [--orders 1000000]
                                                       [--runs 5] [--db PATH] [--check]
                                                       [--crm PATH]

Builds a SQLite database (a temporary one unless --db names one that holds the data already):
ten campaigns with keywords and two years of monthly costs, the contacts (40 % attributed to
a campaign and keyword, three lead sources and none), the orders (of random contacts over
two years, 85 % of a purchase status, attributed as their contact is; one line each, most
with a purchase cost, half of the orders with a shipping cost) and a few thousand won deals,
written with plain SQL for speed. Then times the whole `crm report roi` process, median of
--runs after one warm-up, wall and CPU (user + system of the child), in TZ=Europe/Berlin
(its DST changes are in the two years), for each --by: -o json, -o json with --since and
--until (half a year), -o json with --margin, -o csv, and the terminal bars (under a
160x50 pty). Prints a Markdown table and the load average. Exit 0 unless the bench breaks,
or with --check 1 when any of them misses the target. --crm times another installed
`crm` (e.g. an older checkout's, on a database of its schema) in place of this one's.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
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
    order_rows, line_rows = [], []
    for oid in range(1, orders + 1):
        cid = rng.randint(1, contacts)
        at = (start + timedelta(seconds=rng.randrange(730 * 86400))).isoformat(sep=" ")
        net = rng.randint(500, 30_000)
        vat = net * 19 // 100
        shipping = rng.choice((0, 490))
        order_rows.append((oid, cid, at, rng.choice(statuses), "EUR", 0, net, vat, net + vat,
                           shipping, *attribution[cid], at, at))  # fmt: skip
        goods = net * rng.randint(20, 60) // 100 if rng.random() < 0.7 else None
        line_rows.append((oid, 0, "Ware", 1, net, 1900, net, vat, net + vat, goods))
    _insert(conn, "sales_order", ["id", "contact_id", "ordered_at", "status", "currency",
                                  "discount_bp", "net_cents", "vat_cents", "gross_cents",
                                  "cost_cents", "campaign_id", "keyword_id", "created_at",
                                  "updated_at"], order_rows)  # fmt: skip
    _insert(conn, "order_line", ["order_id", "position", "name", "qty", "unit_price_cents",
                                 "vat_bp", "net_cents", "vat_cents", "gross_cents",
                                 "cost_cents"], line_rows)  # fmt: skip
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


PTY_LINES, PTY_COLUMNS = 50, 160
PERIOD = ["--since", "1.1.2026", "--until", "30.6.2026"]


def cases() -> list[tuple[str, list[str], bool]]:
    """(label, arguments after `report roi`, under a terminal) of every run the target holds."""
    out = []
    for by in ("campaign", "keyword", "channel", "source"):
        out += [
            (f"--by {by} -o json", ["--by", by, "-o", "json"], False),
            (f"--by {by} {' '.join(PERIOD)} -o json", ["--by", by, *PERIOD, "-o", "json"], False),
            (f"--by {by} --margin -o json", ["--by", by, "--margin", "-o", "json"], False),
            (f"--by {by} -o csv", ["--by", by, "-o", "csv"], False),
            (f"--by {by} (terminal bars)", ["--by", by], True),
        ]
    return out


def run_once(cmd: list[str], env: dict[str, str], tty: bool) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one whole process; stdout a pipe
    to /dev/null, or a PTY_COLUMNS x PTY_LINES terminal that is read as it writes."""
    master = slave = -1
    if tty:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", PTY_LINES, PTY_COLUMNS, 0, 0))
        out, err = slave, slave
    else:
        out, err = subprocess.DEVNULL, subprocess.PIPE
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        shown = bytearray()
        if tty:
            os.close(slave)
            slave = -1
            while True:  # drain as it comes, or a full terminal buffer would stall the child
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    break
                if not chunk:
                    break
                shown += chunk
        elif proc.stderr is not None:
            shown += proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    finally:
        for fd in (master, slave):
            if fd != -1:
                os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        tail = bytes(shown).decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise SystemExit(f"`{' '.join(cmd)}` failed: {tail[0]}")
    if tty and "█".encode() not in shown and "░".encode() not in shown:
        raise SystemExit(f"`{' '.join(cmd)}` drew no bars on the terminal")
    return wall, usage.ru_utime + usage.ru_stime


def timed(crm: list[str], path: Path, args: list[str], tty: bool, runs: int):
    """Median wall and CPU seconds of `runs` runs after one that warms the page cache."""
    env = dict(os.environ, TZ="Europe/Berlin", COLUMNS=str(PTY_COLUMNS), LINES=str(PTY_LINES))
    env.pop("NO_COLOR", None)
    if tty:
        env["TERM"] = "xterm-256color"
    times = [run_once([*crm, "--db", str(path), "report", "roi", *args], env, tty)
             for _ in range(runs + 1)][1:]  # fmt: skip
    return statistics.median(w for w, _ in times), statistics.median(c for _, c in times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--crm", type=Path, help="another installed crm to time")
    args = parser.parse_args()
    crm = [str(args.crm)] if args.crm else CRM
    with tempfile.TemporaryDirectory(prefix="crm-roi-bench-") as tmp:
        path = args.db or Path(tmp) / "roi.db"
        if not path.exists():
            t = time.perf_counter()
            build(path, args.contacts, args.orders)
            print(f"built {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        load = os.getloadavg()
        what = f"crm report roi ({args.contacts:,} contacts, {args.orders:,} orders)"
        print(f"| {what} | wall | CPU | target |")
        print("| --- | ---: | ---: | ---: |")
        worst = 0.0
        for label, extra, tty in cases():
            wall, cpu = timed(crm, path, extra, tty, args.runs)
            worst = max(worst, wall)
            print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {TARGET_S:.0f} s |", flush=True)
        end = os.getloadavg()
        print(f"\nLoad average {load[0]:.1f} at the start, {end[0]:.1f} at the end "
              f"({os.cpu_count()} cores); worst wall {worst:.2f} s.")  # fmt: skip
    return 1 if args.check and worst > TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
