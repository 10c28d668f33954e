"""`crm show [KIND] REF`: a contact, company, task or activity card."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_activity, print_company, print_contact, print_task
from crmcli.output import paged


def show(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="[KIND] REF",
            help="contact (default), company, deal, task, activity, product, order or "
            "campaign, then its REF.",
        ),
    ],
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=0, max=c.MAX_ROWS, help="Timeline entries to show (0: all)."
        ),
    ] = 50,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Show a contact card with its timeline, open tasks, deals and orders, or a company, deal
    (with its stage history), task, activity, product (by SKU) or order (with its lines and
    VAT per rate).

    REF is an id, any of a contact's emails or a unique part of the name (accents and case
    ignored).

    Examples:

    \b
    crm show 12
    crm show jm@example.de
    crm show müller
    crm show company acme
    crm show deal "dach köln"
    crm show order 7
    crm show product KAF-500
    crm show campaign "google ads"
    """
    kind, ref = c.split_kind(args, kinds=c.SHOWN_KINDS)
    timeline_limit = limit or None
    c.db()
    if kind == "company":
        from crmcli.services import companies, views

        card = views.company_card(companies.resolve_company(ref), timeline_limit=timeline_limit)
        with paged():
            print_company(card, output)
    elif kind == "deal":
        from crmcli.commands.cards import print_deal
        from crmcli.services import deals

        with paged():
            print_deal(
                deals.deal_card(deals.resolve_deal(ref), timeline_limit=timeline_limit), output
            )
    elif kind == "task":
        from crmcli.services import tasks

        print_task(tasks.get_task(tasks.resolve_task(ref), now=c.now()), output)
    elif kind == "activity":
        from crmcli.services import activities

        print_activity(activities.get_activity(activities.resolve_activity_ref(ref)), output)
    elif kind in ("product", "order"):
        from crmcli.commands.orders import print_order, print_product
        from crmcli.services import orders, products

        if kind == "product":
            print_product(products.get_product(products.resolve_product(ref)), output)
        else:
            print_order(orders.order_card(orders.resolve_order(ref)), output)
    elif kind == "campaign":
        from crmcli.commands.campaigns import show_campaign

        show_campaign(ref, output)
    elif kind == "tag":
        from crmcli.errors import Invalid

        raise Invalid("kind", "tags have no card; try crm list contacts --tag NAME")
    else:
        from crmcli.services import contacts

        card = contacts.contact_card(
            contacts.resolve_contact(ref), timeline_limit=timeline_limit, now=c.now()
        )
        with paged():
            print_contact(card, output)
