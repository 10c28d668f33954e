"""A big import into a small contact table builds the indexes it does not read afterwards.

Inserting 100,000 rows into a table keeps each of its indexes in step a row at a time, in
random order for most of them; building an index from the finished table sorts once. While
an import writes, the contact indexes that none of its queries uses (not unique, none on a
column it looks rows up by) are dropped and, at its end, made again from their own stored
definitions, in the import's transaction: a rollback (a dry run, rejected rows, an error)
brings them back as they were. SQLite only; PostgreSQL keeps them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from crmcli.models import database_proxy

# A table of at most this many rows is small: building an index over it again costs less
# than the rows an import brings from its second batch on keep in step row by row.
SMALL = 10_000


@contextlib.contextmanager
def built_after(table: str, lookups: frozenset[str]) -> Iterator[None]:
    """Drop `table`'s indexes that are not unique and use none of the `lookups` columns
    while the block writes (when the table holds at most SMALL rows), then make them
    again exactly as the schema defines them, with any statistics ANALYZE kept for them.
    Call inside the transaction; an exception leaves them to its rollback."""
    from peewee import SqliteDatabase

    db = database_proxy.obj
    if not isinstance(db, SqliteDatabase):
        yield
        return
    (count,) = db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()
    dropped = [] if count > SMALL else _quiet_indexes(db, table, lookups)
    stats: list[tuple] = []
    if dropped and _has_stats(db):
        marks = ", ".join("?" * len(dropped))
        stats = db.execute_sql(
            f"SELECT tbl, idx, stat FROM sqlite_stat1 WHERE idx IN ({marks})",
            [name for name, _ in dropped],
        ).fetchall()
    for name, _ in dropped:
        db.execute_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in dropped:
        db.execute_sql(sql)
    if stats:
        rows = ", ".join(["(?, ?, ?)"] * len(stats))
        db.execute_sql(
            f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES {rows}",
            [v for row in stats for v in row],
        )


def _quiet_indexes(db, table: str, lookups: frozenset[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes an import's queries do not use."""
    found = db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL ORDER BY name",
        (table,),
    ).fetchall()
    unique = {row[1] for row in db.execute_sql(f'PRAGMA index_list("{table}")') if row[2]}
    out = []
    for name, sql in found:
        columns = [row[2] for row in db.execute_sql(f'PRAGMA index_info("{name}")')]
        if name in unique or None in columns or set(columns) & lookups:
            continue  # an expression (None) might be anything: kept
        out.append((name, sql))
    return out


def _has_stats(db) -> bool:
    return bool(
        db.execute_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        ).fetchone()
    )
