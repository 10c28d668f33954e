"""Queries built once and run many times.

peewee spends ~0.4 ms turning a query into SQL and ~0.01 ms running it on SQLite, so the
handful of queries behind a contact card or a logged call are built once per process (and
database dialect) with placeholder values, then run with new values. Rows come back as
`.tuples()` would give them: each selected field converts its value (UTC datetimes, dates).
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Alias, Field

from crmcli.models import database_proxy

_cache: dict[tuple[str, type], tuple[str, list, list[int], list]] = {}
# Placeholder values no real query uses: each marks where one argument goes.
_MARKS = [-(7_000_000_000 + i) for i in range(8)]


def _converter(node) -> Callable | None:
    while isinstance(node, Alias):
        node = node.node
    return node.python_value if isinstance(node, Field) else None


def _slots(params: list, mark: int) -> list[int]:
    """Where `mark` stands in the parameters (a value may be used more than once)."""
    found = [i for i, value in enumerate(params) if value == mark or value == str(mark)]
    if not found:
        raise ValueError(f"query built without its placeholder {mark}")
    return found


def run(name: str, build: Callable, *args) -> list[tuple]:
    """Rows of the query `build(*marks)` with `args` in place of the marks.

    `build` must use each mark exactly where an argument goes (e.g. `Model.id == mark`).
    Arguments reach the database as they are: give datetimes as `field.db_value(dt)`.
    """
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
    cursor = db.execute_sql(sql, params)
    rows = cursor.fetchall() if converters else []
    if not any(converters):
        return rows
    return [
        tuple(v if c is None or v is None else c(v) for c, v in zip(converters, row, strict=True))
        for row in rows
    ]
