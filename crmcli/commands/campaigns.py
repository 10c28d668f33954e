"""`crm add campaign|cost`, `crm list campaigns`, the campaign card (`crm show campaign`), and
`crm report roi`. Registered on their groups (add.py, listing.py, report.py); show, edit and
delete dispatch here by kind."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperCommand

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, percent, render_record, render_rows

CAMPAIGN_KEYS = (
    "id", "name", "channel", "starts_on", "ends_on", "keywords", "note", "cost", "leads",
    "customers", "conversion", "revenue", "cost_per_lead", "cost_per_customer", "roi",
    "paid_back", "payback_on", "missing", "created_at", "updated_at",
)  # fmt: skip
CAMPAIGN_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Campaign", min_width=18),
    Column("channel", "Channel", drop=3), Column("cost_display", "Cost", "right"),
    Column("leads", "Leads", "right"), Column("customers", "Customers", "right", drop=2),
    Column("revenue_display", "Revenue", "right"), Column("roi_display", "ROI", "right", drop=1),
)  # fmt: skip
CAMPAIGN_FIELDS = (
    ("id", "Id"), ("name", "Name"), ("channel", "Channel"), ("period", "Period"),
    ("keywords_display", "Keywords"), ("note", "Note"), ("cost_display", "Cost"),
    ("leads", "Leads"), ("customers", "Customers"), ("conversion_display", "Conversion"),
    ("revenue_display", "Revenue"), ("cpl_display", "Cost per lead"),
    ("cpc_display", "Cost per customer"), ("roi_display", "ROI"), ("payback", "Paid back"),
)  # fmt: skip
COST_COLUMNS = (
    Column("id", "Id", "right"), Column("spent_on", "Day", keep=True),
    Column("amount_display", "Amount", "right"), Column("keyword", "Keyword"),
    Column("note", "Note", drop=1),
)  # fmt: skip
ROI_KEYS = (
    "group", "cost", "leads", "customers", "conversion", "revenue", "cost_per_lead",
    "cost_per_customer", "roi", "paid_back", "payback_on", "missing",
)  # fmt: skip
BAR_WIDTH = 16


def _view(r: dict) -> dict:
    """A figures row (campaign or ROI group) with its display texts."""
    from crmcli.output import display_date

    if r.get("paid_back"):
        payback = display_date(r["payback_on"])
    elif r.get("paid_back") is False:
        payback = f"not yet, {money(r['missing'])} short"
    else:
        payback = ""
    return {
        **r, "cost_display": money(r["cost"]), "revenue_display": money(r["revenue"]),
        "conversion_display": percent(r["conversion"]), "cpl_display": money(r["cost_per_lead"]),
        "cpc_display": money(r["cost_per_customer"]), "roi_display": percent(r["roi"], 0),
        "payback": payback,
    }  # fmt: skip


def add_campaign(
    name: Annotated[str, typer.Argument(help="Its name, e.g. 'Google Ads Kaffee'.")],
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", help="search ads, social, newsletter, print, trade fair, referral..."
        ),
    ] = None,
    keyword: Annotated[
        list[str] | None, typer.Option("--keyword", help="A keyword; repeatable.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", metavar="DAY", help="First day: 1.3.2026.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DAY", help="Last day.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    output: c.ResultOpt = None,
) -> None:
    """Create a campaign: a channel, keywords and a period. Its costs are entries of their
    own (crm add cost); contacts, deals and orders name it with --campaign.

    Example:

    \b
    crm add campaign "Google Ads Kaffee" --channel "search ads" \\
        --keyword "kaffee kaufen" --keyword "espresso" --from 1.1.2026
    """
    starts, ends = c.day(since, "from"), c.day(until, "until")
    c.db()
    from crmcli.services import campaigns

    card = campaigns.add_campaign(
        name, channel=channel, keywords=keyword or [], starts_on=starts, ends_on=ends, note=note,
        now=c.now(),
    )  # fmt: skip
    c.done(f"Added campaign #{card['id']} {card['name']} ({card['channel']}).")
    if output is not None:
        print_campaign(card, output)


class _AmountCommand(TyperCommand):
    """`crm add cost google -30`: a negative amount reaches the command (and its message)
    as an argument, instead of click's "No such option: -3"."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        import re

        if "--" not in args:
            takes_value = {
                name for p in self.params if not getattr(p, "is_flag", False) for name in p.opts
            }
            negative = [
                i for i, arg in enumerate(args)
                if re.fullmatch(r"-\d[\d.,]*", arg) and (i == 0 or args[i - 1] not in takes_value)
            ]  # fmt: skip
            if negative:  # after --, as arguments, in their order
                rest = [a for i, a in enumerate(args) if i not in negative]
                args = [*rest, "--", *(args[i] for i in negative)]
        return super().parse_args(ctx, args)


def add_cost(
    campaign: Annotated[str, typer.Argument(help="The campaign (name, id or a unique part).")],
    amount: Annotated[str, typer.Argument(help="The amount: 1.234,50, 1234.50 €.")],
    at: Annotated[
        str | None, typer.Option("--at", metavar="DAY", help="The day it was spent (today).")
    ] = None,
    keyword: Annotated[
        str | None, typer.Option("--keyword", help="The keyword it was spent on.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    output: c.ResultOpt = None,
) -> None:
    """Record a cost of a campaign (a month's ad spend is one entry a month), optionally a
    keyword's. A day outside the campaign's period is recorded with a warning (extend the
    period with crm edit campaign --from/--until).

    Examples:

    \b
    crm add cost "Google Ads" 1.234,50 --at 31.10.2026 --keyword espresso
    crm add cost messe "3500 €" --note "Standmiete"
    """
    from crmcli.errors import Invalid
    from crmcli.values import parse_money_cents

    cents = parse_money_cents(amount.replace("€", "").replace("EUR", "").strip())
    if cents <= 0:
        raise Invalid("amount", f"'{amount}': a cost is what was spent, more than 0")
    day = c.day(at, "at") if at else c.today()
    c.db()
    from crmcli.services import campaigns

    campaign_id = campaigns.resolve_campaign(campaign)
    news = keyword_news(campaign, keyword)
    entry = campaigns.add_cost(
        campaign_id, cents, spent_on=day, keyword=keyword, note=note, now=c.now()
    )  # fmt: skip
    c.done(f"Added cost #{entry['id']} of {money(entry['amount'])} on {day.strftime('%d.%m.%Y')}.")
    if news:
        c.done(news)
    _warn_outside(campaigns.costs_outside_period(campaign_id, cost_id=entry["id"]))
    if output is not None:
        render_record(
            {**entry, "campaign_id": campaign_id}, COST_FIELDS, output,
            display_record={**entry, "amount_display": money(entry["amount"])},
            record_fields=COST_KEYS,
        )  # fmt: skip


add_cost.command_class = _AmountCommand  # type: ignore[attr-defined]


COST_KEYS = ("id", "campaign_id", "spent_on", "amount", "keyword", "note")
COST_FIELDS = (
    ("id", "Id"), ("spent_on", "Day"), ("amount_display", "Amount"), ("keyword", "Keyword"),
    ("note", "Note"),
)  # fmt: skip


def _warn_outside(outside: dict | None) -> None:
    """A warning for cost entries dated outside their campaign's period (costs_outside_period):
    recorded all the same (a period gets extended), but a wrong year shows here."""
    if not outside:
        return
    import sys

    from crmcli.output import clean, display_date

    period = " – ".join(
        display_date(d) if d else "…" for d in (outside["starts_on"], outside["ends_on"])
    )
    if outside["count"] == 1:
        what = f"a cost entry dated {display_date(outside['first'])} is"
    else:
        what = (
            f"{outside['count']} cost entries dated {display_date(outside['first'])} – "
            f"{display_date(outside['last'])} are"
        )
    sys.stderr.write(clean(f"crm: warning: {what} outside the campaign's period ({period})") + "\n")


def list_campaigns(
    channel: Annotated[str | None, typer.Option("--channel", help="Of this channel.")] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List campaigns with their cost, leads, customers, revenue and ROI (all time; see crm
    report roi for a period).

    Example:

    \b
    crm list campaigns --channel "search ads" -o csv
    """
    c.db()
    from crmcli.services import campaigns

    rows = campaigns.list_campaigns(channel=channel)
    shown = rows if output is not Format.table else [_view(r) for r in rows]
    render_rows(shown, CAMPAIGN_COLUMNS, output, fields=CAMPAIGN_KEYS, empty="No campaigns.")


def print_campaign(card: dict, fmt: Format) -> None:
    """The campaign card: fields and figures, its keywords' figures and its cost entries."""
    from crmcli.output import display_date

    view = _view(card)
    period = " – ".join(display_date(d) if d else "…" for d in (card["starts_on"], card["ends_on"]))
    view.update(
        period=period if card["starts_on"] or card["ends_on"] else "",
        keywords_display=", ".join(card["keywords"]),
    )
    # The card is the campaign's: its keyword rows without the campaign's name in front.
    prefix = f"{card['name']}: "
    keywords = [{**_view(r), "group": r["group"].removeprefix(prefix)} for r in card["by_keyword"]]
    costs = [{**k, "amount_display": money(k["amount"])} for k in card["costs"]]
    render_record(
        card, CAMPAIGN_FIELDS, fmt, title=f"Campaign {card['name']}",
        sections=[
            Section("By keyword", keywords, KEYWORD_COLUMNS),
            Section("Costs", costs, COST_COLUMNS),
        ],
        display_record=view, record_fields=CAMPAIGN_KEYS,
    )  # fmt: skip


def show_campaign(ref: str, output: Format) -> None:
    from crmcli.services import campaigns

    print_campaign(campaigns.campaign_card(campaigns.resolve_campaign(ref)), output)


def edit_campaign(ref: str, v: dict, output) -> None:
    """`crm edit campaign REF --name --channel --from --until --note --keyword
    --remove-keyword`."""
    from crmcli.services import campaigns

    campaign_id = campaigns.resolve_campaign(ref)
    moved = campaigns.keyword_uses(campaign_id, v.get("remove_keyword") or [])
    if moved:
        c.confirm(f"Remove {_keyword_uses(moved)}?", yes=bool(v.get("yes")))
    changes = {k: v[k] for k in ("name", "channel", "note") if k in v}
    for option, key in (("from_", "starts_on"), ("until", "ends_on")):
        if option in v:
            changes[key] = c.day(v[option], option.rstrip("_")) if v[option] else None
    card = campaigns.edit_campaign(
        campaign_id, changes, add_keywords=[v["keyword"]] if v.get("keyword") else [],
        remove_keywords=v.get("remove_keyword") or [], now=c.now(),
    )  # fmt: skip
    c.done(f"Updated campaign #{card['id']} {card['name']}.")
    if "from_" in v or "until" in v:
        _warn_outside(campaigns.costs_outside_period(campaign_id))
    if moved:
        c.done(f"Removed {_keyword_uses(moved)}.")
    if output is not None:
        print_campaign(card, output)


def _keyword_uses(uses: list[dict]) -> str:
    """`keyword 'espresso' (its 2 cost entries of 1.234,50 € become the campaign's without
    keyword; 3 contacts keep the campaign without keyword)` for each keyword in `uses`."""
    from crmcli.values import format_money, plural

    parts = []
    for u in uses:
        what = []
        if u["costs"]:
            entries = "cost entry" if u["costs"] == 1 else plural(u["costs"], "cost entry")
            verb = "becomes" if u["costs"] == 1 else "become"
            what.append(
                f"its {entries} of {format_money(u['cost_cents'])} {verb} the campaign's "
                "without keyword"
            )
        counts = [u[k] for k in ("contacts", "deals", "orders") if u[k]]
        kept = [plural(u[k], k.rstrip("s")) for k in ("contacts", "deals", "orders") if u[k]]
        if kept:
            verb = "keeps" if counts == [1] else "keep"
            what.append(f"{', '.join(kept)} {verb} the campaign without keyword")
        parts.append(f"keyword '{u['keyword']}' ({'; '.join(what)})")
    return " and ".join(parts)


def delete_campaign(ref: str):
    """(label, remove) for `crm delete campaign REF`."""
    from crmcli.services import campaigns
    from crmcli.values import plural

    card = campaigns.campaign_card(campaigns.resolve_campaign(ref))
    costs = f" and {plural(len(card['costs']), 'cost entry')}" if card["costs"] else ""
    label = (
        f"campaign #{card['id']} {card['name']}{costs} (what it brought stays, without campaign)"
    )
    return label, lambda: campaigns.delete_campaign(card["id"])


ROI_COLUMNS = (
    Column("group", "Group", min_width=40), Column("cost_display", "Cost", "right"),
    Column("leads", "Leads", "right", drop=4), Column("customers", "Cust.", "right", drop=5),
    Column("conversion_display", "Conv.", "right", drop=6),
    Column("revenue_display", "Revenue", "right"), Column("roi_display", "ROI", "right"),
    Column("cpl_display", "Per lead", "right", drop=7),
    Column("cpc_display", "Per customer", "right", drop=8),
    Column("payback", "Paid back", keep=True, drop=2),
)  # fmt: skip
KEYWORD_COLUMNS = (Column("group", "Keyword", min_width=16), *ROI_COLUMNS[1:])


def roi(
    by: Annotated[
        str, typer.Option("--by", help="campaign (default), keyword, channel or source.")
    ] = "campaign",
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="From this day on.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="WHEN",
            help="... up to this day, included (as in every command: --until 31.1. ends "
            "with 31 January; --since 31.1. --until 31.1. is that one day; a time of day: "
            "up to that moment).",
        ),
    ] = None,
    margin: Annotated[
        bool,
        typer.Option(
            "--margin",
            help="ROI and payback on margin: orders less their own costs and their goods' "
            "purchase prices (crm add product --cost, crm add order --cost).",
        ),
    ] = False,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Return on investment: per campaign, keyword, channel or lead source the cost, the leads
    (attributed contacts created in the period) and customers among them (a purchase or a
    won deal), conversion, revenue (net of purchase orders plus won deals, each counted once),
    cost per lead and per customer, ROI = (revenue - cost) / cost, and the day the cumulative
    revenue caught up with the cumulative cost for good, or "not yet" with what is missing.
    On a terminal with bars (revenue against cost); -o json|csv give the numbers.

    Examples:

    \b
    crm report roi
    crm report roi --by keyword --since 1.1.2026 --until 30.6.2026
    crm report roi --by channel -o csv
    crm report roi --margin
    """
    start, end = c.period(since, until)
    c.db()
    from crmcli.services import roi as service

    report = service.roi_report(by=by.strip().lower(), since=start, until=end, margin=margin)
    if report.get("products_without_cost"):
        n = report["products_without_cost"]
        c.warn(
            f"{n} product{'s' if n != 1 else ''} sold without a purchase price: on margin "
            f"{'their lines count' if n != 1 else 'its lines count'} as earned in full "
            "(crm edit product SKU --cost PRICE)"
        )
    if output in (Format.json, Format.jsonl):
        render_record(report, (), output)
        return
    if output is Format.csv:
        render_rows(report["groups"], (), output, fields=ROI_KEYS)
        return
    from crmcli.env import current

    rows = [_view(r) for r in report["groups"]]
    columns = list(ROI_COLUMNS)
    if margin:
        columns = [
            Column("revenue_display", "Margin", "right") if col.key == "revenue_display" else col
            for col in columns
        ]
    if current().stdout_isatty and rows:
        top = max(max(r["revenue"] or 0, r["cost"] or 0) for r in report["groups"]) or 1
        for r, raw in zip(rows, report["groups"], strict=True):
            earned = round(BAR_WIDTH * (raw["revenue"] or 0) / top)
            spent = round(BAR_WIDTH * (raw["cost"] or 0) / top)
            r["bar"] = "█" * earned + "░" * max(spent - earned, 0)
        # before Paid back goes, and never without a header
        label = "Margin" if margin else "Revenue"
        columns.insert(1, Column("bar", f"{label} / cost", keep=True, drop=3))
    total = _view(report["total"])
    earned_label = "Margin" if margin else "Revenue"
    legend = (
        f" (█ {earned_label.lower()}, ░ cost not earned back yet)"
        if rows and "bar" in rows[0]
        else ""
    )
    head = (
        ("by", "By"), ("period", "Period"), ("cost_display", "Cost"), ("leads", "Leads"),
        ("customers", "Customers"), ("revenue_display", earned_label), ("roi_display", "ROI"),
        ("payback", "Paid back"),
    )  # fmt: skip
    shown_period = _shown_period(start, end)
    render_record(
        report, head, output, title="Return on investment",
        sections=[Section(f"By {report['by']}{legend}", rows, columns)],
        display_record={**total, "by": report["by"],
                        "period": shown_period if start or end else "all time"},
    )  # fmt: skip
    if report["by"] == "source" and current().stdout_isatty:
        # The empty cost, ROI and payback columns are no oversight: costs have no source.
        c.done(
            "Costs are booked to campaigns, not to lead sources: --by campaign, keyword or "
            "channel shows cost, ROI and payback."
        )


def _shown_period(start, end) -> str:
    """The period as days when its ends are midnights (the last day shown is the day before
    the end: `--until 31.1.` ends at 1 February 00:00 and shows "– 31.01."), else as
    moments."""
    from datetime import timedelta

    from crmcli.output import display_date, display_datetime
    from crmcli.values import local_tz

    def midnight(t):
        return t is None or t.astimezone(local_tz()).time() == t.min.time()

    if midnight(start) and midnight(end):
        shown = (
            display_date(start) if start else "…",
            display_date(end - timedelta(days=1)) if end else "…",
        )
    else:
        shown = tuple(display_datetime(t) if t else "…" for t in (start, end))
    return " – ".join(shown)


def keyword_news(campaign: str | None, keyword: str | None) -> str | None:
    """What to say after naming a keyword the campaign did not have (it is added to it):
    `New keyword 'foo' of campaign Google Ads.`; None when it is not new. Ask before the
    change that adds it."""
    from crmcli.services import campaigns

    found = campaigns.new_keyword(campaign, keyword)
    return f"New keyword '{found[1]}' of campaign {found[0]}." if found else None
