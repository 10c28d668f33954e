"""Mailings load jinja2, babel, smtplib and the email package only when `crm mail` runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

MAIL_ONLY = {"jinja2", "babel", "smtplib", "email", "aiosmtpd"}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["list", "contacts"], ["show", "1"], ["consent", "1"], ["mail", "--help"],
     ["consent", "1", "withdraw", "--purpose", "newsletter"]],
)  # fmt: skip
def test_other_commands_do_not_load_the_mail_libraries(tmp_path, argv):
    probe = f"""
import sys
from crmcli.cli import main
for args in (['add', 'contact', 'Anna', '--consent'], {argv!r}):
    sys.argv = ['crm', '--db', {str(tmp_path / "x.db")!r}, *args]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
print("LOADED:" + " ".join(sorted({{m.split('.')[0] for m in sys.modules}} & {MAIL_ONLY!r})))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.splitlines()[-1] == "LOADED:", done.stdout[-300:] + done.stderr[-300:]
