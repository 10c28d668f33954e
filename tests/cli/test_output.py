"""Output conventions: decorated only on a terminal, plain when piped or with NO_COLOR."""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture
def one(crm):
    crm("add", "contact", "Jürgen Müller", "-c", "Müller Bau GmbH", "-t", "vip")


def test_terminal_gets_a_rich_table(crm, one, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    out = crm("list", "contacts").stdout
    assert "\x1b[" in out  # styled header
    assert "─" in out  # rule under the header
    assert "Jürgen Müller" in out


def test_no_color_on_a_terminal_is_plain(crm, one, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("NO_COLOR", "1")
    out = crm("list", "contacts").stdout
    assert "\x1b[" not in out and "─" not in out
    assert out.splitlines()[1].split()[:3] == ["1", "Jürgen", "Müller"]


def test_piped_output_has_no_escape_codes(crm, one):
    for args in (
        ["list", "contacts"],
        ["show", "1"],
        ["show", "company", "1"],
        ["search", "mull"],
        ["list", "tags"],
    ):
        out = crm(*args).stdout
        assert out and "\x1b[" not in out, args


def test_terminal_list_is_paged_with_a_hint(crm, monkeypatch):
    from crmcli import env
    from crmcli.commands import common

    for i in range(4):
        crm("add", "contact", f"Person {i}")
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(common, "TERMINAL_PAGE", 3)
    r = crm("list", "contacts")
    assert "showing 1-3 of 4; --limit 0 shows all" in r.stderr
    r = crm("list", "contacts", "--limit", "0")
    assert "Person 3" in r.stdout and r.stderr == ""
    # Scripts get everything.
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: False)
    assert len(crm("list", "contacts").stdout.splitlines()) == 5


def test_terminal_lists_of_tasks_and_activities_say_what_their_page_hides(crm, monkeypatch):
    """`list tasks` and `list activities` at a terminal show a page and say so, counted with
    the list's own filters (open tasks, a kind of activity), as `list contacts` does."""
    from crmcli import env
    from crmcli.commands import common

    crm("add", "contact", "Eva Weiß")
    for i in range(5):
        crm("add", "task", f"Aufgabe {i}", "-C", "eva", "--due", "today")
        crm("log", "call" if i % 2 else "note", "eva", "--subject", f"Nr. {i}")
    crm("done", "Aufgabe 4")
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(common, "TERMINAL_PAGE", 3)
    for args, hint in (
        (["list", "tasks"], "showing 1-3 of 4;"),
        (["list", "tasks", "--today"], "showing 1-3 of 4;"),
        (["list", "tasks", "--all"], "showing 1-3 of 5;"),
        (["list", "tasks", "--done"], ""),
        (["list", "activities"], "showing 1-3 of 5;"),
        (["list", "activities", "--kind", "note"], ""),
        (["list", "activities", "--offset", "1"], "showing 2-4 of 5;"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, r.stderr
        assert (hint in r.stderr) if hint else r.stderr == "", (args, r.stderr)
    assert crm("list", "tasks", "--limit", "0").stderr == ""


def test_terminal_card(crm, one, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    out = crm("show", "company", "1").stdout
    assert "Müller Bau GmbH" in out and "People (1)" in out and "\x1b[" in out


def test_version_and_help(crm):
    r = crm("--version")
    assert r.exit_code == 0 and r.stdout.startswith("crm ")
    r = crm("--help")
    assert r.exit_code == 0 and "add" in r.stdout


def test_data_is_never_read_as_markup_on_a_terminal(crm, monkeypatch):
    from crmcli import env

    crm(
        "add",
        "contact",
        "Markup [bold]Test[/bold]",
        "--notes",
        "Rabatt [/x] 10%",
        "--city",
        "[red]Köln",
    )
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    for args in (["show", "markup"], ["list", "contacts"]):
        r = crm(*args)
        assert r.exit_code == 0, r.stderr
        assert "[bold]Test[/bold]" in r.stdout
    assert "[/x]" in crm("show", "markup").stdout


def test_subcommand_help_is_plain_and_lists_subcommands(crm):
    r = crm("add", "--help")
    assert r.exit_code == 0
    assert "─" not in r.stdout and "╭" not in r.stdout
    assert "install-completion" not in r.stdout
    for name in ("contact", "company", "task"):
        assert f"  {name}" in r.stdout


def test_errors_stay_one_line_even_when_the_cause_is_not(crm, monkeypatch):
    from crmcli.errors import CrmError
    from crmcli.services import contacts

    def broken(*args, **kwargs):
        raise CrmError("first line\nDETAIL:  second line")

    monkeypatch.setattr(contacts, "iter_contacts", broken)
    r = crm("list", "contacts")
    assert r.exit_code == 1
    assert r.stderr == "crm: error: first line DETAIL: second line\n"


def test_a_bad_pinned_clock_is_a_clear_error(crm, monkeypatch):
    monkeypatch.setenv("CRM_NOW", "gestern")
    r = crm("list", "tasks")
    assert r.exit_code == 1
    assert r.stderr == "crm: error: CRM_NOW: 'gestern' is not an ISO datetime\n"


def test_csv_keeps_phone_numbers_and_signed_numbers(crm):
    """crm's own E.164 phone numbers are plain signed numbers: no formula, no ' in front."""
    import csv
    import io

    assert crm("add", "contact", "Anna", "--phone", "+49 221 999").exit_code == 0
    row = next(csv.DictReader(io.StringIO(crm("list", "contacts", "-o", "csv").stdout)))
    assert row["phone_e164"] == "+49221999"
    # Digit groups after a sign are a formula to a spreadsheet (space: intersection): quoted.
    assert row["phone"] == "'+49 221 999"
    from crmcli.output import _csv_cell

    for number in ("+49221999", "-5", "+1.5", "-0.25"):
        assert _csv_cell(number) == number
    for formula in (
        "+1+1",
        "-2+3",
        "=1",
        "+A1",
        "-(1)",
        "@SUM(A1)",
        "+1.5e3",
        "+ 1",
        "+",
        "+49-221",
        "+1 +1",
    ):
        assert _csv_cell(formula) == "'" + formula, formula


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_streamed_json_array_is_what_json_dumps_writes(count):
    """-o json is written row by row (an export never holds every row) yet reads exactly as
    one json.dumps(rows, indent=2): the same bytes scripts saw before."""
    import io
    import json

    from crmcli.output import _write_json_array

    rows = [
        {"id": i, "name": f"Jürgen {i}", "tags": ["vip", "b2b"], "fields": {"k": "a\\nb"},
         "nested": {"x": [1, {"y": None}]}}
        for i in range(count)
    ]  # fmt: skip
    out = io.StringIO()
    _write_json_array(iter(rows), out)
    assert out.getvalue() == json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def _plain_table_row_by_row(rows, columns) -> str:
    """The plain table as output._plain_table made it a row at a time: the reference."""
    from crmcli.output import _filled, display

    columns = _filled(rows, columns)
    cells = [[display(row.get(c.key)) for c in columns] for row in rows]
    headers = [c.header.upper() for c in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if c.justify == "right" else v.ljust(w)
            for v, w, c in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "".join(line(r) + "\n" for r in [headers, *cells])


def test_the_plain_table_is_made_a_column_at_a_time_to_the_same_text():
    """Piped, every column and cell as before: numbers, flags, money, dates, None, text with
    control characters, wide and empty cells, trailing blanks stripped; and more rows than
    one block of lines."""
    import io
    from datetime import date, datetime
    from decimal import Decimal

    from crmcli import output
    from crmcli.output import Column

    columns = [
        Column("id", "Id", "right"), Column("name", "Name"), Column("n", "Count", "right"),
        Column("flag", "Flag"), Column("when", "When"), Column("amount", "Amount", "right"),
        Column("note", "Note"),
    ]  # fmt: skip
    values = {
        "id": [1, 22, 333, -4], "name": ["Jürgen Müller", "a\x1b[31mb", "", "x\ty\nz"],
        "n": [0, True, None, 10**20], "flag": [False, None, "ja", 7],
        "when": [date(2026, 11, 30), datetime(2026, 11, 30, 9, 5), None, "morgen"],
        "amount": [Decimal("1.50"), Decimal("-0.05"), None, "12,00 €"],
        "note": ["", None, "  Leer am Ende  ", "\u202eabc"],
    }  # fmt: skip
    rows = [
        {key: values[key][(i * (k + 1)) % 4] for k, key in enumerate(values)} for i in range(12_345)
    ]
    for some in (rows, rows[:1], rows[:7]):
        out = io.StringIO()
        output._plain_table(some, columns, out)
        assert out.getvalue() == _plain_table_row_by_row(some, columns)
    out = io.StringIO()
    output._plain_table(rows[:3], [Column("note", "")], out)
    assert out.getvalue() == _plain_table_row_by_row(rows[:3], [Column("note", "")])


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False), st.dates(),
    st.datetimes(timezones=st.just(UTC)),
)  # fmt: skip
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(), st.integers()), inner, max_size=4),
    ),  # fmt: skip
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(_TREES, st.integers(min_value=0, max_value=3))
def test_json_indented_is_the_text_json_dumps_indent_2_gives(value, level):
    import json

    from crmcli.output import json_indented, jsonable

    text = json.dumps(jsonable(value), ensure_ascii=False, indent=2)
    assert json_indented(value, level) == text.replace("\n", "\n" + "  " * level)


_CELL = st.text(alphabet=st.sampled_from(list('ab ,;"äß')), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=5),
    st.sampled_from([",", ";"]),
)
def test_cells_quoted_in_the_bytes_are_what_the_csv_module_writes(rows, sep):
    """output._quoted_cells, which quotes a batch's cells where they are (write_csv_chunks),
    against csv.writer's QUOTE_MINIMAL on the same rows."""
    import csv
    import io

    from crmcli.output import _UNIT, _quoted_cells

    data = "\n".join(_UNIT.join(row) for row in rows).encode()
    made = _quoted_cells(data, sep.encode()).replace(_UNIT.encode(), sep.encode())
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows(rows)
    assert made.decode() == out.getvalue().rstrip("\n")
