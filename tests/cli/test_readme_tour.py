"""The README's "A tour" and "The sales pipeline" blocks run as a user runs them: pasted into
bash (`set -euo pipefail`, so any line that fails in a shell fails the test), with the
installed `crm` on PATH, in an empty directory, and no CRM_DB but the one the tour exports:
the ids the tour names are the ones it makes, and the default database stays untouched."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
BIN = Path(sys.executable).parent  # the test venv's bin: where pip installed `crm`


def _block(heading: str) -> str:
    """The first ```sh block after `heading`, as written."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)


def _shell(script: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "PG"))}
    path = [str(BIN)]
    if shutil.which("jq") is None:  # the tour pipes JSON into jq: a stand-in that parses it
        shim = home / "bin"
        shim.mkdir(exist_ok=True)
        (shim / "jq").write_text(f"#!{sys.executable}\nimport json, sys\njson.load(sys.stdin)\n")
        (shim / "jq").chmod(0o755)
        path.append(str(shim))
    env.update(
        PATH=os.pathsep.join([*path, env.get("PATH", "")]), HOME=str(home),
        XDG_DATA_HOME=str(home / "data"), CRM_LOCALE="en",
    )  # fmt: skip
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    home, cwd = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("tour")
    script = _block("## A tour") + "\n" + _block("### The sales pipeline")
    done = _shell(script, cwd, home)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr}"
    return done, cwd, home


def test_the_tour_sets_its_own_database():
    first = [ln for ln in _block("## A tour").splitlines() if ln.strip()][0]
    assert first.startswith("export CRM_DB=tour.db")
    assert "> mail.txt" in _block("## A tour")  # it makes the mail it logs from stdin


def test_readme_tour_runs_in_a_shell(tour):
    done, cwd, home = tour
    assert (cwd / "tour.db").exists() and (cwd / "kontakte.csv").exists()
    assert not (home / "data" / "crmcli" / "crm.db").exists()  # the default database: untouched
    assert "Jürgen Müller" in done.stdout and "Müller Bau GmbH" in done.stdout
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr


def test_tour_ids_are_the_records_it_means(tour):
    _, cwd, home = tour

    def crm(*args: str):
        run = _shell("crm --db tour.db " + " ".join(args), cwd, home)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    complaint = crm("show", "activity", "2", "-o", "json")  # `crm resolve 2`
    assert complaint["kind"] == "complaint" and complaint["resolved_at"]
    assert complaint["body"] == "Die Lieferung kam beschädigt an."
    assert crm("show", "task", "2", "-o", "json")["title"] == "Wochenbericht"  # `crm done 2`
    assert crm("show", "task", "1", "-o", "json")["title"] == "Angebot nachfassen"  # snooze 1
    deals = crm("list", "deals", "-o", "json")
    assert {(d["title"], d["status"]) for d in deals} == {
        ("Dachsanierung Köln", "won"),
        ("Fassade Müller", "open"),
    }
