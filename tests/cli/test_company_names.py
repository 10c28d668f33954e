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
