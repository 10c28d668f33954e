"""`crm import vcard`, the command's own part: what it hands the import engine, what it says on
stderr, and how a broken file or wrong option ends. The engine is replaced by a recorder here;
tests/cli/test_vcard_import_db.py runs the same command against the real one."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from crmcli.services.imports import ImportResult
from crmcli.services.vcard import read_cards

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vcard"


@pytest.fixture
def engine(monkeypatch):
    """services.imports replaced by a recorder: every call's rows and options."""
    import crmcli.services

    calls: list[dict] = []

    def import_contacts(rows, **options):
        rows = list(rows)  # reading the cards happens here, as in the engine
        calls.append({"rows": rows, **options})
        named = [(w, r) for w, r in rows if r["name"]]
        refused = [(w, r, "name: is empty") for w, r in rows if not r["name"]]
        if refused and not options["keep_going"]:
            from crmcli.errors import Invalid

            raise Invalid(None, f"{refused[0][0]}: {refused[0][2]}")
        return ImportResult(new=len(named), rejected=refused, rejected_count=len(refused))

    fake = types.SimpleNamespace(import_contacts=import_contacts)
    monkeypatch.setitem(sys.modules, "crmcli.services.imports", fake)
    monkeypatch.setattr(crmcli.services, "imports", fake, raising=False)
    return calls


def test_the_cards_go_to_the_engine_with_the_default_options(crm, engine):
    r = crm("import", "vcard", str(FIXTURES / "android-2.1.vcf"))
    assert r.exit_code == 0, r.stderr
    (call,) = engine
    expected = [(where, record) for where, record, _ in read_cards(FIXTURES / "android-2.1.vcf")]
    assert call["rows"] == expected
    assert call["rows"][0][0] == "card 1 of android-2.1.vcf"
    assert call["match"] == ("email", "phone", "name")
    assert call["on_conflict"] == "update"
    assert call["dry_run"] is False and call["keep_going"] is False
    assert tuple(call["tags"]) == ()
    assert f"Imported {FIXTURES / 'android-2.1.vcf'}: 2 new, 0 updated" in r.stderr


def test_options_reach_the_engine(crm, engine):
    r = crm(
        "import", "vcard", str(FIXTURES / "several.vcf"), "--match", "email,name",
        "--on-conflict", "skip", "--tag", "messe", "-t", "2026", "--dry-run",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    (call,) = engine
    assert call["match"] == ("email", "name")
    assert call["on_conflict"] == "skip"
    assert tuple(call["tags"]) == ("messe", "2026")
    assert call["dry_run"] is True
    assert call["keep_going"] is True  # a dry run lists every reject, it does not stop
    assert "Dry run of" in r.stderr and "nothing written: 3 new" in r.stderr


def test_warnings_name_the_card_and_the_property_on_stderr(crm, engine):
    r = crm("import", "vcard", str(FIXTURES / "junk-values.vcf"), "--rejects", "/dev/null")
    assert r.exit_code == 0, r.stderr
    who = "card 1 of junk-values.vcf (Jürgen Müller)"
    assert f"crm: warning: {who}: dropped EMAIL 'not an email' (not an email address)\n" in r.stderr
    assert f"crm: warning: {who}: dropped TEL 'call me maybe' (not a phone number)\n" in r.stderr
    assert r.stdout == ""


def test_a_directory_is_read_like_a_vdir(crm, engine, tmp_path):
    for name in ("google-3.0.vcf", "khard-4.0.vcf"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    r = crm("import", "vcard", str(tmp_path))
    assert r.exit_code == 0, r.stderr
    wheres = [where for where, _ in engine[0]["rows"]]
    assert wheres == [
        "card 1 of google-3.0.vcf",
        "card 2 of google-3.0.vcf",
        "card 1 of khard-4.0.vcf",
    ]


def test_stdin(crm, engine):
    text = (FIXTURES / "several.vcf").read_text(encoding="utf-8")
    r = crm("import", "vcard", "-", input=text)
    assert r.exit_code == 0, r.stderr
    assert [rec["name"] for _, rec in engine[0]["rows"]] == [
        "Karl Meier",
        "Petra Maier",
        "Lena Meyer",
    ]


def test_stdin_that_is_not_vcard(crm, engine):
    r = crm("import", "vcard", "-", input="Name;E-Mail\n")
    assert r.exit_code == 1
    assert "crm: error: stdin: not a vCard file (line 1 is not BEGIN:VCARD)" in r.stderr


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("never-closed.vcf", "card 2 (Otto Brenner), begun on line 6, is never closed"),
        ("not-a-vcard.txt", "not a vCard file (line 1 is not BEGIN:VCARD)"),
    ],
)
def test_a_broken_file_is_one_error_and_nothing_imported(crm, engine, fixture, message):
    r = crm("import", "vcard", str(FIXTURES / fixture))
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: ") and message in r.stderr
    assert r.stderr.rstrip().endswith("nothing was imported")
    assert r.stderr.count("\n") == 1


def test_a_binary_file_is_one_error(crm, engine, tmp_path):
    path = tmp_path / "bild.vcf"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    r = crm("import", "vcard", str(path))
    assert r.exit_code == 1 and "crm: error: " in r.stderr and "not a vCard file" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_missing_file(crm, engine, tmp_path):
    r = crm("import", "vcard", str(tmp_path / "nope.vcf"))
    assert r.exit_code == 1
    assert "nope.vcf: no such file or directory" in r.stderr
    assert engine == []


@pytest.mark.parametrize(
    "args",
    [["--match", "email,zip"], ["--match", ","], ["--on-conflict", "replace"]],
    ids=["match-zip", "match-empty", "conflict"],
)
def test_wrong_options_are_usage_errors(crm, engine, args):
    r = crm("import", "vcard", str(FIXTURES / "several.vcf"), *args)
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith("crm: error: ") and engine == []


def test_a_reject_without_rejects_file_stops_the_import(crm, engine):
    r = crm("import", "vcard", str(FIXTURES / "junk-values.vcf"))
    assert r.exit_code == 1
    assert "card 2 of junk-values.vcf" in r.stderr and "nothing was imported" in r.stderr


def test_rejects_are_written_as_vcard_with_the_reason(crm, engine, tmp_path):
    out = tmp_path / "rejects.vcf"
    r = crm("import", "vcard", str(FIXTURES / "junk-values.vcf"), "--rejects", str(out))
    assert r.exit_code == 0, r.stderr
    assert "1 new" in r.stderr and "1 rejected" in r.stderr
    assert f"1 refused card, with the reasons, in {out}." in r.stderr
    text = out.read_bytes().decode("utf-8")
    assert "X-CRMCLI-REJECTED:card 2 of junk-values.vcf: name: is empty\r\n" in text
    ((_, back, _),) = read_cards(out)  # fix it and import it again
    assert back["city"] == "Bonn"
    assert back["notes"] == "Eine Karte ohne Namen, E-Mail und Telefon."


def test_a_rejects_file_that_cannot_be_written_stops_before_the_import(crm, engine, tmp_path):
    out = tmp_path / "no-such-dir" / "rejects.vcf"
    r = crm("import", "vcard", str(FIXTURES / "several.vcf"), "--rejects", str(out))
    assert r.exit_code == 1 and "cannot write there" in r.stderr
    assert engine == []


def test_help_has_an_example(crm):
    r = crm("import", "vcard", "--help")
    assert "Examples:" in r.stdout and "\n  crm import vcard contacts.vcf --dry-run\n" in r.stdout


def test_rejects_hold_each_refused_card_as_it_was_in_the_input(crm, engine, tmp_path):
    """Not a card rebuilt from what was read (its TEL gone, ADR;TYPE=HOME turned WORK, FN
    empty, one UID for every card): the bytes of the input, the reason added after BEGIN."""
    first = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nTEL;TYPE=CELL:ruf mich an\r\n"
        "ADR;TYPE=HOME:;;Ringstraße 5;Bonn;;53111;Deutschland\r\n"
        "NOTE:Eine Karte\\, lang genug um gefaltet zu werden: bitte Namen nachtragen und dann\r\n"
        "  erneut importieren.\r\nEND:VCARD\r\n"
    ).encode()
    second = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:;;;;\r\nADR;HOME:;;Weg 1;K\xf6ln;;;\r\nEND:VCARD\r\n"
    good = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Gut\r\nEMAIL:gut@example.de\r\nEND:VCARD\r\n"
    source = tmp_path / "in.vcf"
    source.write_bytes(first + good + second)
    out = tmp_path / "rejects.vcf"
    r = crm("import", "vcard", str(source), "--rejects", str(out))
    assert r.exit_code == 0, r.stderr
    assert "1 new" in r.stderr and "2 rejected" in r.stderr
    data = out.read_bytes()
    one, two = data.split(b"END:VCARD\r\n")[:2]
    assert one + b"END:VCARD\r\n" == first.replace(
        b"VCARD\r\n", b"VCARD\r\nX-CRMCLI-REJECTED:card 1 of in.vcf: name: is empty\r\n", 1
    )
    assert two + b"END:VCARD\r\n" == second.replace(
        b"VCARD\r\n", b"VCARD\r\nX-CRMCLI-REJECTED:card 3 of in.vcf: name: is empty\r\n", 1
    )
    ((_, back, _), (_, other, _)) = read_cards(out)
    assert back["city"] == "Bonn" and other["city"] == "Köln"
