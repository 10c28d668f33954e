"""Orders: what a contact bought, line by line, priced the way German invoices are.

Per line: net = quantity × unit net price − the line's share of the order's discount (the
percentage of the line's goods value, rounded half up to the cent); VAT = net × rate,
rounded half up to the cent. The order's VAT per rate is the sum of its lines' VAT at that
rate; its totals are the sums of its lines. An order is written with its lines in one
transaction, and its totals are stored with it so reports read one row per order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from peewee import JOIN, fn

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import (
    ORDER_STATUSES,
    PURCHASE_STATUSES,
    Campaign,
    CampaignKeyword,
    Contact,
    OrderLine,
    OrderStatusChange,
    Product,
    SalesOrder,
    database_proxy,
    utcnow,
)
from crmcli.services import campaigns, limits
from crmcli.values import cents_money, half_up, parse_money_cents

MAX_QTY = 1_000_000
MAX_DISCOUNT_BP = 10_000
TEXT_FIELDS = ("channel", "note", "external_id")
EDITABLE = ("status", "ordered_at", "channel", "campaign", "keyword", "note", "cost_cents")


class Item(NamedTuple):
    """An order line as given: a SKU, a quantity, and a net unit price (None: the product's)."""

    sku: str
    qty: int
    price_cents: int | None = None


# The line an order's shipping charge is invoiced on: no product, this name (import_orders
# writes it). Revenue of its order, but no product: product statistics leave it out.
SHIPPING_NAME = "Versand"
NOT_SHIPPING = OrderLine.product.is_null(False) | (OrderLine.name != SHIPPING_NAME)

# What a line's goods cost to buy (needs Product joined): as recorded when it was ordered,
# else the product's purchase price now (a cost given later applies to the past too), else
# NULL (not known: counted as 0 and reported as uncosted).
LINE_COST = fn.COALESCE(OrderLine.cost_cents, OrderLine.qty * Product.cost_cents)


def parse_item(text: str) -> Item:
    """`SKU:QTY[:PRICE]` (`KAF-500:2`, `KAF-500:2:8,50`) as an Item."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not parts[0].strip():
        raise Invalid("item", f"'{text}' is not SKU:QTY or SKU:QTY:PRICE (e.g. KAF-500:2)")
    qty_text = parts[1].strip()
    if not qty_text.lstrip("-+").isdigit():
        raise Invalid("item", f"'{text}': the quantity '{qty_text}' is not a whole number "
                              "(quantities are whole units: for part of an hour or a kilo give "
                              "the product a smaller unit, such as 15 min or 100 g)")  # fmt: skip
    qty = int(qty_text)
    if qty <= 0:
        raise Invalid("item", f"'{text}': the quantity must be 1 or more")
    if qty > MAX_QTY:
        raise Invalid("item", f"'{text}': the quantity is more than {MAX_QTY:,}")
    price = parse_money_cents(parts[2], field="item") if len(parts) == 3 else None
    if price is not None and price < 0:
        raise Invalid("item", f"'{text}': a net price is 0 or more")
    return Item(parts[0].strip(), qty, price)


def price_lines(lines: Sequence[dict], discount_bp: int) -> tuple[list[dict], list[dict]]:
    """Each line (qty, unit_price_cents, vat_bp) with its discount_cents, net_cents,
    vat_cents and gross_cents; and the VAT per rate (vat_bp, net, vat, gross in cents),
    highest rate first. Pure: the invoice rules in one place."""
    priced: list[dict] = []
    rates: dict[int, list[int]] = {}
    for line in lines:
        goods = line["qty"] * line["unit_price_cents"]
        discount = half_up(goods * discount_bp, 10_000)
        net = goods - discount
        vat = half_up(net * line["vat_bp"], 10_000)
        priced.append(
            {**line, "discount_cents": discount, "net_cents": net, "vat_cents": vat,
             "gross_cents": net + vat}
        )  # fmt: skip
        rate = rates.setdefault(line["vat_bp"], [0, 0])
        rate[0] += net
        rate[1] += vat
    per_rate = [
        {"vat_bp": bp, "net_cents": n, "vat_cents": v, "gross_cents": n + v}
        for bp, (n, v) in sorted(rates.items(), reverse=True)
    ]
    return priced, per_rate


def _text(field: str, value: str | None) -> str | None:
    text = (value or "").strip() or None
    return limits.check(field, text)


def _status(value: str) -> str:
    status = value.strip().lower()
    if status not in ORDER_STATUSES:
        raise Invalid("status", f"'{value}' is not one of {', '.join(ORDER_STATUSES)}")
    return status


def add_order(
    contact_id: int,
    items: Sequence[Item],
    *,
    ordered_at: datetime | None = None,
    status: str = "open",
    discount_bp: int = 0,
    channel: str | None = None,
    campaign: str | None = None,
    keyword: str | None = None,
    note: str | None = None,
    external_id: str | None = None,
    cost_cents: int = 0,
    now: datetime | None = None,
) -> dict:
    """Record an order of a contact with its lines, in one transaction; every SKU must name
    an active product. `campaign` (a REF) and `keyword`: what brought it; without them the
    order takes its contact's (services.campaigns). `cost_cents`: what the order cost besides
    its goods (shipping...); each line keeps its goods' purchase cost as the product has it
    now. Returns the order's card."""
    now = now or utcnow()
    if not items:
        raise Invalid("item", "an order needs at least one item (SKU:QTY)")
    check_cost(cost_cents)
    if not 0 <= discount_bp <= MAX_DISCOUNT_BP:
        raise Invalid("discount", "a discount is from 0 to 100 %")
    row: dict = {
        "status": _status(status), "discount_bp": discount_bp,
        **{f: _text(f, v) for f, v in zip(
            TEXT_FIELDS, (channel, note, external_id), strict=True)},
    }  # fmt: skip
    if row["channel"]:
        row["channel"] = row["channel"].lower()
    from crmcli.services.products import products_by_sku, sku_key

    with database_proxy.atomic():
        if not Contact.select().where(Contact.id == contact_id).exists():
            raise NotFound(f"no contact with id {contact_id}")
        row["campaign"], row["keyword"] = campaigns.attribution_for(
            contact_id, campaign, keyword, now=now
        )
        products = products_by_sku(i.sku for i in items)
        unknown = [i.sku for i in items if sku_key(i.sku) not in products]
        if unknown:
            raise NotFound(f"no product with SKU {', '.join(repr(s) for s in unknown)}")
        inactive = [i.sku for i in items if not products[sku_key(i.sku)]["active"]]
        if inactive:
            raise Invalid("item", f"{', '.join(inactive)} is not active (cannot be ordered)")
        if row["external_id"] and (
            SalesOrder.select().where(SalesOrder.external_id == row["external_id"]).exists()
        ):
            raise Conflict(f"an order with external id '{row['external_id']}' exists already")
        lines = []
        for position, item in enumerate(items):
            product = products[sku_key(item.sku)]
            price = item.price_cents
            lines.append({
                "position": position, "product": product["id"], "name": product["name"],
                "qty": item.qty, "vat_bp": product["vat_bp"],
                "unit_price_cents": price if price is not None else int(product["price"] * 100),
                "cost_cents": line_cost(product, item.qty),
            })  # fmt: skip
        priced, _ = price_lines(lines, discount_bp)
        order_id = insert_order(
            contact_id, priced, ordered_at=ordered_at or now, now=now, cost_cents=cost_cents,
            **row,
        )  # fmt: skip
        settle_customer_status([contact_id], now=now)
    return order_card(order_id)


def settle_customer_status(contact_ids, *, now: datetime, lapse: bool = False) -> None:
    """A customer is a contact with at least one order that counts as a purchase (open, paid,
    shipped: not cancelled, returned or abandoned) or a won deal. A lead or prospect who has
    one becomes a customer. `lapse` (an order's status changed): a customer left with orders
    but neither becomes a prospect (they ordered, and took it back). An inactive contact, and
    a customer whose status no order took away (set by hand), keep theirs. Called wherever an
    order is added or imported or its status changes."""
    from crmcli.models import Deal, Stage

    ids = sorted(set(contact_ids) - {None})
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        buying = set(
            SalesOrder.select(SalesOrder.contact)
            .where(SalesOrder.contact.in_(part) & SalesOrder.status.in_(PURCHASE_STATUSES))
            .distinct().scalars()
        ) | set(
            Deal.select(Deal.contact).join(Stage, on=(Deal.stage == Stage.id))
            .where(Deal.contact.in_(part) & Stage.is_won).distinct().scalars()
        )  # fmt: skip
        ordered = set(
            SalesOrder.select(SalesOrder.contact).where(SalesOrder.contact.in_(part))
            .distinct().scalars()
        )  # fmt: skip
        if buying:
            Contact.update(status="customer", updated_at=now).where(
                Contact.id.in_(sorted(buying)) & Contact.status.in_(("lead", "prospect"))
            ).execute()
        if lapse and (lapsed := sorted(ordered - buying)):
            Contact.update(status="prospect", updated_at=now).where(
                Contact.id.in_(lapsed) & (Contact.status == "customer")
            ).execute()


def check_cost(cents: int | None) -> None:
    if cents is not None and cents < 0:
        raise Invalid("cost", "a cost is 0 or more")


def line_cost(product: dict, qty: int) -> int | None:
    """What a line's goods cost to buy: the quantity at the product's purchase price."""
    cost = product.get("cost")
    return None if cost is None else int(cost * 100) * qty


def insert_order(
    contact_id: int, priced: Sequence[dict], *, ordered_at: datetime, now: datetime, **row
) -> int:
    """Store an order and its priced lines (see price_lines) with their sums as its totals;
    the caller has checked them and holds the transaction. Returns the order's id."""
    order_id = SalesOrder.insert(
        contact=contact_id, ordered_at=ordered_at, created_at=now, updated_at=now,
        net_cents=sum(p["net_cents"] for p in priced),
        vat_cents=sum(p["vat_cents"] for p in priced),
        gross_cents=sum(p["gross_cents"] for p in priced), **row,
    ).execute()  # fmt: skip
    OrderLine.insert_many([{**p, "order": order_id} for p in priced]).execute()
    return order_id


def price_gross_line(line: dict, gross_cents: int) -> dict:
    """A line whose price is known gross (what a shop's customer paid for it): its net is
    taken out of the gross (gross × 100 / (100 + rate), rounded half up to the cent) and its
    VAT is the rest, so net + VAT is what was paid to the cent."""
    divisor = 10_000 + line["vat_bp"]
    net = half_up(gross_cents * 10_000, divisor)
    unit = half_up(gross_cents * 10_000, divisor * line["qty"])
    return {**line, "unit_price_cents": unit, "discount_cents": 0, "net_cents": net,
            "vat_cents": gross_cents - net, "gross_cents": gross_cents}  # fmt: skip


def resolve_order(ref: str) -> int:
    """The id of the order REF names: its id (`12` or `#12`) or its external id."""
    text = ref.strip().removeprefix("#")
    found = None
    if text.isdigit():
        found = SalesOrder.select(SalesOrder.id).where(SalesOrder.id == int(text)).scalar()
    if found is None:
        found = SalesOrder.select(SalesOrder.id).where(SalesOrder.external_id == ref).scalar()
    if found is None:
        raise NotFound(f"no order with id or external id '{ref}'")
    return found


_money = cents_money  # integer cents as a Decimal amount


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def is_shipping(line: dict) -> bool:
    """Whether an order card's line is its shipping line (NOT_SHIPPING says it in SQL)."""
    return line["product_id"] is None and line["name"] == SHIPPING_NAME


_ITEMS = OrderLine.select(fn.COUNT(OrderLine.id)).where(
    OrderLine.order == SalesOrder.id
)  # a correlated count: one query for a whole list
_COLUMNS = (
    SalesOrder.id, SalesOrder.ordered_at, SalesOrder.contact, Contact.name, SalesOrder.status,
    SalesOrder.channel, Campaign.name, CampaignKeyword.keyword, SalesOrder.discount_bp,
    SalesOrder.currency,
    SalesOrder.net_cents, SalesOrder.vat_cents, SalesOrder.gross_cents, SalesOrder.note,
    SalesOrder.external_id, SalesOrder.created_at, SalesOrder.updated_at, SalesOrder.cost_cents,
)  # fmt: skip


def _select():
    return (
        SalesOrder.select(*_COLUMNS, _ITEMS.alias("items"))
        .join(Contact, JOIN.LEFT_OUTER, on=(SalesOrder.contact == Contact.id))
        .join_from(SalesOrder, Campaign, JOIN.LEFT_OUTER, on=(SalesOrder.campaign == Campaign.id))
        .join_from(
            SalesOrder, CampaignKeyword, JOIN.LEFT_OUTER,
            on=(SalesOrder.keyword == CampaignKeyword.id),
        )
    )  # fmt: skip


def _row(values: tuple) -> dict:
    (oid, at, contact_id, contact, status, channel, campaign, keyword, discount_bp, currency, net,
     vat, gross, note, external_id, created, updated, cost, items) = values  # fmt: skip
    return {
        "id": oid, "ordered_at": at, "contact_id": contact_id, "contact": contact,
        "status": status, "channel": channel, "campaign": campaign, "keyword": keyword,
        "discount": Decimal(discount_bp).scaleb(-2), "items": items, "net": _money(net),
        "vat": _money(vat), "gross": _money(gross), "currency": currency, "note": note,
        "external_id": external_id, "cost": _money(cost), "created_at": created,
        "updated_at": updated,
    }  # fmt: skip


def order_card(order_id: int) -> dict:
    """An order with its lines (in the order given) and its VAT per rate."""
    found = _select().where(SalesOrder.id == order_id).tuples().first()
    if found is None:
        raise NotFound(f"no order with id {order_id}")
    card = _row(found)
    rows = (
        OrderLine.select(
            OrderLine.position,
            OrderLine.product,
            Product.sku,
            OrderLine.name,
            OrderLine.qty,
            Product.unit,
            OrderLine.unit_price_cents,
            OrderLine.vat_bp,
            OrderLine.discount_cents,
            OrderLine.net_cents,
            OrderLine.vat_cents,
            OrderLine.gross_cents,
            LINE_COST,
        )
        .join(Product, JOIN.LEFT_OUTER, on=(OrderLine.product == Product.id))
        .where(OrderLine.order == order_id)
        .order_by(OrderLine.position)
        .tuples()
    )
    card["lines"], raw, costs = [], [], []
    for pos, pid, sku, name, qty, unit, price, vat_bp, disc, net, vat, gross, cost in rows:
        costs.append(cost)
        raw.append({"qty": qty, "unit_price_cents": price, "vat_bp": vat_bp, "net_cents": net})
        card["lines"].append({
            "position": pos + 1, "product_id": pid, "sku": sku, "name": name, "qty": qty,
            "unit": unit, "unit_price": _money(price), "vat_rate": Decimal(vat_bp).scaleb(-2),
            "discount": _money(disc), "net": _money(net), "vat": _money(vat),
            "gross": _money(gross), "cost": _money(cost),
        })  # fmt: skip
    rates: dict[int, list[int]] = {}
    for line in card["lines"]:
        bp = int(line["vat_rate"] * 100)
        rate = rates.setdefault(bp, [0, 0])
        rate[0] += int(line["net"] * 100)
        rate[1] += int(line["vat"] * 100)
    card["vat_by_rate"] = [
        {"vat_rate": Decimal(bp).scaleb(-2), "net": _money(n), "vat": _money(v),
         "gross": _money(n + v)}
        for bp, (n, v) in sorted(rates.items(), reverse=True)
    ]  # fmt: skip
    # cost and margin over the lines whose cost is known, as report value has them: a goods
    # line without a purchase price is left out, never counted as costing nothing
    from crmcli.services.value import known_cost, margin_cents

    goods = sum(c for c in costs if c is not None)
    uncosted = [
        ln for ln, c in zip(card["lines"], costs, strict=True) if c is None and not is_shipping(ln)
    ]
    goods_lines = sum(not is_shipping(ln) for ln in card["lines"])
    card["goods_cost"] = _money(known_cost(goods, len(uncosted), goods_lines))
    card["uncosted_lines"], card["goods_lines"] = len(uncosted), goods_lines
    card["margin"] = _money(margin_cents(
        _cents(card["net"]), goods + _cents(card["cost"]),
        sum(_cents(ln["net"]) for ln in uncosted), len(uncosted), card["goods_lines"],
    ))  # fmt: skip
    from crmcli.services.activities import activities_of_order

    card["activities"] = activities_of_order(order_id)
    return card


def iter_orders(
    *,
    contact_id: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """Orders, newest first, filtered by contact, status, channel and time."""
    query = _select()
    if contact_id is not None:
        query = query.where(SalesOrder.contact == contact_id)
    if status is not None:
        query = query.where(SalesOrder.status == _status(status))
    if channel is not None:
        query = query.where(SalesOrder.channel == channel.strip().lower())
    if since is not None:
        query = query.where(SalesOrder.ordered_at >= since)
    if until is not None:
        query = query.where(SalesOrder.ordered_at < until)
    query = query.order_by(SalesOrder.ordered_at.desc(), SalesOrder.id.desc())
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return [_row(r) for r in query.tuples()]


def _newest_of(contact, limit):
    return (
        _select()
        .where(SalesOrder.contact == contact)
        .order_by(SalesOrder.ordered_at.desc(), SalesOrder.id.desc())
        .limit(limit)
    )


def orders_of(contact_id: int, limit: int = 20) -> list[dict]:
    """A contact's newest orders, for the contact card: iter_orders(contact_id=, limit=)
    with its SQL built once (services.prepared; peewee took 0.35 ms to build it)."""
    from crmcli.services import prepared

    return [_row(r) for r in prepared.run("orders_of", _newest_of, contact_id, limit)]


def orders_of_query(contact_id: int, limit: int = 20) -> tuple:
    """orders_of's query as prepared.run takes it (name, build, args)."""
    return ("orders_of", _newest_of, (contact_id, limit))


def edit_order(order_id: int, changes: dict, *, now: datetime | None = None) -> dict:
    """Change an order's status, time, channel, campaign (and keyword), note or cost; its lines
    stay as priced. A keyword alone is one of the order's campaign ("" clears either)."""
    card = order_card(order_id)
    row: dict = {}
    if "campaign" in changes or "keyword" in changes:
        campaign = changes.get("campaign", card["campaign"])
        keyword = changes.get("keyword", None if "campaign" in changes else card["keyword"])
        row["campaign"], row["keyword"] = campaigns.attribution(campaign, keyword, now=now)
    for key, value in changes.items():
        if key in ("campaign", "keyword"):
            continue
        if key == "status":
            row["status"] = _status(value)
        elif key == "ordered_at":
            if value is None:
                raise Invalid("at", "an order has a time")
            row["ordered_at"] = value
        elif key == "cost_cents":
            check_cost(value)
            row[key] = value or 0
        elif key in ("channel", "note"):
            text = _text(key, value)
            row[key] = text.lower() if key == "channel" and text else text
        else:
            raise KeyError(key)
    if not row:
        raise Invalid(None, "nothing to change")
    now = now or utcnow()
    with database_proxy.atomic():
        SalesOrder.update(**row, updated_at=now).where(SalesOrder.id == order_id).execute()
        if row.get("status", card["status"]) != card["status"]:
            # dated, so a VAT period already filed stays as it was (services.vat)
            OrderStatusChange.insert(
                order=order_id, at=now, old_status=card["status"], new_status=row["status"]
            ).execute()
            settle_customer_status([card["contact_id"]], now=now, lapse=True)
    return order_card(order_id)
