"""The database layer: choosing the file, private mode, pragmas, migrations, check, backup."""

from __future__ import annotations

import os
import stat

import pytest

from crmcli import db as dbmod
from crmcli.errors import DatabaseError
from crmcli.services import maintenance
from tests.conftest import NOW


def test_new_file_is_private_and_tuned(db, db_path):
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    pragma = lambda name: db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == dbmod.BUSY_TIMEOUT_MS
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("user_version") == dbmod.SCHEMA_VERSION


def test_private_even_with_a_permissive_umask(tmp_path, monkeypatch):
    """The default location is made on first use, 0700 directories and 0600 files even
    under umask 000."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    old = os.umask(0)
    try:
        database = dbmod.open_database(dbmod.resolve_target(None))
        database.execute_sql("CREATE TABLE t (x)")  # makes SQLite write its -wal and -shm files
        home = tmp_path / "data" / "crmcli"
        for name in os.listdir(home):
            assert stat.S_IMODE(os.stat(home / name).st_mode) & 0o077 == 0, name
        assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
        database.close()
        explicit = dbmod.open_database(str(tmp_path / "given.db"))
        assert stat.S_IMODE(os.stat(tmp_path / "given.db").st_mode) == 0o600
        explicit.close()
    finally:
        os.umask(old)


def test_a_missing_directory_is_an_error_not_created(tmp_path):
    """A typo in --db or CRM_DB must not become an empty database a cron job reads for ever."""
    with pytest.raises(DatabaseError, match=r"no directory .*/typo for the database crm.db"):
        dbmod.open_database(str(tmp_path / "typo" / "crm.db"))
    assert not (tmp_path / "typo").exists()


def test_a_dangling_symlink_is_refused(tmp_path):
    link = tmp_path / "crm.db"
    link.symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(DatabaseError, match="symbolic link to .*elsewhere.db, which does not"):
        dbmod.open_database(str(link))
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_symlink_to_a_database_is_followed(tmp_path):
    real = dbmod.open_database(str(tmp_path / "real.db"))
    real.close()
    (tmp_path / "link.db").symlink_to(tmp_path / "real.db")
    database = dbmod.open_database(str(tmp_path / "link.db"))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    database.close()


def test_target_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_DB", "/from/env.db")
    assert dbmod.resolve_target("/from/option.db") == "/from/option.db"
    assert dbmod.resolve_target(None) == "/from/env.db"
    monkeypatch.delenv("CRM_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert dbmod.resolve_target(None) == str(tmp_path / "crmcli" / "crm.db")


def test_describe_hides_passwords():
    assert dbmod.describe("postgresql://crm:s3cret@db.local:5432/crm") == (
        "postgresql://crm@db.local:5432/crm"
    )


def test_schema_version_matches_the_newest_migration_file():
    numbers = [int(p.name.split("_")[0]) for p in dbmod.MIGRATIONS_DIR.glob("[0-9]*.py")]
    # Parallel branches number their migrations apart (0011 to 0015): a branch alone has a
    # gap that merging them closes; the newest is the version, and no number is used twice.
    assert max(numbers) == dbmod.SCHEMA_VERSION and len(set(numbers)) == len(numbers)
    assert set(range(1, 11)) <= set(numbers)


def test_reopening_runs_no_migration(db, db_path):
    assert dbmod.ensure_schema(db) == []
    assert [name for name, applied in dbmod.migration_status(db) if applied is None] == []


def test_newer_database_is_refused(db_path):
    database = dbmod.open_database(str(db_path))
    database.execute_sql(f"PRAGMA user_version = {dbmod.SCHEMA_VERSION + 1}")
    database.close()
    with pytest.raises(DatabaseError, match="newer than this crm"):
        dbmod.open_database(str(db_path))


@pytest.mark.parametrize("stop", range(0, len(list(dbmod.MIGRATIONS_DIR.glob("[0-9]*.py")))))
def test_upgrade_from_every_older_version_keeps_data(tmp_path, stop):
    """A database left at migration `stop` (as an older crm made it) upgrades and keeps its rows."""
    from peewee import SqliteDatabase

    path = tmp_path / "old.db"
    old = SqliteDatabase(str(path))
    runner = dbmod._runner(old)
    names = [m.name for m in runner.migrations()]
    if stop:
        runner.up(target=names[stop - 1])
        old.execute_sql(f"PRAGMA user_version = {int(names[stop - 1][:4])}")
        old.execute_sql(
            "INSERT INTO contact (name, name_key, status, consent, created_at, updated_at) "
            "VALUES ('Alt Bestand', 'alt bestand', 'lead', 0, '2020-01-01', '2020-01-01')"
        )
    if stop >= 2:  # a contact's timeline must survive every later migration (no cascade)
        old.execute_sql(
            "INSERT INTO activity (kind, contact_id, occurred_at, created_at, updated_at) "
            "VALUES ('call', 1, '2020-01-02', '2020-01-02', '2020-01-02')"
        )
    old.close()

    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    if stop:
        from crmcli.models import Contact

        assert [c.name for c in Contact.select()] == ["Alt Bestand"]
    if stop >= 2:
        from crmcli.models import Activity

        assert [a.kind for a in Activity.select()] == ["call"]
    database.close()


def test_upgrade_to_4_arms_the_reminder_queues_without_repeating_what_was_printed(tmp_path):
    """A version-3 database with printed and unprinted reminders: after the upgrade, the next
    `crm remind` prints exactly the ones that were never printed."""
    from datetime import UTC, datetime, timedelta

    from peewee import SqliteDatabase

    from crmcli.services import reminders

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    path = tmp_path / "v3.db"
    old = SqliteDatabase(str(path))
    runner = dbmod._runner(old)
    runner.up(target=[m.name for m in runner.migrations()][2])
    old.execute_sql("PRAGMA user_version = 3")
    stamp = "2026-10-01 09:00:00"
    for name, cadence in (("Printed Cadence", 30), ("New Cadence", 30), ("No Cadence", None)):
        old.execute_sql(
            "INSERT INTO contact (name, name_key, status, consent, cadence_days, created_at, "
            "updated_at) VALUES (?, ?, 'lead', 0, ?, ?, ?)",
            (name, name.lower(), cadence, stamp, stamp),
        )
    for title in ("printed task", "new task"):
        old.execute_sql(
            "INSERT INTO task (title, name_key, due_at, due_has_time, priority, created_at, "
            "updated_at) VALUES (?, ?, '2026-11-20 08:00:00', 1, 1, ?, ?)",
            (title, title, stamp, stamp),
        )
    for subject in ("printed complaint", "new complaint"):
        old.execute_sql(
            "INSERT INTO activity (kind, contact_id, occurred_at, subject, status, created_at, "
            "updated_at) VALUES ('complaint', 3, '2026-11-01 10:00:00', ?, 'open', ?, ?)",
            (subject, stamp, stamp),
        )
    since = int(datetime(2026, 10, 1, 9, tzinfo=UTC).timestamp())
    due = int(datetime(2026, 11, 20, 8, tzinfo=UTC).timestamp())
    for key in (f"cadence:1:{since}:30", f"task:1:{due}", "open:1"):
        old.execute_sql("INSERT INTO reminder_log (key, reminded_at) VALUES (?, ?)", (key, stamp))
    old.close()

    database = dbmod.open_database(str(path))
    try:
        printed = reminders.remind(now, within=timedelta(hours=1))
        assert sorted(i["key"] for i in printed) == sorted(
            [f"cadence:2:{since}:30", f"task:2:{due}", "open:2"]
        )
        assert reminders.remind(now, within=timedelta(hours=1)) == []
    finally:
        database.close()


def test_missing_database_without_create(tmp_path):
    with pytest.raises(DatabaseError, match="no database"):
        dbmod.open_database(str(tmp_path / "nope.db"), create=False)


def test_directory_is_not_a_database(tmp_path):
    with pytest.raises(DatabaseError, match="directory"):
        dbmod.open_database(str(tmp_path))


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="cannot open database"):
        dbmod.open_database(str(path))


def test_check_finds_search_index_drift_and_repair_fixes_it(db):
    from crmcli.services import contacts, search

    contacts.add_contact("Jürgen Müller")
    assert maintenance.check(db) == []
    db.execute_sql("DELETE FROM search_index")
    assert maintenance.check(db) == ["search index: 1 contact not indexed"]
    search.rebuild()
    assert maintenance.check(db) == []


def test_backup_is_a_private_consistent_copy(db, tmp_path):
    from peewee import SqliteDatabase

    from crmcli.services import contacts

    contacts.add_contact("Anna Weiß")
    dest = dbmod.backup(db, tmp_path / "copy.db", now=NOW)
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    copy = SqliteDatabase(str(dest))
    assert copy.execute_sql("SELECT name FROM contact").fetchall() == [("Anna Weiß",)]
    copy.close()
    with pytest.raises(DatabaseError, match="exists"):
        dbmod.backup(db, dest, now=NOW)


def test_unknown_url_scheme_is_refused_not_made_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseError, match="unsupported database URL 'mysql://'"):
        dbmod.open_database("mysql://user@host/crm")
    assert list(tmp_path.iterdir()) == []


def test_backup_does_not_create_missing_directories(db, tmp_path):
    with pytest.raises(DatabaseError, match="no directory"):
        dbmod.backup(db, tmp_path / "missing" / "copy.db", now=NOW)
    assert not (tmp_path / "missing").exists()


def test_processes_opening_a_new_file_at_once_all_succeed(tmp_path):
    """cron and a person starting crm together on a new (or just upgraded) database."""
    import subprocess
    import sys

    path = tmp_path / "race.db"
    code = "import sys; from crmcli.db import open_database; open_database(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors


def test_db_imports_no_service_module():
    """db.py is below the services (services -> models -> db): it never imports them."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(dbmod))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m and m.startswith("crmcli.services")}
    assert not hasattr(dbmod, "plus_days_before")
    assert not hasattr(dbmod, "check")


def test_reports_do_not_test_the_backend():
    import inspect

    from crmcli.services import reports

    source = inspect.getsource(reports)
    assert "SqliteDatabase" not in source and "_sqlite" not in source


def test_check_finds_funnel_counters_out_of_step_and_repair_recounts(db):
    from crmcli.services import contacts, deals, stages, tallies

    eva = contacts.add_contact("Eva", now=NOW)["id"]
    deal = deals.add_deal("Dach", contact_id=eva, amount_cents=100_00, now=NOW)["id"]
    deals.win_deal(deal, now=NOW)
    deals.reopen_deal(deal, now=NOW)
    assert maintenance.check(db) == []
    # what the old rule kept: the reopened deal still counted in the won stage
    won = stages.won_stage()["id"]
    db.execute_sql("UPDATE pipeline_tally SET stage_id = ? WHERE kind = 'reached'", (won,))
    problems = maintenance.check(db)
    assert problems == ["funnel counters out of step"]
    kept = tallies.rows()
    assert maintenance.repair(problems) == ["Recounted the funnel counters."]
    assert maintenance.check(db) == []
    reached = [r[2] for r in tallies.rows() if r[0] == "reached"]
    assert tallies.rows() != kept and reached == [stages.list_stages()[0]["id"]]


@pytest.mark.parametrize("user_version", [0, 3, 42])
def test_another_programs_database_is_refused_and_left_alone(tmp_path, user_version):
    """A mistyped --db naming another program's SQLite file must not get crm's tables, and
    is not "newer than this crm" either, whatever its user_version says."""
    import sqlite3

    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a crm database .*other tables: t"):
        dbmod.open_database(str(path))
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["t"]
    conn.close()


def test_an_empty_file_becomes_a_private_crm_database(tmp_path):
    path = tmp_path / "touched.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    dbmod.open_database(str(path)).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert dbmod.sqlite_schema_version(path) == dbmod.SCHEMA_VERSION


def test_a_file_where_the_directory_should_be_is_named_so(tmp_path):
    (tmp_path / "s.db").write_text("")
    with pytest.raises(DatabaseError, match=r"s\.db is a file, not a directory"):
        dbmod.open_database(str(tmp_path / "s.db" / "x.db"))
