"""Import speed and memory: `crm import csv` of N generated contacts, as a user runs it.

    .venv/bin/python bench/imports.py                  # 100,000 and 1,000,000 rows
    .venv/bin/python bench/imports.py --rows 100000    # one size
    .venv/bin/python bench/imports.py --check          # exit 1 when 100k takes over 10 s
    .venv/bin/python bench/imports.py --rows 100000 --pg postgresql://USER:PW@HOST/EMPTYDB

For each size it writes a German Excel-style CSV (`;`, umlauts, a PLZ with a leading 0,
German dates, two phones, a company out of 2,000, tags) into a temporary directory, then runs
the installed `crm` in a new process on a new SQLite file (--pg: an empty PostgreSQL
database): the first import (every row new:
validation, matching, inserts, search index, one transaction), then the same file again
(every row unchanged, nothing written). Reports wall time, rows/s and the peak resident
memory of each process (os.wait4's ru_maxrss), as Markdown on stdout.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = (
    "Jürgen", "Anna", "Max", "Sophie", "Lukas", "Marie", "Jörg", "Grete", "Paul", "Lea", "Björn",
    "Zoë", "Felix", "Hannah", "Özlem", "Mehmet", "Katrin", "Uwe", "Heike", "Sven",
)  # fmt: skip
LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
)  # fmt: skip
CITIES = (("01067", "Dresden"), ("10115", "Berlin"), ("20095", "Hamburg"), ("50667", "Köln"),
          ("80331", "München"), ("04109", "Leipzig"), ("60311", "Frankfurt am Main"))  # fmt: skip
TAGS = ("vip", "newsletter", "messe", "kunde", "lieferant", "")


def generate(path: Path, rows: int, seed: int = 16) -> None:
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, delimiter=";", lineterminator="\r\n")
        w.writerow(["Vorname", "Nachname", "E-Mail", "Telefon", "Mobil", "Firma", "Straße",
                    "PLZ", "Ort", "Geburtstag", "Schlagworte", "Notiz"])  # fmt: skip
        for i in range(rows):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            zip_, city = rnd.choice(CITIES)
            birthday = (
                f"{rnd.randint(1, 28):02d}.{rnd.randint(1, 12):02d}.{rnd.randint(1940, 2004)}"
            )
            w.writerow([
                first, last, f"{first.lower()}.{i}@beispiel{i % 97}.de",
                f"030 {1000000 + i}", f"0171 {2000000 + i}",
                f"Firma {i % 2000:04d} GmbH", f"Hauptstraße {i % 200 + 1}", zip_, city,
                birthday if i % 3 else "", rnd.choice(TAGS),
                "Kunde seit 2019" if i % 5 == 0 else "",
            ])  # fmt: skip


def run(args: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB, exit code) of one crm process (os.wait4:
    its own CPU time and memory, and those of any child it waited for)."""
    crm = Path(sys.executable).parent / "crm"
    start = time.perf_counter()
    proc = subprocess.Popen([str(crm), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        sys.stderr.write(err)
    else:
        sys.stderr.write("  " + err.strip().splitlines()[-1] + "\n")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows (repeatable)")
    parser.add_argument("--check", action="store_true", help="exit 1 if 100k takes > 10 s")
    parser.add_argument("--dir", help="work here (default: a temporary directory)")
    parser.add_argument("--once", action="store_true", help="skip importing the file again")
    parser.add_argument(
        "--pg", metavar="URL", help="import into this empty PostgreSQL database (one size)"
    )
    opts = parser.parse_args()
    sizes = opts.rows or [100_000, 1_000_000]
    if opts.pg and len(sizes) > 1:
        parser.error("--pg takes one --rows (the database must start empty)")
    failed = False
    where = "PostgreSQL" if opts.pg else "SQLite"
    print(
        f"{where}. Load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print()
    print("| rows | run | wall s | rows/s | CPU s (user+sys) | peak RSS |")
    print("|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(dir=opts.dir) as tmp:
        for rows in sizes:
            csv_path = Path(tmp) / f"kunden{rows}.csv"
            db = opts.pg or str(Path(tmp) / f"crm{rows}.db")
            sys.stderr.write(f"generating {rows:,} rows...\n")
            generate(csv_path, rows)
            size = csv_path.stat().st_size / 2**20
            sys.stderr.write(f"  {size:.0f} MiB\n")
            crm = str(Path(sys.executable).parent / "crm")
            subprocess.run([crm, "--db", db, "db", "migrate"], check=True, capture_output=True)
            runs = ("first import (all new)", "same file again (all unchanged)")
            for label in runs[:1] if opts.once else runs:
                sys.stderr.write(f"{rows:,}: {label}\n")
                seconds, cpu, rss, code = run(["--db", db, "import", "csv", str(csv_path)])
                print(
                    f"| {rows:,} | {label} | {seconds:.1f} | {rows / seconds:,.0f} | {cpu:.1f} "
                    f"| {rss} MiB |"
                )
                sys.stdout.flush()
                if code or (opts.check and rows <= 100_000 and seconds > 10):
                    failed = True
    print()
    print(f"Load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
