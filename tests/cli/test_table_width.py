"""On a terminal, tables fit its width without cutting money, dates, ids or emails: free text
shrinks (one line a row), then the least valuable columns go."""

from __future__ import annotations

import re

import pytest

from crmcli.output import Column, fit_columns

EMAIL = "alexander.herrmann-mueller@peters-versicherungsmakler.example"


@pytest.fixture
def wide(crm, monkeypatch):
    from crmcli import env

    for args in (
        ("add", "contact", "Alexander Herrmann-Müller von Schönhausen", "-e", EMAIL,
         "-p", "0171 7912345", "--company", "Peters Versicherungsmakler GmbH & Co. KG",
         "--city", "Sankt Goar am Rhein", "-t", "newsletter", "-t", "b2b"),
        ("add", "deal", "Messestand für die Frühjahrsmesse in Düsseldorf", "--contact", "herr",
         "--amount", "18.966,50", "--close", "24.12.2026"),
        ("add", "task", "Angebot für den Messestand nachfassen und Termin vereinbaren",
         "--contact", "herr", "--due", "24.12.2026 14:00", "--every", "monthly"),
        ("log", "call", "herr", "-m", "Lange Besprechung über den Messestand " * 4),
    ):  # fmt: skip
        assert crm(*args).exit_code == 0
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    return crm


def visible(text: str) -> list[str]:
    return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in text.splitlines()]


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(
    ("args", "whole"),
    [
        (("list", "contacts"), [EMAIL, "1"]),
        (("list", "deals"), ["18.966,50 €", "2026-12-24"]),
        (("list", "tasks"), ["2026-12-24 14:00"]),
        (("list", "activities"), ["2026-11-23 10:00"]),
        (("show", "1"), [EMAIL, "18.966,50 €", "2026-12-24", "2026-12-24 14:00"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)
def test_tables_fit_without_cutting_what_matters(wide, monkeypatch, width, args, whole):
    monkeypatch.setenv("COLUMNS", str(width))
    r = wide(*args)
    assert r.exit_code == 0, r.stderr
    lines = visible(r.stdout)
    assert max(len(line) for line in lines) <= width
    for text in whole:
        assert text in r.stdout, (text, r.stdout)
    if args[0] == "list":  # one line a row: header, rule, the row, blank lines around
        assert len([line for line in lines if line.strip()]) == 3, r.stdout


def test_low_value_columns_go_first():
    columns = (
        Column("id", "Id", "right"), Column("name", "Name", min_width=10),
        Column("email", "Email", keep=True), Column("tags", "Tags", drop=2),
        Column("company", "Company", drop=1),
    )  # fmt: skip
    rows = [{"id": 1, "name": "N" * 30, "email": "e" * 30, "tags": "t" * 20, "company": "c" * 20}]
    cells = [[str(rows[0][c.key]) for c in columns]]
    assert [i for i, _ in fit_columns(columns, rows, cells, 200)] == [0, 1, 2, 3, 4]
    fitted = dict(fit_columns(columns, rows, cells, 70))
    assert list(fitted) == [0, 1, 2, 4] and fitted[2] == 30  # tags went, email whole
    fitted = dict(fit_columns(columns, rows, cells, 50))
    assert fitted == {0: 2, 1: 10, 2: 30}  # then company; the name shrank to its minimum
