"""`crm tag/untag/edit/delete --where FILTERS`: the `crm list` filters instead of a REF, a count
and a question first, --yes for scripts, --dry-run, one transaction."""

from __future__ import annotations

import pytest

# One example per `crm list contacts` filter: --where must select exactly what list lists.
FILTER_EXAMPLES = {
    "tag": ["--tag", "vip"],
    "company": ["--company", "adler"],
    "city": ["--city", "KÖLN"],
    "status": ["--status", "customer"],
    "source": ["--source", "messe"],
    "field": ["--field", "kundennr="],
    "created_since": ["--created-since", "25.11.2026"],
    "overdue_contact": ["--overdue-contact"],
    "campaign": ["--campaign", "herbst"],
}


@pytest.fixture
def people(crm):
    assert crm("add", "campaign", "Herbst").exit_code == 0
    for args in [
        ("Anna Adler", "--city", "Köln", "-s", "customer", "-c", "Adler GmbH", "-t", "vip",
         "--source", "Messe", "--field", "kundennr=1"),
        ("Bernd Bauer", "--city", "Köln", "-s", "lead", "-c", "Adler GmbH", "--every", "30 days"),
        ("Cora Christ", "--city", "köln", "-s", "customer", "-t", "vip"),
        ("Dirk Dorn", "--city", "Bonn", "-s", "customer", "-c", "Dorn AG", "--source", "Web"),
        ("Eva Esser", "--city", "Bonn", "-s", "lead", "--campaign", "Herbst"),
        ("Frank Fuchs", "-s", "customer", "-t", "vip", "--field", "kundennr=2"),
    ]:  # fmt: skip
        later = {"CRM_NOW": "2026-11-25T12:00:00+01:00"} if args[0] == "Frank Fuchs" else None
        r = crm("add", "contact", *args, env=later)
        assert r.exit_code == 0, r.stderr


def ids(crm, *filters: str, env: dict | None = None) -> list[int]:
    r = crm("list", "contacts", *filters, "--sort", "id", "-o", "json", env=env)
    assert r.exit_code == 0, r.stderr
    return [c["id"] for c in r.json()]


def tagged(crm, tag_: str) -> list[int]:
    return ids(crm, "--tag", tag_)


def test_every_list_filter_is_known_to_where():
    from crmcli.commands import where

    assert where._filter_names()["contact"] == set(FILTER_EXAMPLES)
    assert where._filter_names()["company"] == {"tag", "city", "industry", "created_since"}


@pytest.mark.parametrize("name", sorted(FILTER_EXAMPLES))
def test_tag_where_selects_what_list_lists(crm, people, name):
    args = FILTER_EXAMPLES[name]
    # Bernd's 30-day cadence has run out 40 days on.
    env = {"CRM_NOW": "2027-01-02T10:00:00+01:00"} if name == "overdue_contact" else None
    expected = ids(crm, *args, env=env)
    assert expected, f"the example for --{name} selects nobody"
    assert expected != ids(crm), f"the example for --{name} selects everybody"
    r = crm("tag", "--where", *args, "marked", "--yes", env=env)
    assert r.exit_code == 0, r.stderr
    assert tagged(crm, "marked") == expected


def test_tag_where_combines_filters_and_reports(crm, people):
    r = crm("tag", "--where", "--city", "köln", "--status", "customer", "newsletter", "news2")
    assert r.exit_code == 1  # no terminal and no --yes: refused, nothing changed
    assert (
        "crm: error: tag 2 contacts with newsletter, news2: refusing without a terminal" in r.stderr
    )
    assert "--yes" in r.stderr
    assert tagged(crm, "newsletter") == []
    r = crm("tag", "--where", "--city", "köln", "--status", "customer", "newsletter", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "Tagged 2 contacts with newsletter (2 tags added)." in r.stderr
    assert tagged(crm, "newsletter") == [1, 3]


def test_options_may_stand_anywhere_but_filters_follow_where(crm, people):
    r = crm("tag", "-y", "newsletter", "--where", "--tag", "vip", "--city", "köln")
    assert r.exit_code == 0, r.stderr
    assert tagged(crm, "newsletter") == [1, 3]
    r = crm("untag", "--where", "--tag", "vip", "newsletter", "--yes", "--city", "köln")
    assert r.exit_code == 0, r.stderr
    assert "Removed newsletter from 2 contacts (2 tags removed)." in r.stderr
    assert tagged(crm, "newsletter") == []


def test_asks_on_a_terminal_with_names(crm, people, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    r = crm("tag", "--where", "--all", "x", input="n\n")
    assert r.exit_code == 1
    assert (
        "Contacts: #1 Anna Adler, #2 Bernd Bauer, #3 Cora Christ, #4 Dirk Dorn, #5 Eva Esser"
        in r.stderr
    )
    assert "and 1 more." in r.stderr and "Tag 6 contacts with x?" in r.stderr
    assert tagged(crm, "x") == []
    r = crm("tag", "--where", "--city", "bonn", "x", input="y\n")
    assert r.exit_code == 0, r.stderr
    assert "Contacts: #4 Dirk Dorn and #5 Eva Esser." in r.stderr
    assert tagged(crm, "x") == [4, 5]


def test_an_empty_filter_is_refused_unless_all(crm, people):
    for args in (["--where"], ["--where", "--city", ""], ["--where", "--tag", " "]):
        r = crm("tag", *args, "x", "--yes")
        assert r.exit_code == 1, args
        assert r.stderr.startswith("crm: error: ") and r.stderr.count("\n") == 1
    assert "add --all to mean that" in crm("delete", "--where", "--yes").stderr
    assert len(ids(crm)) == 6
    r = crm("tag", "--where", "--all", "alle", "--yes")
    assert r.exit_code == 0, r.stderr
    assert tagged(crm, "alle") == [1, 2, 3, 4, 5, 6]
    r = crm("tag", "--where", "--all", "--city", "köln", "x", "--yes")
    assert r.exit_code == 1 and "exclude each other" in r.stderr


def test_no_match_is_a_quiet_success(crm, people):
    for args in (
        ["tag", "--where", "--city", "Hamburg", "x"],
        ["untag", "--where", "--tag", "nobody-has-it", "vip"],
        ["delete", "--where", "--city", "Hamburg"],
        ["edit", "--owner", "Jo", "--where", "--city", "Hamburg"],
    ):
        r = crm(*args)
        assert (r.exit_code, r.stdout) == (0, ""), args
        # A tag that does not exist at all is named: most likely a typo.
        unknown = "nobody-has-it" in args
        assert r.stderr == (
            "crm: warning: no tag 'nobody-has-it' exists, so nobody has it "
            "(crm list tags shows the tags)\n" * unknown + "No contacts match.\n"
        )
    r = crm("tag", "company", "--where", "--industry", "Raumfahrt", "x")
    assert (r.exit_code, r.stderr) == (0, "No companies match.\n")


def test_dry_run_lists_and_changes_nothing(crm, people):
    r = crm("delete", "--where", "--city", "köln", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == crm("list", "contacts", "--city", "köln").stdout  # as list shows them
    assert "Would delete 3 contacts; nothing changed (--dry-run)." in r.stderr
    assert len(ids(crm)) == 6
    r = crm("tag", "--where", "--city", "köln", "x", "--dry-run")
    assert r.exit_code == 0 and "Would tag 3 contacts with x" in r.stderr
    assert tagged(crm, "x") == []
    r = crm("edit", "--owner", "Jo", "--where", "--tag", "vip", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == crm("list", "contacts", "--tag", "vip", "-o", "json").json()
    assert [c["owner"] for c in r.json()] == [None, None, None]
    r = crm("edit", "--owner", "Jo", "--where", "--tag", "vip", "-o", "json", "--yes")
    assert r.exit_code == 1 and "add --dry-run" in r.stderr
    r = crm("tag", "müller", "x", "--dry-run")
    assert r.exit_code == 1 and "--dry-run goes with --where" in r.stderr


def test_filters_of_the_other_kind_are_refused(crm, people):
    r = crm("tag", "--where", "--industry", "bau", "x", "--yes")
    assert r.exit_code == 1 and "--industry does not filter contacts" in r.stderr
    r = crm("tag", "company", "--where", "--status", "lead", "x", "--yes")
    assert r.exit_code == 1 and "--status does not filter companies" in r.stderr


def test_tag_companies_by_filter(crm, people):
    crm("edit", "company", "adler", "--city", "Köln")
    r = crm("tag", "company", "--where", "--city", "koln", "b2b", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Tagged 1 company with b2b" in r.stderr
    rows = crm("list", "companies", "--tag", "b2b", "-o", "json").json()
    assert [c["name"] for c in rows] == ["Adler GmbH"]
    r = crm("tag", "deals", "--where", "--city", "köln", "x", "--yes")
    assert r.exit_code == 1 and "deals have no tags" in r.stderr


def test_edit_where_changes_before_filters_after(crm, people):
    r = crm(
        "edit", "--status", "prospect", "--tag", "kunde", "--city", "Köln-Ehrenfeld",
        "--where", "--status", "lead", "--city", "köln", "--yes",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "Changed city, status and tags of 1 contact." in r.stderr
    card = crm("show", "2", "-o", "json").json()
    assert (card["status"], card["city"], card["tags"]) == ("prospect", "Köln-Ehrenfeld", ["kunde"])
    assert crm("show", "5", "-o", "json").json()["status"] == "lead"  # Bonn: not selected
    assert crm("search", "ehrenfeld", "-o", "json").json()[0]["id"] == 2


def test_edit_where_refusals(crm, people):
    r = crm("edit", "--where", "--status", "lead", "--status", "prospect", "--yes")
    assert r.exit_code == 2 and "--status is given twice after --where" in r.stderr
    r = crm("edit", "--where", "--city", "köln", "--yes")
    assert r.exit_code == 1 and "changes go before --where" in r.stderr
    r = crm("edit", "--name", "Gleich", "--where", "--city", "köln", "--yes")
    assert r.exit_code == 1 and "own name" in r.stderr
    r = crm("edit", "1", "--owner", "Jo", "--where", "--city", "köln", "--yes")
    assert r.exit_code == 2 and "no REF" in r.stderr
    r = crm("edit", "task", "--title", "x", "--where", "--city", "köln", "--yes")
    assert r.exit_code == 1 and "not tasks" in r.stderr
    r = crm("edit", "--owner", "Jo", "--where", "--city", "köln")
    assert r.exit_code == 1 and "pass --yes" in r.stderr
    assert {crm("show", str(i), "-o", "json").json()["owner"] for i in range(1, 7)} == {None}


def test_delete_where_says_what_goes_and_what_stays(crm, people):
    assert crm("add", "deal", "Dach", "--contact", "anna", "--amount", "1.000").exit_code == 0
    assert crm("log", "note", "anna", "-m", "Notiz").exit_code == 0
    assert crm("add", "task", "Anrufen", "--contact", "bernd").exit_code == 0
    r = crm("delete", "--where", "--company", "adler")
    assert r.exit_code == 1
    assert "delete 2 contacts with 1 activity and 1 task (their deal stays, without contact)" in (
        r.stderr
    )
    r = crm("delete", "--where", "--company", "adler", "--yes")
    assert r.exit_code == 0, r.stderr
    assert ids(crm) == [3, 4, 5, 6]
    assert crm("list", "deals", "-o", "json").json()[0]["contact_id"] is None
    assert crm("search", "notiz", "-o", "json").json() == []


def test_delete_companies_where_keeps_or_deletes_people(crm, people):
    r = crm("delete", "company", "--where", "--all")
    assert r.exit_code == 1
    assert "2 companies have 3 contacts: --yes deletes the companies" in r.stderr
    r = crm("delete", "company", "--where", "--city", "Nirgendwo", "--contacts", "delete", "--yes")
    assert (r.exit_code, r.stderr) == (0, "No companies match.\n")
    r = crm("delete", "company", "--where", "--all", "--contacts", "delete", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Deleted 2 companies; 3 contacts deleted too." in r.stderr
    assert ids(crm) == [3, 5, 6]
    assert crm("list", "companies", "-o", "json").json() == []
    r = crm("delete", "--where", "--all", "--contacts", "keep", "--yes")
    assert r.exit_code == 1 and "--contacts applies to deleting companies" in r.stderr


def test_help_lists_the_filters(crm):
    for command in ("tag", "untag", "edit", "delete"):
        r = crm(command, "--help")
        assert r.exit_code == 0
        assert "Filters after --where" in r.stdout
        assert "--city" in r.stdout and "--industry" in r.stdout and "--all" in r.stdout


def test_where_as_a_value_or_after_a_double_dash_is_text(crm, people):
    r = crm("edit", "1", "--notes", "--where")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "1", "-o", "json").json()["notes"] == "--where"
    r = crm("tag", "1", "--", "--where")
    assert r.exit_code == 0, r.stderr
    assert tagged(crm, "--where") == [1]


def test_edit_and_untag_companies_by_filter(crm, people):
    r = crm("edit", "company", "--industry", "Bau", "--tag", "b2b", "--where", "--all", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Changed industry and tags of 2 companies." in r.stderr
    rows = crm("list", "companies", "--industry", "bau", "--tag", "b2b", "-o", "json").json()
    assert [c["name"] for c in rows] == ["Adler GmbH", "Dorn AG"]
    r = crm("untag", "company", "--where", "--industry", "BAU", "b2b", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Removed b2b from 2 companies (2 tags removed)." in r.stderr
    assert crm("list", "companies", "--tag", "b2b", "-o", "json").json() == []
    r = crm("edit", "company", "--name", "Gleich", "--where", "--all", "--yes")
    assert r.exit_code == 1 and "own name" in r.stderr


def test_one_word_after_where_is_a_tag_even_a_kind_word(crm, people):
    r = crm("tag", "--where", "--city", "bonn", "company", "--yes")
    assert r.exit_code == 0, r.stderr
    assert tagged(crm, "company") == [4, 5]
    r = crm("tag", "--where", "--city", "bonn", "--yes")
    assert r.exit_code == 2 and "TAG" in r.stderr
