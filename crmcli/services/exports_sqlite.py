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

import itertools
from collections.abc import Iterator, Sequence

from crmcli.models import Tag, database_proxy
from crmcli.services import exports as ex

LINES = 2000  # lines checked and written at a time
# Between the cells of a CSV line as SQLite makes it: the ASCII unit separator, which no
# printable text holds (one that does is not printable: its line is checked cell by cell).
UNIT = "\x1f"
_BAD = "char(0)"  # in place of a value SQLite cannot write as Python does: remade
_END: tuple = (2**63,)  # after the last row of a stream

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
        f"ELSE {_BAD} END FROM {table} GROUP BY contact_id ORDER BY contact_id"
    )


_EMAILS_JSON = (
    "SELECT contact_id, '[' || group_concat('{\"email\": ' || json_quote(email) || "
    "', \"kind\": ' || json_quote(kind) || ', \"primary\": ' || CASE WHEN is_primary THEN "
    "'true' ELSE 'false' END || '}', ', ') || ']' FROM contact_email "
    "GROUP BY contact_id ORDER BY contact_id"
)
_PHONES_JSON = (
    "SELECT contact_id, '[' || group_concat('{\"phone\": ' || json_quote(phone) || "
    "', \"e164\": ' || json_quote(phone_e164) || ', \"kind\": ' || json_quote(kind) || "
    "', \"primary\": ' || CASE WHEN is_primary THEN 'true' ELSE 'false' END || '}', ', ') "
    "|| ']' FROM contact_phone GROUP BY contact_id ORDER BY contact_id"
)
# Tags as the ids a contact carries (few different sets: each made into text once).
_TAG_IDS = (
    "SELECT contact_id, group_concat(tag_id) FROM contact_tag GROUP BY contact_id "
    "ORDER BY contact_id"
)
_FIELDS_JSON = (
    "SELECT contact_id, '{' || group_concat(json_quote(key) || ': ' || json_quote(value), "
    "', ') || '}' FROM contact_field GROUP BY contact_id ORDER BY contact_id"
)
_FROM = "FROM contact t1 LEFT JOIN company t2 ON t2.id = t1.company_id ORDER BY t1.id"


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
        f"SELECT contact_id, '{sep}' || {_joined(cells, sep)} FROM contact_field "
        "GROUP BY contact_id ORDER BY contact_id"
    )


def csv_lines(field_keys: Sequence[str]) -> Iterator[list[str]]:
    """Every contact as a line of its CSV cells (CONTACT_CSV_KEYS, then the `field_keys`
    columns) with UNIT between them and no line end, a batch at a time. A cell is the text
    flat_contact gives, unquoted: the writer (output.write_csv_lines) quotes and defuses
    what needs it, and has a line with a NUL (a value SQLite could not write as Python
    does) made by remake_csv_rows. Read in the caller's snapshot (ContactRecords.snapshot):
    the streams and the remade rows must see one state of the database."""
    queries: list[tuple[str, Sequence]] = [
        (_csv_contact_sql(UNIT), ()),
        (_first_and_all("contact_email", "email"), ()),
        (_first_and_all("contact_phone", "phone"), ()),
        (_TAG_IDS, ()),
    ]
    if field_keys:
        queries.append((_csv_fields_sql(field_keys, UNIT), list(field_keys)))
    return _csv_lines(_streams(*queries), UNIT, _tag_order(), field_keys)


def remake_csv_rows(ids: list[int], field_keys: Sequence[str]) -> dict[int, list]:
    """The flat_contact cells of the contacts `ids` (the general path, for a few lines)."""
    keys = [*ex.CONTACT_CSV_KEYS, *(ex.FIELD_PREFIX + k for k in field_keys)]
    return {
        record["id"]: [flat.get(k) for k in keys]
        for record in ex._records_of(ids)
        for flat in (ex.flat_contact(record, field_keys),)
    }


def _csv_lines(streams, sep: str, order, field_keys) -> Iterator[list[str]]:
    """Batches of CSV lines: cells unquoted, `sep` between them, no line end."""
    contacts, emails, phones, tags = streams[:4]
    fields = streams[4] if len(streams) > 4 else iter(())
    no_fields = sep * len(field_keys)
    tag_cells: dict[str, str] = {}
    e, p, t, f = next(emails, _END), next(phones, _END), next(tags, _END), next(fields, _END)
    while True:
        lines: list[str] = []
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
                tag_cell = tag_cells.get(t[1])
                if tag_cell is None:  # the tags as flat_contact joins them
                    tag_cell = tag_cells[t[1]] = ", ".join(_tag_names(t[1], order))
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
        yield lines


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


def json_batches() -> Iterator[list[str]]:
    """exports.contact_json_batches of every contact: the JSON text of each record, a batch
    at a time. Read in the caller's snapshot (ContactRecords.snapshot)."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False).encode
    streams = _streams(
        (_json_contact_sql(), ()), (_EMAILS_JSON, ()), (_PHONES_JSON, ()), (_TAG_IDS, ()),
        (_FIELDS_JSON, ()),
    )  # fmt: skip
    for lines in _json_lines(streams, _tag_order(), encode):
        if "\0" in "".join(lines):  # a time SQLite does not write as Python does
            bad = [i for i, line in enumerate(lines) if "\0" in line]
            ids = [int(lines[i][len('{"id": ') : lines[i].index(",")]) for i in bad]
            made = {r["id"]: encode(r) for r in ex._records_of(ids)}
            for i, cid in zip(bad, ids, strict=True):
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
