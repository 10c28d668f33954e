"""Migration 0012 upgrades a database of schema 10: the orders' free-text campaigns become
campaigns (names equal but for case and spaces are one), every order keeps its campaign."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from crmcli import db as dbmod


def _migrations10(tmp: Path) -> str:
    old = tmp / "migrations10"
    old.mkdir()
    for file in sorted(dbmod.MIGRATIONS_DIR.glob("00*.py")):
        if int(file.name[:4]) <= 10:
            shutil.copy(file, old / file.name)
    return str(old)


def _schema10(path: Path, tmp: Path) -> None:
    """A database exactly as crm made it at schema 10: migrations 0001 to 0010 alone."""
    from peewee import SqliteDatabase
    from playhouse.migrations import Runner

    database = SqliteDatabase(str(path), pragmas={"foreign_keys": 1})
    Runner(database, directory=_migrations10(tmp), table_name="schema_migration").up()
    database.execute_sql("PRAGMA user_version = 10")
    database.close()


def test_postgres_orders_campaigns_are_kept(pg_url, tmp_path):
    from playhouse.migrations import Runner

    database = dbmod._postgres(pg_url)
    Runner(database, directory=_migrations10(tmp_path), table_name="schema_migration").up()
    stamp = "2026-03-01 10:00:00"
    database.execute_sql(
        "INSERT INTO contact (name, name_key, status, birthday_reminded, consent, created_at, "
        "updated_at) VALUES ('Anna', 'anna', 'customer', 0, false, %s, %s)",
        (stamp, stamp),
    )
    for campaign in ("Herbst", "HERBST", None):
        database.execute_sql(
            "INSERT INTO sales_order (contact_id, ordered_at, status, campaign, discount_bp, "
            "currency, net_cents, vat_cents, gross_cents, created_at, updated_at) "
            "SELECT id, %s, 'paid', %s, 0, 'EUR', 1000, 190, 1190, %s, %s FROM contact",
            (stamp, campaign, stamp, stamp),
        )
    database.close()
    database = dbmod.open_database(pg_url)
    from crmcli.services import orders

    assert sorted(str(o["campaign"]) for o in orders.iter_orders()) == [
        "Herbst", "Herbst", "None",
    ]  # fmt: skip
    database.close()


def test_orders_free_text_campaigns_become_campaigns(tmp_path):
    path = tmp_path / "old.db"
    _schema10(path, tmp_path)
    conn = sqlite3.connect(path)
    stamp = "2026-03-01 10:00:00"
    conn.execute(
        "INSERT INTO contact (id, name, name_key, status, birthday_reminded, consent, "
        "created_at, updated_at) VALUES (1, 'Anna', 'anna', 'customer', 0, 0, ?, ?)",
        (stamp, stamp),
    )
    rows = [(1, "Herbst"), (2, "herbst "), (3, " Weihnachten"), (4, None), (5, "HERBST")]
    for oid, campaign in rows:
        conn.execute(
            "INSERT INTO sales_order (id, contact_id, ordered_at, status, channel, campaign, "
            "discount_bp, currency, net_cents, vat_cents, gross_cents, created_at, updated_at) "
            "VALUES (?, 1, ?, 'paid', 'shop', ?, 0, 'EUR', 1000, 190, 1190, ?, ?)",
            (oid, stamp, campaign, stamp, stamp),
        )
    conn.commit()
    conn.close()

    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    from crmcli.services import campaigns, orders, roi

    names = {c["name"]: c for c in campaigns.list_campaigns()}
    assert set(names) == {"Herbst", "Weihnachten"}
    assert names["Herbst"]["channel"] == "other"
    linked = {o["id"]: o["campaign"] for o in orders.iter_orders()}
    assert linked == {1: "Herbst", 2: "Herbst", 3: "Weihnachten", 4: None, 5: "Herbst"}
    columns = [r[1] for r in database.execute_sql("PRAGMA table_info(sales_order)").fetchall()]
    assert "campaign" not in columns and "campaign_id" in columns
    report = roi.roi_report()
    herbst = next(g for g in report["groups"] if g["group"] == "Herbst")
    assert str(herbst["revenue"]) == "30.00"
    database.close()
    fresh = tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()

    def shape(p: Path) -> set:
        c = sqlite3.connect(p)
        try:
            return {
                (n, " ".join(s.split()))
                for n, s in c.execute(
                    "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            }
        finally:
            c.close()

    assert shape(path) == shape(fresh)
