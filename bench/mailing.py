"""Prove issue 19's mailing promise: 1,000 personalised mails rendered in at most 2 s.

    python bench/mailing.py [--mails 1000] [--runs 5] [--check]

Builds a demo database in a temporary directory (1,200 contacts), gives the first N with an
email a confirmed newsletter consent, then times, median of the runs:

1. In process: plan the mailing (`mailing.plan_contacts`: the segment, consent in force,
   mails sent already) and render every mail of the built-in `newsletter` template (text and
   HTML part, headers, footer) to bytes, as the SMTP client or an .eml file gets them.
2. The whole command: `crm mail newsletter --to all --eml-dir DIR`, a new process each run
   (start-up, the database, rendering and writing 1,000 files).

Target: each ≤ 2 s. A report, not a test: exit code 0 unless the bench breaks, or with
`--check` 1 when a target fails. Progress on stderr; stdout is only the Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crmcli import demo  # noqa: E402
from crmcli.db import open_database  # noqa: E402
from crmcli.models import ConsentEntry, Contact  # noqa: E402
from crmcli.services import mailing, mailsettings  # noqa: E402

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
TARGET_S = 2.0


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def build(path: Path, mails: int) -> None:
    database = open_database(str(path))
    demo.fill_demo(contacts=max(1200, mails + 200), seed=19, now=NOW)
    ids = [
        i for (i,) in Contact.select(Contact.id).where(Contact.email.is_null(False))
        .order_by(Contact.id).limit(mails).tuples()
    ]  # fmt: skip
    with database.atomic():
        ConsentEntry.delete().where(ConsentEntry.purpose == "newsletter").execute()
        ConsentEntry.insert_many(
            [(i, "newsletter", "grant", NOW, "bench", NOW, NOW) for i in ids],
            fields=[ConsentEntry.contact, ConsentEntry.purpose, ConsentEntry.action,
                    ConsentEntry.at, ConsentEntry.source, ConsentEntry.confirmed_at,
                    ConsentEntry.created_at],
        ).execute()  # fmt: skip
    database.close()


def in_process(path: Path) -> tuple[float, int, int]:
    database = open_database(str(path))
    settings = mailsettings.settings()
    start = time.perf_counter()
    plan = mailing.plan_contacts("newsletter", {}, every=True, now=NOW)
    messages = mailing.render(plan, settings, now=NOW)
    size = sum(len(mailing.as_bytes(mail.message)) for mail in messages)
    elapsed = time.perf_counter() - start
    database.close()
    return elapsed, len(messages), size


def whole_command(path: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    crm = Path(sys.executable).parent / "crm"
    start = time.perf_counter()
    subprocess.run(
        [str(crm), "--db", str(path), "mail", "newsletter", "--to", "all", "--eml-dir", str(out)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if len(list(out.glob("*.eml"))) == 0:
        raise SystemExit("the command wrote no mails")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("CRM_SMTP_FROM", "Beispiel GmbH <info@beispiel.de>")
    # no config.toml and no templates of the user's: the built-in newsletter template
    os.environ["CRM_CONFIG_DIR"] = "/nonexistent/crm-bench-config"
    with tempfile.TemporaryDirectory(prefix="crm-bench-mail-") as tmp:
        path = Path(tmp) / "mail.db"
        log(f"building {path} ...")
        build(path, args.mails)
        inner, counts, sizes = [], set(), set()
        for run in range(args.runs):
            seconds, count, size = in_process(path)
            inner.append(seconds)
            counts.add(count)
            sizes.add(size)
            log(f"in process run {run + 1}: {seconds:.3f} s for {count} mails")
        outer = []
        for run in range(args.runs):
            seconds = whole_command(path, Path(tmp) / "eml")
            outer.append(seconds)
            log(f"command run {run + 1}: {seconds:.3f} s")
    (count,) = counts
    rows = [
        ("plan + render to bytes, in process", statistics.median(inner), min(inner)),
        ("`crm mail newsletter --to all --eml-dir DIR`", statistics.median(outer), min(outer)),
    ]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {count:,} mails of {max(sizes) // count:,} bytes each "
          f"(text and HTML part); load {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print("| what | median s | best s | target |")
    print("| --- | ---: | ---: | --- |")
    failed = False
    for what, median, best in rows:
        ok = median <= TARGET_S
        failed |= not ok
        print(f"| {what} | {median:.3f} | {best:.3f} | ≤ {TARGET_S:.0f} s {'✓' if ok else '✗'} |")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
