"""`crm dedupe`: candidate groups of duplicates, as a table for people and JSON for scripts."""

from __future__ import annotations

import pytest


@pytest.fixture
def people(crm):
    for args in (
        ("Jan Meier", "-e", "jan.meier@gmail.com"),
        ("Jan Maier", "-e", "JanMeier@googlemail.com", "-p", "030 1234567", "-c", "ACME"),
        ("Johann Meyer", "-p", "+49 30 1234567"),
        ("Eva Müller",),
        ("Eva Mueller",),
        ("Anna Schmidt",),
    ):
        assert crm("add", "contact", *args).exit_code == 0


def test_json_lists_groups_with_members_reasons_and_scores(crm, people):
    r = crm("dedupe", "-o", "json")
    assert r.exit_code == 0, r.stderr
    groups = r.json()
    # Johann Meyer shares Jan Maier's phone but is written unlike them (he sounds alike):
    # the shared number is a group of its own, not a third Jan in theirs
    assert [g["ids"] for g in groups] == [[1, 2], [4, 5], [2, 3]]
    first = groups[0]
    assert first["group"] == 1 and first["kind"] == "contact"
    assert first["reasons"] == ["same email", "sounds alike"]
    assert {m["id"]: m["reasons"] for m in first["members"]} == {
        1: ["same email", "sounds alike"],
        2: ["same email", "sounds alike"],
    }
    assert first["members"][1]["company"] == "ACME"
    assert groups[2]["reasons"] == ["same phone"]
    assert groups[1]["score"] == 100  # Müller and Mueller


def test_table_has_one_row_per_member(crm, people):
    r = crm("dedupe")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == [
        "GROUP", "ID", "NAME", "EMAIL", "PHONE", "COMPANY", "REASON", "SCORE",
    ]  # fmt: skip
    assert len(lines) == 7
    assert "Eva Mueller" in lines[4] and "sounds alike" in lines[4]


def test_csv_and_by(crm, people):
    r = crm("dedupe", "--by", "email", "-o", "csv")
    assert r.stdout.splitlines() == [
        "group,id,name,email,phone,company,reason,score",
        "1,1,Jan Meier,jan.meier@gmail.com,,,same email,89",
        "1,2,Jan Maier,JanMeier@googlemail.com,030 1234567,ACME,same email,89",
    ]


def test_nothing_found_is_success_with_empty_output(crm):
    crm("add", "contact", "Anna")
    r = crm("dedupe")
    assert (r.exit_code, r.stdout) == (0, "")
    assert "No duplicate contacts found." in r.stderr
    r = crm("dedupe", "-o", "json")
    assert (r.exit_code, r.json()) == (0, [])


def test_bad_key_is_one_clear_error(crm, people):
    r = crm("dedupe", "--by", "email,fax")
    assert r.exit_code == 1
    assert (
        r.stderr
        == "crm: error: by: cannot match contact records by 'fax' (choose email, phone, name)\n"
    )


def test_companies(crm):
    crm("add", "company", "Müller Bau GmbH", "--domain", "mueller-bau.de")
    crm("add", "company", "Mueller Bau", "--domain", "www.Mueller-Bau.de")
    crm("add", "company", "Weber AG")
    r = crm("dedupe", "--companies", "-o", "json")
    assert r.exit_code == 0, r.stderr
    [group] = r.json()
    assert [m["name"] for m in group["members"]] == ["Müller Bau GmbH", "Mueller Bau"]
    assert group["reasons"] == ["same domain", "sounds alike"]
    r = crm("dedupe", "--companies")
    assert r.stdout.splitlines()[0].split()[3] == "DOMAIN"


def test_limit_counts_groups(crm, people):
    r = crm("dedupe", "--limit", "1", "-o", "json")
    assert [g["group"] for g in r.json()] == [1]
    r = crm("dedupe", "-n", "1")
    assert len(r.stdout.splitlines()) == 3  # header and the first group's two members


def test_at_80_columns_email_and_phone_stay(crm, monkeypatch):
    """The evidence a person checks a group by stays on a narrow terminal: email and phone
    before reason, score and company; the footer is two lines that fit."""
    import re

    from crmcli import env

    for args in (
        ("Karl-Ludwig Lorenz", "-e", "karl-ludwig.lorenz@weber-feinmechanik.example",
         "-p", "(0911) 6449184", "-c", "Weber Feinmechanik GmbH"),
        ("Karl-Ludwig Lorentz", "-e", "k.lorenz@blautal-maschinenbau2.example",
         "-p", "+49 351 236224", "-c", "Blautal Maschinenbau AG"),
    ):  # fmt: skip
        assert crm("add", "contact", *args).exit_code == 0
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    monkeypatch.setenv("COLUMNS", "80")
    r = crm("dedupe", "--limit", "1")
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in r.stdout.splitlines()]
    header = next(line for line in lines if "Group" in line).split()
    assert header == ["Group", "Id", "Name", "Email", "Phone"]
    assert max(len(line) for line in lines) <= 80
    assert "+49 351 236224" in r.stdout
    assert all(len(line) <= 80 for line in r.stderr.splitlines())
    assert "Merge one with: crm merge KEEP OTHER..." in r.stderr
