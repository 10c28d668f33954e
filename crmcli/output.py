"""The one place that decides how results look: rich tables on a terminal, plain text when
piped or with NO_COLOR, and JSON, JSONL or CSV for scripts.

Services hand over plain dicts with complete data; JSON and CSV carry every key, tables show
the columns a command picks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple, TextIO


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


# NamedTuples, not dataclasses: every command imports this module, and a dataclass costs
# ~0.5 ms of start-up to make (plus ~1 ms for the dataclasses module).
class Column(NamedTuple):
    """A table column. On a terminal narrower than the table, columns are fitted in this
    order: free text shrinks (down to `min_width`, ellipsized, one line per row), then whole
    columns go, highest `drop` first (0: never dropped). `min_width` is how far a text may
    shrink before columns go: give the column a person reads a row by (a name, a title) 20 or
    more, so phone, city or tags go before it is cut short. A `keep` column is never cut:
    money, dates, ids and emails; right-aligned columns (numbers) and columns holding only
    dates or numbers are kept too (a kept column may still go whole, by its `drop`). On a
    terminal a column empty in every row is left out first. A `wrap` column's text wraps onto
    more lines where it is shrunk, rather than being cut (an order's product names, which
    often share their first words)."""

    key: str
    header: str
    justify: str = "left"
    max_width: int | None = None
    keep: bool = False
    drop: int = 0
    min_width: int | None = None
    wrap: bool = False


class Section(NamedTuple):
    """A titled table inside a card (a company's people, a contact's custom fields)."""

    title: str
    rows: list[dict]
    columns: Sequence[Column]


def jsonable(value: Any) -> Any:
    from decimal import Decimal  # json, csv and decimal load only for those formats

    if isinstance(value, datetime):
        from crmcli.values import iso

        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# Characters that must not reach a terminal as they are: C0 controls (ESC starts colour,
# title and OSC 8 sequences, BEL rings, CR overwrites the line), DEL, C1 controls (0x9b is a
# CSI of its own), bidirectional overrides and isolates (they reorder what is shown: "Trojan
# Source") and the Unicode line separators. Built on first use.
_VISIBLE: dict[int, str] = {}
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)


def _visible_table() -> dict[int, str]:
    if not _VISIBLE:
        _VISIBLE.update({c: "^" + chr(c + 64) for c in range(32)})  # ^[ ^G ^M as less shows
        _VISIBLE[0x7F] = "^?"
        _VISIBLE.update({c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})
        _VISIBLE.update({c: f"\\u{c:04x}" for c in _BIDI})
        _VISIBLE[ord("\t")] = " "
    return _VISIBLE


def clean(text: str, *, newlines: bool = False) -> str:
    """Text from the database made safe for a terminal or plain output: control characters
    shown visibly (`^[`, `\\x9b`, `\\u202e`), tabs as spaces; a newline (or CR LF) is kept
    only where the layout allows (`newlines=True`, as a newline), else it becomes a space."""
    if text.isprintable():  # the common case, fast
        return text
    table = _visible_table()
    if newlines:  # a Windows line break (CR LF) is a line break too; a lone CR is shown
        lines = text.replace("\r\n", "\n").split("\n")
        return "\n".join(line.translate(table) for line in lines)
    return text.replace("\r\n", " ").replace("\n", " ").translate(table)


_UNSAFE_IN_JSON = None


def _json_safe(text: str) -> str:
    """JSON text with C1 controls, bidi overrides and line separators written as \\uXXXX
    escapes (json escapes C0 controls itself): the same data for a parser, nothing a terminal
    would act on when the JSON is looked at there."""
    global _UNSAFE_IN_JSON
    if _UNSAFE_IN_JSON is None:
        import re

        _UNSAFE_IN_JSON = re.compile("[\x7f-\x9f" + "".join(map(chr, _BIDI)) + "]")
    if _UNSAFE_IN_JSON.search(text) is None:  # the common case: one fast scan
        return text
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def display(value: Any, *, newlines: bool = False) -> str:
    """A value as a person reads it: local time, no None, lists comma-separated, control
    characters made visible (see clean)."""
    if value is None:
        return ""
    kind = type(value)  # the two common cases first: a long table has hundreds of thousands
    if kind is str:
        return clean(value, newlines=newlines)
    if kind is int:
        return str(value)  # digits, printable: what clean(str(value)) below gives
    if isinstance(value, str):
        return clean(value, newlines=newlines)
    if isinstance(value, datetime):
        return display_datetime(value)
    if isinstance(value, date):
        shown = getattr(value, "shown", None)  # a birthday without a year: 24.12.
        return shown() if shown else display_date(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if type(value).__name__ == "Decimal":  # days, ratios (money goes through money())
        return _number(value)
    if isinstance(value, dict):
        return ", ".join(f"{display(k)}={display(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value)
    return clean(str(value))


# The locale steady_locale read, while its block runs (innermost last).
_steady: list[str | None] = []


@contextmanager
def steady_locale() -> Iterator[None]:
    """Within the block locale() is what it was at its start, read from the environment once:
    a list of thousands of rows shows dates a few times a row, and each reading of the
    environment is four lookups (~3 µs)."""
    _steady.append(locale())
    try:
        yield
    finally:
        _steady.pop()


def locale() -> str | None:
    """How people read dates and numbers here: `de`, `en` or None (ISO dates, German numbers).
    $CRM_LOCALE decides (de or en, regional forms too; env.check_settings refuses any other
    value at start), else the first of $LC_ALL, $LC_TIME and $LANG that is set (de_* means
    de). JSON and CSV never change."""
    if _steady:
        return _steady[-1]
    chosen = os.environ.get("CRM_LOCALE")
    if chosen is None:
        chosen = next(
            (os.environ[v] for v in ("LC_ALL", "LC_TIME", "LANG") if os.environ.get(v)), ""
        )
        return "de" if chosen.lower().startswith("de") else None
    code = chosen.strip().split(".")[0].split("_")[0].lower()
    return code if code in ("de", "en") else None


def display_datetime(value: datetime) -> str:
    """A moment in local time: `24.12.2026 14:00` (de) or `2026-12-24 14:00`."""
    from crmcli.values import format_datetime, local_tz, to_utc

    if locale() == "de":
        return to_utc(value).astimezone(local_tz()).strftime("%d.%m.%Y %H:%M")
    return format_datetime(value)


def display_date(value: date | datetime | None) -> str:
    """A date as a person reads it (a datetime gives its local date): `24.12.2026` (de) or
    `2026-12-24`; "" for None."""
    from crmcli.values import format_date

    if value is not None and locale() == "de":
        from crmcli.values import local_tz, to_utc

        if isinstance(value, datetime):
            value = to_utc(value).astimezone(local_tz()).date()
        return value.strftime("%d.%m.%Y")
    return format_date(value)


def _number(value: Any, places: int | None = None) -> str:
    """A decimal number for people: a decimal comma (as money has) unless the locale is en."""
    text = f"{value:.{places}f}" if places is not None else str(value)
    return text if locale() == "en" else text.replace(".", ",")


def money(value: Any, currency: str = "EUR") -> str:
    """An amount (Decimal, as services return it) for people: `1.234,50 €` (`€1,234.50` in
    the en locale); "" for None."""
    if value is None:
        return ""
    from decimal import Decimal

    from crmcli.values import format_money

    return format_money(int(Decimal(value).scaleb(2)), currency, german=locale() != "en")


def percent(ratio: Any, places: int = 1) -> str:
    """A ratio (Decimal 0.6667) as a percentage for people: `66,7 %`; "" for None."""
    if ratio is None:
        return ""
    from decimal import Decimal

    return _number(Decimal(ratio) * 100, places) + " %"


def _csv_cell(value: Any) -> Any:
    """One CSV cell: nested records as JSON text, a list of plain values comma-separated
    (tags: `vip, b2b`), booleans as true/false."""
    if value is None:
        return ""
    if type(value) is str:  # the common case first
        return _defused(value) if value and value[0] in _RISKY else value
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    value = jsonable(value)
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return _defused(", ".join("" if v is None else str(v) for v in value))
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    if isinstance(value, str):
        return _defused(value)
    return value


def write_rows(
    rows: Iterable[dict],
    fmt: Format | str,
    out: TextIO,
    *,
    fields: Sequence[str],
    excel: bool = False,
    compact: bool = False,
) -> int:
    """Write rows as a JSON array, JSON lines or CSV to `out`, as they come (a big export is
    never one list in memory); returns how many. CSV has the header `fields` (the same with
    or without rows) and spreadsheet-safe cells (see _defused); `excel` makes it what German
    Excel opens by double-click: `;` between cells, a BOM, CRLF, decimal commas. `compact`
    writes a JSON array one row a line (fast, for exports) instead of indented."""
    fmt = Format(fmt)
    count = 0
    if fmt is Format.json and not compact:
        counted = _Counter(rows)
        _write_json_array(counted, out)
        return counted.count
    if fmt in (Format.json, Format.jsonl):
        import json

        # An export (compact) writes no spaces: what SQLite's JSON functions write, and
        # a tenth less to write.
        separators = (",", ":") if compact else None
        encode = json.JSONEncoder(
            ensure_ascii=False, default=_json_default, separators=separators
        ).encode
        array = fmt is Format.json
        if array:
            out.write("[")
        pieces: list[str] = []
        for row in rows:
            text = encode(row)
            pieces.append(("\n" if count == 0 else ",\n") + text if array else text + "\n")
            count += 1
            if len(pieces) == 1000:
                out.write(_json_safe("".join(pieces)))
                pieces = []
        if array:
            pieces.append("\n]\n" if count else "]\n")
        out.write(_json_safe("".join(pieces)))
        return count
    if fmt is not Format.csv:
        raise ValueError(f"write_rows writes json, jsonl or csv, not {fmt}")
    keys = list(fields)
    writer = _csv_writer(out, keys, excel)
    cell = _excel_cell if excel else _csv_cell
    plain_types = {str, int, type(None)}
    import re

    # A cell that starts like a formula, at the start of any line of the row's text (a line
    # break inside a cell only sends that row the slow way).
    formula = re.compile(r"^[=+\-@\t\r]", re.MULTILINE).search
    # CSV has no escapes: control characters are shown (^[), never written raw, since CSV
    # is read on terminals and in spreadsheets alike; JSON keeps the exact text, escaped.
    # Most rows are plain text and numbers: checked whole, in a few C calls; the rest cell by
    # cell (an export runs this for every row).
    batch = []
    for row in rows:
        values = [row.get(key) for key in keys]
        if set(map(type, values)) <= plain_types:
            texts = [v for v in values if type(v) is str]
            if "".join(texts).isprintable() and not formula("\n".join(texts)):
                batch.append(values)  # the csv module writes None as an empty cell
                if len(batch) == 1000:
                    writer.writerows(batch)
                    count += len(batch)
                    batch = []
                continue
        batch.append(_csv_line(values, cell))
        if len(batch) == 1000:
            writer.writerows(batch)
            count += len(batch)
            batch = []
    writer.writerows(batch)
    return count + len(batch)


def _csv_writer(out: TextIO, keys: Sequence[str], excel: bool):
    import csv

    if excel:
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
    writer.writerow(keys)
    return writer


def _csv_line(values: Sequence[Any], cell) -> list:
    """One row's cells made safe one by one (formulas defused, control characters shown)."""
    line = []
    for value in values:
        kind = type(value)
        if kind is str:
            if value and value[0] in _RISKY:
                value = _defused(value)
            if not value.isprintable():
                value = clean(value, newlines=True)
        elif value is None:
            value = ""
        elif kind is not int:
            value = cell(value)
            if type(value) is str and not value.isprintable():
                value = clean(value, newlines=True)
        line.append(value)
    return line


def write_csv_batches(
    batches: Iterable[list[tuple]],
    out: TextIO,
    *,
    fields: Sequence[str],
    excel: bool = False,
    repair: Callable[[list[tuple]], list[tuple]] | None = None,
) -> int:
    """write_rows for CSV from batches of rows of text cells (in `fields` order): the same
    file, made safe a batch at a time. A batch whose text is all printable and has no cell
    starting like a formula is handed to the csv module as it is (one check for thousands
    of rows); any other goes row by row. `repair` remakes a batch with None cells."""
    import re

    writer = _csv_writer(out, fields, excel)
    cell = _excel_cell if excel else _csv_cell
    formula = re.compile(r"^[=+\-@\t\r]", re.MULTILINE).search
    count = 0
    for rows in batches:
        try:
            whole = "".join(map("".join, rows))
        except TypeError:  # a cell that is not text
            if repair is not None:
                rows = repair(rows)
            whole = None
        if (
            whole is not None
            and whole.isprintable()
            and not formula("\n".join(map("\n".join, rows)))
        ):
            writer.writerows(rows)
        else:
            writer.writerows([_csv_line(row, cell) for row in rows])
        count += len(rows)
    return count


def write_csv_chunks(
    chunks: Iterable[Any],
    out: TextIO,
    *,
    fields: Sequence[str],
    excel: bool = False,
    remake: Callable[[list[int]], dict[int, list]],
) -> int:
    """write_rows for CSV from batches of lines made elsewhere (exports_sqlite.Chunk: UTF-8
    bytes, a line a row, the cells unquoted with UNIT between them, the first the row's
    id): the same file. A batch is written as it is (UNIT made the delimiter) when a few
    scans of its bytes show that no cell needs quoting, defusing or cleaning; when only some
    need quoting, those are quoted in the bytes; otherwise each line that needs more has its
    cells quoted, defused and cleaned as write_rows does, and a line
    with a NUL (a value its maker could not write) or a UNIT too many is made from its row
    (`remake(ids)`: by id)."""
    import csv
    import re

    writer = _csv_writer(out, fields, excel)
    # A cell starting like a formula (a tab or CR is not printable: _clean_bytes finds it).
    risky = re.compile(rb"\x1f[-+=@]").search
    sep, newline = writer.dialect.delimiter, writer.dialect.lineterminator
    bsep, bnewline, unit = sep.encode(), newline.encode(), _UNIT.encode()
    gaps = len(fields) - 1
    cell = _excel_cell if excel else _csv_cell
    sink = _Pieces()
    rewriter = csv.writer(sink, delimiter=sep, lineterminator=newline)
    put = _bytes_to(out)
    count = 0

    quote = b'"'

    def plain(data: bytes, lines: int) -> bool:  # nothing to quote, defuse or clean
        return (
            data.count(unit) == lines * gaps
            and data.count(b"\n") == lines - 1
            and bsep not in data
            and quote not in data
            and risky(data) is None
            and _clean_bytes(data)
        )

    for chunk in chunks:
        data = chunk.data
        count += chunk.count
        if (
            data.count(unit) == chunk.count * gaps
            and data.count(b"\n") == chunk.count - 1
            and risky(data) is None
            and _clean_bytes(data)
        ):
            if bsep in data or quote in data:
                # Only cells to quote (several tags, a note with a comma), none holding a
                # newline: those cells quoted where they are, the rest left as it is.
                data = _quoted_cells(data, bsep)
            data = data.replace(unit, bsep)
            put((data.replace(b"\n", bnewline) if excel else data) + bnewline)
            continue
        lines = chunk.lines()
        if data.count(unit) == chunk.count * gaps and risky(data) is None and _clean_bytes(data):
            # Only cells to quote (several tags, a note with a comma): those lines go
            # through the csv module as they are, the others as bytes.
            pieces = []
            for line in lines:
                if bsep in line or quote in line or b"\n" in line:
                    sink.got.clear()
                    rewriter.writerow(line.decode().split(_UNIT))
                    pieces.append("".join(sink.got).encode())
                else:
                    pieces.append(line.replace(unit, bsep) + bnewline)
            put(b"".join(pieces))
            continue
        again = [
            int(line.split(unit, 1)[0])
            for line in lines
            if b"\0" in line or line.count(unit) != gaps
        ]
        made = remake(again) if again else {}
        pieces = []
        for line in lines:
            if plain(line, 1):
                pieces.append(line.replace(unit, bsep) + bnewline)
                continue
            if b"\0" in line or line.count(unit) != gaps:
                cells: list = made[int(line.split(unit, 1)[0])]
            else:
                cells = line.decode().split(_UNIT)
            sink.got.clear()
            rewriter.writerow(_csv_line(cells, cell))
            pieces.append("".join(sink.got).encode())
        put(b"".join(pieces))
    return count


def write_json_chunks(
    chunks: Iterable[Any], fmt: Format | str, out: TextIO, *, remake: Callable[[list[int]], dict]
) -> int:
    """write_rows for JSON lines or a compact JSON array from batches of records already
    encoded (exports_sqlite.Chunk: UTF-8 bytes, one JSON text a line, as write_rows with
    compact=True writes it, beginning `{"id":ID,`). A line with `\\u0000` (a value its
    maker could not write, or a text with a NUL) is made from its record (`remake(ids)`)."""
    array = Format(fmt) is Format.json
    put = _bytes_to(out)
    count = 0
    if array:
        put(b"[")
    nul = b"\\u0000"
    for chunk in chunks:
        data = chunk.data
        # `\` first: memchr finds a byte at once, while a search for `\u0000` stumbles over
        # every 0 in the digits (1 s of a 2.6 CPU s export of 1,000,000 lines).
        if (b"\\" in data and nul in data) or not _clean_bytes(data):
            lines = chunk.lines()
            again = [int(line[6 : line.index(b",")]) for line in lines if nul in line]
            made = remake(again) if again else {}
            texts = [
                made[int(line[6 : line.index(b",")])] if nul in line else line.decode()
                for line in lines
            ]
            data = _json_safe("\n".join(texts)).encode()
        if array:
            put((b"\n" if count == 0 else b",\n") + data.replace(b"\n", b",\n"))
        else:
            put(data + b"\n")
        count += chunk.count
    if array:
        put(b"\n]\n" if count else b"]\n")
    return count


def _quoted_cells(data: bytes, sep: bytes) -> bytes:
    """Lines of cells (UNIT between the cells, a newline between the lines, none inside a
    cell) with every cell that holds `sep` or a double quote quoted as the csv module
    quotes it (QUOTE_MINIMAL: in double quotes, each one inside doubled); found from those
    characters, so a batch where few cells need it is mostly copied as it is."""
    unit, quote = _UNIT.encode(), b'"'
    out = []
    done = 0  # data[:done] is in out
    next_sep, next_quote = data.find(sep), data.find(quote)
    while next_sep >= 0 or next_quote >= 0:
        at = next_quote if next_sep < 0 or 0 <= next_quote < next_sep else next_sep
        start = max(data.rfind(unit, done, at), data.rfind(b"\n", done, at)) + 1
        start = max(start, done)
        ends = [e for e in (data.find(unit, at), data.find(b"\n", at)) if e >= 0]
        end = min(ends) if ends else len(data)
        out += (data[done:start], quote, data[start:end].replace(quote, b'""'), quote)
        done = end
        if 0 <= next_sep < end:  # -1: none left (not looked for again)
            next_sep = data.find(sep, end)
        if 0 <= next_quote < end:
            next_quote = data.find(quote, end)
    out.append(data[done:])
    return b"".join(out)


_UNIT = "\x1f"  # between the cells of a line (exports_sqlite.UNIT)
# Printable ASCII and the separators of lines and cells: what a batch is mostly made of.
# What is left when they are taken out (the non-ASCII characters, whole, and any control
# character) is scanned for what clean() and _json_safe would change.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n\x1f"
_HIGH = bytes(range(0x80, 0x100))
_UNCLEAN = None


def _clean_bytes(data: bytes) -> bool:
    """Whether UTF-8 text holds nothing clean() or _json_safe shows differently (control
    characters, DEL, C1 controls, bidi controls, line separators), newlines and UNIT aside,
    and its characters beyond ASCII are UTF-8."""
    global _UNCLEAN
    rest = data.translate(None, _PLAIN_ASCII)
    if not rest:
        return True
    if rest.translate(None, _HIGH):  # a control character
        return False
    try:  # text another program wrote that is no UTF-8: looked at line by line, and refused
        rest.decode()
    except UnicodeDecodeError:
        return False
    # Only characters beginning with these bytes can be C1, bidi controls or separators.
    if b"\xc2" not in rest and b"\xd8" not in rest and b"\xe2" not in rest:
        return True
    if _UNCLEAN is None:
        import re

        visible = b"|".join(re.escape(chr(c).encode()) for c in _BIDI)
        _UNCLEAN = re.compile(rb"\xc2[\x80-\x9f]|" + visible)
    return _UNCLEAN.search(rest) is None


def _bytes_to(out: TextIO) -> Callable[[bytes], Any]:
    """A writer of UTF-8 bytes into `out`: its binary buffer when it has one (what was
    written as text flushed first), else decoded."""
    buffer = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    if buffer is None or encoding != "utf8":
        return lambda data: out.write(data.decode())
    out.flush()
    return buffer.write


class _Pieces:
    """A file for the csv module that keeps what it is given."""

    def __init__(self) -> None:
        self.got: list[str] = []

    def write(self, text: str) -> None:
        self.got.append(text)


def write_json_texts(batches: Iterable[list[str]], fmt: Format | str, out: TextIO) -> int:
    """write_rows for JSON lines or a compact JSON array from rows already encoded (one
    JSON text a row, as json.JSONEncoder(ensure_ascii=False) writes it)."""
    fmt = Format(fmt)
    array = fmt is Format.json
    count = 0
    if array:
        out.write("[")
    for texts in batches:
        if array:
            chunk = ("\n" if count == 0 else ",\n") + ",\n".join(texts)
        else:
            texts.append("")
            chunk = "\n".join(texts)
        # JSON escapes every C0 control itself; what _json_safe escapes is not printable
        # either, so printable texts (nearly all) skip its slower scan.
        out.write(chunk if all(map(str.isprintable, texts)) else _json_safe(chunk))
        count += len(texts) - (not array)
    if array:
        out.write("\n]\n" if count else "]\n")
    return count


class _Counter:
    def __init__(self, rows: Iterable[dict]):
        self.rows = iter(rows)
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self):
        row = next(self.rows)
        self.count += 1
        return row


def _json_default(value: Any) -> Any:
    """What the JSON encoder calls for a value it does not know: dates, datetimes, Decimals
    (the fast path of an export: jsonable walks every value, this only the few it must)."""
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return converted


def json_indented(value: Any, level: int = 0) -> str:
    """json.dumps(jsonable(value), ensure_ascii=False, indent=2) as text at `level` (its
    lines after the first indented by 2 x level), the same text, made faster: a dict or list
    whose values are all plain is encoded by json's C encoder in one call, its item separator
    carrying the line break and indent (the indented form is json's Python encoder, ~10x
    slower: 2.4 s of rfm's 100,000 customers); only what nests is walked here."""
    import json

    pad = "  " * (level + 1)
    if isinstance(value, dict | list | tuple) and value:
        items = value.values() if isinstance(value, dict) else value
        if not any(isinstance(v, dict | list | tuple) for v in items):
            text = json.dumps(
                value, ensure_ascii=False, separators=(",\n" + pad, ": "), default=_json_default
            )
            return text[0] + "\n" + pad + text[1:-1] + "\n" + pad[:-2] + text[-1]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            parts = [
                json.dumps(k, ensure_ascii=False) + ": " + json_indented(v, level + 1)
                for k, v in value.items()
            ]
            return "{\n" + pad + (",\n" + pad).join(parts) + "\n" + pad[:-2] + "}"
        if not isinstance(value, dict):
            parts = [json_indented(v, level + 1) for v in value]
            return "[\n" + pad + (",\n" + pad).join(parts) + "\n" + pad[:-2] + "]"
    text = json.dumps(jsonable(value), ensure_ascii=False, indent=2)
    return text.replace("\n", "\n" + pad[:-2]) if level else text


def _write_json_array(rows: Iterable[dict], out: TextIO) -> None:
    """The rows as one indented JSON array, written as they come (an export of every contact
    never holds them all), in the text json.dumps(rows, indent=2) would give; written in
    pieces of some hundred rows, since many small writes are slow."""

    pieces: list[str] = []
    first = True
    for row in rows:
        pieces.append(("[\n" if first else ",\n") + "  " + json_indented(row, 1))
        first = False
        if len(pieces) == 500:
            out.write(_json_safe("".join(pieces)))
            pieces = []
    pieces.append("[]\n" if first else "\n]\n")
    out.write(_json_safe("".join(pieces)))


def _excel_cell(value: Any) -> Any:
    """A CSV cell for German Excel: as _csv_cell, with a decimal comma in numbers that have a
    fraction (an amount `-12.50` becomes `-12,50`, which Excel reads as a number there)."""
    if type(value).__name__ == "Decimal" or isinstance(value, float):
        return str(jsonable(value)).replace(".", ",")
    return _csv_cell(value)


# What a spreadsheet takes as the start of a formula (OWASP: CSV injection).
_RISKY = "=+-@\t\r"
_PLAIN_NUMBER = None


def _defused(text: str) -> str:
    """A text cell a spreadsheet must not run as a formula (OWASP CSV injection): a leading
    =, +, -, @, tab or CR gets a ' in front. OWASP prefixes every such cell; we keep one that
    is a plain signed number and nothing else, since a number runs nothing and a negative
    amount must stay a number to be summed: `-5`, `+1.5`, `-12,50`, an E.164 phone number
    (`+49221999`). Anything more after the sign gets the ', digit groups too: a spreadsheet
    reads `+49 221 999` as a formula (the space is its intersection operator) and `-3-1` as
    a sum. `crm import csv` takes the ' off again."""
    global _PLAIN_NUMBER
    if text and text[0] in _RISKY:
        if _PLAIN_NUMBER is None:
            import re

            _PLAIN_NUMBER = re.compile(r"[+-]\d+(?:[.,]\d+)?")
        if not _PLAIN_NUMBER.fullmatch(text):
            return "'" + text
    return text


def _stdout() -> TextIO:
    return sys.stdout


def _console(out: TextIO):
    from rich.console import Console

    # Only called once env decided this is a person's terminal (see Env.color).
    return Console(file=out, highlight=False, soft_wrap=False, force_terminal=True)


def _use_rich() -> bool:
    from crmcli.env import current

    return current().color


def render_rows(
    rows: Iterable[dict],
    columns: Sequence[Column],
    fmt: Format | str = Format.table,
    *,
    fields: Sequence[str] | None = None,
    empty: str = "",
) -> None:
    """Print rows as a table (rich or plain), JSON array, JSON lines or CSV.

    An empty table prints nothing on stdout; on a terminal `empty` ("No contacts match.")
    tells the person on stderr, so pipes and scripts still get empty output.

    `fields` is the command's machine field set: the CSV header, the same whether there are
    rows or not (JSON carries the same keys, as the services return them)."""
    fmt = Format(fmt)
    out = _stdout()
    if fmt is not Format.table:
        # A command without a declared field set: its table's columns.
        keys = list(fields) if fields is not None else [c.key for c in columns]
        write_rows(rows, fmt, out, fields=keys)
    else:
        rows = list(rows)
        if not rows:  # an empty result is success with empty output
            from crmcli.env import current

            if empty and current().stdout_isatty:
                sys.stderr.write(empty + "\n")
            return
        if _use_rich():
            _rich_table(rows, columns, out)
        else:
            _plain_table(rows, columns, out)


def render_sections_csv(
    parts: Sequence[tuple[str, Iterable[dict]]], fields: Sequence[str], *, key: str = "section"
) -> None:
    """A report of several tables as one flat CSV: each row under the header `key` + `fields`,
    its first cell naming the table it comes from (total, customer, city ...), the columns a
    table does not have left empty. Nothing is left out and no cell holds JSON."""
    rows = ({key: name, **row} for name, table in parts for row in table)
    write_rows(rows, Format.csv, _stdout(), fields=[key, *fields])


def _filled(rows: list[dict], columns: Sequence[Column]) -> list[Column]:
    """The columns with something in them, on a terminal (a person's table: a column empty in
    every row says nothing); piped, every column stays, so the shape does not depend on the
    data."""
    from crmcli.env import current

    if not current().stdout_isatty:
        return list(columns)
    return [c for c in columns if any(display(r.get(c.key)) for r in rows)]


def _rich_table(rows: list[dict], columns: Sequence[Column], out: TextIO, title: str = "") -> None:
    from rich import box
    from rich.table import Table

    console = _console(out)
    columns = _filled(rows, columns)
    cells = [[display(row.get(c.key)) for c in columns] for row in rows]
    fitted = fit_columns(columns, rows, cells, console.width)
    table = Table(box=box.SIMPLE_HEAD, title=title or None, title_justify="left", pad_edge=False)
    for i, width in fitted:
        wrap = columns[i].wrap
        table.add_column(
            columns[i].header, justify=columns[i].justify, width=width, no_wrap=not wrap,
            overflow="fold" if wrap else "ellipsis",
        )  # fmt: skip
    for row, line in zip(rows, cells, strict=True):
        # Values are data, never markup: "[bold]" or "[/x]" in a name prints as typed.
        table.add_row(*(_escape(line[i]) for i, _ in fitted), style=row.get(ROW_STYLE))
    console.print(table)


# A key a view may add to a row: the rich style of the whole row on a terminal
# ("red" for overdue); tables only, never JSON or CSV.
ROW_STYLE = "_style"


def _kept(column: Column, rows: list[dict]) -> bool:
    if column.keep or column.justify == "right":
        return True
    from decimal import Decimal

    values = [r.get(column.key) for r in rows]
    present = [v for v in values if v is not None and v != ""]
    return bool(present) and all(
        isinstance(v, date | int | Decimal) and not isinstance(v, bool) for v in present
    )


WORD_MOST = 24  # a wrapped column's minimum holds words up to this many cells whole


def _longest_word(texts) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for text in texts for word in text.split()), default=0)


def fit_columns(
    columns: Sequence[Column], rows: list[dict], cells: list[list[str]], width: int
) -> list[tuple[int, int]]:
    """Which columns a terminal `width` cells wide shows, and how wide each is: kept columns
    whole, free text shrunk (not below its minimum) and, when even that does not fit, the
    least valuable columns left out. (index, content width) in the columns' order."""
    from rich.cells import cell_len

    natural, minimum, kept = [], [], []
    for i, col in enumerate(columns):
        full = max([cell_len(col.header), *(cell_len(line[i]) for line in cells)])
        keep = _kept(col, rows)
        if not keep and col.max_width:
            full = min(full, col.max_width)
        natural.append(full)
        kept.append(keep)
        least = max(col.min_width or 10, 3)
        if col.wrap:  # a wrapped text breaks at spaces: its longest word whole, if it can
            least = max(least, min(WORD_MOST, _longest_word(line[i] for line in cells)))
        minimum.append(full if keep else min(full, least))
    shown = list(range(len(columns)))

    def room() -> int:  # SIMPLE_HEAD without edge padding: 3 cells a column, less one
        return width - (3 * len(shown) - 1)

    # Columns with nothing in them go first, then by `drop`, highest first.
    empty = [i for i in shown if not any(line[i] for line in cells)]
    ranked = sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop)
    droppable = empty + [i for i in ranked if i not in empty]
    while sum(natural[i] for i in shown) > room() and empty:
        shown.remove(droppable.pop(0))
        empty.pop(0)
    while sum(minimum[i] for i in shown) > room() and droppable:
        shown.remove(droppable.pop(0))
    if sum(natural[i] for i in shown) <= room():
        return [(i, natural[i]) for i in shown]
    free = [i for i in shown if not kept[i]]
    budget = room() - sum(natural[i] for i in shown if i not in free)
    lowest = sum(minimum[i] for i in free)
    if lowest > budget:  # kept columns alone nearly fill the line: free text squeezes more
        squeezed = {i: max(1, budget * minimum[i] // lowest) for i in free}
        return [(i, squeezed.get(i, natural[i])) for i in shown]
    widths = {i: minimum[i] for i in shown}
    spare = room() - sum(widths.values())
    # The space left goes first to the text a row is read by (columns never dropped: a name,
    # a title), then to the rest as each needs it.
    for i in shown:
        if not columns[i].drop and spare > 0:
            grow = min(spare, natural[i] - widths[i])
            widths[i] += grow
            spare -= grow
    wants = {i: natural[i] - widths[i] for i in shown if natural[i] > widths[i]}
    total = sum(wants.values())
    for i, want in wants.items():  # shared as the text needs it
        widths[i] += max(0, spare * want // total) if total else 0
    return [(i, widths[i]) for i in shown]


def _plain_table(rows: list[dict], columns: Sequence[Column], out: TextIO) -> None:
    """Aligned columns, two spaces apart, each line without trailing blanks. Made a column
    at a time (a report of 100,000 rows is 700,000 cells), written in blocks of lines."""
    columns = _filled(rows, columns)
    headers, padded = [], []
    for column in columns:
        key, header = column.key, column.header.upper()
        cells = _shown([row.get(key) for row in rows])
        width = max(len(header), max(map(len, cells), default=0))
        if column.justify == "right":
            headers.append(header.rjust(width))
            padded.append([v.rjust(width) for v in cells])
        else:
            headers.append(header.ljust(width))
            padded.append([v.ljust(width) for v in cells])
    out.write("  ".join(headers).rstrip() + "\n")
    lines = (
        ["  ".join(parts).rstrip() for parts in zip(*padded, strict=True)]
        if padded
        else [""] * len(rows)
    )
    for start in range(0, len(lines), 5_000):
        out.write("\n".join(lines[start : start + 5_000]) + "\n")


def _shown(values: list) -> list[str]:
    """display() of each value of a column; a column of text or of integers alone goes
    through C loops (most columns of a long report are one or the other)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return [v if v.isprintable() else clean(v) for v in values]
    if kinds == {int}:
        return list(map(str, values))
    return [display(v) for v in values]


def render_record(
    record: dict,
    fields: Sequence[tuple[str, str]],
    fmt: Format | str = Format.table,
    *,
    title: str = "",
    sections: Sequence[Section] = (),
    display_record: dict | None = None,
    record_fields: Sequence[str] | None = None,
) -> None:
    """Print one record (a card): labelled fields, then sections. JSON gets the whole record,
    CSV one row of `record_fields` (the card's machine field set); tables show
    `display_record` (the record plus display-only keys) when given."""
    fmt = Format(fmt)
    out = _stdout()
    import json

    if fmt is Format.json:
        out.write(_json_safe(json_indented(record)) + "\n")
        return
    if fmt is Format.jsonl:
        out.write(_json_safe(json.dumps(jsonable(record), ensure_ascii=False)) + "\n")
        return
    if fmt is Format.csv:
        render_rows([record], (), Format.csv, fields=record_fields or list(record))
        return
    view = record if display_record is None else display_record
    shown = [(label, display(view.get(key), newlines=True)) for key, label in fields]
    shown = [(label, value) for label, value in shown if value != ""]
    if _use_rich():
        from rich.table import Table

        console = _console(out)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in shown:
            grid.add_row(label, _escape(value))
        if title:
            console.print(f"[bold]{_escape(clean(title))}[/bold]")
        console.print(grid)
        for section in sections:
            if section.rows:  # an empty section is left out, blank line and all
                console.print()
                _rich_table(section.rows, section.columns, out, title=section.title)
        return
    if title:
        out.write(clean(title) + "\n")
    width = max((len(label) for label, _ in shown), default=0) + 1
    for label, value in shown:
        # A multi-line text (notes, a mail's body) continues under its first line.
        value = value.replace("\n", "\n" + " " * (width + 1))
        out.write(f"{(label + ':').ljust(width)} {value}\n")
    for section in sections:
        if section.rows:
            out.write(f"\n{section.title}\n")
            _plain_table(section.rows, section.columns, out)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class paged:
    """On a terminal, send what is printed inside to $PAGER (less -FRX) when it is longer than
    the screen; elsewhere, print as usual. `crm show` uses it for long timelines."""

    def __enter__(self):
        from crmcli.env import current

        self._active = current().color and os.environ.get("PAGER", "less") not in ("", "cat")
        if self._active:
            import io

            self._real = sys.stdout
            self._buffer = io.StringIO()
            sys.stdout = self._buffer
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self._active:
            return False
        sys.stdout = self._real
        text = self._buffer.getvalue()
        import shutil

        if exc_type is None and text.count("\n") >= shutil.get_terminal_size().lines - 1:
            import shlex
            import subprocess

            pager = shlex.split(os.environ.get("PAGER") or "less")
            env = dict(os.environ)
            env.setdefault("LESS", "FRX")  # as git does: colours, no screen for a short text
            try:
                subprocess.run(pager, input=text, text=True, check=False, env=env)
                return False
            except OSError:
                pass  # no pager installed: print it all
        self._real.write(text)
        return False
