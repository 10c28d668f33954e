"""Several emails and phones per contact; sound-alike name keys; merge aliases; external ids.

- contact_email, contact_phone: any number per contact, each with a kind (work, home, mobile,
  other), one primary and a position (the order they were given in). contact.email,
  contact.email_key, contact.phone and contact.phone_e164 stay as copies of the primary, which
  is what lists show and sort by. Every email is unique across contacts (email_key).
  A contact's existing email and phone become its primary, of kind "other".
- contact.name_sound, company.name_sound: values.sound_key of the name (Kölner Phonetik),
  indexed, so `crm dedupe` groups names that sound alike without comparing every pair.
- merge_alias: the id a merged-away contact or company had, and its survivor's, so that an
  old id still resolves after `crm merge`.
- activity.external_id, task.external_id: where a record came from outside (an email's
  Message-ID, a calendar's UID), unique, so importing the same thing twice adds it once.

Model shapes are frozen here (see 0001).
"""

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CompositeKey,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

from crmcli.values import sound_key

PAGE = 5000


def _sounds(db, table: str, mark: str, *, company: bool) -> None:
    last = 0
    while True:
        rows = db.execute_sql(
            f"SELECT id, name FROM {table} WHERE id > {mark} ORDER BY id LIMIT {PAGE}", (last,)
        ).fetchall()
        if not rows:
            return
        keys = [(sound_key(name, company=company), rid) for rid, name in rows]
        db.cursor().executemany(
            f"UPDATE {table} SET name_sound = {mark} WHERE id = {mark}",
            [(key, rid) for key, rid in keys if key is not None],
        )
        last = rows[-1][0]


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    mark = "?" if sqlite else "%s"

    class Contact(Model):
        class Meta:
            database = db
            table_name = "contact"

    class ContactEmail(Model):
        id = AutoField()
        contact = ForeignKeyField(Contact, on_delete="CASCADE", index=False)
        email = TextField()
        email_key = TextField(unique=True)
        kind = TextField(default="other")
        is_primary = BooleanField(default=False)
        position = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "contact_email"
            indexes = ((("contact", "position"), False),)

    class ContactPhone(Model):
        id = AutoField()
        contact = ForeignKeyField(Contact, on_delete="CASCADE", index=False)
        phone = TextField()
        phone_e164 = TextField(null=True, index=True)
        kind = TextField(default="other")
        is_primary = BooleanField(default=False)
        position = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "contact_phone"
            indexes = ((("contact", "position"), False),)

    class MergeAlias(Model):
        kind = TextField()  # contact / company
        old_id = BigIntegerField()
        new_id = BigIntegerField()
        merged_at = DateTimeField()

        class Meta:
            database = db
            table_name = "merge_alias"
            primary_key = CompositeKey("kind", "old_id")

    db.create_tables([ContactEmail, ContactPhone, MergeAlias], safe=False)
    true = "1" if sqlite else "TRUE"
    db.execute_sql(
        "INSERT INTO contact_email (contact_id, email, email_key, kind, is_primary, position) "
        f"SELECT id, email, email_key, 'other', {true}, 0 FROM contact "
        "WHERE email IS NOT NULL AND email_key IS NOT NULL ORDER BY id"
    )
    db.execute_sql(
        "INSERT INTO contact_phone (contact_id, phone, phone_e164, kind, is_primary, position) "
        f"SELECT id, phone, phone_e164, 'other', {true}, 0 FROM contact "
        "WHERE phone IS NOT NULL ORDER BY id"
    )
    migrator.migrate(
        migrator.add_column("contact", "name_sound", TextField(null=True)),
        migrator.add_index("contact", ("name_sound",), where=SQL("name_sound IS NOT NULL")),
        migrator.add_column("company", "name_sound", TextField(null=True)),
        migrator.add_index("company", ("name_sound",), where=SQL("name_sound IS NOT NULL")),
        migrator.add_column("activity", "external_id", TextField(null=True)),
        migrator.add_index(
            "activity", ("external_id",), unique=True, where=SQL("external_id IS NOT NULL")
        ),
        migrator.add_column("task", "external_id", TextField(null=True)),
        migrator.add_index(
            "task", ("external_id",), unique=True, where=SQL("external_id IS NOT NULL")
        ),
    )
    _sounds(db, "contact", mark, company=False)
    _sounds(db, "company", mark, company=True)
