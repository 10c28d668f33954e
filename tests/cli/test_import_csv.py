"""`crm import csv` with files written the way real tools write them (tests/fixtures/import/):
recognised headers, encodings, delimiters, re-import, dry run, rejects, hostile input."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"


def imported(crm, name, *args):
    r = crm("import", "csv", str(FIXTURES / name), *args)
    assert r.exit_code == 0, r.stderr
    return r


def people(crm):
    return {c["name"]: c for c in crm("list", "contacts", "-n", "0", "-o", "json").json()}


def test_german_excel_cp1252_semicolons(crm):
    r = imported(crm, "excel_de_cp1252.csv")
    assert "3 new, 0 updated, 0 unchanged, 0 rejected" in r.stderr
    assert "columns not imported: Umsatz" in r.stderr  # a warning, not an error
    got = people(crm)
    jm = got["Jürgen Müller"]
    assert (jm["zip"], jm["city"], jm["street"]) == ("01067", "Dresden", "Hauptstraße 5")
    assert jm["phone_e164"] == "+493514567890" and jm["phone"] == "0351 4567890"
    assert jm["company"] == "Müller Bau GmbH" and jm["position"] == "Geschäftsführer"
    assert jm["birthday"] == "1968-12-24"
    assert got["Anna Weiß"]["notes"] == "Ruft gern an; lieber vormittags"
    assert got["Björn Größe"]["phone_e164"] == "+4915299887766"  # Mobil only
    card = crm("show", "jm@mueller-bau.de", "-o", "json").json()
    assert card["name"] == "Jürgen Müller"


def test_importing_the_same_file_again_changes_nothing(crm):
    imported(crm, "excel_de_cp1252.csv")
    before = crm("list", "contacts", "-o", "json").json()
    r = imported(crm, "excel_de_cp1252.csv")
    assert "0 new, 0 updated, 3 unchanged, 0 rejected" in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == before


def test_utf8_with_bom_and_quoted_newlines(crm):
    imported(crm, "utf8_bom.csv")
    zoe = people(crm)["Zoë Ölçek"]
    assert zoe["email"] == "zoe@example.de" and zoe["company"] == "Çelik & Söhne KG"
    assert zoe["notes"] == "Zeile eins\nZeile zwei"
    assert zoe["tags"] == ["newsletter", "vip"]
    assert people(crm)["Łukasz Wójcik"]["phone_e164"] == "+48221234567"


def test_shopify_customers(crm):
    imported(crm, "shopify_customers.csv", "--tag", "shop")
    got = people(crm)
    lena = got["Lena Schulz"]
    assert lena["zip"] == "50667" and lena["phone_e164"] == "+4922112345"
    assert lena["street"] == "Lindenstraße 3, 2. OG" and lena["country"] == "DE"
    assert lena["consent"] is True and lena["notes"] == "Stammkundin"
    assert lena["tags"] == ["Newsletter", "shop", "VIP"]
    assert got["Tom Becker"]["consent"] is False and got["Tom Becker"]["company"] == "Becker IT"
    assert "anon-buyer@example.org" in got  # a customer with nothing but an email


def test_woocommerce_customers(crm):
    r = imported(crm, "woocommerce_customers.csv")
    assert "columns not imported" not in r.stderr
    karin = people(crm)["Karin Hoffmann"]
    assert (karin["company"], karin["zip"], karin["city"]) == (
        "Hoffmann Feinkost",
        "80331",
        "München",
    )
    assert karin["phone_e164"] == "+4989123456" and karin["fields"] == {"region": "BY"}


def test_google_contacts_with_several_emails_and_phones(crm, tmp_path):
    imported(crm, "google_contacts.csv")
    got = people(crm)
    sabine = got["Sabine Krüger"]
    assert sabine["email"] == "sabine@krueger-consulting.de"
    assert sabine["birthday"] == "--03-15"  # no year
    assert sabine["tags"] == ["Kunden"]  # not Google's "* myContacts"
    assert sabine["company"] == "Krüger Consulting" and sabine["position"] == "Beraterin"
    assert sabine["fields"] == {"url": "https://krueger-consulting.de", "nickname": "Bine"}
    assert (sabine["street"], sabine["zip"]) == ("Jungfernstieg 1", "20095")
    # both emails of a cell (" ::: ") and every E-mail N column reach the contact: a row
    # with any of them finds it
    again = tmp_path / "again.csv"
    again.write_text("Email,City\nmw@example.com,Bonn\nsabine.k@example.de,Kiel\n", "utf-8")
    r = crm("import", "csv", str(again), "--match", "email")
    assert "0 new, 2 updated" in r.stderr
    got = people(crm)
    assert (got["Max Wagner"]["city"], got["Sabine Krüger"]["city"]) == ("Bonn", "Kiel")


def test_outlook_english_and_german(crm, tmp_path):
    imported(crm, "outlook_en.csv")
    imported(crm, "outlook_de.csv")
    got = people(crm)
    hans = got["Hans Richter"]
    assert hans["birthday"] == "1970-12-24"  # 12/24/1970: month first, as Outlook writes it
    assert hans["tags"] == ["Kunden", "VIP"] and hans["position"] == "Vertriebsleiter"
    assert (hans["street"], hans["zip"], hans["city"]) == ("Domstraße 10", "50668", "Köln")
    again = tmp_path / "again.csv"
    again.write_text("E-mail Address,Notes\nhans@richter-privat.de,privat\n", "utf-8")
    assert "1 updated" in crm("import", "csv", str(again)).stderr
    ute = got["Ute Schröder"]
    assert ute["birthday"] == "1966-03-01" and ute["tags"] == ["Lieferanten"]
    assert (ute["company"], ute["city"], ute["zip"]) == ("Schröder & Partner", "Mainz", "55116")
    assert ute["phone_e164"] == "+496131445566"


def test_full_outlook_exports_flags_are_not_phones(crm):
    """Outlook's whole header as it writes it (German: cp1252, every cell quoted, CRLF):
    Privat/Private is its private flag (Aus/Ein, False/True), not a home phone; Abteilung,
    Webseite and the region land in custom fields as the vCard importer keeps them."""
    raw = (FIXTURES / "outlook_de_full.csv").read_bytes()
    assert raw.startswith(b'"Anrede","Vorname"') and b"\r\n" in raw and b"Stra\xdfe" in raw
    r = imported(crm, "outlook_de_full.csv")
    assert "3 new, 0 updated, 0 unchanged, 0 rejected" in r.stderr
    assert "warning" not in r.stderr
    jw = crm("show", "j.weissmueller@metallbau-wm.de", "-o", "json").json()
    assert jw["name"] == "Jörg Weißmüller" and jw["birthday"] == "1968-12-24"
    assert jw["fields"] == {
        "department": "Einkauf",
        "region": "Bayern",
        "url": "https://metallbau-wm.de",
    }
    assert [(p["phone"], p["kind"]) for p in jw["phones"]] == [
        ("0931 123456", "work"),
        ("0171 2345678", "mobile"),
        ("0931 654321", "home"),
    ]
    assert [e["email"] for e in jw["emails"]] == [
        "j.weissmueller@metallbau-wm.de",
        "joerg.w@web.de",
    ]
    assert jw["notes"] == "Bestellt quartalsweise.\nLieber vormittags anrufen."
    got = people(crm)
    assert got["Änne Groß"]["birthday"] is None  # Outlook's 0.0.00
    assert got["Börje Ståhl"]["fields"] == {"department": "Vertrieb Süd"}
    r = imported(crm, "outlook_en_full.csv")
    assert "2 new, 0 updated, 0 unchanged, 0 rejected" in r.stderr
    assert "warning" not in r.stderr
    karen = people(crm)["Karen O'Brien"]
    assert karen["fields"] == {
        "department": "Purchasing",
        "region": "Munster",
        "url": "www.contoso.ie",
    }
    assert karen["birthday"] == "1975-03-07"
    assert people(crm)["Tom Baker"]["phone_e164"] == "+442079460018"
    again = imported(crm, "outlook_de_full.csv")
    assert "0 new, 0 updated, 3 unchanged" in again.stderr


def test_google_department_nickname_and_website(crm, tmp_path):
    f = tmp_path / "g.csv"
    f.write_text(
        "Name,Nickname,Organization 1 - Name,Organization 1 - Department,Website 1 - Value\n"
        "Eva Ernst,Evi,Ernst KG,Labor,https://ernst.example\n",
        "utf-8",
    )
    r = crm("import", "csv", str(f))
    assert r.exit_code == 0 and "warning" not in r.stderr, r.stderr
    assert people(crm)["Eva Ernst"]["fields"] == {
        "department": "Labor",
        "nickname": "Evi",
        "url": "https://ernst.example",
    }


def test_a_bad_row_aborts_everything_with_line_numbers(crm):
    r = crm("import", "csv", str(FIXTURES / "bad_rows.csv"))
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: 2 bad rows, nothing imported: line 3: birthday")
    assert "line 4: email" in r.stderr and "--rejects FILE" in r.stderr
    assert "Traceback" not in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


def test_rejects_file_round_trip(crm, tmp_path):
    bad = tmp_path / "bad.csv"
    r = crm("import", "csv", str(FIXTURES / "bad_rows.csv"), "--rejects", str(bad))
    assert r.exit_code == 0, r.stderr
    assert "1 new, 0 updated, 0 unchanged, 2 rejected" in r.stderr
    assert "line 3: birthday" in r.stderr
    rows = list(csv.reader(io.StringIO(bad.read_text(encoding="utf-8")), delimiter=";"))
    assert rows[0] == ["Vorname", "Nachname", "E-Mail", "Geburtstag", "reason"]
    assert rows[1][:4] == ["Otto", "Schlecht", "otto@example.de", "31.02.1980"]
    assert "birthday" in rows[1][4]
    # fixed by hand, then imported: the reason column is not a field
    fixed = bad.read_text(encoding="utf-8").replace("31.02.1980", "28.02.1980")
    fixed = fixed.replace("keine-mail", "ina@example.de")
    bad.write_text(fixed, encoding="utf-8")
    r = crm("import", "csv", str(bad))
    assert r.exit_code == 0, r.stderr
    assert "2 new" in r.stderr and "warning" not in r.stderr
    assert len(people(crm)) == 3


@pytest.mark.sqlite_only
def test_rejects_over_the_database_is_refused_before_anything_lands(crm, db_target):
    r = crm("import", "csv", str(FIXTURES / "bad_rows.csv"), "--rejects", db_target)
    assert r.exit_code == 1 and "is the database crm works on" in r.stderr
    assert people(crm) == {}


def test_rejects_into_a_fifo_and_through_a_link(crm, tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    r = crm("import", "csv", str(FIXTURES / "bad_rows.csv"), "--rejects", str(fifo))
    reader.join(10)
    assert r.exit_code == 0, r.stderr
    assert "Otto" in got[0] and stat.S_ISFIFO(fifo.stat().st_mode)
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    link.symlink_to(real)
    r = crm("import", "csv", str(FIXTURES / "bad_rows.csv"), "--rejects", str(link))
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and "Otto" in real.read_text(encoding="utf-8")


def test_dry_run_writes_nothing_and_reports_json(crm):
    r = crm("import", "csv", str(FIXTURES / "bad_rows.csv"), "--dry-run", "-o", "json")
    assert r.exit_code == 1  # the real import would fail
    summary = r.json()
    assert (summary["new"], summary["rejected"], summary["dry_run"]) == (1, 2, True)
    assert [x["where"] for x in summary["rejects"]] == ["line 3", "line 4"]
    assert "Dry run, nothing written" in r.stderr
    r = crm("import", "csv", str(FIXTURES / "excel_de_cp1252.csv"), "--dry-run", "-o", "json")
    assert r.exit_code == 0 and r.json()["new"] == 3
    assert crm("list", "contacts", "-o", "json").json() == []


def test_map_names_columns_and_ignores_others(crm, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text("Kunde|Kd-Nr|Mail|Egal\nEva Ernst|K-1|eva@example.de|x\n", encoding="utf-8")
    r = crm("import", "csv", str(path), "--map", "Kunde=name", "--map", "Kd-Nr=field:kundennr",
            "--map", "Egal=", "-o", "json")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "warning" not in r.stderr
    eva = people(crm)["Eva Ernst"]
    assert eva["fields"] == {"kundennr": "K-1"} and eva["email"] == "eva@example.de"
    r = crm("import", "csv", str(path), "--map", "Kunde=nickname")
    assert r.exit_code == 2 and "'nickname' for column 'Kunde' is no field" in r.stderr
    r = crm("import", "csv", str(path), "--map", "Nix=name")
    assert r.exit_code == 1 and "has no column nix" in r.stderr


@pytest.mark.parametrize(
    "args",
    [["--on-conflict", "merge"], ["--match", "zip"], ["--kind", "notes"], ["--delimiter", "ab"]],
)
def test_bad_options_are_usage_errors(crm, args):
    r = crm("import", "csv", str(FIXTURES / "utf8_bom.csv"), *args)
    assert r.exit_code == 2 and r.stderr.startswith("crm: error: Invalid value for")


def test_stdin_and_explicit_delimiter_and_encoding(crm):
    text = "Name\tE-Mail\nÄnne Ö\taenne@example.de\n"
    r = crm("import", "csv", "-", "--delimiter", "tab", input=text)
    assert r.exit_code == 0, r.stderr
    assert "Änne Ö" in people(crm)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "in.csv is empty: no header and no rows"),
        (b"\n\n  \n", "in.csv is empty"),
        (b"Name;E-Mail\r\n", "in.csv has a header but no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "in.csv is not a CSV file"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "in.csv is not a CSV file"),
        (b"Foo;Bar\r\n1;2\r\n", "in.csv has no column crm knows"),
    ],
)
def test_malformed_files_are_one_clear_error(crm, tmp_path, data, message):
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    r = crm("import", "csv", str(path))
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith("crm: error: ") and message in r.stderr
    assert r.stderr.count("\n") == 1


def test_an_encoding_that_does_not_fit_names_the_file(crm, tmp_path):
    path = tmp_path / "u8.csv"
    path.write_text("Name,E-Mail\nÄnne,aenne@example.de\n", "utf-8")
    for encoding in ("utf-16", "utf-32", "utf-16-le"):
        r = crm("import", "csv", str(path), "--encoding", encoding)
        assert r.exit_code == 1, r.stderr
        assert r.stderr.startswith(f"crm: error: {path} is not {encoding.replace('-le', '')}")
        assert "--encoding" in r.stderr and r.stderr.count("\n") == 1
        assert "unexpected" not in r.stderr
    r = crm("import", "csv", str(FIXTURES / "excel_de_cp1252.csv"), "--encoding", "utf-8")
    assert r.stderr.startswith("crm: error: ") and "excel_de_cp1252.csv is not utf-8" in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


def test_one_bad_row_written_is_singular(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("Name,Email\nGut,gut@example.de\nSchlecht,kein-at\n", "utf-8")
    r = crm("import", "csv", str(path), "--rejects", str(tmp_path / "bad.csv"))
    assert r.exit_code == 0, r.stderr
    assert "1 bad row written to" in r.stderr


def test_a_wrong_encoding_is_a_clear_error(crm, tmp_path):
    r = crm("import", "csv", str(FIXTURES / "excel_de_cp1252.csv"), "--encoding", "utf-8")
    assert r.exit_code == 1 and "is not utf-8" in r.stderr and "--encoding" in r.stderr
    r = crm("import", "csv", str(FIXTURES / "excel_de_cp1252.csv"), "--encoding", "klingon")
    assert r.exit_code == 2 and "unknown encoding 'klingon'" in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


def test_ragged_rows_nul_bytes_and_formula_cells(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(
        b"Name,Email,Notes\r\n"
        b"Short,short@example.de\r\n"  # fewer cells: the rest are empty
        b"Long,long@example.de,x,surplus\r\n"  # a cell too many
        b'Formel,formel@example.de,=HYPERLINK("x")\r\n'
    )
    bad = tmp_path / "bad.csv"
    r = crm("import", "csv", str(path), "--rejects", str(bad))
    assert r.exit_code == 0, r.stderr
    assert "line 3: row: has 4 cells, the header 3" in r.stderr
    got = people(crm)
    assert set(got) == {"Short", "Formel"}
    assert got["Formel"]["notes"] == '=HYPERLINK("x")'  # text, stored as it was


def test_nul_bytes_make_a_file_binary(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"Name,Email,Notes\r\nNul,nul@example.de,a\x00b\r\n")
    r = crm("import", "csv", str(path))
    assert r.exit_code == 1 and "is not a CSV file (binary data" in r.stderr


def test_utf16_without_a_bom_says_so_and_imports_with_encoding(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("Name;E-Mail\r\nJürgen;j@example.de\r\n".encode("utf-16-le"))
    r = crm("import", "csv", str(path))
    assert r.exit_code == 1 and "UTF-16 without a byte order mark" in r.stderr
    assert "--encoding" in r.stderr
    r = crm("import", "csv", str(path), "--encoding", "utf-16-le")
    assert r.exit_code == 0, r.stderr
    assert "Jürgen" in people(crm)


def test_a_huge_cell_is_a_rejected_row_not_a_crash(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("Name,Notes\nA," + "x" * 2_000_000 + "\n", encoding="utf-8")
    r = crm("import", "csv", str(path))
    assert r.exit_code == 1 and "field larger than field limit" in r.stderr


def test_activities_from_csv(crm, tmp_path):
    crm("add", "contact", "Anna", "-e", "anna@example.de")
    path = tmp_path / "anrufe.csv"
    path.write_text(
        "E-Mail;Art;Datum;Betreff;Dauer\n"
        "anna@example.de;Anruf;20.11.2026 14:00;Angebot besprochen;15 min\n"
        "niemand@example.de;Anruf;20.11.2026;x;\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "activities")
    assert r.exit_code == 1 and "no contact has the email niemand@example.de" in r.stderr
    bad = tmp_path / "bad.csv"
    r = crm("import", "csv", str(path), "--kind", "activities", "--rejects", str(bad))
    assert r.exit_code == 0 and "1 new" in r.stderr
    r = crm("import", "csv", str(path), "--kind", "activities", "--rejects", str(bad))
    assert "0 new, 0 updated, 1 unchanged, 1 rejected" in r.stderr
    timeline = crm("show", "anna", "-o", "json").json()["timeline"]
    assert [(a["kind"], a["subject"]) for a in timeline] == [("call", "Angebot besprochen")]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.sampled_from(
                [b"Name", b"E-Mail", b";", b",", b"\t", b"\r\n", b"\n", b'"', b"\x00", b"\xff",
                 b"\xef\xbb\xbf", b"\xff\xfe", b"a@b.de", b"0171 1234567", b"24.12.1980",
                 b"J\xfcrgen", b"=1+1", b"Vorname", b"Telefon", b"Firma", b"x" * 50]
            ),
            max_size=40,
        ).map(b"".join),
    )
)  # fmt: skip
def test_random_bytes_never_crash(crm, tmp_path, data):
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    r = crm("import", "csv", str(path), "--rejects", str(tmp_path / "bad.csv"))
    assert r.exit_code in (0, 1), r.stderr
    if r.exit_code == 1:
        assert r.stderr.startswith("crm: error: ") or "rejected" in r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr


def test_every_fixture_leaves_a_consistent_database(crm):
    for path in sorted(FIXTURES.glob("*.csv")):
        if path.name != "bad_rows.csv":
            imported(crm, path.name)
    r = crm("db", "check")
    assert r.exit_code == 0, r.stdout + r.stderr  # search index, cadences, foreign keys
    # Jörg Weißmüller (full Outlook) has the mobile of Jürgen Müller (Excel), not his email
    # nor his name: a nineteenth person, not a merge.
    assert len(people(crm)) == 19


@pytest.mark.parametrize("excel", [False, True])
def test_an_export_reads_back_into_a_new_database(crm, db_target, tmp_path, excel):
    """`crm export contacts` -> `crm import csv` into a new database gives the same contacts:
    every email and phone, tags, custom fields, yearless birthdays, umlauts, consent; no
    warning about the export's own columns, and a second import changes nothing."""
    from typer.testing import CliRunner

    from crmcli.cli import app

    crm("add", "contact", "Jürgen Müller", "-e", "jm@mueller-bau.de", "-p", "0351 4567890",
        "--birthday", "24.12.", "-t", "vip", "--field", "kundennr=4711")  # fmt: skip
    crm("add", "contact", "Anna Weiß", "-e", "work:anna@firma.de", "-e", "privat:anna@web.de",
        "-p", "mobil:0171 2233445", "-p", "work:030 111222", "--consent", "-t", "a b", "-t",
        "Öko", "--field", "abteilung=Süd, Nord", "--birthday", "1968-12-24",
        "-c", "Weiß & Söhne", "--city", "Köln", "--notes", "Zeile 1\nZeile 2")  # fmt: skip
    crm("add", "contact", "Nur Telefon", "-p", "+49 89 123456")
    args = ["export", "contacts"] + (["--excel"] if excel else [])
    exported = tmp_path / "c.csv"
    r = CliRunner().invoke(app, ["--db", db_target, *args])
    exported.write_bytes(r.stdout_bytes)
    if excel:
        assert exported.read_bytes().startswith(b"\xef\xbb\xbfid;name;")
    new = str(tmp_path / "new.db")

    def run(*a):
        return CliRunner().invoke(app, ["--db", new, *a])

    r = run("import", "csv", str(exported))
    assert r.exit_code == 0, r.stderr
    assert "3 new, 0 updated, 0 unchanged, 0 rejected" in r.stderr
    assert "warning" not in r.stderr, r.stderr

    def shown(rows):
        # consents: the history says where each entry came from ("import" after the import)
        skip = ("id", "created_at", "updated_at", "company_id", "last_activity_at", "consents")
        return sorted(({k: v for k, v in c.items() if k not in skip} for c in rows),
                      key=lambda c: c["name"])  # fmt: skip

    before = [crm("show", str(c["id"]), "-o", "json").json()
              for c in crm("list", "contacts", "-o", "json").json()]  # fmt: skip
    after = [json.loads(run("show", str(c["id"]), "-o", "json").stdout)
             for c in json.loads(run("list", "contacts", "-o", "json").stdout)]  # fmt: skip
    for one in before + after:  # the CSV export carries no kinds
        for item in one["emails"] + one["phones"]:
            item.pop("kind")
    assert shown(after) == shown(before)
    states = [[(s["purpose"], s["state"], s["since"]) for s in c["consents"]] for c in after]
    assert states == [[(s["purpose"], s["state"], s["since"]) for s in c["consents"]]
                      for c in before]  # fmt: skip
    anna = next(c for c in after if c["name"] == "Anna Weiß")
    assert [e["email"] for e in anna["emails"]] == ["anna@firma.de", "anna@web.de"]
    assert anna["fields"] == {"abteilung": "Süd, Nord"} and anna["tags"] == ["a b", "Öko"]
    assert next(c for c in after if c["name"] == "Jürgen Müller")["birthday"] == "--12-24"
    again = run("import", "csv", str(exported))
    assert "0 new, 0 updated, 3 unchanged, 0 rejected" in again.stderr, again.stderr


def test_reading_an_export_with_consent_back_changes_nothing(crm, db, tmp_path):
    """consent_at is stored with microseconds and exported to the second: the same moment."""
    from crmcli.models import Contact

    crm("add", "contact", "Anna Weiß", "-e", "anna@example.de", "--consent")
    stored = Contact.get().consent_at
    Contact.update(consent_at=stored.replace(microsecond=123456)).execute()
    for fmt in ("json", "csv"):
        path = tmp_path / f"s.{fmt}"
        path.write_text(crm("export", "contacts", "--format", fmt).stdout, "utf-8")
        r = crm("import", fmt, str(path), "--dry-run")
        assert r.exit_code == 0, r.stderr
        assert "0 new, 0 updated, 1 unchanged" in r.stderr, r.stderr


def test_import_json_errors_do_not_offer_rejects(crm, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"name": "Gut"}, {"name": "Schlecht", "birthday": "31.02.1970"}]', "utf-8")
    r = crm("import", "json", str(path))
    assert r.exit_code == 1 and "item 2: birthday" in r.stderr
    assert "--rejects" not in r.stderr and "fix them in the file" in r.stderr


def test_phone_book_rows_with_only_a_number(crm, tmp_path):
    path = tmp_path / "telefonbuch.csv"
    path.write_text("Telefon;Ort\r\n0171 5544332;Bonn\r\n", "utf-8")
    r = crm("import", "csv", str(path))
    assert r.exit_code == 0 and "1 new" in r.stderr, r.stderr
    assert people(crm)["0171 5544332"]["city"] == "Bonn"
    assert "1 unchanged" in crm("import", "csv", str(path)).stderr


def test_relative_words_are_no_birthday_in_imports_or_add(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("Name;Geburtstag\r\nAnna;gestern\r\n", "utf-8")
    r = crm("import", "csv", str(path))
    assert r.exit_code == 1 and "line 2: birthday: 'gestern' is relative" in r.stderr
    r = crm("add", "contact", "Anna", "--birthday", "gestern")
    assert r.exit_code != 0 and "a birthday is a calendar date" in r.stderr
    assert "today" not in r.stderr
    assert crm("list", "contacts", "-o", "json").json() == []


@pytest.mark.parametrize("kind", ["csv", "vcard", "ics", "json"])
def test_a_dry_run_makes_no_database_file(tmp_path, kind):
    """A dry run against a database that does not exist compares with an empty one and
    leaves no file behind."""
    from typer.testing import CliRunner

    from crmcli.cli import app

    files = {
        "csv": ("k.csv", "Name;E-Mail\r\nAnna Weiß;anna@example.de\r\n"),
        "vcard": ("k.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Weiß\r\nEND:VCARD\r\n"),
        "ics": ("k.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:1\r\n"
                "SUMMARY:Angebot\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"),
        "json": ("k.json", '[{"name": "Anna Weiß"}]'),
    }  # fmt: skip
    name, text = files[kind]
    source = tmp_path / name
    source.write_text(text, "utf-8")
    target = tmp_path / "neu.db"
    r = CliRunner().invoke(app, ["--db", str(target), "import", kind, str(source), "--dry-run"])
    assert r.exit_code == 0, r.stderr
    assert "1 new" in r.stderr and "created a new database" not in r.stderr
    assert list(tmp_path.iterdir()) == [source]


def test_a_failed_import_into_a_new_file_leaves_no_file(tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    bad = tmp_path / "k.csv"
    bad.write_text("Name;Geburtstag\r\nAnna;31.02.1970\r\n", "utf-8")
    target = tmp_path / "neu.db"
    r = CliRunner().invoke(app, ["--db", str(target), "import", "csv", str(bad)])
    assert r.exit_code == 1 and "nothing imported" in r.stderr
    assert "created a new database" not in r.stderr
    assert list(tmp_path.iterdir()) == [bad]
    good = tmp_path / "gut.csv"
    good.write_text("Name;Geburtstag\r\nAnna;28.02.1970\r\n", "utf-8")
    r = CliRunner().invoke(app, ["--db", str(target), "import", "csv", str(good)])
    assert r.exit_code == 0 and f"created a new database at {target}" in r.stderr
    assert target.exists()


def test_german_call_log_directions(crm, tmp_path):
    crm("add", "contact", "Anna", "-e", "anna@example.de")
    path = tmp_path / "anrufe.csv"
    path.write_text(
        "E-Mail;Art;Datum;Betreff;Richtung\n"
        "anna@example.de;Anruf;20.11.2026 14:00;eins;eingehend\n"
        "anna@example.de;Anruf;20.11.2026 15:00;zwei;Ausgehend\n"
        "anna@example.de;Anruf;20.11.2026 16:00;drei;ein\n"
        "anna@example.de;Anruf;20.11.2026 17:00;vier;outgoing\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "activities")
    assert r.exit_code == 0 and "4 new" in r.stderr, r.stderr
    got = crm("list", "activities", "-o", "json").json()
    assert {a["subject"]: a["direction"] for a in got} == {
        "eins": "in", "zwei": "out", "drei": "in", "vier": "out",
    }  # fmt: skip


def test_woocommerce_order_statistics_are_ignored_alike(crm, tmp_path):
    path = tmp_path / "woo.csv"
    path.write_text(
        "billing_first_name,billing_last_name,billing_email,order_count,total_spent\n"
        "Karin,Hoffmann,karin@example.de,3,120.50\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path))
    assert r.exit_code == 0 and "warning" not in r.stderr, r.stderr


def test_a_dry_run_of_a_dump_restores_nothing(crm, tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    crm("add", "contact", "Anna Weiß", "-e", "anna@example.de")
    dump = tmp_path / "dump.json"
    dump.write_text(crm("export", "all", "--format", "json").stdout, "utf-8")
    empty = str(tmp_path / "leer.db")
    assert CliRunner().invoke(app, ["--db", empty, "db", "migrate"]).exit_code == 0
    r = CliRunner().invoke(app, ["--db", empty, "import", "json", str(dump), "--dry-run"])
    assert r.exit_code == 0 and "Dry run, nothing written: would restore" in r.stderr, r.stderr
    listed = CliRunner().invoke(app, ["--db", empty, "list", "contacts", "-o", "json"])
    assert json.loads(listed.stdout) == []
    r = CliRunner().invoke(app, ["--db", empty, "import", "json", str(dump)])
    assert r.exit_code == 0 and "Restored" in r.stderr


def test_orders_from_a_shopify_export(crm, tmp_path):
    crm("add", "product", "KAF-500", "Kaffee 500 g", "--price", "8,90", "--vat", "7")
    path = tmp_path / "orders_export.csv"
    path.write_text(
        "Name,Email,Financial Status,Paid at,Total,Created at,Lineitem quantity,Lineitem name,"
        "Lineitem price,Lineitem sku,Billing Name,Shipping Street\n"
        "#1001,anna@example.de,paid,,31.60,2026-11-03 14:22:10 +0100,2,Kaffee,9.52,KAF-500,"
        "Anna Schmidt,Hauptstr. 1\n"
        "#1001,anna@example.de,,,,2026-11-03 14:22:10 +0100,1,Filter,7.66,,,\n"
        "#1002,bernd@example.de,paid,,5.00,2026-11-04 10:00:00 +0100,1,Tee,5.00,TEE-9,,\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 1 and "line 4: sku: no product with SKU 'TEE-9'" in r.stderr
    assert crm("list", "orders", "-o", "json").json() == []
    bad = tmp_path / "bad.csv"
    r = crm("import", "csv", str(path), "--kind", "orders", "--rejects", str(bad))
    assert r.exit_code == 0, r.stderr
    assert "1 new, 0 updated, 0 unchanged, 1 rejected, 1 new contact." in r.stderr
    assert "warning: columns" not in r.stderr  # Shopify's other columns are known
    assert "TEE-9" in bad.read_text(encoding="utf-8")
    r = crm("import", "csv", str(path), "--kind", "orders", "--rejects", str(bad), "-o", "json")
    assert (r.json()["new"], r.json()["unchanged"]) == (0, 1)
    card = crm("show", "order", "#1001", "-o", "json").json()
    assert (card["contact"], card["gross"], card["external_id"]) == (
        "Anna Schmidt",
        "26.70",
        "#1001",
    )


def test_orders_from_a_generic_table_with_german_amounts(crm, tmp_path):
    path = tmp_path / "bestellungen.csv"
    path.write_text(
        "Bestellnummer;E-Mail;Vorname;Nachname;Datum;Betrag;Status\n"
        "B-1;jm@example.de;Jürgen;Müller;02.11.2026;1.190,00;bezahlt\n",
        encoding="cp1252",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 0, r.stderr
    (order,) = crm("list", "orders", "-o", "json").json()
    assert (order["contact"], order["net"], order["vat"], order["gross"], order["status"]) == (
        "Jürgen Müller", "1000.00", "190.00", "1190.00", "paid",
    )  # fmt: skip
    r = crm("import", "csv", str(path), "--kind", "orders", "--prices", "brutto")
    assert r.exit_code == 2 and "--prices" in r.stderr


def test_shopify_discount_shipping_and_money_columns_not_imported(crm, tmp_path):
    crm("add", "product", "KAF-500", "Kaffee 500 g", "--price", "8,90", "--vat", "7")
    path = tmp_path / "sd.csv"
    path.write_text(
        "Name,Email,Financial Status,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,"
        "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount\n"
        "#1003,sd@example.de,paid,17.80,4.90,1.04,20.70,2.00,2026-11-03 14:22:10 +0100,2,"
        "Kaffee,8.90,KAF-500,0.00\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 0, r.stderr
    assert "order #1003: the file's taxes 1,04 € differ from its lines' VAT 1,35 €" in r.stderr
    assert "columns not imported: Refunded Amount" in r.stderr
    card = crm("show", "order", "#1003", "-o", "json").json()
    assert (card["gross"], card["vat"]) == ("20.70", "1.35")
    assert [ln["name"] for ln in card["lines"]] == ["Kaffee 500 g", "Versand"]


def test_an_order_given_only_a_date_shows_no_made_up_time(crm, tmp_path):
    path = tmp_path / "tage.csv"
    path.write_text("Order,Email,Total,Date\nB-1,t@example.de,5,03.11.2026\n", encoding="utf-8")
    assert crm("import", "csv", str(path), "--kind", "orders").exit_code == 0
    crm("add", "product", "TEE", "Tee", "--price", "5")
    assert crm("add", "order", "t@example.de", "--item", "TEE:1", "--at",
               "4.11.2026 14:30").exit_code == 0  # fmt: skip
    listed = crm("list", "orders").stdout
    assert "2026-11-03 " in listed and "00:00" not in listed and "2026-11-04 14:30" in listed
    assert "When:        2026-11-03\n" in crm("show", "order", "B-1").stdout
    assert crm("show", "order", "B-1", "-o", "json").json()["ordered_at"].startswith("2026-11-0")


def test_orders_in_the_advanced_order_export_layout_of_woocommerce(crm, tmp_path):
    """WooCommerce's common order export (the Advanced Order Export plugin): the customer's
    email, name, phone and address are "... (Billing)" columns, "Name" is the item's, and the
    quantity is "Quantity (- Refund)"."""
    path = tmp_path / "woo.csv"
    path.write_text(
        '"Order Number","Order Status","Order Date","First Name (Billing)","Last Name '
        '(Billing)","Company (Billing)","Address 1&2 (Billing)","City (Billing)","Postcode '
        '(Billing)","Country Code (Billing)","Email (Billing)","Phone (Billing)","Item #","SKU",'
        '"Name","Quantity (- Refund)","Item Cost","Order Shipping Amount","Order Total Amount"\n'
        '"1042","wc-completed","2026-10-05 14:22","Dörte","Weiß","","Lindenweg 3","Leipzig",'
        '"04109","DE","doerte@example.de","0341 1234567","1","","Teekanne","2","19.95","0",'
        '"39.90"\n'
        '"1043","completed","2026-10-06 09:10","Otto","Ober","","Hauptstr. 1","Köln","50667",'
        '"DE","otto@example.de","kein Telefon","1","","Tasse","1","5.00","0","5.00"\n',
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 0, r.stderr
    assert "2 new, 0 updated, 0 unchanged, 0 rejected, 2 new contacts." in r.stderr
    assert "order 1043: phone 'kein Telefon' left out (not a number)" in r.stderr
    assert "columns not imported" not in r.stderr
    doerte = crm("show", "doerte@example.de", "-o", "json").json()
    assert (doerte["name"], doerte["phone_e164"], doerte["street"], doerte["zip"]) == (
        "Dörte Weiß", "+493411234567", "Lindenweg 3", "04109",
    )  # fmt: skip
    assert (doerte["city"], doerte["country"], doerte["status"]) == ("Leipzig", "DE", "customer")
    order = crm("show", "order", "1042", "-o", "json").json()
    assert order["gross"] == "39.90"
    assert [(line["qty"], line["name"]) for line in order["lines"]] == [(2, "Teekanne")]
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert "0 new, 0 updated, 2 unchanged" in r.stderr


def test_a_shopify_order_gives_its_new_customer_the_billing_phone_and_address(crm, tmp_path):
    path = tmp_path / "orders_export.csv"
    path.write_text(
        "Name,Email,Financial Status,Total,Created at,Lineitem quantity,Lineitem name,"
        "Lineitem price,Billing Name,Billing Street,Billing City,Billing Zip,Billing Country,"
        "Billing Phone,Phone\n"
        "#1001,anna@example.de,paid,9.52,2026-11-03 14:22:10 +0100,1,Kaffee,9.52,"
        "Anna Schmidt,Hauptstr. 1,Berlin,10115,DE,+49 30 1234567,\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 0, r.stderr
    anna = crm("show", "anna@example.de", "-o", "json").json()
    assert (anna["phone_e164"], anna["street"], anna["city"], anna["zip"], anna["country"]) == (
        "+49301234567", "Hauptstr. 1", "Berlin", "10115", "DE",
    )  # fmt: skip


_WOO_ORDER = (
    "Order ID,Order Date,Order Status,Email (Billing),First Name (Billing),Last Name (Billing),"
    "Item Name,Quantity (- Refund),Item Cost\n"
    "10,2026-11-02,{status},n@n.de,Nils,Neu,Teil,{qty},10\n"
)


def test_reimporting_an_order_export_takes_over_a_changed_status(crm, tmp_path):
    """The shop refunded an order since the last export: importing the new export again
    changes the stored order's status as `crm edit order --status` does, so the VAT
    correction is dated and the customer status follows; the lines stay as priced."""
    path = tmp_path / "w.csv"
    path.write_text(_WOO_ORDER.format(status="wc-completed", qty=1), encoding="utf-8")
    assert crm("import", "csv", str(path), "--kind", "orders").exit_code == 0
    assert crm("show", "n@n.de", "-o", "json").json()["status"] == "customer"
    path.write_text(_WOO_ORDER.format(status="wc-refunded", qty=1), encoding="utf-8")
    r = crm("import", "csv", str(path), "--kind", "orders", "--on-conflict", "skip")
    assert r.exit_code == 0, r.stderr
    assert "0 new, 0 updated, 0 unchanged, 1 skipped" in r.stderr
    assert crm("show", "order", "10", "-o", "json").json()["status"] == "shipped"
    r = crm("import", "csv", str(path), "--kind", "orders", "--on-conflict", "update")
    assert r.exit_code == 0, r.stderr
    assert "0 new, 1 updated, 0 unchanged" in r.stderr
    order = crm("show", "order", "10", "-o", "json").json()
    assert (order["status"], order["gross"]) == ("returned", "10.00")
    assert crm("show", "n@n.de", "-o", "json").json()["status"] != "customer"
    from crmcli.models import OrderStatusChange

    assert [(c.old_status, c.new_status) for c in OrderStatusChange.select()] == [
        ("shipped", "returned")
    ]
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert "0 new, 0 updated, 1 unchanged" in r.stderr
    r = crm("import", "csv", str(path), "--kind", "orders", "--on-conflict", "new")
    assert r.exit_code == 2 and "orders are matched by their number" in r.stderr


def test_a_refunded_line_of_quantity_0_is_left_out_not_the_whole_file(crm, tmp_path):
    """WooCommerce's "Quantity (- Refund)" is 0 for a line refunded in full: that line is
    left out with a warning, and an order of such lines only is not imported (it sold
    nothing), while the file's other orders are."""
    path = tmp_path / "w.csv"
    path.write_text(
        _WOO_ORDER.format(status="wc-completed", qty=0)
        + "10,2026-11-02,wc-completed,n@n.de,Nils,Neu,Mutter,2,5\n"
        + "11,2026-11-03,wc-refunded,o@o.de,Olga,Alt,Teil,0,10\n"
        + "11,2026-11-03,wc-refunded,o@o.de,Olga,Alt,Mutter,0,5\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 0, r.stderr
    assert "1 new, 0 updated, 0 unchanged, 1 skipped, 0 rejected, 1 new contact." in r.stderr
    assert "order 10: 'Teil' left out, its quantity is 0 (refunded)" in r.stderr
    assert "order 11 not imported: every line's quantity is 0 (refunded)" in r.stderr
    order = crm("show", "order", "10", "-o", "json").json()
    assert [(line["qty"], line["name"]) for line in order["lines"]] == [(2, "Mutter")]
    assert order["gross"] == "10.00"
    assert crm("show", "order", "11").exit_code != 0
