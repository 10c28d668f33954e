"""Errors carry facts a front end can use without reading the message: kind, ref, candidates,
field, and what the user can do (action) with the ids it needs."""

from __future__ import annotations

import pytest

from crmcli.errors import Ambiguous, Conflict, Invalid, NotFound
from crmcli.services import contacts, deals, tags, tasks
from tests.conftest import NOW


@pytest.mark.parametrize("ref", ["nobody", "#999", "nobody@example.org"])
def test_not_found_names_the_kind_and_the_ref(db, ref):
    with pytest.raises(NotFound) as caught:
        contacts.resolve_contact(ref)
    assert caught.value.facts == {"kind": "contact", "ref": ref}
    assert caught.value.action is None


def test_ambiguous_lists_its_candidates(db):
    contacts.add_contact("Anna Müller", now=NOW)
    contacts.add_contact("Anna Schmidt", now=NOW)
    with pytest.raises(Ambiguous) as caught:
        contacts.resolve_contact("anna")
    error = caught.value
    assert (error.kind, error.ref, error.total) == ("contact", "anna", 2)
    assert sorted(c.name for c in error.candidates) == ["Anna Müller", "Anna Schmidt"]


def test_invalid_names_its_field(db):
    with pytest.raises(Invalid) as caught:
        tasks.add_task("Serie", rrule="FREQ=WEEKLY", now=NOW)
    assert (caught.value.field, caught.value.action) == ("every", "give_due")


def test_a_closed_deal_says_it_can_be_reopened(db):
    person = contacts.add_contact("Erika Muster", now=NOW)
    deal = deals.add_deal("Dach", contact_id=person["id"], now=NOW)
    deals.win_deal(deal["id"], now=NOW)
    with pytest.raises(Conflict) as caught:
        deals.move_deal(deal["id"], "lead", now=NOW)
    assert (caught.value.action, caught.value.facts) == ("reopen_deal", {"deal": deal["id"]})
    assert str(caught.value) == f"deal #{deal['id']} is won"


def test_an_unknown_tag_says_where_the_tags_are(db):
    with pytest.raises(NotFound) as caught:
        tags.resolve_tag("gibtsnicht")
    assert caught.value.action == "list_tags"
    assert caught.value.facts == {"kind": "tag", "ref": "gibtsnicht"}
