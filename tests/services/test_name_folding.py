"""Names compare as search folds them: case and accents aside, and a German umlaut is the same
as its transliteration (ü = ue) and as the bare vowel (ü = u); ß is ss. Two names are the same
when they agree with umlauts reduced (Müller = Muller) or expanded (Müller = Mueller). Letters
that are no umlaut are never rewritten, so Bauer is not Baur (and Mueller, with no ü to go
by, is not Muller: that is the same rewrite as Bauer to Baur)."""

from __future__ import annotations

import pytest

from crmcli.errors import Ambiguous, Conflict, NotFound
from crmcli.services import companies, contacts, refs
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Müller", "Mueller"), ("Müller", "Muller"), ("Müller", "MUELLER"),
        ("MÜLLER", "muller"), ("Weiß", "Weiss"), ("Köln", "Koeln"), ("Köln", "Koln"),
        ("Jürgen Müller", "Juergen Mueller"), ("Jürgen Müller", "Jurgen Muller"),
        ("Café Größe", "CAFE GROESSE"),
    ],
)  # fmt: skip
def test_the_same_name(a, b):
    assert refs.same_name(a, b) and refs.same_name(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bauer", "Baur"), ("Mueller", "Muller"), ("Michael", "Michal"), ("Joe", "Jo"),
        ("Poet", "Pot"), ("Feuer", "Fuer"), ("Müller", "Möller"), ("Mueller", "Müler"),
    ],
)  # fmt: skip
def test_not_the_same_name(a, b):
    assert not refs.same_name(a, b) and not refs.same_name(b, a)


# ---------------------------------------------------------------- one company per name


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Müller Bau GmbH", "Mueller Bau GmbH"), ("Mueller Bau GmbH", "Müller Bau GmbH"),
        ("Müller Bau GmbH", "MULLER BAU GMBH"), ("Muller Bau GmbH", "müller bau gmbh"),
        ("Weiß AG", "Weiss AG"), ("Weiss AG", "WEISS ag"), ("Öl & Gas Süd", "Oel & Gas Sued"),
    ],
)  # fmt: skip
def test_a_company_of_the_same_name_exists_already(db, first, second):
    kept = companies.add_company(first, now=NOW)
    with pytest.raises(Conflict, match=f"company #{kept['id']} .* exists already"):
        companies.add_company(second, now=NOW)
    other = companies.add_company("Andere GmbH", now=NOW)
    with pytest.raises(Conflict, match="exists already"):
        companies.edit_company(other["id"], {"name": second}, now=NOW)
    # renaming a company to another spelling of its own name is no clash
    assert companies.edit_company(kept["id"], {"name": second}, now=NOW)["name"] == second


@pytest.mark.parametrize(
    ("first", "second"),
    [("Bauer GmbH", "Baur GmbH"), ("Mueller Bau GmbH", "Muller Bau GmbH"), ("Poet AG", "Pot AG")],
)
def test_names_that_only_look_alike_are_two_companies(db, first, second):
    a = companies.add_company(first, now=NOW)
    b = companies.add_company(second, now=NOW)
    assert a["id"] != b["id"]


def test_a_name_with_many_transliterations_still_finds_its_twin(db):
    name = "Aeoeue Baeuoe Oeaeue Ueaeoe Kaeoeue"  # ten ae/oe/ue: 1,024 spellings
    companies.add_company(name.replace("ae", "ä").replace("oe", "ö").replace("ue", "ü"), now=NOW)
    with pytest.raises(Conflict, match="exists already"):
        companies.add_company(name, now=NOW)


# ---------------------------------------------------------------- REFs by name fragment


@pytest.mark.parametrize("typed", ["muller bau", "mueller bau", "MÜLLER", "Müller Bau", "bau gm"])
def test_a_company_with_an_umlaut_is_found_by_every_spelling(db, typed):
    gmbh = companies.add_company("Müller Bau GmbH", now=NOW)
    assert companies.resolve_company(typed) == gmbh["id"]


@pytest.mark.parametrize("typed", ["mueller bau", "Müller Bau", "MÜLLER", "MUELLER"])
def test_a_transliterated_company_is_found_by_its_umlaut_too(db, typed):
    gmbh = companies.add_company("Mueller Bau GmbH", now=NOW)
    assert companies.resolve_company(typed) == gmbh["id"]


def test_an_umlaut_ref_for_a_transliterated_contact(db):
    jm = contacts.add_contact("Juergen Mueller", now=NOW)
    contacts.add_contact("Karl Muller", now=NOW)
    assert contacts.resolve_contact("jürgen") == jm["id"]
    # Müller is both Mueller and Muller: both are candidates
    with pytest.raises(Ambiguous) as caught:
        contacts.resolve_contact("müller")
    assert caught.value.total == 2
    assert contacts.resolve_contact("mueller") == jm["id"]


def test_an_exact_name_in_another_spelling_beats_a_longer_one(db):
    short = companies.add_company("Müller", now=NOW)
    companies.add_company("Mueller Bau GmbH", now=NOW)
    assert companies.resolve_company("mueller") == short["id"]
    assert companies.resolve_company("MÜLLER") == short["id"]


@pytest.mark.parametrize(("stored", "typed"), [("Bauer GmbH", "baur"), ("Baur GmbH", "bauer")])
def test_no_false_friends(db, stored, typed):
    companies.add_company(stored, now=NOW)
    with pytest.raises(NotFound):
        companies.resolve_company(typed)


def test_adding_a_contact_links_the_company_in_another_spelling(db):
    gmbh = companies.add_company("Mueller Bau GmbH", now=NOW)
    card = contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)
    assert card["company_id"] == gmbh["id"]
    assert len(companies.list_companies()) == 1
