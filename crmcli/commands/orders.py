"""`crm add product|order`, `crm list products|orders`, and how products and orders are shown.

The functions are registered on the add and list groups (commands/add.py, listing.py);
`crm show order` and `crm edit product|order` go through show.py and edit.py.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, Format, Section, money, render_record, render_rows

# The machine field sets (CSV header, JSON keys), as the services return them.
PRODUCT_KEYS = (
    "id", "sku", "name", "category", "price", "vat_rate", "vat_bp", "unit", "active", "cost",
    "margin", "created_at", "updated_at",
)  # fmt: skip
ORDER_KEYS = (
    "id", "ordered_at", "contact_id", "contact", "status", "channel", "campaign", "keyword",
    "discount", "items", "net", "vat", "gross", "currency", "note", "external_id", "cost",
    "created_at",
    "updated_at",
)  # fmt: skip
ORDER_CARD_KEYS = (
    *ORDER_KEYS, "lines", "vat_by_rate", "goods_cost", "uncosted_lines", "goods_lines",
    "margin", "activities",
)  # fmt: skip
# `crm show order N -o csv`: a row per line, the order's own fields repeated on each (its
# VAT per rate and totals follow from the lines; what happened to it is in list activities).
ORDER_CSV_KEYS = (*ORDER_KEYS, "goods_cost", "uncosted_lines", "margin")
LINE_CSV_KEYS = (
    "position", "product_id", "sku", "name", "qty", "unit", "unit_price", "vat_rate",
    "discount", "net", "vat", "gross", "cost",
)  # fmt: skip
ORDER_LINE_CSV_KEYS = (*ORDER_CSV_KEYS, *(f"line_{key}" for key in LINE_CSV_KEYS))

PRODUCT_COLUMNS = (
    Column("id", "Id", "right"), Column("sku", "SKU", keep=True),
    Column("name", "Product", min_width=20), Column("category", "Category", drop=3),
    Column("price_display", "Net price", "right"), Column("vat_display", "VAT", "right"),
    Column("unit", "Unit", drop=4), Column("state", "State", drop=2),
)  # fmt: skip
PRODUCT_FIELDS = (
    ("id", "Id"), ("sku", "SKU"), ("category", "Category"), ("price_display", "Net price"),
    ("vat_display", "VAT"), ("cost_display", "Purchase price"), ("margin_display", "Margin"),
    ("unit", "Unit"), ("state", "State"), ("created_at", "Created"), ("updated_at", "Updated"),
)  # fmt: skip
ORDER_COLUMNS = (
    Column("id", "Id", "right"), Column("when_display", "When", keep=True),
    Column("contact", "Contact", max_width=28, min_width=16),
    Column("status", "Status"), Column("channel", "Channel", drop=3),
    Column("items", "Items", "right", drop=4), Column("net_display", "Net", "right", drop=2),
    Column("gross_display", "Gross", "right"),
)  # fmt: skip
ORDER_FIELDS = (
    ("id", "Id"), ("when_display", "When"), ("contact", "Contact"), ("status", "Status"),
    ("channel", "Channel"), ("campaign", "Campaign"), ("keyword", "Keyword"),
    ("discount_display", "Discount"),
    ("net_display", "Net"), ("vat_display", "VAT"), ("gross_display", "Gross"),
    ("goods_cost_display", "Goods cost"), ("cost_display", "Other costs"),
    ("margin_display", "Margin"), ("external_id", "External id"), ("note", "Note"),
    ("created_at", "Created"),
)  # fmt: skip
# At 80 columns what an invoice line is read by stays: the name (wrapped, not cut to the
# first word two products share), quantity, unit price, the discount (on a terminal only
# where a line has one) and net; the line's gross goes first, then the SKU, then its rate.
LINE_COLUMNS = (
    Column("position", "#", "right"), Column("sku", "SKU", keep=True, drop=3),
    Column("name", "Product", min_width=12, wrap=True), Column("qty_display", "Qty", "right"),
    Column("price_display", "Unit net", "right"), Column("vat_display", "VAT %", "right", drop=2),
    Column("discount_display", "Discount", "right"),
    Column("net_display", "Net", "right"), Column("gross_display", "Gross", "right", drop=4),
)  # fmt: skip
RATE_COLUMNS = (
    Column("vat_display", "Rate", "right"), Column("net_display", "Net", "right"),
    Column("tax_display", "VAT", "right"), Column("gross_display", "Gross", "right"),
)  # fmt: skip


def rate(value) -> str:
    from crmcli.values import format_percent_bp

    return format_percent_bp(int(value * 100))


def margin_text(margin, uncosted: int, lines: int, currency: str = "EUR") -> str:
    """A margin for people, saying what it stands on: over the lines whose purchase price is
    known (services.value.margin_cents), or unknown when no line has one."""
    from crmcli.values import plural

    if margin is None:
        return (
            "unknown: no line has a purchase price (crm edit product SKU --cost)" if lines else ""
        )
    text = money(margin, currency)
    if uncosted:
        text += (f" (costs known for {lines - uncosted} of {plural(lines, 'line')}; "
                 f"{plural(uncosted, 'line')} without a purchase price left out)")  # fmt: skip
    return text


def product_view(p: dict) -> dict:
    return {
        **p, "price_display": money(p["price"]), "vat_display": rate(p["vat_rate"]),
        "state": "active" if p["active"] else "inactive",
        "cost_display": money(p["cost"]) if p.get("cost") is not None else "",
        "margin_display": money(p["margin"]) if p.get("margin") is not None else "",
    }  # fmt: skip


def _when(at: datetime) -> datetime | date:
    """An order's moment as shown: its day alone when it is local midnight to the second,
    as an order given only a date is (a shop export's or `--at 3.11.2026`): "00:00" would
    be a time nobody gave."""
    from crmcli.values import local_tz

    local = at.astimezone(local_tz())
    return local.date() if local.time() == time(0) else at


def order_view(o: dict) -> dict:
    cur = o.get("currency", "EUR")
    view = {**o, "net_display": money(o["net"], cur), "gross_display": money(o["gross"], cur),
            "when_display": _when(o["ordered_at"])}  # fmt: skip
    if "vat" in o:
        view["vat_display"] = money(o["vat"], cur)
    if o.get("discount"):
        view["discount_display"] = rate(o["discount"])
        if "lines" in o:  # the card: how much it took off the goods, so Net adds up
            taken = sum(ln["discount"] for ln in o["lines"])
            view["discount_display"] += f" (-{money(taken, cur)} of {money(o['net'] + taken, cur)})"
    if "margin" in o:
        from crmcli.values import plural

        uncosted = o["uncosted_lines"]
        known = o["goods_cost"] is not None
        view["goods_cost_display"] = (money(o["goods_cost"], cur) if known else "unknown") + (
            f" ({plural(uncosted, 'line')} without a purchase price)"
            if uncosted else ""
        )  # fmt: skip
        view["cost_display"] = money(o["cost"], cur) if o["cost"] else ""
        view["margin_display"] = margin_text(
            o["margin"], uncosted, o.get("goods_lines", len(o.get("lines", ()))), cur
        )
    return view


def print_product(card: dict, fmt: Format) -> None:
    render_record(
        card, PRODUCT_FIELDS, fmt, title=card["name"], display_record=product_view(card),
        record_fields=PRODUCT_KEYS,
    )  # fmt: skip


def print_order(card: dict, fmt: Format) -> None:
    """The order card: fields, its lines and its VAT per rate (what an invoice shows); as
    CSV a row per line with the order's fields repeated (see ORDER_LINE_CSV_KEYS)."""
    if fmt is Format.csv:
        order = {key: card[key] for key in ORDER_CSV_KEYS}
        rows = [{**order, **{f"line_{k}": v for k, v in line.items()}} for line in card["lines"]]
        render_rows(rows or [order], (), fmt, fields=ORDER_LINE_CSV_KEYS)
        return
    cur = card["currency"]
    lines = [
        {**ln, "qty_display": f"{ln['qty']} {ln['unit'] or ''}".strip(),
         "price_display": money(ln["unit_price"], cur), "vat_display": rate(ln["vat_rate"]),
         "discount_display": money(-ln["discount"], cur) if ln["discount"] else "",
         "net_display": money(ln["net"], cur), "gross_display": money(ln["gross"], cur)}
        for ln in card["lines"]
    ]  # fmt: skip
    rates = [
        {"vat_display": rate(r["vat_rate"]), "net_display": money(r["net"], cur),
         "tax_display": money(r["vat"], cur), "gross_display": money(r["gross"], cur)}
        for r in card["vat_by_rate"]
    ]  # fmt: skip
    sections = [Section("Lines", lines, LINE_COLUMNS), Section("VAT", rates, RATE_COLUMNS)]
    if card.get("activities"):
        from crmcli.commands.cards import TIMELINE_COLUMNS, activity_view

        issues = [activity_view(a) for a in card["activities"]]
        sections.append(Section("About this order", issues, TIMELINE_COLUMNS))
    render_record(
        card, ORDER_FIELDS, fmt, title=f"Order #{card['id']}", sections=sections,
        display_record=order_view(card), record_fields=ORDER_CARD_KEYS,
    )  # fmt: skip


def orders_section(card: dict) -> list[Section]:
    """A contact card's orders, newest first."""
    if not card.get("orders"):
        return []
    columns = tuple(col for col in ORDER_COLUMNS if col.key != "contact")
    return [Section("Orders", [order_view(o) for o in card["orders"]], columns)]


def with_orders(rows: list[dict], orders: list[dict], *, complete: bool) -> list[dict]:
    """A card's timeline rows (newest first) with its orders among them as entries of kind
    "order": every order when the whole timeline is shown, else those no older than its
    oldest entry shown (older ones would sit where the cut-off timeline has a gap)."""
    from crmcli.values import plural

    oldest = rows[-1]["occurred_at"] if rows and not complete else None
    entries = [
        {"id": o["id"], "occurred_at": o["ordered_at"], "kind": "order", "direction": None,
         "summary": f"Order #{o['id']}: {plural(o['items'], 'item')}, "
         f"{money(o['gross'], o['currency'])} "
         f"gross" + (f" ({o['channel']})" if o["channel"] else ""), "status": o["status"]}
        for o in orders
        if oldest is None or o["ordered_at"] >= oldest
    ]  # fmt: skip
    return sorted([*rows, *entries], key=lambda r: r["occurred_at"], reverse=True)


def profile_line(profile: dict) -> str:
    """A card's line on what the customer buys: the top categories with their share of the
    money spent, the middle half of their unit prices and median, the channel most orders
    came through; "" without purchases."""
    from crmcli.output import percent

    if not profile["categories"]:
        return ""
    tops = [f"{c['category'] or 'other'} {percent(c['share'], 0)}" for c in profile["categories"]]
    p = profile["price_range"]
    parts = [
        ", ".join(tops[:2]),
        f"{money(p['q1'])} to {money(p['q3'])} a unit (median {money(p['median'])})",
    ]
    channel = next((c["name"] for c in profile["channels"] if c["name"]), None)
    if channel:
        parts.append(f"mostly via {channel}")
    return "; ".join(parts)


def describe(card: dict) -> str:
    who = f" for {card['contact']}" if card["contact"] else ""
    return f"order #{card['id']}{who} ({money(card['gross'], card['currency'])} gross)"


# ------------------------------------------------------------------ commands

PriceOpt = Annotated[str | None, typer.Option("--price", help="Net unit price: 12,50 or 12.50.")]
VatOpt = Annotated[
    str | None, typer.Option("--vat", metavar="RATE", help="VAT rate: 19 (default), 7, 0, 5,5 %.")
]
CategoryOpt = Annotated[
    str | None, typer.Option("--category", help="Product category (segment), e.g. Kaffee.")
]
UnitOpt = Annotated[
    str | None,
    typer.Option(
        "--unit", help="Unit: Stück (default), h, kg, 15 min, 100 g; ordered in whole units."
    ),
]
ProductCostOpt = Annotated[
    str | None, typer.Option("--cost", help="Net purchase price: 4,20 (for the margin).")
]
OrderCostOpt = Annotated[
    str | None,
    typer.Option("--cost", help="What it cost besides its goods (shipping, fees): 4,90 net."),
]


def add_product(
    sku: Annotated[str, typer.Argument(help="Stock keeping unit, unique, e.g. KAF-500.")],
    name: Annotated[str, typer.Argument(help="Product name, e.g. 'Kaffee 500 g'.")],
    price: PriceOpt = None,
    vat: VatOpt = None,
    category: CategoryOpt = None,
    unit: UnitOpt = None,
    cost: ProductCostOpt = None,
    inactive: Annotated[
        bool, typer.Option("--inactive", help="Listed, but cannot be ordered.")
    ] = False,
    output: c.ResultOpt = None,
) -> None:
    """Add a product to the catalogue: SKU, name and net price (VAT 19 % unless --vat).

    Example:

    \b
    crm add product KAF-500 "Kaffee 500 g" --price 8,90 --vat 7 \\
        --category Kaffee --cost 4,20
    """
    from crmcli.errors import Invalid
    from crmcli.values import parse_money_cents, parse_percent_bp

    if price is None:
        raise Invalid("price", "a product needs a net price (--price 8,90)")
    cents = parse_money_cents(price, field="price")
    vat_bp = parse_percent_bp(vat, field="vat") if vat is not None else 1900
    cost_cents = parse_money_cents(cost, field="cost") if cost is not None else None
    c.db()
    from crmcli.services import products

    card = products.add_product(
        sku, name, price_cents=cents, vat_bp=vat_bp, category=category,
        unit=unit if unit is not None else "Stück", active=not inactive, cost_cents=cost_cents,
        now=c.now(),
    )  # fmt: skip
    c.done(f"Added product #{card['id']} {card['sku']} {card['name']}.")
    if output is not None:
        print_product(card, output)


ItemOpt = Annotated[
    list[str],
    typer.Option(
        "--item", metavar="SKU:QTY[:PRICE]",
        help="A line: SKU, quantity and optionally a net unit price; repeatable.",
    ),
]  # fmt: skip
StatusOpt = Annotated[
    str,
    typer.Option("--status", "-s", help="open, paid, shipped, cancelled, returned or abandoned."),
]
DiscountOpt = Annotated[
    str | None, typer.Option("--discount", metavar="PERCENT", help="On every line: 10%, 2,5.")
]
ChannelOpt = Annotated[
    str | None, typer.Option("--channel", help="Where it was ordered: shop, phone, store...")
]
CampaignOpt = Annotated[
    str | None,
    typer.Option("--campaign", help="The campaign that brought it (name, id or part)."),
]


def add_order(
    contact: Annotated[str, typer.Argument(help="Who ordered (REF: id, email or name).")],
    item: ItemOpt,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="WHEN", help="When it was ordered (default: now)."),
    ] = None,
    status: StatusOpt = "open",
    discount: DiscountOpt = None,
    channel: ChannelOpt = None,
    campaign: CampaignOpt = None,
    keyword: c.KeywordOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    external_id: Annotated[
        str | None,
        typer.Option("--external-id", help="The shop's order number (recorded once)."),
    ] = None,
    cost: OrderCostOpt = None,
    output: c.ResultOpt = None,
) -> None:
    """Record an order with its lines, priced as German invoices are (VAT per line, rounded
    half up, summed per rate). Status abandoned records a cart left behind: interest, no
    revenue. Without --campaign it carries the campaign and keyword of its contact.

    Examples:

    \b
    crm add order müller --item KAF-500:2 --item MUEHLE:1:39,90 \\
        --discount 10% --channel shop --status paid
    crm add order 12 --item GUTSCHEIN:1 --at 1.11.2026 --campaign Herbst
    """
    from crmcli.services.orders import parse_item
    from crmcli.values import parse_money_cents, parse_percent_bp

    items = [parse_item(text) for text in item]
    discount_bp = parse_percent_bp(discount, field="discount") if discount is not None else 0
    ordered_at = c.when(at, "at", prefer="past")
    cost_cents = parse_money_cents(cost, field="cost") if cost is not None else 0
    c.db()
    from crmcli.commands.campaigns import keyword_news
    from crmcli.services import contacts, orders

    news = keyword_news(campaign, keyword)
    card = orders.add_order(
        contacts.resolve_contact(contact), items, ordered_at=ordered_at, status=status,
        discount_bp=discount_bp, channel=channel, campaign=campaign, keyword=keyword, note=note,
        external_id=external_id, cost_cents=cost_cents, now=c.now(),
    )  # fmt: skip
    c.done(f"Added {describe(card)}.")
    if news:
        c.done(news)
    if output is not None:
        print_order(card, output)


def list_products(
    category: Annotated[str | None, typer.Option("--category", help="In this category.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Inactive products too.")] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="sku, name, category, price or id; -KEY reverses.")
    ] = "sku",
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List the catalogue: active products (--all: inactive ones too).

    Example:

    \b
    crm list products --category Kaffee --sort -price
    """
    c.db()
    from crmcli.services import products

    rows = products.list_products(category=category, active=None if all_ else True, sort=sort)
    render_rows(
        rows if output in c.STREAMED else [product_view(r) for r in rows], PRODUCT_COLUMNS,
        output, fields=PRODUCT_KEYS,
        empty="No products match.",
    )  # fmt: skip


def list_orders(
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="Of this contact (REF).")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", "-s", help="In this status.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="From this channel.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="On or after (-30d, 1.1.2026).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="WHEN", help="Up to this day, included.")
    ] = None,
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List orders, newest first, with their net and gross totals.

    Examples:

    \b
    crm list orders --contact müller
    crm list orders --status abandoned --since -30d -o csv
    """
    start, end = c.period(since, until)
    c.db()
    from crmcli.services import contacts, orders

    rows = orders.iter_orders(
        contact_id=contacts.resolve_contact(contact) if contact else None, status=status,
        channel=channel, since=start, until=end, limit=c.page_limit(limit, output),
        offset=offset,
    )  # fmt: skip
    render_rows(
        rows if output in c.STREAMED else [order_view(r) for r in rows], ORDER_COLUMNS,
        output, fields=ORDER_KEYS,
        empty="No orders match.",
    )  # fmt: skip
