"""A whole contact export on SQLite, every line made by SQLite itself or read as an earlier
export stored it, by several connections side by side in one snapshot.

Each batch of contacts (LINES of them, by id) is one query whose single row holds the whole
batch: every contact's line (the CSV cells with UNIT between them, or the JSON text), the
lines joined by a newline, as bytes, and the byte length of each line. A contact's line is
read from export_csv / export_json (migration 0015) when an earlier export stored it, and
made in SQL from the contact and its emails, phones, tags and custom fields when not. The
lines made are stored for the next export (Filler) when that is safe: no other connection
has committed since the snapshot began. Migration 0015's triggers delete a contact's lines
in the transaction of any change to what is on them (the contact, its emails, phones, tags
and fields; its company's, tags', campaign's and keyword's names), so a stored line is
always the line the data gives; the CSV lines also depend on the custom field keys in use
(its columns), recorded in export_cache: other keys, and none is read.

SQLite does that work with Python's lock released, so two or more connections, each in its
own thread, make batches at the same time on as many cores, and Python only checks and
writes a few large byte strings (output.write_csv_chunks, write_json_chunks). The
connections share one snapshot: they start their reads while a short-lived connection holds
the write lock (shared_snapshot), so no write can land between them; where that lock is not
to be had at once (a writer at work, a read-only file) the batches are made one after the
other on the caller's connection, and nothing is stored.

The text is byte for byte what exports.contact_records + flat_contact + output.write_rows
give (tests compare them on awkward data, and after every kind of change to stored lines).
A value SQLite does not write the way Python does (a time not in the stored form, a phone
number starting like a formula that is more than ASCII, emails or phones not in the shape
crm keeps them: see _every) comes out as a NUL character (`\u0000` in JSON), and that line
is made again the general way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from crmcli.models import database_proxy
from crmcli.services import exports as ex
from crmcli.services.export_lines import Filler, cached, kept_lines

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
def shared_snapshot(extra: int) -> Iterator[Readers]:
    """The caller's connection in a read transaction (db.read_snapshot), and up to `extra`
    more connections to the same file reading the same snapshot; yields those (Readers: an
    empty list when they cannot share it, a read-only or in-memory database or a writer at
    work right now), with the Filler that stores the lines made in this snapshot when
    nothing else was written since. Enter it before anything else reads in the snapshot."""
    import sqlite3

    from crmcli.db import read_snapshot

    db = database_proxy.obj
    readers = Readers()
    with read_snapshot(db):
        path = getattr(db, "path", None)
        lock = None
        if path is not None and not getattr(db, "read_only", False):
            try:
                lock = sqlite3.connect(
                    str(path), timeout=0, isolation_level=None, check_same_thread=False
                )
                lock.execute("PRAGMA synchronous = NORMAL")  # as crm's own (db._sqlite)
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
                readers.filler = Filler(lock)  # the snapshot's data_version, read under the lock
        except BaseException:
            for conn in readers:
                conn.close()
            if lock is not None:
                lock.close()
            raise
        finally:
            if lock is not None:
                lock.execute("ROLLBACK")
        try:
            yield readers
        finally:
            for pool in list(_POOLS.get(id(readers), ())):
                pool.close()  # a batch reader left behind (an error while writing)
            _POOLS.pop(id(readers), None)
            for conn in readers:
                conn.close()
            if lock is not None:
                lock.close()


class Readers(list):
    """shared_snapshot's extra connections, and its Filler (None: no lines are stored)."""

    filler: Filler | None = None


# SQL of a batch (its ids from ? to ?): `{line}` the text of a contact's line, `{kept}` the
# table of stored lines (export_csv, export_json: the line made only where it has none), or
# none (every line made). Its row: the number of lines, the lines joined by newlines (bytes),
# their byte lengths, a flag a line (1: made here), the ids of the lines made here.
_BATCH = (
    "SELECT count(*), CAST(group_concat(line, char(10)) AS BLOB), "
    "group_concat(length(CAST(line AS BLOB))), group_concat(made, ''), "
    "group_concat(CASE WHEN made THEN id END) FROM (SELECT t1.id AS id, {line} AS line, "
    "{made} AS made FROM contact t1 LEFT JOIN company t2 ON t2.id = t1.company_id {join}"
    "WHERE t1.id BETWEEN ? AND ? ORDER BY t1.id)"
)


def _batch_sql(line: str, kept: str | None) -> str:
    if kept is None:
        return _BATCH.format(line=line, made="1", join="")
    return _BATCH.format(
        line=f"COALESCE(kept.line, {line})",
        made="kept.contact_id IS NULL",
        join=f"LEFT JOIN {kept} kept ON kept.contact_id = t1.id ",
    )


# The first id of the batch after the one beginning at a given id.
_NEXT = "SELECT id FROM contact WHERE id >= ? ORDER BY id LIMIT 1 OFFSET {}"


class Chunk:
    """A batch: `count` lines joined by newlines in `data` (bytes, UTF-8), and where each
    line ends (`lengths`: their byte lengths, for a batch whose cells hold newlines);
    `made`: a flag a line, 1 where the line was made rather than read stored, and
    `made_ids` the ids of those lines."""

    __slots__ = ("count", "data", "_lengths", "made", "made_ids")

    def __init__(
        self,
        count: int,
        data: bytes | None,
        lengths: str | None,
        made: str | None = None,
        made_ids: str | None = None,
    ):
        self.count = count
        self.data = data or b""
        self._lengths = lengths
        self.made = made or ""
        self.made_ids = made_ids

    def lines(self) -> list[bytes]:
        out, at = [], 0
        for n in map(int, (self._lengths or "").split(",")) if self.count else ():
            out.append(self.data[at : at + n])
            at += n + 1
        return out

    def made_lines(self) -> list[tuple[int, bytes]]:
        """(id, line) of every line made rather than read stored."""
        if not self.made_ids:
            return []
        ids = map(int, self.made_ids.split(","))
        if "0" not in self.made:
            return list(zip(ids, self.lines(), strict=True))
        made = [line for line, flag in zip(self.lines(), self.made, strict=True) if flag == "1"]
        return list(zip(ids, made, strict=True))


def _chunks(
    readers: list, sql: str, params: Sequence, store: Callable[[Chunk], None] | None = None
) -> Iterator[Chunk]:
    """The batches of `sql` (_batch_sql) in id order: made by the `readers` in threads of
    their own, or one after the other on the caller's connection; `store(chunk)` once a
    batch is written (its lines kept for the next export)."""
    for chunk in _made_chunks(readers, sql, params):
        yield chunk
        if store is not None:
            store(chunk)


def _made_chunks(readers: list, sql: str, params: Sequence) -> Iterator[Chunk]:
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


def _opt(col: str) -> str:
    return f"ifnull({col}, '')"


def _time(col: str, *, none: str = "''") -> str:
    """A stored UTC time as exports._iso writes it (`2026-12-24T13:00:00+00:00`), from the
    form times are stored in (`2026-12-24 13:00:00[.ffffff]`), `none` for NULL; any other
    form: a NUL (the line is remade)."""
    return (
        f"CASE WHEN {col} IS NULL THEN {none} WHEN {col} GLOB '?????????? ????????' OR {col} "
        f"GLOB '?????????? ????????.*' THEN substr({col}, 1, 10) || 'T' || substr({col}, 12, 8)"
        f" || '+00:00' ELSE {_BAD} END"
    )


def _defused(value: str) -> str:
    """output._defused in SQL for a cell that often starts with `+` (a phone number): a ' in
    front of =, +, -, @ unless a plain signed number; a NUL for one with more than ASCII
    (Python's digits are Unicode's). `value` is evaluated several times: a column or an
    aggregate, not a subquery."""
    rest = f"substr({value}, 2)"
    return (
        f"CASE WHEN {value} NOT GLOB '[-+=@]*' THEN {value} "
        f"WHEN {value} GLOB '*[^ -~]*' THEN {_BAD} "
        f"WHEN {value} GLOB '[+-][0-9]*[0-9]' AND {rest} NOT GLOB '*[^0-9.,]*' "
        f"AND {rest} NOT GLOB '*[.,]*[.,]*' THEN {value} "
        f"WHEN {value} GLOB '[+-][0-9]' THEN {value} ELSE '''' || {value} END"
    )


def _every(table: str, col: str, sep: str, shape=lambda v: v) -> str:
    """flat_contact's all of a contact's emails or phones (`col`), `sep` between them, in
    the shape the contact's own copy of its primary one (t1.`col`) stands for flat_contact's
    first: exactly one primary row, the first by position, and the copy its value (what
    crm keeps, `crm db check`). NULL when the contact has no rows (flat_contact then takes
    the copy), a NUL in any other shape (the line is made again the general way). `shape`
    wraps the aggregate."""
    flags = "group_concat(x.is_primary <> 0, '')"
    return (
        f"(SELECT CASE WHEN {flags} IS NULL THEN NULL WHEN ({flags} = '1' OR ({flags} GLOB "
        f"'10*' AND {flags} NOT GLOB '1*1*')) AND max(CASE WHEN x.is_primary THEN x.{col} "
        f"END) = t1.{col} THEN {shape(f'group_concat(x.{col}, {sep})')} ELSE {_BAD} END "
        f"FROM {table} x WHERE x.contact_id = t1.id)"
    )


def _tags(name: str, sep: str) -> str:
    """A contact's tags in the order lists show them (by folded name), `name` each."""
    rows = "FROM contact_tag ct JOIN tag tg ON tg.id = ct.tag_id WHERE ct.contact_id = t1.id"
    return (
        f"(SELECT CASE WHEN count(*) < 2 THEN max({name}) ELSE (SELECT group_concat(v, {sep}) "
        f"FROM (SELECT {name.replace('tg.', 'tg2.')} AS v FROM contact_tag ct2 JOIN tag tg2 "
        "ON tg2.id = ct2.tag_id WHERE ct2.contact_id = t1.id ORDER BY tg2.name_fold)) END "
        f"{rows})"
    )


# ---------------------------------------------------------------- CSV


def _csv_line_sql(field_keys: Sequence[str], kept: str | None = None) -> tuple[str, list]:
    u = f"'{UNIT}'"
    emails = _every("contact_email", "email", "' ::: '")
    phones = _every("contact_phone", "phone", "' ::: '", _defused)
    cells = [
        "t1.id", "t1.name", _opt("t1.email"), _opt(_defused("t1.phone")),
        f"COALESCE({emails}, t1.email, '')", f"COALESCE({phones}, {_defused('t1.phone')}, '')",
        ex.kinds_sql("contact_email", "email"), ex.kinds_sql("contact_phone", "phone"),
        _opt("t2.name"),
        _opt("t1.position"), _opt("t1.street"), _opt("t1.zip"), _opt("t1.city"),
        _opt("t1.country"), _opt(ex._BIRTHDAY_SQL), "t1.status", _opt("t1.source"),
        _opt("t1.owner"), _opt(ex.CAMPAIGN_SQL), _opt(ex.KEYWORD_SQL), _opt("t1.notes"),
        "CASE WHEN t1.consent THEN 'true' ELSE 'false' END",
        _time("t1.consent_at"), _opt("t1.cadence_days"),
        _opt(_tags("tg.name", "', '")), _time("t1.created_at"),
        _time("t1.updated_at"), _time("t1.last_activity_at"),
    ]  # fmt: skip
    if 0 < len(field_keys) <= 2:  # a look-up a key
        one = "(SELECT cf.value FROM contact_field cf WHERE cf.contact_id = t1.id AND cf.key = ?)"
        cells.extend(_opt(one) for _ in field_keys)
    elif field_keys:  # more: each contact's fields read once, a column a key
        pivot = _joined(
            ["ifnull(max(CASE WHEN cf.key = ? THEN cf.value END), '')"] * len(field_keys), u
        )
        cells.append(f"(SELECT {pivot} FROM contact_field cf WHERE cf.contact_id = t1.id)")
    params = list(field_keys)
    return _batch_sql(_joined(cells, u), kept), params


def csv_chunks(readers: list, field_keys: Sequence[str]) -> Iterator[Chunk]:
    """Every contact as a line of its CSV cells (CONTACT_CSV_KEYS, then the `field_keys`
    columns), UNIT between them, unquoted, a batch at a time (Chunk). A cell is the text
    flat_contact gives, except that the phone cells are defused already; the writer
    (output.write_csv_chunks) quotes and defuses what else needs it, and has a line with a
    NUL made by remake_csv_rows. `readers`: shared_snapshot's. A line stored by an earlier
    export with the same field keys (export_csv) is read, not made; the lines made are
    stored when the readers' Filler can."""
    import json

    keys = json.dumps(list(field_keys), ensure_ascii=False)
    kept = kept_lines()
    same = kept and cached("csv_keys") == keys
    sql, params = _csv_line_sql(field_keys, "export_csv" if same else None)
    filler = getattr(readers, "filler", None)
    if not kept or filler is None:
        return _chunks(readers, sql, params)
    clear = None if same else ("csv_keys", keys)
    return _chunks(
        readers, sql, params, lambda chunk: filler.store("export_csv", chunk, clear=clear)
    )


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


def _json_line_sql(field_keys: Sequence[str], kept: str | None = None) -> tuple[str, list]:
    """A contact record's JSON text, compact, made by SQLite's JSON functions (json_object,
    json_group_array: C, quoting as Python's json does), pieces joined in the record's
    order."""
    true = "json(CASE WHEN x.is_primary THEN 'true' ELSE 'false' END)"

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
    middle = _inside(
        "json_object('company', t2.name, 'position', t1.position, 'street', t1.street, 'zip', "
        "t1.zip, 'city', t1.city, 'country', t1.country, 'notes', t1.notes, 'status', "
        f"t1.status, 'source', t1.source, 'owner', t1.owner, 'campaign', {ex.CAMPAIGN_SQL}, "
        f"'keyword', {ex.KEYWORD_SQL}, 'birthday', {ex._BIRTHDAY_SQL})"
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
    line = (
        f"""'{{"id":' || t1.id || ',"name":' || json_quote(t1.name) || ',"emails":' || """
        f"""{mails} || ',"phones":' || {phones} || ',' || {middle} || ',"consent":' || CASE """
        f"""WHEN t1.consent THEN 'true' ELSE 'false' END || ',' || {cadence} || ',"tags":' """
        f"""|| {tags} || ',"fields":' || {fields} || ',' || {times} || '}}'"""
    )
    return _batch_sql(line, kept), list(field_keys) if len(field_keys) == 1 else []


def json_chunks(readers: list) -> Iterator[Chunk]:
    """Every contact's JSON text (exports.json_encoder()'s of its record), a batch at a time
    (Chunk); a line with `\\u0000` is to be remade (remake_json): a value SQLite could not
    write as Python does, or a text that holds a NUL. `readers`: shared_snapshot's; the
    field keys are read in their snapshot. A line stored by an earlier export
    (export_json) is read, not made; the lines made are stored when the readers' Filler
    can."""
    kept = kept_lines()
    sql, params = _json_line_sql(ex.contact_field_keys(), "export_json" if kept else None)
    filler = getattr(readers, "filler", None)
    if not kept or filler is None:
        return _chunks(readers, sql, params)
    return _chunks(readers, sql, params, lambda chunk: filler.store("export_json", chunk))


def remake_json(ids: list[int]) -> dict[int, str]:
    """The JSON texts of the records of the contacts `ids` (the general path, for a few)."""
    encode = ex.json_encoder().encode
    return {record["id"]: encode(record) for record in ex._records_of(ids)}
