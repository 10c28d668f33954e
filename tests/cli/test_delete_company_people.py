"""Deleting a company that has people: without a terminal the refusal says what each choice
does, and it is true: --yes alone keeps the people (without company); only an explicit
--contacts delete deletes them."""

from __future__ import annotations


def test_the_refusal_says_what_yes_does_and_it_does_that(crm):
    crm("add", "contact", "Jürgen Müller", "-c", "Müller Bau GmbH")
    r = crm("delete", "company", "müller bau")
    assert r.exit_code == 1
    assert r.stderr == (
        "crm: error: company #1 Müller Bau GmbH has 1 contact: --yes deletes the company and "
        "keeps it without company; --contacts delete --yes deletes it too\n"
    )
    r = crm("delete", "company", "müller bau", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == "Deleted company #1 Müller Bau GmbH; 1 contact kept without company.\n"
    assert crm("show", "jürgen", "-o", "json").json()["company"] is None


def test_the_refusal_for_many_companies(crm):
    for person, firm in (("Anna", "A GmbH"), ("Bernd", "B GmbH"), ("Cem", "B GmbH")):
        crm("add", "contact", person, "-c", firm)
    r = crm("delete", "company", "--where", "--all")
    assert r.exit_code == 1
    assert r.stderr == (
        "crm: error: 2 companies have 3 contacts: --yes deletes the companies and keeps them "
        "without company; --contacts delete --yes deletes them too\n"
    )
    r = crm("delete", "company", "--where", "--all", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == "Deleted 2 companies; 3 contacts kept without company.\n"
    assert len(crm("list", "contacts", "-o", "json").json()) == 3
