"""`crm show [KIND] REF`: a contact or company card."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_company, print_contact


def show(
    args: Annotated[list[str], typer.Argument(metavar="[KIND] REF", help="contact (default) or company, then id, email or name.")],
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Show a contact card, or a company with its people.

    REF is an id, an exact email or a unique part of the name (accents and case ignored).
    Examples: crm show 12 | crm show jm@example.de | crm show müller | crm show company acme
    """
    kind, ref = c.split_kind(args)
    c.db()
    if kind == "company":
        from crmcli.services import companies

        print_company(companies.get_company(companies.resolve_company(ref)), output)
    else:
        from crmcli.services import contacts

        print_contact(contacts.get_contact(contacts.resolve_contact(ref)), output)


def register(app: typer.Typer) -> None:
    app.command("show")(show)
