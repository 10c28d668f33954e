"""Errors of the operating system at the edge: one clear line and exit 1, never
"unexpected OSError"."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_full_disk_is_one_clear_line(crm, db_target, fmt):
    for i in range(50):
        crm("add", "contact", f"Person {i}")
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [sys.executable, "-c", "from crmcli.cli import main; main()", "--db", db_target,
             "list", "contacts", "-n", "0", "-o", fmt],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert r.returncode == 1
    assert r.stderr == "crm: error: cannot write output: No space left on device\n"


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (OSError(errno.EIO, "Input/output error"), "cannot write output: Input/output error"),
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/x.csv"),
            "/srv/x.csv: Permission denied",
        ),
        (OSError(errno.EMFILE, "Too many open files"), "Too many open files"),
    ],
)
def test_other_os_errors_say_what_and_where(crm, monkeypatch, exc, line):
    from crmcli.services import contacts

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(contacts, "iter_contacts", fail)
    r = crm("list", "contacts")
    assert (r.exit_code, r.stderr) == (1, f"crm: error: {line}\n")
