"""`crm add commission`, `crm list commissions` and `crm report commissions`: what each owner
earns on won deals and on their customers' orders (services.commissions).

Registered on the add, list and report groups (commands/add.py, listing.py, report.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, render_record, render_rows

RULE_KEYS = ("id", "owner", "basis", "rate", "valid_from", "created_at")
RULE_COLUMNS = (
    Column("id", "Id", "right"), Column("owner", "Owner", min_width=16),
    Column("basis", "On"), Column("rate_display", "Rate", "right"),
    Column("valid_from", "From", keep=True),
)  # fmt: skip
ROW_KEYS = ("owner", "basis", "currency", "count", "base", "commission")
ROW_COLUMNS = (
    Column("owner", "Owner", min_width=16), Column("basis", "On"),
    Column("count", "Count", "right"), Column("base_display", "Base", "right"),
    Column("commission_display", "Commission", "right"),
)  # fmt: skip
ITEM_COLUMNS = (
    Column("owner", "Owner", min_width=12, drop=2), Column("basis", "On", drop=3),
    Column("id", "Id", "right"), Column("what", "Deal / customer", max_width=30, min_width=16),
    Column("at", "When", keep=True, drop=4), Column("base_display", "Base", "right"),
    Column("rate_display", "Rate", "right"), Column("commission_display", "Commission", "right"),
)  # fmt: skip


def _rate(value) -> str:
    from crmcli.values import format_percent_bp

    return format_percent_bp(int(value * 100))


def add_commission(
    owner: Annotated[str, typer.Argument(help="Who earns it, as deals and contacts name them.")],
    rate: Annotated[str, typer.Argument(metavar="RATE", help="Percent: 5%, 2,5.")],
    on: Annotated[
        str, typer.Option("--on", help="deals (won deals' amounts) or orders (their net).")
    ] = "deals",
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="Valid from this day (default: today)."),
    ] = None,
    output: c.ResultOpt = None,
) -> None:
    """Give an owner a commission: a percentage of the amounts of the deals they win, or of
    the net of the orders of the contacts they own, from a day on (until a later rule for
    the same owner and basis; 0 % ends it).

    Examples:

    \b
    crm add commission "Lukas Köhler" 5% --on deals --from 1.1.2026
    crm add commission "Lukas Köhler" 2,5 --on orders --from 1.11.2026
    """
    from crmcli.values import parse_date, parse_percent_bp

    rate_bp = parse_percent_bp(rate, field="rate")
    valid_from = parse_date(from_, c.now(), field="from", prefer="past") if from_ else c.today()
    c.db()
    from crmcli.services import commissions

    rule = commissions.add_commission(owner, rate_bp, basis=on, valid_from=valid_from, now=c.now())
    c.done(
        f"Added commission #{rule['id']}: {rule['owner']} earns {_rate(rule['rate'])} of "
        f"{rule['basis']} from {rule['valid_from'].isoformat()}."
    )
    if output is not None:
        render_record(rule, (), output)


def list_commissions(
    owner: Annotated[str | None, typer.Option("--owner", help="Of this owner.")] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List the commission rules by owner, basis and day.

    Example:

    \b
    crm list commissions --owner "Lukas Köhler"
    """
    c.db()
    from crmcli.services import commissions

    rows = commissions.list_commissions(owner)
    views = (
        rows if output in c.STREAMED else [{**r, "rate_display": _rate(r["rate"])} for r in rows]
    )
    render_rows(views, RULE_COLUMNS, output, fields=RULE_KEYS, empty="No commissions.")


def commissions(
    month: Annotated[
        str | None,
        typer.Option("--month", metavar="MONTH", help="2026-11 or 11/2026 (default: this one)."),
    ] = None,
    quarter: Annotated[
        str | None, typer.Option("--quarter", metavar="QUARTER", help="2026-Q4.")
    ] = None,
    year: Annotated[str | None, typer.Option("--year", metavar="YEAR", help="2026.")] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """What each owner earned in a month (or quarter, year): per owner and basis the deals
    won or orders made, their amount and the commission, each deal and order with its rate.
    Every deal's or order's commission is rounded half up to the cent, and an owner's is
    their sum. `-o json` gives the whole report, `-o csv` the rows per owner.

    Examples:

    \b
    crm report commissions --month 2026-11
    crm report commissions --quarter 2026-Q4 -o json
    """
    from crmcli.errors import Invalid
    from crmcli.services import vat

    given = [p for p in (month, quarter, year) if p is not None]
    if len(given) > 1:
        raise Invalid(None, "--month, --quarter and --year exclude each other")
    today = c.today()
    label, start, end = vat.parse_period(given[0] if given else f"{today.year}-{today.month:02d}")
    c.db()
    from crmcli.services import commissions as service

    report = {"period": label, **service.commission_report(start, end)}
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return
    if output is Format.csv:
        render_rows(report["rows"], (), output, fields=ROW_KEYS)
        return
    rows = [
        {**r, "base_display": money(r["base"], r["currency"]),
         "commission_display": money(r["commission"], r["currency"])}
        for r in report["rows"]
    ]  # fmt: skip
    items = [
        {**i, "base_display": money(i["base"], i["currency"]), "rate_display": _rate(i["rate"]),
         "commission_display": money(i["commission"], i["currency"])}
        for i in report["items"]
    ]  # fmt: skip
    head = {
        **report,
        "total_display": ", ".join(money(t["commission"], t["currency"]) for t in report["total"])
        or money(0),
    }
    render_record(
        report, (("period", "Period"), ("total_display", "Commission")), output,
        title=f"Commissions {label}", display_record=head,
        sections=[Section("Per owner", rows, ROW_COLUMNS),
                  Section("Deals and orders", items, ITEM_COLUMNS)],
    )  # fmt: skip
