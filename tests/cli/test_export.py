"""crm export and crm import json at the command line: formats, spreadsheet-safe CSV, --excel,
atomic files, formats refused per kind, hostile JSON, closed pipes, streamed lists."""

from __future__ import annotations

import csv
import io
import json
import stat
import subprocess
import sys

import pytest

from tests.cli.test_pipes import run_into_closed_pipe


@pytest.fixture
def people(crm):
    crm("add", "campaign", "Herbst", "--keyword", "kaffee")
    crm("add", "contact", "Anna Müller", "-e", "anna@firma.de", "-p", "0221 123456",
        "--company", "Bäckerei Schmidt", "--city", "Köln", "-t", "vip", "-f", "kdnr=4711",
        "--birthday", "24.12.", "--campaign", "herbst", "--keyword", "kaffee")  # fmt: skip
    crm("add", "contact", '=HYPERLINK("http://evil")', "--notes", "-3-1", "-e", "x@y.de")
    crm("add", "contact", "Carl Clean", "--notes", "+49 221 999")
    return crm


def rows_of(text: str, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_contacts_csv_is_flat_and_spreadsheet_safe(people):
    r = people("export", "contacts")
    assert r.exit_code == 0, r.stderr
    rows = rows_of(r.stdout)
    header = r.stdout.splitlines()[0].split(",")
    assert header[:6] == ["id", "name", "email", "phone", "emails", "phones"]
    assert "field:kdnr" in header and "tags" in header
    anna = next(row for row in rows if row["name"] == "Anna Müller")
    assert anna["email"] == "anna@firma.de" and anna["emails"] == "anna@firma.de"
    assert anna["company"] == "Bäckerei Schmidt" and anna["tags"] == "vip"
    assert anna["field:kdnr"] == "4711" and anna["birthday"] == "'--12-24"
    assert (anna["campaign"], anna["keyword"]) == ("Herbst", "kaffee")
    evil = next(row for row in rows if "HYPERLINK" in row["name"])
    assert evil["name"].startswith("'=") and evil["notes"] == "'-3-1"
    carl = next(row for row in rows if row["name"] == "Carl Clean")
    assert carl["notes"] == "'+49 221 999"


def test_a_plain_negative_amount_stays_a_number(crm):
    from crmcli.output import _csv_cell, _excel_cell

    assert _csv_cell("-3") == "-3" and _csv_cell("-12,50") == "-12,50"
    assert _csv_cell("+4922112345") == "+4922112345"
    for risky in ("=1+1", "+1+1", "-1-1", "@SUM(A1)", "\tx", "\rx", "- 3", "-3 ", "+49 221"):
        assert _csv_cell(risky) == "'" + risky
    from decimal import Decimal

    assert _excel_cell(Decimal("-12.50")) == "-12,50"


def test_header_is_the_same_with_or_without_rows(people):
    full = people("export", "contacts").stdout.splitlines()[0]
    none = people("export", "contacts", "--tag", "nobody-has-this").stdout
    assert none.splitlines() == [full]
    deals_header = people("export", "deals").stdout
    assert deals_header.startswith("id,title,stage_id")


def test_excel_csv_for_german_excel(people, tmp_path):
    target = tmp_path / "kontakte.csv"
    r = people("export", "contacts", "--excel", "-o", str(target))
    assert r.exit_code == 0, r.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b";" in data.split(b"\r\n")[0]
    rows = rows_of(data.decode("utf-8-sig"), ";")
    assert any(row["name"] == "Anna Müller" for row in rows)
    assert "Exported 3 contacts to" in r.stderr


def test_excel_writes_amounts_with_a_decimal_comma(crm):
    crm("add", "contact", "Kunde")
    crm("add", "deal", "Großauftrag", "--contact", "Kunde", "--amount", "1.234,50")
    r = crm("export", "deals", "--excel")
    row = rows_of(r.stdout.lstrip("\ufeff"), ";")[0]
    assert row["amount"] == "1234,50"
    plain = rows_of(crm("export", "deals").stdout)[0]
    assert plain["amount"] == "1234.50"


def test_json_and_jsonl_are_contact_records(people):
    records = people("export", "contacts", "--format", "json").json()
    assert [r["name"] for r in records][0] == "Anna Müller"
    anna = records[0]
    assert anna["emails"] == [{"email": "anna@firma.de", "kind": "other", "primary": True}]
    assert anna["fields"] == {"kdnr": "4711"} and anna["tags"] == ["vip"]
    lines = people("export", "contacts", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["name"] for line in lines] == [r["name"] for r in records]
    assert people("export", "contacts", "--format", "json", "--tag", "none").json() == []


def test_every_kind_exports(crm):
    crm("add", "contact", "Anna", "-e", "a@b.de")
    crm("add", "company", "Firma")
    crm("add", "task", "Anrufen", "--due", "morgen")
    crm("log", "call", "Anna", "-m", "Hallo")
    crm("add", "deal", "Deal", "--contact", "Anna", "--amount", "100")
    for kind, key in [("companies", "name"), ("tasks", "title"), ("activities", "kind"),
                      ("deals", "title")]:  # fmt: skip
        r = crm("export", kind, "--format", "jsonl")
        assert r.exit_code == 0, (kind, r.stderr)
        assert len(r.stdout.splitlines()) == 1 and key in json.loads(r.stdout)
        assert crm("export", kind).stdout.startswith("id,")


def test_filters_are_those_of_list(people):
    r = people("export", "contacts", "--tag", "vip", "--format", "jsonl")
    assert [json.loads(line)["name"] for line in r.stdout.splitlines()] == ["Anna Müller"]
    assert (
        people("export", "contacts", "--city", "koeln", "--format", "jsonl").stdout.count("\n") == 1
    )
    bad = people("export", "contacts", "--status", "nonsense")
    assert bad.exit_code == 1 and bad.stdout == "" and "crm: error:" in bad.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("companies", "--format", "vcf"), "cannot be exported as vcf"),
        (("companies", "--format", "ics"), "cannot be exported as ics"),
        (("all", "--format", "csv"), "cannot be exported as csv"),
        (("contacts", "--format", "json", "--excel"), "--excel is for CSV"),
        (("contacts", "--format", "vcf", "--vcard-version", "2.1"), "3.0 or 4.0"),
        (("contacts", "--format", "ics", "--tag", "vip"), "--format ics takes no --tag"),
        (("deals", "--format", "ics", "--won"), "takes no --open/--won/--lost"),
        (("tasks", "--format", "ics", "--priority", "high"), "takes no --priority"),
    ],
)
def test_formats_that_do_not_fit_are_refused(crm, args, says):
    crm("add", "contact", "Anna")
    r = crm("export", *args)
    assert r.exit_code != 0 and r.stdout == ""
    assert says in r.stderr and "Traceback" not in r.stderr


def test_the_output_files_name_chooses_the_format(people, tmp_path):
    """Without --format, -o kunden.vcf writes vCards (not CSV under a .vcf name); --format
    still wins; a spreadsheet's own format is refused and nothing is written."""
    assert people("export", "contacts", "-o", str(tmp_path / "k.vcf")).exit_code == 0
    assert (tmp_path / "k.vcf").read_text().startswith("BEGIN:VCARD")
    assert people("export", "contacts", "-o", str(tmp_path / "k.jsonl")).exit_code == 0
    assert len((tmp_path / "k.jsonl").read_text().splitlines()) == 3
    assert people("export", "tasks", "-o", str(tmp_path / "t.ics")).exit_code == 0
    assert (tmp_path / "t.ics").read_text().startswith("BEGIN:VCALENDAR")
    assert people("export", "all", "-o", str(tmp_path / "all.json")).exit_code == 0
    assert (
        people("export", "contacts", "--format", "csv", "-o", str(tmp_path / "c.vcf")).exit_code
        == 0
    )
    assert (tmp_path / "c.vcf").read_text().startswith("id,")
    r = people("export", "contacts", "-o", str(tmp_path / "k.xlsx"))
    assert r.exit_code == 1 and "does not write .xlsx files" in r.stderr
    assert not (tmp_path / "k.xlsx").exists()
    r = people("export", "companies", "-o", str(tmp_path / "f.vcf"))
    assert r.exit_code != 0 and "cannot be exported as vcf" in r.stderr


def test_output_file_is_written_atomically_and_private(people, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    target.chmod(0o644)
    r = people("export", "contacts", "--format", "jsonl", "-o", str(target))
    assert r.exit_code == 0 and r.stdout == ""
    assert len(target.read_text().splitlines()) == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert {p.name for p in tmp_path.iterdir()} - {"crm.db"} == {"out.jsonl"}  # no temporary file


def test_a_failed_export_keeps_the_old_file(people, tmp_path, monkeypatch):
    from crmcli.services import exports

    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def failing(**filters):
        def rows():
            yield from real(**filters)
            raise OSError(28, "No space left on device")

        return rows()

    real = exports.contact_records
    monkeypatch.setattr(exports, "contact_records", failing)
    r = people("export", "contacts", "-o", str(target))
    assert r.exit_code == 1 and "No space left" in r.stderr
    assert target.read_text() == "old\n"
    assert {p.name for p in tmp_path.iterdir()} - {"crm.db"} == {"out.csv"}  # no temporary file


def test_vcf_and_ics_call_the_writers(people, monkeypatch):
    import types

    calls = {}

    def write_cards(records, out, *, version="3.0"):
        records = list(records)
        calls["vcf"] = (version, [r["name"] for r in records])
        out.write("BEGIN:VCARD\r\n")
        return len(records)

    def export_calendar(out, *, what=(), **filters):
        calls["ics"] = (tuple(what), filters)
        out.write("BEGIN:VCALENDAR\r\n")
        return 0

    monkeypatch.setitem(sys.modules, "crmcli.services.vcard",
                        types.SimpleNamespace(write_cards=write_cards))  # fmt: skip
    monkeypatch.setitem(sys.modules, "crmcli.services.ical",
                        types.SimpleNamespace(export_calendar=export_calendar))  # fmt: skip
    import crmcli.services as services

    monkeypatch.setattr(services, "vcard", sys.modules["crmcli.services.vcard"], raising=False)
    monkeypatch.setattr(services, "ical", sys.modules["crmcli.services.ical"], raising=False)
    r = people("export", "contacts", "--format", "vcf", "--vcard-version", "4.0", "-t", "vip")
    assert r.exit_code == 0 and r.stdout.startswith("BEGIN:VCARD")
    assert calls["vcf"] == ("4.0", ["Anna Müller"])
    assert people("export", "tasks", "--format", "ics").exit_code == 0
    assert calls["ics"][0] == ("tasks",)
    assert people("export", "all", "--format", "ics").exit_code == 0
    assert calls["ics"][0] == ("tasks", "birthdays", "deals", "followups")


# ---------------------------------------------------------------- dump and restore


def test_export_all_and_import_json_into_a_new_database(crm, tmp_path):
    crm("demo", "--contacts", "30")
    dump = tmp_path / "dump.json"
    r = crm("export", "all", "-o", str(dump))
    assert r.exit_code == 0, r.stderr
    header = json.loads(dump.read_text())
    assert header["format"] == "crmcli-dump" and header["schema_version"] >= 9
    from typer.testing import CliRunner

    from crmcli.cli import app

    new = tmp_path / "new.db"
    result = CliRunner().invoke(app, ["--db", str(new), "import", "json", str(dump)])
    assert result.exit_code == 0, result.stderr
    assert "Restored" in result.stderr
    listed = CliRunner().invoke(app, ["--db", str(new), "list", "contacts", "-o", "json"])
    assert listed.exit_code == 0
    assert json.loads(listed.stdout) == crm("list", "contacts", "-o", "json").json()
    again = CliRunner().invoke(app, ["--db", str(new), "import", "json", str(dump)])
    assert again.exit_code == 1 and "not empty" in again.stderr
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + dump.read_bytes())
    other = tmp_path / "other.db"
    result = CliRunner().invoke(app, ["--db", str(other), "import", "json", str(bom)])
    assert result.exit_code == 0, result.stderr
    # A dump cut down by hand (its contacts taken out): one error naming a table, nothing kept.
    cut = json.loads(dump.read_text())
    cut["tables"] = [t for t in cut["tables"] if t["name"] != "contact"]
    (tmp_path / "cut.json").write_text(json.dumps(cut))
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "cut.db"), "import", "json",
                                      str(tmp_path / "cut.json")])  # fmt: skip
    assert result.exit_code == 1
    assert "of the dump does not fit the others" in result.stderr, result.stderr
    assert "unexpected" not in result.stderr and not (tmp_path / "cut.db").exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"name,email\nAnna,a@b.de\n", "is not a crm JSON export"),
        (b"\x00\x01\x02binary\xff", "binary file"),
        (b"", "empty"),
        (b'{"format": "crmcli-dump", "schema_version": 99, "tables": []}', "newer crm"),
        (b'{"format": "crmcli-dump", "format_version": 99, "schema_version": 1, "tables": []}',
         "format version 99 (this version reads 1): upgrade crm"),
        (b'{"format": "crmcli-dump", "format_version": "x", "tables": []}', "format version x"),
        (b'{"format": "crmcli-dump", "schema_version": 9, "tables": [{"name": "tag", "col',
         "not valid JSON"),
        (b'{"format": "crmcli-dump", "schema_version": 9, "tables": [}', "not valid JSON"),
        (b'{"a": 1}', "not a crm dump"),
        pytest.param(b"[1, 2]", "not a contact record"),
        ('{"format": "crmcli-dump", "x": "\xe4"}'.encode("latin-1"), "not valid JSON"),
    ],
)  # fmt: skip
def test_hostile_json_is_one_clear_error_and_writes_nothing(tmp_path, content, says):
    from typer.testing import CliRunner

    from crmcli.cli import app

    path = tmp_path / "in.json"
    path.write_bytes(content)
    target = tmp_path / "new.db"
    r = CliRunner().invoke(app, ["--db", str(target), "import", "json", str(path)])
    assert r.exit_code == 1, r.stdout
    error = r.stderr.strip().splitlines()[-1]
    assert error.startswith("crm: error:") and says in error, r.stderr
    assert [ln for ln in r.stderr.splitlines() if "error" in ln] == [error]
    if target.exists():
        import sqlite3

        conn = sqlite3.connect(target)
        assert conn.execute("SELECT COUNT(*) FROM contact").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM stage").fetchone()[0] > 0
        conn.close()


def test_an_array_of_contact_records_goes_through_the_import_engine(crm, tmp_path):
    crm("add", "contact", "Anna Müller", "-e", "anna@firma.de", "-t", "vip")
    exported = tmp_path / "kontakte.json"
    assert crm("export", "contacts", "--format", "json", "-o", str(exported)).exit_code == 0
    data = json.loads(exported.read_text())
    data.append({"name": "Bernd Neu", "emails": [{"email": "b@neu.de", "kind": "work",
                                                  "primary": True}]})  # fmt: skip
    exported.write_text(json.dumps(data))
    r = crm("import", "json", str(exported))
    assert r.exit_code == 0, r.stderr
    assert "1 new" in r.stderr and "1 unchanged" in r.stderr
    names = [c["name"] for c in crm("list", "contacts", "-o", "json").json()]
    assert names == ["Anna Müller", "Bernd Neu"]
    lines = tmp_path / "kontakte.jsonl"
    assert crm("export", "contacts", "--format", "jsonl", "-o", str(lines)).exit_code == 0
    again = crm("import", "json", str(lines))
    assert again.exit_code == 0 and "2 unchanged" in again.stderr, again.stderr


# ---------------------------------------------------------------- pipes and streaming


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_into_a_closed_pipe_is_quiet(crm, db_target, fmt):
    for i in range(3):
        crm("add", "contact", f"Person {i}")
    r = run_into_closed_pipe(db_target, "export", "contacts", "--format", fmt)
    assert (r.returncode, r.stderr) == (0, "")


def test_export_piped_into_head(crm, db_target):
    for i in range(3):
        crm("add", "contact", f"Person {i}")
    script = (
        f"set -o pipefail; {sys.executable} -c 'from crmcli.cli import main; main()' "
        f"--db '{db_target}' export contacts | head -1"
    )
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("id,name,email")


@pytest.mark.parametrize("kind", ["contacts", "companies", "deals", "tasks", "activities"])
@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_lists_stream_their_rows(crm, monkeypatch, kind, fmt):
    """A machine-readable list hands render_rows an iterator, never a list of every row."""
    from crmcli.commands import listing

    seen = {}
    real = listing.render_rows

    def spy(rows, *args, **kwargs):
        seen["type"] = type(rows)
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(listing, "render_rows", spy)
    r = crm("list", kind, "-o", fmt)
    assert r.exit_code == 0, r.stderr
    assert seen["type"] is not list


@pytest.mark.parametrize(
    "prefix",
    [b"", b'{"format": "crmcli-dump", "schema_version": 9, "tables": [{"name": "tag", '],
    ids=["bytes", "inside a dump"],
)
def test_random_bytes_never_raise_a_traceback(tmp_path, prefix):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from typer.testing import CliRunner

    from crmcli.cli import app

    source = tmp_path / "fuzz.json"
    target = tmp_path / "fuzz.db"

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=300))
    def check(data):
        source.write_bytes(prefix + data)
        r = CliRunner().invoke(app, ["--db", str(target), "import", "json", str(source)])
        assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit)
        assert r.exit_code in (0, 1), r.stderr
        if r.exit_code == 1:
            assert r.stderr.strip().splitlines()[-1].startswith("crm: error:"), r.stderr
            assert "Traceback" not in r.stderr and "unexpected" not in r.stderr, r.stderr
        if target.exists():
            import sqlite3

            conn = sqlite3.connect(target)
            empty = conn.execute("SELECT COUNT(*) FROM tag").fetchone() == (0,)
            conn.close()
            if not empty:  # a valid dump landed: start the next example afresh
                for leftover in tmp_path.glob("fuzz.db*"):
                    leftover.unlink()

    check()


def test_the_note_names_what_was_exported(people, tmp_path):
    import re

    for kind, noun in (("contacts", "contact"), ("companies", "compan"), ("tasks", "task")):
        r = people("export", kind, "-o", str(tmp_path / f"{kind}.csv"))
        assert r.exit_code == 0, r.stderr
        assert re.search(rf"Exported \d+ {noun}\w* to ", r.stderr), r.stderr
    r = people("export", "all", "-o", str(tmp_path / "all.json"))
    assert re.search(r"Exported [\d,]+ rows of \d+ tables to ", r.stderr), r.stderr


def test_a_file_in_a_missing_directory_is_named_as_given(people, tmp_path):
    target = tmp_path / "nodir" / "x.csv"
    r = people("export", "contacts", "-o", str(target))
    assert r.exit_code == 1
    assert f"{target}: no such directory" in r.stderr and ".tmp" not in r.stderr


def test_csv_export_and_import_keep_kinds_and_campaign(crm, tmp_path):
    """What crm export contacts writes, crm import csv reads back: each email's and phone's
    kind (email_kinds, phone_kinds), campaign and keyword."""
    crm("add", "campaign", "Herbst", "--keyword", "kaffee")
    crm("add", "contact", "Eva Roth", "-e", "home:eva@x.de", "-e", "work:eva@firma.de",
        "-p", "mobil:0171 1234567", "-p", "home:0221 555", "--campaign", "herbst",
        "--keyword", "kaffee")  # fmt: skip
    path = tmp_path / "k.csv"
    assert crm("export", "contacts", "-o", str(path)).exit_code == 0
    row = rows_of(path.read_text(encoding="utf-8-sig"))[0]
    assert (row["email_kinds"], row["phone_kinds"]) == ("home ::: work", "mobile ::: home")
    assert crm("delete", "eva", "--yes").exit_code == 0
    assert crm("delete", "campaign", "herbst", "--yes").exit_code == 0
    r = crm("import", "csv", str(path))
    assert r.exit_code == 0 and "not imported" not in r.stderr, r.stderr
    eva = crm("show", "eva", "-o", "json").json()
    assert [(e["email"], e["kind"]) for e in eva["emails"]] == [
        ("eva@x.de", "home"), ("eva@firma.de", "work"),
    ]  # fmt: skip
    assert [(p["phone"], p["kind"]) for p in eva["phones"]] == [
        ("0171 1234567", "mobile"), ("0221 555", "home"),
    ]  # fmt: skip
    assert (eva["campaign"], eva["keyword"]) == ("Herbst", "kaffee")


def test_export_all_help_names_its_own_default_format(crm):
    r = crm("export", "all", "--help")
    text = " ".join(r.stdout.split())
    assert "else json" in text and "else csv" not in text


@pytest.mark.parametrize("kind", ["contacts", "companies"])
def test_an_export_of_a_tag_nobody_has_warns_as_the_list_does(people, kind):
    """A misspelt tag exports nothing: said as `crm list` says it, the export still done."""
    warning = "no tag 'nosuch' exists, so nobody has it (crm list tags shows the tags)"
    listed = people("list", kind, "--tag", "nosuch")
    assert warning in listed.stderr
    r = people("export", kind, "--tag", "nosuch")
    assert r.exit_code == 0, r.stderr
    assert warning in r.stderr
    assert len(rows_of(r.stdout)) == 0
    r = people("export", kind, "--tag", "vip")
    assert "no tag" not in r.stderr


def test_output_through_a_symbolic_link_replaces_the_file_it_names(people, tmp_path):
    """A calendar app may be subscribed to the link or to the file: both stay what they are,
    the file gets the new export."""
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    r = people("export", "contacts", "-o", str(link))
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and "Anna Müller" in real.read_text()


def test_output_into_a_fifo_writes_into_it(people, tmp_path):
    """A FIFO (or /dev/null, /dev/stdout) is written into; a rename would put a plain file
    in its place."""
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    r = people("export", "contacts", "--format", "jsonl", "-o", str(fifo))
    reader.join(10)
    assert r.exit_code == 0, r.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(got[0].splitlines()) == 3


@pytest.mark.sqlite_only
@pytest.mark.parametrize("end", ["", "-wal"])
def test_output_over_the_database_is_refused(people, db_target, end):
    from pathlib import Path

    before = Path(db_target).read_bytes()[:16]
    for args in (["contacts"], ["all"]):
        r = people("export", *args, "-o", db_target + end)
        assert r.exit_code == 1 and "is the database crm works on" in r.stderr
    assert Path(db_target).read_bytes()[:16] == before == b"SQLite format 3\x00"
    assert people("list", "contacts").exit_code == 0


def test_an_unwritable_directory_is_named_not_the_temporary_file(people, tmp_path, monkeypatch):
    import tempfile

    def denied(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    r = people("export", "contacts", "-o", str(tmp_path / "k.csv"))
    assert r.exit_code == 1
    assert r.stderr.strip().endswith(f"{tmp_path / 'k.csv'}: Permission denied")


def test_a_windows_line_break_in_a_note_stays_a_line_break_in_csv(crm):
    """CR LF in a note (typed on Windows, pasted from a mail) is a line break in the CSV
    cell, not a visible ^M that an import would keep; a lone CR is still shown."""
    crm("add", "contact", "Zeilen", "--notes", "Zeile 1\r\nZeile 2")
    crm("add", "contact", "Wagen", "--notes", "a\rb")
    for args in ((), ("--created-since", "2000-01-01")):  # the whole export, a filtered one
        r = crm("export", "contacts", *args)
        rows = {row["name"]: row for row in rows_of(r.stdout)}
        assert rows["Zeilen"]["notes"] == "Zeile 1\nZeile 2"
        assert rows["Wagen"]["notes"] == "a^Mb"


@pytest.mark.sqlite_only
def test_a_time_another_program_wrote_as_a_number_blocks_no_export(people, db_target):
    """One odd value (a Unix time, a birthday as a number) is exported as it is: the other
    contacts, and above all the backup, are not held up by it."""
    import sqlite3

    conn = sqlite3.connect(db_target)
    with conn:
        conn.execute("UPDATE contact SET last_activity_at = 1700000000, birthday = 19801224 "
                     "WHERE name = 'Carl Clean'")  # fmt: skip
    conn.close()
    for fmt in ("csv", "jsonl", "json"):
        for args in ((), ("--created-since", "2000-01-01")):
            r = people("export", "contacts", "--format", fmt, *args)
            assert r.exit_code == 0, r.stderr
            assert "1700000000" in r.stdout and "19801224" in r.stdout
    r = people("export", "all")
    assert r.exit_code == 0, r.stderr
    assert "1700000000" in r.stdout


def test_output_to_dev_stdout_into_a_pipe(people, db_target):
    """`-o /dev/stdout | wc -l`: /dev/stdout names the pipe itself (through /proc), which is
    written into; nothing is renamed anywhere."""
    r = subprocess.run(
        [sys.executable, "-c", "from crmcli.cli import main; main()", "--db", db_target,
         "export", "contacts", "--format", "jsonl", "-o", "/dev/stdout"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 3 and "Exported 3 contacts" in r.stderr


@pytest.mark.sqlite_only
def test_text_another_program_wrote_that_is_no_utf8_is_one_clear_error(people, db_target):
    import sqlite3

    conn = sqlite3.connect(db_target)
    with conn:
        conn.execute("UPDATE contact SET notes = CAST(x'41ff42' AS TEXT) WHERE name = 'Carl Clean'")
    conn.close()
    for fmt in ("csv", "jsonl", "json"):
        for args in ((), ("--created-since", "2000-01-01")):
            r = people("export", "contacts", "--format", fmt, *args)
            assert r.exit_code == 1, (fmt, args, r.stdout[-200:])
            assert r.stderr.strip() == (
                "crm: error: the database holds text that is not UTF-8 (written by another "
                "program; crm writes only UTF-8): crm cannot read it"
            )


def test_an_empty_output_name_is_refused(people, tmp_path):
    for option in (["export", "contacts", "-o"], ["export", "all", "-o"]):
        r = people(*option, "")
        assert r.exit_code == 1
        assert r.stderr.strip() == "crm: error: output: give a file name"
