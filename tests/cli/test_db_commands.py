"""`crm db check|migrate|backup|path` and database selection through the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path


def test_db_check_ok_and_failing(crm, db_path):
    crm("add", "contact", "Jürgen Müller")
    r = crm("db", "check")
    assert r.exit_code == 0 and r.stderr.startswith("ok: ")
    from peewee import SqliteDatabase

    raw = SqliteDatabase(str(db_path))
    raw.execute_sql("DELETE FROM search_index")
    raw.close()
    r = crm("db", "check")
    assert r.exit_code == 1
    assert "1 contact not indexed" in r.stdout
    assert r.stderr.startswith("crm: error: 1 problem found in ")
    r = crm("db", "check", "--repair")
    assert r.exit_code == 0, r.stderr
    assert crm("search", "muller", "-o", "json").json()[0]["name"] == "Jürgen Müller"


def test_db_check_repairs_reminder_queues_without_reminding_twice(crm, db_path):
    crm("add", "contact", "Vera", "--every", "7 days")
    crm("add", "task", "Angebot nachfassen", "--due", "yesterday 9:00")
    assert len(crm("remind", "-o", "json").json()) == 1  # Vera is due in a week
    from peewee import SqliteDatabase

    raw = SqliteDatabase(str(db_path))
    raw.execute_sql("UPDATE task SET open_due_at = NULL, remind_at = 1")
    raw.execute_sql("UPDATE contact SET cadence_eff = 99, touch_due = NULL")
    raw.close()
    r = crm("db", "check")
    assert r.exit_code == 1
    assert "reminder queues: tasks out of step: 1" in r.stdout
    assert "reminder queues: contacts out of step: 1" in r.stdout
    r = crm("db", "check", "--repair")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "Rebuilt the reminder queues" in r.stderr
    assert crm("db", "check").exit_code == 0
    assert crm("remind", "-o", "json").json() == []  # printed before the damage: not again
    assert len(crm("list", "tasks", "--overdue", "-o", "json").json()) == 1


def test_db_migrate_lists_migrations(crm):
    r = crm("db", "migrate", "-o", "json")
    assert r.exit_code == 0
    assert r.json()[0]["migration"] == "0001_initial"
    assert r.json()[0]["applied_at"]


def test_db_backup(crm, tmp_path):
    crm("add", "contact", "Anna")
    r = crm("db", "backup", str(tmp_path / "b.db"))
    assert r.exit_code == 0
    assert r.stdout.strip() == str(tmp_path / "b.db")
    assert stat.S_IMODE(os.stat(tmp_path / "b.db").st_mode) == 0o600
    assert crm("db", "backup", str(tmp_path / "b.db")).exit_code == 1


def test_crm_db_env_is_used(tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    path = tmp_path / "env.db"
    r = CliRunner().invoke(app, ["db", "path"], env={"CRM_DB": str(path)})
    assert r.stdout.strip() == str(path)
    r = CliRunner().invoke(app, ["add", "contact", "X"], env={"CRM_DB": str(path)})
    assert r.exit_code == 0 and path.exists()


def test_unopenable_database_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"x" * 4096)
    r = CliRunner().invoke(app, ["--db", str(junk), "list", "contacts"])
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: cannot open database")
    assert len(r.stderr.splitlines()) == 1


def test_a_missing_directory_in_db_or_crm_db_is_an_error(tmp_path):
    """A typo in a cron job's --db must not read an empty new database ("nothing due")."""
    from typer.testing import CliRunner

    from crmcli.cli import app

    typo = tmp_path / "tpyo" / "crm.db"
    r = CliRunner().invoke(app, ["--db", str(typo), "remind", "--exit-code"])
    assert r.exit_code == 1
    assert r.stderr == f"crm: error: no directory {typo.parent} for the database crm.db\n"
    r = CliRunner().invoke(app, ["list", "contacts"], env={"CRM_DB": str(typo)})
    assert r.exit_code == 1 and "no directory" in r.stderr
    assert not typo.parent.exists()


def test_a_dangling_symlink_as_db_or_backup_target_is_refused(crm, tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "nowhere.db")
    r = CliRunner().invoke(app, ["--db", str(link), "list", "contacts"])
    assert r.exit_code == 1 and "symbolic link" in r.stderr
    crm("add", "contact", "Anna")
    r = crm("db", "backup", str(link))
    assert r.exit_code == 1 and "symbolic link" in r.stderr
    assert not (tmp_path / "nowhere.db").exists()


def test_db_backup_into_a_directory_gets_a_dated_name_and_never_overwrites(crm, tmp_path):
    crm("add", "contact", "Anna")
    backups = tmp_path / "backups"
    backups.mkdir()
    first = crm("db", "backup", str(backups)).stdout.strip()
    second = crm("db", "backup", str(backups)).stdout.strip()
    # CRM_NOW is 2026-11-23 10:00 in Berlin
    assert first == str(backups / "crm-backup-2026-11-23-1000.db")
    assert second == str(backups / "crm-backup-2026-11-23-1000-2.db")
    assert {p.name for p in backups.iterdir()} == {Path(first).name, Path(second).name}
    assert stat.S_IMODE(os.stat(second).st_mode) == 0o600


def test_db_backup_killed_mid_copy_leaves_no_file_that_looks_like_a_database(db_path, tmp_path):
    """kill -9 during the copy (here: just before the copy is made durable)."""
    import subprocess
    import sys

    from crmcli.db import open_database

    open_database(str(db_path)).close()
    dest = tmp_path / "backup.db"
    code = (
        "import os, signal, sys\n"
        "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from crmcli.cli import app\n"
        "sys.argv = ['crm', '--db', sys.argv[1], 'db', 'backup', sys.argv[2]]\n"
        "app()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(db_path), str(dest)])
    assert proc.returncode == -9
    assert not dest.exists()
    left = [p.name for p in tmp_path.iterdir() if not p.name.startswith(db_path.name)]
    assert all(name.startswith(".backup.db.") and name.endswith(".part") for name in left), left


def test_db_check_of_a_file_without_the_crm_schema_is_an_error(tmp_path):
    import sqlite3

    from typer.testing import CliRunner

    from crmcli.cli import app

    empty = tmp_path / "empty.db"
    empty.touch()
    r = CliRunner().invoke(app, ["--db", str(empty), "db", "check"])
    assert r.exit_code == 1
    assert r.stderr == f"crm: error: {empty} is not a crm database (it has no crm tables)\n"
    assert empty.stat().st_size == 0  # not turned into one
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    r = CliRunner().invoke(app, ["--db", str(foreign), "db", "check"])
    assert r.exit_code == 1 and "not a crm database" in r.stderr


def test_db_restore_replaces_the_database_and_keeps_a_safety_copy(crm, db_path, tmp_path):
    crm("add", "contact", "Anna Weiß")
    backup = tmp_path / "b.db"
    assert crm("db", "backup", str(backup)).exit_code == 0
    crm("add", "contact", "Bernd Neu")
    r = crm("db", "restore", str(backup))
    assert r.exit_code == 1 and "pass --yes" in r.stderr  # no terminal to ask
    r = crm("db", "restore", str(backup), "--yes")
    assert r.exit_code == 0, r.stderr
    names = [c["name"] for c in crm("list", "contacts", "-o", "json").json()]
    assert names == ["Anna Weiß"]
    assert crm("search", "weiss", "-o", "json").json()[0]["name"] == "Anna Weiß"
    safety = tmp_path / "crm-before-restore-2026-11-23-1000.db"
    assert f"Kept the previous database in {safety}" in r.stderr
    assert stat.S_IMODE(os.stat(safety).st_mode) == 0o600
    from typer.testing import CliRunner

    from crmcli.cli import app

    old = CliRunner().invoke(app, ["--db", str(safety), "list", "contacts", "-o", "json"])
    assert {c["name"] for c in json.loads(old.stdout)} == {"Anna Weiß", "Bernd Neu"}
    assert crm("db", "check").exit_code == 0


def test_db_restore_refuses_what_is_not_a_crm_database(crm, tmp_path):
    crm("add", "contact", "Anna")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    empty = tmp_path / "empty.db"
    empty.touch()
    for bad in (junk, empty, tmp_path / "missing.db"):
        r = crm("db", "restore", str(bad), "--yes")
        assert r.exit_code == 1, bad
        assert len(r.stderr.splitlines()) == 1
    assert [c["name"] for c in crm("list", "contacts", "-o", "json").json()] == ["Anna"]
    assert not list(tmp_path.glob("*before-restore*"))


def test_db_restore_of_a_newer_schema_is_refused(crm, tmp_path):
    import sqlite3

    crm("add", "contact", "Anna")
    newer = tmp_path / "newer.db"
    crm("db", "backup", str(newer))
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    r = crm("db", "restore", str(newer), "--yes")
    assert r.exit_code == 1 and "newer than this crm" in r.stderr


def test_db_restore_of_an_old_version_upgrades_it(crm, tmp_path):

    from tests.fixtures import sqldump

    old = sqldump.load("schema3-early-d90d88f", tmp_path / "old.db")
    crm("add", "contact", "Anna")
    r = crm("db", "restore", str(old), "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Upgraded the restored database" in r.stderr
    assert crm("report", "funnel").exit_code == 0
    assert crm("add", "deal", "Neu", "-C", "jo@example.de").exit_code == 0


def test_db_help_lists_each_command_with_a_whole_sentence():
    from typer.testing import CliRunner

    from crmcli.cli import app

    r = CliRunner().invoke(app, ["db", "--help"])
    entries: list[str] = []
    for line in r.stdout.split("Commands:", 1)[1].splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            entries.append(line.strip())
        elif line.strip():
            entries[-1] += " " + line.strip()  # wrapped onto the next line
    assert [e.split()[0] for e in entries] == [
        "check", "migrate", "backup", "restore", "path", "setting",
    ]  # fmt: skip
    assert all(e.endswith(".") for e in entries), entries


def test_db_check_repairs_funnel_counters(crm, db_path):
    crm("add", "contact", "Eva")
    crm("add", "deal", "Dach", "-C", "eva", "--amount", "100")
    from peewee import SqliteDatabase

    raw = SqliteDatabase(str(db_path))
    raw.execute_sql("UPDATE pipeline_tally SET deals = deals + 1 WHERE kind = 'reached'")
    raw.close()
    r = crm("db", "check")
    assert r.exit_code == 1
    assert "funnel counters out of step" in r.stdout
    assert r.stderr.endswith("(run 'crm db check --repair')\n")  # the CLI words the hint
    r = crm("db", "check", "--repair")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "Recounted the funnel counters." in r.stderr
    assert crm("db", "check").exit_code == 0


def test_db_check_repairs_names_and_sources_copied_from_contacts(crm, db_path):
    """A task's copy of its contact's name and an order's of its source, written wrong with
    the triggers off (another program, a careless restore): found and copied again."""
    import importlib

    crm("add", "contact", "Eva Weiß", "--source", "messe")
    crm("add", "task", "Anrufen", "-C", "eva")
    crm("add", "product", "KAF", "Kaffee", "--price", "10")
    crm("add", "order", "eva", "--item", "KAF:1")
    migration = importlib.import_module("crmcli.migrations.0020_task_contact_name")
    raw = sqlite3.connect(db_path)
    with raw:
        raw.execute("DROP TRIGGER task_contact_name_changed")
        raw.execute("UPDATE task SET contact_name = 'Eva Alt'")
        raw.execute(migration.SQLITE[1])
        raw.execute("UPDATE sales_order SET source = 'web'")
    raw.close()
    r = crm("db", "check")
    assert r.exit_code == 1
    assert "copied from contacts: task contact names out of step: 1 row" in r.stdout
    assert "copied from contacts: order sources out of step: 1 row" in r.stdout
    r = crm("db", "check", "--repair")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert crm("db", "check").exit_code == 0
    assert crm("list", "tasks", "-o", "json").json()[0]["contact"] == "Eva Weiß"
    raw = sqlite3.connect(db_path)
    assert raw.execute("SELECT source FROM sales_order").fetchall() == [("messe",)]
    raw.close()
