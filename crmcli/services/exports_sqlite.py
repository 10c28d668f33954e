"""A whole contact export on SQLite without an index seek a contact: each related table read
once, in contact order, and merged in Python.

The per-batch text queries of exports.py (contact_csv_batches, contact_json_batches) gather
a contact's emails, phones, tags and fields by correlated subqueries: ~6 index seeks a
contact, most of SQLite's time. An export of every contact (no filter) needs no seek at all:
the contacts are read by id, and emails, phones, tags and fields each by one query that
groups its table by contact_id while walking the (contact_id, ...) index, which SQLite does
in key order without sorting (no temporary b-tree). The five streams are merged by
contact id, like a merge join, and each line is put together from a few pieces SQLite made.

The text is byte for byte what exports.contact_records + flat_contact + output.write_rows
give (tests compare them on awkward data): a batch of lines is written as it is only when a
few scans of it show that no cell needs quoting, defusing or cleaning; otherwise each line
that is not plainly safe, and each with a value SQLite does not write the way Python does
(marked by a NUL character), is made again the general way.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn, TextIO

from crmcli.errors import CrmError
from crmcli.models import Tag, database_proxy
from crmcli.services import exports as ex

LINES = 2000  # lines checked and written at a time
_BAD = "char(0)"  # in place of a value SQLite cannot write as Python does: remade
_END: tuple = (2**63,)  # after the last row of a stream
# The contacts of a part of an export: ids after the first parameter, up to the second.
_RANGE = "WHERE contact_id > ? AND contact_id <= ?"
EVERYONE = (-(2**63), 2**63 - 1)

# Emails and phones grouped by contact in (position, id) order, the order of their index.
# flat_contact puts the primary first: that is this order when the first row is the only
# primary one, or when there is one row and it is not primary (the common shapes; another
# is marked bad). `f` is the is_primary flags in order, e.g. '10'.
_FLAGS = "group_concat(is_primary, '')"
_PRIMARY_FIRST = f"({_FLAGS} GLOB '1' OR ({_FLAGS} GLOB '10*' AND {_FLAGS} NOT GLOB '1*1*'))"


def _first_and_all(table: str, col: str) -> str:
    return (
        f"SELECT contact_id, CASE WHEN {_PRIMARY_FIRST} THEN max(CASE WHEN is_primary THEN "
        f"{col} END) WHEN {_FLAGS} = '0' THEN group_concat({col}, ' ::: ') ELSE {_BAD} END, "
        f"CASE WHEN {_PRIMARY_FIRST} OR {_FLAGS} = '0' THEN group_concat({col}, ' ::: ') "
        f"ELSE {_BAD} END FROM {table} {_RANGE} GROUP BY contact_id ORDER BY contact_id"
    )


_EMAILS_JSON = (
    "SELECT contact_id, '[' || group_concat('{\"email\": ' || json_quote(email) || "
    "', \"kind\": ' || json_quote(kind) || ', \"primary\": ' || CASE WHEN is_primary THEN "
    "'true' ELSE 'false' END || '}', ', ') || ']' FROM contact_email {range} "
    "GROUP BY contact_id ORDER BY contact_id"
)
_PHONES_JSON = (
    "SELECT contact_id, '[' || group_concat('{\"phone\": ' || json_quote(phone) || "
    "', \"e164\": ' || json_quote(phone_e164) || ', \"kind\": ' || json_quote(kind) || "
    "', \"primary\": ' || CASE WHEN is_primary THEN 'true' ELSE 'false' END || '}', ', ') "
    "|| ']' FROM contact_phone {range} GROUP BY contact_id ORDER BY contact_id"
)
# Tags as the ids a contact carries (few different sets: each made into text once).
_TAG_IDS = (
    "SELECT contact_id, group_concat(tag_id) FROM contact_tag {range} GROUP BY contact_id "
    "ORDER BY contact_id"
)
_FIELDS_JSON = (
    "SELECT contact_id, '{' || group_concat(json_quote(key) || ': ' || json_quote(value), "
    "', ') || '}' FROM contact_field {range} GROUP BY contact_id ORDER BY contact_id"
)
_EMAILS_JSON, _PHONES_JSON, _TAG_IDS, _FIELDS_JSON = (
    q.replace("{range}", _RANGE) for q in (_EMAILS_JSON, _PHONES_JSON, _TAG_IDS, _FIELDS_JSON)
)
_FROM = (
    "FROM contact t1 LEFT JOIN company t2 ON t2.id = t1.company_id "
    "WHERE t1.id > ? AND t1.id <= ? ORDER BY t1.id"
)


def whole_export(filters: dict) -> bool:
    """Whether an export with these filters is of every contact on SQLite (this module's)."""
    return ex._sqlite() and not any(v not in (None, [], (), False, "") for v in filters.values())


def _joined(parts: Sequence[str], sep: str) -> str:
    return f" || '{sep}' || ".join(parts)


def _streams(*queries: tuple[str, Sequence]) -> list[Iterator[tuple]]:
    conn = database_proxy.obj.connection()
    return [iter(conn.execute(sql, params)) for sql, params in queries]


def _tag_order() -> dict[int, tuple[int, str]]:
    return {
        tag_id: (i, name)
        for i, (tag_id, name) in enumerate(
            Tag.select(Tag.id, Tag.name).order_by(Tag.name_fold).tuples()
        )
    }


def _tag_names(ids: str, order: dict[int, tuple[int, str]]) -> list[str]:
    return [name for _, name in sorted(order[int(t)] for t in ids.split(","))]


# ---------------------------------------------------------------- CSV


def _csv_contact_sql(sep: str) -> str:
    def time(col: str) -> str:
        return f"COALESCE({ex._time_sql(col, json=False)}, {_BAD})"

    plain = ex._plain
    mid = [
        plain("t2.name"), plain("t1.position"), plain("t1.street"), plain("t1.zip"),
        plain("t1.city"), plain("t1.country"), plain(ex._BIRTHDAY_SQL), plain("t1.status"),
        plain("t1.source"), plain("t1.owner"), plain("t1.notes"),
        "CASE WHEN t1.consent THEN 'true' ELSE 'false' END", time("t1.consent_at"),
        plain("CAST(t1.cadence_days AS TEXT)"),
    ]  # fmt: skip
    tail = [time("t1.created_at"), time("t1.updated_at"), time("t1.last_activity_at")]
    return (
        f"SELECT t1.id, CAST(t1.id AS TEXT) || '{sep}' || {plain('t1.name')}, "
        f"{plain('t1.email')}, {plain('t1.phone')}, {_joined(mid, sep)}, {_joined(tail, sep)} "
        + _FROM
    )


def _csv_fields_sql(field_keys: Sequence[str], sep: str) -> str:
    cells = ["COALESCE(max(CASE WHEN key = ? THEN value END), '')" for _ in field_keys]
    return (
        f"SELECT contact_id, '{sep}' || {_joined(cells, sep)} FROM contact_field {_RANGE} "
        "GROUP BY contact_id ORDER BY contact_id"
    )


def csv_lines(
    field_keys: Sequence[str], *, sep: str, ids: tuple[int, int] = EVERYONE
) -> Iterator[tuple[list[str], int, int]]:
    """Every contact as a line of CSV cells with `sep` between them (CONTACT_CSV_KEYS, then
    the `field_keys` columns; no line end), a batch at a time, with the separators and
    quotes that tags cells (quoted as the csv module does) add to the batch. A cell is
    the text flat_contact gives, unquoted: the writer checks a batch and has any line that
    needs more (quoting, defusing, cleaning, or a NUL: a value SQLite could not write)
    made by remake_csv_rows. `ids`: the contacts after the first, up to the second (a part
    of the export: write_in_parts). Read in the caller's snapshot (ContactRecords.snapshot): the
    streams and the remade rows must see one state of the database."""
    queries: list[tuple[str, Sequence]] = [
        (_csv_contact_sql(sep), ids),
        (_first_and_all("contact_email", "email"), ids),
        (_first_and_all("contact_phone", "phone"), ids),
        (_TAG_IDS, ids),
    ]
    if field_keys:
        queries.append((_csv_fields_sql(field_keys, sep), [*field_keys, *ids]))
    return _csv_lines(_streams(*queries), sep, _tag_order(), field_keys)


def remake_csv_rows(ids: list[int], field_keys: Sequence[str]) -> dict[int, list]:
    """The flat_contact cells of the contacts `ids` (the general path, for a few lines)."""
    keys = [*ex.CONTACT_CSV_KEYS, *(ex.FIELD_PREFIX + k for k in field_keys)]
    return {
        record["id"]: [flat.get(k) for k in keys]
        for record in ex._records_of(ids)
        for flat in (ex.flat_contact(record, field_keys),)
    }


def _csv_lines(streams, sep: str, order, field_keys) -> Iterator[tuple[list[str], int, int]]:
    """Batches of CSV lines (no line end) and the separators and quotes their tags cells add."""
    contacts, emails, phones, tags = streams[:4]
    fields = streams[4] if len(streams) > 4 else iter(())
    no_fields = sep * len(field_keys)
    tag_cells: dict[str, tuple[str, int, int]] = {}
    e, p, t, f = next(emails, _END), next(phones, _END), next(tags, _END), next(fields, _END)
    while True:
        lines: list[str] = []
        extra_seps = extra_quotes = 0
        for cid, head, email, phone, mid, tail in itertools.islice(contacts, LINES):
            if e[0] == cid:
                _, first_mail, mails = e
                e = next(emails, _END)
            else:  # a contact written before its emails had rows of their own
                first_mail = mails = email
            if p[0] == cid:
                _, first_phone, phones_ = p
                p = next(phones, _END)
            else:
                first_phone = phones_ = phone
            if t[0] == cid:
                cell = tag_cells.get(t[1])
                if cell is None:
                    cell = tag_cells[t[1]] = _csv_tag_cell(_tag_names(t[1], order), sep)
                tag_cell, seps, quotes = cell
                extra_seps += seps
                extra_quotes += quotes
                t = next(tags, _END)
            else:
                tag_cell = ""
            if f[0] == cid:
                cells = f[1]
                f = next(fields, _END)
            else:
                cells = no_fields
            lines.append(
                f"{head}{sep}{first_mail}{sep}{first_phone}{sep}{mails}{sep}{phones_}{sep}"
                f"{mid}{sep}{tag_cell}{sep}{tail}{cells}"
            )
        if not lines:
            return
        yield lines, extra_seps, extra_quotes


def _csv_tag_cell(names: list[str], sep: str) -> tuple[str, int, int]:
    """The tags cell as the csv module writes it, and the separators and quotes in it; NUL
    (its line is made the general way) when the text needs defusing or cleaning."""
    import csv

    text = ", ".join(names)
    if text[:1] in ("=", "+", "-", "@") or not text.isprintable():
        return "\0", 0, 0
    sink = _Sink()
    csv.writer(sink, delimiter=sep, lineterminator="\n").writerow([text, "x"])
    cell = "".join(sink.got)[: -len(sep + "x\n")]
    return cell, cell.count(sep), cell.count('"')


class _Sink:
    def __init__(self) -> None:
        self.got: list[str] = []

    def write(self, text: str) -> None:
        self.got.append(text)


# ---------------------------------------------------------------- JSON


def _json_contact_sql() -> str:
    def time(col: str) -> str:
        return f"COALESCE({ex._time_sql(col, json=True)}, {_BAD})"

    q = ex._q
    mid = [
        ("company", q("t2.name")), ("position", q("t1.position")),
        ("street", q("t1.street")), ("zip", q("t1.zip")), ("city", q("t1.city")),
        ("country", q("t1.country")), ("notes", q("t1.notes")),
        ("status", q("t1.status")), ("source", q("t1.source")), ("owner", q("t1.owner")),
        ("birthday", q(ex._BIRTHDAY_SQL)),
        ("consent", "CASE WHEN t1.consent THEN 'true' ELSE 'false' END"),
        ("consent_at", time("t1.consent_at")), ("cadence_days", q("t1.cadence_days")),
    ]  # fmt: skip
    tail = [
        ("created_at", time("t1.created_at")), ("updated_at", time("t1.updated_at")),
        ("last_activity_at", time("t1.last_activity_at")),
    ]  # fmt: skip

    def pieces(parts) -> str:
        return " || ".join(f"', \"{k}\": ' || {v}" for k, v in parts)

    mails = (
        "CASE WHEN t1.email IS NOT NULL AND t1.email <> '' THEN '[{\"email\": ' || "
        'json_quote(t1.email) || \', "kind": "other", "primary": true}]\' ELSE \'[]\' END'
    )
    phones = (
        "CASE WHEN t1.phone IS NOT NULL AND t1.phone <> '' THEN '[{\"phone\": ' || "
        "json_quote(t1.phone) || ', \"e164\": ' || json_quote(t1.phone_e164) || "
        '\', "kind": "other", "primary": true}]\' ELSE \'[]\' END'
    )
    return (
        "SELECT t1.id, '{\"id\": ' || t1.id || ', \"name\": ' || json_quote(t1.name) || "
        f"', \"emails\": ', {mails}, {phones}, {pieces(mid)} || ', \"tags\": ', "
        f"{pieces(tail)} || '}}' " + _FROM
    )


def json_batches(ids: tuple[int, int] = EVERYONE) -> Iterator[list[str]]:
    """exports.contact_json_batches of every contact: the JSON text of each record, a batch
    at a time. `ids` as for csv_lines. Read in the caller's snapshot (ContactRecords.snapshot)."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False).encode
    streams = _streams(
        (_json_contact_sql(), ids), (_EMAILS_JSON, ids), (_PHONES_JSON, ids), (_TAG_IDS, ids),
        (_FIELDS_JSON, ids),
    )  # fmt: skip
    for lines in _json_lines(streams, _tag_order(), encode):
        if "\0" in "".join(lines):  # a time SQLite does not write as Python does
            bad = [i for i, line in enumerate(lines) if "\0" in line]
            bad_ids = [int(lines[i][len('{"id": ') : lines[i].index(",")]) for i in bad]
            made = {r["id"]: encode(r) for r in ex._records_of(bad_ids)}
            for i, cid in zip(bad, bad_ids, strict=True):
                lines[i] = made[cid]
        yield lines


def _json_lines(streams, order, encode) -> Iterator[list[str]]:
    contacts, emails, phones, tags, fields = streams
    tag_texts: dict[str, str] = {}
    e, p, t, f = next(emails, _END), next(phones, _END), next(tags, _END), next(fields, _END)
    while True:
        lines: list[str] = []
        for cid, head, own_mails, own_phones, mid, tail in itertools.islice(contacts, LINES):
            if e[0] == cid:
                mails = e[1]
                e = next(emails, _END)
            else:  # a contact written before its emails had rows of their own
                mails = own_mails
            if p[0] == cid:
                phones_ = p[1]
                p = next(phones, _END)
            else:
                phones_ = own_phones
            if t[0] == cid:
                tag_text = tag_texts.get(t[1])
                if tag_text is None:
                    tag_text = tag_texts[t[1]] = encode(_tag_names(t[1], order))
                t = next(tags, _END)
            else:
                tag_text = "[]"
            if f[0] == cid:
                field_text = f[1]
                f = next(fields, _END)
            else:
                field_text = "{}"
            lines.append(
                f'{head}{mails}, "phones": {phones_}{mid}{tag_text}, "fields": {field_text}{tail}'
            )
        if not lines:
            return
        yield lines


# ---------------------------------------------------------------- two processes

SPLIT = 50_000  # contacts (by their ids' span) from which a whole export runs in two parts


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _split_at(out: TextIO) -> int | None:
    """The id after which the second part of an export starts (None: one part). Two parts
    where a process can be forked, a second core is there to run it, the export is big, and
    `out` is a file with a binary buffer underneath, to append the second part's bytes to."""
    if not hasattr(os, "fork") or _cores() < 2:
        return None
    try:
        out.fileno()
        out.buffer  # noqa: B018
    except (AttributeError, OSError, ValueError):
        return None
    conn = database_proxy.obj.connection()
    low, high = conn.execute("SELECT min(id), max(id) FROM contact").fetchone()
    if low is None or high - low + 1 < SPLIT:
        return None
    return (low + high) // 2


def write_in_parts(out: TextIO, write: Callable[[TextIO, tuple[int, int], bool], int]) -> int:
    """Run `write(file, ids, first)` (the contacts in `ids` to `file`, `first`: the part that
    starts the file) once for every contact, or, for a big export on a machine with a second
    core, twice at the same time: the first half of the ids here into `out`, the second in a
    forked process into an unnamed temporary file (mode 0600), whose bytes then follow.
    Each part reads in a snapshot of its own (SQLite has no way to share one between
    connections): a change written during the export may show in the second half only.
    Returns how many contacts were written."""
    at = _split_at(out)
    if at is None:
        return write(out, EVERYONE, True)
    import tempfile

    with tempfile.TemporaryFile() as spill:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the second part; never returns
            os.close(reader)
            _second_part(spill, writer, out, write, (at, EVERYONE[1]))
        os.close(writer)
        try:
            count = write(out, (EVERYONE[0], at), True)
            with os.fdopen(reader, "rb") as report:
                reader = -1
                told = report.read().decode("utf-8", "replace")
            _, status = os.waitpid(pid, 0)
            pid = 0
            if status != 0 or not told.startswith("ok "):
                raise ExportFailed(f"the second half of the export failed: {told or status}")
            out.flush()
            spill.seek(0)
            shutil.copyfileobj(spill, out.buffer, 1 << 20)
            out.buffer.flush()
            return count + int(told[3:])
        finally:
            if reader >= 0:
                os.close(reader)
            if pid:  # this part failed: the other is not wanted
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)


def _second_part(spill, report: int, out: TextIO, write, ids: tuple[int, int]) -> NoReturn:
    """In the forked process: its own connection (the parent's is never used or closed
    here: SQLite connections must not cross a fork), the part written into `spill` in
    `out`'s encoding, and `ok COUNT` or the error reported; leaves by os._exit, so nothing
    of the parent's (buffers, connections, atexit) is flushed or closed twice."""
    code = 1
    try:
        from crmcli.db import read_snapshot

        db = database_proxy.obj
        _INHERITED.append(db.connection())  # kept, never closed or freed here
        db._state.reset()
        db.connect()
        text = io.TextIOWrapper(
            spill, encoding=out.encoding, errors=out.errors, newline="", write_through=False
        )
        with read_snapshot(db):
            count = write(text, ids, False)
        text.flush()
        os.write(report, f"ok {count}".encode())
        code = 0
    except BaseException as e:  # noqa: BLE001  (reported to the parent, which raises it)
        with contextlib.suppress(BaseException):
            os.write(report, str(e).encode("utf-8", "replace")[:2000])
    finally:
        os._exit(code)


_INHERITED: list = []


class ExportFailed(CrmError):
    exit_code = 1
