"""Customer value at scale (issue 18): 100,000 customers and 1,000,000 orders.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/value.py [--contacts 100000]
        [--orders 1000000] [--runs 5] [--db PATH] [--check]

Builds a SQLite database (a temporary one unless --db names one that holds the data already)
with plain SQL for speed: a catalogue of 40 products, the contacts, and the orders of two
years with one or two lines each. Who buys how often follows BG/NBD's own assumptions
(purchase_times); 85 % of the orders are a purchase.
Then measures, medians of --runs after a warm-up:

- `crm report rfm` (piped: every customer's row) and `-o json`, whole processes: target 2 s.
  Wall and CPU time (user + system) both: on a shared machine the CPU time is the command's.
- The BG/NBD fit in process, as `crm report clv` makes it: the purchase histories read from
  the orders (services.value.histories) and clv.fit_bgnbd: target 5 s (reported apart).
- The contact card in process (services.contacts.contact_card of customers with orders,
  round robin over 200 of them, its newest orders and what they buy): p95 target 2 ms.
--check holds the CPU figures to the targets (the wall ones move with the machine's load).
- Reported: `crm report clv -o json` and `crm report value -o json` as whole processes.

Prints a Markdown table on stdout; exit 0 unless the bench breaks, or with --check 1 when a
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


def process(path: Path, args: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system of the process) of `crm ARGS`: on a
    shared machine the CPU time is what the command itself costs."""
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
    # the first warms the page cache
    return statistics.median(times[1:]), statistics.median(cpu[1:])


def _env() -> dict:
    import os

    return dict(os.environ)


def in_process(path: Path, runs: int) -> tuple[float, ...]:
    """The BG/NBD fit (median wall and CPU seconds) and the card (p50, p95 ms, wall and
    the thread's CPU)."""
    from crmcli import db as dbmod
    from crmcli.models import SalesOrder
    from crmcli.services import clv, contacts, value

    database = dbmod.open_database(str(path))
    fits, fit_cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        people = value.histories(NOW.date(), "weeks")
        clv.fit_bgnbd((h.x, h.t_x, h.T) for h in people)
        fits.append(time.perf_counter() - t)
        fit_cpu.append(time.process_time() - c)
    ids = [
        cid
        for (cid,) in SalesOrder.select(SalesOrder.contact)
        .distinct()
        .order_by(SalesOrder.contact)
        .limit(200)
        .tuples()
    ]
    now = NOW.astimezone()
    for cid in ids:  # warm-up: prepared statements, page cache
        contacts.contact_card(cid, now=now)
    cards, card_cpu = [], []
    for _ in range(5):
        for cid in ids:
            t, c = time.perf_counter(), time.thread_time()
            contacts.contact_card(cid, now=now)
            cards.append((time.perf_counter() - t) * 1000)
            card_cpu.append((time.thread_time() - c) * 1000)
    database.close()
    cards.sort()
    card_cpu.sort()
    return (
        statistics.median(fits), statistics.median(fit_cpu), cards[len(cards) // 2],
        cards[int(len(cards) * 0.95)], card_cpu[len(card_cpu) // 2],
        card_cpu[int(len(card_cpu) * 0.95)],
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
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
        rfm, rfm_cpu = process(path, ["report", "rfm"], args.runs)
        rfm_json, rfm_json_cpu = process(path, ["report", "rfm", "-o", "json"], args.runs)
        fit, fit_cpu, card50, card95, cpu50, cpu95 = in_process(path, args.runs)
        clv_s, clv_cpu = process(path, ["report", "clv", "-o", "json"], max(1, args.runs // 2))
        value_s, value_cpu = process(path, ["report", "value", "-o", "json"], 1)
        print(f"| {args.contacts:,} customers, {args.orders:,} orders (load {load:.1f}) "
              "| wall | CPU | target |")  # fmt: skip
        print("| --- | ---: | ---: | ---: |")
        print(
            f"| `crm report rfm` (process, piped) | {rfm:.2f} s | {rfm_cpu:.2f} s | {RFM_S:.0f} s |"
        )
        print(f"| `crm report rfm -o json` (process) | {rfm_json:.2f} s | {rfm_json_cpu:.2f} s | |")
        print(f"| BG/NBD fit with its histories (in process) | {fit:.2f} s | {fit_cpu:.2f} s "
              f"| {FIT_S:.0f} s |")  # fmt: skip
        print(f"| contact card with orders, p50 / p95 | {card50:.2f} / {card95:.2f} ms | "
              f"{cpu50:.2f} / {cpu95:.2f} ms | {CARD_MS:.0f} ms (p95) |")  # fmt: skip
        print(f"| `crm report clv -o json` (process) | {clv_s:.2f} s | {clv_cpu:.2f} s | |")
        print(f"| `crm report value -o json` (process) | {value_s:.2f} s | {value_cpu:.2f} s | |")
    missed = rfm_cpu > RFM_S or fit_cpu > FIT_S or cpu95 > CARD_MS
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
