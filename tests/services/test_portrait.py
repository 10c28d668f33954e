"""The customers' portrait on a known set of contacts: groups, age bands, company sizes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.services import contacts, orders, portrait, products
from crmcli.services.orders import Item
from tests.conftest import NOW

TODAY = date(2026, 11, 23)


@pytest.fixture
def people(db):
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, now=NOW)
    add = contacts.add_contact
    a = add("Anna", city="Köln", source="shop", status="customer", company="Acme",
            birthday=date(1990, 11, 24), now=NOW)["id"]  # fmt: skip
    add("Bernd", city="Köln", status="customer", company="Acme", birthday=date(1961, 1, 1),
        now=NOW)  # fmt: skip
    c = add("Carla", city="Bonn", source="shop", status="customer", now=NOW)["id"]
    add("Dora", city="Bonn", status="lead", company="Acme", now=NOW)
    orders.add_order(a, [Item("KAF", 2)], status="paid", now=NOW)
    orders.add_order(c, [Item("KAF", 1)], status="cancelled", now=NOW)  # no purchase
    return a


def test_portrait_of_the_customers(people):
    p = portrait.portrait(today=TODAY)
    assert (p["contacts"], p["buyers"], p["revenue"]) == (3, 1, Decimal("20.00"))
    assert [(r["group"], r["contacts"], r["buyers"]) for r in p["city"]] == [
        ("Köln", 2, 1), ("Bonn", 1, 0),
    ]  # fmt: skip
    assert [(r["group"], r["contacts"]) for r in p["source"]] == [("shop", 2), (None, 1)]
    # Anna turns 36 on 24.11.2026, so she is 35 the day before; Bernd is 65 since 1.1.
    assert {r["group"]: r["contacts"] for r in p["age"]} == {"35-44": 1, "65+": 1, None: 1}
    # Acme has three people (Dora the lead among them): 2-9
    assert {r["group"]: r["contacts"] for r in p["company_size"]} == {"2-9": 2, None: 1}
    everyone = portrait.portrait(today=TODAY, status=None)
    assert everyone["contacts"] == 4


def test_age_and_a_bad_status():
    assert portrait.age_on(date(1990, 11, 24), TODAY) == 35
    assert portrait.age_on(date(1990, 11, 23), TODAY) == 36
    assert portrait.age_on(date(1604, 5, 1), TODAY) is None  # a birthday without a year
    with pytest.raises(Invalid, match="'vip' is not one of"):
        portrait.portrait(today=TODAY, status="vip")
