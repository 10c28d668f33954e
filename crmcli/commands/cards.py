"""How contacts and companies are shown: card fields and list columns, defined once."""

from __future__ import annotations

from crmcli.output import Column, Format, Section, render_record

CONTACT_FIELDS = (
    ("id", "Id"), ("email", "Email"), ("phone", "Phone"), ("phone_e164", "E.164"),
    ("company", "Company"), ("position", "Position"), ("street", "Street"), ("zip", "Zip"),
    ("city", "City"), ("country", "Country"), ("birthday", "Birthday"), ("status", "Status"),
    ("source", "Source"), ("owner", "Owner"), ("tags", "Tags"), ("consent", "Consent"),
    ("consent_at", "Consent since"), ("notes", "Notes"), ("created_at", "Created"),
    ("updated_at", "Updated"),
)  # fmt: skip
CONTACT_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Name"), Column("company", "Company", max_width=30),
    Column("email", "Email"), Column("phone", "Phone"), Column("city", "City"),
    Column("status", "Status"), Column("tags", "Tags", max_width=30),
)  # fmt: skip
COMPANY_FIELDS = (
    ("id", "Id"), ("domain", "Domain"), ("industry", "Industry"), ("phone", "Phone"),
    ("email", "Email"), ("street", "Street"), ("zip", "Zip"), ("city", "City"),
    ("country", "Country"), ("tags", "Tags"), ("notes", "Notes"), ("created_at", "Created"),
    ("updated_at", "Updated"),
)  # fmt: skip
COMPANY_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Name"), Column("industry", "Industry"),
    Column("city", "City"), Column("domain", "Domain"), Column("contacts", "People", "right"),
    Column("tags", "Tags", max_width=30),
)  # fmt: skip
PEOPLE_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Name"), Column("position", "Position"),
    Column("email", "Email"), Column("phone", "Phone"), Column("status", "Status"),
)  # fmt: skip
FIELD_COLUMNS = (Column("key", "Field"), Column("value", "Value"))


def print_contact(card: dict, fmt: Format) -> None:
    fields = [{"key": k, "value": v} for k, v in card["fields"].items()]
    render_record(
        card,
        CONTACT_FIELDS,
        fmt,
        title=card["name"],
        sections=[Section("Custom fields", fields, FIELD_COLUMNS)],
    )


def print_company(card: dict, fmt: Format) -> None:
    render_record(
        card,
        COMPANY_FIELDS,
        fmt,
        title=card["name"],
        sections=[Section(f"People ({len(card['contacts'])})", card["contacts"], PEOPLE_COLUMNS)],
    )
