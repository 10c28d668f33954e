"""Peewee models: tables, indexes and constraints. No business rules live here."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTimeField(DateTimeField):
    """Stores naive UTC in the database and hands back aware UTC datetimes."""

    def db_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class BaseModel(Model):
    created_at = UTCDateTimeField(default=utcnow, index=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = database_proxy
        legacy_table_names = False


CONTACT_STATUSES = ("lead", "prospect", "customer", "inactive")


class Company(BaseModel):
    name = TextField()
    # fold(name): one company per folded name, so "ACME GmbH" and "Acme gmbh" are the same.
    name_fold = TextField(unique=True)
    # fold_variants(name): what name fragments are matched against (muller and mueller).
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


class Contact(BaseModel):
    name = TextField()
    name_key = TextField(index=True)
    email = TextField(null=True)
    # Lower-cased email: unique, and what an email REF resolves through.
    email_key = TextField(null=True, unique=True)
    phone = TextField(null=True)
    phone_e164 = TextField(null=True, index=True)
    company = ForeignKeyField(Company, null=True, on_delete="SET NULL", backref="contacts")
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
    consent_at = UTCDateTimeField(null=True)


class Tag(BaseModel):
    name = TextField()
    name_fold = TextField(unique=True)


class ContactTag(Model):
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    tag = ForeignKeyField(Tag, on_delete="CASCADE", index=True)

    class Meta:
        database = database_proxy
        legacy_table_names = False
        primary_key = CompositeKey("contact", "tag")


class CompanyTag(Model):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    tag = ForeignKeyField(Tag, on_delete="CASCADE", index=True)

    class Meta:
        database = database_proxy
        legacy_table_names = False
        primary_key = CompositeKey("company", "tag")


class ContactField(Model):
    """A custom field: free key=value pairs per contact."""

    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    key = TextField()
    value = TextField()

    class Meta:
        database = database_proxy
        legacy_table_names = False
        indexes = ((("contact", "key"), True), (("key", "value"), False))


class SearchEntry(Model):
    """The full-text index. On SQLite a FTS5 virtual table (see migration 0001); rowid encodes kind."""

    rowid = BigIntegerField(primary_key=True)
    body = TextField()

    class Meta:
        database = database_proxy
        table_name = "search_index"


ALL_MODELS = (Company, Contact, Tag, ContactTag, CompanyTag, ContactField)
