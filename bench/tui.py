"""Speed of crm tui (issue 17), headless, in one run, as a Markdown table on stdout.

    python bench/tui.py --db /tmp/tui100k.db [--big /tmp/tui1m.db] [--runs 15] [--check]

`--db`: a database with 100,000 contacts and 1,000,000 activities (built with
`crm demo --contacts 100000 --activities 1000000` when the file does not exist); `--big`: one
with 1,000,000 contacts for the memory row (built the same way when missing; skipped without).

1. First frame: whole processes, paired and alternating with a minimal Textual app whose first
   frame is a 50-row DataTable (bench/tui_child.py bare), both started by this interpreter, so
   interpreter start-up and importing Textual are the same: crm opens the database, counts
   the contacts and shows the first page of the contacts screen, then exits. Target: the
   median ratio ≤ 1.3.
2. In process (Textual's pilot, headless, 120x40): a keystroke in the search box to the
   updated table (p95 ≤ 50 ms), opening a card whose timeline has 200 items (p95 ≤ 100 ms),
   End to the last contact shown (p95 ≤ 100 ms).
3. Memory: peak resident memory of a child that opens the contacts screen on the big database,
   jumps to the end, pages, searches and opens a card (≤ 150 MiB).

Run it with the project's interpreter, PYTHONDONTWRITEBYTECODE unset and the package
compiled (`python -m compileall -q crmcli`): users' installs have their bytecode cached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "tui_child.py"
FIRST_FRAME_RATIO = 1.3
KEYSTROKE_P95_MS = 50.0
CARD_P95_MS = 100.0
END_P95_MS = 100.0
MEMORY_MIB = 150.0
# What a person types into the search box, a letter at a time.
WORDS = ("müller", "schmidt", "berlin", "weiß", "anna", "gmbh")
TIMELINE_ITEMS = 200


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def ensure_database(path: Path, contacts: int, activities: int | None) -> None:
    if path.exists():
        return
    say(f"building {path} ({contacts:,} contacts; a few minutes)")
    cmd = [sys.executable, "-m", "crmcli", "--db", str(path), "demo", "--contacts", str(contacts)]
    if activities:
        cmd += ["--activities", str(activities)]
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def child(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak resident KiB of one child."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *args], cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    out, err = proc.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"bench child {args[0]} failed: {' | '.join(tail)}")
    return took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def first_frame(db: Path, runs: int, warmups: int = 3):
    """(wall, CPU) of each crm run and each bare run, paired and alternating."""
    say(f"first frame: crm contacts screen vs a 50-row DataTable app ({warmups} + {runs} pairs)")
    crm, bare = [], []
    for i in range(warmups + runs):
        c = child(["crm", str(db)])[:2]
        b = child(["bare"])[:2]
        if i >= warmups:
            crm.append(c)
            bare.append(b)
    return crm, bare


async def in_process(db_path: Path) -> dict[str, list[float]]:
    from crmcli.db import open_database
    from crmcli.services import activities, contacts
    from crmcli.tui.app import make_app

    db = open_database(str(db_path))
    card_id = _timeline_contact(db, contacts, activities)
    app = make_app(db, start="contacts")
    times: dict[str, list[float]] = {"keystroke": [], "keystroke_cpu": [], "card": [], "end": []}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        table = screen.table
        _watch_drawing(table)
        await _until(pilot, lambda: table.loaded)
        say("keystrokes in the search box")
        box = screen.query_one("#search")
        for _ in range(3):
            for word in WORDS:
                box.focus()
                for letter in word:
                    epoch = table._epoch
                    started, cpu = time.perf_counter(), time.process_time()
                    _send_key(app, letter)
                    await _until(pilot, lambda e=epoch: _updated(table, e))
                    await _drawn(table)
                    times["keystroke"].append(time.perf_counter() - started)
                    times["keystroke_cpu"].append(time.process_time() - cpu)
                    await pilot.pause()
                box.value = ""
                await _until(pilot, lambda: table.loaded and not table._pending)
                await app.workers.wait_for_complete()
        table.focus()
        say("End to the last contact")
        for _ in range(15):
            await pilot.press("home")
            await _until(pilot, lambda: table.current is not None)
            started = time.perf_counter()
            _send_key(app, "end")
            await _until(pilot, lambda: table.current is not None and table.cursor > 0)
            await _drawn(table)
            times["end"].append(time.perf_counter() - started)
            await pilot.pause()
        say(f"opening a card with a {TIMELINE_ITEMS}-item timeline")
        for _ in range(15):
            started = time.perf_counter()
            app.open_contact(card_id)
            await _until(pilot, lambda: _card_ready(app))
            times["card"].append(time.perf_counter() - started)
            app.pop_screen()
            await pilot.pause()
    db.close()
    return times


def _send_key(app, key: str) -> None:
    """A key as the terminal driver delivers it, without the pilot's waits for idleness
    (those add tens of milliseconds that are the test harness's, not the app's)."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


def _watch_drawing(table) -> None:
    """Record when the table last drew a line (its update on the screen)."""
    draw = table.render_line
    table.drawn_at = 0.0

    def render_line(y: int):
        table.drawn_at = time.perf_counter()
        return draw(y)

    table.render_line = render_line


async def _drawn(table) -> None:
    """Wait until the table has drawn since its data landed (just now: the caller polls
    every half millisecond)."""
    since = time.perf_counter() - 0.001
    deadline = since + 5
    while table.drawn_at < since and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)


def _updated(table, epoch: int) -> bool:
    return (
        table._epoch > epoch
        and not table.fetching
        and not table._pending
        and (table.total == 0 or table.row(table.cursor) is not None)
    )


def _card_ready(app) -> bool:
    screen = app.screen
    return (
        type(screen).__name__ == "ContactCard"
        and not any(w.is_running for w in app.workers if w.node is screen)
        and getattr(screen, "loaded", True)
    )


async def _until(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("bench: the screen did not update within 30 s")
        await asyncio.sleep(0.0005)


def _timeline_contact(db, contacts, activities) -> int:
    """A contact with TIMELINE_ITEMS activities: the bench's own, added once."""
    from crmcli.models import Contact

    found = Contact.select(Contact.id).where(Contact.name == "Bench Zeitleiste").first()
    if found is not None:
        return found.id
    with db.atomic():
        person = contacts.add_contact("Bench Zeitleiste", city="Köln")
        for i in range(TIMELINE_ITEMS):
            activities.log_activity("note", contact_id=person["id"], body=f"Notiz {i}")
    return person["id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--big", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    ensure_database(args.db, 100_000, 1_000_000)
    if args.big:
        ensure_database(args.big, 1_000_000, None)
    load = os.getloadavg()
    crm, bare = first_frame(args.db, args.runs)
    ratios = [c[0] / b[0] for c, b in zip(crm, bare, strict=True)]
    cpu_ratios = [c[1] / b[1] for c, b in zip(crm, bare, strict=True)]
    times = asyncio.run(in_process(args.db))
    memory = None
    if args.big:
        say("memory at 1,000,000 contacts")
        kib = child(["memory", str(args.big)])[2]
        memory = kib / 1024
    end_load = os.getloadavg()
    rows = []
    ratio = statistics.median(ratios)
    wall = [statistics.median(t[0] for t in runs) * 1000 for runs in (crm, bare)]
    cpu = [statistics.median(t[1] for t in runs) * 1000 for runs in (crm, bare)]
    rows.append(("first frame with contact rows vs a 50-row DataTable app (wall, paired)",
                 f"{wall[0]:.0f} ms vs {wall[1]:.0f} ms", f"{ratio:.2f}x",
                 f"≤ {FIRST_FRAME_RATIO}x", ratio <= FIRST_FRAME_RATIO))  # fmt: skip
    cpu_ratio = statistics.median(cpu_ratios)
    rows.append(("the same in CPU time (reported)", f"{cpu[0]:.0f} ms vs {cpu[1]:.0f} ms",
                 f"{cpu_ratio:.2f}x", "", True))  # fmt: skip
    for key, label, target in (
        ("keystroke", "keystroke in the search box to the updated table", KEYSTROKE_P95_MS),
        ("keystroke_cpu", "the same in CPU time of the app's process (reported)", None),
        ("card", f"open a card with a {TIMELINE_ITEMS}-item timeline", CARD_P95_MS),
        ("end", "End: the last contact shown", END_P95_MS),
    ):
        values = [t * 1000 for t in times[key]]
        p50, p95 = statistics.median(values), percentile(values, 95)
        rows.append((label, f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms",
                     "" if target is None else f"≤ {target:.0f} ms",
                     target is None or p95 <= target))  # fmt: skip
    if memory is not None:
        rows.append(("peak memory at 1,000,000 contacts", f"{memory:.0f} MiB", "",
                     f"≤ {MEMORY_MIB:.0f} MiB", memory <= MEMORY_MIB))  # fmt: skip
    print(f"Load average {load[0]:.1f} → {end_load[0]:.1f}; {os.cpu_count()} CPUs.\n")
    print("| what | measured | | target | |")
    print("|---|---:|---:|---:|---|")
    for label, a, b, target, ok in rows:
        print(f"| {label} | {a} | {b} | {target} | {'ok' if ok else 'MISSED'} |")
    return 1 if args.check and not all(r[-1] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
