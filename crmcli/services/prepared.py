"""Queries built once and run many times.

peewee spends ~0.4 ms turning a query into SQL and ~0.01 ms running it on SQLite, so the
handful of queries behind a contact card or a logged call are built once per process (and
database dialect) with placeholder values, then run with new values. Rows come back as
`.tuples()` would give them: each selected field converts its value (UTC datetimes, dates),
except integer and text columns, which both drivers hand back as Python has them already.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

import peewee
from peewee import (
    Alias,
    AutoField,
    BooleanField,
    CharField,
    Field,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from crmcli.models import database_proxy

_cache: dict[tuple[str, type], tuple[str, list, list[int], list]] = {}
# Placeholder values no real query uses: each marks where one argument goes.
_MARKS = [-(7_000_000_000 + i) for i in range(64)]


# Columns the database driver already returns as peewee would (int, str, None): no per-value call.
_NATIVE = (AutoField, IntegerField, TextField, CharField)
# On PostgreSQL booleans too: every BooleanField is a BOOLEAN column there, which psycopg2
# reads as a bool (SQLite gives 0 or 1).
_NATIVE_PG = (*_NATIVE, BooleanField)


def _converter(node, postgres: bool = False) -> Callable | None:
    while isinstance(node, Alias):
        node = node.node
    if isinstance(node, ForeignKeyField):
        node = node.rel_field
    if not isinstance(node, Field) or isinstance(node, _NATIVE_PG if postgres else _NATIVE):
        return None
    return node.python_value


def _converters(query) -> list:
    """A converter (or None) for each column `query` selects, on the bound database."""
    postgres = isinstance(database_proxy.obj, peewee.PostgresqlDatabase)
    return [_converter(node, postgres) for node in getattr(query, "_returning", None) or ()]


def _slots(params: list, mark: int) -> list[int]:
    """Where `mark` stands in the parameters (a value may be used more than once)."""
    found = [i for i, value in enumerate(params) if value == mark or value == str(mark)]
    if not found:
        raise ValueError(f"query built without its placeholder {mark}")
    return found


def fetch(query) -> list[tuple]:
    """All rows of a query, as `.tuples()` gives them, without peewee's per-row cursor
    wrapper: for long lists (a few thousand rows cost a few ms less)."""
    sql, params = query.sql()
    rows = database_proxy.obj.execute_sql(sql, params).fetchall()
    return _convert(rows, _converters(query))


def _convert(rows: list[tuple], converters: list) -> list[tuple]:
    work = [(i, c) for i, c in enumerate(converters) if c is not None]
    if not work:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i, convert in work:
            if values[i] is not None:
                values[i] = convert(values[i])
        out.append(tuple(values))
    return out


def insert(model, values: dict) -> int:
    """INSERT one row (every column of `model` but its id; missing keys are NULL) with SQL
    built once per model, and return the new id. Values go through their fields (UTC
    datetimes...) as with Model.insert; an unknown key is an error, not silently dropped."""
    db = database_proxy.obj
    key = ("insert", model, type(db))
    entry = _cache.get(key)
    if entry is None:
        fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]
        sql, params = model.insert_many([[None] * len(fields)], fields=fields).sql()
        if len(params) != len(fields):  # peewee added a column of its own
            raise ValueError(f"cannot prepare the insert into {model.__name__}: {sql}")
        adapt = [(f.name, f.db_value) for f in fields]
        entry = _cache[key] = (sql, adapt, " RETURNING " in sql)
    sql, adapt, returning = entry
    unknown = set(values) - {name for name, _ in adapt}
    if unknown:
        raise KeyError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
    cursor = db.execute_sql(sql, [convert(values.get(name)) for name, convert in adapt])
    return cursor.fetchone()[0] if returning else cursor.lastrowid


def by_ids(name: str, build: Callable, ids: list[int]) -> list[tuple]:
    """Rows of `build(ids)` (a query with `.in_(ids)`), its SQL built once per number of ids
    (a page of search hits has up to a few dozen)."""
    if len(ids) > len(_MARKS):
        return fetch(build(ids))
    return run(f"{name}:{len(ids)}", lambda *marks: build(list(marks)), *ids)


def run(name: str, build: Callable, *args) -> list[tuple]:
    """Rows of the query `build(*marks)` with `args` in place of the marks.

    `build` must use each mark exactly where an argument goes (e.g. `Model.id == mark`).
    Arguments reach the database as they are: give datetimes as `field.db_value(dt)`.
    """
    sql, params, converters = _bound(name, build, args)
    ready = _taken(name, args)
    if ready is not None:
        return _convert(ready, converters)
    cursor = database_proxy.obj.execute_sql(sql, params)
    return _convert(cursor.fetchall() if converters else [], converters)


# Rows read ahead by together(), per thread (the TUI reads in worker threads).
_ahead = threading.local()


def _taken(name: str, args: tuple) -> list[tuple] | None:
    """The raw rows together() read ahead for this query and these arguments (once)."""
    waiting = getattr(_ahead, "rows", None)
    return None if waiting is None else waiting.pop((name, args), None)


@contextmanager
def together(queries: Iterable[tuple[str, Callable, tuple]]) -> Iterator[None]:
    """Within the block, `run` and `stream` of one of `queries` ((name, build, args) as `run`
    takes them) give rows that were read with all the others in one statement.

    For PostgreSQL, where every statement is a round trip to the server (a contact card is
    a dozen queries): each query becomes one aggregate row of arrays, a column each, which
    the driver reads back as the values the query itself would have given. SQLite has no
    round trip to save and runs each query as it comes. A query not asked for in the block
    (or asked for twice) simply runs."""
    db = database_proxy.obj
    if not isinstance(db, peewee.PostgresqlDatabase) or getattr(_ahead, "rows", None):
        yield
        return
    _ahead.rows = _read_together(list(queries))
    try:
        yield
    finally:
        _ahead.rows = None


# PostgreSQL statements this process had the server prepare, per connection: {sql: name};
# None for a connection where preparing failed once (a connection pooler that does not keep
# prepared statements, a parameter whose type the server could not tell): it prepares no more.
_planned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_names = itertools.count(1)
_PARAM = re.compile(r"%(s|%)")


def _execute_planned(sql: str, params: list):
    """The cursor of `sql` run as a statement the server prepared once on this connection.

    Planning a card's dozen subqueries takes the server several ms, running them well under
    one: a prepared statement is planned when first run and then, its plan generic, not
    again (a long-lived process: the TUI, a script). The first run sends PREPARE and EXECUTE
    as one string, one round trip. Inside a transaction, where a failed statement would end
    it, and wherever preparing did not work, the SQL simply runs.

    Outside a transaction the statement is planned with join_collapse_limit 1 (SET LOCAL,
    in the same string: it ends with the string's implicit transaction): the one-row
    subqueries are joined in the order written instead of searched for the best of ~16!
    orders (the genetic optimizer from 12 on), 7.5 -> 3 ms of planning a card, which a
    `crm show` process pays once."""
    db = database_proxy.obj
    conn = db.connection()
    known = _planned.setdefault(conn, {})
    if db.in_transaction():
        return db.execute_sql(sql, params)
    if known is None or not params:
        return db.execute_sql(_IN_ORDER + sql, params)
    execute = f"{_IN_ORDER}EXECUTE {{}}({', '.join(['%s'] * len(params))})"
    name = known.get(sql)
    try:
        if name is not None:
            return db.execute_sql(execute.format(name), params)
        numbers = itertools.count(1)
        # %s becomes $1, $2...; a literal %% stays as it is (the string still goes through
        # the driver's formatting, for EXECUTE's values)
        text = _PARAM.sub(lambda m: f"${next(numbers)}" if m.group(1) == "s" else "%%", sql)
        name = f"crm_together_{next(_names)}"
        cursor = db.execute_sql(f"PREPARE {name} AS {text}; {execute.format(name)}", params)
        known[sql] = name
        return cursor
    except peewee.DatabaseError:  # autocommit: the failed statement ended nothing else
        _planned[conn] = None
        return db.execute_sql(_IN_ORDER + sql, params)


# Joins of the statement that follows (in one string) planned in the order written.
_IN_ORDER = "SET LOCAL join_collapse_limit = 1; "


def _read_together(queries: list[tuple[str, Callable, tuple]]) -> dict:
    parts: list[str] = []
    params: list = []
    widths: list[int] = []
    for i, (name, build, args) in enumerate(queries):
        sql, values, converters = _bound(name, build, args)
        width = len(converters)
        names = ", ".join(f"c{j}" for j in range(width))
        # An aggregate of the query's rows in the order it gives them (one subquery, no
        # join or grouping at this level to reorder them).
        arrays = ", ".join(f"array_agg(q{i}.c{j})" for j in range(width))
        parts.append(f"(SELECT {arrays} FROM ({sql}) AS q{i}({names})) AS t{i}")
        params.extend(values)
        widths.append(width)
    row = _execute_planned("SELECT * FROM " + " CROSS JOIN ".join(parts), params).fetchone()
    out: dict = {}
    at = 0
    for (name, _, args), width in zip(queries, widths, strict=True):
        columns = row[at : at + width]
        at += width
        out[(name, tuple(args))] = (
            list(zip(*columns, strict=True)) if columns and columns[0] is not None else []
        )
    return out


# Rows fetched at a time by stream and stream_query.
BATCH = 1000


def stream(
    name: str, build: Callable, *args, batch: int | None = None, at_once: bool = False
) -> Iterator[tuple]:
    """The rows of `run`, fetched `batch` at a time from the cursor: a long list (an export)
    never holds all its rows. The query runs at the call, so a bad filter fails before the
    first row is asked for. `at_once`: the caller takes every row before it runs any other
    statement (a list it returns whole); on PostgreSQL the cursor then lives in a
    transaction instead of holding a copy of the whole result (see _read_in_transaction)."""
    sql, params, converters = _bound(name, build, args)
    ready = _taken(name, args)
    if ready is not None:
        return iter(_convert(ready, converters))
    if at_once and _cursor_opener(database_proxy.obj) is not None:
        return _read_in_transaction(database_proxy.obj, sql, params, converters, batch or BATCH)
    return _streamed(sql, params, converters, batch)


def stream_query(query, *, batch: int | None = None) -> Iterator[tuple]:
    """The rows of a peewee query as `.tuples()` gives them, `batch` at a time (see stream).
    A query whose LIMIT is at most one batch (a page) is read at once."""
    sql, params = query.sql()
    limit = getattr(query, "_limit", None)
    small = limit is not None and limit <= (batch or BATCH)
    return _streamed(sql, params, _converters(query), batch, server_side=not small)


def _cursor_opener(db) -> Callable | None:
    """What opens a server-side cursor on `db`'s connection (peewee's psycopg2 adapter), or
    None (SQLite: its cursor fetches as it is read)."""
    return getattr(getattr(db, "_adapter", None), "server_side_cursor", None)


def _streamed(
    sql: str, params, converters: list, batch: int | None, *, server_side: bool = True
) -> Iterator[tuple]:
    """Run `sql` now and hand its rows over `batch` at a time. On PostgreSQL through a server
    side cursor: psycopg's usual cursor would fetch the whole result into memory first. That
    cursor costs three round trips more (DECLARE, an empty FETCH at the end, CLOSE) and
    keeps the whole result on the server until CLOSE (autocommit: WITH HOLD): a result of
    at most one batch (server_side=False) is read through the usual cursor instead."""
    size = batch or BATCH
    db = database_proxy.obj
    opener = _cursor_opener(db)
    named = server_side and opener is not None
    if named:
        import logging

        logging.getLogger("peewee").debug((sql, params))  # logged as db.execute_sql does
        cursor = opener(db.connection())
        with peewee.__exception_wrapper__:  # driver errors as peewee's, as execute_sql has them
            cursor.execute(sql, params)
    else:
        cursor = db.execute_sql(sql, params)

    def rows() -> Iterator[tuple]:
        try:
            while True:
                with peewee.__exception_wrapper__:
                    found = cursor.fetchmany(size)
                if not found:
                    return
                yield from _convert(found, converters)
        finally:
            if named:
                cursor.close()

    return rows()


def _bound(name: str, build: Callable, args: tuple) -> tuple[str, list, list]:
    """The SQL of `build` (made once per name and dialect) and its parameters for `args`."""
    db = database_proxy.obj
    key = (name, type(db))
    entry = _cache.get(key)
    if entry is None:
        query = build(*_MARKS[: len(args)])
        sql, params = query.sql()
        # A text field turns the mark into a string on its way into the SQL.
        slots = [_slots(params, mark) for mark in _MARKS[: len(args)]]
        converters = _converters(query)
        entry = _cache[key] = (sql, list(params), slots, converters)
    sql, params, slots, converters = entry
    params = list(params)
    for places, value in zip(slots, args, strict=True):
        for place in places:
            params[place] = value
    return sql, params, converters


_cursors = itertools.count(1)  # _read_in_transaction's cursors: a name each, never reused


def _read_in_transaction(db, sql: str, params, converters: list, size: int) -> Iterator[tuple]:
    """PostgreSQL: the rows of `sql`, `size` at a time, through a cursor of a transaction (the
    caller's, or one of its own, read only, ended when the last row is read). A cursor kept
    past its transaction (WITH HOLD, what _streamed needs in autocommit) makes the server
    run the query to its end and store a copy of every row first; this one is run as it is
    read: ~2 ms less for 7,000 tasks. BEGIN, DECLARE and the first FETCH are one round trip.
    Only for a caller that reads every row before it sends anything else: a statement sent
    meanwhile would run inside this transaction."""
    import logging

    own = not db.in_transaction()
    cursor = db.connection().cursor()
    name = f"crm_rows_{next(_cursors)}"
    fetch = f"FETCH FORWARD {int(size)} FROM {name}"
    logging.getLogger("peewee").debug((sql, params))  # logged as db.execute_sql does
    start = f"DECLARE {name} NO SCROLL CURSOR FOR {sql}; {fetch}"
    try:
        with peewee.__exception_wrapper__:
            cursor.execute(f"BEGIN READ ONLY; {start}" if own else start, params)
    except BaseException:
        _end(cursor, name, own, failed=True)
        raise

    def rows() -> Iterator[tuple]:
        failed = True
        try:
            yield ()  # started below: left unread, it still ends the transaction when collected
            while True:
                with peewee.__exception_wrapper__:
                    found = cursor.fetchall()
                yield from _convert(found, converters)
                if len(found) < size:
                    break
                with peewee.__exception_wrapper__:
                    cursor.execute(fetch)
            failed = False
        finally:
            _end(cursor, name, own, failed=failed)

    started = rows()
    next(started)
    return started


def _end(cursor, name: str, own: bool, *, failed: bool) -> None:
    """Close _read_in_transaction's cursor: its own transaction ends (rolled back after an
    error, which aborted it, or when the rows were left unread), the caller's goes on
    without the cursor. A rollback or close that fails too (the connection lost, the
    caller's transaction aborted by the error) is not raised over the error that caused
    it, nor from the garbage collector."""
    try:
        if own and failed:
            with suppress(Exception):
                cursor.execute("ROLLBACK")
        elif own:
            cursor.execute("COMMIT")
        elif failed:
            with suppress(Exception):
                cursor.execute(f"CLOSE {name}")
        else:
            cursor.execute(f"CLOSE {name}")
    finally:
        cursor.close()
