"""Customer value at scale (issue 18): 100,000 customers and 1,000,000 orders.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/value.py [--contacts 100000]
        [--orders 1000000] [--runs 10] [--db PATH] [--check]

Builds a SQLite database (a temporary one unless --db names one that holds the data already)
with plain SQL for speed: a catalogue of 40 products, the contacts, and the orders of two
years with one or two lines each. Who buys how often follows BG/NBD's own assumptions
(purchase_times); 85 % of the orders are a purchase.
Then measures, after a warm-up, wall time (what a person waits) and CPU time (what the
command itself costs; on a shared machine the wall time also holds the others' work):

- `crm report rfm` (piped: every customer's row) and `-o json`, whole processes, --runs each:
  median and p95 (the nearest rank: of 10 runs the highest but none). Target: p95 wall 2 s.
- The BG/NBD fit in process, as `crm report clv` makes it: the purchase histories read from
  the orders (services.value.histories) and clv.fit_bgnbd, --runs times: target p95 wall 5 s.
- The contact card in process (services.contacts.contact_card of customers with orders,
  round robin over 200 of them, its newest orders and what they buy; 1,000 calls): p50 and
  p95, wall and the thread's CPU. Target: p95 wall 2 ms. Reported beside it: the card of
  contacts without orders (most contacts of the other benches), the same way.
- Reported: `crm report clv -o json` and `crm report value -o json` as whole processes.
--check exits 1 when a p95 wall time misses its target, as the issue states the targets;
the CPU columns say how much of a miss was the machine's load.

Prints a Markdown table on stdout; exit 0 unless the bench breaks, or with --check 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import math
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
NOW = datetime(2026, 11, 23, 9, 0)
RFM_S, FIT_S, CARD_MS = 2.0, 5.0, 2.0


def build(path: Path, contacts: int, orders: int) -> None:
    from crmcli import db as dbmod

    dbmod.open_database(str(path)).close()
    rng = random.Random(18)
    conn = sqlite3.connect(path)
    start = NOW - timedelta(days=730)
    stamp = NOW.isoformat(sep=" ")
    products = []
    for pid in range(1, 41):
        price = rng.randint(290, 19_990)
        products.append((pid, f"SKU-{pid}", f"SKU-{pid}", f"Produkt {pid}",
                         ("Kaffee", "Tee", "Geräte", "Zubehör")[pid % 4], price,
                         700 if pid % 4 < 2 else 1900, "Stück", 1, price * 55 // 100, stamp,
                         stamp))  # fmt: skip
    conn.executemany(
        "INSERT INTO product (id, sku, sku_key, name, category, price_cents, vat_bp, unit, "
        "active, cost_cents, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        products,
    )
    conn.executemany(
        "INSERT INTO contact (id, name, name_key, email, email_key, status, owner, city, "
        "consent, cadence_days, birthday_reminded, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,0,NULL,0,?,?)",
        (
            (cid, f"Kunde {cid}", f"kunde {cid}", f"kunde{cid}@example.de",
             f"kunde{cid}@example.de", "customer", f"Owner {cid % 5}",
             ("Köln", "Bonn", "Berlin", "München")[cid % 4], stamp, stamp)
            for cid in range(1, contacts + 1)
        ),
    )  # fmt: skip
    buyers = purchase_times(rng, contacts, orders, start)
    statuses = ("shipped",) * 15 + ("paid", "open", "cancelled", "returned", "abandoned")

    def order_rows():
        for oid, (cid, at) in enumerate(buyers, start=1):
            stamp_at = at.isoformat(sep=" ")
            yield (oid, cid, stamp_at, rng.choice(statuses), "shop", "EUR", 0, stamp_at, stamp_at)

    conn.executemany(
        "INSERT INTO sales_order (id, contact_id, ordered_at, status, channel, currency, "
        "discount_bp, created_at, updated_at, net_cents, vat_cents, gross_cents, cost_cents) "
        "VALUES (?,?,?,?,?,?,?,?,?,0,0,0,390)",
        order_rows(),
    )

    def line_rows():
        for oid in range(1, orders + 1):
            for position in range(1 if rng.random() < 0.6 else 2):
                pid, _, _, name, _, price, vat_bp, *_ = products[rng.randrange(40)]
                qty = rng.choice((1, 1, 1, 2, 3))
                net = qty * price
                vat = (net * vat_bp + 5_000) // 10_000
                yield (oid, position, pid, name, qty, price, vat_bp, net, vat, net + vat)

    conn.executemany(
        "INSERT INTO order_line (order_id, position, product_id, name, qty, unit_price_cents, "
        "vat_bp, discount_cents, net_cents, vat_cents, gross_cents) "
        "VALUES (?,?,?,?,?,?,?,0,?,?,?)",
        line_rows(),
    )
    conn.execute(
        "UPDATE sales_order SET (net_cents, vat_cents, gross_cents) = (SELECT SUM(net_cents), "
        "SUM(vat_cents), SUM(gross_cents) FROM order_line WHERE order_id = sales_order.id)"
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def purchase_times(rng, contacts: int, orders: int, start: datetime) -> list[tuple]:
    """(contact id, time) of `orders` purchases, as BG/NBD assumes customers buy: each
    starts on a day of the two years, buys at a rate lambda ~ Gamma(0.9, 0.5 a week) and
    after each purchase drops out with p ~ Beta(0.5, 4); customers are drawn again until
    there are enough purchases."""
    out: list[tuple] = []
    weeks = 730 / 7
    while len(out) < orders:
        for cid in range(1, contacts + 1):
            first = rng.uniform(0, weeks)
            rate = rng.gammavariate(0.9, 0.5)
            p = rng.betavariate(0.5, 4)
            t = first
            while t < weeks:
                out.append((cid, start + timedelta(weeks=t)))
                if rng.random() < p or rate <= 0:
                    break
                t += rng.expovariate(rate)
            if len(out) >= orders:
                break
    out.sort(key=lambda item: item[1])
    return out[:orders]


def process(path: Path, args: list[str], runs: int) -> tuple[float, float, float, float]:
    """Median and p95 wall seconds, then median and p95 CPU seconds (user + system of the
    process), of `crm ARGS` run `runs` times after one run that warms the page cache."""
    import resource

    times, cpu = [], []
    for _ in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(
            [*CRM, "--db", str(path), *args], check=True, stdout=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, env={**_env(), "CRM_NOW": NOW.isoformat()},
        )  # fmt: skip
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return (statistics.median(times[1:]), p95(times[1:]), statistics.median(cpu[1:]), p95(cpu[1:]))


def p95(values: list[float]) -> float:
    """The 95th percentile by the nearest rank: the value 95 % of the runs do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def _env() -> dict:
    import os

    return dict(os.environ)


def in_process(path: Path, runs: int) -> dict:
    """The BG/NBD fit (median and p95 wall, median CPU seconds) and the cards with and
    without orders (p50 and p95 ms, wall and the thread's CPU)."""
    from crmcli import db as dbmod
    from crmcli.models import Contact, SalesOrder
    from crmcli.services import clv, value

    database = dbmod.open_database(str(path))
    fits, fit_cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        people = value.histories(NOW.date(), "weeks")
        clv.fit_bgnbd((h.x, h.t_x, h.T) for h in people)
        fits.append(time.perf_counter() - t)
        fit_cpu.append(time.process_time() - c)
    buyers = SalesOrder.select(SalesOrder.contact).distinct()
    with_orders = [
        cid for (cid,) in buyers.order_by(SalesOrder.contact).limit(200).tuples()
    ]  # fmt: skip
    without = [
        cid
        for (cid,) in Contact.select(Contact.id)
        .where(Contact.id.not_in(buyers))
        .order_by(Contact.id)
        .limit(200)
        .tuples()
    ]
    out = {"fit": (statistics.median(fits), p95(fits), statistics.median(fit_cpu))}
    out["card"] = cards(with_orders)
    out["plain card"] = cards(without) if without else None
    database.close()
    return out


def cards(ids: list[int]) -> tuple[float, float, float, float]:
    """p50 and p95 wall ms, p50 and p95 CPU ms of the contact card, round robin over `ids`
    five times (1,000 cards for 200 contacts) after one round that warms the caches."""
    from crmcli.services import contacts

    now = NOW.astimezone()
    for cid in ids:  # warm-up: prepared statements, page cache
        contacts.contact_card(cid, now=now)
    wall, cpu = [], []
    for _ in range(5):
        for cid in ids:
            t, c = time.perf_counter(), time.thread_time()
            contacts.contact_card(cid, now=now)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
    return statistics.median(wall), p95(wall), statistics.median(cpu), p95(cpu)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-value-bench-") as tmp:
        path = args.db or Path(tmp) / "value.db"
        if not path.exists():
            t = time.perf_counter()
            build(path, args.contacts, args.orders)
            print(f"built {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        import os

        load = os.getloadavg()[0]
        rfm = process(path, ["report", "rfm"], args.runs)
        rfm_json = process(path, ["report", "rfm", "-o", "json"], args.runs)
        measured = in_process(path, args.runs)
        clv_run = process(path, ["report", "clv", "-o", "json"], max(1, args.runs // 3))
        value_run = process(path, ["report", "value", "-o", "json"], 1)
        end_load = os.getloadavg()[0]
    fit, fit95, fit_cpu = measured["fit"]
    card, plain = measured["card"], measured["plain card"]
    print(f"| {args.contacts:,} customers, {args.orders:,} orders (load {load:.1f} → "
          f"{end_load:.1f}) | wall median / p95 | CPU median / p95 | target |")  # fmt: skip
    print("| --- | ---: | ---: | ---: |")
    print(f"| `crm report rfm` (process, piped; {args.runs} runs) | {rfm[0]:.2f} / {rfm[1]:.2f} s "
          f"| {rfm[2]:.2f} / {rfm[3]:.2f} s | {RFM_S:.0f} s (p95 wall) |")  # fmt: skip
    print(f"| `crm report rfm -o json` (process) | {rfm_json[0]:.2f} / {rfm_json[1]:.2f} s "
          f"| {rfm_json[2]:.2f} / {rfm_json[3]:.2f} s | |")  # fmt: skip
    print(f"| BG/NBD fit with its histories (in process) | {fit:.2f} / {fit95:.2f} s "
          f"| {fit_cpu:.2f} s | {FIT_S:.0f} s (p95 wall) |")  # fmt: skip
    print(f"| contact card with orders, p50 / p95 | {card[0]:.2f} / {card[1]:.2f} ms "
          f"| {card[2]:.2f} / {card[3]:.2f} ms | {CARD_MS:.0f} ms (p95 wall) |")  # fmt: skip
    if plain is not None:
        print(f"| contact card without orders, p50 / p95 | {plain[0]:.2f} / {plain[1]:.2f} ms "
              f"| {plain[2]:.2f} / {plain[3]:.2f} ms | |")  # fmt: skip
    print(f"| `crm report clv -o json` (process) | {clv_run[0]:.2f} s | {clv_run[2]:.2f} s | |")
    print(f"| `crm report value -o json` (process) | {value_run[0]:.2f} s "
          f"| {value_run[2]:.2f} s | |")  # fmt: skip
    missed = rfm[1] > RFM_S or fit95 > FIT_S or card[1] > CARD_MS
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
