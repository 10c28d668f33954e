"""A contact card reads its dozen queries in one round trip on PostgreSQL (prepared.together)
and gives exactly what they give one by one (SQLite, and PostgreSQL without it)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from playhouse.test_utils import count_queries

from crmcli.services import (
    activities,
    campaigns,
    consent,
    contacts,
    deals,
    orders,
    prepared,
    products,
    tasks,
)
from crmcli.services.orders import Item
from tests.conftest import NOW


def _full_contact() -> int:
    products.add_product("KAF", "Kaffee", price_cents=890, vat_bp=700, category="Kaffee", now=NOW)
    campaigns.add_campaign("Herbst", keywords=["kaffee"], now=NOW)
    card = contacts.add_contact(
        "Jürgen Müller", company="Müller Bau GmbH", tags_=["vip", "Kunde"],
        fields=[("kundennr", "4711"), ("Größe", "XL")],
        emails=["jm@example.de", {"email": "privat@example.de", "kind": "home"}],
        phones=["0171 2345678", "030 1234567"], campaign="Herbst", keyword="kaffee",
        birthday=(NOW - timedelta(days=40 * 365)).date(), city="Köln", consent=True, now=NOW,
    )  # fmt: skip
    cid = card["id"]
    for i in range(6):
        activities.log_activity(
            "call", contact_id=cid, subject=f"Anruf {i}, \"zitiert\" {{x}}", direction="in",
            now=NOW - timedelta(hours=i),
        )  # fmt: skip
    activities.log_activity("complaint", contact_id=cid, subject="Kaputt", now=NOW)
    tasks.add_task("Rückruf", contact_id=cid, due_at=NOW + timedelta(days=1), now=NOW)
    tasks.add_task("Angebot", contact_id=cid, priority=2, now=NOW)
    deals.add_deal("Dach", contact_id=cid, amount_cents=1_234_500, now=NOW)
    orders.add_order(cid, [Item("KAF", 3)], channel="shop", campaign="Herbst", now=NOW)
    orders.add_order(cid, [Item("KAF", 1)], status="abandoned", now=NOW)
    consent.record(cid, "withdraw", "newsletter", at=NOW, now=NOW)
    return cid


def test_a_card_read_together_is_the_card_read_query_by_query(db, db_backend, monkeypatch):
    cid = _full_contact()
    other = contacts.add_contact("Leer", now=NOW)["id"]
    for who in (cid, other):
        for limit in (50, 3, None):
            together = contacts.contact_card(who, timeline_limit=limit, now=NOW)
            with monkeypatch.context() as m:
                m.setattr(prepared, "together", lambda queries: contextlib.nullcontext())
                one_by_one = contacts.contact_card(who, timeline_limit=limit, now=NOW)
            # repr: the same values of the same types (Decimal is not int, datetime not str)
            assert repr(together) == repr(one_by_one)
    card = contacts.contact_card(cid, timeline_limit=3, now=NOW)
    assert (len(card["timeline"]), card["timeline_total"], card["open_issues"]) == (3, 7, 1)
    assert card["tags"] == ["Kunde", "vip"] and card["campaign"] == "Herbst"
    assert [t["title"] for t in card["open_tasks"]] == ["Rückruf", "Angebot"]
    assert card["profile"]["abandoned"] == 1 and len(card["orders"]) == 2


def test_a_card_on_postgres_is_one_round_trip(db, db_backend):
    cid = _full_contact()
    contacts.contact_card(cid, now=NOW)  # the SQL is built once per process
    with count_queries() as counter:
        contacts.contact_card(cid, now=NOW)
    assert counter.count == (1 if db_backend == "pg" else 14)


def test_a_card_on_postgres_is_planned_once_and_survives_a_server_that_forgets(db, db_backend):
    """The card's statement is prepared on the server at its first run (PREPARE and EXECUTE in
    one round trip) and executed by name after; a server that lost it (a connection pooler,
    DISCARD ALL) costs nothing but the preparing: the card is read as plain SQL from then on.
    Inside a transaction (where a failing statement would end it) nothing is prepared."""
    from tests.sqllog import statements_sent

    if db_backend != "pg":
        pytest.skip("PostgreSQL's prepared statements")
    cid = _full_contact()
    default = db.execute_sql("SHOW join_collapse_limit").fetchone()
    with statements_sent() as sent:
        want = contacts.contact_card(cid, now=NOW)
        with db.atomic():
            assert contacts.contact_card(cid, now=NOW) == want
        assert sent[-1].startswith("SELECT * FROM (SELECT array_agg(")
        sent.clear()
        assert contacts.contact_card(cid, now=NOW) == want
        # Planned with its joins in the order written, for this statement only.
        in_order = "SET LOCAL join_collapse_limit = 1; "
        assert sent[-1].startswith(in_order + "EXECUTE crm_together_")
        assert db.execute_sql("SHOW join_collapse_limit").fetchone() == default
        db.execute_sql("DEALLOCATE ALL")
        sent.clear()
        assert contacts.contact_card(cid, now=NOW) == want  # EXECUTE fails, plain SQL runs
        assert sent[-1].startswith(in_order + "SELECT * FROM (SELECT array_agg(")
        sent.clear()
        assert contacts.contact_card(cid, now=NOW) == want
        assert [s[: len(in_order) + 7] for s in sent] == [in_order + "SELECT "]
        assert db.execute_sql("SHOW join_collapse_limit").fetchone() == default
