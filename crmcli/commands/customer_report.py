"""`crm report customer REF`: what one customer buys and answers by (services.profile).

Registered on the report group (commands/report.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, percent, render_record

NAMED_COLUMNS = (
    Column("name", "Channel", min_width=12), Column("orders", "Orders", "right"),
    Column("net_display", "Net", "right"),
)  # fmt: skip


def customer(
    contact: Annotated[str, typer.Argument(help="The customer (REF: id, email or name).")],
    output: c.OutputOpt = c.Format.table,
) -> None:
    """What a customer buys: favourite product categories (share of the money spent), the
    price range they buy in (median and quartiles of their unit prices), the channels and
    campaigns their orders came through, abandoned carts, what they answered by, and the
    margin (net spent less purchase prices and the orders' own costs).

    Example:

    \b
    crm report customer müller
    """
    c.db()
    from crmcli.commands.orders import margin_text
    from crmcli.services import contacts, profile

    contact_id = contacts.resolve_contact(contact)
    report = {"contact": contacts.get_contact(contact_id)["name"]}
    report |= profile.customer_profile(contact_id)
    if output is not Format.table:
        render_record(report, (), output)
        return
    p = report["price_range"] or {}
    head = {
        **report, "spent_display": money(report["spent"]),
        "cost_display": money(report["cost"]) if report["spent"] else "",
        "margin_display": margin_text(report["margin"], report["uncosted_lines"], report["lines"])
        if report["spent"] else "",
        "prices": "" if not p else f"{money(p['min'])} to {money(p['max'])}; middle half "
        f"{money(p['q1'])} to {money(p['q3'])}, median {money(p['median'])}",
    }  # fmt: skip
    categories = [
        {**r, "category": r["category"] or "(none)", "net_display": money(r["net"]),
         "share_display": percent(r["share"])}
        for r in report["categories"]
    ]  # fmt: skip

    def named(rows: list[dict]) -> list[dict]:
        return [{**r, "name": r["name"] or "(none)", "net_display": money(r["net"])} for r in rows]

    sections = [
        Section("Categories", categories, (
            Column("category", "Category", min_width=12), Column("orders", "Orders", "right"),
            Column("qty", "Qty", "right"), Column("net_display", "Net", "right"),
            Column("share_display", "Share", "right"),
        )),
        Section("Channels", named(report["channels"]), NAMED_COLUMNS),
        Section("Campaigns", named(report["campaigns"]),
                (Column("name", "Campaign", min_width=12), *NAMED_COLUMNS[1:])),
        Section("Answered by", report["responses"],
                (Column("kind", "Kind"), Column("count", "Count", "right"))),
    ]  # fmt: skip
    render_record(
        report, (("spent_display", "Spent (net)"), ("cost_display", "Cost"),
                 ("margin_display", "Margin"),
                 ("prices", "Unit prices"),
                 ("abandoned", "Abandoned carts")), output,
        title=report["contact"], sections=sections, display_record=head,
    )  # fmt: skip
