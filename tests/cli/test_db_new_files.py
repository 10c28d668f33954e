"""A database file that does not exist yet: `crm db restore` restores into it as it is (no
empty database first, no safety copy of one)."""

from __future__ import annotations

import json
import os
import stat

import pytest
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
    from tests.fixtures import sqldump

    old = sqldump.load("schema3-early-d90d88f", tmp_path / "old.db")
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


MISSING = "(crm add contact, add company, add task or crm demo create one)"


@pytest.mark.parametrize(
    "args",
    [
        ["show", "mueller"],
        ["list", "contacts"],
        ["list", "activities", "-o", "json"],
        ["search", "müller"],
        ["report", "funnel"],
        ["remind"],
        ["remind", "--all"],
        ["stages"],
        ["db", "check"],
        ["db", "backup", "b.db"],
        # Commands that change records, but need some first: they cannot work on an empty
        # database, and must not leave one behind when they fail.
        ["done", "3"],
        ["log", "call", "anna"],
        ["edit", "anna", "--city", "Köln"],
        ["tag", "anna", "vip"],
        ["move", "dach", "angebot"],
        ["add", "deal", "Dach", "-C", "anna"],
    ],
    ids=" ".join,
)
def test_a_read_command_on_a_missing_file_refuses_and_makes_nothing(tmp_path, monkeypatch, args):
    typo = tmp_path / "dmeo.db"
    monkeypatch.chdir(tmp_path)
    r = run("--db", str(typo), *args)
    assert r.exit_code == 1
    assert r.stderr == f"crm: error: no database at {typo} {MISSING}\n"
    assert list(tmp_path.iterdir()) == []


def test_crm_db_is_as_strict(tmp_path, monkeypatch):
    typo = tmp_path / "dmeo.db"
    monkeypatch.setenv("CRM_DB", str(typo))
    r = run("list", "contacts")
    assert r.exit_code == 1 and "no database at" in r.stderr
    assert not typo.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["add", "contact", "Anna"],
        ["add", "task", "Anrufen"],
        ["stages", "add", "Demo"],
        ["db", "migrate"],
    ],
    ids=" ".join,
)
def test_a_writing_command_creates_the_file_and_says_so_once(tmp_path, args):
    new = tmp_path / "neu.db"
    r = run("--db", str(new), *args)
    assert r.exit_code == 0, r.stderr
    assert r.stderr.count(f"crm: created a new database at {new}\n") == 1
    assert r.stderr.startswith("crm: created a new database")  # before what was done in it
    assert new.exists() and stat.S_IMODE(os.stat(new).st_mode) == 0o600
    r = run("--db", str(new), *args)
    assert "created a new database" not in r.stderr
    assert run("--db", str(new), "list", "contacts").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["add", "contact", "Anna", "--campaign", "nirgends"],
        ["add", "task", "Anrufen", "--due", "gestern um 25 Uhr"],
        ["log", "call", "niemand"],
    ],
    ids=" ".join,
)
def test_a_command_that_fails_leaves_no_new_file(tmp_path, args):
    """A refused first command (a typo in --db, a bad value) made nothing worth keeping: the
    file it created is gone again, and it never said it made one."""
    new = tmp_path / "neu.db"
    r = run("--db", str(new), *args)
    assert r.exit_code != 0 and r.stderr.startswith("crm: error: "), r.stderr
    assert "created a new database" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_default_file_is_made_silently_by_any_command(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from crmcli.db import default_path

    assert str(default_path()).startswith(str(tmp_path))
    r = run("list", "contacts", "-o", "json")
    assert (r.exit_code, r.stdout.strip(), r.stderr) == (0, "[]", "")
    assert default_path().exists()
    r = run("add", "contact", "Anna")
    assert r.exit_code == 0 and "created a new database" not in r.stderr
