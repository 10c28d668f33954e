"""A change to many contacts (services.bulk) obeys the rules a change to one obeys: one check
(contacts.check_change) and one delete path serve both, so they cannot drift apart."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crmcli.errors import Invalid
from crmcli.models import Activity, Contact
from crmcli.services import activities, bulk, companies, contacts
from tests.conftest import NOW

JAN = datetime.fromisoformat("2026-01-01T00:00:00+01:00")


@pytest.fixture
def two(db):
    return [contacts.add_contact(n, city="Bonn", now=NOW)["id"] for n in ("Anna", "Bernd")]


def _stored() -> list:
    return list(Contact.select(Contact.id, Contact.consent, Contact.consent_at).tuples())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"consent_at": JAN}, "consent-date"),
        ({"consent": False, "consent_at": JAN}, "consent-date"),
        ({"status": "boss"}, "status"),
        ({"birthday": date(2099, 1, 1)}, "birthday"),
        ({"cadence_days": 0}, "every"),
        ({"shoe_size": "44"}, "field"),
    ],
)
def test_one_and_many_refuse_the_same_changes(two, changes, field):
    before = _stored()
    with pytest.raises(Invalid) as one:
        contacts.edit_contact(two[0], changes, now=NOW)
    with pytest.raises(Invalid) as many:
        bulk.edit("contact", {"city": "bonn"}, changes, now=NOW)
    assert one.value.field == many.value.field == field
    assert _stored() == before


def test_a_consent_date_goes_to_contacts_that_consented(two):
    contacts.edit_contact(two[0], {"consent": True}, now=NOW)
    with pytest.raises(Invalid, match="needs the consent itself"):
        bulk.edit("contact", {"city": "bonn"}, {"consent_at": JAN}, now=NOW)
    bulk.edit("contact", {"city": "bonn"}, {"consent": True, "consent_at": JAN}, now=NOW)
    bulk.edit("contact", {"city": "bonn"}, {"consent_at": JAN}, now=NOW)  # both consented now
    assert {(c, at) for _, c, at in _stored()} == {(True, JAN)}


def test_many_cannot_give_everyone_the_same_name_or_email(two):
    for changes in ({"name": "X"}, {"email": "x@example.de"}):
        with pytest.raises(Invalid, match="one by one"):
            bulk.edit("contact", {"city": "bonn"}, changes, now=NOW)
    with pytest.raises(Invalid, match="one by one"):
        bulk.edit("company", {"city": "bonn"}, {"name": "X"}, every=True, now=NOW)


def test_deleting_a_company_with_its_people_keeps_other_peoples_entries(db):
    """An entry on someone else (who works elsewhere) that also names the company stays, with
    or without the company's people; one delete serves one company and many."""
    for many in (False, True):
        firm = companies.add_company(f"Firma {many}", now=NOW)["id"]
        staff = contacts.add_contact(f"Staff {many}", company=f"Firma {many}", now=NOW)["id"]
        other = contacts.add_contact(f"Other {many}", now=NOW)["id"]
        mine = activities.log_activity("call", contact_id=staff, now=NOW)["id"]
        theirs = activities.log_activity(
            "note", contact_id=other, company_id=firm, body="Firma erwähnt", now=NOW
        )["id"]
        if many:
            bulk.delete("company", {"tags_": [], "city": None}, contacts="delete", every=True)
        else:
            companies.delete_company(firm, contacts="delete")
        assert not Activity.select().where(Activity.id == mine).exists()
        kept = Activity.get_by_id(theirs)
        assert (kept.contact_id, kept.company_id) == (other, None), many
