"""The contacts' export lines a whole export stores for the next one (export_csv,
export_json, export_cache: migration 0015, SQLite only) and what keeps them true.

Migration 0015's triggers delete a contact's lines in the transaction of any change to what
is on them, so a line in the tables is always the line the data gives now. An export reads
the lines it finds and stores those it made (Filler) when nothing was committed since its
snapshot began. A big import into a database with no line stored lets the triggers rest
while it writes (resting): there is nothing for them to delete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from crmcli.models import database_proxy

if TYPE_CHECKING:
    from crmcli.services.exports_sqlite import Chunk

# Migration 0015's triggers, which keep every stored line current: without all of them (a
# table rebuilt by a later migration without them) no stored line is used or stored.
TRIGGERS = 24


def kept_lines() -> bool:
    """Whether this snapshot's stored lines can be trusted (export_csv, export_json and the
    triggers that delete a line when anything on it changes are all there)."""
    conn = database_proxy.obj
    found = conn.execute_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'export_*' "
        "AND tbl_name IN ('contact', 'contact_email', 'contact_phone', 'contact_tag', "
        "'contact_field', 'tag', 'company', 'campaign', 'campaign_keyword')"
    ).fetchone()[0]
    return found == TRIGGERS


def cached(name: str) -> str | None:
    """What the stored lines were made with (export_cache), in this snapshot."""
    row = database_proxy.obj.execute_sql(
        "SELECT value FROM export_cache WHERE name = ?", (name,)
    ).fetchone()
    return row[0] if row else None


class Filler:
    """Stores the lines an export made (those not in export_csv/export_json) on the
    connection that lined the snapshot up, a batch a short write transaction, as long as
    no other connection has committed since the snapshot began: then the lines are what
    the data gives now (PRAGMA data_version, read under the write lock that began the
    snapshot, changes with every commit of another connection). A writer at work or a
    commit since: it stops, and the lines it did not store are made again next time."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.version = conn.execute("PRAGMA data_version").fetchone()[0]
        self.alive = True
        self.cleared: set[str] = set()

    def store(self, table: str, chunk: Chunk, *, clear: tuple[str, str] | None = None) -> None:
        """Store the lines of `chunk` it made (Chunk.made) in `table`; `clear`: (name,
        value) of export_cache that the table's lines depend on, which this export's lines
        replace: the table is emptied first (once)."""
        import sqlite3

        if not self.alive:
            return
        lines = chunk.made_lines()
        reset = clear is not None and table not in self.cleared
        if not lines and not reset:
            return
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA data_version").fetchone()[0] != self.version:
                    self.alive = False
                    conn.execute("ROLLBACK")
                    return
                if reset and clear is not None:
                    conn.execute(f"DELETE FROM {table}")
                    conn.execute("INSERT OR REPLACE INTO export_cache VALUES (?, ?)", clear)
                conn.executemany(
                    f"INSERT OR REPLACE INTO {table} (contact_id, line) VALUES (?, ?)", lines
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error:  # busy, read-only after all, disk full: the lines are not kept
            self.alive = False
            return
        if reset:
            self.cleared.add(table)


@contextlib.contextmanager
def resting() -> Iterator[None]:
    """While the block writes (in a transaction), the triggers are dropped when no line is
    stored (a trigger that fires for every row an import writes costs ~3 % of the import),
    and made again from their own stored definitions at its end; with lines stored they
    stay, and delete them as the rows change. An exception leaves them to the rollback."""
    from peewee import SqliteDatabase

    db = database_proxy.obj
    if not isinstance(db, SqliteDatabase) or not kept_lines():
        yield
        return
    (stored,) = db.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM export_csv) OR EXISTS (SELECT 1 FROM export_json)"
    ).fetchone()
    if stored:
        yield
        return
    triggers = db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'export_*'"
    ).fetchall()
    for name, _ in triggers:
        db.execute_sql(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in triggers:
        db.execute_sql(sql)
