"""crm doc render with the optional data missing (no sender, owner, company or address): every
built-in template prints blanks, never the word None, and says once that no sender is set;
the Markdown output shows names and typed text as typed (escaped), not as markup."""

from __future__ import annotations

import pytest

SENDER_WARNING = (
    "crm: warning: no sender is set (your business's name and address on the page): "
    'crm doc sender name="Muster GmbH" street=... zip=... city=...\n'
)


@pytest.fixture
def bare(crm, tmp_path, monkeypatch):
    """A contact with a name only, a deal and an order of hers; no sender, no owner."""
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    for args in (
        ("add", "contact", "Anna Muster"),
        ("add", "product", "W-1", "Widget", "--price", "10"),
        ("add", "order", "1", "--item", "W-1:1"),
        ("add", "deal", "Beratung", "--contact", "1", "--amount", "100"),
        ("add", "company", "Leer GmbH"),
        ("add", "deal", "Firmenauftrag", "--company", "Leer GmbH", "--amount", "50"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


BUILTIN = [
    ("confirmation", ["1"]),
    ("letter", ["1"]),
    ("offer", ["1"]),
    ("offer", ["2"]),  # a company's deal: no contact at all
    ("contract", ["1"]),
    ("contract", ["1", "--deal", "1"]),
]


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.parametrize(("template", "args"), BUILTIN)
def test_no_template_prints_none_for_what_is_not_set(bare, tmp_path, template, args):
    for fmt in ("md", "html"):
        r = bare("doc", "render", template, *args, "-o", "-", "--format", fmt)
        assert r.exit_code == 0, r.stderr
        assert "None" not in r.stdout, (fmt, r.stdout)
        assert r.stderr.count("no sender is set") == 1
        assert r.stderr.startswith(SENDER_WARNING)
    r = bare("doc", "render", template, *args, "-o", "doc.pdf")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.count("no sender is set") == 1
    assert "None" not in _pdf_text(tmp_path / "doc.pdf")


def test_the_letter_ends_with_the_greeting_and_no_none(bare):
    r = bare("doc", "render", "letter", "1", "-o", "-")
    assert r.stdout.rstrip().endswith("Mit freundlichen Grüßen")


def test_with_a_sender_there_is_no_warning_and_the_name_signs(bare):
    assert bare("doc", "sender", "name=Muster GmbH").exit_code == 0
    r = bare("doc", "render", "letter", "1", "-o", "-")
    assert r.exit_code == 0
    assert "warning" not in r.stderr
    assert r.stdout.rstrip().endswith("Muster GmbH")


def test_a_users_template_prints_nothing_for_none(bare, tmp_path):
    own = tmp_path / "config" / "templates" / "doc"
    own.mkdir(parents=True)
    (own / "note.md").write_text("Firma: [{{ company.name if company else None }}]\n")
    r = bare("doc", "render", "note", "1", "-o", "-")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "Firma: []\n"
    assert "warning" not in r.stderr  # no letterhead in this layout: nothing is missing


def test_markdown_escapes_names_and_the_message(bare):
    assert bare("edit", "1", "--name", "Anna <b>*Muster*</b> | x").exit_code == 0
    r = bare(
        "doc", "render", "letter", "1", "-o", "-", "-m", "# Achtung\n- [Link](http://x) `code`"
    )
    assert r.exit_code == 0, r.stderr
    assert "Anna \\<b\\>\\*Muster\\*\\</b\\> \\| x  \n" in r.stdout
    assert "\\# Achtung\n\\- \\[Link\\](http://x) \\`code\\`\n" in r.stdout
    assert "<b>" not in r.stdout
    # The HTML is escaped as HTML, not Markdown; the timeline's subject is not escaped at all.
    r = bare("doc", "render", "letter", "1", "--format", "html", "-m", "a *b*")
    assert "Anna &lt;b&gt;*Muster*&lt;/b&gt; | x" in r.stdout
    assert "<p>a *b*</p>" in r.stdout


def test_markdown_escapes_item_names_in_the_table(bare):
    assert bare("edit", "deal", "1", "--title", "Be|ra_tung").exit_code == 0
    r = bare("doc", "render", "offer", "1", "-o", "-")
    assert "| 1 | Be\\|ra\\_tung | 1 pauschal |" in r.stdout
    assert "**Angebot A-1: Be\\|ra\\_tung**" in r.stdout
    r = bare("doc", "render", "offer", "1", "-o", "x.md")
    [entry] = bare("list", "activities", "--kind", "document", "-o", "json").json()
    assert entry["subject"] == "Angebot A-1: Be|ra_tung"
