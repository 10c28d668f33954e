"""`crm query`: mutt's query format, as mutt, neomutt and aerc read it."""

from __future__ import annotations

import pytest


@pytest.fixture
def people(crm):
    for args in (
        ("Jürgen Müller", "-e", "jm@mueller-bau.de", "-c", "Müller Bau GmbH"),
        ("Anna Weiß", "-e", "anna@weiss.example"),
        ("Ohne Mail Müller",),
    ):
        assert crm("add", "contact", *args).exit_code == 0


def test_first_line_then_email_tab_name_tab_company(crm, people):
    r = crm("query", "müller")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "crm: 1 address of 1 contact"
    assert lines[1:] == ["jm@mueller-bau.de\tJürgen Müller\tMüller Bau GmbH"]


def test_a_contact_without_company_has_an_empty_third_field(crm, people):
    assert crm("query", "anna@").stdout.splitlines()[1] == "anna@weiss.example\tAnna Weiß\t"


def test_several_words_as_one_query(crm, people):
    assert "jm@mueller-bau.de" in crm("query", "müller", "bau").stdout


def test_no_match_is_success_with_the_first_line_only(crm, people):
    r = crm("query", "zzzz")
    assert (r.exit_code, r.stdout) == (0, "crm: no contact matches 'zzzz'\n")


def test_no_header_for_aerc(crm, people):
    r = crm("query", "--no-header", "weiss")
    assert r.stdout == "anna@weiss.example\tAnna Weiß\t\n"
    assert crm("query", "--no-header", "zzzz").stdout == ""


def test_tabs_and_line_breaks_in_names_cannot_break_the_format(crm):
    crm("add", "contact", "Tab\tName", "-e", "tab@example.de")
    lines = crm("query", "--no-header", "tab@").stdout.splitlines()
    assert lines == ["tab@example.de\tTab Name\t"]


def test_query_does_not_create_a_database(tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    missing = tmp_path / "none.db"
    r = CliRunner().invoke(app, ["--db", str(missing), "query", "x"])
    assert r.exit_code == 1 and not missing.exists()


def test_limit_counts_contacts_with_an_email(crm):
    for args in (
        ("Hans Müller",),
        ("Hans Müller-Lüdenscheidt",),
        ("Paul Müller", "-e", "paul@x.de"),
    ):
        assert crm("add", "contact", *args).exit_code == 0
    r = crm("query", "--limit", "2", "müller")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == ["crm: 1 address of 1 contact", "paul@x.de\tPaul Müller\t"]
