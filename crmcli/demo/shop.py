"""The demo's shop: a catalogue of a few dozen products in five categories, and two years of
orders of its customers: repeat buyers, one-off buyers and lapsed ones, with more orders
before Christmas, a few cancelled or returned, and carts left behind (status abandoned).
Lines are priced by services.orders.price_lines, the rules every order follows."""

from __future__ import annotations

import math
from datetime import timedelta

from crmcli.demo import writer
from crmcli.demo.state import HISTORY_DAYS, Demo
from crmcli.models import OrderLine, Product, SalesOrder
from crmcli.services.orders import price_lines

# (SKU, name, category, net cents, VAT basis points, unit)
CATALOGUE = (
    ("KAF-HAUS-500", "Hausmischung 500 g", "Kaffee", 890, 700, "Packung"),
    ("KAF-ESPR-500", "Espresso Classico 500 g", "Kaffee", 1090, 700, "Packung"),
    ("KAF-ENTK-250", "Entkoffeiniert 250 g", "Kaffee", 690, 700, "Packung"),
    ("KAF-ARAB-1000", "Arabica Hochland 1 kg", "Kaffee", 1990, 700, "Packung"),
    ("KAF-BIO-500", "Bio Fairtrade 500 g", "Kaffee", 1190, 700, "Packung"),
    ("KAF-KAPS-20", "Kapseln Lungo, 20 Stück", "Kaffee", 520, 700, "Schachtel"),
    ("KAF-ABO-M", "Kaffee-Abo monatlich", "Kaffee", 2490, 700, "Monat"),
    ("TEE-ASSAM-100", "Assam 100 g", "Tee", 590, 700, "Dose"),
    ("TEE-DARJ-100", "Darjeeling First Flush 100 g", "Tee", 990, 700, "Dose"),
    ("TEE-GRUEN-100", "Sencha 100 g", "Tee", 790, 700, "Dose"),
    ("TEE-ROOI-250", "Rooibos Vanille 250 g", "Tee", 650, 700, "Beutel"),
    ("TEE-KRAEU-50", "Kräutertee, 50 Beutel", "Tee", 450, 700, "Schachtel"),
    ("GER-MUEHLE", "Kaffeemühle Kegelmahlwerk", "Geräte", 8990, 1900, "Stück"),
    ("GER-FRENCH", "French Press 1 l", "Geräte", 2990, 1900, "Stück"),
    ("GER-KESSEL", "Wasserkocher mit Temperaturwahl", "Geräte", 5990, 1900, "Stück"),
    ("GER-SIEB", "Siebträgermaschine Einkreiser", "Geräte", 49900, 1900, "Stück"),
    ("GER-MILCH", "Milchaufschäumer", "Geräte", 3990, 1900, "Stück"),
    ("ZUB-TASSE", "Espressotasse Porzellan", "Zubehör", 790, 1900, "Stück"),
    ("ZUB-BECHER", "Thermobecher 0,4 l", "Zubehör", 1990, 1900, "Stück"),
    ("ZUB-FILTER", "Papierfilter Gr. 4, 100 Stück", "Zubehör", 290, 1900, "Packung"),
    ("ZUB-DOSE", "Aromadose 500 g", "Zubehör", 1490, 1900, "Stück"),
    ("ZUB-ENTKALK", "Entkalker 500 ml", "Zubehör", 890, 1900, "Flasche"),
    ("ZUB-WAAGE", "Kaffeewaage mit Timer", "Zubehör", 2490, 1900, "Stück"),
    ("GUT-25", "Gutschein 25 €", "Gutscheine", 2500, 0, "Stück"),
    ("GUT-50", "Gutschein 50 €", "Gutscheine", 5000, 0, "Stück"),
    ("GUT-100", "Gutschein 100 €", "Gutscheine", 10000, 0, "Stück"),
)
CATEGORIES = ("Kaffee", "Tee", "Geräte", "Zubehör", "Gutscheine")
# Orders a month, relative: more in November and December (gifts), fewer in summer.
SEASON = (0.9, 0.8, 0.9, 0.9, 0.9, 0.8, 0.7, 0.7, 0.9, 1.0, 1.4, 1.8)
CHANNELS = (("shop", 0.6), ("phone", 0.15), ("store", 0.2), ("marketplace", 0.05))
CAMPAIGNS = ("Newsletter Herbst", "Weihnachten", "Frühjahrsaktion", "Gutschein-Mail")
MAX_BUYERS = 5_000  # keeps a big demo quick; the bench makes its own orders
_ORDER_COLUMNS = (
    "contact", "ordered_at", "status", "channel", "discount_bp", "currency",
    "net_cents", "vat_cents", "gross_cents", "created_at", "updated_at", "cost_cents",
)  # fmt: skip
_LINE_COLUMNS = (
    "order", "position", "product", "name", "qty", "unit_price_cents", "vat_bp",
    "discount_cents", "net_cents", "vat_cents", "gross_cents", "cost_cents",
)  # fmt: skip
SHIPPING_CENTS = 390  # what a parcel costs the shop (net): the cost of a shop order


def _cost(category: str, cents: int) -> int | None:
    """The purchase price: about 55 % of the net price; a voucher has none (it is money)."""
    return None if category == "Gutscheine" else cents * 55 // 100


def products(d: Demo) -> int:
    """The catalogue; a few products are no longer sold."""
    rows = [
        {"sku": sku, "sku_key": sku.upper(), "name": name, "category": category,
         "price_cents": cents, "vat_bp": vat, "unit": unit, "cost_cents": _cost(category, cents),
         "active": sku not in ("KAF-ENTK-250", "GER-KESSEL"),
         "created_at": d.now - timedelta(days=HISTORY_DAYS + 30), "updated_at": d.now}
        for sku, name, category, cents, vat, unit in CATALOGUE
    ]  # fmt: skip
    columns = list(rows[0])
    d.product_ids = writer.insert(Product, columns, rows)
    return len(rows)


def _buyer_kind(rng, status: str) -> str | None:
    """repeat, once or lapsed, or None (never bought), by the contact's status."""
    chance = {"customer": 0.95, "inactive": 0.8, "prospect": 0.15, "lead": 0.05}[status]
    if rng.random() >= chance:
        return None
    if status == "inactive":
        return "lapsed"
    return rng.choices(("repeat", "once", "lapsed"), (0.45, 0.35, 0.2))[0]


def orders(d: Demo) -> int:
    """Two years of orders of the demo's customers; returns how many orders (lines follow)."""
    rng, now = d.rng, d.now
    ids = d.product_ids
    if not ids or not d.contact_ids:
        d.order_lines = 0
        return 0
    by_category: dict[str, list[int]] = {c: [] for c in CATEGORIES}
    for index, item in enumerate(CATALOGUE):
        if item[0] not in ("KAF-ENTK-250", "GER-KESSEL"):
            by_category[item[2]].append(index)
    channels, channel_w = zip(*CHANNELS, strict=True)
    plans = []  # (contact id, moments)
    for index, person in enumerate(d.contacts):
        if len(plans) >= MAX_BUYERS:
            break
        kind = _buyer_kind(rng, person["status"])
        if kind is None:
            continue
        first = d.moment()
        while rng.random() >= SEASON[first.month - 1] / 1.8:  # first orders have seasons too
            first = d.moment()
        moments = [first]
        if kind != "once":
            gap = rng.uniform(20, 90)  # this customer's mean days between orders
            end = now if kind == "repeat" else first + timedelta(days=rng.uniform(60, 300))
            at = first
            while True:
                at += timedelta(days=-gap * math.log(1 - rng.random()), seconds=rng.randrange(3600))
                if at > min(end, now):
                    break
                if rng.random() < SEASON[at.month - 1] / 1.8:  # thinning: the season
                    moments.append(at)
        plans.append((d.contact_ids[index], moments, rng.choice(CATEGORIES[:3])))
    order_rows, line_sets = [], []
    for contact_id, moments, favourite in plans:
        for at in moments:
            status = rng.choices(
                ("shipped", "paid", "open", "cancelled", "returned", "abandoned"),
                (0.7, 0.1, 0.03, 0.03, 0.04, 0.1),
            )[0]
            if status == "open" and at < now - timedelta(days=14):
                status = "shipped"  # only recent orders are still open
            lines = []
            for position in range(rng.choice((1, 1, 1, 2, 2, 3))):
                category = favourite if rng.random() < 0.6 else rng.choice(CATEGORIES)
                item = CATALOGUE[rng.choice(by_category[category])]
                lines.append({
                    "position": position, "product": ids[CATALOGUE.index(item)],
                    "name": item[1], "qty": rng.choice((1, 1, 1, 2, 2, 3, 6)),
                    "unit_price_cents": item[3], "vat_bp": item[4],
                })  # fmt: skip
                cost = _cost(item[2], item[3])
                lines[-1]["cost_cents"] = None if cost is None else cost * lines[-1]["qty"]
            discount = 1000 if rng.random() < 0.12 else 0
            priced, _ = price_lines(lines, discount)
            channel = rng.choices(channels, channel_w)[0]
            order_rows.append({
                "contact": contact_id, "ordered_at": at, "status": status, "channel": channel,
                "cost_cents": SHIPPING_CENTS if channel in ("shop", "marketplace") else 0,
                # named here, linked by demo.campaigns (made after the orders)
                "campaign": rng.choice(CAMPAIGNS) if discount else None,
                "discount_bp": discount, "currency": "EUR",
                "net_cents": sum(p["net_cents"] for p in priced),
                "vat_cents": sum(p["vat_cents"] for p in priced),
                "gross_cents": sum(p["gross_cents"] for p in priced),
                "created_at": at, "updated_at": at,
            })  # fmt: skip
            line_sets.append(priced)
    if not order_rows:
        d.order_lines = 0
        return 0
    order_ids = writer.insert(SalesOrder, _ORDER_COLUMNS, order_rows)
    d.order_campaigns = [(i, r["campaign"]) for i, r in zip(order_ids, order_rows, strict=True)]
    fields = [OrderLine._meta.fields[c] for c in _LINE_COLUMNS]
    rows = (
        [order_id, *(line[c] for c in _LINE_COLUMNS[1:])]
        for order_id, lines in zip(order_ids, line_sets, strict=True)
        for line in lines
    )
    d.order_lines = writer.bulk(OrderLine, fields, rows)
    return len(order_rows)
