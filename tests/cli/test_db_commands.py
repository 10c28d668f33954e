"""`crm db check|migrate|backup|path` and database selection through the CLI."""

from __future__ import annotations

import os
import stat


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
