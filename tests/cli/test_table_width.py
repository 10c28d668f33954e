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


# What a person reads a row by stays whole; low-value columns go first (issue 15).


@pytest.fixture
def terminal(crm, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")

    def at(width: int, *args: str):
        monkeypatch.setenv("COLUMNS", str(width))
        r = crm(*args)
        assert r.exit_code == 0, r.stderr
        lines = visible(r.stdout)
        assert max((len(line) for line in lines), default=0) <= width, r.stdout
        return lines

    return at


def _header(lines: list[str]) -> list[str]:
    return next(line for line in lines if line.strip()).split()


def test_tasks_at_80_keep_title_and_contact_and_drop_flag_and_priority(crm, terminal):
    crm("add", "contact", "Rahel Heinrich-Schulz")
    title = "Muster an Heinrich senden"
    crm("add", "task", title, "-C", "rahel", "--due", "-2d", "-P", "high")
    crm("add", "task", "Rückruf", "-C", "rahel", "--due", "+1d", "--every", "weekly")
    lines = terminal(80, "list", "tasks")
    text = "\n".join(lines)
    assert title in text and "Rahel Heinrich-Schulz" in text and "…" not in text
    assert "!" not in _header(lines) and "Priority" not in _header(lines)
    wide = terminal(160, "list", "tasks")
    assert {"!", "Priority", "Repeats"} <= set(_header(wide))


def test_contacts_at_120_keep_names_whole_before_phone_city_status_tags(crm, terminal):
    name = "Alexander Herrmann-Müller"  # 25: longer than the old 14-character cut
    crm("add", "contact", name, "-e", EMAIL, "-p", "0171 7912345", "-c", "Peters GmbH",
        "--city", "Sankt Goar am Rhein", "-s", "customer", "-t", "news", "-t", "b2b")  # fmt: skip
    lines = terminal(120, "list", "contacts")
    assert name in "\n".join(lines) and EMAIL in "\n".join(lines)
    assert "Tags" not in _header(lines)  # tags go before the name is cut


def test_sales_by_owner_heads_its_group_and_keeps_owners_whole(crm, terminal):
    crm("add", "contact", "Kunde")
    for i, owner in enumerate(["Sophie Hoffmann-Schulze", "Mehmet Yılmaz-Öztürk"]):
        crm("add", "deal", f"D{i}", "-C", "kunde", "--amount", "12.345,67", "--owner", owner)
        crm("won", f"D{i}")
    lines = terminal(80, "report", "sales", "--by", "owner")
    assert _header(lines)[0] == "Owner"
    text = "\n".join(lines)
    assert "Sophie Hoffmann-Schulze" in text and "Mehmet Yılmaz-Öztürk" in text
    assert _header(terminal(80, "report", "sales", "--by", "quarter"))[0] == "Quarter"


@pytest.mark.parametrize("no_color", [False, True])
def test_empty_columns_are_left_out_on_a_terminal(crm, terminal, monkeypatch, no_color):
    crm("add", "contact", "Kunde")
    crm("add", "deal", "Ohne alles", "-C", "kunde", "--amount", "100")
    crm("edit", "deal", "ohne", "--company", "")
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    header = [h.lower() for h in _header(terminal(200, "list", "deals"))]
    assert "deal" in header and "contact" in header
    assert not {"close", "company", "owner"} & set(header), header


def test_a_pipe_keeps_every_column(crm):
    crm("add", "contact", "Kunde")
    crm("add", "deal", "Ohne alles", "-C", "kunde", "--amount", "100")
    header = crm("list", "deals").stdout.splitlines()[0].split()
    assert {"CLOSE", "OWNER"} <= set(header)


DEMO_TABLES = [
    ("list", "contacts"), ("list", "companies"), ("list", "deals"), ("list", "tasks"),
    ("list", "activities"), ("list", "activities", "--open"), ("show", "1"),
    ("show", "company", "1"), ("search", "a"), ("report", "funnel"), ("report", "pipeline"),
    ("report", "sales", "--by", "owner"), ("stages",), ("remind", "--all"),
]  # fmt: skip


@pytest.mark.parametrize("width", [80, 120])
def test_demo_tables_fit_and_keep_what_rows_are_read_by(crm, terminal, width):
    assert crm("demo", "--contacts", "40").exit_code == 0
    for args in DEMO_TABLES:
        terminal(width, *args)  # fits the width (checked in terminal)
    names = [c["name"] for c in crm("list", "contacts", "-o", "json").json()]
    shown = "\n".join(terminal(width, "list", "contacts", "--limit", "0"))
    assert all(n in shown for n in names if len(n) <= 20), shown  # names are never cut to 14
    titles = [d["title"] for d in crm("list", "deals", "-o", "json").json()]
    shown = "\n".join(terminal(width, "list", "deals", "--limit", "0"))
    assert all(t in shown for t in titles if len(t) <= 24), shown
    tasks = [t["title"] for t in crm("list", "tasks", "-o", "json").json()]
    shown = "\n".join(terminal(width, "list", "tasks", "--limit", "0"))
    assert all(t in shown for t in tasks if len(t) <= 28), shown
