"""Errors that say what went wrong, in one line (walkthrough, issue 19): a segments file that
is no CSV, a picture in a template that is no picture or lies outside the template folders, a
negative cost, a --within the report does not take."""

from __future__ import annotations

import pytest


def one_line(r, code: int = 1) -> str:
    assert r.exit_code == code, r.stdout
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    return line


@pytest.fixture
def shop(crm):
    for args in (
        ("add", "contact", "Anna Weiß"),
        ("add", "contact", "Bernd Bauer"),
        ("add", "product", "KAF", "Kaffee", "--price", "10"),
        ("add", "order", "anna", "--item", "KAF:2", "--at", "1.8.2026", "-s", "paid"),
        ("add", "order", "anna", "--item", "KAF:2", "--at", "1.10.2026", "-s", "paid"),
        ("add", "order", "bernd", "--item", "KAF:1", "--at", "1.3.2026", "-s", "paid"),
        ("add", "campaign", "Google Ads"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


# ---------------------------------------------------------------- crm report rfm --segments


def test_a_binary_segments_file_is_named_in_one_line(shop, tmp_path):
    binary = tmp_path / "binary.dat"
    binary.write_bytes(bytes(range(256)) * 4)
    line = one_line(shop("report", "rfm", "--segments", str(binary)))
    assert line == f"crm: error: {binary} is not a CSV file (binary data: NUL or control bytes)"


def test_a_german_excel_segments_file_with_semicolons_works(shop, tmp_path):
    rules = tmp_path / "segmente.csv"
    text = "r;f;segment\r\n3-5;1-5;Aktiv\r\n1-2;1-5;Schläfer\r\n"
    rules.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # Excel's "CSV UTF-8"
    r = shop("report", "rfm", "--until", "30.11.2026", "--segments", str(rules), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert {c["contact"]: c["segment"] for c in r.json()["customers"]} == {
        "Anna Weiß": "Aktiv", "Bernd Bauer": "Schläfer",
    }  # fmt: skip
    rules.write_bytes(text.encode("cp1252"))  # Excel's plain "CSV (Trennzeichen-getrennt)"
    r = shop("report", "rfm", "--until", "30.11.2026", "--segments", str(rules), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "Schläfer" in {c["segment"] for c in r.json()["customers"]}


def test_segments_files_that_cannot_be_used_are_one_line(shop, tmp_path):
    missing = tmp_path / "nope.csv"
    assert one_line(shop("report", "rfm", "--segments", str(missing))) == (
        f"crm: error: {missing} does not exist"
    )
    few = tmp_path / "few.csv"
    few.write_text("r;f\n1;2\n")
    assert one_line(shop("report", "rfm", "--segments", str(few))) == (
        f"crm: error: {few} needs the columns r, f, segment (missing segment; its columns: r, f)"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert one_line(shop("report", "rfm", "--segments", str(empty))) == (
        f"crm: error: {empty} is empty: no header and no rows"
    )


# ---------------------------------------------------------------- pictures in templates


@pytest.fixture
def pictures(shop, tmp_path, monkeypatch):
    config = tmp_path / "config"
    own = config / "templates" / "doc"
    own.mkdir(parents=True)
    monkeypatch.setenv("CRM_CONFIG_DIR", str(config))
    monkeypatch.chdir(tmp_path)

    def template(src: str) -> None:
        (own / "bild.jinja").write_text(
            f'---\ntitle: Bild\n---\nText\n--- html ---\n<p>Hallo</p>\n<img src="{src}">\n'
        )

    return shop, own, template


def test_a_picture_outside_the_template_folders_is_refused(pictures, tmp_path):
    crm, own, template = pictures
    for src in ("/etc/passwd", "../../../secret.png", str(tmp_path / "x.png")):
        template(src)
        line = one_line(crm("doc", "render", "bild", "anna", "-o", "x.pdf"))
        assert line == (
            f"crm: error: template bild: image '{src}' is outside the folders pictures may come "
            f"from ({(tmp_path / 'config').resolve()})"
        )
    assert not (tmp_path / "x.pdf").exists()
    assert crm("list", "activities", "--kind", "document", "-o", "json").json() == []


def test_a_picture_hidden_behind_a_quoted_angle_bracket_is_refused(pictures, tmp_path):
    from PIL import Image

    crm, own, _ = pictures
    secret = tmp_path / "outside" / "secret.png"
    secret.parent.mkdir()
    Image.new("RGB", (4, 4)).save(secret)
    (own / "bild.jinja").write_text(
        f'---\ntitle: Bild\n---\nText\n--- html ---\n<img alt=">" src="{secret}">\n'
    )
    line = one_line(crm("doc", "render", "bild", "anna", "-o", "x.pdf"))
    assert line.startswith(f"crm: error: template bild: image '{secret}'")
    assert not (tmp_path / "x.pdf").exists()


def test_a_file_that_is_no_picture_or_is_missing_or_remote_is_named(pictures, tmp_path):
    crm, own, template = pictures
    (own / "notiz.txt").write_text("kein Bild")
    template("notiz.txt")
    assert one_line(crm("doc", "render", "bild", "anna", "-o", "x.pdf")) == (
        "crm: error: template bild: image 'notiz.txt' is not a picture (PNG, JPEG, GIF, SVG ...)"
    )
    template("logo.png")
    missing = (own / "logo.png").resolve()
    assert one_line(crm("doc", "render", "bild", "anna", "-o", "x.pdf")) == (
        f"crm: error: template bild: image 'logo.png': no such file ({missing})"
    )
    template("https://example.com/logo.png")
    assert one_line(crm("doc", "render", "bild", "anna", "-o", "x.pdf")) == (
        "crm: error: template bild: image 'https://example.com/logo.png': a document's "
        "pictures are files, not addresses"
    )
    assert not (tmp_path / "x.pdf").exists()


def test_a_logo_beside_the_template_prints_from_any_directory(pictures, tmp_path):
    from PIL import Image

    crm, own, template = pictures
    Image.new("RGB", (40, 20), "red").save(own / "logo.png")
    template('logo.png" data-src="/etc/passwd')  # another attribute is no picture to read
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = crm("doc", "render", "bild", "anna", "-o", str(elsewhere / "x.pdf"))
    assert r.exit_code == 0, r.stderr
    from pypdf import PdfReader

    assert len(PdfReader(elsewhere / "x.pdf").pages[0].images) == 1


# ---------------------------------------------------------------- negative amounts


def test_a_negative_cost_says_what_a_cost_is(shop):
    for args in (["-30"], ["--", "-30"], ["-30", "--at", "1.11.2026"], ["0"]):
        line = one_line(shop("add", "cost", "google", *args))
        assert line == f"crm: error: amount: '{args[-1] if args[0] == '--' else args[0]}': " + (
            "a cost is what was spent, more than 0"
        )
    r = shop("add", "cost", "google", "12,50", "--note", "-5", "--at", "1.11.2026")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.startswith("Added cost #1 of 12,50 €")


def test_a_negative_number_elsewhere_says_to_put_it_after_double_dash(shop):
    line = one_line(shop("show", "-12"), code=2)
    assert line == (
        "crm: error: -12 is read as an option (it starts with -): a negative number goes "
        "after --, as in -- -12"
    )


# ---------------------------------------------------------------- --within


@pytest.mark.parametrize(
    ("within", "why"),
    [
        ("abc", "'abc' is not a span such as 30d, 2w, 3m"),
        ("12h", "'12h' is less than a day: give a window such as 30d, 2w, 3m"),
        ("0d", "'0d' is less than a day: give a window such as 30d, 2w, 3m"),
        ("36h", "'36h' is not a number of whole days such as 30d, 2w, 3m"),
    ],
)
def test_next_purchase_suggests_only_windows_it_takes(shop, within, why):
    assert one_line(shop("report", "next-purchase", "--within", within)) == (
        f"crm: error: within: {why}"
    )
    for good in ("30d", "2w", "3m", "48h"):
        r = shop("report", "next-purchase", "--within", good, "-o", "json")
        assert r.exit_code == 0, (good, r.stderr)
