"""Text from the database never reaches a terminal or plain output raw: control sequences
(ESC, BEL, OSC, CSI, C1, CR, bidi overrides) are shown visibly; JSON keeps the text, escaped;
CSV (which has no escapes) shows them like a table does, and defuses formulas."""

from __future__ import annotations

import csv
import io

import pytest

EVIL = "Evil\x1b]0;pwned\x07 \x1b[31mRed\x9b2J\rX\u202egnp.exe"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


@pytest.fixture
def evil(crm):
    for args in (
        ("add", "contact", EVIL, "--notes", "line one\nline two\x1b[2J\rover", "--city", "K\x07ln"),
        ("add", "company", "Bad\x1b[5mCo"),
        ("add", "task", "Call\x1b[41m", "--contact", "evil", "--due", "tomorrow"),
        ("add", "deal", "Deal\x1b[1m", "--contact", "evil", "--amount", "10"),
        ("log", "note", "evil", "-m", "body\x1b]8;;http://x\x07link"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
        assert not any(ch in r.stderr for ch in RAW), (args, r.stderr)
    return crm


COMMANDS = [
    ("list", "contacts"), ("list", "companies"), ("list", "tasks"), ("list", "deals"),
    ("list", "activities"), ("show", "1"), ("show", "company", "1"), ("show", "deal", "1"),
    ("show", "task", "1"), ("show", "activity", "1"), ("search", "evil"),
    ("remind", "--within", "3d"),
]  # fmt: skip


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_raw_control_characters_reach_the_output(evil, monkeypatch, args, terminal):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: terminal)
    r = evil(*args)
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    if terminal:  # rich's own styling is the only escape sequence allowed
        import re

        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not any(ch in text for ch in RAW), repr(text)
    assert not any(ch in r.stderr for ch in RAW), repr(r.stderr)


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_csv_shows_control_characters_too(evil, monkeypatch, args, terminal):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: terminal)
    r = evil(*args, "-o", "csv")
    assert r.exit_code == 0, r.stderr
    assert not any(ch in r.stdout for ch in RAW), repr(r.stdout)
    if args == ("list", "contacts"):
        row = next(csv.DictReader(io.StringIO(r.stdout)))
        assert row["name"].startswith("Evil^[]0;pwned^G")
        assert row["notes"].startswith("line one\nline two^[[2J^Mover")  # lines kept


def test_control_characters_are_shown_visibly(evil):
    out = evil("show", "1").stdout
    assert "Evil^[]0;pwned^G ^[[31mRed\\x9b2J" in out and "X\\u202egnp.exe" in out
    # A multi-line note keeps its lines in a card, each under the first
    assert "line one\n" in out and "line two^[[2J^Mover" in out
    assert "K^Gln" in evil("list", "contacts").stdout


def test_errors_and_candidates_are_escaped(evil):
    evil("add", "contact", "Evil\x1b[32m Twin")
    r = evil("show", "evil")
    assert r.exit_code == 1 and "^[" in r.stderr
    assert not any(ch in r.stderr for ch in RAW)


def test_json_keeps_the_text(evil):
    row = evil("show", "1", "-o", "json").json()
    assert row["name"] == EVIL.replace("\r", " ")  # the service folds whitespace in names
    assert row["notes"].endswith("\x1b[2J\rover")
    for fmt in ("json", "jsonl"):
        out = evil("list", "contacts", "-o", fmt).stdout
        assert "\\u001b" in out and "\\u009b" in out and "\\u202e" in out
        assert not any(ch in out for ch in RAW)  # escaped, never raw on a terminal
    out = evil("show", "1", "-o", "json").stdout
    assert not any(ch in out for ch in RAW)


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_defuses_formulas(crm, value):
    assert crm("add", "contact", "X", "--notes", value).exit_code == 0
    row = next(csv.DictReader(io.StringIO(crm("list", "contacts", "-o", "csv").stdout)))
    assert row["notes"] == "'" + value


def test_csv_defuses_a_formula_in_a_list_cell(crm):
    assert crm("add", "contact", "X", "-t", "=1+2", "-t", "@SUM(A1)").exit_code == 0
    row = next(csv.DictReader(io.StringIO(crm("list", "contacts", "-o", "csv").stdout)))
    assert row["tags"].startswith("'")


def test_csv_keeps_numbers_written_by_crm(crm):
    crm("add", "contact", "Müller")
    crm("add", "deal", "D", "--contact", "müller", "--amount", "100")
    crm("lost", "D", "--reason", "-5 Rabatt zu wenig")
    rows = list(csv.DictReader(io.StringIO(crm("list", "deals", "-o", "csv").stdout)))
    assert rows[0]["amount"] == "100.00"
    assert rows[0]["lost_reason"] == "'-5 Rabatt zu wenig"
    from crmcli.output import _csv_cell

    assert _csv_cell("-5.00") == "-5.00" and _csv_cell(-5) == -5
    assert _csv_cell("\tTab") == "'\tTab" and _csv_cell("\r=1") == "'\r=1"


PWNED = "\x1b]0;pwned\x07Eve"


@pytest.fixture
def eve(crm):
    for args in (
        ("add", "contact", PWNED, "-e", "eve@example.com", "-c", "\x1b[5mBlink GmbH"),
        ("add", "contact", "Eve Adams", "-c", "blink"),
        ("add", "deal", "Dach\x07", "-C", "eve@example.com", "--amount", "10"),
        ("add", "task", "Ruf\x1b[2J an", "-C", "eve@example.com"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
        assert not any(ch in r.stderr for ch in RAW), (args, r.stderr)
    return crm


STDERR_PATHS = [
    # an ambiguous REF: the candidate lines
    (("show", "eve"), None),
    (("tag", "eve", "vip"), None),
    # refusals that name a stored record
    (("add", "contact", "Zweite", "-e", "eve@example.com"), None),
    (("delete", "company", "blink"), None),
    # prompts on a terminal: yes/no, and keep/delete/cancel
    (("delete", "contact", "1"), "n\n"),
    (("delete", "company", "blink"), "c\n"),
    (("tag", "--where", "--company", "blink", "vip"), "n\n"),
    (("delete", "task", "ruf"), "n\n"),
    # what happened
    (("edit", "contact", "1", "--city", "Köln"), None),
    (("done", "ruf"), None),
    (("won", "dach"), None),
]


@pytest.mark.parametrize(("args", "answer"), STDERR_PATHS, ids=lambda v: " ".join(v or ""))
def test_stored_names_reach_stderr_escaped(eve, monkeypatch, args, answer):
    from crmcli import env

    if answer is not None:
        monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    # click drops CSI sequences from prompts when stderr is not a terminal (as here): on a
    # terminal it does not.
    monkeypatch.setattr("click.utils.should_strip_ansi", lambda *a, **k: False)
    r = eve(*args, input=answer)
    assert not any(ch in r.stderr for ch in RAW), repr(r.stderr)
    assert not any(ch in r.stdout for ch in RAW), repr(r.stdout)
    assert "^[" in r.stderr or "^G" in r.stderr, repr(r.stderr)  # the name, visibly
