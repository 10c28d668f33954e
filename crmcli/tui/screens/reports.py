"""Reports: how the sales process is doing, with the numbers of `crm report`: the funnel as
bars (deals created in the period that reached each stage), the forecast of the open deals
by expected close month (`crm report pipeline`), sales by close month (`crm report sales`),
the net revenue of the orders by month and the activities per kind and month as
sparklines. `y` this year, `l` the last 12 months, `a` all time."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.bars import Bar, BarChart, Sparklines
from crmcli.tui.widgets.board import date_text, money_text
from crmcli.tui.widgets.navbar import NavBar

PERIODS = {"year": "this year", "12m": "the last 12 months", "all": "all time"}


def _percent(value) -> str:
    from crmcli.output import percent

    return percent(value)


class ReportsScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "period('year')", "This year"),
        Binding("l", "period('12m')", "12 months"),
        Binding("a", "period('all')", "All time"),
    ]
    DEFAULT_CSS = """
    ReportsScreen .section { text-style: bold; padding: 0 1; margin-top: 1; height: 1; }
    ReportsScreen #period { height: auto; padding: 0 1; }
    ReportsScreen #forecast-note { height: auto; }
    """

    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.period = "year"
        self.data: dict = {}

    def compose(self) -> ComposeResult:
        yield NavBar("reports")
        yield Static("", id="period")  # outside the scroll: the period stays in sight
        with VerticalScroll(id="report"):
            yield Static("Funnel: deals created in the period, how far they got", classes="section")
            yield BarChart(id="funnel")
            yield Static("Lost because", classes="section")
            yield BarChart(id="reasons")
            yield Static("Forecast: open deals by expected close month", classes="section")
            yield BarChart(id="forecast")
            yield Static("", id="forecast-note", classes="status")
            yield Static("Sales: deals closed in the period, by month", classes="section")
            yield BarChart(id="sales")
            yield Static("Revenue: orders by month (net)", classes="section")
            yield BarChart(id="revenue")
            yield Static("Activities per kind and month", classes="section")
            yield Sparklines(id="activity")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#report").focus()
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period's start (local time) and end (None: up to now and beyond)."""
        from crmcli.values import local_tz

        now = self.crm.now().astimezone(local_tz())
        if self.period == "year":
            return datetime(now.year, 1, 1, tzinfo=local_tz()), None
        if self.period == "12m":
            year, month = now.year, now.month - 11
            if month < 1:
                year, month = year - 1, month + 12
            return datetime(year, month, 1, tzinfo=local_tz()), None
        return None, None

    def action_period(self, period: str) -> None:
        self.period = period
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    async def reload(self) -> None:
        from crmcli.services import activity_report, reports, value

        since, until = self.bounds()
        self.data = {
            "since": since,
            "funnel": await self.call(reports.funnel, since, until),
            "pipeline": await self.call(reports.pipeline),
            "sales": await self.call(reports.sales, by="month", since=since, until=until),
            "activity": await self.call(activity_report.activity_by_month, since, until),
            "revenue": await self.call(value.revenue_by_month, since, until),
        }
        self._show()

    def _show(self) -> None:
        d = self.data
        since = d["since"]
        start = f" (since {date_text(since)})" if since else ""
        self.query_one("#period", Static).update(
            f"Period: {PERIODS[self.period]}{start} (keys y, l, a)"
        )
        funnel = d["funnel"]
        cur = funnel["currency"]
        self.query_one("#funnel", BarChart).show(
            [
                Bar(
                    s["stage"],
                    s["reached"],
                    f"{s['reached']:,} · {money_text(s['value'], cur)}"
                    + (f" · won {_percent(s['conversion_won'])}" if s["conversion_won"] else ""),
                    "green" if s["is_won"] else "red" if s["is_lost"] else "cyan",
                )  # fmt: skip
                for s in funnel["stages"]
            ]
            if funnel["deals"]
            else [],
            empty="no deals created in this period",
        )
        self.query_one("#reasons", BarChart).show(
            [
                Bar(
                    r["reason"] or "(none)",
                    r["deals"],
                    f"{r['deals']:,} · {_percent(r['share'])} · {money_text(r['value'], cur)}",
                    "red",
                )  # fmt: skip
                for r in funnel["lost_reasons"]
            ],
            empty="no deals lost in this period",
        )
        pipe = d["pipeline"]
        forecast = [
            Bar(
                m["month"] or "no date",
                float(m["value"]),
                f"{m['deals']:,} · {money_text(m['value'], cur)} · weighted "
                f"{money_text(m['weighted'], cur)}",
            )  # fmt: skip
            for m in pipe["months"]
        ]
        if forecast:
            t = pipe["total"]
            forecast.append(
                Bar(
                    "Total",
                    0,
                    f"{t['deals']:,} · {money_text(t['value'], cur)} · weighted "
                    f"{money_text(t['weighted'], cur)}",
                )  # fmt: skip
            )
        others = ", ".join(f"{n:,} in {c}" for c, n in pipe["other_currencies"].items())
        self.query_one("#forecast", BarChart).show(forecast, empty="no open deals")
        self.query_one("#forecast-note", Static).update(
            f"open deals not in {cur}, left out: {others}" if others else ""
        )
        sales = d["sales"]
        months = [r for r in sales[:-1] if r["won"] or r["lost"]]
        total = sales[-1]
        rows = [
            Bar(
                r["group"],
                float(r["won_value"]),
                f"{r['won']:,} won · {r['lost']:,} lost · {money_text(r['won_value'], cur)}",
                "green",
            )  # fmt: skip
            for r in months
        ]
        if months:
            rows.append(
                Bar(
                    "Total",
                    0,
                    f"{total['won']:,} won · {total['lost']:,} lost · "
                    f"{money_text(total['won_value'], cur)} · rate {_percent(total['win_rate'])}",
                )  # fmt: skip
            )
        self.query_one("#sales", BarChart).show(rows, empty="no deals closed in this period")
        months = d["revenue"]
        revenue = [
            Bar(m["month"], float(m["revenue"]),
                f"{m['orders']:,} orders · {money_text(m['revenue'], 'EUR')}", "green")
            for m in months
        ]  # fmt: skip
        if revenue:
            orders = sum(m["orders"] for m in months)
            total = sum((m["revenue"] for m in months), start=months[0]["revenue"] * 0)
            revenue.append(Bar("Total", 0, f"{orders:,} orders · {money_text(total, 'EUR')}"))
        self.query_one("#revenue", BarChart).show(revenue, empty="no orders in this period")
        act = d["activity"]
        caption = (
            f"one block a month, {act['months'][0]} to {act['months'][-1]}" if act["months"] else ""
        )
        self.query_one("#activity", Sparklines).show(
            [(kind, counts, f"{act['totals'][kind]:,}") for kind, counts in act["kinds"].items()],
            caption,
        )
