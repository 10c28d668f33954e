"""bench/documents.py: a one-page PDF letter, `crm doc render letter REF -o x.pdf`, as a whole
process (target ≤ 300 ms) and in process; and `import fpdf` alone, the floor under it.

    python bench/documents.py            # a 200-contact demo database in a temporary directory
    python bench/documents.py --runs 20 --check

Prints Markdown. Whole-process figures are wall and CPU (user + system of the child) medians;
on a shared machine the CPU figure is the steadier one.
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


def timed(argv: list[str], env: dict, cwd: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def medians(argv: list[str], env: dict, cwd: str, runs: int) -> tuple[float, float]:
    timed(argv, env, cwd)  # warm-up: bytecode and the page cache
    samples = [timed(argv, env, cwd) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


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
    with tempfile.TemporaryDirectory(prefix="crm-bench-doc-") as tmp:
        env = {**os.environ, "CRM_DB": str(Path(tmp) / "crm.db"),
               "CRM_CONFIG_DIR": str(Path(tmp) / "config")}  # fmt: skip
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([*CRM, "demo", "--contacts", "200"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        sender = ["name=Muster Büro GmbH", "street=Hauptstraße 1", "zip=10115", "city=Berlin",
                  "iban=DE89370400440532013000", "vat_id=DE123456789"]  # fmt: skip
        subprocess.run([*CRM, "doc", "sender", *sender], env=env, check=True, capture_output=True)
        letter = [*CRM, "doc", "render", "letter", "1", "-o", "x.pdf", "--no-log", "-m", TEXT]
        pdf_wall, pdf_cpu = medians(letter, env, tmp, args.runs)
        md_wall, md_cpu = medians([*letter[:-5], "-o", "x.md", "--no-log"], env, tmp, args.runs)
        imp_wall, imp_cpu = medians([sys.executable, "-c", "import fpdf"], env, tmp, args.runs)
        bare_wall, bare_cpu = medians([sys.executable, "-c", "pass"], env, tmp, args.runs)
        size = (Path(tmp) / "x.pdf").stat().st_size
        warm = in_process(env["CRM_DB"], env["CRM_CONFIG_DIR"], args.runs)
    load = os.getloadavg()[0]
    print(f"Documents ({args.runs} runs each, median; load {load:.2f}, {os.cpu_count()} cores)\n")
    print("| what | wall | CPU | target |")
    print("| --- | ---: | ---: | --- |")
    verdict = "met" if pdf_wall <= TARGET_S else "missed"
    print(f"| `crm doc render letter 1 -o x.pdf` ({size:,} bytes) | {pdf_wall * 1000:.0f} ms "
          f"| {pdf_cpu * 1000:.0f} ms | ≤ 300 ms: {verdict} |")  # fmt: skip
    print(
        f"| the same as Markdown (no fpdf2) | {md_wall * 1000:.0f} ms | {md_cpu * 1000:.0f} ms | |"
    )
    print(f"| `python -c 'import fpdf'` | {imp_wall * 1000:.0f} ms | {imp_cpu * 1000:.0f} ms | |")
    print(f"| one more PDF in a process that made one (render_document) | {warm * 1000:.0f} ms "
          "| | |")  # fmt: skip
    print(f"| `python -c pass` | {bare_wall * 1000:.0f} ms | {bare_cpu * 1000:.0f} ms | |")
    return 1 if args.check and pdf_wall > TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
