"""Messages read as English: no "every of 64 contacts", "a email", capitalised errors, and an
untag of a tag the contact does not carry says so."""

from __future__ import annotations

import pytest


@pytest.fixture
def bonn(crm):
    for name in ("Anna", "Bernd"):
        assert crm("add", "contact", name, "--city", "Bonn", "-t", "vip").exit_code == 0


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        (["--every", "30 days"], "stay-in-touch cadence"),
        (["--status", "customer", "--every", "30 days"], "status and stay-in-touch cadence"),
        (["--consent", "--consent-date", "01.01.2026"], "consent and consent date"),
        (["--tag", "a", "--untag", "vip", "--field", "x=1"], "custom fields and tags"),
        (["--city", "Köln", "--clear", "phone", "--owner", "Jo"], "city, owner and phone"),
    ],
)
def test_a_bulk_edit_names_what_it_changes(crm, bonn, changes, what):
    r = crm("edit", *changes, "--where", "--city", "bonn", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == f"Changed {what} of 2 contacts.\n"


def test_a_refused_confirmation_reads_like_every_error(crm, bonn):
    r = crm("edit", "--status", "customer", "--where", "--city", "bonn")
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: change status of 2 contacts: refusing without")
    r = crm("delete", "anna")
    assert r.stderr.startswith("crm: error: delete contact #1 Anna: refusing without")


def test_an_activity_kind_takes_its_article(crm, bonn):
    assert crm("log", "email", "anna", "-m", "Hallo").exit_code == 0
    r = crm("resolve", "1")
    assert r.exit_code == 1
    assert "#1 is an email;" in r.stderr
    assert crm("log", "call", "anna", "-m", "Hallo").exit_code == 0
    assert "#2 is a call;" in crm("resolve", "2").stderr


def test_untag_of_a_tag_the_contact_does_not_carry_says_so(crm, bonn):
    r = crm("untag", "anna", "notatag")
    assert r.exit_code == 0
    assert r.stdout == ""
    assert r.stderr == ("Contact #1 Anna had no tag notatag.\nContact #1 Anna now has tags: vip.\n")
    r = crm("untag", "anna", "vip", "Nope", "VIP")
    assert r.exit_code == 0
    assert r.stderr == "Contact #1 Anna had no tag Nope.\nContact #1 Anna now has tags: none.\n"
    crm("add", "company", "Acme")
    r = crm("untag", "company", "acme", "vip")
    assert r.stderr == "Company #1 Acme had no tag vip.\nCompany #1 Acme now has tags: none.\n"
