"""Contacts, companies, tags, custom fields and the full-text index.

The model shapes are frozen here on purpose: later changes to crmcli.models must not
change what this migration creates on a database that already ran it.
"""

from datetime import UTC, datetime

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    ForeignKeyField,
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
    class Base(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)

        class Meta:
            database = db
            legacy_table_names = False

    class Company(Base):
        id = _NeverReusedId()
        name = TextField()
        name_fold = TextField(unique=True)
        name_key = TextField(index=True)
        domain = TextField(null=True)
        industry = TextField(null=True)
        phone = TextField(null=True)
        phone_e164 = TextField(null=True)
        email = TextField(null=True)
        street = TextField(null=True)
        zip = TextField(null=True)
        city = TextField(null=True)
        country = TextField(null=True)
        notes = TextField(null=True)

    class Contact(Base):
        id = _NeverReusedId()
        name = TextField()
        name_key = TextField(index=True)
        email = TextField(null=True)
        email_key = TextField(null=True, unique=True)
        phone = TextField(null=True)
        phone_e164 = TextField(null=True, index=True)
        company = ForeignKeyField(Company, null=True, on_delete="SET NULL")
        position = TextField(null=True)
        street = TextField(null=True)
        zip = TextField(null=True)
        city = TextField(null=True)
        city_fold = TextField(null=True, index=True)
        country = TextField(null=True)
        birthday = DateField(null=True)
        status = CharField(max_length=16, default="lead", index=True)
        source = TextField(null=True, index=True)
        owner = TextField(null=True)
        notes = TextField(null=True)
        consent = BooleanField(default=False)
        consent_at = DateTimeField(null=True)

    class Tag(Base):
        name = TextField()
        name_fold = TextField(unique=True)

    class Link(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class ContactTag(Link):
        contact = ForeignKeyField(Contact, on_delete="CASCADE")
        tag = ForeignKeyField(Tag, on_delete="CASCADE", index=True)

        class Meta:
            primary_key = CompositeKey("contact", "tag")

    class CompanyTag(Link):
        company = ForeignKeyField(Company, on_delete="CASCADE")
        tag = ForeignKeyField(Tag, on_delete="CASCADE", index=True)

        class Meta:
            primary_key = CompositeKey("company", "tag")

    class ContactField(Link):
        contact = ForeignKeyField(Contact, on_delete="CASCADE")
        key = TextField()
        value = TextField()

        class Meta:
            indexes = ((("contact", "key"), True), (("key", "value"), False))

    db.create_tables([Company, Contact, Tag, ContactTag, CompanyTag, ContactField])

    if isinstance(db, SqliteDatabase):
        # rowid = record id * 8 + kind code; the body holds folded text (see services.search).
        db.execute_sql("CREATE VIRTUAL TABLE search_index USING fts5(body, prefix='2 3 4 5 6')")
    else:
        # body as on SQLite; tsv holds its words as services.search.put tokenises them, stored
        # so that ranking the hits does not re-parse every matching body.
        db.execute_sql(
            "CREATE TABLE search_index "
            "(rowid BIGINT PRIMARY KEY, body TEXT NOT NULL, tsv tsvector NOT NULL)"
        )
        db.execute_sql("CREATE INDEX search_index_tsv ON search_index USING GIN (tsv)")
