"""Queries built once and run many times.

peewee spends ~0.4 ms turning a query into SQL and ~0.01 ms running it on SQLite, so the
handful of queries behind a contact card or a logged call are built once per process (and
database dialect) with placeholder values, then run with new values. Rows come back as
`.tuples()` would give them: each selected field converts its value (UTC datetimes, dates),
except integer and text columns, which both drivers hand back as Python has them already.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import peewee
from peewee import Alias, AutoField, CharField, Field, ForeignKeyField, IntegerField, TextField

from crmcli.models import database_proxy

_cache: dict[tuple[str, type], tuple[str, list, list[int], list]] = {}
# Placeholder values no real query uses: each marks where one argument goes.
_MARKS = [-(7_000_000_000 + i) for i in range(64)]


# Columns the database driver already returns as peewee would (int, str, None): no per-value call.
_NATIVE = (AutoField, IntegerField, TextField, CharField)


def _converter(node) -> Callable | None:
    while isinstance(node, Alias):
        node = node.node
    if isinstance(node, ForeignKeyField):
        node = node.rel_field
    if not isinstance(node, Field) or isinstance(node, _NATIVE):
        return None
    return node.python_value


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
    converters = [_converter(node) for node in query._returning]
    return _convert(rows, converters)


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
    cursor = database_proxy.obj.execute_sql(sql, params)
    return _convert(cursor.fetchall() if converters else [], converters)


# Rows fetched at a time by stream and stream_query.
BATCH = 1000


def stream(name: str, build: Callable, *args, batch: int | None = None) -> Iterator[tuple]:
    """The rows of `run`, fetched `batch` at a time from the cursor: a long list (an export)
    never holds all its rows. The query runs at the call, so a bad filter fails before the
    first row is asked for."""
    sql, params, converters = _bound(name, build, args)
    return _streamed(sql, params, converters, batch)


def stream_query(query, *, batch: int | None = None) -> Iterator[tuple]:
    """The rows of a peewee query as `.tuples()` gives them, `batch` at a time (see stream)."""
    sql, params = query.sql()
    return _streamed(sql, params, [_converter(node) for node in query._returning], batch)


def _streamed(sql: str, params, converters: list, batch: int | None) -> Iterator[tuple]:
    """Run `sql` now and hand its rows over `batch` at a time. On PostgreSQL through a server
    side cursor: psycopg's usual cursor would fetch the whole result into memory first."""
    size = batch or BATCH
    db = database_proxy.obj
    server_side = getattr(getattr(db, "_adapter", None), "server_side_cursor", None)
    if server_side is not None:
        import logging

        logging.getLogger("peewee").debug((sql, params))  # logged as db.execute_sql does
        cursor = server_side(db.connection())
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
            if server_side is not None:
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
        converters = [_converter(node) for node in getattr(query, "_returning", None) or ()]
        entry = _cache[key] = (sql, list(params), slots, converters)
    sql, params, slots, converters = entry
    params = list(params)
    for places, value in zip(slots, args, strict=True):
        for place in places:
            params[place] = value
    return sql, params, converters
