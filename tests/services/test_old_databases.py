"""Databases made by released versions' own code (tests/fixtures, see its README) upgrade to
today's exact shape, keep every row and work with every command."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmcli import db as dbmod
from tests.fixtures import sqldump

OLD = sqldump.names()


def _counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'search_index_%'"
            )
        ]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def _shape(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    finally:
        conn.close()
    return {name: " ".join(sql.split()) for name, sql in rows}


@pytest.fixture(params=OLD)
def old_db(request, tmp_path) -> Path:
    return sqldump.load(request.param, tmp_path / f"{request.param}.db")


def test_there_is_a_fixture_of_each_released_schema():
    assert {"schema3-early-d90d88f", "schema3-c765846", "schema4-c0180a0"} <= set(OLD)
    for name in OLD:
        assert (sqldump.FIXTURES / f"{name}.sql").stat().st_size < 1_000_000


def test_upgrade_keeps_every_row_and_reaches_todays_exact_shape(old_db, tmp_path):
    before = _counts(old_db)
    database = dbmod.open_database(str(old_db))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    from crmcli.services import maintenance, tallies

    assert maintenance.check(database) == []
    kept = tallies.rows()
    tallies.rebuild()
    assert tallies.rows() == kept  # the counters a repair made are the ones the code keeps
    database.close()
    after = _counts(old_db)
    for table, n in before.items():
        if table != "schema_migration":
            assert after[table] == n, table
    fresh = tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    assert _shape(old_db) == _shape(fresh)


def test_upgraded_stays_are_the_ones_the_code_writes(old_db):
    database = dbmod.open_database(str(old_db))
    from crmcli.models import DealStageChange
    from crmcli.services import tallies

    def stays():
        return sorted(
            DealStageChange.select(
                DealStageChange.id, DealStageChange.left_at, DealStageChange.stay_seconds,
                DealStageChange.currency,
            ).tuples()
        )  # fmt: skip

    upgraded = stays()
    if not old_db.name.startswith("schema2"):  # deals came with schema 3
        assert any(s[2] is not None for s in upgraded)
    for deal_id in {d for (d,) in DealStageChange.select(DealStageChange.deal).tuples()}:
        tallies.restay(deal_id)
    assert stays() == upgraded
    database.close()


def test_new_ids_go_past_every_id_used_before(old_db):
    """Ids the reminder log still names (a task deleted after it was reminded) are never
    given to a new record: its reminder would look printed already."""
    conn = sqlite3.connect(old_db)
    logged = max(
        int(k.split(":")[1]) for (k,) in conn.execute("SELECT key FROM reminder_log")
        if k.startswith("task:")
    )  # fmt: skip
    conn.close()
    database = dbmod.open_database(str(old_db))
    for table in ("contact", "company", "activity", "task", "deal"):
        sql = database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]
        assert "AUTOINCREMENT" in sql, table
    from crmcli.services import tasks

    new = tasks.add_task("Neu")
    assert new["id"] > logged
    database.close()


COMMANDS = [
    ("add", "deal", "Neues Dach", "-C", "jo@example.de", "--amount", "3.000,00"),
    ("move", "Neues Dach", "Angebot"),
    ("won", "Neues Dach"),
    ("add", "task", "Nachfassen", "-C", "jo@example.de", "--due", "tomorrow 9:00"),
    ("log", "call", "jo@example.de", "-m", "Alles klar"),
    ("done", "Rückruf Jürgen"),
    ("tag", "jo@example.de", "vip"),
    ("edit", "jo@example.de", "--email", "juergen@example.de"),
    ("report", "funnel"),
    ("report", "pipeline"),
    ("report", "sales"),
    ("remind",),
    ("search", "Öztürk"),
    ("show", "juergen@example.de"),
    ("list", "contacts"),
    ("list", "companies"),
    ("list", "deals"),
    ("list", "tasks"),
    ("list", "activities"),
    ("stages",),
    ("delete", "task", "Nachfassen", "--yes"),
    ("db", "check"),
]


def test_every_command_works_on_an_upgraded_database(old_db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    runner = CliRunner()
    for args in COMMANDS:
        result = runner.invoke(app, ["--db", str(old_db), *args])
        assert result.exit_code == 0, (args, result.stderr)
    result = runner.invoke(app, ["--db", str(old_db), "search", "Alles klar", "-o", "json"])
    assert result.exit_code == 0 and "Alles klar" in result.stdout


def _pg_shape(database) -> tuple[list, list]:
    columns = database.execute_sql(
        "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
        "column_default FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name IN ('deal_stage_change', 'pipeline_tally') "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    indexes = database.execute_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename IN ('deal_stage_change', 'pipeline_tally') ORDER BY indexname"
    ).fetchall()
    return columns, [(name, d.replace(current_schema(database), "S")) for name, d in indexes]


def current_schema(database) -> str:
    return database.execute_sql("SELECT current_schema()").fetchone()[0]


def test_postgres_database_of_an_early_schema_is_repaired(pg_url):
    """On PostgreSQL the same migration adds what the early schema 3 lacked."""
    from crmcli.services import contacts, deals, reports, tallies

    database = dbmod.open_database(pg_url)
    anna = contacts.add_contact("Anna Weiß")
    deal = deals.add_deal("Dach", contact_id=anna["id"], amount_cents=100_000)
    deals.move_deal(deal["id"], "Angebot")
    today = _pg_shape(database)
    counted = tallies.rows()
    # What an early schema-3 database looks like (and that it ran this repair not yet).
    database.execute_sql(
        "ALTER TABLE deal_stage_change DROP COLUMN left_at, DROP COLUMN stay_seconds, "
        "DROP COLUMN currency"
    )
    database.execute_sql("DROP TABLE pipeline_tally")
    _undo_0009(database)
    database.execute_sql(
        "DELETE FROM schema_migration WHERE name >= %s", ("0006_repair_shipped_schema",)
    )
    database.close()
    database = dbmod.open_database(pg_url)
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    assert _pg_shape(database) == today
    kept = tallies.rows()
    assert kept == counted  # stays and counters computed again from the history
    tallies.rebuild()
    assert tallies.rows() == kept
    funnel = reports.funnel()
    assert funnel
    database.close()


def test_db_check_of_an_empty_postgres_database_is_an_error(pg_url):
    from typer.testing import CliRunner

    from crmcli.cli import app

    r = CliRunner().invoke(app, ["--db", pg_url, "db", "check"])
    assert r.exit_code == 1
    assert "is not a crm database" in r.stderr
    raw = dbmod.open_database(pg_url, migrate=False)
    assert dbmod.schema_version(raw) == 0  # left as it was
    raw.close()


def test_a_search_index_of_an_older_shape_is_rebuilt_with_its_entries(tmp_path):
    """The FTS table is compared too: one made with other prefixes is rebuilt, rows kept."""
    path = tmp_path / "old.db"
    database = dbmod.open_database(str(path))
    from crmcli.services import contacts

    contacts.add_contact("Jürgen Müller")
    entries = database.execute_sql("SELECT rowid, body FROM search_index").fetchall()
    database.execute_sql("DROP TABLE search_index")
    database.execute_sql("CREATE VIRTUAL TABLE search_index USING fts5(body, prefix='2 3')")
    for entry in entries:
        database.execute_sql("INSERT INTO search_index (rowid, body) VALUES (?, ?)", entry)
    _undo_0009(database)  # a database of schema 4 has no later tables and columns either
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0006_repair_shipped_schema'")
    database.execute_sql("PRAGMA user_version = 4")
    database.close()
    fresh = tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    assert _shape(path) == _shape(fresh)
    from crmcli.services import maintenance, search

    assert maintenance.check(database) == []
    assert [hit["name"] for hit in search.search("muell")] == ["Jürgen Müller"]
    database.close()


def _undo_0009(database) -> None:
    """Take away what migration 0009 and the later ones added, so that they run again after
    0006 (a database from before 0009 has none of it)."""
    from peewee import SqliteDatabase

    from tests.services.test_migration_0018 import undo_0015, undo_0018
    from tests.services.test_migration_0020 import undo_0020

    sqlite = isinstance(database, SqliteDatabase)
    undo_0020(database.execute_sql, sqlite=sqlite)  # its triggers name task and contact
    undo_0018(database.execute_sql, sqlite=sqlite)  # 0015's tables back: undone below
    database.execute_sql("DROP TABLE order_status_change")  # 0017
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0017_order_status_changes'")
    if sqlite:  # 0015 makes nothing on PostgreSQL
        undo_0015(database.execute_sql)  # its triggers name columns taken away below
    # 0016: the triggers on sales_order and order_line go with those tables below
    database.execute_sql("DROP TRIGGER contact_source_orders" + ("" if sqlite else " ON contact"))
    database.execute_sql("DROP TABLE commission")  # 0014
    database.execute_sql("DROP INDEX activity_order_id")
    database.execute_sql("ALTER TABLE activity DROP COLUMN order_id")
    database.execute_sql(
        "DELETE FROM schema_migration WHERE name = '0014_returns_costs_commissions'"
    )
    for table in ("consent_entry", "mailing_recipient"):  # 0013
        database.execute_sql(f"DROP TABLE {table}")
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0013_consent_mailings'")
    # 0012 (its sales_order columns go with the table)
    for table, index in (("contact", "keyword_id_created_at"), ("deal", "closed_at")):
        database.execute_sql(f"DROP INDEX {table}_keyword_id")
        database.execute_sql(f"DROP INDEX {table}_campaign_id_{index}")
        for column in ("campaign_id", "keyword_id"):
            database.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0012_campaigns'")
    # 0011 only adds PostgreSQL indexes (IF NOT EXISTS: it may run again over them)
    database.execute_sql("DELETE FROM schema_migration WHERE name >= '0011'")
    for table in ("order_line", "sales_order", "product"):  # 0010
        database.execute_sql(f"DROP TABLE {table}")
    for table in ("campaign_cost", "campaign_keyword", "campaign"):  # 0012, after its users
        database.execute_sql(f"DROP TABLE {table}")
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0010_products_orders'")
    for table in ("contact_email", "contact_phone", "merge_alias"):
        database.execute_sql(f"DROP TABLE {table}")
    for table, column in (
        ("contact", "name_sound"), ("company", "name_sound"), ("activity", "external_id"),
        ("task", "external_id"),
    ):  # fmt: skip
        database.execute_sql(f"DROP INDEX {table}_{column}")  # SQLite keeps it otherwise
        database.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0009_emails_phones_merge'")


def _with_reopened_deals_counted_the_old_way(path: Path) -> None:
    """Deal 9 won and reopened, deal 14 lost and reopened, written into an old database with
    the counters its code kept: 0006's frozen backfill, the rule before reopening undid."""
    import importlib

    from peewee import SqliteDatabase

    conn = sqlite3.connect(path)
    with conn:
        steps = [
            (9, 1, 5, "2026-11-13 10:00:00"), (9, 5, 1, "2026-11-14 10:00:00"),
            (14, 6, 3, "2025-05-01 00:00:00"),
        ]  # fmt: skip
        conn.executemany(
            "INSERT INTO deal_stage_change (deal_id, from_stage_id, to_stage_id, changed_at, "
            "changed_by, currency) VALUES (?, ?, ?, ?, 'Lukas Köhler', 'EUR')",
            steps,
        )
        conn.execute("UPDATE deal SET stage_id = 3, lost_reason = NULL WHERE id = 14")
    conn.close()
    old = importlib.import_module("crmcli.migrations.0006_repair_shipped_schema")
    database = SqliteDatabase(str(path))
    with database.atomic():
        old._restay_all(database)
        old._rebuild_tallies(database)
    database.close()


def test_upgrade_recounts_reopened_deals_kept_under_the_old_rule(tmp_path):
    from crmcli.services import maintenance, reports, tallies

    path = sqldump.load("schema4-c0180a0", tmp_path / "reopened.db")
    _with_reopened_deals_counted_the_old_way(path)
    conn = sqlite3.connect(path)
    old_won = conn.execute(
        "SELECT SUM(deals) FROM pipeline_tally WHERE kind = 'reached' AND stage_id = 5"
    ).fetchone()[0]
    conn.close()
    database = dbmod.open_database(str(path))
    assert maintenance.check(database) == []
    kept = tallies.rows()
    tallies.rebuild()
    assert tallies.rows() == kept
    reached = {(k, s, sub): n for k, _, s, sub, _, n, _ in kept if k == "reached"}
    assert sum(n for (_, s, _), n in reached.items() if s == 5) == old_won - 1  # deal 9
    lost = sum(n for k, _, s, _, _, n, _ in kept if k == "lost")
    assert lost == 10  # deal 14 is open again: 11 before
    assert reports.funnel() is not None
    database.close()


def test_postgres_upgrade_recounts_reopened_deals(pg_url):
    from crmcli.services import contacts, deals, stages, tallies

    database = dbmod.open_database(pg_url)
    anna = contacts.add_contact("Anna Weiß")
    deal = deals.add_deal("Dach", contact_id=anna["id"], amount_cents=100_000)
    deals.win_deal(deal["id"])
    deals.reopen_deal(deal["id"])
    counted = tallies.rows()
    # the old rule: the reopened deal counted as having reached the won stage
    database.execute_sql(
        "UPDATE pipeline_tally SET stage_id = %s WHERE kind = 'reached'",
        (stages.won_stage()["id"],),
    )
    # 0007 and what came after it have not run (the version is the newest migration run)
    _undo_0009(database)
    database.execute_sql("DELETE FROM schema_migration WHERE name >= %s", ("0007_",))
    database.close()
    database = dbmod.open_database(pg_url)
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    assert tallies.rows() == counted
    database.close()


@pytest.mark.parametrize("name", OLD)
def test_a_fixture_rebuilds_the_database_it_was_dumped_from(name, tmp_path):
    """The SQL text is the database: loading it and dumping again gives the same text."""
    path = sqldump.load(name, tmp_path / f"{name}.db")
    assert sqldump.dump(path) == (sqldump.FIXTURES / f"{name}.sql").read_text(encoding="utf-8")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.execute("INSERT INTO search_index(search_index) VALUES('integrity-check')")
    finally:
        conn.close()
