"""`crm add/list/show/edit/delete company` through the CLI."""

from __future__ import annotations

import pytest


@pytest.fixture
def acme(crm):
    r = crm(
        "add", "company", "Müller Bau GmbH", "--domain", "Mueller-Bau.DE", "--industry", "Bau",
        "-p", "+49 221 123456", "-e", "info@mueller-bau.de", "--street", "Ring 5",
        "--zip", "50667", "--city", "Köln", "--country", "DE", "--notes", "Großkunde",
        "-t", "b2b", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_add_company_fields(acme):
    assert acme["name"] == "Müller Bau GmbH"
    assert acme["domain"] == "mueller-bau.de"
    assert acme["phone_e164"] == "+49221123456"
    assert acme["tags"] == ["b2b"]
    assert acme["contacts"] == []


def test_same_company_name_in_other_case_or_accents_is_a_conflict(crm, acme):
    r = crm("add", "company", "MULLER BAU gmbh")
    assert r.exit_code == 1
    assert "exists already" in r.stderr
    assert len(crm("list", "companies", "-o", "json").json()) == 1


def test_show_company_lists_its_people(crm, acme):
    crm("add", "contact", "Jürgen Müller", "-c", "müller bau gmbh", "--position", "Chef")
    crm("add", "contact", "Anna Weiß", "-c", "Müller Bau GmbH")
    card = crm("show", "company", "mueller", "-o", "json").json()
    assert [p["name"] for p in card["contacts"]] == ["Anna Weiß", "Jürgen Müller"]
    text = crm("show", "company", "1").stdout
    assert "People (2)" in text and "Chef" in text


def test_edit_company_and_rename_reindexes_people(crm, acme):
    crm("add", "contact", "Jürgen Müller", "-c", "müller bau gmbh")
    r = crm(
        "edit",
        "company",
        "müller",
        "--name",
        "Schmidt Hochbau AG",
        "--city",
        "Bonn",
        "--untag",
        "b2b",
        "-t",
        "Bau",
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["name"] == "Schmidt Hochbau AG" and r.json()["tags"] == ["Bau"]
    hits = crm("search", "hochbau", "-o", "json").json()
    assert {(h["kind"], h["id"]) for h in hits} == {("company", 1), ("contact", 1)}


def test_rename_onto_an_existing_company_is_refused(crm, acme):
    crm("add", "company", "Schmidt AG")
    r = crm("edit", "company", "schmidt", "--name", "müller bau gmbh")
    assert r.exit_code == 1
    assert crm("show", "company", "schmidt", "-o", "json").json()["name"] == "Schmidt AG"


def test_list_companies_filters_and_sorts(crm, acme):
    crm("add", "company", "Zeta AG", "--city", "Berlin", "--industry", "IT")
    crm("add", "contact", "A", "-c", "Zeta AG")
    crm("add", "contact", "B", "-c", "Zeta AG")
    names = lambda *a: [c["name"] for c in crm("list", "companies", *a, "-o", "json").json()]  # noqa: E731
    assert names() == ["Müller Bau GmbH", "Zeta AG"]
    assert names("--sort", "-contacts") == ["Zeta AG", "Müller Bau GmbH"]
    assert names("--city", "köln") == ["Müller Bau GmbH"]
    assert names("--industry", "it") == ["Zeta AG"]
    assert names("--tag", "B2B") == ["Müller Bau GmbH"]
    assert names("--tag", "unknown") == []
    assert names("--limit", "1", "--offset", "1") == ["Zeta AG"]


def test_delete_company_keeps_or_deletes_people(crm, acme):
    crm("add", "contact", "Jürgen Müller", "-c", "müller bau gmbh")
    r = crm("delete", "company", "müller")
    assert r.exit_code == 1 and "--contacts delete --yes deletes it too" in r.stderr
    r = crm("delete", "company", "müller", "--yes")
    assert r.exit_code == 0
    assert "1 contact kept without company" in r.stderr
    assert crm("show", "1", "-o", "json").json()["company"] is None

    crm("add", "company", "Weg GmbH")
    crm("add", "contact", "Eva", "-c", "Weg GmbH")
    r = crm("delete", "company", "weg", "--contacts", "delete", "--yes")
    assert r.exit_code == 0
    assert [c["name"] for c in crm("list", "contacts", "-o", "json").json()] == ["Jürgen Müller"]
    assert crm("search", "eva", "-o", "json").json() == []


def test_delete_company_prompt_on_terminal(crm, acme, monkeypatch):
    from crmcli import env

    crm("add", "contact", "Jürgen Müller", "-c", "müller bau gmbh")
    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    r = crm("delete", "company", "müller", input="cancel\n")
    assert r.exit_code == 1
    assert crm("show", "company", "1").exit_code == 0
    r = crm("delete", "company", "müller", input="delete\n")
    assert r.exit_code == 0, r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


def test_unknown_kind_is_an_error(crm):
    r = crm("show", "planet", "mars")
    assert r.exit_code == 1
    assert "unknown kind 'planet'" in r.stderr
