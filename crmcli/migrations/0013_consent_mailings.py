"""Consent as a history, and the recipients of each mailing.

- consent_entry: per contact and purpose, each grant (time, source, consent text and version,
  double-opt-in confirmation) and each withdrawal. The newest entry by time is in force.
- mailing_recipient: one row per mail a mailing sent (unique mailing + recipient), written
  with the timeline entry, so an interrupted mailing resumes without sending twice.

Existing data: a contact's consent flag becomes its first entry, a grant for the purpose
"newsletter" from source "migrated", dated by consent_at (else the contact's last change).
It carries no double-opt-in confirmation: the flag never recorded one. The flag columns
stay; services.consent keeps them as the newsletter's state for lists and exports.

Model shapes are frozen here (see 0001).
"""

from datetime import UTC, datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def up(migrator, db):
    class Contact(Model):
        class Meta:
            database = db
            table_name = "contact"

    class Activity(Model):
        class Meta:
            database = db
            table_name = "activity"

    class ConsentEntry(Model):
        created_at = DateTimeField(default=_now)
        contact = ForeignKeyField(Contact, on_delete="CASCADE", index=False)
        purpose = TextField()
        action = CharField(max_length=8)
        at = DateTimeField()
        source = TextField(null=True)
        text = TextField(null=True)
        version = TextField(null=True)
        confirmed_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "consent_entry"
            indexes = ((("contact", "purpose", "at"), False), (("purpose", "at"), False))

    class MailingRecipient(Model):
        mailing = TextField()
        template = TextField()
        recipient = TextField()
        contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL", index=False)
        email = TextField()
        sent_at = DateTimeField()
        message_id = TextField()
        activity = ForeignKeyField(Activity, null=True, on_delete="SET NULL", index=False)

        class Meta:
            database = db
            table_name = "mailing_recipient"
            indexes = ((("mailing", "recipient"), True), (("contact",), False))

    db.create_tables([ConsentEntry, MailingRecipient], safe=False)
    db.execute_sql(
        "INSERT INTO consent_entry (created_at, contact_id, purpose, action, at, source, text) "
        f"SELECT {db.param}, id, 'newsletter', 'grant', "
        "COALESCE(consent_at, updated_at, created_at), 'migrated', "
        "'consent flag of an earlier version' FROM contact WHERE consent ORDER BY id",
        (_now(),),
    )
