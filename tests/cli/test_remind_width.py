"""`crm remind` on an 80-column terminal: every line fits; the due date and the id are never
cut (the text and the contact shrink); piped output is the whole line (issue 15)."""

from __future__ import annotations

import re

import pytest

LONG = "Angebot für den Messestand nachfassen und Termin für die Frühjahrsmesse vereinbaren"
WHO = "Alexander Herrmann-Müller von Schönhausen"


@pytest.fixture
def long_items(crm):
    crm("add", "contact", WHO, "--birthday", "23.11.1970", "--every", "7 days")
    crm("add", "task", LONG, "--contact", "herrmann", "--due", "today 11:00")
    crm("add", "task", "Kurz", "--due", "-3d")
    crm("log", "complaint", "herrmann", "--subject", "Lieferung " * 12, "--at", "-8d")
    return crm


def visible(text: str) -> list[str]:
    return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in text.splitlines()]


@pytest.mark.parametrize("colour", [True, False], ids=["colour", "no-colour"])
@pytest.mark.parametrize("width", [80, 60])
def test_lines_fit_the_terminal(long_items, monkeypatch, colour, width):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", str(width))
    if not colour:
        monkeypatch.setenv("NO_COLOR", "1")
    r = long_items("remind", "--all", "--brief")
    assert r.exit_code == 0, r.stderr
    lines = [line for line in visible(r.stdout) if line.strip()]
    assert lines and max(len(line) for line in lines) <= width, r.stdout
    for due in ("2026-11-23 11:00", "2026-11-20 10:00", "2026-11-23"):
        assert due in r.stdout
    for ref in ("#1", "#2"):
        assert ref in r.stdout


def test_piped_lines_stay_whole(long_items, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = long_items("remind", "--all").stdout
    assert LONG in out and WHO in out
    assert max(len(line) for line in out.splitlines()) > 80


def test_in_colour_the_flag_goes_before_the_text_is_cut(long_items, monkeypatch):
    """A red row says overdue already: at 80 columns the "!" column goes first, and --brief
    keeps its context column."""
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "80")
    out = "\n".join(visible(long_items("remind", "--all", "--brief").stdout))
    header = next(line for line in out.splitlines() if "Due" in line)
    assert "!" not in header and "Context" in header
