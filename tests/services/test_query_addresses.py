"""Address completion (services.addressbook): what `crm query` lists for mutt and aerc."""

from __future__ import annotations

import pytest

from crmcli.models import ContactEmail
from crmcli.services import addressbook, contacts
from tests.conftest import NOW


@pytest.fixture
def people(db):
    ids = {
        "jürgen": contacts.add_contact(
            "Jürgen Müller", email="jm@mueller-bau.de", company="Müller Bau GmbH", now=NOW
        )["id"],
        "anna": contacts.add_contact("Anna Weiß", email="anna@weiss.example", now=NOW)["id"],
        "nomail": contacts.add_contact("Jürgen Ohnemail", now=NOW)["id"],
        "maier": contacts.add_contact("Max Maier", email="max@maier.example", now=NOW)["id"],
    }
    # Jürgen's other emails, the private one given first (position 1 and 2).
    for position, (email, kind) in enumerate(
        [("juergen@privat.example", "home"), ("JM@Mobil.Example", "mobile")], start=1
    ):
        ContactEmail.insert(
            contact=ids["jürgen"], email=email, email_key=email.lower(), kind=kind,
            is_primary=False, position=position,
        ).execute()  # fmt: skip
    return ids


def lookup(query: str, **options) -> list[tuple[str, str, str | None]]:
    return [(a.email, a.name, a.company) for a in addressbook.lookup(query, **options)]


def test_every_email_of_a_match_primary_first(people):
    assert lookup("müller") == [
        ("jm@mueller-bau.de", "Jürgen Müller", "Müller Bau GmbH"),
        ("juergen@privat.example", "Jürgen Müller", "Müller Bau GmbH"),
        ("JM@Mobil.Example", "Jürgen Müller", "Müller Bau GmbH"),
    ]


@pytest.mark.parametrize("query", ["mueller", "MULLER", "jürg", "müller bau", "Müller Bau GmbH"])
def test_folding_prefix_search_as_crm_search(people, query):
    assert {e for e, _, _ in lookup(query)} >= {"jm@mueller-bau.de"}


def test_contacts_without_email_are_left_out(people):
    assert [n for _, n, _ in lookup("jürgen")] == ["Jürgen Müller"] * 3


@pytest.mark.parametrize(
    ("query", "email"),
    [("anna@w", "anna@weiss.example"), ("juergen@pri", "juergen@privat.example"),
     ("jm@mobil", "JM@Mobil.Example"), ("MAX@", "max@maier.example")],
)  # fmt: skip
def test_an_email_prefix_finds_its_contact(people, query, email):
    assert email in [e for e, _, _ in lookup(query)]


def test_the_primary_copy_on_the_contact_counts_without_rows(db):
    # Contacts written before the 0009 rows existed have only contact.email.
    contacts.add_contact("Anna Weiß", email="anna@weiss.example", now=NOW)
    ContactEmail.delete().execute()
    assert lookup("anna@we") == [("anna@weiss.example", "Anna Weiß", None)]
    assert lookup("weiss") == [("anna@weiss.example", "Anna Weiß", None)]


def test_nothing_and_blank_find_nothing(people):
    assert lookup("zzzz") == []
    assert lookup("   ") == []


def test_limit_counts_contacts(people):
    for i in range(5):
        contacts.add_contact(f"Müller Nummer{i}", email=f"m{i}@mueller.example", now=NOW)
    found = addressbook.lookup("müller", limit=3)
    assert len({a.contact_id for a in found}) == 3


def test_like_characters_are_plain_text(people):
    assert lookup("%") == [] and lookup("_") == []


def test_queries_do_not_grow_with_the_matches(people, db_backend):
    from playhouse.test_utils import count_queries

    for i in range(30):
        contacts.add_contact(f"Müller Nummer{i}", email=f"m{i}@mueller.example", now=NOW)
    with count_queries() as counted:
        found = addressbook.lookup("müller")
    assert len(found) >= 30
    # PostgreSQL's search finds the newest matches of a kind, then ranks them: two statements
    assert counted.count <= (9 if db_backend == "pg" else 8)


def test_email_prefix_outside_the_c_locale(people, monkeypatch, db_backend):
    # A PostgreSQL database in another locale compares the prefix COLLATE "C" (no index).
    if db_backend != "pg":
        pytest.skip("SQLite compares in code point order")
    monkeypatch.setattr(addressbook, "_code_point_order", lambda: False)
    assert lookup("anna@w") == [("anna@weiss.example", "Anna Weiß", None)]


def test_limit_counts_only_contacts_with_an_email(db):
    # Better hits without an email must not use up the limit (a real match then went missing).
    contacts.add_contact("Hans Müller", now=NOW)
    contacts.add_contact("Hans Müller-Lüdenscheidt", now=NOW)
    contacts.add_contact("Paul Müller", email="paul@x.de", now=NOW)
    assert lookup("müller", limit=2) == [("paul@x.de", "Paul Müller", None)]
    assert lookup("müller", limit=1) == [("paul@x.de", "Paul Müller", None)]


def test_limit_pages_past_many_contacts_without_an_email(db):
    for i in range(120):
        contacts.add_contact(f"Müller Ohnemail{i}", now=NOW)
    contacts.add_contact("Paul Müller", email="paul@x.de", now=NOW)
    contacts.add_contact("Petra Müller", email="petra@x.de", now=NOW)
    found = addressbook.lookup("müller", limit=2)
    assert sorted(a.email for a in found) == ["paul@x.de", "petra@x.de"]
