"""`crm demo` through the CLI: the summary on stderr, JSON on request, refusal and --force."""

from __future__ import annotations

import json
import shlex

import pytest

from crmcli.db import describe


def count(crm, kind: str) -> int:
    return len(crm("list", kind, "--limit", "0", "-o", "json").json())


def test_demo_fills_a_fresh_database(crm, db_target):
    r = crm("demo", "--contacts", "300")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    shown = describe(db_target)  # a PostgreSQL URL without its password
    assert r.stderr.startswith(f"Filled {shown} with 300 contacts at 37 companies (")
    # The hint names the database given with --db, so pasting it finds the demo data.
    assert f"Try: crm --db {shlex.quote(shown)} list contacts" in r.stderr
    assert count(crm, "contacts") == 300
    assert count(crm, "companies") == 37
    assert crm("db", "check").exit_code == 0


def test_demo_prints_the_counts_when_asked(crm, db_target):
    r = crm("demo", "--contacts", "300", "--companies", "5", "--seed", "11", "-o", "json")
    assert r.exit_code == 0, r.stderr
    record = r.json()
    assert record["database"] == describe(db_target)
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


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_demo_refuses_a_database_with_data_force_or_not(crm, force):
    crm("add", "contact", "Zyxw Testperson", "-e", "zyxw@example.org", "-c", "Alte Firma GmbH")
    crm("add", "task", "Eigene Aufgabe")
    r = crm("demo", *force)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == (
        "crm: error: the database already holds 1 contact, 1 company and 1 task that the demo "
        "did not make; the demo goes only into an empty database or over an unchanged demo; "
        "give it a database of its own: crm --db demo.db demo\n"
    )
    assert [p["name"] for p in crm("list", "contacts", "-o", "json").json()] == ["Zyxw Testperson"]
    assert [t["title"] for t in crm("list", "tasks", "-o", "json").json()] == ["Eigene Aufgabe"]


def test_demo_force_replaces_an_earlier_demo_and_says_what_went(crm):
    assert crm("demo", "--contacts", "300").exit_code == 0
    r = crm("demo")
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: the database already holds a demo made 2026-11-23 ")
    assert r.stderr.endswith("; crm demo --force replaces it\n")
    r = crm("demo", "--force", "--contacts", "200", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.startswith("Removed the earlier demo: 300 contacts, 37 companies, 75 deals, ")
    assert " tasks, " in r.stderr and " stage changes" in r.stderr
    record = r.json()
    assert (record["removed_contacts"], record["removed_deals"]) == (300, 75)
    assert record["removed_tasks"] == 30
    assert count(crm, "contacts") == 200


def test_demo_force_again_and_again_leaves_the_database_sound(crm):
    for args in ([], ["--force"], ["--force"]):
        assert crm("demo", *args).exit_code == 0
        r = crm("db", "check")
        assert r.exit_code == 0, r.stdout + r.stderr
        assert r.stderr.startswith("ok: ")


def test_a_demo_someone_worked_in_is_not_replaced(crm):
    crm("demo", "--contacts", "100")
    task = crm("list", "tasks", "--limit", "1", "-o", "json").json()[0]
    assert crm("done", str(task["id"])).exit_code == 0
    r = crm("demo", "--force")
    assert r.exit_code == 1
    assert "changed after it was made" in r.stderr
    assert "crm --db demo.db demo" in r.stderr
    assert count(crm, "contacts") == 100


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
    assert "Examples:" in r.stdout
    assert "\n  crm --db /tmp/big.db demo --contacts 100000\n" in r.stdout  # one a line
