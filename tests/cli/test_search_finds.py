"""`crm search` finds a contact through its company's city, a caller's number and a custom
field value, as the README tour and a phone call need (issue 15)."""

from __future__ import annotations


def names(crm, *query):
    r = crm("search", *query, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return [(h["kind"], h["name"]) for h in r.json()]


def test_tour_search_finds_the_person_at_a_company_in_koeln(crm):
    crm("add", "company", "Müller Bau GmbH", "--city", "Köln")
    crm("add", "contact", "Jürgen Müller", "-c", "Müller Bau GmbH", "-p", "040/48977063",
        "-f", "kundennummer=K-10849")  # fmt: skip
    assert sorted(names(crm, "müll", "koeln")) == [
        ("company", "Müller Bau GmbH"), ("contact", "Jürgen Müller"),
    ]  # fmt: skip
    assert names(crm, "jürgen", "köln") == [("contact", "Jürgen Müller")]
    for number in ("040/48977063", "+494048977063", "04048977063", "48977063"):
        assert names(crm, number) == [("contact", "Jürgen Müller")], number
    assert names(crm, "K-10849") == [("contact", "Jürgen Müller")]
