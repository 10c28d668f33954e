"""Migration 0014 upgrades a database of schema 10 (products and orders, before returns about
orders, costs and commissions) to today's exact shape and keeps its orders and activities."""

from __future__ import annotations

import sqlite3

from crmcli import db as dbmod
from tests.services.test_migration_0016 import undo_0016
from tests.services.test_old_databases import _counts, _shape


def _schema_10(path) -> None:
    """Take away what 0014 added, as a database of schema 10 was."""
    conn = sqlite3.connect(path)
    with conn:
        undo_0016(conn)
        conn.execute("DROP TABLE commission")
        conn.execute("DROP INDEX activity_order_id")
        conn.execute("DROP INDEX sales_order_contact_id_ordered_at_status_net_cents")
        for table, column in (
            ("activity", "order_id"), ("product", "cost_cents"), ("sales_order", "cost_cents"),
            ("order_line", "cost_cents"),
        ):  # fmt: skip
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("DELETE FROM schema_migration WHERE name = '0014_returns_costs_commissions'")
        conn.execute("PRAGMA user_version = 10")
    conn.close()


def test_a_schema_10_database_upgrades_and_keeps_its_orders(tmp_path):
    from crmcli.services import activities, contacts, orders, products
    from crmcli.services.orders import Item

    path, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    products.add_product("KAF", "Kaffee", price_cents=890, vat_bp=700)
    anna = contacts.add_contact("Anna Weiß")
    order = orders.add_order(anna["id"], [Item("KAF", 2)], status="paid")
    activities.log_activity("return", contact_id=anna["id"], subject="kaputt")
    database.close()
    _schema_10(path)
    before = _counts(path)
    assert "commission" not in before
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    database.close()
    assert _shape(path) == _shape(fresh)
    after = _counts(path)
    assert after.pop("schema_migration") == before.pop("schema_migration") + 2  # 0014 and 0016
    assert {t: n for t, n in after.items() if t in before} == before
    database = dbmod.open_database(str(path))
    card = orders.order_card(order["id"])
    assert (str(card["gross"]), card["activities"]) == ("19.05", [])
    (ret,) = activities.timeline_of(anna["id"], 5)
    assert ret["order_id"] is None and ret["subject"] == "kaputt"
    database.close()
