"""A whole contact export on SQLite, every line made by SQLite itself, by several
connections side by side in one snapshot.

Each batch of contacts (LINES of them, by id) is one query whose single row holds the whole
batch: every contact's line (the CSV cells with UNIT between them, or the JSON text), the
lines joined by a newline, as bytes, and the byte length of each line. A line is made in SQL
from the contact and its emails, phones, tags and custom fields, a correlated look-up each
on indexes that hold what the line shows (migration 0018: no row of those tables is read),
its cells put together by one printf() (one string made, not one per `||`).

SQLite does that work with Python's lock released, so two or more connections, each in its
own thread, make batches at the same time on as many cores, and Python only checks and
writes a few large byte strings (output.write_csv_chunks, write_json_chunks). The
connections share one snapshot: they start their reads while a short-lived connection holds
the write lock (shared_snapshot), so no write can land between them; where that lock is not
to be had at once (a writer at work, a read-only file) the batches are made one after the
other on the caller's connection.

Nothing is stored between exports (migration 0015 kept every line for the next export; its
tables and triggers are gone since 0018): storing a million lines cost the first export more
than making them costs every export.

The text is byte for byte what exports.contact_records + flat_contact + output.write_rows
give (tests compare them on awkward data, and after every kind of change).
A value SQLite does not write the way Python does (a time not in the stored form, a phone
number starting like a formula that is more than ASCII, emails or phones not in the shape
crm keeps them: see _every) comes out as a NUL character (`\u0000` in JSON), and that line
is made again the general way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from crmcli.models import database_proxy
from crmcli.services import exports as ex

LINES = 2000  # contacts a batch
# Between the cells of a CSV line as SQLite makes it: the ASCII unit separator, which no
# printable text holds (a cell that does is not printable: its line is made cell by cell).
UNIT = "\x1f"
_BAD = "char(0)"  # in place of a value SQLite cannot write as Python does: remade
_TOP = 2**63 - 1


def whole_export(filters: dict) -> bool:
    """Whether an export with these filters is of every contact on SQLite (this module's)."""
    return ex._sqlite() and not any(v not in (None, [], (), False, "") for v in filters.values())


def workers() -> int:
    """Connections making batches at once: one a core, at least two (a core left idle while
    Python writes is a core lost), at most four (each has a page cache)."""
    return max(2, min(4, os.cpu_count() or 1))


# ---------------------------------------------------------------- one snapshot, several readers


@contextmanager
def shared_snapshot(extra: int) -> Iterator[list]:
    """The caller's connection in a read transaction (db.read_snapshot), and up to `extra`
    more connections to the same file reading the same snapshot; yields those (an empty
    list when they cannot share it: a read-only or in-memory database or a writer at work
    right now). Enter it before anything else reads in the snapshot."""
    import sqlite3

    from crmcli.db import read_snapshot

    db = database_proxy.obj
    readers: list = []
    with read_snapshot(db):
        path = getattr(db, "path", None)
        lock = None
        if path is not None and not getattr(db, "read_only", False):
            try:
                lock = sqlite3.connect(
                    str(path), timeout=0, isolation_level=None, check_same_thread=False
                )
                lock.execute("BEGIN IMMEDIATE")  # no commit can land until it is let go
            except sqlite3.Error:
                if lock is not None:
                    lock.close()
                lock = None
        try:
            db.execute_sql("SELECT 1 FROM contact LIMIT 1")  # the caller's snapshot begins
            if lock is not None:
                for _ in range(extra):
                    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
                    readers.append(conn)
                    conn.execute("PRAGMA cache_size = -4000")
                    conn.execute("BEGIN")
                    conn.execute("SELECT 1 FROM contact LIMIT 1").fetchall()
        except BaseException:
            for conn in readers:
                conn.close()
            raise
        finally:
            if lock is not None:
                lock.execute("ROLLBACK")
                lock.close()
        try:
            yield readers
        finally:
            for pool in list(_POOLS.get(id(readers), ())):
                pool.close()  # a batch reader left behind (an error while writing)
            _POOLS.pop(id(readers), None)
            for conn in readers:
                conn.close()


# SQL of a batch (its ids from ? to ?), `{line}` the text of a contact's line. Its row: the
# number of lines, the lines joined by newlines (bytes), their byte lengths.
_BATCH = (
    "SELECT count(*), CAST(group_concat(line, char(10)) AS BLOB), "
    "group_concat(length(CAST(line AS BLOB))) FROM (SELECT {line} AS line FROM contact t1 "
    "LEFT JOIN company t2 ON t2.id = t1.company_id WHERE t1.id BETWEEN ? AND ? ORDER BY t1.id)"
)

# The first id of the batch after the one beginning at a given id.
_NEXT = "SELECT id FROM contact WHERE id >= ? ORDER BY id LIMIT 1 OFFSET {}"


class Chunk:
    """A batch: `count` lines joined by newlines in `data` (bytes, UTF-8), and where each
    line ends (`lengths`: their byte lengths, for a batch whose cells hold newlines)."""

    __slots__ = ("count", "data", "_lengths")

    def __init__(self, count: int, data: bytes | None, lengths: str | None):
        self.count = count
        self.data = data or b""
        self._lengths = lengths

    def lines(self) -> list[bytes]:
        out, at = [], 0
        for n in map(int, (self._lengths or "").split(",")) if self.count else ():
            out.append(self.data[at : at + n])
            at += n + 1
        return out


def _chunks(readers: list, sql: str, params: Sequence) -> Iterator[Chunk]:
    """The batches of `sql` (a _BATCH) in id order: made by the `readers` in threads of
    their own, or one after the other on the caller's connection."""
    nxt = _NEXT.format(LINES)
    if not readers:
        conn = database_proxy.obj.connection()
        lo: int | None = -_TOP - 1
        while lo is not None:
            found = conn.execute(nxt, (lo,)).fetchone()
            hi = found[0] - 1 if found else _TOP
            row = conn.execute(sql, (*params, lo, hi)).fetchone()
            if row[0]:
                yield Chunk(*row)
            lo = found[0] if found else None
        return
    yield from _Pool(readers, sql, params, nxt).results()


# The pools at work on each shared_snapshot's readers: stopped before they are closed.
_POOLS: dict[int, list] = {}


class _Pool:
    """Threads, one a connection, each taking the next range of ids and making its batch;
    the batches handed out in order, a few ahead at most."""

    def __init__(self, readers: list, sql: str, params: Sequence, nxt: str):
        self.sql, self.params, self.nxt = sql, tuple(params), nxt
        self.lock = threading.Condition()
        self.made: dict[int, Any] = {}
        self.claimed = 0  # batches handed to a thread
        self.start: int | None = -_TOP - 1  # the first id of the next batch (None: done)
        self.stop = False
        self.room = threading.Semaphore(2 * len(readers) + 2)
        self.threads = [
            threading.Thread(target=self._work, args=(conn,), daemon=True) for conn in readers
        ]
        self.key = id(readers)
        _POOLS.setdefault(self.key, []).append(self)
        for thread in self.threads:
            thread.start()

    def _work(self, conn) -> None:
        while True:
            self.room.acquire()
            with self.lock:
                if self.stop or self.start is None:
                    self.lock.notify_all()
                    return
                seq, lo = self.claimed, self.start
                try:  # the ranges are taken in order: each starts where the last ended
                    found = conn.execute(self.nxt, (lo,))
                    after = found.fetchone()
                except BaseException as exc:  # handed to the reader of the batches
                    self.made[seq], self.start = exc, None
                    self.claimed += 1
                    self.lock.notify_all()
                    return
                self.start = after[0] if after else None
                self.claimed += 1
            hi = after[0] - 1 if after else _TOP
            try:
                made: Any = Chunk(*conn.execute(self.sql, (*self.params, lo, hi)).fetchone())
            except BaseException as exc:
                made = exc
            with self.lock:
                self.made[seq] = made
                self.lock.notify_all()

    def results(self) -> Iterator[Chunk]:
        seq = 0
        try:
            while True:
                with self.lock:
                    while seq not in self.made and not (self.start is None and seq >= self.claimed):
                        self.lock.wait()
                    if seq not in self.made:
                        return
                    made = self.made.pop(seq)
                self.room.release()
                if isinstance(made, BaseException):
                    raise made
                if made.count:
                    yield made
                seq += 1
        finally:
            self.close()

    def close(self) -> None:
        """Stop the threads (after the batch each is making) and wait for them."""
        with self.lock:
            self.stop = True
        for _ in self.threads:
            self.room.release()
        for thread in self.threads:
            thread.join()
        pools = _POOLS.get(self.key, [])
        if self in pools:
            pools.remove(self)


# ---------------------------------------------------------------- the pieces of a line


def _joined(parts: Sequence[str], sep: str) -> str:
    return f" || {sep} || ".join(parts)


def _printed(template: str, values: Sequence[str]) -> str:
    """printf(`template`, *values): the pieces of a line put together in one string (a `||`
    each makes a new string of all before it); a NULL value prints as nothing. printf's %s
    ends a value at a NUL character, so values that may hold one pass through _nul first."""
    quoted = template.replace("'", "''")
    return f"printf('{quoted}', {', '.join(values)})"


def _nul(col: str, bad: str) -> str:
    """`col`, or `bad` when it holds a NUL (which crm never stores; another program may, and
    such a line is remade the general way): printf would end the value there."""
    return f"CASE WHEN instr({col}, char(0)) THEN {bad} ELSE {col} END"


def _time(col: str, *, none: str = "NULL", bad: str = _BAD) -> str:
    """A stored UTC time as exports._iso writes it (`2026-12-24T13:00:00+00:00`), from the
    form times are stored in (`2026-12-24 13:00:00[.ffffff]`), `none` for NULL; any other
    form: `bad` (the line is remade)."""
    return (
        f"CASE WHEN {col} IS NULL THEN {none} WHEN {col} GLOB '?????????? ????????' OR {col} "
        f"GLOB '?????????? ????????.*' THEN substr({col}, 1, 10) || 'T' || substr({col}, 12, 8)"
        f" || '+00:00' ELSE {bad} END"
    )


def _defused(value: str, bad: str = _BAD) -> str:
    """output._defused in SQL for a cell that often starts with `+` (a phone number): a ' in
    front of =, +, -, @ unless a plain signed number; `bad` for one with more than ASCII
    (Python's digits are Unicode's). `value` is evaluated several times: a column or an
    aggregate, not a subquery."""
    rest = f"substr({value}, 2)"
    return (
        f"CASE WHEN {value} NOT GLOB '[-+=@]*' THEN {value} "
        f"WHEN {value} GLOB '*[^ -~]*' THEN {bad} "
        f"WHEN {value} GLOB '[+-][0-9]*[0-9]' AND {rest} NOT GLOB '*[^0-9.,]*' "
        f"AND {rest} NOT GLOB '*[.,]*[.,]*' THEN {value} "
        f"WHEN {value} GLOB '[+-][0-9]' THEN {value} ELSE '''' || {value} END"
    )


def _primary_first(col: str) -> str:
    """Whether a contact's rows (x) are in the shape crm keeps them, in which flat_contact's
    order (the primary first, then by position) is the index's (by position): exactly one
    primary row, the first by position, and the contact's own copy (t1.`col`) its value
    (`crm db check`). An aggregate over the rows."""
    flags = "group_concat(x.is_primary <> 0, '')"
    return (
        f"({flags} = '1' OR ({flags} GLOB '10*' AND {flags} NOT GLOB '1*1*')) AND "
        f"max(CASE WHEN x.is_primary THEN x.{col} END) = t1.{col}"
    )


def _every(table: str, col: str, sep: str, shape=lambda v: v, bad: str = _BAD) -> str:
    """flat_contact's all of a contact's emails or phones (`col`), `sep` between them, when
    they are in the shape crm keeps them (_primary_first). NULL when the contact has no rows
    (flat_contact then takes its own copy), `bad` in any other shape (the line is made again
    the general way). `shape` wraps the aggregate."""
    every = f"group_concat(x.{col}, {sep})"
    return (
        f"(SELECT CASE WHEN count(*) = 0 THEN NULL WHEN {_primary_first(col)} AND NOT "
        f"instr({every}, char(0)) THEN {shape(every)} ELSE {bad} END "
        f"FROM {table} x WHERE x.contact_id = t1.id)"
    )


def _kinds(table: str, own: str, bad: str) -> str:
    """flat_contact's `email_kinds`/`phone_kinds`, in the order of their cell: by position
    (the order _every checks is flat_contact's); "other" for a contact with only its own
    column (`own`)."""
    kinds = _nul("group_concat(x.kind, ' ::: ')", bad)
    return (
        f"COALESCE((SELECT {kinds} FROM {table} x WHERE x.contact_id = t1.id), "
        f"CASE WHEN t1.{own} <> '' THEN 'other' ELSE '' END)"
    )


def _tags(name: str, sep: str, bad: str) -> str:
    """A contact's tags in the order lists show them (by folded name), `name` each."""
    rows = "FROM contact_tag ct JOIN tag tg ON tg.id = ct.tag_id WHERE ct.contact_id = t1.id"
    return (
        f"(SELECT CASE WHEN count(*) < 2 THEN {_nul(f'max({name})', bad)} ELSE (SELECT "
        f"{_nul(f'group_concat(v, {sep})', bad)} FROM (SELECT {name.replace('tg.', 'tg2.')} "
        "AS v FROM contact_tag ct2 JOIN tag tg2 ON tg2.id = ct2.tag_id WHERE ct2.contact_id "
        f"= t1.id ORDER BY tg2.name_fold)) END {rows})"
    )


def _named(col: str, table: str, name: str, bad: str) -> str:
    """The `name` of the row of `table` that `col` points at (NULL when it is not set: no
    index is searched then)."""
    return (
        f"CASE WHEN {col} IS NULL THEN NULL ELSE (SELECT {_nul(f'n.{name}', bad)} FROM {table} n "
        f"WHERE n.id = {col}) END"
    )


# ---------------------------------------------------------------- CSV

# In a CSV line a value SQLite cannot write as Python does is a UNIT: the line then has a
# cell too many, and is made again the general way (output.write_csv_chunks).
_CSV_BAD = "char(31)"


def _csv_line_sql(field_keys: Sequence[str]) -> tuple[str, list]:
    bad = _CSV_BAD
    emails = _every("contact_email", "email", "' ::: '", bad=bad)
    phones = _every("contact_phone", "phone", "' ::: '", lambda v: _defused(v, bad), bad=bad)
    own_email = _nul("t1.email", bad)
    own_phone = (
        f"CASE WHEN instr(t1.phone, char(0)) THEN {bad} ELSE {_defused('t1.phone', bad)} END"
    )
    cells = [
        "t1.id", _nul("t1.name", bad), own_email, own_phone,
        f"COALESCE({emails}, {own_email})", f"COALESCE({phones}, {own_phone})",
        _kinds("contact_email", "email", bad), _kinds("contact_phone", "phone", bad),
        *(_nul(col, bad) for col in (
            "t2.name", "t1.position", "t1.street", "t1.zip", "t1.city", "t1.country",
            ex._BIRTHDAY_SQL, "t1.status", "t1.source", "t1.owner",
        )), _named("t1.campaign_id", "campaign", "name", bad),
        _named("t1.keyword_id", "campaign_keyword", "keyword", bad), _nul("t1.notes", bad),
        "CASE WHEN t1.consent THEN 'true' ELSE 'false' END",
        _time("t1.consent_at", bad=bad), "t1.cadence_days", _tags("tg.name", "', '", bad),
        _time("t1.created_at", bad=bad), _time("t1.updated_at", bad=bad),
        _time("t1.last_activity_at", bad=bad),
    ]  # fmt: skip
    if 0 < len(field_keys) <= 2:  # a look-up a key
        one = (
            f"(SELECT {_nul('cf.value', bad)} FROM contact_field cf WHERE cf.contact_id = t1.id "
            "AND cf.key = ?)"
        )
        cells.extend(one for _ in field_keys)
    elif field_keys:  # more: each contact's fields read once, a column a key
        pivot = _joined(
            ["ifnull(max(CASE WHEN cf.key = ? THEN cf.value END), '')"] * len(field_keys),
            f"'{UNIT}'",
        )
        cells.append(
            f"(SELECT {_nul('p', bad)} FROM (SELECT {pivot} AS p FROM contact_field cf "
            "WHERE cf.contact_id = t1.id))"
        )
    line = _printed(UNIT.join(["%s"] * len(cells)), cells)
    return _BATCH.format(line=line), list(field_keys)


def csv_chunks(readers: list, field_keys: Sequence[str]) -> Iterator[Chunk]:
    """Every contact as a line of its CSV cells (CONTACT_CSV_KEYS, then the `field_keys`
    columns), UNIT between them, unquoted, a batch at a time (Chunk). A cell is the text
    flat_contact gives, except that the phone cells are defused already; the writer
    (output.write_csv_chunks) quotes and defuses what else needs it, and has a line with a
    NUL or a UNIT too many made by remake_csv_rows. `readers`: shared_snapshot's."""
    sql, params = _csv_line_sql(field_keys)
    return _chunks(readers, sql, params)


def remake_csv_rows(ids: list[int], field_keys: Sequence[str]) -> dict[int, list]:
    """The flat_contact cells of the contacts `ids` (the general path, for a few lines)."""
    keys = [*ex.CONTACT_CSV_KEYS, *(ex.FIELD_PREFIX + k for k in field_keys)]
    return {
        record["id"]: [flat.get(k) for k in keys]
        for record in ex._records_of(ids)
        for flat in (ex.flat_contact(record, field_keys),)
    }


# ---------------------------------------------------------------- JSON


def _inside(obj: str) -> str:
    """The members of a JSON object SQLite made, without its braces (its last value is never
    an object, its first key begins with a quote)."""
    return f"ltrim(rtrim({obj}, '}}'), '{{')"


def _json_line_sql(field_keys: Sequence[str]) -> tuple[str, list]:
    """A contact record's JSON text, compact, made by SQLite's JSON functions (json_object,
    json_group_array: C, quoting as Python's json does), pieces put together by printf in
    the record's order."""
    true = "CASE WHEN x.is_primary THEN json('true') ELSE json('false') END"

    def listed(table: str, row: str, own: str) -> str:  # every row, by position
        return (
            f"(SELECT CASE WHEN count(*) = 0 THEN {own} ELSE json_group_array({row}) END "
            f"FROM {table} x WHERE x.contact_id = t1.id)"
        )

    mails = listed(
        "contact_email", f"json_object('email', x.email, 'kind', x.kind, 'primary', {true})",
        "CASE WHEN t1.email <> '' THEN json_array(json_object('email', t1.email, 'kind', "
        "'other', 'primary', json('true'))) ELSE '[]' END",
    )  # fmt: skip
    phones = listed(
        "contact_phone",
        f"json_object('phone', x.phone, 'e164', x.phone_e164, 'kind', x.kind, 'primary', "
        f"{true})",
        "CASE WHEN t1.phone <> '' THEN json_array(json_object('phone', t1.phone, 'e164', "
        "t1.phone_e164, 'kind', 'other', 'primary', json('true'))) ELSE '[]' END",
    )  # fmt: skip
    if len(field_keys) == 1:  # the one key any contact can have: a look-up
        fields = (
            "ifnull((SELECT json_object(cf.key, cf.value) FROM contact_field cf "
            "WHERE cf.contact_id = t1.id AND cf.key = ?), '{}')"
        )
    else:  # by key, as the record's dict has them
        fields = (
            "(SELECT json_group_object(k, v) FROM (SELECT cf.key AS k, cf.value AS v "
            "FROM contact_field cf WHERE cf.contact_id = t1.id ORDER BY cf.key))"
        )
    rows = "FROM contact_tag ct JOIN tag tg ON tg.id = ct.tag_id WHERE ct.contact_id = t1.id"
    tags = (
        "(SELECT CASE WHEN count(*) < 2 THEN json_group_array(tg.name) ELSE (SELECT "
        "json_group_array(v) FROM (SELECT tg2.name AS v FROM contact_tag ct2 JOIN tag tg2 "
        "ON tg2.id = ct2.tag_id WHERE ct2.contact_id = t1.id ORDER BY tg2.name_fold)) END "
        f"{rows})"
    )
    campaign = _named("t1.campaign_id", "campaign", "name", _BAD)
    keyword = _named("t1.keyword_id", "campaign_keyword", "keyword", _BAD)
    middle = _inside(
        "json_object('company', t2.name, 'position', t1.position, 'street', t1.street, 'zip', "
        "t1.zip, 'city', t1.city, 'country', t1.country, 'notes', t1.notes, 'status', "
        f"t1.status, 'source', t1.source, 'owner', t1.owner, 'campaign', {campaign}, "
        f"'keyword', {keyword}, 'birthday', {ex._BIRTHDAY_SQL})"
    )
    cadence = _inside(
        f"json_object('consent_at', {_time('t1.consent_at', none='NULL')}, 'cadence_days', "
        "t1.cadence_days)"
    )
    times = _inside(
        f"json_object('created_at', {_time('t1.created_at', none='NULL')}, 'updated_at', "
        f"{_time('t1.updated_at', none='NULL')}, 'last_activity_at', "
        f"{_time('t1.last_activity_at', none='NULL')})"
    )
    line = _printed(
        '{"id":%s,"name":%s,"emails":%s,"phones":%s,%s,"consent":%s,%s,"tags":%s,"fields":%s,'
        "%s}",
        [
            "t1.id", "json_quote(t1.name)", mails, phones, middle,
            "CASE WHEN t1.consent THEN 'true' ELSE 'false' END", cadence, tags, fields, times,
        ],
    )  # fmt: skip
    return _BATCH.format(line=line), list(field_keys) if len(field_keys) == 1 else []


def json_chunks(readers: list) -> Iterator[Chunk]:
    """Every contact's JSON text (exports.json_encoder()'s of its record), a batch at a time
    (Chunk); a line with `\\u0000` is to be remade (remake_json): a value SQLite could not
    write as Python does, or a text that holds a NUL. `readers`: shared_snapshot's; the
    field keys are read in their snapshot."""
    sql, params = _json_line_sql(ex.contact_field_keys())
    return _chunks(readers, sql, params)


def remake_json(ids: list[int]) -> dict[int, str]:
    """The JSON texts of the records of the contacts `ids` (the general path, for a few)."""
    encode = ex.json_encoder().encode
    return {record["id"]: encode(record) for record in ex._records_of(ids)}
