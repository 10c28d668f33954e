"""`crm merge KEEP OTHER...`: conflicts shown, confirmation asked, everything moved."""

from __future__ import annotations

import pytest


@pytest.fixture
def pair(crm):
    assert crm("add", "contact", "Jan Meier", "-e", "jan@meier.de", "--city", "Köln").exit_code == 0
    r = crm(
        "add", "contact", "Jan Maier", "-e", "jm@maier.de", "-p", "030 1234567",
        "--city", "Bonn", "-c", "ACME", "-t", "neu",
    )  # fmt: skip
    assert r.exit_code == 0
    assert crm("log", "call", "2", "-m", "Rückruf").exit_code == 0
    assert crm("add", "task", "Angebot", "--contact", "2").exit_code == 0


def test_dry_run_shows_conflicts_and_moves_and_changes_nothing(crm, pair):
    r = crm("merge", "1", "2", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "Merging contact #2 Jan Maier into #1 Jan Meier:" in r.stderr
    assert "city: keeps Köln (#1); #2 has Bonn  [--take city=2]" in r.stderr
    assert "company: ACME from #2" in r.stderr
    assert "moves 1 email, 1 phone, 1 activity, 1 task, 1 tag" in r.stderr
    assert "Nothing changed" in r.stderr
    assert crm("show", "2").exit_code == 0


def test_dry_run_json_is_the_plan(crm, pair):
    plan = crm("merge", "1", "2", "--dry-run", "-o", "json").json()
    assert plan["dry_run"] is True
    assert plan["keep"] == {"id": 1, "name": "Jan Meier"}
    assert {c["field"] for c in plan["conflicts"]} == {"name", "city"}


def test_conflicts_as_a_table(crm, pair):
    r = crm("merge", "1", "2", "--dry-run", "-o", "csv")
    assert r.stdout.splitlines() == [
        "field,kept,kept_from,other_id,other_value",
        "name,Jan Meier,1,2,Jan Maier",
        "city,Köln,1,2,Bonn",
    ]


def test_refuses_without_a_terminal_unless_yes(crm, pair):
    r = crm("merge", "1", "2")
    assert r.exit_code == 1
    assert "refusing without a terminal to ask; pass --yes" in r.stderr
    assert crm("show", "2").exit_code == 0


def test_asks_on_a_terminal(crm, pair, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    r = crm("merge", "1", "2", input="n\n")
    assert r.exit_code == 1
    assert crm("show", "2").exit_code == 0
    r = crm("merge", "1", "2", input="y\n")
    assert r.exit_code == 0
    assert "Merged #2 Jan Maier into contact #1 Jan Meier." in r.stderr


def test_merge_with_yes_and_take(crm, pair):
    r = crm("merge", "jan@meier.de", "jm@maier.de", "--take", "city=2", "--yes", "-o", "json")
    assert r.exit_code == 0, r.stderr
    result = r.json()
    assert (result["dry_run"], result["merged"]) == (False, [{"id": 2, "name": "Jan Maier"}])
    assert result["chosen"] == [{"field": "city", "value": "Bonn", "from": 2}]
    card = crm("show", "1", "-o", "json").json()
    assert card["city"] == "Bonn"
    assert card["company"] == "ACME"
    assert card["email"] == "jan@meier.de"
    assert card["tags"] == ["neu"]
    assert [a["subject"] or a["body"] for a in card["timeline"]] == ["Rückruf"]
    assert [t["title"] for t in card["open_tasks"]] == ["Angebot"]
    hits = crm("search", "bonn", "-o", "json").json()  # the survivor is indexed anew
    assert [(h["kind"], h["id"]) for h in hits] == [("contact", 1)]


def test_old_id_and_email_resolve_to_the_survivor(crm, pair):
    assert crm("merge", "1", "2", "--yes").exit_code == 0
    assert crm("show", "2", "-o", "json").json()["id"] == 1
    assert crm("show", "jm@maier.de", "-o", "json").json()["id"] == 1


def test_an_old_id_never_deletes_or_merges_its_survivor(crm, pair):
    """A script deleting stored ids must not delete the record another was merged into."""
    assert crm("merge", "1", "2", "--yes").exit_code == 0
    assert crm("add", "contact", "Jan Meyer", "-e", "jan@meyer.de").exit_code == 0
    r = crm("delete", "2", "--yes")
    assert r.exit_code == 1
    assert "contact #2 was already merged into #1; name #1 to delete it" in r.stderr
    r = crm("merge", "3", "2", "--yes", "--force")
    assert r.exit_code == 1
    assert "contact #2 was already merged into #1; name #1 to merge it" in r.stderr
    assert crm("show", "1", "-o", "json").json()["name"] == "Jan Meier"
    assert crm("show", "3").exit_code == 0


def test_an_old_company_id_never_deletes_its_survivor(crm):
    assert crm("add", "company", "Müller Bau GmbH").exit_code == 0
    assert crm("add", "company", "Mueller Bau").exit_code == 0
    assert crm("merge", "--company", "1", "2", "--yes").exit_code == 0
    r = crm("delete", "company", "2", "--yes")
    assert r.exit_code == 1
    assert "company #2 was already merged into #1; name #1 to delete it" in r.stderr
    assert crm("show", "company", "1").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "1"], "crm: error: merge: contact #1 cannot be merged into itself\n"),
        (["1", "9"], "crm: error: no contact with id 9\n"),
        (["1", "2", "--take", "city"], "crm: error: take: cannot read 'city': expected "
                                       "FIELD=ID, e.g. city=12\n"),
        (["1", "2", "--take", "colour=2"], None),
        (["1", "2", "--take", "city=7"], "crm: error: take: #7 is not one of the records merged\n"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(crm, pair, args, message):
    r = crm("merge", *args, "--yes")
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: ") and r.stderr.count("\n") == 1
    if message:
        assert r.stderr == message
    assert crm("show", "2").exit_code == 0


def test_merge_companies(crm):
    crm("add", "company", "Müller Bau GmbH")
    crm("add", "company", "Mueller Bau", "--domain", "mueller-bau.de")
    crm("add", "contact", "Jürgen Müller", "-c", "Mueller Bau")
    r = crm("merge", "--company", "1", "2", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "moves 1 contact" in r.stderr
    card = crm("show", "company", "1", "-o", "json").json()
    assert card["domain"] == "mueller-bau.de"
    assert crm("show", "1", "-o", "json").json()["company"] == "Müller Bau GmbH"


def test_a_field_filled_while_others_differ_is_listed_once(crm):
    crm("add", "contact", "Yb One")
    crm("add", "contact", "Yb Two", "--city", "Bonn", "--birthday", "24.12.")
    crm("add", "contact", "Yb Three", "--city", "Köln", "--birthday", "24.12.1980")
    r = crm("merge", "1", "2", "3", "--dry-run")
    assert r.exit_code == 0, r.stderr
    city = [line for line in r.stderr.splitlines() if line.startswith("  city:")]
    assert city == ["  city: fills Bonn (#2); #3 has Köln  [--take city=3]"]
    assert "  birthday: 24.12.1980 from #3" in r.stderr.splitlines()  # the year is not lost
    plan = crm("merge", "1", "2", "3", "--dry-run", "-o", "json").json()
    assert [f["field"] for f in plan["filled"]] == ["birthday"]
    assert [(c["field"], c["filled"]) for c in plan["conflicts"]] == [
        ("name", False), ("city", True),
    ]  # fmt: skip


def test_birthdays_are_written_alike_in_a_plan(crm):
    crm("add", "contact", "Yb One", "--birthday", "24.12.")
    crm("add", "contact", "Yb Two", "--birthday", "23.12.1981")
    r = crm("merge", "1", "2", "--dry-run")
    assert "birthday: keeps 24.12. (#1); #2 has 23.12.1981  [--take birthday=2]" in r.stderr


def test_an_id_already_merged_is_named_as_such(crm):
    crm("add", "contact", "Jürgen Müller")
    crm("add", "contact", "Juergen Mueller")
    assert crm("merge", "1", "2", "--yes").exit_code == 0
    for args in (("1", "2"), ("2", "1")):
        r = crm("merge", *args, "--yes")
        assert (r.exit_code, r.stderr) == (
            1, "crm: error: merge: contact #2 was already merged into #1\n",
        )  # fmt: skip


def test_a_company_alias_is_named_before_anything_else(crm):
    crm("add", "company", "Müller Bau GmbH")
    crm("add", "company", "Mueller Bau")
    assert crm("merge", "--company", "1", "2", "--yes").exit_code == 0
    r = crm("merge", "--company", "1", "2", "--yes")
    assert (r.exit_code, r.stderr) == (
        1, "crm: error: merge: company #2 was already merged into #1\n",
    )  # fmt: skip


def test_records_with_nothing_in_common_need_force(crm):
    """Retyping a company merge without --company must not merge two strangers."""
    crm("add", "company", "Müller Bau GmbH")
    crm("add", "company", "Mueller Bau")
    crm("add", "contact", "Anna Berg", "-e", "anna@berg.de")
    crm("add", "contact", "Xaver Yilmaz", "-p", "030 1234567")
    crm("add", "contact", "Anne Berg")
    assert crm("merge", "--company", "1", "2", "--yes").exit_code == 0
    r = crm("merge", "1", "2", "--yes")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == (
        "crm: error: merge: no sign that contact #2 Xaver Yilmaz and #1 Anna Berg are the "
        "same: they share no email, phone or similar name (#2 was a company merged into #1: "
        "meant with --company?); pass --force if they are"
    )
    assert crm("show", "2").exit_code == 0
    r = crm("merge", "1", "2", "--dry-run")
    assert r.exit_code == 0
    assert "Warning: no sign that contact #2 Xaver Yilmaz" in r.stderr
    assert "merging needs --force" in r.stderr
    assert crm("merge", "1", "3", "--yes").exit_code == 0  # Anne and Anna Berg: alike
    r = crm("merge", "1", "2", "--yes", "--force")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "2", "-o", "json").json()["id"] == 1


def test_two_unrelated_companies_hear_of_no_contact_merge(crm):
    """Walkthrough: `merge --companies 3 4` said '(#4 was a contact merged into #3: meant
    without --company?)' of a contact merge done before."""
    for name in ("Anna Berg", "Anna Berg", "Otto", "Otto", "Zora"):
        crm("add", "contact", name)
    assert crm("merge", "3", "4", "--yes").exit_code == 0
    for name in ("Alpha GmbH", "Beta AG", "Gamma KG", "Delta SE"):
        crm("add", "company", name)
    r = crm("merge", "--company", "3", "4", "--yes")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == (
        "crm: error: merge: no sign that company #4 Delta SE and #3 Gamma KG are the same: "
        "they share no domain, email, phone or similar name; pass --force if they are"
    )
