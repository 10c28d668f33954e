"""crm doc render|templates|sender: files written, what stdout and stderr say, the timeline
record, and one line with nothing recorded for each error."""

from __future__ import annotations

import pytest


@pytest.fixture
def shop(crm, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    for args in (
        ("add", "contact", "Jürgen Müller", "--company", "Bäckerei Größe KG",
         "--street", "Königstraße 5", "--zip", "50667", "--city", "Köln"),
        ("add", "deal", "Kaffeevollautomat", "--contact", "müller", "--amount", "1.234,50"),
        ("doc", "sender", "name=Kaffeerösterei Süß GmbH", "city=Hamburg",
         "iban=DE89 3704 0044 0532 0130 00"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def timeline(crm) -> list[dict]:
    return crm("list", "activities", "--kind", "document", "-o", "json").json()


def test_render_an_offer_to_a_pdf_and_find_it_on_the_timeline(shop, tmp_path):
    r = shop("doc", "render", "offer", "Kaffeevollautomat", "-o", "angebot.pdf")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "angebot.pdf\n"
    assert (tmp_path / "angebot.pdf").read_bytes().startswith(b"%PDF-")
    assert oct((tmp_path / "angebot.pdf").stat().st_mode & 0o777) == "0o600"
    [entry] = timeline(shop)
    assert (
        r.stderr
        == f"Wrote Angebot A-1: Kaffeevollautomat; on the timeline as activity #{entry['id']}\n"
    )
    assert entry["subject"] == "Angebot A-1: Kaffeevollautomat"
    assert f"File: {tmp_path / 'angebot.pdf'}" in entry["body"]
    card = shop("show", "müller", "-o", "json").json()
    assert card["timeline"][0]["kind"] == "document"


def test_markdown_and_html_to_stdout(shop):
    r = shop("doc", "render", "letter", "müller", "-o", "-", "-m", "Danke für alles.")
    assert r.exit_code == 0, r.stderr
    assert "Guten Tag Jürgen Müller,\n\nDanke für alles.\n" in r.stdout
    assert r.stderr.startswith("Printed ")
    assert r.stderr == "Printed Brief nach DIN 5008\n"
    r = shop("doc", "render", "letter", "müller", "--format", "html")
    assert r.stdout.startswith("<!DOCTYPE html>")
    assert r.stderr == "Printed Brief nach DIN 5008\n"
    assert timeline(shop) == []  # a preview on stdout sends nothing: not recorded


def test_stdout_is_recorded_only_with_log_and_a_file_unless_no_log(shop, tmp_path):
    r = shop("doc", "render", "letter", "müller", "-o", "-", "--log")
    assert r.exit_code == 0 and r.stderr.startswith("Printed Brief nach DIN 5008; on the timeline")
    assert [e["body"].splitlines()[1] for e in timeline(shop)] == ["File: standard output"]
    r = shop("doc", "render", "letter", "müller", "-o", "brief.md", "--no-log")
    assert r.exit_code == 0 and (tmp_path / "brief.md").exists()
    assert len(timeline(shop)) == 1


def test_the_text_can_come_from_stdin(shop):
    r = shop("doc", "render", "letter", "müller", "-o", "-", "-m", "-", "--no-log",
             input="Zeile aus der Pipe\n")  # fmt: skip
    assert "Zeile aus der Pipe" in r.stdout


def test_without_an_output_the_file_is_named_after_template_and_record(shop, tmp_path):
    first = shop("doc", "render", "offer", "1")
    second = shop("doc", "render", "offer", "1")
    assert (first.stdout, second.stdout) == ("offer-1.pdf\n", "offer-1-2.pdf\n")
    assert (tmp_path / "offer-1.pdf").exists() and (tmp_path / "offer-1-2.pdf").exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("mahnung", "müller"),
         "crm: error: no template 'mahnung' (crm doc templates lists them)\n"),
        (("letter", "niemand"), "crm: error: no contact matches 'niemand'"),
        (("offer", "99"), "crm: error: no deal with id 99"),
        (("letter", "müller", "-o", "nowhere/x.pdf"),
         "crm: error: nowhere/x.pdf: no such directory"),
        (("letter", "müller", "-o", "x.docx"),
         "crm: error: output: 'x.docx': end the file name in"),
        (("letter", "müller", "-o", "-", "--format", "pdf"),
         "crm: error: output: a PDF goes to a file"),
        (("letter", "müller", "-o", "folder.pdf"), "crm: error: folder.pdf is a directory"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_record_nothing(shop, tmp_path, args, line):
    (tmp_path / "folder.pdf").mkdir()
    r = shop("doc", "render", *args)
    assert r.exit_code == 1
    assert r.stderr.startswith(line), r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert r.stdout == ""
    assert timeline(shop) == []


def test_a_broken_user_template_is_one_line(shop, tmp_path):
    folder = tmp_path / "config" / "templates" / "doc"
    folder.mkdir(parents=True)
    (folder / "gruss.jinja").write_text("---\ntitle: Gruß\n---\nHallo {{ kunde }}\n")
    r = shop("doc", "render", "gruss", "müller", "-o", "-")
    assert (r.exit_code, r.stderr) == (
        1,
        "crm: error: template gruss: line 4: 'kunde' is undefined\n",
    )
    assert timeline(shop) == []


@pytest.mark.parametrize(
    ("source", "args", "why"),
    [
        ("---\ntitle: Böse\n---\n{{ contact.__class__ }}\n--- html ---\n<p>Hallo</p>\n",
         ("-o", "evil.pdf"), "line 4: not allowed in a template"),
        ("---\ntitle: Böse\n---\nHallo\n--- html ---\n<p>{{ kunde }}</p>\n",
         ("-o", "evil.md"), "line 6: 'kunde' is undefined"),
        ("---\ntitle: Böse\nsubject: '{{ betreff }}'\n---\nHallo\n--- html ---\n<p>Hallo</p>\n",
         ("-o", "evil.pdf", "--subject", "Eigener Betreff"), "'betreff' is undefined"),
    ],
)  # fmt: skip
def test_every_part_of_a_template_is_checked_before_anything_is_written(
    shop, tmp_path, source, args, why
):
    folder = tmp_path / "config" / "templates" / "doc"
    folder.mkdir(parents=True)
    (folder / "evil.jinja").write_text(source)
    r = shop("doc", "render", "evil", "müller", *args)
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: template evil"), r.stderr
    assert why in r.stderr and len(r.stderr.splitlines()) == 1
    assert not (tmp_path / args[1]).exists()
    assert timeline(shop) == []


@pytest.mark.parametrize("status", ["abandoned", "cancelled", "returned"])
def test_no_confirmation_for_an_order_that_is_no_purchase(shop, tmp_path, status):
    for args in (
        ("add", "product", "KAF", "Kaffee", "--price", "10,00", "--vat", "7"),
        ("add", "order", "müller", "--item", "KAF:1", "--status", status,
         "--external-id", "1003"),
        ("add", "order", "müller", "--item", "KAF:2", "--status", "paid"),
    ):  # fmt: skip
        assert shop(*args).exit_code == 0
    r = shop("doc", "render", "confirmation", "1", "-o", "c.pdf")
    assert (r.exit_code, r.stderr) == (
        1,
        f"crm: error: order: order #1003 is {status}: template confirmation is for an order "
        "that is open, paid or shipped\n",
    )
    assert not (tmp_path / "c.pdf").exists() and timeline(shop) == []
    assert shop("doc", "render", "confirmation", "2", "-o", "c.pdf").exit_code == 0
    # a letter about the order is still a letter
    assert shop("doc", "render", "letter", "müller", "--order", "1", "-o", "l.md").exit_code == 0


def test_templates_lists_builtin_and_own(shop, tmp_path):
    folder = tmp_path / "config" / "templates" / "doc"
    assert shop("doc", "templates", "--path").stdout == f"{folder}\n"
    folder.mkdir(parents=True)
    (folder / "mahnung.md").write_text("---\ntitle: Zahlungserinnerung\nlayout: din5008\n---\nx")
    rows = {t["name"]: t for t in shop("doc", "templates", "-o", "json").json()}
    assert sorted(rows) == ["confirmation", "contract", "letter", "mahnung", "offer"]
    assert rows["mahnung"]["title"] == "Zahlungserinnerung"
    assert (rows["mahnung"]["origin"], rows["offer"]["origin"]) == ("yours", "built-in")
    assert (rows["offer"]["for"], rows["confirmation"]["for"]) == ("deal", "order")
    assert rows["letter"]["parts"] == ["text", "html"]


def test_sender_shows_and_checks(shop):
    shown = shop("doc", "sender", "-o", "json").json()
    assert shown["name"] == "Kaffeerösterei Süß GmbH"
    text = shop("doc", "sender").stdout
    assert "Name:" in text and "VAT rate (deals): 19 %" in text
    assert not {"Firma", "Straße", "USt-Satz"} & set(text.replace(":", " ").split())
    assert shown["iban"] == "DE89370400440532013000"
    assert shown["vat_rate"] == "19 %"
    r = shop("doc", "sender", "iban=DE00 1234")
    assert r.exit_code == 1 and r.stderr.startswith("crm: error: iban: ")
    r = shop("doc", "sender", "city=")
    assert r.exit_code == 0
    assert shop("doc", "sender", "-o", "json").json()["city"] is None


def _loaded(argv: list[str], cwd) -> set[str]:
    import subprocess
    import sys

    probe = f"""
import sys
sys.argv = ['crm', *{argv!r}]
from crmcli.cli import main
try:
    main()
except SystemExit:
    pass
print("LOADED:" + " ".join(sorted({{m.split('.')[0] for m in sys.modules}})))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, check=True
    )
    return set(done.stdout.splitlines()[-1].removeprefix("LOADED:").split())


def test_jinja_babel_and_fpdf_load_only_for_what_needs_them(shop, db_target, tmp_path):
    heavy = {"jinja2", "babel", "fpdf", "fontTools", "PIL"}
    assert not _loaded(["--help"], tmp_path) & heavy
    assert not _loaded(["--db", db_target, "list", "contacts"], tmp_path) & heavy
    assert not _loaded(["doc", "render", "--help"], tmp_path) & heavy
    markdown = _loaded(["--db", db_target, "doc", "render", "letter", "1", "-o", "x.md"], tmp_path)
    assert "jinja2" in markdown and not markdown & {"fpdf", "fontTools", "PIL", "babel"}
    assert (tmp_path / "x.md").exists()
    pdf = _loaded(["--db", db_target, "doc", "render", "letter", "1", "-o", "x.pdf"], tmp_path)
    # fpdf2 would import numpy (~80 ms) only to decode big images faster: crm hides it.
    assert "fpdf" in pdf and "numpy" not in pdf
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF-")


def test_an_offer_for_a_demo_deal(crm, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    assert crm("demo", "--contacts", "40", "--companies", "5").exit_code == 0
    deal = crm("list", "deals", "-o", "json").json()[0]
    r = crm("doc", "render", "offer", str(deal["id"]), "-o", str(tmp_path / "angebot.pdf"))
    assert r.exit_code == 0, r.stderr
    from pypdf import PdfReader

    text = PdfReader(tmp_path / "angebot.pdf").pages[0].extract_text()
    assert deal["title"] in text and "Gesamtbetrag" in text


def test_the_sender_is_the_first_thing_a_new_database_may_hold(tmp_path):
    from typer.testing import CliRunner

    from crmcli.cli import app

    target = str(tmp_path / "neu.db")
    r = CliRunner().invoke(app, ["--db", target, "doc", "sender", "name=Muster GmbH"])
    assert r.exit_code == 0, r.stderr
    assert "created a new database" in r.stderr
    shown = CliRunner().invoke(app, ["--db", target, "doc", "sender", "-o", "json"])
    assert '"name": "Muster GmbH"' in shown.stdout


def test_single_line_breaks_of_the_message_survive_into_html_and_pdf(shop, tmp_path):
    message = "Erste Zeile\nzweite <Zeile>\n\nNeuer Absatz"
    r = shop("doc", "render", "letter", "müller", "--format", "html", "-o", "-", "-m", message)
    assert "<p>Erste Zeile<br>\nzweite &lt;Zeile&gt;</p>\n<p>Neuer Absatz</p>" in r.stdout
    r = shop("doc", "render", "letter", "müller", "-o", "brief.pdf", "-m", message)
    assert r.exit_code == 0, r.stderr
    from pypdf import PdfReader

    text = PdfReader(tmp_path / "brief.pdf").pages[0].extract_text()
    assert "Erste Zeile\nzweite <Zeile>\nNeuer Absatz" in text, text


def test_a_wrong_output_path_is_the_only_line_even_without_a_sender(crm, tmp_path, monkeypatch):
    """Walkthrough: `-o /nonexist/x.pdf` printed the no-sender warning before the error."""
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    assert crm("add", "contact", "Vera").exit_code == 0
    missing = str(tmp_path / "nonexist" / "x.pdf")
    r = crm("doc", "render", "letter", "1", "-o", missing)
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == f"crm: error: {missing}: no such directory {tmp_path / 'nonexist'}\n"
    (tmp_path / "folder.pdf").mkdir()
    folder = str(tmp_path / "folder.pdf")
    assert crm("doc", "render", "letter", "1", "-o", folder).stderr.splitlines() == [
        f"crm: error: {folder} is a directory; give a file name"
    ]
