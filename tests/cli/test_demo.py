"""`crm demo` through the CLI: the summary on stderr, JSON on request, refusal and --force."""

from __future__ import annotations

import json
import shlex


def count(crm, kind: str) -> int:
    return len(crm("list", kind, "--limit", "0", "-o", "json").json())


def test_demo_fills_a_fresh_database(crm, db_target):
    r = crm("demo", "--contacts", "300")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith(f"Filled {db_target} with 300 contacts at 37 companies (")
    # The hint names the database given with --db, so pasting it finds the demo data.
    assert f"Try: crm --db {shlex.quote(db_target)} list contacts" in r.stderr
    assert count(crm, "contacts") == 300
    assert count(crm, "companies") == 37
    assert crm("db", "check").exit_code == 0


def test_demo_prints_the_counts_when_asked(crm, db_target):
    r = crm("demo", "--contacts", "300", "--companies", "5", "--seed", "11", "-o", "json")
    assert r.exit_code == 0, r.stderr
    record = r.json()
    assert record["database"] == db_target
    assert (record["contacts"], record["companies"], record["seed"]) == (300, 5, 11)
    entries = 305 + record["activities"] + record["deals"]
    assert record["tags"] >= 6 and record["search_entries"] == entries
    assert record["removed_contacts"] == 0
    assert isinstance(record["seconds"], float)


def test_demo_data_is_searchable_and_listable_by_its_values(crm):
    crm("demo", "--contacts", "300")
    people = crm("list", "contacts", "--limit", "0", "-o", "json").json()
    someone = next(p for p in people if p["company"] and p["phone"] and "ü" in p["name"])
    fragment = someone["name"].split()[-1].replace("ü", "ue").lower()[:6]
    hits = crm("search", fragment, "--limit", "300", "-o", "json").json()
    assert someone["id"] in {h["id"] for h in hits if h["kind"] == "contact"}
    customers = crm("list", "contacts", "--status", "customer", "--limit", "0", "-o", "json")
    assert customers.json() and all(p["status"] == "customer" for p in customers.json())
    shown = crm("show", str(someone["id"]), "-o", "json").json()
    assert shown["email"] == someone["email"] and shown["phone_e164"].startswith("+")


def test_demo_refuses_a_database_with_data(crm):
    crm("add", "contact", "Zyxw Testperson", "-e", "zyxw@example.org")
    r = crm("demo")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("crm: error: the database already holds 1 contact")
    assert "crm demo --force" in r.stderr
    assert [p["name"] for p in crm("list", "contacts", "-o", "json").json()] == ["Zyxw Testperson"]
    assert crm("list", "companies", "-o", "json").json() == []


def test_demo_force_replaces_the_data(crm):
    crm("add", "contact", "Zyxw Testperson", "-c", "Alte Firma GmbH", "-t", "alt-tag")
    r = crm("demo", "--force", "--contacts", "300")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.startswith("Removed 1 contact and 1 company.\nFilled ")
    people = crm("list", "contacts", "--limit", "0", "-o", "json").json()
    assert len(people) == 300
    assert "Zyxw Testperson" not in {p["name"] for p in people}
    assert crm("search", "zyxw", "-o", "json").json() == []


def test_demo_with_the_same_seed_makes_the_same_people(crm, tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    def run(*args: str):
        return CliRunner().invoke(app, ["--db", str(tmp_path / "other.db"), *args])

    crm("demo", "--contacts", "300", "--seed", "5")
    assert run("demo", "--contacts", "300", "--seed", "5").exit_code == 0
    listing = ("list", "contacts", "--limit", "0", "-o", "json")
    assert json.loads(run(*listing).stdout) == crm(*listing).json()


def test_demo_rejects_impossible_sizes_as_usage_errors(crm):
    for args in (["--contacts", "0"], ["--contacts", "3000000"], ["--companies", "-1"]):
        r = crm("demo", *args)
        assert r.exit_code == 2, args
        assert r.stderr.startswith("crm: error: ")
    assert count(crm, "contacts") == 0


def test_demo_help_has_an_example(crm):
    r = crm("demo", "--help")
    assert r.exit_code == 0
    assert "Example: crm demo --contacts 100000" in r.stdout
