"""vCard in and out (services/vcard.py): cards as Android, Apple, Google, Outlook and khard write
them become the right CONTACT RECORDs; damaged values are dropped with a warning; a file that is
not vCard or a card never closed is one Invalid; what write_cards writes reads back the same."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crmcli.errors import Invalid
from crmcli.services.vcard import read_cards, write_cards
from crmcli.services.vcard_out import fold, split_name

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vcard"


def cards(name: str) -> list[tuple[str, dict, list[str]]]:
    return list(read_cards(FIXTURES / name))


def records(name: str) -> list[dict]:
    return [record for _, record, _ in cards(name)]


def email(address, kind, primary=False):
    return {"email": address, "kind": kind, "primary": primary}


def phone(typed, e164, kind, primary=False):
    return {"phone": typed, "e164": e164, "kind": kind, "primary": primary}


# ---------------------------------------------------------------- each program's cards


def test_android_21_quoted_printable_with_soft_breaks_and_utf8_umlauts():
    found = cards("android-2.1.vcf")
    assert [where for where, _, _ in found] == [
        "card 1 of android-2.1.vcf",
        "card 2 of android-2.1.vcf",
    ]
    assert all(warnings == [] for _, _, warnings in found)  # a good photo is skipped quietly
    juergen, anna = (record for _, record, _ in found)
    assert juergen == {
        "name": "Jürgen Müller",
        "company": "Bäckerei Schön GmbH",
        "position": "Einkäufer",
        "birthday": "1968-12-24",
        "street": "Hauptstraße 5",
        "city": "Köln",
        "zip": "50667",
        "country": "Deutschland",
        "notes": "Kennt sich mit Süßwaren aus. Eine lange Notiz, die über mehr als eine Zeile "
        "hinausgeht.\nZweite Zeile.",
        "emails": [
            email("juergen.mueller@example.de", "home", True),
            email("j.mueller@baeckerei-schoen.example", "work"),
        ],
        "phones": [
            phone("+49 171 2345678", "+491712345678", "mobile"),
            phone("030 12345678", "+493012345678", "home"),
            phone("+49 30 98765432", "+493098765432", "work", True),  # TEL;WORK;VOICE;PREF
        ],
    }
    assert anna == {
        "name": "Anna Schmidt",
        "birthday": "--05-17",
        "emails": [email("anna.schmidt@example.com", "work", True)],
        "phones": [phone("0160 1234567", "+491601234567", "mobile", True)],
    }


def test_apple_item_labels_pref_work_address_and_yearless_birthday():
    bjoern, stadtwerke = records("apple-3.0.vcf")
    assert bjoern == {
        "name": "Björn Weiß",
        "company": "Müller & Söhne KG",
        "position": "Außendienst",
        "birthday": "--03-07",  # X-APPLE-OMIT-YEAR=1604:1604-03-07
        "street": "Domstraße 12, Hinterhaus",  # the work address, not the first home one
        "city": "Köln",
        "zip": "50668",
        "country": "Deutschland",
        "notes": "Trifft man auf der Messe, meistens am Stand 4.\nRückruf Dienstag.",
        "emails": [
            email("bjoern.weiss@mueller-soehne.example", "other", True),  # _$!<Other>!$_, pref
            email("bjoern@privat.example", "home"),
            email("bw@verein.example", "other"),  # own label "Verein"
        ],
        "phones": [
            phone("+49 151 23456789", "+4915123456789", "mobile", True),
            phone("0221 555666", "+49221555666", "work"),  # own label "Büro"
            phone("0221 555667", "+49221555667", "other"),  # a fax
        ],
        "fields": {
            "department": "Vertrieb",
            "region": "NRW",
            "url": "https://mueller-soehne.example",
        },
    }
    assert stadtwerke == {
        "name": "Stadtwerke Köln",  # a company card: FN is the company
        "company": "Stadtwerke Köln",
        "phones": [phone("0221 1780", "+492211780", "work", True)],
    }


def test_google_export_types_categories_and_escaped_url():
    sabine, oemer = records("google-3.0.vcf")
    assert sabine == {
        "name": "Sabine Krüger",
        "company": "Krüger Consulting",
        "position": "Geschäftsführerin",
        "birthday": "--09-30",
        "street": "Leopoldstraße 3",
        "city": "München",
        "zip": "80802",
        "country": "Deutschland",
        "notes": "Empfohlen von Herrn Weiß, Messe 2026.",
        "emails": [
            email("sabine.krueger@krueger-consulting.example", "work", True),
            email("sabine.k@example.org", "home"),
        ],
        "phones": [
            phone("+49 160 9876543", "+491609876543", "mobile", True),
            phone("+49 89 1234567", "+49891234567", "work"),
        ],
        "tags": ["Kunden", "Messe 2026"],  # not Google's own "myContacts"
        "fields": {"url": "https://krueger-consulting.example"},
    }
    assert oemer["name"] == "Ömer Yılmaz"
    assert oemer["phones"] == [phone("+90 532 123 45 67", "+905321234567", "mobile", True)]
    assert "tags" not in oemer


def test_outlook_file_in_windows_1252_with_qp_in_that_charset():
    (groesser,) = records("outlook-2.1-cp1252.vcf")
    assert groesser == {
        "name": "Jürgen Größer",
        "company": "Bäckerei Größer",
        "position": "Meister",
        "street": "Königstraße 1",
        "city": "Stuttgart",
        "zip": "70173",
        "country": "Deutschland",
        "notes": "Bestellt jeden Montag „Brötchen“ für € 12,50 netto.",
        "emails": [email("juergen@baeckerei-groesser.example", "other", True)],
        "phones": [
            phone("(0711) 123456", "+49711123456", "work", True),
            phone("0172 3456789", "+491723456789", "mobile"),
        ],
        "fields": {"department": "Verkauf", "url": "http://www.baeckerei-groesser.example"},
    }


def test_latin1_file_and_a_soft_break_before_an_indented_line():
    (jaeger,) = records("outlook-2.1-latin1.vcf")
    assert jaeger["name"] == "Françoise Jäger"
    assert jaeger["company"] == "Förderverein Überlingen e.V."
    assert jaeger["notes"] == "Spendenquittung über 50 Euro geschickt."
    assert jaeger["birthday"] == "1970-04-12"  # 19700412
    assert jaeger["phones"] == [phone("07551 98765", "+49755198765", "home", True)]


def test_khard_40_quoted_type_lists_pref_numbers_and_tel_uris():
    (hp,) = records("khard-4.0.vcf")
    assert hp == {
        "name": "Dr. Hans-Peter von Löwenstein",
        "company": "Löwenstein AG",
        "position": "Leiter Forschung",
        "birthday": "--12-24",  # --1224
        "street": "Elbchaussee 100",
        "city": "Hamburg",
        "zip": "22763",
        "country": "Deutschland",
        "notes": "Sehr lange Notiz, die khard beim Schreiben faltet, damit keine Zeile länger als "
        "fünfundsiebzig Oktette wird; Umlaute wie ä, ö, ü und das ß bleiben heil.",
        "emails": [
            email("hp@loewenstein.example", "work", True),
            email("hans-peter@example.net", "home"),
        ],
        "phones": [
            phone("+49 40 1234567", "+49401234567", "work"),  # TYPE="voice,work"
            phone("+49 176 12345678", "+4917612345678", "mobile", True),  # PREF=1
            phone("+49-40-7654321", "+49407654321", "home"),  # VALUE=uri:tel:...
        ],
        "tags": ["Kunden", "VIP"],
        "fields": {"department": "Forschung", "url": "https://loewenstein.example"},
    }


def test_several_cards_of_several_versions_one_after_another():
    found = cards("several.vcf")
    assert [(w, r["name"]) for w, r, _ in found] == [
        ("card 1 of several.vcf", "Karl Meier"),
        ("card 2 of several.vcf", "Petra Maier"),
        ("card 3 of several.vcf", "Lena Meyer"),
    ]
    assert found[2][1]["birthday"] == "1990-01-01"


# ---------------------------------------------------------------- damaged values and files


def test_damaged_values_are_dropped_with_a_warning_and_the_person_kept():
    (w1, juergen, warnings), (w2, nameless, warnings2) = cards("junk-values.vcf")
    assert juergen == {
        "name": "Jürgen Müller",
        "notes": "Die Daten kamen aus einem alten Handy.",
        "emails": [email("juergen@example.de", "home", True)],
        "phones": [phone("0221 123456", "+49221123456", "home", True)],
    }
    who = "card 1 of junk-values.vcf (Jürgen Müller)"
    assert f"{who}: dropped EMAIL 'not an email' (not an email address)" in warnings
    assert f"{who}: dropped TEL 'call me maybe' (not a phone number)" in warnings
    assert f"{who}: dropped BDAY 'sometime in spring' (not a date)" in warnings
    assert any("this line is no property at all" in w for w in warnings)
    assert len(warnings) == 4
    # No FN, N, ORG or EMAIL: no name, which the import rejects with the reason given.
    assert nameless["name"] == ""
    assert warnings2 == [f"{w2}: no name: no FN, N, ORG, EMAIL or TEL to name the person by"]


def test_a_truncated_photo_is_dropped_with_a_warning_and_the_rest_read():
    ((where, record, warnings),) = cards("truncated-photo.vcf")
    assert record["name"] == "Tobias Fischer"
    assert record["emails"] == [email("tobias.fischer@example.de", "other", True)]
    assert record["phones"][0]["e164"] == "+491759988776"
    assert warnings == [f"{where} (Tobias Fischer): dropped PHOTO (its data is damaged)"]


def test_a_card_never_closed_is_one_error_naming_it():
    with pytest.raises(Invalid, match=r"card 2 \(Otto Brenner\), begun on line 6, is never closed"):
        list(read_cards(FIXTURES / "never-closed.vcf"))


def test_a_card_cut_short_by_the_next_begin_is_never_closed():
    data = b"BEGIN:VCARD\r\nFN:Eva\r\nBEGIN:VCARD\r\nFN:Otto\r\nEND:VCARD\r\n"
    with pytest.raises(Invalid, match=r"card 1 \(Eva\).*never closed"):
        list(read_cards(data))


def test_a_file_that_is_not_vcard_is_one_clear_error():
    expected = r"not-a-vcard.txt: not a vCard file \(line 1 is not BEGIN:VCARD\)"
    with pytest.raises(Invalid, match=expected):
        list(read_cards(FIXTURES / "not-a-vcard.txt"))


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(200),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)),
        b"BEGIN:VCARD\r\nFN:x\x00y\r\nEND:VCARD\r\n",
    ],
    ids=["png", "zip", "nul-in-card"],
)
def test_a_binary_file_is_one_clear_error(tmp_path, data):
    path = tmp_path / "photo.vcf"
    path.write_bytes(data)
    with pytest.raises(Invalid, match="photo.vcf: (binary data|not a vCard file)"):
        list(read_cards(path))


def test_text_after_the_last_card_is_an_error_not_ignored():
    data = b"BEGIN:VCARD\r\nFN:Eva\r\nEND:VCARD\r\nhello\r\n"
    with pytest.raises(Invalid, match="line 4 is outside of any card"):
        list(read_cards(data))


def test_an_empty_file_has_no_cards():
    assert list(read_cards(b"")) == []
    assert list(read_cards(b"\r\n\r\n")) == []


def test_a_missing_file_is_invalid_not_an_os_error(tmp_path):
    with pytest.raises(Invalid, match="nope.vcf"):
        list(read_cards(tmp_path / "nope.vcf"))


def test_a_directory_reads_every_vcf_in_it_sorted(tmp_path):
    (tmp_path / "b.vcf").write_bytes(b"BEGIN:VCARD\r\nFN:Bea\r\nEND:VCARD\r\n")
    (tmp_path / "a.VCF").write_bytes(
        b"BEGIN:VCARD\nFN:Ada\nEND:VCARD\nBEGIN:VCARD\nFN:Ali\nEND:VCARD\n"
    )
    (tmp_path / "notes.txt").write_text("not a card")
    found = [(where, record["name"]) for where, record, _ in read_cards(tmp_path)]
    assert found == [
        ("card 1 of a.VCF", "Ada"),
        ("card 2 of a.VCF", "Ali"),
        ("card 1 of b.vcf", "Bea"),
    ]


def test_cards_are_read_one_at_a_time_not_the_whole_file_first():
    one = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person\r\nEMAIL:p@example.de\r\nEND:VCARD\r\n"
    stream = io.BytesIO(one * 5000)
    found = read_cards(stream)
    next(found)
    assert stream.tell() < 10 * len(one)  # read as far as the first card, not 350 kB
    assert sum(1 for _ in found) == 4999


def test_a_large_photo_is_skipped_quickly():
    import base64
    import time

    photo = base64.encodebytes(bytes(range(256)) * 40_000).replace(b"\n", b"\r\n ")  # 10 MB
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big Photo\r\nPHOTO;ENCODING=b;TYPE=JPEG:"
    data += photo.rstrip(b" ") + b"EMAIL:big@example.de\r\nEND:VCARD\r\n"
    started = time.perf_counter()
    ((_, record, warnings),) = read_cards(data)
    assert time.perf_counter() - started < 5
    assert record["emails"][0]["email"] == "big@example.de" and warnings == []


# ---------------------------------------------------------------- single properties


def card(*lines: str, version: str = "3.0") -> tuple[dict, list[str]]:
    text = "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])
    ((_, record, warnings),) = read_cards(text.encode("utf-8"))
    return record, warnings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1968-12-24", "1968-12-24"),
        ("19681224", "1968-12-24"),
        ("1968-12-24T00:00:00Z", "1968-12-24"),
        ("--1224", "--12-24"),
        ("--12-24", "--12-24"),
        ("--0229", "--02-29"),
        ("24.12.1968", "1968-12-24"),
        ("0000-12-24", "--12-24"),
    ],
)
def test_birthdays_with_and_without_year(value, expected):
    record, warnings = card("FN:X", f"BDAY:{value}")
    assert record["birthday"] == expected and warnings == []


@pytest.mark.parametrize("value", ["1968-13-24", "--1332", "circa 1800", "2023-02-29"])
def test_a_birthday_that_is_no_date_is_dropped_with_a_warning(value):
    record, warnings = card("FN:X", f"BDAY:{value}")
    assert "birthday" not in record
    assert warnings == [f"card 1 (X): dropped BDAY '{value}' (not a date)"]


def test_name_from_n_when_fn_is_missing_then_org_then_email():
    assert card("N:Müller;Jürgen;Karl;Dr.;", version="2.1")[0]["name"] == "Dr. Jürgen Karl Müller"
    assert card("ORG:Acme GmbH;Einkauf")[0]["name"] == "Acme GmbH"
    assert card("EMAIL:info@acme.example")[0]["name"] == "info@acme.example"


def test_escapes_in_30_and_backslashes_kept_in_21():
    record, _ = card(r"FN:Müller\, Jürgen", r"NOTE:Pfad: C:\\daten\nzweite\; Zeile")
    assert record["name"] == "Müller, Jürgen"
    assert record["notes"] == "Pfad: C:\\daten\nzweite; Zeile"
    record, _ = card("FN:X", r"NOTE:Pfad C:\Users\jm", version="2.1")
    assert record["notes"] == r"Pfad C:\Users\jm"


def test_several_categories_lines_and_urls():
    record, _ = card(
        "FN:X", "CATEGORIES:Kunde,VIP", "CATEGORIES:VIP,Presse", "URL:a.example", "URL:b.example"
    )
    assert record["tags"] == ["Kunde", "VIP", "Presse"]
    assert record["fields"] == {"url": "a.example", "url2": "b.example"}


def test_the_same_email_twice_is_kept_once_with_the_better_preference():
    record, _ = card(
        "FN:X",
        "EMAIL;TYPE=HOME:a@example.de",
        "EMAIL;TYPE=WORK:b@example.de",
        "EMAIL;TYPE=HOME,PREF:A@Example.de",
    )
    assert record["emails"] == [email("a@example.de", "home", True), email("b@example.de", "work")]


def test_pref_numbers_choose_the_primary_lowest_first():
    record, _ = card(
        "FN:X",
        "TEL;TYPE=work;PREF=50:+49 30 111111",
        "TEL;TYPE=home;PREF=2:+49 30 222222",
        "TEL;TYPE=cell:+49 171 3333333",
        version="4.0",
    )
    assert [p["primary"] for p in record["phones"]] == [False, True, False]


def test_an_untyped_mobile_number_is_mobile_and_a_landline_other():
    record, _ = card("FN:X", "TEL:0171 2345678", "TEL:030 1234567", version="2.1")
    assert [p["kind"] for p in record["phones"]] == ["mobile", "other"]


def test_org_with_only_a_department_and_an_address_labelled_work():
    record, _ = card(
        "FN:X", "ORG:;Vertrieb", "ADR;TYPE=HOME:;;Weg 1;Bonn;;53111;",
        "item2.ADR:;;Allee 2;Köln;;50667;", "item2.X-ABLabel:_$!<Work>!$_",
    )  # fmt: skip
    assert "company" not in record and record["fields"] == {"department": "Vertrieb"}
    assert record["street"] == "Allee 2" and record["city"] == "Köln"


def test_cards_are_written_as_they_come():
    out = io.StringIO(newline="")
    seen = []

    def records():
        for name in ("Eins", "Zwei"):
            seen.append(out.getvalue().count("BEGIN:VCARD"))
            yield {"name": name}

    assert write_cards(records(), out) == 2
    assert seen == [0, 1]  # the first card was out before the second record was read


def test_a_value_that_cannot_be_decoded_is_dropped_with_a_warning():
    record, warnings = card("FN:X", "NOTE;ENCODING=b:!!!notbase64", "TITLE:Chef")
    assert record == {"name": "X", "position": "Chef"}
    assert warnings == ["card 1 (X): dropped NOTE (its value cannot be decoded)"]


def test_unknown_properties_are_ignored():
    record, warnings = card("FN:X", "ADDRESS:x", "DONE:y", "X-ANDROID-CUSTOM:z", "IMPP:xmpp:a@b")
    assert record == {"name": "X"} and warnings == []


def test_an_unknown_charset_falls_back_to_the_fixed_rules():
    record, warnings = card(
        "N;CHARSET=x-unknown;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Jo", version="2.1"
    )
    assert record["name"] == "Jo Müller" and warnings == []


def test_utf16_file_with_a_bom():
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jürgen Müller\r\nEND:VCARD\r\n"
    ((_, record, _),) = read_cards(text.encode("utf-16"))
    assert record["name"] == "Jürgen Müller"


def test_utf16_without_a_bom_and_dos_end_of_file_mark():
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jürgen Müller\r\nEND:VCARD\r\n"
    ((_, record, _),) = read_cards(text.encode("utf-16-le"))
    assert record["name"] == "Jürgen Müller"
    ((_, record, _),) = read_cards(text.encode("cp1252") + b"\x1a")
    assert record["name"] == "Jürgen Müller"


def test_a_phone_known_only_as_e164_is_written():
    text = written([{"name": "X", "phones": [{"e164": "+4930123456", "kind": "work"}]}])
    assert "TEL;TYPE=WORK,VOICE:+4930123456\r\n" in text


def test_a_utf8_bom_and_a_fold_inside_a_utf8_character():
    data = (
        "\ufeffBEGIN:VCARD\r\nVERSION:3.0\r\nFN:J".encode() + b"\xc3\r\n \xbcrgen\r\nEND:VCARD\r\n"
    )
    ((_, record, _),) = read_cards(data)
    assert record["name"] == "Jürgen"


def test_an_agent_card_inside_a_21_card_is_skipped():
    record, _ = card(
        "FN:Chefin", "AGENT:", "BEGIN:VCARD", "VERSION:2.1", "FN:Assistent", "END:VCARD",
        "EMAIL:chefin@example.de", version="2.1",
    )  # fmt: skip
    assert record["name"] == "Chefin" and record["emails"][0]["email"] == "chefin@example.de"


# ---------------------------------------------------------------- writing


FULL = {
    "id": 42,
    "name": "Dr. Jürgen von Müller",
    "emails": [
        {"email": "j.mueller@firma.example", "kind": "work", "primary": True},
        {"email": "juergen@privat.example", "kind": "home", "primary": False},
        {"email": "jm@handy.example", "kind": "mobile", "primary": False},
        {"email": "jm@other.example", "kind": "other", "primary": False},
    ],
    "phones": [
        {"phone": "0171 2345678", "e164": "+491712345678", "kind": "mobile", "primary": False},
        {"phone": "+49 221 123456", "e164": "+49221123456", "kind": "work", "primary": True},
        {"phone": "030 7654321", "e164": "+49307654321", "kind": "home", "primary": False},
        {"phone": "089 111222", "e164": "+4989111222", "kind": "other", "primary": False},
    ],
    "company": "Müller; Söhne, & Co. KG",
    "position": "Geschäftsführer",
    "street": "Hauptstraße 1",
    "zip": "01067",
    "city": "Dresden",
    "country": "Deutschland",
    "birthday": "1968-12-24",
    "notes": "Erste Zeile\nZweite Zeile mit \\ Backslash, Komma; Semikolon\n" + "ü" * 120,
    "tags": ["Kunde", "Messe, 2026", "VIP"],
    "fields": {"url": "https://mueller.example", "department": "Einkauf", "region": "Sachsen"},
}
READ_KEYS = ("name", "emails", "phones", "company", "position", "street", "zip", "city",
             "country", "birthday", "notes", "tags", "fields")  # fmt: skip


def written(records, version="3.0", **kw) -> str:
    out = io.StringIO(newline="")
    assert write_cards(records, out, version=version, **kw) == len(records)
    return out.getvalue()


def read_back(text: str) -> list[dict]:
    return [record for _, record, _ in read_cards(text.encode("utf-8"))]


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip_of_a_full_record(version):
    (back,) = read_back(written([FULL], version))
    assert back == {key: FULL[key] for key in READ_KEYS}


@pytest.mark.parametrize("version", ["3.0", "4.0"])
@pytest.mark.parametrize(
    "fixture",
    ["android-2.1.vcf", "apple-3.0.vcf", "google-3.0.vcf", "outlook-2.1-cp1252.vcf",
     "khard-4.0.vcf", "several.vcf"],
)  # fmt: skip
def test_round_trip_of_every_fixture(fixture, version):
    originals = records(fixture)
    assert read_back(written(originals, version)) == originals


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_yearless_birthdays_round_trip_from_a_date_and_from_text(version):
    from crmcli.values import YearlessDate

    expected = "--1224" if version == "4.0" else "--12-24"
    for birthday in (YearlessDate(1604, 12, 24), "--12-24", "24.12."):
        text = written([{"name": "X", "birthday": birthday}], version)
        assert f"BDAY:{expected}\r\n" in text
        assert read_back(text)[0]["birthday"] == "--12-24"
    text = written([{"name": "X", "birthday": date(1968, 12, 24)}], version)
    assert read_back(text)[0]["birthday"] == "1968-12-24"


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_vobject_reads_our_output(version):
    import vobject

    others = [
        {"id": 7, "name": "Anna Schmidt", "birthday": "--05-17"},
        {"id": 8, "name": "Stadtwerke Köln", "company": "Stadtwerke Köln"},
    ]
    text = written([FULL, *others], version)
    first, second, third = list(vobject.readComponents(text))
    assert second.bday.value in ("--05-17", "--0517")
    assert third.fn.value == "Stadtwerke Köln" and third.org.value == ["Stadtwerke Köln"]
    assert first.fn.value == "Dr. Jürgen von Müller"
    assert first.n.value.family == "von Müller" and first.n.value.given == "Jürgen"
    assert first.n.value.prefix == "Dr."
    assert [e.value for e in first.email_list] == [e["email"] for e in FULL["emails"]]
    assert [t.value for t in first.tel_list] == [p["phone"] for p in FULL["phones"]]
    assert first.org.value == ["Müller; Söhne, & Co. KG", "Einkauf"]
    assert first.note.value == FULL["notes"]
    assert first.categories.value == FULL["tags"]
    assert first.adr.value.street == "Hauptstraße 1" and first.adr.value.code == "01067"
    assert first.uid.value == "crmcli-contact-42@crmcli"
    assert second.fn.value == "Anna Schmidt" and second.uid.value == "crmcli-contact-7@crmcli"
    pref = [e for e in first.email_list if "PREF" in str(e.params).upper()]
    assert [e.value for e in pref] == ["j.mueller@firma.example"]


def test_lines_are_crlf_and_folded_at_75_octets_never_inside_a_character():
    text = written([FULL])
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert "\r\n " in text  # the long note was folded
    unfolded = text.replace("\r\n ", "")
    assert "NOTE:Erste Zeile\\nZweite Zeile mit \\\\ Backslash\\, Komma\\; Semikolon\\n" in unfolded


def test_fold_counts_octets():
    line = "NOTE:" + "€" * 40  # 5 + 120 octets
    pieces = fold(line).split("\r\n ")
    assert "".join(pieces) == line
    assert all(len(p.encode()) <= 75 for p in pieces) and len(pieces[0].encode()) >= 73


def test_uid_is_stable_and_rev_is_the_update_time():
    record = {"id": 3, "name": "X", "updated_at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC)}
    text = written([record], uid_domain="crm.example")
    assert "UID:crmcli-contact-3@crm.example\r\n" in text
    assert "REV:20261123T093000Z\r\n" in text
    assert written([{"name": "Y"}]) == written([{"name": "Y"}])  # no id: still the same UID


def test_a_company_contact_is_written_as_a_company_card():
    text = written([{"name": "Stadtwerke Köln", "company": "Stadtwerke Köln"}])
    assert "N:;;;;\r\n" in text and "X-ABShowAs:COMPANY\r\n" in text
    assert read_back(text)[0]["name"] == "Stadtwerke Köln"


@pytest.mark.parametrize(
    ("name", "n"),
    [
        ("Jürgen Müller", ("Müller", "Jürgen", "", "", "")),
        ("Dr. Jürgen Müller", ("Müller", "Jürgen", "", "Dr.", "")),
        ("Prof. Dr. Hans Peter Meier", ("Meier", "Hans", "Peter", "Prof. Dr.", "")),
        ("Hans von der Heide", ("von der Heide", "Hans", "", "", "")),
        ("Martin Luther King Jr.", ("King", "Martin", "Luther", "", "Jr.")),
        ("Cher", ("Cher", "", "", "", "")),
    ],
)
def test_n_is_split_sensibly_from_the_name(name, n):
    assert split_name(name) == n


def test_an_unknown_version_is_refused():
    with pytest.raises(Invalid, match="choose 3.0 or 4.0"):
        write_cards([], io.StringIO(), version="2.1")


def test_control_characters_never_reach_the_file():
    text = written([{"name": "Eva\x1b[31m Rot", "notes": "a\x00b\rc"}])
    assert "\x1b" not in text and "\x00" not in text
    assert re.search(r"NOTE:ab\\nc\r\n", text)
