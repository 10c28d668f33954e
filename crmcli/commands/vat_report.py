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
    Open, paid and shipped orders count; cancelled, returned and abandoned ones do not.

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
    render_record(
        report, (("period", "Period"), ("orders", "Orders")), output,
        title=f"VAT {report['period']}", sections=[Section("Per rate", rows, VAT_COLUMNS)],
    )  # fmt: skip
