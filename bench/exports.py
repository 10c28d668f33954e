"""Export speed and memory: `crm export contacts` to CSV, JSONL and JSON, and `crm export all`,
at 100,000 and 1,000,000 contacts; `crm list KIND -o json|jsonl|csv` of 100,000 rows.

    .venv/bin/python bench/exports.py [--contacts 100000 1000000] [--db-dir /tmp/bench]
                                      [--lists 100000] [--check] [--code DIR]
                                      [--formats csv jsonl json] [--no-dump] [--one-core]

Before/after a change: `git archive COMMIT crmcli | tar -x -C /tmp/old` and run again with
`--code /tmp/old --contacts` (lists only: an old crm has no export).

Each measurement is its own `crm` process (the installed console script's code, run by this
interpreter), writing to a file; its wall time, CPU time and peak resident memory (getrusage
of that child: ru_maxrss) are reported as Markdown on stdout. The databases are built once
with executemany (every contact with two emails, a phone, a tag and a custom field) and kept
in --db-dir for later runs. Each format is exported --runs times (default 3), the first
right after the database was written in bulk; nothing is kept from one export for the next
(every line is made each time). Targets (issue 16): >= 200,000 rows/s to CSV and JSONL and
<= 100 MiB peak RSS at 1,000,000 contacts, checked on every run.
`--one-core` pins each `crm` to one CPU (its CPU time with nothing else of it on the other
core).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CRM = [sys.executable, "-c", "from crmcli.launch import main; main()"]
STAMP = "2026-11-23 09:00:00"
CPU_SECONDS: list[float] = []
# --code DIR: run the crmcli package found in DIR instead (an older commit, for before/after).
ENV: dict | None = None
CWD: str | None = None
ONE_CORE = False


def build(path: Path, contacts: int, lists: int = 0) -> None:
    """A database of `contacts` contacts (and `lists` companies, deals and tasks), written
    with executemany in one transaction per table."""
    import sqlite3

    from crmcli.db import open_database

    open_database(str(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    companies = max(lists, contacts // 20, 1)
    with conn:
        conn.executemany(
            "INSERT INTO company (id, created_at, updated_at, name, name_fold, name_key, city) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((i, STAMP, STAMP, f"Firma {i} GmbH", f"firma {i} gmbh", f"firma {i} gmbh", "Köln")
             for i in range(1, companies + 1)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO tag (id, created_at, updated_at, name, name_fold) VALUES (?, ?, ?, ?, ?)",
            ((i, STAMP, STAMP, f"tag{i}", f"tag{i}") for i in range(1, 11)),
        )
    with conn:
        conn.executemany(
            "INSERT INTO contact (id, created_at, updated_at, name, name_key, email, email_key, "
            "phone, phone_e164, company_id, position, street, zip, city, country, birthday, "
            "status, notes, consent, birthday_reminded) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            ((i, STAMP, STAMP, f"Person Müller {i}", f"person muller {i}", f"p{i}@firma.de",
              f"p{i}@firma.de", f"0221 {i:07d}", f"+49221{i:07d}", i % companies + 1,
              "Einkauf", f"Hauptstraße {i % 200}", f"{i % 99999:05d}", "Köln", "DE",
              "1968-12-24" if i % 3 else None, "customer", "Kunde seit 2020; mag Kaffee",
              i % 2) for i in range(1, contacts + 1)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO contact_email (contact_id, email, email_key, kind, is_primary, position)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (row for i in range(1, contacts + 1) for row in (
                (i, f"p{i}@firma.de", f"p{i}@firma.de", "work", 1, 0),
                (i, f"p{i}@privat.de", f"p{i}@privat.de", "home", 0, 1)))
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO contact_phone (contact_id, phone, phone_e164, kind, is_primary, "
            "position) VALUES (?, ?, ?, 'work', 1, 0)",
            ((i, f"0221 {i:07d}", f"+49221{i:07d}") for i in range(1, contacts + 1)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO contact_tag (contact_id, tag_id) VALUES (?, ?)",
            ((i, i % 10 + 1) for i in range(1, contacts + 1)),
        )
        conn.executemany(
            "INSERT INTO contact_field (contact_id, key, value) VALUES (?, 'kdnr', ?)",
            ((i, f"K-{i}") for i in range(1, contacts + 1)),
        )
    if lists:
        with conn:
            conn.executemany(
                "INSERT INTO deal (id, created_at, updated_at, title, name_key, amount_cents, "
                "currency, stage_id, contact_id) VALUES (?, ?, ?, ?, ?, ?, 'EUR', 1, ?)",
                ((i, STAMP, STAMP, f"Auftrag {i}", f"auftrag {i}", i * 1250, i % contacts + 1)
                 for i in range(1, lists + 1)),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO task (id, created_at, updated_at, title, name_key, due_at, "
                "due_has_time, priority, contact_id, open_due_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, 1, ?, ?)",
                ((i, STAMP, STAMP, f"Anrufen {i}", f"anrufen {i}", STAMP, i % contacts + 1, STAMP)
                 for i in range(1, lists + 1)),
            )  # fmt: skip
    conn.close()


def measure(args: list[str], out: Path, env: dict | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one crm process; its CPU seconds (user + system) in
    CPU_SECONDS, for a loaded machine where the wall clock says little."""
    start = time.perf_counter()
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [*CRM, *args], stdout=sink, stderr=subprocess.PIPE, env=env or ENV, cwd=CWD,
            preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if ONE_CORE else None,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    if status != 0:
        raise SystemExit(f"crm {' '.join(args)} failed: {proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def _cpu(rows: int) -> str:
    cpu = CPU_SECONDS[-1]
    return f"{cpu:.2f} | {rows / cpu:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument(
        "--code", help="a directory holding another crmcli package to measure (git archive)"
    )
    parser.add_argument(
        "--lists", type=int, default=100_000, help="rows for the list runs (0: none)"
    )
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--formats", nargs="*", default=["csv", "jsonl", "json"], help="export formats to time"
    )
    parser.add_argument("--no-dump", action="store_true", help="skip export all / import json")
    parser.add_argument("--one-core", action="store_true", help="pin each crm to one CPU")
    parser.add_argument("--runs", type=int, default=3, help="exports of each format")
    opts = parser.parse_args()
    global ONE_CORE
    ONE_CORE = opts.one_core
    if opts.code:
        global ENV, CWD  # noqa: PLW0603
        ENV = {**os.environ, "PYTHONPATH": os.path.abspath(opts.code)}
        CWD = tempfile.gettempdir()  # not this checkout, which would come first on sys.path
    directory = opts.db_dir or Path(tempfile.mkdtemp(prefix="crm-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    missed = []
    print("| what | rows | seconds | rows/s | CPU s | rows/CPU s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in opts.contacts:
        path = directory / f"export-{n}.db"
        if not path.exists():
            sys.stderr.write(f"building {n:,} contacts in {path} ...\n")
            started = time.perf_counter()
            build(path, n)
            sys.stderr.write(f"  built in {time.perf_counter() - started:.1f} s\n")
        out = directory / "out"
        for fmt in opts.formats:
            for run in range(1, opts.runs + 1):
                seconds, rss = measure(["--db", str(path), "export", "contacts", "--format",
                                        fmt, "-o", str(out)], out.with_suffix(".log"))  # fmt: skip
                rate = n / seconds
                print(f"| export contacts --format {fmt} (run {run}) | {n:,} | {seconds:.2f} | "
                      f"{rate:,.0f} | {_cpu(n)} | {rss:.0f} |", flush=True)  # fmt: skip
                if fmt in ("csv", "jsonl") and rate < 200_000:
                    missed.append(f"{fmt} at {n:,} (run {run}): {rate:,.0f} rows/s")
                if n >= 1_000_000 and rss > 100:
                    missed.append(f"{fmt} at {n:,} (run {run}): {rss:.0f} MiB")
        if opts.no_dump:
            out.unlink(missing_ok=True)
            continue
        seconds, rss = measure(["--db", str(path), "export", "all", "-o", str(out)],
                               out.with_suffix(".log"))  # fmt: skip
        print(f"| export all (dump) | {n:,} contacts | {seconds:.2f} | {n / seconds:,.0f} | "
              f"{_cpu(n)} | {rss:.0f} |", flush=True)  # fmt: skip
        restored = directory / "restored.db"
        restored.unlink(missing_ok=True)
        seconds, rss = measure(["--db", str(restored), "import", "json", str(out)],
                               out.with_suffix(".log"))  # fmt: skip
        print(f"| import json (restore the dump) | {n:,} contacts | {seconds:.2f} | "
              f"{n / seconds:,.0f} | {_cpu(n)} | {rss:.0f} |", flush=True)  # fmt: skip
        for leftover in (restored, out, Path(f"{restored}-wal"), Path(f"{restored}-shm")):
            leftover.unlink(missing_ok=True)
    if opts.lists:
        path = directory / f"lists-{opts.lists}.db"
        if not path.exists():
            sys.stderr.write(f"building {opts.lists:,} rows of each list in {path} ...\n")
            build(path, opts.lists, lists=opts.lists)
        for kind in ("contacts", "companies", "deals", "tasks"):
            for fmt in ("json", "csv"):
                seconds, rss = measure(["--db", str(path), "list", kind, "-o", fmt, "--limit", "0"],
                                       directory / "list.out")  # fmt: skip
                print(f"| list {kind} -o {fmt} | {opts.lists:,} | {seconds:.2f} | "
                      f"{opts.lists / seconds:,.0f} | {_cpu(opts.lists)} | {rss:.0f} |",
                      flush=True)  # fmt: skip
        (directory / "list.out").unlink(missing_ok=True)
    if missed:
        sys.stderr.write("missed: " + "; ".join(missed) + "\n")
        if opts.check:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
