"""Activities (the timeline), tasks, the reminder log and stay-in-touch cadences.

Model shapes are frozen here; see 0001 for why.
"""

from datetime import UTC, datetime

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    SqliteDatabase,
    TextField,
)


class _NeverReusedId(AutoField):
    """SQLite gives a deleted row's id to the next insert unless the key says AUTOINCREMENT;
    reminder marks and scripts name records by id, so a new record must not inherit one.
    (PostgreSQL sequences never reuse ids.)"""

    def ddl(self, ctx):
        ddl = super().ddl(ctx)
        if isinstance(self.model._meta.database, SqliteDatabase):
            return NodeList((ddl, SQL("AUTOINCREMENT")))
        return ddl


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("contact", "cadence_days", IntegerField(null=True)),
        migrator.add_column("contact", "last_activity_at", DateTimeField(null=True)),
        migrator.add_index("contact", ("last_activity_at",), False),
        # Covers the stay-in-touch check (cadence, last interaction, creation) without a scan.
        migrator.add_index("contact", ("cadence_days", "last_activity_at", "created_at"), False),
        migrator.add_column("contact", "birthday_md", CharField(max_length=5, null=True)),
        migrator.add_index("contact", ("birthday_md",), False),
        migrator.add_column("tag", "cadence_days", IntegerField(null=True)),
        migrator.add_column("company", "city_fold", TextField(null=True)),
        migrator.add_index("company", ("city_fold",), False),
    )

    class Base(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)

        class Meta:
            database = db
            legacy_table_names = False

    class Contact(Base):
        pass

    class Company(Base):
        pass

    class Activity(Base):
        id = _NeverReusedId()
        kind = CharField(max_length=16)
        contact = ForeignKeyField(Contact, null=True, on_delete="CASCADE")
        company = ForeignKeyField(Company, null=True, on_delete="CASCADE")
        occurred_at = DateTimeField()
        direction = CharField(max_length=3, null=True)
        subject = TextField(null=True)
        body = TextField(null=True)
        duration_min = IntegerField(null=True)
        outcome = TextField(null=True)
        rating = IntegerField(null=True)
        score = IntegerField(null=True)
        status = CharField(max_length=8, null=True)
        resolved_at = DateTimeField(null=True)
        resolved_by = TextField(null=True)
        resolution = TextField(null=True)
        owner = TextField(null=True)

        class Meta:
            indexes = (
                (("contact", "occurred_at"), False),
                (("company", "occurred_at"), False),
                (("kind", "occurred_at"), False),
                (("status", "occurred_at"), False),
                (("occurred_at",), False),
            )

    class Task(Base):
        id = _NeverReusedId()
        title = TextField()
        name_key = TextField()
        contact = ForeignKeyField(Contact, null=True, on_delete="CASCADE")
        due_at = DateTimeField(null=True)
        due_has_time = BooleanField(default=False)
        rrule = TextField(null=True)
        series_start = DateTimeField(null=True)
        priority = IntegerField(default=1)
        note = TextField(null=True)
        done_at = DateTimeField(null=True)
        snoozed_until = DateTimeField(null=True)
        previous = ForeignKeyField("self", null=True, on_delete="SET NULL", unique=True)

        class Meta:
            indexes = ((("done_at", "due_at"), False), (("contact", "done_at"), False))

    class ReminderLog(Model):
        key = TextField(primary_key=True)
        reminded_at = DateTimeField(default=_now)

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([Activity, Task, ReminderLog])
    # Birthdays already stored get their month-day key for reminders.
    db.execute_sql(
        "UPDATE contact SET birthday_md = substr(CAST(birthday AS TEXT), 6, 5) "
        "WHERE birthday IS NOT NULL"
    )
