"""`crm report vat`: the figures a German VAT return needs, from the orders' lines.

Registered on the report group (commands/report.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, render_record, render_rows

VAT_KEYS = ("vat_rate", "lines", "net", "vat", "gross")
VAT_COLUMNS = (
    Column("rate_display", "Rate", "right"), Column("lines", "Lines", "right"),
    Column("net_display", "Net", "right"), Column("vat_display", "VAT", "right"),
    Column("gross_display", "Gross", "right"),
)  # fmt: skip
CORRECTION_COLUMNS = (
    Column("order_id", "Order", "right"), Column("ordered_display", "Ordered"),
    Column("changed_display", "Changed"), Column("status", "Now"),
    Column("rate_display", "Rate", "right"), Column("net_display", "Net", "right"),
    Column("vat_display", "VAT", "right"),
)  # fmt: skip


def vat(
    quarter: Annotated[
        str | None, typer.Option("--quarter", metavar="QUARTER", help="2026-Q4 or Q4/2026.")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", metavar="MONTH", help="2026-11 or 11/2026.")
    ] = None,
    year: Annotated[str | None, typer.Option("--year", metavar="YEAR", help="2026.")] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """What the VAT return needs: net turnover and VAT per rate, and in total, of the orders of
    a quarter (default: this one), month or year, summed from their lines as invoiced.
    Open, paid and shipped orders count in the period they were ordered in; an order
    returned or cancelled later stays there and is corrected, negatively, in the period of
    its status change (§ 17 UStG), so a period once filed keeps its figures.

    Examples:

    \b
    crm report vat --quarter 2026-Q4
    crm report vat --month 2026-11 -o json
    """
    from crmcli.errors import Invalid
    from crmcli.services import vat as service

    given = [p for p in (quarter, month, year) if p is not None]
    if len(given) > 1:
        raise Invalid(None, "--quarter, --month and --year exclude each other")
    period = given[0] if given else service.quarter_of(c.today())
    if month is not None and not any(ch in month for ch in "-/."):
        raise Invalid("month", f"cannot read '{month}' as a month (try 2026-11 or 11/2026)")
    c.db()
    report = service.vat_return(period)
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return
    if output is Format.csv:
        render_rows(report["rates"], (), output, fields=VAT_KEYS)
        return
    from crmcli.commands.orders import rate

    rows = [
        {**r, "rate_display": rate(r["vat_rate"]), "net_display": money(r["net"]),
         "vat_display": money(r["vat"]), "gross_display": money(r["gross"])}
        for r in report["rates"]
    ]  # fmt: skip
    total = report["total"]
    rows.append({
        "rate_display": "Total", "lines": sum(r["lines"] for r in report["rates"]),
        "net_display": money(total["net"]), "vat_display": money(total["vat"]),
        "gross_display": money(total["gross"]),
    })  # fmt: skip
    sections = [Section("Per rate", rows, VAT_COLUMNS)]
    fields = [("period", "Period"), ("orders", "Orders")]
    if report["corrections"]:
        from crmcli.values import local_tz, plural

        def day(at):
            return at.astimezone(local_tz()).date()

        fixes = [
            {**r, "ordered_display": day(r["ordered_at"]), "changed_display": day(r["changed_at"]),
             "rate_display": rate(r["vat_rate"]), "net_display": money(r["net"]),
             "vat_display": money(r["vat"])}
            for r in report["corrections"]
        ]  # fmt: skip
        report = {**report, "corrections_text": (
            f"{plural(len({r['order_id'] for r in fixes}), 'order')} changed in this period, "
            "included above (§ 17 UStG)")}  # fmt: skip
        fields.append(("corrections_text", "Corrections"))
        sections.append(Section("Corrections (status changed in this period)", fixes,
                                CORRECTION_COLUMNS))  # fmt: skip
    render_record(
        report, tuple(fields), output, title=f"VAT {report['period']}", sections=sections,
    )  # fmt: skip
