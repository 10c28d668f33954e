"""A phone or a name shared by different people (a household's or an office's phone, two Hans
Müller) never merges them: the rows become their own contacts, said as possible duplicates,
and a second import of the file changes nothing. CSV and vCard, within one file and against
contacts already there."""

from __future__ import annotations

OFFICE = (
    "Vorname;Nachname;Firma;E-Mail;Telefon\n"
    "Hans;Huber;Huber AG;hans@huber.example;089 12345-0\n"
    "Eva;Huber;Huber AG;eva@huber.example;089 12345-0\n"
    "Otto;Ober;Huber AG;otto@huber.example;089 12345-0\n"
)
EVA_VCF = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eva Huber\r\nN:Huber;Eva;;;\r\n"
    "EMAIL;TYPE=WORK:eva@huber.example\r\nTEL;TYPE=WORK:089 12345-0\r\nEND:VCARD\r\n"
)


def people(crm):
    return crm("list", "contacts", "-n", "0", "-o", "json").json()


def test_one_office_phone_in_a_file_is_three_people(crm, tmp_path):
    path = tmp_path / "z.csv"
    path.write_text(OFFICE, encoding="utf-8")
    r = crm("import", "csv", str(path))
    assert r.exit_code == 0, r.stderr
    assert "3 new, 0 updated, 0 unchanged, 2 possible duplicates (crm dedupe)" in r.stderr
    assert "crm: warning: line 3: new contact Eva Huber, a possible duplicate of" in r.stderr
    got = {c["name"]: c["email"] for c in people(crm)}
    assert got == {
        "Hans Huber": "hans@huber.example", "Eva Huber": "eva@huber.example",
        "Otto Ober": "otto@huber.example",
    }  # fmt: skip
    before = people(crm)
    r = crm("import", "csv", str(path))
    assert "0 new, 0 updated, 3 unchanged, 0 rejected" in r.stderr
    assert "warning" not in r.stderr
    assert people(crm) == before
    groups = crm("dedupe", "-o", "json").json()
    assert any({m["name"] for m in g["members"]} >= {"Hans Huber", "Eva Huber"} for g in groups)


def test_a_card_or_row_with_a_stored_phone_does_not_rename_its_owner(crm, tmp_path):
    r = crm("add", "contact", "Hans Huber", "-e", "hans@huber.example", "-p", "089 12345-0")
    assert r.exit_code == 0, r.stderr
    card = tmp_path / "eva.vcf"
    card.write_text(EVA_VCF, encoding="utf-8")
    r = crm("import", "vcard", str(card))
    assert r.exit_code == 0, r.stderr
    assert "1 new, 0 updated" in r.stderr and "1 possible duplicate" in r.stderr
    assert "crm: warning: " in r.stderr
    assert "Hans Huber (same phone 089 12345-0, other email)" in r.stderr
    hans = crm("show", "hans@huber.example", "-o", "json").json()
    assert hans["name"] == "Hans Huber"
    r = crm("import", "vcard", str(card))
    assert "0 new, 0 updated, 1 unchanged" in r.stderr
    row = tmp_path / "eva.csv"
    row.write_text("Name,E-Mail,Telefon\nEva Huber,eva@huber.example,089 12345-0\n")
    r = crm("import", "csv", str(row))
    assert "0 new, 0 updated, 1 unchanged" in r.stderr
    assert sorted(c["name"] for c in people(crm)) == ["Eva Huber", "Hans Huber"]


def test_one_name_in_two_cities_stays_two_people(crm, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("Name;Ort\nHans Müller;Köln\nHans Müller;Berlin\n", encoding="utf-8")
    r = crm("import", "csv", str(path))
    assert "2 new, 0 updated, 0 unchanged, 1 possible duplicate (crm dedupe)" in r.stderr
    assert sorted(c["city"] for c in people(crm)) == ["Berlin", "Köln"]
    r = crm("import", "csv", str(path))
    assert "0 new, 0 updated, 2 unchanged" in r.stderr


def test_two_cards_of_one_file_with_one_phone_stay_two_people(crm, tmp_path):
    hans = EVA_VCF.replace("Eva", "Hans").replace("eva@", "hans@")
    path = tmp_path / "both.vcf"
    path.write_text(hans + EVA_VCF, encoding="utf-8")
    r = crm("import", "vcard", str(path))
    assert r.exit_code == 0, r.stderr
    assert "2 new, 0 updated" in r.stderr and "1 possible duplicate" in r.stderr
    assert sorted((c["name"], c["email"]) for c in people(crm)) == [
        ("Eva Huber", "eva@huber.example"), ("Hans Huber", "hans@huber.example"),
    ]  # fmt: skip
    r = crm("import", "vcard", str(path))
    assert "0 new, 0 updated, 2 unchanged" in r.stderr
