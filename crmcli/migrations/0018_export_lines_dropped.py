"""Whole exports make every line anew; what they read is covered by its indexes.

- SQLite: migration 0015's stored export lines go (export_csv, export_json, export_cache and
  the 24 triggers that kept them true). Storing a million lines (a database write as large
  as the export itself, 0.3-0.8 GB) made the first export after a bulk write 3-4x slower
  than making the lines, and the triggers fired on every change of a contact; SQLite now
  makes each line fast enough every time (services/exports_sqlite.py). The space the lines
  took is free pages in the file, which SQLite fills again as data grows (VACUUM, e.g.
  `sqlite3 crm.db VACUUM`, gives it back to the disk at once).
- Both: the indexes a contact's emails, phones and custom fields are read through hold what
  an export (and the card) shows of them, so no row of those tables is read for it:
  contact_email (contact_id, position, id, is_primary, email, kind) and contact_phone
  (contact_id, position, id, is_primary, phone, phone_e164, kind) replace the (contact_id,
  position) indexes they begin with, in the same order (rows at one position by id, as
  before: the order an export lists them in); contact_field (contact_id, key, value)
  replaces the index on contact_id alone, which the unique (contact_id, key) index made
  redundant.
"""

from peewee import SqliteDatabase

INDEXES = (
    ("contactemail_contact_id_position", "contact_email_covering", "contact_email",
     "contact_id, position, id, is_primary, email, kind"),
    ("contactphone_contact_id_position", "contact_phone_covering", "contact_phone",
     "contact_id, position, id, is_primary, phone, phone_e164, kind"),
    ("contact_field_contact_id", "contact_field_covering", "contact_field",
     "contact_id, key, value"),
)  # fmt: skip


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'export_*'"
        ).fetchall():
            db.execute_sql(f'DROP TRIGGER "{name}"')
        for table in ("export_csv", "export_json", "export_cache"):
            db.execute_sql(f"DROP TABLE IF EXISTS {table}")
    for old, new, table, columns in INDEXES:
        db.execute_sql(f"DROP INDEX IF EXISTS {old}")
        db.execute_sql(f"CREATE INDEX {new} ON {table} ({columns})")
