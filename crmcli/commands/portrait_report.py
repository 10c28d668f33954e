"""`crm report portrait`: who the customers are, by city, industry, source, age and company size.

Registered on the report group (commands/report.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, render_record

TITLES = {
    "city": "City", "industry": "Industry", "source": "Source", "age": "Age",
    "company_size": "People at their company",
}  # fmt: skip
BAR_WIDTH = 20


def portrait(
    status: Annotated[
        str,
        typer.Option("--status", "-s", help="customer (default), lead, prospect, inactive or all."),
    ] = "customer",
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Who the customers are: contacts, buyers and net revenue by city, industry (of their
    company), lead source, age band (from birthdays with a year) and company size (people
    recorded there), largest groups first; on a terminal with bars.

    Examples:

    \b
    crm report portrait
    crm report portrait --status all -o json | jq .age
    """
    c.db()
    from crmcli.services import portrait as service

    report = service.portrait(today=c.today(), status=None if status == "all" else status)
    if output is Format.csv:
        _csv(report)
        return
    if output is not Format.table:
        render_record(report, (), output)
        return
    from crmcli.env import current

    bars = current().stdout_isatty
    sections = []
    for key, title in TITLES.items():
        rows = report[key]
        top = max((r["contacts"] for r in rows), default=0) or 1
        shown = [
            {**r, "group": r["group"] or "(none)", "revenue_display": money(r["revenue"]),
             "bar": "█" * round(BAR_WIDTH * r["contacts"] / top)}
            for r in rows
        ]  # fmt: skip
        columns = (
            Column("group", title, min_width=12), Column("contacts", "Contacts", "right"),
            *((Column("bar", "", drop=1),) if bars else ()),
            Column("buyers", "Buyers", "right"), Column("revenue_display", "Revenue", "right"),
        )  # fmt: skip
        sections.append(Section(title, shown, columns))
    head = {**report, "revenue_display": money(report["revenue"])}
    render_record(
        report, (("status", "Status"), ("contacts", "Contacts"), ("buyers", "Buyers"),
                 ("revenue_display", "Revenue (net)")), output,
        title="Portrait", sections=sections, display_record=head,
    )  # fmt: skip


# -o csv: one flat table; the first row the status's totals (dimension "all"), then a row per
# group of each dimension (city, industry, source, age, company_size).
PORTRAIT_CSV_KEYS = ("status", "dimension", "group", "contacts", "buyers", "revenue")


def _csv(report: dict) -> None:
    from crmcli.output import render_rows

    status = report["status"] or "all"
    rows = [{**report, "status": status, "dimension": "all", "group": None}]
    rows += [{**row, "status": status, "dimension": key} for key in TITLES for row in report[key]]
    render_rows(rows, (), Format.csv, fields=PORTRAIT_CSV_KEYS)
