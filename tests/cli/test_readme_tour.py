"""The README's "A tour" and "The sales pipeline" blocks run as written on a fresh database:
every command succeeds and every id they name exists."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def _block(heading: str) -> list[str]:
    """The commands of the first ```sh block after `heading`, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    body = re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)
    return [ln for ln in body.replace("\\\n", " ").splitlines() if ln.strip().startswith("crm ")]


def _run(crm, line: str, tmp_path: Path):
    command, _, pipe = line.partition(" | ")
    words = shlex.split(command, comments=True)
    stdin = None
    if "<" in words:  # `-m - < mail.txt`: the mail arrives on stdin
        at = words.index("<")
        stdin = "Die Lieferung kam beschädigt an.\n"
        del words[at : at + 2]
    if ">" in words:
        at = words.index(">")
        del words[at : at + 2]
    result = crm(*words[1:], input=stdin)
    assert result.exit_code == 0, f"{line}\n{result.stderr}"
    assert "unexpected" not in result.stderr
    if pipe.startswith("jq"):
        json.loads(result.stdout)  # what jq would read
    return result


@pytest.fixture
def toured(crm, tmp_path):
    return [_run(crm, line, tmp_path) for line in _block("## A tour")]


def test_readme_tour_runs_as_written(crm, toured):
    lines = _block("## A tour")
    listed = toured[lines.index("crm list contacts --tag vip --city köln   "
                                "# a contact without a city is in its company's")]  # fmt: skip
    assert "Jürgen Müller" in listed.stdout
    searched = toured[[i for i, ln in enumerate(lines) if ln.startswith("crm search")][0]]
    assert "Müller Bau GmbH" in searched.stdout


def test_readme_pipeline_runs_as_written(crm, toured, tmp_path):
    for line in _block("### The sales pipeline"):
        _run(crm, line, tmp_path)
    deals = crm("list", "deals", "-o", "json").json()
    assert {(d["title"], d["status"]) for d in deals} == {
        ("Dachsanierung Köln", "won"),
        ("Fassade Müller", "open"),
    }
