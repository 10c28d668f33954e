"""`crm report value|clv|rfm|next-purchase`: what customers have bought, what they are expected
to buy and when, and their RFM segments.

Registered on the report group (commands/report.py). `-o json` gives the whole report as one
object, `-o csv` its per-customer rows.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, percent, render_record, render_rows

VALUE_KEYS = (
    "contact_id", "contact", "city", "source", "orders", "revenue", "average_order",
    "first_purchase", "last_purchase", "abandoned", "historic_clv", "cost", "margin",
    "uncosted_lines",
)  # fmt: skip
# -o csv: the total, the customers and the category, source and city tables in one table,
# its first column `section` saying which (total, customer, category, source, city).
VALUE_CSV_KEYS = (
    "contact_id", "contact", "category", "source", "city", "customers", "orders", "revenue",
    "average_order", "first_purchase", "last_purchase", "abandoned", "historic_clv", "cost",
    "margin", "uncosted_lines",
)  # fmt: skip
CLV_KEYS = (
    "contact_id", "contact", "x", "t_x", "T", "p_alive", "expected_purchases",
    "expected_value", "clv",
)  # fmt: skip

VALUE_COLUMNS = (
    Column("contact_id", "Id", "right"), Column("contact", "Customer", min_width=18),
    Column("orders", "Orders", "right"), Column("revenue_display", "Revenue", "right"),
    Column("margin_display", "Margin", "right", drop=1),
    Column("aov_display", "Avg order", "right", drop=3),
    Column("first_purchase", "First", keep=True, drop=4),
    Column("last_purchase", "Last", keep=True, drop=1),
    Column("clv_display", "Historic CLV", "right", drop=5),
)  # fmt: skip
TOTAL_FIELDS = (
    ("customers", "Customers"), ("orders", "Orders"), ("revenue_display", "Net revenue"),
    ("aov_display", "Average order"), ("cost_display", "Cost"), ("margin_display", "Margin"),
    ("abandoned", "Abandoned carts"),
)  # fmt: skip


def _group_columns(key: str, header: str) -> tuple[Column, ...]:
    return (
        Column(key, header, min_width=12), Column("customers", "Customers", "right"),
        Column("orders", "Orders", "right"), Column("revenue_display", "Revenue", "right"),
        Column("margin_display", "Margin", "right", drop=1),
    )  # fmt: skip


def _shown(rows: list[dict], key: str | None = None) -> list[dict]:
    out = []
    for r in rows:
        view = {**r, "revenue_display": money(r["revenue"])}
        if "margin" in r:  # a row without a purchase price: no margin ("?" for unknown)
            view["margin_display"] = "?" if r["margin"] is None else money(r["margin"])
            if r["margin"] is not None and r.get("uncosted_lines"):
                view["margin_display"] += "*"
        if "average_order" in r:
            view["aov_display"] = money(r["average_order"])
        if "historic_clv" in r:
            view["clv_display"] = money(r["historic_clv"])
        if key is not None and not r[key]:
            view[key] = "(none)"
        out.append(view)
    return out


def value(
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="Orders on or after.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="... up to this day, included."),
    ] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Customer value: per customer net revenue, margin, orders, average order, first and
    last purchase and historic CLV (all their purchases up to --until), the total, and
    revenue by product category, lead source and city. Margin is net revenue less the goods'
    purchase prices (crm edit product --cost) and the orders' own costs (shipping: crm edit
    order --cost), over the lines whose purchase price is known: the others are left out
    of it and counted (a warning says how many), never taken as costing nothing.
    Paid, shipped and open orders count; cancelled,
    returned and abandoned ones do not.

    Examples:

    \b
    crm report value --since 1.1.2026
    crm report value -o json | jq .total
    """
    start, end = c.period(since, until)
    c.db()
    from crmcli.services import value as service

    report = service.value_report(since=start, until=end)
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return
    if output is Format.csv:
        from crmcli.output import render_sections_csv

        render_sections_csv(
            [("total", [report["total"]]), ("customer", report["customers"]),
             ("category", report["by_category"]), ("source", report["by_source"]),
             ("city", report["by_city"])],
            VALUE_CSV_KEYS,
        )  # fmt: skip
        return
    from crmcli.commands.orders import margin_text
    from crmcli.values import plural

    total = report["total"]
    total_view = {
        **total, "revenue_display": money(total["revenue"]),
        "aov_display": money(total["average_order"]),
        "cost_display": "unknown" if total["cost"] is None else money(total["cost"]),
        "margin_display": margin_text(total["margin"], total["uncosted_lines"], total["lines"]),
    }  # fmt: skip
    if total["uncosted_lines"]:
        c.warn(
            f"margin: {plural(total['uncosted_lines'], 'order line')} without a purchase price "
            "left out of it (* a margin over part of a row's lines, ? none known; crm edit "
            "product SKU --cost)"
        )
    sections = [
        Section("Customers", _shown(report["customers"]), VALUE_COLUMNS),
        Section("By category", _shown(report["by_category"], "category"),
                _group_columns("category", "Category")),
        Section("By source", _shown(report["by_source"], "source"),
                _group_columns("source", "Source")),
        Section("By city", _shown(report["by_city"], "city"), _group_columns("city", "City")),
    ]  # fmt: skip
    render_record(
        total, TOTAL_FIELDS, output, title="Customer value", sections=sections,
        display_record=total_view,
    )  # fmt: skip


CLV_COLUMNS = (
    Column("contact_id", "Id", "right"), Column("contact", "Customer", min_width=18),
    Column("x", "Repeats", "right", drop=3), Column("alive", "P(active)", "right"),
    Column("expected_purchases", "Exp. orders", "right"),
    Column("value_display", "Per order", "right", drop=2),
    Column("clv_display", "CLV", "right"),
)  # fmt: skip
CLV_FIELDS = (
    ("period", "History until"), ("customers", "Customers"), ("repeat_customers", "Repeat"),
    ("horizon_text", "Horizon"), ("bgnbd_text", "BG/NBD"), ("gg_text", "Gamma-Gamma"),
)  # fmt: skip


def clv(
    unit: Annotated[
        str, typer.Option("--unit", help="Time unit of the model: days or weeks.")
    ] = "weeks",
    horizon: Annotated[
        float | None,
        typer.Option(
            "--horizon", min=0.001, max=100_000, help="Look this many units ahead (one year)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="History up to this day (today)."),
    ] = None,
    limit: c.LimitOpt = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Predicted customer lifetime value: BG/NBD (Fader, Hardie and Lee 2005) for how often
    each customer will buy and the chance they are still active, Gamma-Gamma for how much per
    order, fitted by maximum likelihood on every customer's purchases (one a day); the
    parameters and log-likelihood come with the report. CLV is net and undiscounted.

    Examples:

    \b
    crm report clv
    crm report clv --unit days --horizon 90 -o json | jq .bgnbd
    """
    from crmcli.errors import Invalid

    if unit not in ("days", "weeks"):
        raise Invalid("unit", f"'{unit}' is not one of days, weeks")
    ahead = horizon if horizon is not None else (52 if unit == "weeks" else 365)
    last_day = c.day(until, "until") if until else c.today()
    c.db()
    from crmcli.services import value as service

    report = service.clv_report(until=last_day, unit=unit, horizon=ahead)
    rows = _rows_for_a_table(report, report["rows"], CLV_KEYS, output, limit)
    if rows is None:
        return
    m, g = report["bgnbd"], report["gamma_gamma"]
    head = {
        **report, "period": report["until"],
        "horizon_text": f"{ahead:g} {unit}",
        "bgnbd_text": f"r {m['r']:.3f}, alpha {m['alpha']:.3f}, a {m['a']:.3f}, "
        f"b {m['b']:.3f}; log-likelihood {m['log_likelihood']:.1f}",
        "gg_text": f"p {g['p']:.2f}, q {g['q']:.2f}, gamma {g['gamma']:.2f}; "
        f"log-likelihood {g['log_likelihood']:.1f}" if g else report["spend_note"],
    }  # fmt: skip
    views = [
        {**r, "alive": percent(r["p_alive"]), "value_display": money(r["expected_value"]),
         "clv_display": money(r["clv"])}
        for r in rows
    ]  # fmt: skip
    render_record(
        report, CLV_FIELDS, output, title="Customer lifetime value",
        sections=[Section("Customers, highest CLV first", views, CLV_COLUMNS)],
        display_record=head,
    )  # fmt: skip


RFM_KEYS = (
    "contact_id", "contact", "recency_days", "frequency", "monetary", "r", "f", "m", "score",
    "segment",
)  # fmt: skip
RFM_COLUMNS = (
    Column("contact_id", "Id", "right"), Column("contact", "Customer", min_width=18),
    Column("recency_days", "Days since", "right", drop=3),
    Column("frequency", "Orders", "right", drop=4),
    Column("monetary_display", "Revenue", "right", drop=2), Column("score", "RFM"),
    Column("segment", "Segment", min_width=12),
)  # fmt: skip
SEGMENT_COLUMNS = (
    Column("segment", "Segment", min_width=14), Column("customers", "Customers", "right"),
    Column("revenue_display", "Revenue", "right"),
)  # fmt: skip


def rfm(
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="Purchases up to this day (today)."),
    ] = None,
    segments: Annotated[
        str | None,
        typer.Option(
            "--segments", metavar="FILE", help="Rules as CSV: r,f,segment (e.g. 4-5,1-5,Aktiv)."
        ),
    ] = None,
    apply_tags: Annotated[
        bool,
        typer.Option("--apply-tags", help="Tag each customer rfm:SEGMENT (one transaction)."),
    ] = False,
    limit: c.LimitOpt = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """RFM analysis: recency, frequency and monetary scores (quintiles, 5 best) per customer
    and their segment (Champions, Loyal, Potential loyalist, New, Promising, Need attention,
    About to sleep, At risk, Can't lose, Hibernating, Lost) from the R and F scores. The rules
    are data: --segments FILE replaces them (CSV r,f,segment; first match wins; every pair of
    scores needs one). --apply-tags gives each customer the tag rfm:SEGMENT and takes older
    rfm: tags away, in one transaction, so lists, mailings and cadences can use them.

    Examples:

    \b
    crm report rfm
    crm report rfm --apply-tags -o csv > rfm.csv
    crm report rfm --segments meine-segmente.csv --until 31.12.2026
    """
    last_day = c.day(until, "until") if until else c.today()
    rules = None
    if segments is not None:
        from crmcli.services.rfm import read_rules

        rules = read_rules(segments)
    c.db()
    from crmcli.services import rfm as service

    report = service.rfm(until=last_day, **({"rules": rules} if rules is not None else {}))
    if apply_tags:
        from crmcli.values import plural

        done = service.apply_tags(report["customers"], now=c.now())
        c.done(
            f"Tagged {plural(done['tagged'], 'customer')} with their rfm: segment "
            f"({done['changed']} changed)."
        )
    rows = _rows_for_a_table(report, report["customers"], RFM_KEYS, output, limit)
    if rows is None:
        return
    segment_rows = [
        {**s, "revenue_display": money(s["revenue"])} for s in report["segments"] if s["customers"]
    ]
    from crmcli.output import locale
    from crmcli.values import format_money

    german = locale() != "en"  # once: output.money reads the environment at every call
    # the table's columns only (a copy of every key of 100,000 rows cost a tenth of a second)
    views = [
        {"contact_id": r["contact_id"], "contact": r["contact"],
         "recency_days": r["recency_days"], "frequency": r["frequency"],
         "monetary_display": format_money(int(r["monetary"] * 100), german=german),
         "score": r["score"], "segment": r["segment"]}
        for r in rows
    ]  # fmt: skip
    render_record(
        report, (("until", "Purchases until"),), output, title="RFM segments",
        sections=[Section("Segments", segment_rows, SEGMENT_COLUMNS),
                  Section("Customers", views, RFM_COLUMNS)],
    )  # fmt: skip


NEXT_KEYS = (
    "contact_id", "contact", "last_purchase", "purchases", "expected_next", "chance",
    "expected_value", "priority", "method", "beyond_horizon", "usual_next",
    "usual_interval_days",
)  # fmt: skip
NEXT_COLUMNS = (
    Column("contact_id", "Id", "right"),
    Column("contact", "Customer", min_width=12, wrap=True),
    Column("last_purchase", "Last", keep=True, drop=1),
    Column("purchases", "Buys", "right", drop=2),
    # "not within 2 years" wraps at its spaces, a date stays whole
    Column("next_display", "Next", min_width=10, wrap=True),
    # what crm remind reminds of: the last purchase plus the customer's usual interval; the
    # header explains it and the rows sort by chance × order value, so both stay at 80
    # columns (the last purchase and the number of purchases go first)
    Column("usual_next", "Usual rhythm", min_width=10, wrap=True),
    Column("chance_display", "Chance", "right"),
    Column("value_display", "Per order", "right"),
    Column("priority_display", "× chance", "right"),
)  # fmt: skip
NEXT_FIELDS = (
    ("until", "History until"), ("window", "Window"), ("method_text", "Model"),
    ("usual_text", "Usual rhythm"), ("sorted_text", "Sorted by"),
)  # fmt: skip


def _window_days(text: str) -> int:
    """--within as whole days (30d, 2w, 3m); hours or minutes are no window for a purchase,
    and the error suggests only what is accepted."""
    from crmcli.commands.remind import span
    from crmcli.errors import Invalid

    examples = "30d, 2w, 3m"
    seconds = span(text, "within", examples).total_seconds()
    days = round(seconds / 86400)
    if seconds < 86400 - 3600:  # an hour less: a day with a DST change
        raise Invalid("within", f"'{text}' is less than a day: give a window such as {examples}")
    if abs(seconds - days * 86400) > 3600:
        raise Invalid("within", f"'{text}' is not a number of whole days such as {examples}")
    return days


def next_purchase(
    within: Annotated[
        str, typer.Option("--within", "-w", metavar="SPAN", help="The window: 30d, 2w, 3m.")
    ] = "30d",
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help="History up to this day (today)."),
    ] = None,
    limit: c.LimitOpt = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """When each customer will buy next: the expected day and the chance of a purchase within
    --within, from the BG/NBD fit of every customer's history (the customer's own interval
    between purchases when there is too little history to fit); a call list sorted by chance
    × expected order value (without a model: by the next purchase, soonest first). Beside
    it the usual rhythm, the last purchase plus the customer's usual interval: the day crm
    remind reminds of. A forecast more than 2 years ahead is "not within 2 years".

    Examples:

    \b
    crm report next-purchase --within 30d
    crm report next-purchase -w 2w -o csv > anrufliste.csv
    """
    days = _window_days(within)
    last_day = c.day(until, "until") if until else c.today()
    c.db()
    from crmcli.services import forecast

    report = forecast.next_purchases(until=last_day, within_days=days)
    rows = _rows_for_a_table(report, report["rows"], NEXT_KEYS, output, limit)
    if rows is None:
        return
    years = report["horizon_years"]
    views = [
        {**r, "chance_display": percent(r["chance"]), "value_display": money(r["expected_value"]),
         "priority_display": money(r["priority"]),
         "next_display": f"not within {years} years" if r["beyond_horizon"]
         else r["expected_next"]}
        for r in rows
    ]  # fmt: skip
    if not views:
        render_rows(views, NEXT_COLUMNS, output, empty="No customers with purchases yet.")
        return
    modelled = report["model"] is not None
    head = {
        **report, "window": f"{days} {'day' if days == 1 else 'days'} after {report['until']}",
        "method_text": f"BG/NBD (Next: the median wait of an active customer, beyond {years} "
        "years not expected)" if modelled else "none: too little history to fit"
        + (f": {report['fallback']}" if report.get("fallback") else "")
        + " (Next: each customer's usual interval, no chance to give)",
        "usual_text": "the last purchase plus the customer's usual interval (what crm remind "
        "reminds of)",
        "sorted_text": "chance × order value" if modelled else "the next purchase, soonest "
        "first, then order value; customers without one last",
    }  # fmt: skip
    title = ("Customers, highest chance × order value first" if modelled
             else "Customers, soonest next purchase first")  # fmt: skip
    render_record(
        report, NEXT_FIELDS, output, title="Next purchases",
        sections=[Section(title, views, NEXT_COLUMNS)], display_record=head,
    )  # fmt: skip


def _rows_for_a_table(
    report: dict, rows: list[dict], keys: tuple[str, ...], output: Format, limit: int | None
) -> list[dict] | None:
    """What clv, rfm and next-purchase print alike: the whole report for -o json/jsonl, its
    rows for -o csv (both written here: None); for a table the rows to show, a page on a
    terminal unless --limit says otherwise."""
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return None
    shown = c.page_limit(limit, output)
    if shown is not None:
        rows = rows[:shown]
    if output is Format.csv:
        render_rows(rows, (), output, fields=keys)
        return None
    return rows
