"""Looking after a database's health: integrity, foreign keys, contacts' primary email and
phone copies, the search index, the reminder queues (what `crm remind` reads), the funnel
counters, the contact names and sources copied onto tasks and orders, and the repair of
what drifted."""

from __future__ import annotations

from crmcli.models import database_proxy


def check(db=None) -> list[str]:
    """Problems found in the database; an empty list means it is sound."""
    from peewee import SqliteDatabase

    from crmcli.db import is_read_only

    db = db or database_proxy.obj
    problems: list[str] = []
    if isinstance(db, SqliteDatabase):
        rows = [r[0] for r in db.execute_sql("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            problems.extend(f"integrity: {r}" for r in rows)
        for table, rowid, parent, _ in db.execute_sql("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign key: {table} row {rowid} points at a missing {parent}")
        # FTS5's own structure check is an INSERT: a read-only file cannot run it (and
        # PRAGMA integrity_check above already covers the index's pages).
        if not is_read_only(db):
            try:
                db.execute_sql("INSERT INTO search_index(search_index) VALUES('integrity-check')")
            except Exception as exc:  # FTS5 reports corruption as an error
                problems.append(f"search index: {exc}")
    problems.extend(address_drift())
    problems.extend(search_index_drift())
    problems.extend(reminder_queue_drift())
    problems.extend(funnel_drift())
    problems.extend(copy_drift(db))
    problems.extend(trigram_gaps(db))
    return problems


# What `repair` rebuilds: a problem starting with one of these.
REPAIRABLE = (
    "contact addresses", "search index", "reminder queues", "funnel counters", "trigram indexes",
    "copied from contacts",
)  # fmt: skip

# What triggers copy from a contact onto other rows so that lists read no contact
# (migrations 0016 and 0020): (what the copy is called, table, its column, contact column).
COPIES = (
    ("task contact names", "task", "contact_name", "name"),
    ("order sources", "sales_order", "source", "source"),
)


def repairable(problems: list[str]) -> bool:
    """Whether `repair` can mend any of `problems`."""
    return any(p.startswith(REPAIRABLE) for p in problems)


def address_drift() -> list[str]:
    """Contacts whose primary email or phone (the copy lists show) disagrees with their
    email and phone rows; [] when in step."""
    from crmcli.services import address_sync
    from crmcli.values import plural

    return [
        f"contact addresses: the primary {what} of {plural(n, 'contact')} is out of step "
        f"with their {what}s"
        for what, n in address_sync.drift().items()
        if n
    ]


def search_index_drift() -> list[str]:
    """Records missing from the search index; [] when in step."""
    from crmcli.services import search

    missing = search.missing_entries()
    return [f"search index: {n} {kind} not indexed" for kind, n in missing.items() if n]


def reminder_queue_drift() -> list[str]:
    """Problems of the reminder queues (what `crm remind` reads); [] when in step."""
    from crmcli.services import reminders

    return [
        f"reminder queues: {kind} out of step: {n}"
        for kind, n in reminders.queue_drift().items()
        if n
    ]


def funnel_drift() -> list[str]:
    """The funnel counters (what `crm report funnel` reads) when they differ from a recount
    of the deals' histories; [] when in step."""
    from crmcli.services import tallies

    if tallies.drifted():
        return ["funnel counters out of step"]
    return []


def _copies_out_of_step(db, table: str, column: str, source: str) -> str:
    """SQL: the ids of `table`'s rows whose copy of their contact's `source` is not it (NULL
    without a contact)."""
    from peewee import SqliteDatabase

    differs = "IS NOT" if isinstance(db, SqliteDatabase) else "IS DISTINCT FROM"
    return (
        f"SELECT t.id FROM {table} t LEFT JOIN contact c ON c.id = t.contact_id "
        f"WHERE t.{column} {differs} c.{source}"
    )


def copy_drift(db) -> list[str]:
    """Rows whose copy of their contact's name or source disagrees with the contact (the
    triggers keep them in step; a database edited with them off, or restored without them,
    may not be); [] when in step."""
    from crmcli.values import plural

    problems = []
    for what, table, column, source in COPIES:
        sql = _copies_out_of_step(db, table, column, source)
        (count,) = db.execute_sql(f"SELECT count(*) FROM ({sql}) AS odd").fetchone()
        if count:
            problems.append(f"copied from contacts: {what} out of step: {plural(count, 'row')}")
    return problems


def trigram_gaps(db) -> list[str]:
    """PostgreSQL: the trigram indexes that REF look-ups by part of a name use, when missing
    (migration 0011 could not enable pg_trgm), with what an admin should run."""
    from crmcli.db import TRIGRAM_ADVICE, missing_trigram_indexes

    missing = missing_trigram_indexes(db)
    if not missing:
        return []
    return [f"trigram indexes missing ({', '.join(missing)}): {TRIGRAM_ADVICE}"]


def repair(problems: list[str]) -> list[str]:
    """Rebuild what `problems` (from `check`) says drifted: the search index (drift or FTS
    corruption), the reminder queues (nothing is reminded twice) and the funnel counters.
    Returns what was done."""
    from crmcli.services import reminders, search, tallies

    done: list[str] = []
    if any(p.startswith("contact addresses") for p in problems):
        from crmcli.services import address_sync
        from crmcli.values import plural

        count = address_sync.repair_drift()
        done.append(f"Put the primary email and phone of {plural(count, 'contact')} back in step.")
    if any(p.startswith("search index") for p in problems):
        count = search.rebuild()
        done.append(f"Rebuilt the search index ({count} entries).")
    if reminder_queue_drift():
        with database_proxy.atomic():
            reminders.rebuild_queues()
        done.append("Rebuilt the reminder queues (nothing is reminded twice).")
    if any(p.startswith("funnel counters") for p in problems):
        with database_proxy.atomic():
            tallies.rebuild()
        done.append("Recounted the funnel counters.")
    if any(p.startswith("copied from contacts") for p in problems):
        db = database_proxy.obj
        with database_proxy.atomic():
            for _what, table, column, source in COPIES:
                odd = _copies_out_of_step(db, table, column, source)
                db.execute_sql(
                    f"UPDATE {table} SET {column} = (SELECT c.{source} FROM contact c "
                    f"WHERE c.id = {table}.contact_id) WHERE id IN ({odd})"
                )
        done.append("Copied the contacts' names and sources onto their tasks and orders again.")
    if any(p.startswith("trigram indexes") for p in problems):
        from crmcli.db import make_trigram_indexes

        with database_proxy.atomic():
            if make_trigram_indexes(database_proxy.obj):
                done.append("Made the trigram indexes (pg_trgm) for finding records by name.")
    return done
