"""Migration 0015 gives a database of schema 14 the tables of stored export lines and their
triggers, today's exact shape; its data stays, and its exports are what they were."""

from __future__ import annotations

import sqlite3

import pytest

from crmcli import db as dbmod
from tests.services.test_migration_0016 import undo_0016
from tests.services.test_old_databases import _counts, _shape

pytestmark = pytest.mark.sqlite_only


def undo_0015(execute) -> None:
    """Take away what 0015 added (`execute`: a connection's execute or execute_sql)."""
    for (name,) in execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'export_*'"
    ).fetchall():
        execute(f"DROP TRIGGER {name}")
    for table in ("export_csv", "export_json", "export_cache"):
        execute(f"DROP TABLE {table}")
    execute("DELETE FROM schema_migration WHERE name = '0015_export_lines'")


def _schema_14(path) -> None:
    """A database of schema 14."""
    conn = sqlite3.connect(path)
    with conn:
        undo_0016(conn)
        undo_0015(conn.execute)
        conn.execute("PRAGMA user_version = 14")
    conn.close()


def test_a_schema_14_database_upgrades_and_exports_the_same(tmp_path):
    from crmcli.services import export_lines
    from tests.services.test_export_lines import _matches, _stored
    from tests.services.test_exports import _awkward_contacts

    path, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    _awkward_contacts()
    database.close()
    _schema_14(path)
    before = _counts(path)
    assert "export_csv" not in before
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    database.close()
    assert _shape(path) == _shape(fresh)
    after = _counts(path)
    assert after.pop("schema_migration") == before.pop("schema_migration") + 2  # 0015 and 0016
    assert {t: n for t, n in after.items() if t in before} == before
    database = dbmod.open_database(str(path))
    assert export_lines.kept_lines()
    _matches()
    assert _stored("export_json") == before["contact"]
    database.close()
