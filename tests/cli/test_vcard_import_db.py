"""`crm import vcard` end to end, with the real import engine (services.imports) on a fresh
database: what lands, what a second import changes (nothing), and that a broken file or a
refused card without --rejects leaves the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcli.services.vcard import read_cards

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vcard"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


@pytest.fixture
def rows(db_target):
    """Each contact's emails and phones as stored: {name: ([(email, kind, primary)...],
    [(e164, kind, primary)...])}."""

    def read() -> dict:
        from crmcli.db import open_database
        from crmcli.models import Contact, ContactEmail, ContactPhone

        database = open_database(db_target)
        try:
            found: dict = {}
            for cid, name in Contact.select(Contact.id, Contact.name).tuples():
                emails = list(
                    ContactEmail.select(
                        ContactEmail.email, ContactEmail.kind, ContactEmail.is_primary
                    )
                    .where(ContactEmail.contact == cid)
                    .order_by(ContactEmail.position)
                    .tuples()
                )
                phones = list(
                    ContactPhone.select(
                        ContactPhone.phone_e164, ContactPhone.kind, ContactPhone.is_primary
                    )
                    .where(ContactPhone.contact == cid)
                    .order_by(ContactPhone.position)
                    .tuples()
                )
                found[name] = (
                    [(e, k, bool(p)) for e, k, p in emails],
                    [(e, k, bool(p)) for e, k, p in phones],
                )
            return found
        finally:
            database.close()

    return read


def listed(crm) -> dict:
    r = crm("list", "contacts", "-o", "json")
    assert r.exit_code == 0, r.stderr
    return {c["name"]: c for c in r.json()}


def test_android_cards_land_with_every_email_and_phone(crm, rows):
    r = crm("import", "vcard", fixture("android-2.1.vcf"))
    assert r.exit_code == 0, r.stderr
    assert "2 new" in r.stderr
    stored = rows()
    assert stored["Jürgen Müller"] == (
        [("juergen.mueller@example.de", "home", True),
         ("j.mueller@baeckerei-schoen.example", "work", False)],
        [("+491712345678", "mobile", False), ("+493012345678", "home", False),
         ("+493098765432", "work", True)],
    )  # fmt: skip
    juergen = listed(crm)["Jürgen Müller"]
    assert juergen["email"] == "juergen.mueller@example.de"  # the primary, as lists show it
    assert juergen["phone_e164"] == "+493098765432"
    assert juergen["company"] == "Bäckerei Schön GmbH"
    assert juergen["position"] == "Einkäufer"
    assert juergen["city"] == "Köln" and juergen["zip"] == "50667"
    assert juergen["birthday"] == "1968-12-24"
    assert juergen["notes"].startswith("Kennt sich mit Süßwaren aus.")
    assert listed(crm)["Anna Schmidt"]["birthday"] == "--05-17"


def test_importing_the_same_file_twice_changes_nothing(crm, rows):
    assert crm("import", "vcard", fixture("apple-3.0.vcf")).exit_code == 0
    before = (rows(), listed(crm))
    r = crm("import", "vcard", fixture("apple-3.0.vcf"))
    assert r.exit_code == 0, r.stderr
    assert "0 new, 0 updated, 2 unchanged" in r.stderr
    after = (rows(), listed(crm))
    assert after == before


def test_a_card_from_another_program_updates_the_person_it_matches(crm, rows):
    assert crm("import", "vcard", fixture("google-3.0.vcf")).exit_code == 0
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sabine Krüger\r\n"
        "EMAIL;TYPE=INTERNET,WORK:sabine.krueger@krueger-consulting.example\r\n"
        "TITLE:Inhaberin\r\nEND:VCARD\r\n"
    )
    r = crm("import", "vcard", "-", input=card)
    assert r.exit_code == 0, r.stderr
    assert "0 new, 1 updated" in r.stderr
    people = listed(crm)
    assert len(people) == 2 and people["Sabine Krüger"]["position"] == "Inhaberin"


def test_dry_run_writes_nothing(crm):
    r = crm("import", "vcard", fixture("several.vcf"), "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "3 new" in r.stderr
    assert listed(crm) == {}


@pytest.mark.parametrize("name", ["never-closed.vcf", "not-a-vcard.txt"])
def test_a_broken_file_imports_nothing(crm, name):
    r = crm("import", "vcard", fixture(name))
    assert r.exit_code == 1 and r.stderr.startswith("crm: error: ")
    assert listed(crm) == {}  # not even Eva Braun, whose card was whole


def test_a_card_without_a_name_stops_the_import_unless_rejects(crm, rows, tmp_path):
    r = crm("import", "vcard", fixture("junk-values.vcf"))
    assert r.exit_code == 1 and "card 2 of junk-values.vcf" in r.stderr
    assert listed(crm) == {}
    out = tmp_path / "rejects.vcf"
    r = crm("import", "vcard", fixture("junk-values.vcf"), "--rejects", str(out))
    assert r.exit_code == 0, r.stderr
    assert "dropped EMAIL 'not an email'" in r.stderr
    assert rows() == {
        "Jürgen Müller": (
            [("juergen@example.de", "home", True)],
            [("+49221123456", "home", True)],
        )
    }
    ((where, refused, _),) = read_cards(out)
    assert refused["city"] == "Bonn"
    import os
    import stat

    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # personal data, as every file crm writes


def test_windows_1252_umlauts_arrive_exactly(crm):
    assert crm("import", "vcard", fixture("outlook-2.1-cp1252.vcf")).exit_code == 0
    person = listed(crm)["Jürgen Größer"]
    assert person["company"] == "Bäckerei Größer"
    assert person["street"] == "Königstraße 1"
    assert person["notes"] == "Bestellt jeden Montag „Brötchen“ für € 12,50 netto."
    assert person["fields"]["url"] == "http://www.baeckerei-groesser.example"
    assert person["fields"]["department"] == "Verkauf"


def test_tags_from_categories_and_from_the_option(crm):
    r = crm("import", "vcard", fixture("khard-4.0.vcf"), "--tag", "import-2026")
    assert r.exit_code == 0, r.stderr
    person = listed(crm)["Dr. Hans-Peter von Löwenstein"]
    assert set(person["tags"]) == {"Kunden", "VIP", "import-2026"}
    assert person["birthday"] == "--12-24"


def test_a_directory_of_cards(crm, tmp_path):
    for name in ("google-3.0.vcf", "khard-4.0.vcf", "android-2.1.vcf"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    r = crm("import", "vcard", str(tmp_path))
    assert r.exit_code == 0, r.stderr
    assert sorted(listed(crm)) == [
        "Anna Schmidt", "Dr. Hans-Peter von Löwenstein", "Jürgen Müller", "Sabine Krüger",
        "Ömer Yılmaz",
    ]  # fmt: skip


def test_dry_run_fails_where_the_real_run_would_and_both_say_it_once(crm):
    dry = crm("import", "vcard", fixture("junk-values.vcf"), "--dry-run")
    assert dry.exit_code == 1
    assert "1 new, 0 updated, 0 unchanged, 0 skipped, 1 rejected." in dry.stderr
    assert "  card 2 of junk-values.vcf: name: a contact needs a name" in dry.stderr
    assert dry.stderr.rstrip().splitlines()[-1].startswith("crm: error: 1 bad card: the import")
    real = crm("import", "vcard", fixture("junk-values.vcf"))
    assert real.exit_code == 1 and listed(crm) == {}
    about_card_2 = [line for line in real.stderr.splitlines() if "card 2 of" in line]
    assert about_card_2 == [
        "crm: error: 1 bad card, nothing imported: card 2 of junk-values.vcf: name: a contact "
        "needs a name (or at least an email or a phone) (fix them, or give --rejects FILE to "
        "import the good rows)"
    ]
    assert "nothing was imported" not in real.stderr
    # With a rejects file the real run imports the good cards: its rehearsal succeeds too.
    ok = crm("import", "vcard", fixture("junk-values.vcf"), "--dry-run", "--rejects", "r.vcf")
    assert ok.exit_code == 0, ok.stderr


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n\r\n"], ids=["empty", "crlf"])
def test_an_empty_file_is_an_error_not_an_import_of_nobody(crm, tmp_path, data):
    path = tmp_path / "contacts.vcf"
    path.write_bytes(data)
    r = crm("import", "vcard", str(path))
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: ") and "contacts.vcf has no vCard in it" in r.stderr
    assert "Imported" not in r.stderr


def test_an_empty_directory_is_an_error(crm, tmp_path):
    r = crm("import", "vcard", str(tmp_path))
    assert r.exit_code == 1 and f"crm: error: {tmp_path} has no .vcf files" in r.stderr


def test_a_card_with_only_a_phone_is_named_by_the_number(crm, tmp_path):
    card = tmp_path / "handy.vcf"
    card.write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=CELL:0170 1112223\r\nEND:VCARD\r\n")
    r = crm("import", "vcard", str(card))
    assert r.exit_code == 0 and "1 new" in r.stderr, r.stderr
    assert listed(crm)["0170 1112223"]["phone_e164"] == "+491701112223"
    assert "card 1 of handy.vcf: no name: named by the phone number 0170 1112223" in r.stderr
