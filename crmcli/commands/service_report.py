"""`crm report service`: inquiries, complaints and returns, and return rates per product.

Registered on the report group (commands/report.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, percent, render_record, render_rows

SERVICE_KEYS = ("group", "received", "resolved", "open", "median_days")
RETURN_COLUMNS = (
    Column("sku", "SKU", keep=True), Column("product", "Product", min_width=16),
    Column("sold", "Sold", "right"), Column("returned", "Returned", "right"),
    Column("rate_display", "Rate", "right"),
)  # fmt: skip


def service(
    by: Annotated[str, typer.Option("--by", help="month or kind.")] = "month",
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="Received on or after.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="... up to this day, included."),
    ] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Service statistics: inquiries, complaints and returns received, resolved and still
    open, and the median days to resolve them, by month or kind with a total; and per
    product the share of the quantity delivered that came back: returned orders, and the
    lines whose SKU or product name a return logged about the order names.

    Examples:

    \b
    crm report service --since 1.1.2026
    crm report service --by kind -o json
    """
    start, end = c.period(since, until)
    c.db()
    from crmcli.services import service_stats

    report = service_stats.service_report(by=by, since=start, until=end)
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return
    if output is Format.csv:
        render_rows(report["rows"], (), output, fields=SERVICE_KEYS)
        return
    rows = [*report["rows"], {**report["total"], "group": "Total"}]
    columns = (
        Column("group", by.capitalize(), keep=True), Column("received", "Received", "right"),
        Column("resolved", "Resolved", "right"), Column("open", "Open", "right"),
        Column("median_days", "Median days", "right"),
    )  # fmt: skip
    returns = [{**r, "rate_display": percent(r["rate"])} for r in report["returns"]]
    # a logged return that names none of its order's lines is counted against no product
    unnamed = (("returns_naming_no_line", "Returns naming no line"),)
    render_record(
        report, unnamed if report["returns_naming_no_line"] else (), output, title="Service",
        sections=[Section("Received", rows, columns),
                  Section("Returns by product", returns, RETURN_COLUMNS)],
    )  # fmt: skip
