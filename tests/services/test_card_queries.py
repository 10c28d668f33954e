"""The contact card reads its orders, consents and attribution with SQL built once
(services.prepared): the same data as the general paths, a fixed number of queries."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from playhouse.test_utils import count_queries

from crmcli.errors import NotFound
from crmcli.models import Contact
from crmcli.services import campaigns, consent, contacts, orders, products
from crmcli.services.orders import Item
from tests.conftest import NOW


@pytest.fixture
def shop(db):
    products.add_product("KAF", "Kaffee", price_cents=890, category="Kaffee", now=NOW)
    products.add_product("TEE", "Tee", price_cents=590, vat_bp=700, now=NOW)
    campaigns.add_campaign("Herbst", keywords=["kaffee"], now=NOW)
    anna = contacts.add_contact("Anna Weiß", campaign="Herbst", keyword="kaffee", now=NOW)["id"]
    bernd = contacts.add_contact("Bernd Roth", now=NOW)["id"]
    rng = random.Random(18)
    for n in range(30):
        at = NOW - timedelta(days=rng.randrange(5))  # several on one moment: id decides
        items = [
            Item(rng.choice(("KAF", "TEE")), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))
        ]
        orders.add_order(
            anna, items, ordered_at=at.replace(hour=9, minute=0, second=0, microsecond=0),
            status=rng.choice(("open", "paid", "shipped", "cancelled", "abandoned")),
            channel=rng.choice(("shop", "phone", None)), discount_bp=rng.choice((0, 1000)),
            campaign=rng.choice(("Herbst", None)), note=rng.choice(("rasch", None)),
            external_id=f"shop-{n}" if n % 3 else None, cost_cents=rng.choice((0, 390)),
            now=NOW,
        )  # fmt: skip
    return {"anna": anna, "bernd": bernd}


@pytest.mark.parametrize("limit", [20, 3, 100])
def test_a_contacts_newest_orders_are_the_general_listing(shop, limit):
    for cid in shop.values():
        assert orders.orders_of(cid, limit) == orders.iter_orders(contact_id=cid, limit=limit)
    assert len(orders.orders_of(shop["anna"], limit)) == min(limit, 30)


def test_the_card_carries_the_contacts_campaign_and_keyword(shop):
    for cid in shop.values():
        card = contacts.get_contact(cid)
        assert {k: card[k] for k in ("campaign", "keyword")} == campaigns.attribution_of(
            Contact, cid
        )
    assert (
        contacts.get_contact(shop["anna"])["campaign"],
        contacts.get_contact(shop["anna"])["keyword"],
    ) == ("Herbst", "kaffee")


def test_consent_history_with_and_without_entries(shop):
    anna, bernd = shop["anna"], shop["bernd"]
    assert consent.history(bernd) == []
    consent.record(anna, "grant", "newsletter", now=NOW)
    consent.record(anna, "grant", "offers", now=NOW + timedelta(minutes=1))
    consent.record(anna, "withdraw", "newsletter", now=NOW + timedelta(minutes=2))
    assert [(e["purpose"], e["action"]) for e in consent.history(anna)] == [
        ("newsletter", "grant"), ("offers", "grant"), ("newsletter", "withdraw"),
    ]  # fmt: skip
    assert [e["action"] for e in consent.history(anna, "newsletter")] == ["grant", "withdraw"]
    with pytest.raises(NotFound):
        consent.history(bernd + 99)
    with pytest.raises(NotFound):
        consent.history(bernd + 99, "newsletter")
    assert [c["purpose"] for c in contacts.contact_card(anna, now=NOW)["consents"]] == [
        "newsletter", "offers",
    ]  # fmt: skip


def test_the_card_asks_the_same_queries_however_many_orders(shop):
    contacts.contact_card(shop["bernd"], now=NOW)  # SQL built once, before counting
    contacts.contact_card(shop["anna"], now=NOW)
    with count_queries() as none:
        contacts.contact_card(shop["bernd"], now=NOW)
    with count_queries() as thirty:
        card = contacts.contact_card(shop["anna"], now=NOW)
    assert len(card["orders"]) == 20
    assert thirty.count == none.count
