"""A database file that does not exist yet: `crm db restore` restores into it as it is (no
empty database first, no safety copy of one)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from typer.testing import CliRunner

from crmcli.cli import app


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_restore_into_a_missing_file_just_restores(crm, tmp_path):
    crm("add", "contact", "Anna Weiß")
    backup = tmp_path / "b.db"
    assert crm("db", "backup", str(backup)).exit_code == 0
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    target = new_dir / "crm.db"
    r = run("--db", str(target), "db", "restore", str(backup))  # nothing to lose: no --yes
    assert r.exit_code == 0, r.stderr
    assert "Kept the previous" not in r.stderr
    assert f"Restored {backup} into {target}" in r.stderr
    assert sorted(p.name for p in new_dir.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "crm.db"
    ]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    r = run("--db", str(target), "list", "contacts", "-o", "json")
    assert [c["name"] for c in json.loads(r.stdout)] == ["Anna Weiß"]
    assert run("--db", str(target), "db", "check").exit_code == 0


def test_restore_of_an_old_backup_into_a_missing_file_upgrades_it(tmp_path):
    old = tmp_path / "old.db"
    shutil.copyfile(Path(__file__).parent.parent / "fixtures" / "schema3-early-d90d88f.db", old)
    target = tmp_path / "crm.db"
    r = run("--db", str(target), "db", "restore", str(old))
    assert r.exit_code == 0, r.stderr
    assert "Upgraded the restored database" in r.stderr
    assert run("--db", str(target), "db", "check").exit_code == 0


def test_a_bad_backup_into_a_missing_file_makes_nothing(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    target = tmp_path / "crm.db"
    for bad in (junk, tmp_path / "missing.db"):
        r = run("--db", str(target), "db", "restore", str(bad))
        assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1
    r = run("--db", str(tmp_path / "nodir" / "crm.db"), "db", "restore", str(junk))
    assert r.exit_code == 1
    assert not target.exists() and not list(tmp_path.glob(".crm.db.*"))
