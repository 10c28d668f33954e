"""Migration 0013: a database of schema 10 keeps its consent flags as the first entries of
the consent history, and then works as any other."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from crmcli import db as dbmod


def _as_schema_10(path):
    """A database as schema 10 left it: no consent history, no mailing records."""
    database = dbmod.open_database(str(path))
    from crmcli.services import contacts

    contacts.add_contact("Anna Adler", email="anna@example.de")
    contacts.add_contact("Bernd Bauer")
    contacts.add_contact("Clara Corn")
    for table in ("consent_entry", "mailing_recipient"):
        database.execute_sql(f"DROP TABLE {table}")
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0013_consent_mailings'")
    database.execute_sql("PRAGMA user_version = 10")
    # what schema 10 wrote: the flag and its date only (Bernd's date unknown)
    database.execute_sql(
        "UPDATE contact SET consent = 1, consent_at = '2025-03-01 08:00:00' WHERE name = ?",
        ("Anna Adler",),
    )
    database.execute_sql(
        "UPDATE contact SET consent = 1, consent_at = NULL, updated_at = '2025-06-01 12:00:00' "
        "WHERE name = ?", ("Bernd Bauer",),
    )  # fmt: skip
    database.close()


def test_upgrade_from_schema_10_turns_each_flag_into_its_first_entry(tmp_path):
    path = tmp_path / "old.db"
    _as_schema_10(path)
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    from crmcli.services import consent, contacts

    anna, bernd, clara = (contacts.resolve_contact(n) for n in ("anna", "bernd", "clara"))
    (a,) = consent.history(anna)
    assert (a["purpose"], a["action"], a["source"], a["confirmed_at"]) == (
        "newsletter",
        "grant",
        "migrated",
        None,
    )
    assert a["at"] == datetime(2025, 3, 1, 8, tzinfo=UTC)
    (b,) = consent.history(bernd)
    assert b["at"] == datetime(2025, 6, 1, 12, tzinfo=UTC)  # no date: the last change
    assert consent.history(clara) == []
    # unconfirmed: the flag never recorded a double opt-in
    assert consent.state(consent.in_force([anna], "newsletter")[anna]) == consent.UNCONFIRMED
    # the flag columns stay and keep following the history
    consent.record(anna, "withdraw", "newsletter")
    assert contacts.get_contact(anna)["consent"] is False
    database.close()
    fresh = tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    shape = {}
    for p in (path, fresh):
        conn = sqlite3.connect(p)
        shape[p] = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE name LIKE 'consent%' OR name LIKE 'mailing%'"
            " ORDER BY name"
        ).fetchall()
        conn.close()
    assert shape[path] == shape[fresh] and len(shape[path]) == 6
