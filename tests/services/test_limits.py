"""Free text has sane limits (one clear error, nothing written) and currencies are ISO 4217."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.services import activities, companies, contacts, deals, stages
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "email": "a" * 250 + "@example.de"}, "email"),
        ({"name": "A", "phone": "1" * 65}, "phone"),
        ({"name": "A", "city": "K" * 201}, "city"),
        ({"name": "A", "notes": "n" * 100_001}, "notes"),
        ({"name": "A", "fields": [("kundennr", "1" * 10_001)]}, "field"),
    ],
)
def test_contact_text_over_its_limit_is_refused(db, values, field):
    values = dict(values)  # shared by the sqlite and pg runs
    name = values.pop("name")
    with pytest.raises(Invalid) as err:
        contacts.add_contact(name, now=NOW, **values)
    assert err.value.field == field and "characters long; at most" in err.value.why
    assert contacts.count_contacts() == 0


def test_text_at_its_limit_is_fine(db):
    card = contacts.add_contact("x" * 200, notes="n" * 100_000, phone="030 1234567", now=NOW)
    assert len(card["name"]) == 200
    assert companies.add_company("c" * 200, now=NOW)["name"] == "c" * 200


def test_other_records_have_limits_too(db):
    who = contacts.add_contact("A", now=NOW)
    with pytest.raises(Invalid, match="at most 200"):
        companies.add_company("c" * 201, now=NOW)
    with pytest.raises(Invalid, match="at most 200"):
        deals.add_deal("d" * 201, contact_id=who["id"], now=NOW)
    with pytest.raises(Invalid, match="at most 100,000"):
        activities.log_activity("note", contact_id=who["id"], body="b" * 100_001, now=NOW)
    with pytest.raises(Invalid, match="at most 500"):
        activities.log_activity("call", contact_id=who["id"], subject="s" * 501, now=NOW)
    with pytest.raises(Invalid, match="at most 100"):
        stages.add_stage("s" * 101)
    deal = deals.add_deal("Dach", contact_id=who["id"], now=NOW)
    with pytest.raises(Invalid, match="at most 2,000"):
        deals.lose_deal(deal["id"], "r" * 2_001, now=NOW)


@pytest.mark.parametrize("code", ["usd", " chf ", "JPY", "Eur"])
def test_currency_codes_are_upper_cased(db, code):
    who = contacts.add_contact("A", now=NOW)
    card = deals.add_deal("Dach", contact_id=who["id"], currency=code, now=NOW)
    assert card["currency"] == code.strip().upper()


@pytest.mark.parametrize("code", ["XYZ", "EUX", "DEM", "XAU", "XTS", "euro", "€"])
def test_unknown_currency_codes_are_refused(db, code):
    who = contacts.add_contact("A", now=NOW)
    with pytest.raises(Invalid, match="ISO 4217"):
        deals.add_deal("Dach", contact_id=who["id"], currency=code, now=NOW)
    deal = deals.add_deal("Dach", contact_id=who["id"], now=NOW)
    with pytest.raises(Invalid, match="ISO 4217"):
        deals.edit_deal(deal["id"], {"currency": code}, now=NOW)
    assert deals.get_deal(deal["id"])["currency"] == "EUR"


def test_a_nul_character_is_refused_before_the_database_sees_it(db):
    """On PostgreSQL a NUL in text was 'unexpected ValueError' from the driver."""
    person = contacts.add_contact("Nul Test")
    with pytest.raises(Invalid, match="NUL character"):
        activities.log_activity("note", contact_id=person["id"], body="a\x00b")
    with pytest.raises(Invalid, match="NUL character"):
        contacts.add_contact("Eve\x00")
