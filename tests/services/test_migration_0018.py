"""Migration 0018 takes a database of schema 17 (stored export lines and their triggers,
(contact_id, position) indexes) to today's exact shape: the stored lines and triggers go,
the covering indexes come, every record stays, and its exports are what they were."""

from __future__ import annotations

import importlib
import sqlite3

import pytest
from peewee import SqliteDatabase

from crmcli import db as dbmod
from tests.services.test_old_databases import _counts, _shape

pytestmark = pytest.mark.sqlite_only

_0015 = importlib.import_module("crmcli.migrations.0015_export_lines")
_0018 = importlib.import_module("crmcli.migrations.0018_export_lines_dropped")
OLD_INDEXES = {
    "contactemail_contact_id_position": "contact_email (contact_id, position)",
    "contactphone_contact_id_position": "contact_phone (contact_id, position)",
    "contact_field_contact_id": "contact_field (contact_id)",
}


class _On(SqliteDatabase):
    """A plain connection's execute where a migration wants a peewee SQLite database."""

    def __init__(self, execute):
        super().__init__(None)
        self._run = execute

    def execute_sql(self, sql, params=None, commit=None):
        return self._run(sql, params or ())


def undo_0018(execute, *, sqlite: bool = True) -> None:
    """Put back what 0018 took away and take away what it added (`execute`: a connection's
    execute or execute_sql): the old indexes, and on SQLite 0015's tables and triggers."""
    for _old, new, _table, _columns in _0018.INDEXES:
        execute(f"DROP INDEX {new}")
    for name, target in OLD_INDEXES.items():
        execute(f"CREATE INDEX {name} ON {target}")
    if sqlite:
        _0015.up(None, _On(execute))
    execute("DELETE FROM schema_migration WHERE name = '0018_export_lines_dropped'")


def undo_0015(execute) -> None:
    """Take away what 0015 added (after undo_0018)."""
    for (name,) in execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'export_*'"
    ).fetchall():
        execute(f"DROP TRIGGER {name}")
    for table in ("export_csv", "export_json", "export_cache"):
        execute(f"DROP TABLE {table}")
    execute("DELETE FROM schema_migration WHERE name = '0015_export_lines'")


def _schema(path, version: int) -> None:
    """A database of schema 17 (with some stored lines, as an export left them) or 14."""
    from tests.services.test_migration_0016 import undo_0016

    conn = sqlite3.connect(path)
    with conn:
        undo_0018(conn.execute)
        conn.execute("INSERT INTO export_csv SELECT id, 'stale' FROM contact")
        conn.execute("INSERT INTO export_cache VALUES ('csv_keys', '[]')")
        if version == 14:
            undo_0016(conn)
            undo_0015(conn.execute)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


@pytest.mark.parametrize("version", [17, 14])
def test_an_older_database_upgrades_and_exports_the_same(tmp_path, version):
    from tests.services.test_export_after_changes import _matches
    from tests.services.test_exports import _awkward_contacts

    path, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    _awkward_contacts()
    database.close()
    _schema(path, version)
    before = _counts(path)
    assert ("export_csv" in before) is (version == 17)
    assert _shape(path) != _shape(fresh)
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    database.close()
    assert _shape(path) == _shape(fresh)  # no export_ table or trigger, the new indexes
    after = _counts(path)
    ran = {17: 1, 14: 4}[version]  # 0018; or 0015, 0016, 0017's row kept, 0018
    assert after.pop("schema_migration") == before.pop("schema_migration") + ran - (version == 14)
    assert {t: n for t, n in before.items() if not t.startswith("export_")} == after
    database = dbmod.open_database(str(path))
    _matches()
    plan = " ".join(
        str(row)
        for row in database.execute_sql(
            "EXPLAIN QUERY PLAN SELECT group_concat(kind) FROM contact_email "
            "WHERE contact_id = 1 GROUP BY is_primary"
        ).fetchall()
    )
    assert "COVERING INDEX contact_email_covering" in plan
    database.close()


def test_the_order_status_changes_applied_as_0015_are_not_made_again(tmp_path):
    """A database of the branch that wrote the order status changes as migration 0015 (before
    the export lines and the ROI facts took 0015 and 0016): its table is there and its row
    has the old name. It upgrades to today's exact shape, the table not made twice."""
    from tests.services.test_exports import _awkward_contacts

    path, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    _awkward_contacts()
    database.close()
    _schema(path, 14)  # 0015 to 0018 taken away; the order status changes kept
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE schema_migration SET name = '0015_order_status_changes' "
            "WHERE name = '0017_order_status_changes'"
        )
        conn.execute("PRAGMA user_version = 15")
    conn.close()
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    names = [n for (n,) in database.execute_sql("SELECT name FROM schema_migration").fetchall()]
    database.close()
    assert "0017_order_status_changes" in names and "0015_order_status_changes" not in names
    assert _shape(path) == _shape(fresh)
