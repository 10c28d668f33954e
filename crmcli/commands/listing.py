"""`crm list contacts|companies|tags`: tables for people, JSON and CSV for scripts."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import COMPANY_COLUMNS, CONTACT_COLUMNS
from crmcli.output import Column, render_rows

app = typer.Typer(help="List contacts, companies or tags.", no_args_is_help=True)

SortOpt = Annotated[
    str, typer.Option("--sort", help="name, created, updated, city, status or id; -KEY reverses.")
]
SinceOpt = Annotated[
    str | None,
    typer.Option("--created-since", metavar="WHEN", help="Created on or after (e.g. -30d, 1.1.2026)."),
]


@app.command("contacts")
def list_contacts(
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Has this tag; repeat for all of several.")] = None,
    company: Annotated[str | None, typer.Option("--company", "-c", help="Works at this company (REF).")] = None,
    city: Annotated[str | None, typer.Option("--city", help="Lives in this city (accents ignored).")] = None,
    status: Annotated[str | None, typer.Option("--status", "-s", help="lead, prospect, customer or inactive.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Lead source.")] = None,
    field: Annotated[list[str] | None, typer.Option("--field", "-f", metavar="KEY=VALUE", help="Custom field equals VALUE (KEY= : has the field); repeatable.")] = None,
    created_since: SinceOpt = None,
    sort: SortOpt = "name",
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List contacts, filtered and sorted.

    Example: crm list contacts --tag vip --city köln --sort -created -o csv
    """
    filters = dict(
        tags_=tag or [], company=company, city=city, status=status, source=source,
        fields=c.assignments(field), created_since=c.when(created_since, "created-since"),
    )  # fmt: skip
    c.db()
    from crmcli.services import contacts

    limit = c.page_limit(limit, output)
    rows = contacts.list_contacts(sort=sort, limit=limit, offset=offset, **filters)
    render_rows(rows, CONTACT_COLUMNS, output)
    c.note_truncated(len(rows), offset, limit, lambda: contacts.count_contacts(**filters))


@app.command("companies")
def list_companies(
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Has this tag; repeatable.")] = None,
    city: Annotated[str | None, typer.Option("--city", help="In this city.")] = None,
    industry: Annotated[str | None, typer.Option("--industry", help="In this industry.")] = None,
    created_since: SinceOpt = None,
    sort: Annotated[str, typer.Option("--sort", help="name, created, city, contacts or id; -KEY reverses.")] = "name",
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List companies with how many people work there.

    Example: crm list companies --sort -contacts --limit 10
    """
    filters = dict(
        tags_=tag or [], city=city, industry=industry,
        created_since=c.when(created_since, "created-since"),
    )  # fmt: skip
    c.db()
    from crmcli.services import companies

    limit = c.page_limit(limit, output)
    rows = companies.list_companies(sort=sort, limit=limit, offset=offset, **filters)
    render_rows(rows, COMPANY_COLUMNS, output)
    c.note_truncated(len(rows), offset, limit, lambda: companies.count_companies(**filters))


@app.command("tags")
def list_tags(output: c.OutputOpt = c.Format.table) -> None:
    """List tags with how many contacts and companies carry each.

    Example: crm list tags -o json
    """
    c.db()
    from crmcli.services import tags

    columns = (
        Column("id", "Id", "right"), Column("name", "Tag"),
        Column("contacts", "Contacts", "right"), Column("companies", "Companies", "right"),
    )  # fmt: skip
    render_rows(tags.list_tags(), columns, output)
