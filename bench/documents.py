"""bench/documents.py: a one-page PDF letter, `crm doc render letter REF -o x.pdf`, as a whole
process (target ≤ 300 ms) and in process; and importing fpdf2, the floor under it.

    python bench/documents.py            # a 200-contact demo database in a temporary directory
    python bench/documents.py --runs 20 --check

Prints Markdown. Whole-process figures are wall and CPU (user + system of the child) medians;
the commands take turns (PDF, Markdown, PDF, ...) after a warm-up round, so a busy stretch of
a shared machine hits each alike. On a shared machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.300
TEXT = "vielen Dank für Ihren Besuch. Größe, Maß und Preis: 1.234,50 €."
CRM = [sys.executable, "-m", "crmcli"]
# fpdf2 imported the way crm imports it (services/document_pdf.py), without the rest of crm.
CRM_IMPORT = "from crmcli.services.document_pdf import _load_fpdf; _load_fpdf()"


def timed(argv: list[str], env: dict, cwd: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def medians(commands: dict[str, list[str]], env: dict, cwd: str, runs: int) -> dict:
    """Median (wall, CPU) of each command, run in turn `runs` times after one warm-up round
    (bytecode and the page cache)."""
    for argv in commands.values():
        timed(argv, env, cwd)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(timed(argv, env, cwd))
    return {
        name: (statistics.median(s[0] for s in got), statistics.median(s[1] for s in got))
        for name, got in samples.items()
    }


def in_process(db: str, config: str, runs: int) -> float:
    """The median time of render_document(letter, pdf) once fpdf2 and the fonts are loaded."""
    os.environ["CRM_CONFIG_DIR"] = config
    from crmcli.db import open_database
    from crmcli.services.documents import render_document

    database = open_database(db)
    render_document("letter", "1", fmt="pdf", text=TEXT)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render_document("letter", "1", fmt="pdf", text=TEXT)
        times.append(time.perf_counter() - start)
    database.close()
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="crm-bench-doc-") as tmp:
        env = {**os.environ, "CRM_DB": str(Path(tmp) / "crm.db"),
               "CRM_CONFIG_DIR": str(Path(tmp) / "config")}  # fmt: skip
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([*CRM, "demo", "--contacts", "200"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        sender = ["name=Muster Büro GmbH", "street=Hauptstraße 1", "zip=10115", "city=Berlin",
                  "iban=DE89370400440532013000", "vat_id=DE123456789"]  # fmt: skip
        subprocess.run([*CRM, "doc", "sender", *sender], env=env, check=True, capture_output=True)
        letter = [*CRM, "doc", "render", "letter", "1", "--no-log", "-m", TEXT]
        got = medians(
            {
                "pdf": [*letter, "-o", "x.pdf"],
                "md": [*letter, "-o", "x.md"],
                "crm_import": [sys.executable, "-c", CRM_IMPORT],
                "import": [sys.executable, "-c", "import fpdf"],
                "bare": [sys.executable, "-c", "pass"],
            },
            env, tmp, args.runs,
        )  # fmt: skip
        size = (Path(tmp) / "x.pdf").stat().st_size
        warm = in_process(env["CRM_DB"], env["CRM_CONFIG_DIR"], args.runs)
    load_after = os.getloadavg()[0]
    print(
        f"Documents ({args.runs} runs each, in turn, medians; load average {load_before:.2f} "
        f"at the start, {load_after:.2f} at the end; {os.cpu_count()} cores)\n"
    )
    print("| what | wall | CPU | target |")
    print("| --- | ---: | ---: | --- |")

    def row(what: str, key: str, target: str = "") -> None:
        wall, cpu = got[key]
        print(f"| {what} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {target} |")

    pdf_wall = got["pdf"][0]
    verdict = "met" if pdf_wall <= TARGET_S else "missed"
    row(f"`crm doc render letter 1 -o x.pdf` ({size:,} bytes)", "pdf", f"≤ 300 ms: {verdict}")
    row("the same as Markdown (no fpdf2)", "md")
    row("fpdf2 imported as crm imports it (`_load_fpdf()`)", "crm_import")
    row("`python -c 'import fpdf'` (all of it, numpy too)", "import")
    print(f"| one more PDF in a process that made one (render_document) | {warm * 1000:.0f} ms "
          "| | |")  # fmt: skip
    row("`python -c pass`", "bare")
    return 1 if args.check and pdf_wall > TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
