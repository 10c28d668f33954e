"""Contacts' export lines kept for the next whole export (SQLite only).

- export_csv, export_json: per contact, its line of a whole `crm export contacts` as
  services.exports_sqlite made it (CSV cells with the unit separator between them; the JSON
  text). A whole export writes the lines it finds here and makes the missing ones, which it
  then stores (exports_sqlite.Filler), so the next export reads a contact's line instead of
  its five related tables.
- export_cache: what the stored lines depend on beyond their contact (the custom field keys
  that were the CSV's columns).
- Triggers delete a contact's lines in the transaction of any change to what its line is
  made of: the contact's own columns, its emails, phones, tags and custom fields, and the
  name of its company, of a tag it carries, of its campaign and keyword. A line in the
  tables is therefore always the line the data would give now; a write path never has to
  remember them. A contact's delete (and a cascade from a tag's or company's) takes its
  lines along the same way. Triggers go with their table: a later migration that rebuilds
  one of these tables must make them again (exports_sqlite checks they are all there and
  uses no stored line otherwise).

PostgreSQL exports take the general path: nothing here.
"""

from peewee import SqliteDatabase

# The columns of contact a line shows (an update of another, a reminder's mark, leaves it).
LINE_COLUMNS = (
    "name", "email", "phone", "phone_e164", "company_id", "position", "street", "zip", "city",
    "country", "birthday", "status", "source", "owner", "notes", "consent", "consent_at",
    "cadence_days", "created_at", "updated_at", "last_activity_at", "campaign_id", "keyword_id",
)  # fmt: skip


def _forget(contact: str) -> str:
    """The statements that delete the lines of the contact whose id is `contact` (an SQL
    expression). `=`, not `IN (...)`: a list in a trigger costs a temporary table each time
    it fires (25x the cost of the insert that fires it)."""
    return (
        f"DELETE FROM export_csv WHERE contact_id = {contact}; "
        f"DELETE FROM export_json WHERE contact_id = {contact};"
    )


def _who(select: str) -> str:
    """The statements that delete the lines of the contacts `select` names."""
    return (
        f"DELETE FROM export_csv WHERE contact_id IN ({select}); "
        f"DELETE FROM export_json WHERE contact_id IN ({select});"
    )


def _trigger(name: str, event: str, table: str, body: str) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END"


def up(migrator, db):
    if not isinstance(db, SqliteDatabase):
        return
    for table in ("export_csv", "export_json"):
        db.execute_sql(
            f"CREATE TABLE {table} (contact_id INTEGER NOT NULL PRIMARY KEY, line BLOB NOT NULL)"
        )
    db.execute_sql("CREATE TABLE export_cache (name TEXT NOT NULL PRIMARY KEY, value TEXT)")
    # An insert can meet a line only after a REPLACE took the old row without its delete
    # trigger; an update of an id (never by crm) leaves the old id's lines behind.
    statements = [
        _trigger("export_contact_insert", "INSERT", "contact", _forget("NEW.id")),
        _trigger(
            "export_contact_update",
            f"UPDATE OF {', '.join(LINE_COLUMNS)}",
            "contact",
            _forget("OLD.id"),
        ),
        _trigger("export_contact_renumber", "UPDATE OF id", "contact", _forget("NEW.id")),
        _trigger("export_contact_delete", "DELETE", "contact", _forget("OLD.id")),
    ]
    for table in ("contact_email", "contact_phone", "contact_tag", "contact_field"):
        short = table.removeprefix("contact_")
        statements += [
            _trigger(f"export_{short}_insert", "INSERT", table, _forget("NEW.contact_id")),
            _trigger(f"export_{short}_update", "UPDATE", table, _forget("OLD.contact_id")),
            _trigger(
                f"export_{short}_move", "UPDATE OF contact_id", table, _forget("NEW.contact_id")
            ),
            _trigger(f"export_{short}_delete", "DELETE", table, _forget("OLD.contact_id")),
        ]
    for name, table, columns, who in (
        ("tag", "tag", "name, name_fold",
         "SELECT contact_id FROM contact_tag WHERE tag_id = NEW.id"),
        ("company", "company", "name", "SELECT id FROM contact WHERE company_id = NEW.id"),
        ("campaign", "campaign", "name", "SELECT id FROM contact WHERE campaign_id = NEW.id"),
        ("keyword", "campaign_keyword", "keyword",
         "SELECT id FROM contact WHERE keyword_id = NEW.id"),
    ):  # fmt: skip
        statements.append(
            _trigger(f"export_{name}_rename", f"UPDATE OF {columns}", table, _who(who))
        )
    for sql in statements:
        db.execute_sql(sql)
