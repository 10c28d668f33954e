"""One company per name, whatever the case, accents or umlaut spelling; REFs find it by any."""

from __future__ import annotations


def test_a_transliterated_twin_is_refused(crm):
    assert crm("add", "company", "Müller Bau GmbH").exit_code == 0
    r = crm("add", "company", "Mueller Bau GmbH")
    assert r.exit_code == 1
    assert r.stderr == "crm: error: company #1 Müller Bau GmbH exists already\n"
    for typed in ("muller bau", "mueller bau", "MÜLLER BAU"):
        r = crm("show", "company", typed, "-o", "json")
        assert (r.exit_code, r.json()["id"]) == (0, 1), typed


def test_bauer_and_baur_are_two_companies(crm):
    assert crm("add", "company", "Bauer GmbH").exit_code == 0
    assert crm("add", "company", "Baur GmbH").exit_code == 0
    assert crm("show", "company", "baur", "-o", "json").json()["name"] == "Baur GmbH"


def test_a_created_company_is_announced_the_same_way_everywhere(crm):
    r = crm("add", "contact", "Anna", "--company", "Neue Firma GmbH", "--city", "Bonn")
    assert "Created company 'Neue Firma GmbH' (#1).\n" in r.stderr
    crm("add", "contact", "Bernd", "--city", "Bonn")
    r = crm("edit", "bernd", "--company", "Schmidt Dach KG")
    assert "Created company 'Schmidt Dach KG' (#2).\n" in r.stderr
    r = crm("edit", "--company", "Dritte AG", "--where", "--city", "bonn", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Created company 'Dritte AG' (#3).\n" in r.stderr
    r = crm("edit", "--company", "dritte", "--where", "--city", "bonn", "--yes")
    assert "Created company" not in r.stderr


def test_a_company_named_in_two_spellings_is_ambiguous_not_picked(crm):
    """Mueller and Muller are two companies (no umlaut in either), and `müller` is each of
    them: naming it on a contact lists both and writes nothing, as show does."""
    for name in ("Mueller", "Muller"):
        assert crm("add", "company", name).exit_code == 0
    r = crm("add", "contact", "Zoe", "-c", "müller")
    assert r.exit_code == 1 and "ambiguous" in r.stderr
    assert "Mueller" in r.stderr and "Muller" in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []
    assert crm("add", "contact", "Zoe", "-c", "mueller").exit_code == 0  # one exact name
