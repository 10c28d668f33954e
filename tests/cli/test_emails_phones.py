"""`crm add contact -e A -e B -p P`, `crm edit --add-email/--remove-phone/--primary-email`,
the card listing every email and phone, REF and search by any of them."""

from __future__ import annotations

import pytest


@pytest.fixture
def anna(crm):
    r = crm(
        "add", "contact", "Anna Weiß", "-e", "arbeit:anna@firma.de", "-e",
        "privat:anna@example.com", "-p", "030 1234567", "-p", "handy:0171 7654321",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return crm


def test_add_takes_several_the_first_primary_with_kinds(anna):
    card = anna("show", "1", "-o", "json").json()
    assert card["email"] == "anna@firma.de" and card["phone"] == "030 1234567"
    assert card["emails"] == [
        {"email": "anna@firma.de", "kind": "work", "primary": True},
        {"email": "anna@example.com", "kind": "home", "primary": False},
    ]
    assert card["phones"] == [
        {"phone": "030 1234567", "e164": "+49301234567", "kind": "other", "primary": True},
        {"phone": "0171 7654321", "e164": "+491717654321", "kind": "mobile", "primary": False},
    ]


def test_the_card_lists_every_email_and_phone_with_kind_and_primary(anna):
    out = anna("show", "anna").stdout
    assert "anna@firma.de (work, primary)" in out
    assert "anna@example.com (home)" in out
    assert "030 1234567 (other, primary)" in out
    assert "0171 7654321 (mobile)" in out


def test_a_single_plain_email_shows_as_before(crm):
    crm("add", "contact", "Solo", "-e", "solo@x.de")
    assert "Email:   solo@x.de\n" in crm("show", "solo").stdout


def test_list_shows_the_primary_only(anna):
    (row,) = anna("list", "contacts", "-o", "json").json()
    assert row["email"] == "anna@firma.de" and row["phone"] == "030 1234567"
    assert "emails" not in row


def test_ref_and_search_by_a_secondary(anna):
    assert anna("show", "ANNA@example.com", "-o", "json").json()["id"] == 1
    for query in ("anna@example.com", "0171 7654321", "7654321"):
        hits = anna("search", query, "-o", "json").json()
        assert [(h["kind"], h["id"], h["email"]) for h in hits] == [
            ("contact", 1, "anna@firma.de")
        ], query


def test_edit_add_remove_primary(anna):
    r = anna(
        "edit", "anna", "--add-email", "dienstlich:a3@firma.de", "--primary-email", "a3@firma.de",
        "--remove-phone", "+49 30 1234567", "--add-phone", "mobil:0172 1111111",
        "--add-phone", "089 123456", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    card = r.json()
    assert card["email"] == "a3@firma.de"
    assert [(e["email"], e["kind"], e["primary"]) for e in card["emails"]] == [
        ("a3@firma.de", "work", True),
        ("anna@firma.de", "work", False),
        ("anna@example.com", "home", False),
    ]
    assert card["phone"] == "0171 7654321"
    assert [p["phone"] for p in card["phones"]] == ["0171 7654321", "0172 1111111", "089 123456"]
    assert anna("list", "contacts", "-o", "json").json()[0]["email"] == "a3@firma.de"


def test_edit_email_replaces_the_primary_and_clear_promotes_the_next(anna):
    card = anna("edit", "anna", "--email", "neu@firma.de", "-o", "json").json()
    assert [e["email"] for e in card["emails"]] == ["neu@firma.de", "anna@example.com"]
    assert card["emails"][0]["kind"] == "other"  # as a new one gets: not the old one's
    card = anna("edit", "anna", "--clear", "email", "-o", "json").json()
    assert card["email"] == "anna@example.com"
    assert card["emails"] == [{"email": "anna@example.com", "kind": "home", "primary": True}]
    card = anna("edit", "anna", "--phone", "mobil:0175 2222222", "-o", "json").json()
    assert card["phones"][0] == {
        "phone": "0175 2222222", "e164": "+491752222222", "kind": "mobile", "primary": True,
    }  # fmt: skip


def test_an_email_of_another_contact_is_refused_naming_it(anna):
    r = anna("add", "contact", "Bert", "-e", "b@x.de", "-e", "anna@example.com")
    assert r.exit_code == 1
    assert r.stderr == "crm: error: anna@example.com already belongs to contact #1 Anna Weiß\n"
    assert anna("list", "contacts", "-o", "json").json()[0]["name"] == "Anna Weiß"
    assert len(anna("list", "contacts", "-o", "json").json()) == 1
    anna("add", "contact", "Bert")
    r = anna("edit", "bert", "--add-email", "ANNA@firma.de")
    assert r.exit_code == 1 and "#1 Anna Weiß" in r.stderr


def test_bad_input_is_one_line_and_changes_nothing(anna):
    before = anna("show", "1", "-o", "json").json()
    for args in (
        ("edit", "anna", "--remove-email", "nope@x.de", "--city", "Köln"),
        ("edit", "anna", "--primary-phone", "040 999999"),
        ("edit", "anna", "--add-email", "fax:x@y.de"),
        ("edit", "anna", "--add-phone", "abc"),
    ):
        r = anna(*args)
        assert r.exit_code == 1, args
        assert r.stderr.startswith("crm: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert anna("show", "1", "-o", "json").json() == before
    r = anna("add", "contact", "X", "-e", "quatsch:x@y.de")
    assert r.exit_code == 1 and "unknown kind 'quatsch'" in r.stderr


def test_edit_where_refuses_per_contact_addresses(anna):
    for flag in ("--add-email", "--remove-email", "--primary-email"):
        r = anna("edit", flag, "x@y.de", "--where", "--status", "lead", "--yes")
        assert r.exit_code == 1
        assert "each contact has its own emails and phones" in r.stderr
    r = anna("edit", "--email", "x@y.de", "--where", "--status", "lead", "--yes")
    assert r.exit_code == 1 and "its own email" in r.stderr
    assert anna("show", "1", "-o", "json").json()["email"] == "anna@firma.de"


def test_edit_where_clear_email_promotes_the_next_and_db_check_stays_clean(anna):
    r = anna("edit", "--clear", "email", "--where", "--status", "lead", "--yes")
    assert r.exit_code == 0, r.stderr
    assert anna("show", "1", "-o", "json").json()["email"] == "anna@example.com"
    r = anna("db", "check")
    assert r.exit_code == 0, r.stderr


def test_demo_contacts_have_second_emails_and_mobiles_and_the_check_is_clean(crm):
    assert crm("demo", "--contacts", "150").exit_code == 0
    cards = [crm("show", str(i), "-o", "json").json() for i in range(1, 151)]
    assert any(len(c["emails"]) == 2 and c["emails"][1]["kind"] == "home" for c in cards)
    assert any(p["kind"] == "mobile" and not p["primary"] for c in cards for p in c["phones"])
    assert all(c["emails"] == [] or c["emails"][0]["email"] == c["email"] for c in cards)
    assert crm("db", "check").exit_code == 0
    second = next(c for c in cards if len(c["emails"]) == 2)
    assert crm("show", second["emails"][1]["email"], "-o", "json").json()["id"] == second["id"]
    # a changed demo is noticed, also when only an email changed
    crm("edit", str(second["id"]), "--remove-email", second["emails"][1]["email"])
    r = crm("demo", "--force")
    assert r.exit_code == 1 and "changed after it was made" in r.stderr


def test_help_documents_the_kinds(crm):
    out = crm("add", "contact", "--help").stdout
    assert "privat" in out and "repeatable" in out
    out = crm("edit", "--help").stdout
    for flag in ("--add-email", "--remove-email", "--primary-email", "--add-phone",
                 "--remove-phone", "--primary-phone"):  # fmt: skip
        assert flag in out


def test_an_idn_email_added_in_punycode_is_a_ref_in_both_spellings(crm):
    assert crm("add", "contact", "Ümit", "-e", "privat:umit@xn--mller-kva.de").exit_code == 0
    for ref in ("umit@xn--mller-kva.de", "umit@müller.de"):
        r = crm("show", ref, "-o", "json")
        assert r.exit_code == 0, r.stderr
        assert r.json()["email"] == "umit@müller.de"
    r = crm("add", "contact", "Zweit", "-e", "umit@müller.de")
    assert r.exit_code == 1 and "already belongs to contact #1" in r.stderr


@pytest.fixture
def carl(crm):
    r = crm(
        "add", "contact", "Carl", "-e", "c1@x.de", "-e", "c2@x.de", "-p", "handy:0171 1234567",
        "-p", "030 1234567",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return crm


def test_a_replaced_primary_phone_takes_the_kind_given_else_none_of_the_old(carl):
    card = carl("edit", "carl", "--phone", "040 999999", "-o", "json").json()
    assert card["phones"][0] == {
        "phone": "040 999999", "e164": "+4940999999", "kind": "other", "primary": True
    }  # fmt: skip
    assert "040 999999 (mobile" not in carl("show", "carl").stdout
    card = carl("edit", "carl", "--phone", "privat:040 888888", "-o", "json").json()
    assert card["phones"][0]["kind"] == "home"
    # The same number typed again keeps what it was.
    card = carl("edit", "carl", "--phone", "+49 40 888888", "-o", "json").json()
    assert card["phones"][0]["kind"] == "home"


def test_edit_options_act_on_the_contact_as_shown(carl):
    carl("edit", "carl", "--primary-email", "c2@x.de")
    r = carl("edit", "carl", "--email", "new@x.de", "--remove-email", "c2@x.de", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [(e["email"], e["primary"]) for e in r.json()["emails"]] == [
        ("new@x.de", True),
        ("c1@x.de", False),
    ]
    # The primary removed and replaced at once, with an addition: c1 stays.
    r = carl(
        "edit", "carl", "--remove-email", "new@x.de", "--email", "n2@x.de", "--add-email",
        "c3@x.de", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert [e["email"] for e in r.json()["emails"]] == ["n2@x.de", "c1@x.de", "c3@x.de"]
    r = carl("edit", "carl", "--primary-email", "c1@x.de", "--remove-email", "c1@x.de")
    assert r.exit_code == 1 and "both removed and made primary" in r.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--remove-phone", "abc"), ("--add-phone", "abc"), ("--primary-phone", "abc"),
        ("--add-phone", "foo:030 123456"), ("--remove-email", "foo:a@b.de"),
        ("--add-email", "nope"), ("--primary-email", "work:nope"),
    ],
)  # fmt: skip
def test_an_error_names_the_option_given(carl, option, value):
    r = carl("edit", "carl", option, value)
    assert r.exit_code in (1, 2)
    assert r.stderr.startswith(f"crm: error: {option[2:]}: "), r.stderr


def test_adding_an_email_the_contact_has_changes_nothing_and_says_so(carl):
    before = carl("show", "carl", "-o", "json").json()
    r = carl("edit", "carl", "--add-email", "C1@x.de", "--add-phone", "+49 171 1234567")
    assert r.exit_code == 0, r.stderr
    assert "Contact #1 Carl already has c1@x.de." in r.stdout + r.stderr
    assert "Contact #1 Carl already has 0171 1234567." in r.stdout + r.stderr
    assert "Updated" not in r.stdout + r.stderr
    assert carl("show", "carl", "-o", "json").json() == before
    r = carl("edit", "carl", "--primary-email", "c1@x.de")
    assert "c1@x.de already is the primary of contact #1 Carl." in r.stdout + r.stderr
    assert carl("show", "carl", "-o", "json").json()["updated_at"] == before["updated_at"]
    # With a real change beside it, the contact is updated.
    r = carl("edit", "carl", "--add-email", "c1@x.de", "--add-email", "c9@x.de", "-o", "json")
    assert "already has c1@x.de" in r.stderr + r.stdout and "Updated contact #1" in r.stderr
    assert [e["email"] for e in r.json()["emails"]] == ["c1@x.de", "c2@x.de", "c9@x.de"]


def test_the_card_shows_each_phones_e164_beside_it(carl):
    carl("edit", "carl", "--add-phone", "+4989123456")
    out = carl("show", "carl").stdout
    assert "Phone:   0171 1234567 (mobile, primary)   E.164: +491717654321" not in out
    lines = [line for line in out.splitlines() if "E.164" in line or "+4989123456" in line]
    assert lines == [
        "Phone:   0171 1234567 (mobile, primary)   E.164: +491711234567",
        "         030 1234567 (other)              E.164: +49301234567",
        "         +4989123456 (other)",  # typed as E.164: nothing to add
    ]
    assert "\nE.164:" not in out  # no line of the primary's alone
    assert carl("show", "carl", "-o", "json").json()["phone_e164"] == "+491711234567"


def test_the_card_fits_80_columns_with_e164_beside_each_phone(carl):
    carl("edit", "carl", "--add-phone", "work:+49 (0)89 7654321")
    r = carl("show", "carl", env={"COLUMNS": "80"})
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    (line,) = [line for line in r.stdout.splitlines() if "(0)89" in line]
    assert line.split() == ["+49", "(0)89", "7654321", "(work)", "E.164:", "+49897654321"]
