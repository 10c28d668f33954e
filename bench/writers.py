"""Reliability run: N processes each make M writes on one SQLite file at once, in-process
through the services (the volume CLI subprocesses cannot reach), and count the failures.
The bar is zero: every write takes the write lock up front and waits for the others.

    .venv/bin/python bench/writers.py [--processes 4] [--writes 2500] [--db /tmp/w.db]

Each write is one of: add a contact with a new company (reads, then writes), log a call on
a contact, add a task. Prints one line per process and the totals; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def writer(path: str, worker: int, writes: int, queue) -> None:
    from crmcli.db import open_database
    from crmcli.services import activities, contacts, tasks

    open_database(path)
    failures: Counter = Counter()
    made: list[int] = []
    for i in range(writes):
        try:
            kind = i % 3
            if kind == 0 or not made:
                # Zero-padded: "Firma 0-1" would be a fragment of "Firma 0-12", and a company
                # named by a fragment of two others is ambiguous (it resolves like a REF).
                row = contacts.add_contact(
                    f"Person {worker}-{i}", company=f"Firma {worker:02d}-{i % 50:02d}"
                )
                made.append(row["id"])
            elif kind == 1:
                activities.log_activity("call", contact_id=made[-1], body=f"Anruf {i}")
            else:
                tasks.add_task(f"Aufgabe {worker}-{i}", contact_id=made[-1])
        except Exception as exc:  # counted, not fatal: the run reports them all
            failures[f"{type(exc).__name__}: {exc}"] += 1
    queue.put((worker, writes, dict(failures)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--writes", type=int, default=2500)
    parser.add_argument("--db", default=None, help="SQLite file (default: a new temporary one)")
    args = parser.parse_args()
    path = args.db or str(Path(tempfile.mkdtemp(prefix="crm-writers-")) / "w.db")
    from crmcli.db import open_database

    open_database(path).close()  # migrated once before the race
    queue = multiprocessing.get_context("fork").Queue()
    started = time.perf_counter()
    procs = [
        multiprocessing.get_context("fork").Process(
            target=writer, args=(path, w, args.writes, queue)
        )
        for w in range(args.processes)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    seconds = time.perf_counter() - started
    total_failures: Counter = Counter()
    for worker, writes, failures in sorted(results):
        n = sum(failures.values())
        total_failures.update(failures)
        print(f"process {worker}: {writes} writes, {n} failed")
    n = sum(total_failures.values())
    total = args.processes * args.writes
    print(f"{total} writes by {args.processes} processes in {seconds:.1f} s: {n} failed")
    for message, count in total_failures.most_common(5):
        print(f"  {count} x {message}")
    if args.db is None:
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        os.rmdir(Path(path).parent)
    return 1 if n else 0


if __name__ == "__main__":
    sys.exit(main())
