"""`crm report funnel|pipeline|sales`: how the sales process is doing, for people and scripts
(`crm report value|clv|rfm|next-purchase`: commands/value_reports.py, `vat`: vat_report.py,
`customer`: customer_report.py, `service`: service_report.py, `portrait`: portrait_report.py).

Tables (with bars for the funnel on a terminal) for people; `-o json` gives the whole report
as one object, `-o csv` its main table.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, render_record, render_rows

app = typer.Typer(
    help="Reports: sales funnel, pipeline, sales, customer value, CLV, RFM, VAT, service."
)

SinceOpt = Annotated[
    str | None,
    typer.Option("--since", metavar="WHEN", help="Deals created (sales: closed) on or after."),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", metavar="WHEN", help="... up to this day, included.")
]
CurrencyOpt = Annotated[
    str, typer.Option("--currency", help="Only deals in this currency (amounts never mix).")
]
BAR_WIDTH = 30

# Machine field sets: the CSV header of each report's main table (rows or not).
FUNNEL_KEYS = (
    "stage", "stage_id", "position", "probability", "is_won", "is_lost", "reached", "value",
    "won", "conversion_next", "conversion_won", "median_days", "stays",
)  # fmt: skip
PIPELINE_KEYS = ("stage", "probability", "deals", "value", "weighted")
SALES_KEYS = (
    "group", "won", "lost", "won_value", "average_deal", "win_rate", "sales_cycle_days",
)  # fmt: skip

FUNNEL_COLUMNS = (
    Column("stage", "Stage", min_width=14), Column("reached", "Reached", "right"),
    Column("value_display", "Value", "right"), Column("next", "→ next", "right"),
    Column("to_won", "→ won", "right"), Column("median_days", "Median days", "right"),
    Column("stays", "Stays", "right"),
)  # fmt: skip
REASON_COLUMNS = (
    Column("reason", "Lost because", min_width=24), Column("deals", "Deals", "right"),
    Column("share_display", "Share", "right"), Column("value_display", "Value", "right"),
)  # fmt: skip
PIPELINE_COLUMNS = (
    Column("stage", "Stage", min_width=14), Column("probability", "Prob. %", "right"),
    Column("deals", "Deals", "right"), Column("value_display", "Value", "right"),
    Column("weighted_display", "Weighted", "right"),
)  # fmt: skip
MONTH_COLUMNS = (
    Column("month", "Close month"), Column("deals", "Deals", "right"),
    Column("value_display", "Value", "right"), Column("weighted_display", "Weighted", "right"),
)  # fmt: skip
# The first column is the group, headed by what it groups by (Month, Owner...): never cut;
# on a narrow terminal the average deal (won value / won) and the cycle go first.
SALES_COLUMNS = (
    Column("won", "Won", "right"), Column("lost", "Lost", "right"),
    Column("won_value_display", "Won value", "right"),
    Column("average_display", "Avg deal", "right", drop=2), Column("rate", "Win rate", "right"),
    Column("sales_cycle_days", "Cycle days", "right", drop=1),
)  # fmt: skip


def _percent(value) -> str:
    from crmcli.output import percent

    return percent(value)


def _money(value, currency: str) -> str:
    from crmcli.output import money

    return money(value, currency)


def _period(since: str | None, until: str | None):
    return c.period(since, until)


def _whole(report: dict, rows: list[dict], fields, output: Format) -> bool:
    """JSON and JSONL get the whole report, CSV the main rows; True when that is done."""
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return True
    if output is Format.csv:
        render_rows(rows, (), output, fields=fields)
        return True
    return False


def _bars(rows: list[dict]) -> None:
    """The funnel drawn: one bar per stage, as long as its share of the first stage."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from crmcli.output import clean

    top = max((r["reached"] for r in rows), default=0) or 1
    grid = Table.grid(padding=(0, 1))
    grid.add_column()
    grid.add_column()
    grid.add_column(justify="right")
    for r in rows:
        width = round(BAR_WIDTH * r["reached"] / top)
        colour = "green" if r["is_won"] else "red" if r["is_lost"] else "cyan"
        bar = f"[{colour}]{'█' * width}[/]" + " " * (BAR_WIDTH - width)
        grid.add_row(escape(clean(r["stage"])), bar, str(r["reached"]))
    Console(highlight=False, force_terminal=True).print(grid)


@app.command("funnel")
def funnel(
    since: SinceOpt = None,
    until: UntilOpt = None,
    currency: CurrencyOpt = "EUR",
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Per stage: deals that reached it, conversion to the next stage and to won, median
    days in the stage (of its completed stays, counted under Stays: a deal reopened from
    lost left a stay there), value; lost reasons ranked. Counts the deals created in the
    period.

    Examples:

    \b
    crm report funnel --since 1.1.2026
    crm report funnel -o json
    """
    from crmcli.env import current

    period = _period(since, until)
    c.db()
    from crmcli.services import reports

    report = reports.funnel(*period, currency=currency)
    if _whole(report, report["stages"], FUNNEL_KEYS, output):
        return
    cur = report["currency"]
    for r in report["stages"]:
        r.update(
            value_display=_money(r["value"], cur), next=_percent(r["conversion_next"]),
            to_won=_percent(r["conversion_won"]),
        )  # fmt: skip
    if current().color and report["deals"]:
        _bars(report["stages"])
    render_rows(report["stages"], FUNNEL_COLUMNS, output)
    for r in report["lost_reasons"]:
        r.update(share_display=_percent(r["share"]), value_display=_money(r["value"], cur))
    if report["lost_reasons"]:
        print()
        render_rows(report["lost_reasons"], REASON_COLUMNS, output)


@app.command("pipeline")
def pipeline(currency: CurrencyOpt = "EUR", output: c.OutputOpt = c.Format.table) -> None:
    """Open deals per stage, their value and value weighted by probability; then the same
    by expected close month: the forecast.

    Examples:

    \b
    crm report pipeline
    crm report pipeline -o json | jq .total
    """
    c.db()
    from crmcli.services import reports

    report = reports.pipeline(currency=currency)
    if report["other_currencies"]:
        from crmcli.values import plural

        left_out = ", ".join(
            f"{plural(n, 'open deal')} in {cur}" for cur, n in report["other_currencies"].items()
        )
        first = next(iter(report["other_currencies"]))
        sys.stderr.write(
            f"Not in this report: {left_out} (crm report pipeline --currency {first}).\n"
        )
    if _whole(report, report["stages"], PIPELINE_KEYS, output):
        return
    cur = report["currency"]
    total = {"stage": "Total", **report["total"]}
    for r in [*report["stages"], *report["months"], total]:
        r.update(value_display=_money(r["value"], cur), weighted_display=_money(r["weighted"], cur))
    render_rows([*report["stages"], total], PIPELINE_COLUMNS, output)
    for r in report["months"]:
        r["month"] = r["month"] or "no date"
    print()
    render_rows(report["months"], MONTH_COLUMNS, output)


@app.command("sales")
def sales(
    by: Annotated[str, typer.Option("--by", help="month, quarter, owner or source.")] = "month",
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="Closed on or after.")
    ] = None,
    until: UntilOpt = None,
    currency: CurrencyOpt = "EUR",
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Won deals and value, average deal, win rate and sales cycle, by month, quarter, owner
    or source; the last row is the total.

    Examples:

    \b
    crm report sales --by quarter --since 1.1.2026
    crm report sales --by owner -o csv
    """
    period = _period(since, until)
    c.db()
    from crmcli.services import reports

    rows = reports.sales(by=by, since=period[0], until=period[1], currency=currency)
    if output is not Format.table:
        render_rows(rows, (), output, fields=SALES_KEYS)
        return
    cur = currency.upper()
    for r in rows:
        r.update(
            group=r["group"] or ("Total" if r is rows[-1] else "(none)"),
            won_value_display=_money(r["won_value"], cur),
            average_display=_money(r["average_deal"], cur), rate=_percent(r["win_rate"]),
        )  # fmt: skip
    group = Column("group", by.strip().capitalize(), keep=True)
    render_rows(rows, (group, *SALES_COLUMNS), output)


# Customer value, CLV, RFM and next purchases live in commands/value_reports.py, VAT in
# commands/vat_report.py, one customer's profile in commands/customer_report.py, service
# statistics in commands/service_report.py, the customers' portrait in portrait_report.py.
from crmcli.commands import customer_report as _customer  # noqa: E402
from crmcli.commands import portrait_report as _portrait  # noqa: E402
from crmcli.commands import service_report as _service  # noqa: E402
from crmcli.commands import value_reports as _value  # noqa: E402
from crmcli.commands import vat_report as _vat  # noqa: E402

app.command("value")(_value.value)
app.command("clv")(_value.clv)
app.command("rfm")(_value.rfm)
app.command("next-purchase")(_value.next_purchase)
app.command("customer")(_customer.customer)
app.command("vat")(_vat.vat)
app.command("service")(_service.service)
app.command("portrait")(_portrait.portrait)

from crmcli.commands import campaigns as _campaigns  # noqa: E402

app.command("roi")(_campaigns.roi)

from crmcli.commands import commissions as _commissions  # noqa: E402

app.command("commissions")(_commissions.commissions)
