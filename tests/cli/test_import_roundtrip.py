"""`crm export deals|activities|tasks|companies` read back by `crm import csv --kind ...` into
an empty database: the same data (contacts by contact_email, status, lost reason, due time,
recurrence, done), a second import changes nothing; a companies export is refused as
contacts; activity kinds in German and English; tasks without a contact."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crmcli.cli import app

# What differs between two databases by nature: ids, stamps of the import's moment, and the
# figures derived from them.
_SKIP = {"id", "contact_id", "company_id", "stage_id", "created_at", "updated_at", "deal_id",
         "previous_id", "order_id", "order_number"}  # fmt: skip


def runner(target):
    def run(*args):
        r = CliRunner().invoke(app, ["--db", target, *args])
        if r.exception and not isinstance(r.exception, SystemExit):
            raise r.exception
        return r

    return run


def same(rows):
    return sorted(({k: v for k, v in r.items() if k not in _SKIP} for r in rows), key=repr)


@pytest.fixture
def filled(crm):
    for args in (
        ("add", "contact", "Margita Schmid", "-e", "margita@schmid.example", "-c", "Acme GmbH"),
        ("add", "contact", "Margita Schmid", "-e", "m.schmid@other.example"),  # the same name
        ("edit", "company", "Acme GmbH", "--city", "Köln", "--industry", "Handel",
         "--domain", "acme.example", "--phone", "0221 123456"),
        ("tag", "company", "Acme GmbH", "kunde", "a b"),
        ("add", "deal", "Großauftrag", "--contact", "margita@schmid.example", "--amount",
         "1.234,50", "--close", "2026-12-24"),
        ("add", "deal", "Wartung", "--contact", "m.schmid@other.example", "--amount", "99"),
        ("add", "deal", "Rahmenvertrag", "--contact", "margita@schmid.example"),
        ("lost", "Großauftrag", "--reason", "zu teuer"),
        ("won", "Wartung"),
        ("add", "task", "Anrufen", "--contact", "margita@schmid.example", "--due",
         "2026-12-01 09:00", "--every", "weekly", "--priority", "high"),
        ("add", "task", "Ohne Kontakt", "--due", "2026-12-02"),
        ("add", "task", "Irgendwann", "--contact", "m.schmid@other.example"),
        ("done", "Ohne Kontakt"),
        ("log", "complaint", "margita@schmid.example", "-m", "Kaputt", "--subject", "Defekt",
         "--at", "2026-11-02 10:00"),
        ("log", "call", "m.schmid@other.example", "-m", "Rückruf", "--at", "2026-11-03 11:00",
         "--direction", "in", "--duration", "15"),
        ("log", "inquiry", "margita@schmid.example", "-m", "Preis?", "--at", "2026-11-04 12:00"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    inquiry = crm("list", "activities", "--kind", "inquiry", "-o", "json").json()[0]
    r = crm("resolve", str(inquiry["id"]), "-m", "Angebot geschickt")
    assert r.exit_code == 0, r.stderr
    return crm


def test_deals_activities_tasks_and_companies_read_back_the_same(filled, db_target, tmp_path):
    new = runner(str(tmp_path / "new.db"))
    for args in (
        ("add", "contact", "Margita Schmid", "-e", "margita@schmid.example", "-c", "Acme GmbH"),
        ("add", "contact", "Margita Schmid", "-e", "m.schmid@other.example"),
    ):
        assert new(*args).exit_code == 0
    kinds = {"companies": (), "deals": (), "tasks": ("--all",), "activities": ()}
    for kind, extra in kinds.items():
        path = tmp_path / f"{kind}.csv"
        r = filled("export", kind, *extra, "-o", str(path))
        assert r.exit_code == 0, r.stderr
        r = new("import", "csv", str(path), "--kind", kind)
        assert r.exit_code == 0, (kind, r.stderr)
        assert "warning" not in r.stderr, (kind, r.stderr)
        again = new("import", "csv", str(path), "--kind", kind)
        assert "0 new, 0 updated" in again.stderr and "0 rejected" in again.stderr, again.stderr
    for kind, extra in kinds.items():
        before = filled("list", kind, *extra, "-o", "json").json()
        listed = new("list", kind, *extra, "-o", "json")
        assert listed.exit_code == 0, listed.stderr
        after = json.loads(listed.stdout)
        if kind == "companies":  # the import made Acme with its contact, then filled it in
            assert same(after) == same(before)
            continue
        assert same(after) == same(before), kind


def test_a_companies_export_is_refused_as_contacts(filled, tmp_path):
    path = tmp_path / "c.csv"
    filled("export", "companies", "-o", str(path))
    new = runner(str(tmp_path / "new.db"))
    r = new("import", "csv", str(path))
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"crm: error: {path} is a companies export (name, domain, industry, contacts): "
        "import it with --kind companies"
    )
    assert not (tmp_path / "new.db").exists()  # refused before the database was made


def test_a_contacts_export_is_refused_as_companies(filled, tmp_path):
    """Its people's names would have become companies."""
    path = tmp_path / "c.csv"
    filled("export", "contacts", "-o", str(path))
    new = runner(str(tmp_path / "new.db"))
    r = new("import", "csv", str(path), "--kind", "companies")
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"crm: error: {path} is a contacts file (emails, phones, email_kinds): "
        "import it with --kind contacts (their companies come with them)"
    )
    assert not (tmp_path / "new.db").exists()  # refused before the database was made


def test_a_company_list_with_its_contact_person_is_still_companies(crm, tmp_path):
    path = tmp_path / "firmen.csv"
    path.write_text("Firma,Vorname,Nachname,Telefon\nAcme GmbH,Eva,Ernst,030 1234567\n")
    r = crm("import", "csv", str(path), "--kind", "companies", "--map", "vorname=",
            "--map", "nachname=")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = crm("import", "csv", str(path), "--kind", "companies")
    assert r.exit_code == 0, r.stderr
    assert [c["name"] for c in crm("list", "companies", "-o", "json").json()] == ["Acme GmbH"]


def test_activity_kinds_in_german_and_english_and_tasks_of_nobody(crm, tmp_path):
    crm("add", "contact", "Eva Ernst", "-e", "eva@example.de")
    path = tmp_path / "a.csv"
    kinds = [
        "Telefonat",
        "Termin",
        "Besprechung",
        "Meeting",
        "Beschwerde",
        "Reklamation",
        "Anfrage",
        "Brief",
        "Retoure",
        "Rücksendung",
        "Phone call",
        "Notiz",
        "Umfrage",
    ]
    lines = ["E-Mail;Art;Datum;Betreff"] + [
        f"eva@example.de;{k};0{1 + i % 9}.11.2026 1{i % 10}:00;{k}" for i, k in enumerate(kinds)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = crm("import", "csv", str(path), "--kind", "activities")
    assert r.exit_code == 0, r.stderr
    got = {a["subject"]: a["kind"] for a in crm("list", "activities", "-o", "json").json()}
    assert got == {
        "Telefonat": "call", "Termin": "meeting", "Besprechung": "meeting", "Meeting": "meeting",
        "Beschwerde": "complaint", "Reklamation": "complaint", "Anfrage": "inquiry",
        "Brief": "letter", "Retoure": "return", "Rücksendung": "return", "Phone call": "call",
        "Notiz": "note", "Umfrage": "survey",
    }  # fmt: skip
    tasks = tmp_path / "t.csv"
    tasks.write_text(
        "Titel;Fällig;E-Mail\nAblage machen;01.12.2026;\nEva anrufen;;eva@example.de\n"
    )
    r = crm("import", "csv", str(tasks), "--kind", "tasks")
    assert r.exit_code == 0, r.stderr
    assert "2 new" in r.stderr
    got = {t["title"]: t["contact"] for t in crm("list", "tasks", "-o", "json").json()}
    assert got == {"Ablage machen": None, "Eva anrufen": "Eva Ernst"}
    r = crm("import", "csv", str(tasks), "--kind", "tasks")
    assert "0 new" in r.stderr and "2 unchanged" in r.stderr


def test_a_contact_column_with_a_name_links_when_one_contact_has_it(crm, tmp_path):
    crm("add", "contact", "Eva Ernst", "-e", "eva@example.de")
    crm("add", "contact", "Tim Twice")
    crm("add", "contact", "Tim Twice")
    path = tmp_path / "d.csv"
    path.write_text("Titel,Kontakt\nA,Eva Ernst\nB,Tim Twice\nC,Nobody\n", encoding="utf-8")
    r = crm("import", "csv", str(path), "--kind", "deals")
    assert r.exit_code == 1
    assert "line 3: contact: 2 contacts are named Tim Twice" in r.stderr
    assert "line 4: contact: no contact is named Nobody" in r.stderr
    assert crm("list", "deals", "-o", "json").json() == []
