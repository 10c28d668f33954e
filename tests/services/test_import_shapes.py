"""Contact records of any shape a hostile JSON file may hold reach the engine (crm import
json): plain strings where objects are expected are taken, anything else is a rejected row
with the reason, never a traceback."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.services import contacts, imports
from tests.conftest import NOW


def run(record: dict, **options):
    return imports.import_contacts([("item 1", record)], now=NOW, **options)


def test_plain_strings_are_taken_as_emails_phones_and_a_tag(db):
    run({"name": "Anna Weiß", "emails": ["anna@weiss.de"], "phones": "030 1234567", "tags": "vip"})
    card = contacts.get_contact(contacts.resolve_contact("anna@weiss.de"))
    assert [e["email"] for e in card["emails"]] == ["anna@weiss.de"]
    assert [p["phone"] for p in card["phones"]] == ["030 1234567"]
    assert card["tags"] == ["vip"]  # not the tags v, i and p


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ({"name": "x", "emails": [5]}, "emails: must be a list of emails"),
        ({"name": "x", "phones": {"a": 1}}, "phones: must be a list of phones"),
        ({"name": "x", "fields": [1]}, "fields: must be an object"),
        ({"name": "x", "fields": {"k": [1]}}, "custom field values must be text"),
        ({"name": "x", "tags": {"a": 1}}, "tags: must be a list of tag names"),
    ],
)
def test_wrong_shapes_are_rejected_with_the_reason(db, record, why):
    with pytest.raises(Invalid, match=why):
        run(record)
    result = run(record, keep_going=True)
    assert result.rejected_count == 1
    assert why in result.rejected[0][2]
    assert contacts.count_contacts() == 0


def test_a_birthday_without_its_year_never_replaces_the_full_one(db):
    """An iPhone that hides the year (X-APPLE-OMIT-YEAR) says nothing new about 01.02.1980."""
    from datetime import date

    run({"name": "Jan Weiß", "emails": ["jan@weiss.de"], "birthday": "01.02.1980"})
    result = run({"name": "Jan Weiß", "emails": ["jan@weiss.de"], "birthday": "--02-01"})
    assert (result.new, result.updated, result.unchanged) == (0, 0, 1)
    card = contacts.get_contact(contacts.resolve_contact("jan@weiss.de"))
    assert card["birthday"] == date(1980, 2, 1)
    run({"name": "Jan Weiß", "emails": ["jan@weiss.de"], "birthday": "--03-01"})
    card = contacts.get_contact(contacts.resolve_contact("jan@weiss.de"))
    assert (card["birthday"].month, card["birthday"].day) == (3, 1)  # another day: taken
