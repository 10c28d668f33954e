"""`crm add/list/show/edit/delete/tag/untag` for contacts, through the CLI."""

from __future__ import annotations

import pytest


@pytest.fixture
def mueller(crm):
    r = crm(
        "add", "contact", "Jürgen Müller", "-e", "JM@Example.de", "-p", "030 1234567",
        "-c", "Müller Bau GmbH", "--position", "Geschäftsführer", "--street", "Hauptstr. 1",
        "--zip", "50667", "--city", "Köln", "--country", "DE", "--birthday", "24.12.1980",
        "--status", "customer", "--source", "Messe", "--owner", "Anna", "--notes", "Mag Kaffee",
        "-t", "vip", "-t", "Newsletter", "--field", "kundennr=4711", "--consent",
        "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_add_contact_stores_every_field(mueller):
    assert mueller["id"] == 1
    assert mueller["name"] == "Jürgen Müller"
    assert mueller["email"] == "JM@example.de"  # domain normalised, local part kept
    assert mueller["phone"] == "030 1234567"
    assert mueller["phone_e164"] == "+49301234567"
    assert mueller["company"] == "Müller Bau GmbH"
    assert mueller["position"] == "Geschäftsführer"
    assert (mueller["street"], mueller["zip"], mueller["city"]) == ("Hauptstr. 1", "50667", "Köln")
    assert mueller["birthday"] == "1980-12-24"
    assert mueller["status"] == "customer"
    assert (mueller["source"], mueller["owner"]) == ("Messe", "Anna")
    assert mueller["tags"] == ["Newsletter", "vip"]
    assert mueller["fields"] == {"kundennr": "4711"}
    assert mueller["consent"] is True
    assert mueller["consent_at"] == "2026-11-23T09:00:00+00:00"
    assert mueller["created_at"] == "2026-11-23T09:00:00+00:00"


def test_add_prints_a_message_not_data_by_default(crm):
    r = crm("add", "contact", "Anna Weiß")
    assert r.exit_code == 0
    assert r.stdout == ""
    assert "Added contact #1 Anna Weiß" in r.stderr


def test_company_is_linked_case_and_accent_insensitively(crm, mueller):
    r = crm("add", "contact", "Anna Weiß", "-c", "MULLER bau gmbh", "-o", "json")
    assert r.json()["company_id"] == mueller["company_id"]
    companies = crm("list", "companies", "-o", "json").json()
    assert [(c["name"], c["contacts"]) for c in companies] == [("Müller Bau GmbH", 2)]


def test_consent_date_can_be_given(crm):
    r = crm("add", "contact", "Eva", "--consent", "--consent-date", "01.03.2026", "-o", "json")
    card = r.json()
    assert card["consent"] is True
    assert card["consent_at"] == "2026-02-28T23:00:00+00:00"
    r = crm("edit", "eva", "--consent-date", "02.03.2026", "-o", "json")  # a correction
    assert r.exit_code == 0, r.stderr
    assert r.json()["consent_at"] == "2026-03-01T23:00:00+00:00"


def test_consent_date_alone_or_in_the_future_is_refused(crm):
    r = crm("add", "contact", "Eva", "--consent-date", "01.03.2026")
    assert r.exit_code == 1 and "consent" in r.stderr
    r = crm("add", "contact", "Eva", "--consent", "--consent-date", "01.03.2030")
    assert r.exit_code == 1 and "future" in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []
    crm("add", "contact", "Eva")
    r = crm("edit", "eva", "--consent-date", "01.03.2026")
    assert r.exit_code == 1 and "consent" in r.stderr
    r = crm("edit", "eva", "--consent", "--consent-date", "tomorrow")
    assert r.exit_code == 1 and "future" in r.stderr
    card = crm("show", "eva", "-o", "json").json()
    assert (card["consent"], card["consent_at"]) == (False, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-e", "not-an-email"], "email"),
        (["-p", "abc"], "phone"),
        (["--birthday", "31.02.1990"], "31.02.1990"),
        (["--birthday", "24.12.2030"], "future"),
        (["--status", "vip"], "unknown status 'vip'"),
        (["--field", "novalue"], "key=value"),
        (["--tag", "a,b"], "comma"),
        (["-c", "   "], None),
    ],
)
def test_bad_input_is_one_line_exit_1_and_nothing_written(crm, args, message):
    r = crm("add", "contact", "Kaputt", *args)
    if message is None:  # a blank company is simply no company
        assert r.exit_code == 0
        return
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: ")
    assert len(r.stderr.strip().splitlines()) == 1
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


def test_empty_name_is_rejected(crm):
    r = crm("add", "contact", "  ")
    assert r.exit_code == 1
    assert "needs a name" in r.stderr


def test_duplicate_email_is_a_conflict(crm, mueller):
    r = crm("add", "contact", "Zweiter", "-e", "jm@example.DE")
    assert r.exit_code == 1
    assert "already belongs to contact #1" in r.stderr


def test_missing_argument_is_a_usage_error(crm):
    r = crm("add", "contact")
    assert r.exit_code == 2
    assert r.stderr.startswith("crm: error: Missing argument")


def test_show_by_id_email_and_fragment(crm, mueller):
    for ref in ("1", "#1", "jm@example.de", "JM@EXAMPLE.DE", "müller", "muller", "mueller", "JÜRG"):
        r = crm("show", ref, "-o", "json")
        assert r.exit_code == 0, (ref, r.stderr)
        assert r.json()["id"] == 1


def test_show_unknown_is_not_found(crm, mueller):
    for ref in ("99", "nobody@example.de", "schulze"):
        r = crm("show", ref)
        assert r.exit_code == 1
        assert r.stderr.startswith("crm: error: no contact")


def test_ambiguous_ref_lists_candidates_and_changes_nothing(crm, mueller):
    crm("add", "contact", "Jürgen Schmidt", "-e", "js@example.de")
    r = crm("edit", "jürgen", "--city", "Berlin")
    assert r.exit_code == 1
    assert "ambiguous" in r.stderr
    assert "#1  Jürgen Müller" in r.stderr and "#2  Jürgen Schmidt" in r.stderr
    assert "js@example.de" in r.stderr
    cities = {c["name"]: c["city"] for c in crm("list", "contacts", "-o", "json").json()}
    assert cities == {"Jürgen Müller": "Köln", "Jürgen Schmidt": None}


def test_a_ref_matching_many_lists_ten_and_says_there_are_more(crm):
    for i in range(12):
        assert crm("add", "contact", f"Meier {i:02d}").exit_code == 0
    r = crm("show", "meier")
    assert r.exit_code == 1 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == (
        "crm: error: contact 'meier' is ambiguous: more than 10 match; be more specific or "
        "use an id:"
    )
    assert lines[1:3] == ["  #1  Meier 00", "  #2  Meier 01"] and len(lines) == 12
    assert lines[-1] == "  … and more"
    crm("add", "contact", "Meier 00")
    r = crm("show", "Meier 00")  # two of that very name: those two are the candidates
    assert r.exit_code == 1
    assert "contact 'Meier 00' is ambiguous: 2 match" in r.stderr
    assert "#1  Meier 00" in r.stderr and "#13  Meier 00" in r.stderr
    assert len(r.stderr.splitlines()) == 3  # the message and the two


def test_exact_name_wins_over_longer_names(crm):
    crm("add", "contact", "Max Mayer")
    crm("add", "contact", "Max Mayerhofer")
    assert crm("show", "max mayer", "-o", "json").json()["name"] == "Max Mayer"


def test_show_card_as_plain_text_when_piped(crm, mueller):
    r = crm("show", "müller")
    assert r.exit_code == 0
    assert "\x1b[" not in r.stdout
    assert r.stdout.startswith("Jürgen Müller\n")
    assert "E.164:" in r.stdout and "+49301234567" in r.stdout
    assert "kundennr" in r.stdout and "4711" in r.stdout
    assert "Created:       2026-11-23 10:00" in r.stdout  # local time


def test_edit_changes_clears_and_retags(crm, mueller):
    r = crm(
        "edit", "müller", "--email", "", "--city", "München", "--clear", "phone",
        "--tag", "kunde", "--untag", "VIP", "-f", "kundennr=", "-f", "branche=Bau",
        "--status", "inactive", "--no-consent", "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    card = r.json()
    assert card["email"] is None and card["phone"] is None and card["phone_e164"] is None
    assert card["city"] == "München"
    assert card["tags"] == ["kunde", "Newsletter"]
    assert card["fields"] == {"branche": "Bau"}
    assert card["status"] == "inactive"
    assert card["consent"] is False and card["consent_at"] is None


def test_edit_renames_and_relinks_company(crm, mueller):
    card = crm(
        "edit", "1", "--name", "Jürgen Müller-Lüdenscheidt", "-c", "Neue AG", "-o", "json"
    ).json()
    assert card["name"] == "Jürgen Müller-Lüdenscheidt"
    assert card["company"] == "Neue AG"
    assert crm("search", "ludensch", "-o", "json").json()[0]["id"] == 1
    card = crm("edit", "1", "--clear", "company", "-o", "json").json()
    assert card["company"] is None


def test_edit_rejects_bad_values_without_partial_write(crm, mueller):
    r = crm("edit", "1", "--city", "Berlin", "--email", "kaputt@")
    assert r.exit_code == 1
    assert crm("show", "1", "-o", "json").json()["city"] == "Köln"


def test_edit_rejects_options_of_the_other_kind(crm, mueller):
    r = crm("edit", "1", "--industry", "Bau")
    assert r.exit_code == 1
    assert "--industry does not apply to a contact" in r.stderr
    r = crm("edit", "company", "müller", "--position", "Chef")
    assert r.exit_code == 1
    assert "--position does not apply to a company" in r.stderr


def test_edit_refuses_to_clear_and_set_the_same_field(crm, mueller):
    r = crm("edit", "1", "--city", "Bonn", "--clear", "city")
    assert r.exit_code == 1
    r = crm("edit", "1", "--clear", "name")
    assert r.exit_code == 1


def test_tag_and_untag(crm, mueller):
    r = crm("tag", "müller", "b2b", "VIP")
    assert r.exit_code == 0
    assert "b2b, Newsletter, vip" in r.stderr
    crm("untag", "müller", "newsletter", "nonexistent")
    assert crm("show", "1", "-o", "json").json()["tags"] == ["b2b", "vip"]
    tags = {t["name"]: t["contacts"] for t in crm("list", "tags", "-o", "json").json()}
    assert tags == {"b2b": 1, "Newsletter": 0, "vip": 1}


def test_tag_needs_a_tag(crm, mueller):
    r = crm("tag", "müller")
    assert r.exit_code == 2


def test_delete_asks_on_a_terminal_and_refuses_without_one(crm, mueller, monkeypatch):
    r = crm("delete", "müller")
    assert r.exit_code == 1
    assert "--yes" in r.stderr
    assert crm("show", "1").exit_code == 0

    from crmcli import env

    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    r = crm("delete", "müller", input="n\n")
    assert r.exit_code == 1
    assert crm("show", "1").exit_code == 0
    r = crm("delete", "müller", input="y\n")
    assert r.exit_code == 0
    assert crm("show", "1").exit_code == 1


def test_delete_with_yes(crm, mueller):
    r = crm("delete", "1", "--yes")
    assert r.exit_code == 0
    assert "Deleted contact #1 Jürgen Müller" in r.stderr
    assert crm("search", "muller", "-k", "contact", "-o", "json").json() == []
    assert crm("list", "companies", "-o", "json").json()[0]["contacts"] == 0


def test_no_consent_with_a_consent_date_is_refused(crm):
    r = crm("add", "contact", "Widerspruch", "--no-consent", "--consent-date", "1.1.2020")
    assert r.exit_code == 1 and "contradict" in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


def test_card_says_which_cadence_applies_and_when_the_next_call_is_due(crm):
    crm("add", "contact", "Karla Kunde", "--tag", "vip", "--every", "60 days")
    crm("edit", "tag", "vip", "--every", "14 days")
    card = crm("show", "Karla").stdout
    assert "every 2 weeks (a tag's), next " in card
    data = crm("show", "Karla", "-o", "json").json()
    assert (data["cadence_days"], data["cadence_effective_days"]) == (60, 14)
    assert data["contact_due_at"] == "2026-12-07T09:00:00+00:00"  # added now, + 14 days


def test_company_fragment_links_and_a_new_company_is_announced(crm, mueller):
    r = crm("add", "contact", "Eva Müller", "--company", "Müller Bau", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["company_id"] == mueller["company_id"]
    assert "Created company" not in r.stderr
    r = crm("edit", "eva", "--company", "Schmidt Dach KG")
    assert r.exit_code == 0, r.stderr
    assert "Created company 'Schmidt Dach KG' (#2).\n" in r.stderr
    r = crm("add", "contact", "Ida", "--company", "Neue AG")
    assert "Created company 'Neue AG' (#3).\n" in r.stderr


def test_ambiguous_company_lists_candidates_and_adds_nothing(crm, mueller):
    crm("add", "company", "Müller Bau AG")
    r = crm("add", "contact", "Eva Müller", "--company", "müller bau")
    assert r.exit_code == 1
    assert "ambiguous" in r.stderr and "Müller Bau AG" in r.stderr
    assert "Müller Bau GmbH" in r.stderr
    assert len(crm("list", "contacts", "-o", "json").json()) == 1
    r = crm("edit", "1", "--company", "müller bau")
    assert r.exit_code == 1
    assert crm("show", "1", "-o", "json").json()["company"] == "Müller Bau GmbH"


@pytest.mark.parametrize(
    "args",
    [
        ["show", "99999999999999999999999"],
        ["show", "company", "99999999999999999999999"],
        ["show", "deal", "#99999999999999999999999"],
        ["show", "activity", "99999999999999999999999"],
        ["edit", "99999999999999999999999", "--city", "Köln"],
        ["log", "call", "99999999999999999999999", "-m", "x"],
        ["move", "99999999999999999999999", "angebot"],
    ],
)
def test_huge_ids_are_not_found(crm, args):
    r = crm(*args)
    assert r.exit_code == 1, r.stderr
    assert "no " in r.stderr and "unexpected" not in r.stderr


def test_birthday_without_a_year(crm):
    r = crm("add", "contact", "Eva Berg", "--birthday", "24.12.", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["birthday"] == "--12-24"
    shown = crm("show", "eva").stdout
    assert "24.12." in shown and "1604" not in shown
    r = crm("edit", "eva", "--birthday", "29.02.", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["birthday"] == "--02-29"
    crm("edit", "eva", "--birthday", "24.12.")
    r = crm("remind", "--within", "31d", "-o", "json", env={"CRM_NOW": "2026-12-24T08:00:00+01:00"})
    items = [i for i in r.json() if i["kind"] == "birthday"]
    assert [i["text"] for i in items] == ["Eva Berg's birthday"]  # no age
    r = crm("edit", "eva", "--birthday", "30.02.")
    assert r.exit_code == 1 and "birthday" in r.stderr


def test_a_10000_character_name_is_one_clear_error(crm):
    r = crm("add", "contact", "x" * 10_000)
    assert r.exit_code == 1
    assert r.stderr == "crm: error: name: is 10,000 characters long; at most 200\n"
    assert crm("list", "contacts", "-o", "json").json() == []


def test_a_consent_date_without_a_year_is_the_last_such_day(crm):
    """Consent was given, so `24.12.` is last Christmas (NOW: 23.11.2026), not one to come
    (which would be refused as in the future)."""
    r = crm(
        "add", "contact", "Carla Consent", "--consent", "--consent-date", "24.12.", "-o", "json"
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["consent_at"].startswith("2025-12-2")
