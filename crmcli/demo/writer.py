"""Fast multi-row inserts for the demo: SQL made once per chunk size, ids read back in order."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence

from crmcli.errors import Conflict
from crmcli.models import database_proxy


def insert(model, columns: Sequence[str], rows: list[dict], convert=None) -> list[int]:
    """Insert dict rows (the given columns, some converted); the new ids in the order of rows."""
    pairs = [(c, (convert or {}).get(c)) for c in columns]
    values = [[r[c] if f is None else f(r[c]) for c, f in pairs] for r in rows]
    return bulk_ids(model, [model._meta.fields[c] for c in columns], values)


def bulk_ids(model, fields: Sequence, rows: Sequence[Sequence]) -> list[int]:
    """bulk(), and the new ids in the order of rows, read back from the table: never
    computed as MAX(id) + 1, which is wrong once a table has handed out ids that were deleted
    (AUTOINCREMENT on SQLite, sequences on PostgreSQL: a replaced demo's ids are not reused)."""
    from peewee import fn

    before = model.select(fn.MAX(model.id)).scalar() or 0
    bulk(model, fields, rows)
    query = model.select(model.id).where(model.id > before).order_by(model.id).tuples()
    ids = [i for (i,) in query]
    if len(ids) != len(rows):  # another writer interleaved: better nothing than a wrong link
        raise Conflict("the database changed while the demo was being written; run it again")
    return ids


def bulk(model, fields: Sequence, rows: Iterable[Sequence]) -> int:
    """Insert value tuples in statements of many rows each, with SQL made once per size:
    peewee's insert_many spends most of its time building SQL at this size, and
    executemany would cost PostgreSQL (psycopg2) a round trip per row."""
    from peewee import TextField

    fields = list(fields)
    one = model.insert_many([[None] * len(fields)], fields=fields).returning()  # no ids back
    sql, params = one.sql()
    if len(params) != len(fields) or not sql.endswith(")"):  # peewee added a column
        raise RuntimeError(f"demo rows for {model.__name__} miss a column: {sql}")
    head, _, one_row = sql.rpartition(" VALUES ")
    # Text columns get str or None already; the rest go through the field (UTC datetimes...).
    adapt = [None if isinstance(f, TextField) else f.db_value for f in fields]
    size = max(1, min(1000, _MAX_PARAMETERS // len(fields)))
    db, rows, count = database_proxy.obj, iter(rows), 0
    while chunk := list(itertools.islice(rows, size)):
        values = [
            v if a is None else a(v) for row in chunk for a, v in zip(adapt, row, strict=True)
        ]
        db.execute_sql(f"{head} VALUES {', '.join([one_row] * len(chunk))}", values)
        count += len(chunk)
    return count


# SQLite takes 32,766 parameters a statement (since 3.32; 999 before), PostgreSQL 65,535.
_MAX_PARAMETERS = 30_000 if sqlite3.sqlite_version_info >= (3, 32) else 999
