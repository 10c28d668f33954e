"""Has anybody else written to the database? A token that changes when another connection
commits: a screen that shows data polls it (cheaply, every second or so) and reads again
when it moves, so cron's `crm remind` or a script's `crm log` shows up without a keypress."""

from __future__ import annotations

from crmcli.models import database_proxy


def data_version() -> str:
    """An opaque token; a different one means another connection committed since.

    SQLite: `PRAGMA data_version`, which changes when another connection commits a change
    to the file (this connection's own writes leave it alone: the writer refreshes itself).
    PostgreSQL: the current snapshot (xmin:xmax:in-progress ids) of the server; it moves
    when any transaction that writes starts or ends there, so it may move for a write to
    another database of the server too (a needless read, never a missed one)."""
    from peewee import SqliteDatabase

    db = database_proxy.obj
    if isinstance(db, SqliteDatabase):
        return str(db.execute_sql("PRAGMA data_version").fetchone()[0])
    return str(db.execute_sql("SELECT pg_current_snapshot()::text").fetchone()[0])
