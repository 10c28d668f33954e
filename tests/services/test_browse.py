"""Windows into big lists (services/browse.py): any position, by key next to a window held,
counted from the nearer end, filters and search ids; always the rows list_contacts gives."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.services import browse, companies, contacts, search
from tests.conftest import NOW

NAMES = ["Zoë Adler", "Ärger Bernd", "Müller Jürgen", "Meier Anna", "Brandt Olaf", "Öztürk Can",
         "Schulz Eva", "Weiß Tom", "Krause Ute", "Becker Lars", "Neumann Ida", "Vogel Ben",
         "Fuchs Pia", "Lang Max", "Kaiser Jan"]  # fmt: skip


@pytest.fixture
def people(db):
    for i, name in enumerate(NAMES):
        contacts.add_contact(
            name,
            city="Köln" if i % 3 == 0 else ("Berlin" if i % 3 == 1 else None),
            status="customer" if i % 2 else "lead",
            owner="anna" if i % 4 == 0 else None,
            company="Müller Bau GmbH" if i % 5 == 0 else None,
            now=NOW,
        )
    return [c["id"] for c in contacts.list_contacts()]


@pytest.mark.parametrize("sort", ["name", "-name", "city", "-city", "status", "created", "id"])
def test_every_window_is_the_slice_of_the_full_list(people, sort):
    full = [c["id"] for c in contacts.list_contacts(sort=sort)]
    total = browse.count_contacts()
    assert total == len(full) == len(NAMES)
    for offset in range(0, total + 2):
        for limit in (1, 4, 7):
            for known in (total, None):  # counted from the nearer end, or from the start
                got = [r["id"] for r in browse.contact_rows(
                    sort=sort, offset=offset, limit=limit, total=known)]  # fmt: skip
                assert got == full[offset : offset + limit], (offset, limit, known)


@pytest.mark.parametrize("sort", ["name", "-name", "created", "status", "id"])
def test_the_window_after_or_before_a_row_follows_on_by_key(people, sort):
    full = browse.contact_rows(sort=sort, limit=100)
    ids = [r["id"] for r in full]
    for i, row in enumerate(full):
        after = browse.contact_rows(sort=sort, after=row["key"], limit=3)
        assert [r["id"] for r in after] == ids[i + 1 : i + 4]
        before = browse.contact_rows(sort=sort, before=row["key"], limit=3)
        assert [r["id"] for r in before] == ids[max(0, i - 3) : i]


def test_filters_search_ids_and_owner_narrow_the_window(people):
    kept = browse.contact_rows(city="koeln", status="customer", limit=100)
    assert kept and all(r["city"] == "Köln" and r["status"] == "customer" for r in kept)
    assert browse.count_contacts(city="koeln", status="customer") == len(kept)
    owned = browse.contact_rows(owner="Anna", limit=100)
    assert {r["owner"] for r in owned} == {"anna"} and len(owned) == 4
    ids = search.matching_ids("jürg", "contact")
    found = browse.contact_rows(ids=ids, limit=100)
    assert [r["name"] for r in found] == ["Müller Jürgen"]
    assert browse.count_contacts(ids=ids) == 1
    at_company = search.matching_ids("mueller bau", "contact")  # folded, company's people too
    assert browse.count_contacts(ids=at_company) == 3
    assert browse.contact_rows(ids=[], limit=10) == [] and browse.count_contacts(ids=[]) == 0
    assert browse.contact_rows(tags_=["no-such-tag"], limit=10) == []
    assert {r["company"] for r in browse.contact_rows(ids=at_company)} == {"Müller Bau GmbH"}


def test_one_letter_narrows_to_the_names_that_begin_with_it(people):
    """What the search box does with a single letter (a one-letter prefix of every word in
    the search index would match most of the database): Ä and Ö fold to a and o."""
    names = [r["name"] for r in browse.contact_rows(initial="ä", limit=100)]
    assert names == ["Ärger Bernd"]
    assert [r["name"] for r in browse.contact_rows(initial="O", limit=9)] == ["Öztürk Can"]
    assert browse.count_contacts(initial="b") == 2  # Becker, Brandt; not Ärger Bernd
    assert browse.count_contacts(initial="b", status="lead") == len(
        browse.contact_rows(initial="b", status="lead"))  # fmt: skip


def test_a_bad_sort_is_an_error_with_the_choices(people):
    with pytest.raises(Invalid, match="cannot sort contacts by 'shoe'"):
        browse.contact_rows(sort="shoe")
    with pytest.raises(Invalid, match="cannot sort companies by 'x'"):
        browse.company_rows(sort="x")


def test_company_windows(db):
    for name in ["Beta AG", "Alpha GmbH", "Gamma KG", "Delta OHG"]:
        companies.add_company(name, city="Köln" if name < "C" else None, now=NOW)
    full = [c["id"] for c in companies.list_companies()]
    total = browse.count_companies()
    for offset in range(total + 1):
        got = browse.company_rows(offset=offset, limit=2, total=total)
        assert [r["id"] for r in got] == full[offset : offset + 2]
    first = browse.company_rows(limit=1)[0]
    assert [r["name"] for r in browse.company_rows(after=first["key"], limit=9)] == [
        "Beta AG", "Delta OHG", "Gamma KG"]  # fmt: skip
    assert browse.count_companies(city="koeln") == 2


def test_the_data_version_moves_when_another_connection_commits(db):
    """What crm tui polls: unchanged by reads, changed by another connection's write."""
    from crmcli.models import database_proxy
    from crmcli.services import changes

    first = changes.data_version()
    contacts.list_contacts()
    assert changes.data_version() == first
    other = _second_connection(database_proxy.obj)
    try:
        cur = other.cursor()
        # A real change: SQLite writes nothing for an UPDATE that sets the values it holds.
        cur.execute("UPDATE stage SET name = name || '!'")
        assert cur.rowcount > 0
        other.commit()
    finally:
        other.close()
    assert changes.data_version() != first


def _second_connection(db):
    """Another connection to the test's database (as another process would have)."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        import sqlite3

        return sqlite3.connect(db.database)
    import psycopg2

    return psycopg2.connect(db.database, **db.connect_params)
