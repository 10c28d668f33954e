"""Migration 0016 upgrades a database of schema 15 to today's exact shape: its orders get
their contact's source and their lines' known purchase costs, and the ROI report reads the
same figures as before."""

from __future__ import annotations

import sqlite3
from datetime import date, time

from crmcli import db as dbmod
from crmcli.values import at_local
from tests.conftest import NOW
from tests.services.test_old_databases import _counts, _shape

TRIGGERS = (
    "sales_order_source_new", "sales_order_source_moved", "contact_source_orders",
    "order_line_cost_new", "order_line_cost_gone", "order_line_cost_changed",
)  # fmt: skip
INDEX_0012 = (
    'CREATE INDEX "sales_order_campaign_id_keyword_id_ordered_at_status_cur_361a6e1" ON '
    '"sales_order" ("campaign_id", "keyword_id", "ordered_at", "status", "currency", '
    '"net_cents") WHERE campaign_id IS NOT NULL'
)


def undo_0016(conn: sqlite3.Connection) -> None:
    """Take away what 0016 added (SQLite), as a database of schema 15 was."""
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP INDEX sales_order_roi_campaign")
    conn.execute("DROP INDEX sales_order_roi_source")
    conn.execute("ALTER TABLE sales_order DROP COLUMN source")
    conn.execute("ALTER TABLE sales_order DROP COLUMN goods_cost_cents")
    conn.execute(INDEX_0012)
    conn.execute("DELETE FROM schema_migration WHERE name = '0016_roi_order_facts'")
    conn.execute("PRAGMA user_version = 15")


def test_a_schema_15_database_upgrades_and_its_orders_carry_source_and_goods_cost(tmp_path):
    from crmcli.services import campaigns, contacts, orders, products, roi
    from crmcli.services.orders import Item

    path, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, cost_cents=400)
    products.add_product("TEE", "Tee", price_cents=500, vat_bp=700)
    herbst = campaigns.add_campaign("Herbst", now=NOW)
    campaigns.add_cost(herbst["id"], 10_000, spent_on=date(2026, 3, 1), now=NOW)
    anna = contacts.add_contact("Anna", source="google", campaign="Herbst", now=NOW)["id"]
    bernd = contacts.add_contact("Bernd", now=NOW)["id"]
    gone = contacts.add_contact("Gone", source="messe", now=NOW)["id"]
    when = at_local(date(2026, 3, 10), time(12))
    first = orders.add_order(anna, [Item("KAF", 3), Item("TEE", 1)], ordered_at=when,
                             status="paid", cost_cents=250, now=NOW)  # fmt: skip
    orders.add_order(bernd, [Item("TEE", 2)], ordered_at=when, status="shipped", now=NOW)
    orders.add_order(gone, [Item("KAF", 1)], ordered_at=when, status="paid", now=NOW)
    contacts.delete_contact(gone)
    reports = {
        (by, margin): roi.roi_report(by=by, margin=margin)
        for by in ("campaign", "source") for margin in (False, True)
    }  # fmt: skip
    database.close()
    conn = sqlite3.connect(path)
    with conn:
        undo_0016(conn)
    conn.close()
    before = _counts(path)
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    rows = database.execute_sql(
        "SELECT contact_id, source, goods_cost_cents FROM sales_order ORDER BY id"
    ).fetchall()
    database.close()
    assert _shape(path) == _shape(fresh)
    after = _counts(path)
    assert after.pop("schema_migration") == before.pop("schema_migration") + 1
    assert {t: n for t, n in after.items() if t in before} == before
    assert rows == [(anna, "google", 1200), (bernd, None, 0), (None, None, 400)]
    database = dbmod.open_database(str(path))
    for (by, margin), report in reports.items():
        assert roi.roi_report(by=by, margin=margin) == report
    assert orders.order_card(first["id"])["net"] is not None
    database.close()
