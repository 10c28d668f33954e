"""A closed pipe is a quiet success: `crm list contacts | head -1` under `set -o pipefail`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_into_closed_pipe(db_target, *args: str) -> subprocess.CompletedProcess:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before crm writes a byte: deterministic EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-c", "from crmcli.cli import main; main()", "--db", db_target, *args],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [("list", "contacts"), ("list", "contacts", "-o", "json"), ("show", "1"), ("--help",)],
    ids=" ".join,
)
def test_a_closed_pipe_is_a_quiet_success(crm, db_target, args):
    for i in range(3):
        crm("add", "contact", f"Person {i}")
    r = run_into_closed_pipe(db_target, *args)
    assert (r.returncode, r.stderr) == (0, "")


def test_head_with_pipefail(crm, db_target, tmp_path):
    for i in range(3):
        crm("add", "contact", f"Person {i}")
    script = (
        f"set -o pipefail; {sys.executable} -c 'from crmcli.cli import main; main()' "
        f"--db '{db_target}' list contacts | head -1"
    )
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.split()[:2] == ["ID", "NAME"]
