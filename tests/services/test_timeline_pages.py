"""A long timeline read a page at a time by key (the contact and company cards of crm tui)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcli.errors import Invalid
from crmcli.services import activities, contacts
from tests.conftest import NOW


def _log(contact_id: int, n: int, *, same_time: bool = False) -> list[int]:
    ids = []
    for i in range(n):
        at = NOW - timedelta(hours=1 if same_time else i + 1)
        ids.append(
            activities.log_activity(
                "call", contact_id=contact_id, occurred_at=at, subject=f"call {i}", now=NOW
            )["id"]
        )
    return ids


def _pages(limit: int, **owner) -> list[list[int]]:
    pages, before = [], None
    while True:
        page = activities.timeline_page(before=before, limit=limit, **owner)
        if not page:
            return pages
        pages.append([a["id"] for a in page])
        before = (page[-1]["occurred_at"], page[-1]["id"])


def test_pages_follow_each_other_newest_first_without_gaps_or_repeats(db):
    jm = contacts.add_contact("Jürgen Müller", now=NOW)["id"]
    other = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    ids = _log(jm, 23)
    _log(other, 3)
    pages = _pages(10, contact_id=jm)
    assert [len(p) for p in pages] == [10, 10, 3]
    assert sum(pages, []) == ids  # logged newest first already (each an hour earlier)
    assert pages[0] == [a["id"] for a in activities.timeline_of(jm, 10)]


def test_activities_at_the_same_moment_page_by_id(db):
    jm = contacts.add_contact("Jürgen Müller", now=NOW)["id"]
    ids = _log(jm, 7, same_time=True)
    assert sum(_pages(3, contact_id=jm), []) == sorted(ids, reverse=True)


def test_a_company_page_holds_its_own_and_its_peoples_activities(db):
    jm = contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)
    anna = contacts.add_contact("Anna Weiß", company="Müller Bau GmbH", now=NOW)["id"]
    firm = jm["company_id"]
    own = activities.log_activity(
        "meeting", company_id=firm, occurred_at=NOW - timedelta(minutes=30), now=NOW
    )["id"]
    theirs = _log(jm["id"], 2) + _log(anna, 2)
    elsewhere = contacts.add_contact("Peter Schmidt", now=NOW)["id"]
    _log(elsewhere, 2)
    got = sum(_pages(2, company_id=firm), [])
    assert sorted(got) == sorted([own, *theirs]) and got[0] == own


def test_a_timeline_belongs_to_a_contact_or_a_company(db):
    with pytest.raises(Invalid):
        activities.timeline_page()
    with pytest.raises(Invalid):
        activities.timeline_page(contact_id=1, company_id=1)


def test_a_moment_to_come_is_no_activity():
    assert activities.check_occurred_at(NOW, NOW) == NOW
    with pytest.raises(Invalid, match="future"):
        activities.check_occurred_at(NOW + timedelta(hours=1), NOW)
