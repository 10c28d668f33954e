"""`crm edit [KIND] REF --field value ...`: change a contact or a company."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_company, print_contact
from crmcli.errors import Invalid

COMPANY_ONLY = ("domain", "industry")
CONTACT_ONLY = (
    "company", "position", "birthday", "status", "source", "owner", "consent", "consent_at",
    "field",
)  # fmt: skip


def edit(
    args: Annotated[list[str], typer.Argument(metavar="[KIND] REF", help="contact (default) or company, then REF.")],
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    email: c.EmailOpt = None,
    phone: c.PhoneOpt = None,
    company: c.CompanyOpt = None,
    position: c.PositionOpt = None,
    street: c.StreetOpt = None,
    zip: c.ZipOpt = None,
    city: c.CityOpt = None,
    country: c.CountryOpt = None,
    birthday: c.BirthdayOpt = None,
    status: c.StatusOpt = None,
    source: c.SourceOpt = None,
    owner: c.OwnerOpt = None,
    notes: c.NotesOpt = None,
    consent: c.ConsentOpt = None,
    consent_date: c.ConsentDateOpt = None,
    domain: c.DomainOpt = None,
    industry: c.IndustryOpt = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Add a tag; repeatable.")] = None,
    untag: Annotated[list[str] | None, typer.Option("--untag", help="Remove a tag; repeatable.")] = None,
    field: Annotated[list[str] | None, typer.Option("--field", "-f", metavar="KEY=VALUE", help="Set a custom field (KEY= removes it); repeatable.")] = None,
    clear: Annotated[list[str] | None, typer.Option("--clear", metavar="FIELD", help="Empty a field, e.g. --clear phone; repeatable.")] = None,
    output: c.ResultOpt = None,
) -> None:
    """Change fields, tags and custom fields of a contact (default) or a company.

    An empty value ("") or --clear FIELD empties a field. All changes land together or not at all.
    Examples: crm edit müller --email neu@example.de --tag vip --untag lead
    crm edit company acme --city Köln --clear phone
    """
    kind, ref = c.split_kind(args)
    values = dict(
        name=name, email=email, phone=phone, company=company, position=position, street=street,
        zip=zip, city=city, country=country, birthday=birthday, status=status, source=source,
        owner=owner, notes=notes, consent=consent, consent_at=consent_date, domain=domain,
        industry=industry, field=field,
    )  # fmt: skip
    for key in clear or []:
        key = key.strip().lower().replace("-", "_")
        if key not in values or key in ("name", "field", "consent"):
            raise Invalid("clear", f"cannot clear '{key}'")
        if values[key] not in (None, ""):
            raise Invalid("clear", f"'{key}' is both set and cleared")
        values[key] = ""
    wrong = COMPANY_ONLY if kind == "contact" else CONTACT_ONLY
    misplaced = [k for k in wrong if values.get(k) is not None]
    if misplaced:
        flags = ", ".join("--" + k.replace("_at", "-date").replace("_", "-") for k in misplaced)
        raise Invalid(None, f"{flags} does not apply to a {kind}")
    for k in (*COMPANY_ONLY, "field") if kind == "contact" else CONTACT_ONLY:
        values.pop(k, None)
    c.db()
    if kind == "company":
        from crmcli.services import companies

        company_id = companies.resolve_company(ref)
        card = companies.edit_company(
            company_id, c.given(**values), add_tags=tag or [], remove_tags=untag or [], now=c.now()
        )
        c.done(f"Updated company #{card['id']} {card['name']}.")
        if output is not None:
            print_company(card, output)
        return
    from crmcli.services import contacts

    contact_id = contacts.resolve_contact(ref)
    card = contacts.edit_contact(
        contact_id,
        c.contact_values(values),
        add_tags=tag or [],
        remove_tags=untag or [],
        fields=c.assignments(field),
        now=c.now(),
    )
    c.done(f"Updated contact #{card['id']} {card['name']}.")
    if output is not None:
        print_contact(card, output)


def register(app: typer.Typer) -> None:
    app.command("edit")(edit)
