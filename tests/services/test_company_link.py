"""Naming a company on a contact links the company that name names (as a REF), or creates it
when nothing matches, inside the contact's own transaction; the result says which."""

from __future__ import annotations

import pytest

from crmcli.errors import Ambiguous, Invalid
from crmcli.models import Company
from crmcli.services import bulk, companies, contacts
from tests.conftest import NOW


def test_add_and_edit_say_whether_they_created_the_company(db):
    card = contacts.add_contact("Anna", company="Neue Firma GmbH", now=NOW)
    assert (card["company"], card["company_created"]) == ("Neue Firma GmbH", True)
    card = contacts.add_contact("Bernd", company="neue firma", now=NOW)
    assert (card["company_id"], card["company_created"]) == (1, False)
    card = contacts.edit_contact(card["id"], {"company": "Schmidt Dach KG"}, now=NOW)
    assert (card["company"], card["company_created"]) == ("Schmidt Dach KG", True)
    card = contacts.edit_contact(card["id"], {"company": "neue"}, now=NOW)
    assert (card["company_id"], card["company_created"]) == (1, False)
    card = contacts.edit_contact(card["id"], {"company": None}, now=NOW)
    assert (card["company_id"], card["company_created"]) == (None, False)
    assert contacts.add_contact("Cem", now=NOW)["company_created"] is False


def test_bulk_edit_says_which_company_it_created(db):
    for name in ("Anna", "Bernd"):
        contacts.add_contact(name, city="Bonn", now=NOW)
    result = bulk.edit("contact", {"city": "bonn"}, {"company": "Neue Firma GmbH"}, now=NOW)
    assert result["company_created"] is True
    assert (result["company_id"], result["company"]) == (1, "Neue Firma GmbH")
    result = bulk.edit("contact", {"city": "bonn"}, {"company": "neue"}, now=NOW)
    assert (result["company_created"], result["company_id"]) == (False, 1)


def test_a_failed_contact_creates_no_company(db):
    contacts.add_contact("Anna", email="a@example.de", now=NOW)
    with pytest.raises(Exception, match="already belongs"):
        contacts.add_contact("Anna 2", email="a@example.de", company="Neu GmbH", now=NOW)
    with pytest.raises(Invalid):
        contacts.edit_contact(1, {"company": "Neu GmbH", "status": "nonsense"}, now=NOW)
    assert Company.select().count() == 0


def test_link_company_is_the_one_rule(db):
    assert companies.link_company("  ", now=NOW) == (None, False)
    made = companies.link_company("Müller Bau GmbH", now=NOW)
    assert made[1] is True
    assert companies.link_company("Mueller Bau GmbH", now=NOW) == (made[0], False)
    companies.add_company("Müller Bau AG", now=NOW)
    with pytest.raises(Ambiguous):
        companies.link_company("müller bau", now=NOW)
