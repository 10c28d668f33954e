"""Text from stdin (`-m -`) and from $EDITOR arrives in whatever encoding the writer used:
it is read as bytes and decoded by values.decode_text's fixed rules (BOM, else UTF-8, else
cp1252), never an "unexpected Unicode...Error", never lone surrogates in the database."""

from __future__ import annotations

import pytest

from crmcli.values import decode_text


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Gr\xc3\xbc\xc3\x9fe", "Grüße"),  # UTF-8
        (b"Gr\xfc\xdfe", "Grüße"),  # Latin-1
        (b"\x80 5,00 \x96 Stra\xdfe", "€ 5,00 – Straße"),  # cp1252's own letters
        (b"\xef\xbb\xbfGr\xc3\xbc\xc3\x9fe", "Grüße"),  # UTF-8 with BOM (Notepad)
        ("Grüße".encode("utf-16"), "Grüße"),  # UTF-16 with BOM (Excel "Unicode text")
        ("Grüße".encode("utf-16-be").join([b"\xfe\xff", b""]), "Grüße"),
        ("Grüße".encode("utf-32"), "Grüße"),
        (b"a\x81b", "a\ufffdb"),  # a byte cp1252 leaves unassigned
        (b"\xff\xfeG\x00\x00\xd8", "G\ufffd"),  # a BOM, then a lone surrogate
        (b"", ""),
    ],
)
def test_decode_text(data, text):
    assert decode_text(data) == text
    decode_text(data).encode("utf-8")  # never a lone surrogate


@pytest.fixture
def anna(crm):
    assert crm("add", "contact", "Anna Weiß").exit_code == 0


def body(crm) -> str:
    return crm("show", "anna", "-o", "json").json()["timeline"][0]["body"]


@pytest.mark.parametrize(
    "data", [b"Gr\xfc\xdfe\n", b"Gr\xc3\xbc\xc3\x9fe\n", "Grüße\n".encode("utf-16")]
)
def test_stdin_in_any_common_encoding(crm, anna, data):
    r = crm("log", "complaint", "anna", "-m", "-", input=data)
    assert r.exit_code == 0, r.stderr
    assert body(crm) == "Grüße"


def test_an_editor_that_saves_latin1(crm, anna, monkeypatch, tmp_path):
    from crmcli import env

    script = tmp_path / "latin1-editor"
    script.write_text("#!/bin/sh\nprintf 'Gr\\374\\337e aus K\\366ln\\n# Kommentar\\n' > \"$1\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    r = crm("log", "note", "anna")
    assert r.exit_code == 0, r.stderr
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: False)
    assert body(crm) == "Grüße aus Köln"


def test_a_nul_byte_on_stdin_is_refused_on_every_database(crm):
    """PostgreSQL cannot store NUL; SQLite could. Both refuse it, in one clear line."""
    assert crm("add", "contact", "Nul Test").exit_code == 0
    r = crm("log", "note", "nul", "-m", "-", input="a\x00b")
    assert r.exit_code == 1 and "NUL character" in r.stderr
    assert crm("list", "activities", "-o", "json").json() == []
