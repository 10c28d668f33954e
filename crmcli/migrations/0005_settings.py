"""Settings: a small key/value table for facts about the database itself.

The first key is `demo`: what `crm demo` made (when, with which seed, how many of each kind,
and a fingerprint of the tables right after), so a later `crm demo` can tell a database that
holds an untouched demo from one with somebody's own records. The shape is frozen here.
"""

from datetime import UTC, datetime

from peewee import DateTimeField, Model, TextField


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def up(migrator, db):
    class Setting(Model):
        key = TextField(primary_key=True)
        value = TextField(null=True)
        updated_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "setting"

    db.create_tables([Setting], safe=False)
