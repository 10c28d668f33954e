"""Reliability run: N processes each make M writes on one database (a SQLite file or
PostgreSQL) at once, in-process through the services (the volume CLI subprocesses cannot
reach), and count the failures. The bar is zero: every write takes the write lock up front
(SQLite) or creates shared rows with INSERT ... ON CONFLICT DO NOTHING, and waits for the others.

    .venv/bin/python bench/writers.py [--processes 4] [--writes 2500] [--reminders 2]
                                      [--pause 0.05] [--db /tmp/w.db]

Each write is one of: add a contact with a company and a tag that the other processes
name at the same moment (reads, then writes; the first one creates them), log a call on
a contact, add a task that is due at once. Meanwhile `--reminders` processes run the cron
reminder (`crm remind`'s service) in a loop, as a shell loop of `crm remind` would, until
the writers are done and one last run has collected the rest. Prints one line per process
and the totals; exits 1 on any failed write or reminder run, any task never reminded, or any
reminder printed twice.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
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
                # Every process names the same 50 companies and 40 tags in the same order, so
                # they create the same new ones at the same moment (the race of issue 20).
                # Zero-padded: "Firma 1" would be a fragment of "Firma 12", and a company
                # named by a fragment of two others is ambiguous (it resolves like a REF).
                row = contacts.add_contact(
                    f"Person {worker}-{i}", company=f"Firma {i % 150 // 3:02d}",
                    tags_=[f"welle-{i % 120 // 3:02d}"],
                )  # fmt: skip
                made.append(row["id"])
            elif kind == 1:
                activities.log_activity("call", contact_id=made[-1], body=f"Anruf {i}")
            else:
                tasks.add_task(
                    f"Aufgabe {worker}-{i}", contact_id=made[-1], due_at=datetime.now(UTC)
                )
        except Exception as exc:  # counted, not fatal: the run reports them all
            failures[f"{type(exc).__name__}: {exc}"] += 1
    queue.put((worker, writes, dict(failures)))


def reminder(path: str, worker: int, pause: float, stop, queue) -> None:
    """Run the cron reminder again and again until `stop` is set, then once more; report the
    keys it printed and the runs that failed."""
    from crmcli.db import open_database
    from crmcli.services import reminders

    open_database(path)
    printed: list[str] = []
    failures: Counter = Counter()
    runs = 0
    while True:
        last = stop.is_set()
        try:
            printed += [item["key"] for item in reminders.remind(datetime.now(UTC))]
        except Exception as exc:
            failures[f"{type(exc).__name__}: {exc}"] += 1
        runs += 1
        if last:
            break
        time.sleep(pause)
    queue.put((worker, runs, printed, dict(failures)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--writes", type=int, default=2500)
    parser.add_argument("--reminders", type=int, default=2, help="cron reminder loops")
    # A `crm remind` process costs ~0.1 s of start-up: 0.05 s is a tight shell loop of them.
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between reminder runs")
    parser.add_argument(
        "--db", default=None,
        help="SQLite file or postgresql:// URL of an empty database (default: a temporary file)",
    )  # fmt: skip
    args = parser.parse_args()
    path = args.db or str(Path(tempfile.mkdtemp(prefix="crm-writers-")) / "w.db")
    from crmcli.db import open_database

    open_database(path).close()  # migrated once before the race
    fork = multiprocessing.get_context("fork")
    queue, reminded, stop = fork.Queue(), fork.Queue(), fork.Event()
    started = time.perf_counter()
    procs = [
        fork.Process(target=writer, args=(path, w, args.writes, queue))
        for w in range(args.processes)
    ]
    loops = [
        fork.Process(target=reminder, args=(path, r, args.pause, stop, reminded))
        for r in range(args.reminders)
    ]
    for p in procs + loops:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    stop.set()
    loop_results = [reminded.get() for _ in loops]
    for p in loops:
        p.join()
    seconds = time.perf_counter() - started
    total_failures: Counter = Counter()
    for worker, writes, failures in sorted(results):
        n = sum(failures.values())
        total_failures.update(failures)
        print(f"process {worker}: {writes} writes, {n} failed")
    total = args.processes * args.writes
    n = sum(total_failures.values())
    print(f"{total} writes by {args.processes} processes in {seconds:.1f} s: {n} failed")
    printed: Counter = Counter()
    for worker, runs, keys, failures in sorted(loop_results):
        total_failures.update({f"remind: {m}": c for m, c in failures.items()})
        printed.update(keys)
        failed = sum(failures.values())
        print(f"reminder {worker}: {runs} runs, {len(keys)} printed, {failed} failed")
    twice = sum(1 for c in printed.values() if c > 1)
    tasks_made = sum(1 for w in range(args.processes) for i in range(args.writes) if i % 3 == 2)
    task_keys = sum(1 for k in printed if k.startswith("task:"))
    missed = tasks_made - task_keys if args.reminders else 0
    if args.reminders:
        print(f"reminders: {len(printed)} items, {twice} printed twice, {missed} tasks never")
    n = sum(total_failures.values()) + twice + max(missed, 0)
    for message, count in total_failures.most_common(5):
        print(f"  {count} x {message}")
    if args.db is None:
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        os.rmdir(Path(path).parent)
    return 1 if n else 0


if __name__ == "__main__":
    sys.exit(main())
