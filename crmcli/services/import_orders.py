"""Importing a shop's orders (`crm import csv --kind orders`): Shopify's and WooCommerce's
order exports, or any table of orders, one transaction, idempotent.

The rules, as the CLI documents them:
- Rows are grouped by order number (the order's external id), as Shopify writes one row per
  line item and repeats the order number; the order-level cells (email, date, status) are
  taken from the order's first row that has them. An order number stored already leaves
  the order `unchanged`, so importing a file again adds nothing; but a status the shop
  changed since (completed, then refunded) is taken over as `crm edit order --status` does
  it (`updated`; with `--on-conflict skip`: `skipped`, the stored status stays). Orders
  are matched by their number only: `--on-conflict new` (a second order of one number)
  is refused.
- A line of quantity 0 (WooCommerce's "Quantity (- Refund)" of a line refunded in full) is
  left out with a warning; an order whose every line is 0 is not imported (`skipped`, with
  a warning): nothing of it was sold.
- The contact is the one with the order's email (any of a contact's emails); an email no
  contact has creates a contact with the row's name (or first and last name, else the
  email's local part), its billing phone, street, zip, city and country (a phone that is no
  phone number is left out, with a warning), and status customer when an order of theirs
  counts as a purchase, else prospect (an order cancelled, returned or abandoned); a lead or
  prospect matched by email becomes a customer with a purchase
  (orders.settle_customer_status).
- Amounts in the file are gross, what the customer paid, as German shops show them (with
  `prices="net"` line prices are net). A line's net is taken out of its gross per line,
  rounded half up to the cent, and its VAT is the rest; VAT is summed per rate.
- A line with a SKU is a line of that catalogue product (an inactive one too: these are
  past orders) at its VAT rate; without a price cell it costs the catalogue's net price.
  A SKU the catalogue does not know rejects the whole order (all its rows) with the reason.
- A `vat` cell unlike a SKU's product rate wins for that line (what the shop charged and
  declared), with a warning.
- A line without a SKU (or a file without a SKU column) is an ad-hoc line without product:
  its item name (else "Bestellung NUMBER"), its price, at the `vat` cell's rate or 19 %. An
  order of no lines at all is one such line over its amount.
- The order's discount (gross, as Shopify's Discount Amount) is shared over its lines in
  proportion to their value, so each line's net and VAT are what the shop's invoice shows.
  Shipping charged to the customer is revenue of the order: a "Versand" line which, as a
  German invoice's ancillary service, takes the VAT rate of the goods (split by their value
  over their rates). A Total or Taxes cell unlike the lines' sums is warned of.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import UTC, datetime
from decimal import Decimal

from crmcli.errors import CrmError, Invalid
from crmcli.models import SalesOrder, database_proxy, utcnow
from crmcli.services.imports import (
    BATCH,
    ImportResult,
    _chunks,
    all_or_nothing,
)
from crmcli.values import (
    fold,
    format_money,
    half_up,
    parse_email,
    parse_money_cents,
    parse_percent_bp,
    parse_when,
)

ORDER_FIELDS = (
    "email", "name", "first_name", "last_name", "order_number", "date", "amount", "sku",
    "qty", "price", "item", "status", "channel", "currency", "vat", "discount", "shipping",
    "taxes", "phone", "street", "zip", "city", "country",
)  # fmt: skip
# What a new customer takes from the order's first row that has it.
CUSTOMER_FIELDS = ("phone", "street", "zip", "city", "country")
# Headers as csvread folds them: Shopify's order export ("Billing Name", "Lineitem sku"; its
# "Name" is the order number, see assign_columns), WooCommerce's as the Advanced Order Export
# plugin writes it ("First Name (Billing)", "Quantity (- Refund)", "Item Cost"; its "Name" is
# the item's) and as the Customer/Order CSV Export writes it ("billing_first_name").
ORDER_HEADERS = {
    "email": ("email", "emailadresse", "emailaddress", "billingemail", "billingemailaddress",
              "customeremail", "kundenemail", "mail", "kontaktemail", "emailbilling"),
    "name": ("billingname", "customername", "customer", "kunde", "kundenname", "name",
             "fullname", "fullnamebilling", "billingfullname"),
    "first_name": ("billingfirstname", "firstname", "vorname", "customerfirstname",
                   "firstnamebilling"),
    "last_name": ("billinglastname", "lastname", "nachname", "customerlastname",
                  "lastnamebilling"),
    "phone": ("billingphone", "phonebilling", "phone", "telefon", "customerphone", "tel"),
    "street": ("billingstreet", "billingaddress1", "address12billing", "address1billing",
               "billingaddress", "street", "strasse", "adresse"),
    "zip": ("billingzip", "billingpostcode", "postcodebilling", "zipbilling", "zip", "plz",
            "postcode", "postleitzahl"),
    "city": ("billingcity", "citybilling", "city", "ort", "stadt"),
    "country": ("billingcountry", "countrycodebilling", "countrybilling", "billingcountrycode",
                "country", "land"),
    "order_number": ("ordernumber", "orderid", "order", "ordernr", "orderno", "bestellnummer",
                     "bestellnr", "bestellung", "auftragsnummer", "auftragsnr", "belegnummer"),
    "date": ("createdat", "orderdate", "date", "datum", "bestelldatum", "auftragsdatum",
             "orderdateandtime", "datetime"),
    "amount": ("total", "ordertotal", "ordertotalamount", "amount", "betrag", "summe",
               "gesamt", "gesamtbetrag", "brutto", "bruttobetrag", "totalgross"),
    "sku": ("lineitemsku", "sku", "itemsku", "productsku", "artikelnummer", "artnr",
            "artikelnr"),
    "qty": ("lineitemquantity", "quantity", "qty", "itemquantity", "menge", "anzahl",
            "quantityrefund"),
    "price": ("lineitemprice", "itemprice", "itemcost", "itemcostinctax", "unitprice", "price",
              "preis", "einzelpreis", "stuckpreis"),
    "item": ("lineitemname", "itemname", "productname", "produkt", "artikel",
             "artikelname", "bezeichnung"),
    "status": ("financialstatus", "orderstatus", "status", "zahlungsstatus"),
    "channel": ("channel", "kanal", "vertriebskanal"),
    "currency": ("currency", "wahrung", "ordercurrency"),
    "vat": ("vat", "vatrate", "taxrate", "mwst", "mwstsatz", "ustsatz", "steuersatz"),
    "discount": ("discountamount", "discount", "discounttotal", "rabatt", "rabattbetrag",
                 "ordertotaldiscount", "cartdiscount", "cartdiscountamount"),
    "shipping": ("shipping", "shippingamount", "shippingtotal", "ordershippingamount",
                 "versand", "versandkosten"),
    "taxes": ("taxes", "tax", "taxtotal", "taxamount", "ordertaxamount", "totaltax",
              "mwstbetrag", "steuer", "steuerbetrag", "ordertotaltaxamount"),
}  # fmt: skip
# Shopify's and WooCommerce's columns that change what was paid but that no order field
# holds: warned of.
SHOPIFY_MONEY = frozenset(("lineitemdiscount", "refundedamount", "duties",
                           "outstandingbalance", "orderrefundamount",
                           "orderlinetotalrefunded"))  # fmt: skip
# Shopify's financial status and WooCommerce's order status (and German words) as ours.
STATUSES = {
    "paid": "paid", "bezahlt": "paid", "partiallypaid": "paid", "authorized": "open",
    "pending": "open", "onhold": "open", "processing": "open", "open": "open", "offen": "open",
    "inbearbeitung": "open", "completed": "shipped", "fulfilled": "shipped",
    "shipped": "shipped", "versendet": "shipped", "versandt": "shipped",
    "abgeschlossen": "shipped", "refunded": "returned", "partiallyrefunded": "returned",
    "returned": "returned", "erstattet": "returned", "retoure": "returned",
    "zuruckgesendet": "returned", "voided": "cancelled", "cancelled": "cancelled",
    "canceled": "cancelled", "failed": "cancelled", "storniert": "cancelled",
    "abgebrochen": "cancelled", "abandoned": "abandoned", "checkoutdraft": "abandoned",
}  # fmt: skip
STANDARD_VAT_BP = 1900
PRICES = ("gross", "net")
# A stored order's number in the file: update its status, or skip it (a second order of
# one number, `new`, would count its revenue twice).
ORDER_CONFLICT = ("update", "skip")
_OFFSET = re.compile(r"^(.*\d)\s*([+-]\d\d:?\d\d|Z|UTC)$")


def assign_columns(csvfile, maps: dict) -> None:
    """The columns of an order export: --map first, then known headers. Shopify names its
    order number "Name" (and the customer "Billing Name"): in a file with Shopify's line
    item columns, "Name" is the order number, and the columns not read are not warned of."""
    from crmcli.services.csvread import Target, _key

    keys = [_key(h) for h in csvfile.header]
    shopify = any(k.startswith("lineitem") for k in keys) or "financialstatus" in keys
    # The Advanced Order Export plugin's layout: "Email (Billing)", "Item Cost"...
    woo = any(k.endswith("billing") for k in keys)
    targets: list = []
    for key in keys:
        if key in maps:
            targets.append(maps[key])
            continue
        if shopify and key == "name":
            found: str | None = "order_number"
        elif woo and key in ("name", "productname"):
            found = "item"
        elif woo and key == "item":  # "Item #": the line's number, not its name
            targets.append(Target("ignore"))
            continue
        else:
            found = next(
                (f for f in ORDER_FIELDS
                 if key in ORDER_HEADERS[f] or key == f.replace("_", "")),
                None,
            )  # fmt: skip
        if found is not None and any(t is not None and t.field == found for t in targets):
            found = None  # the first column of a field counts
        # Shopify's other seventy columns (addresses, payment) are known: silent, but for
        # the money ones, which would change the order's figures.
        quiet = (shopify or woo) and key not in SHOPIFY_MONEY
        targets.append(Target(found) if found else Target("ignore") if quiet else None)
    csvfile.targets = targets
    csvfile.unrecognised = [h for h, t in zip(csvfile.header, targets, strict=True) if t is None]


def _when(text: str, now: datetime) -> datetime:
    """An order's time: ISO with an offset as shops write it (`2026-11-03 14:22:10 +0100`),
    else any form parse_when reads (local time)."""
    found = _OFFSET.match(text.strip())
    at: datetime | None = None
    if found:
        zone = found[2].replace("UTC", "+00:00")
        with suppress(ValueError):  # not a real moment: parse_when says why below
            at = datetime.fromisoformat(f"{found[1]}{zone}").astimezone(UTC)
    if at is None:
        at = parse_when(text, now, field="date", prefer="past")
    if at > now:  # with an offset too: a future order would count in ROI, RFM, commissions
        raise Invalid("date", f"'{text}' is in the future")
    return at


def _status(text: str | None) -> str:
    if not text:
        return "paid"  # an exported order without a status was bought
    # WooCommerce writes its statuses as posts do: wc-completed, wc-on-hold.
    key = re.sub(r"[^a-z]", "", fold(text).strip().removeprefix("wc-"))
    if key not in STATUSES:
        raise Invalid("status", f"'{text}' is not an order status (paid, pending, "
                      "completed, refunded, cancelled, ...)")  # fmt: skip
    return STATUSES[key]


def _name(rec: dict, email: str) -> str:
    name = rec.get("name") or " ".join(
        p for p in (rec.get("first_name"), rec.get("last_name")) if p
    )
    return " ".join(name.split()) or email.partition("@")[0]


def _first(rows: list[tuple[str, dict]], field: str) -> str | None:
    return next((r[field] for _, r in rows if r.get(field)), None)


def _lines(
    number: str, rows: list[tuple[str, dict]], products: dict, prices: str
) -> tuple[list[dict], list[str]]:
    """The order's priced lines (see the module for the rules) and the warnings about them."""
    from crmcli.services.orders import MAX_QTY, line_cost, price_gross_line, price_lines
    from crmcli.services.products import sku_key

    out: list[dict] = []
    notes: list[str] = []
    for _, rec in rows:
        if not _is_line(rec):
            continue  # an order-level row
        qty_text = rec.get("qty") or "1"
        if _refunded(rec):
            # WooCommerce's "Quantity (- Refund)": a line refunded in full, not sold
            what = rec.get("item") or rec.get("sku") or "a line"
            notes.append(f"order {number}: '{what}' left out, its quantity is 0 (refunded)")
            continue
        if not qty_text.isdigit() or not 0 < int(qty_text) <= MAX_QTY:
            raise Invalid("quantity", f"'{qty_text}' is no quantity (a whole number, 1 or more)")
        qty = int(qty_text)
        price = parse_money_cents(rec["price"], field="price") if rec.get("price") else None
        if price is not None and price < 0:
            raise Invalid("price", f"'{rec['price']}': a price is 0 or more")
        vat = parse_percent_bp(rec["vat"], field="vat") if rec.get("vat") else None
        line: dict = {"position": len(out), "qty": qty}
        if rec.get("sku"):
            product = products.get(sku_key(rec["sku"]))
            if product is None:
                raise Invalid("sku", f"no product with SKU '{rec['sku']}' in the catalogue")
            line.update(product=product["id"], name=product["name"], vat_bp=product["vat_bp"],
                        cost_cents=line_cost(product, qty))  # fmt: skip
            if vat is not None and vat != product["vat_bp"]:
                # The file's rate is what the shop charged and declared: it wins.
                line["vat_bp"] = vat
                notes.append(
                    f"order {number}: {rec['sku']} imported at the file's VAT "
                    f"{_rate(vat)} (the catalogue says {_rate(product['vat_bp'])})"
                )
            if price is None:
                line["unit_price_cents"] = int(product["price"] * 100)
                out.append(price_lines([line], 0)[0][0])
                continue
        else:
            line.update(product=None, name=rec.get("item") or f"Bestellung {number}",
                        vat_bp=STANDARD_VAT_BP if vat is None else vat)  # fmt: skip
            if price is None:
                raise Invalid("price", "a line without SKU needs its price")
        if prices == "net":
            line["unit_price_cents"] = price
            out.append(price_lines([line], 0)[0][0])
        else:
            out.append(price_gross_line(line, price * qty))
    amount = _first(rows, "amount")
    if not out:
        if amount is None:
            raise Invalid("amount", "an order needs its amount or its lines")
        gross = parse_money_cents(amount, field="amount")
        if gross < 0:
            raise Invalid("amount", f"'{amount}': an order's amount is 0 or more")
        vat_text = _first(rows, "vat")
        rate = parse_percent_bp(vat_text, field="vat") if vat_text else STANDARD_VAT_BP
        line = {"position": 0, "qty": 1, "product": None, "name": f"Bestellung {number}",
                "vat_bp": rate}  # fmt: skip
        if prices == "net":
            line["unit_price_cents"] = gross
            return price_lines([line], 0)[0], notes
        return [price_gross_line(line, gross)], notes
    gross_file = prices == "gross"
    discount = _order_money(rows, "discount")
    if discount:
        out = _discounted(out, discount, gross_file)
    shipping = _order_money(rows, "shipping")
    if shipping:
        out += _shipping(out, shipping, gross_file)
    _check(number, out, amount, _first(rows, "taxes"), notes)
    return out, notes


def _is_line(rec: dict) -> bool:
    """A row with a line item (Shopify's rows all carry one, other exports' may not)."""
    return bool(rec.get("sku") or rec.get("item") or rec.get("price") or rec.get("qty"))


def _refunded(rec: dict) -> bool:
    """A line of quantity 0: in a shop's export (WooCommerce's quantity less refunds) a line
    refunded in full."""
    text = (rec.get("qty") or "").strip()
    return bool(text) and text.strip("0") == "" and _is_line(rec)


def _all_refunded(rows: list[tuple[str, dict]]) -> bool:
    """Every line of the order refunded in full: nothing of it was sold."""
    lines = [rec for _, rec in rows if _is_line(rec)]
    return bool(lines) and all(_refunded(rec) for rec in lines)


def _rate(bp: int) -> str:
    return f"{Decimal(bp).scaleb(-2).normalize():f} %".replace(".", ",")


def _order_money(rows: list[tuple[str, dict]], field: str) -> int:
    """An order-level amount (discount, shipping): its first cell, as a positive number
    (shops write a discount as -2.00 or 2.00)."""
    text = _first(rows, field)
    return abs(parse_money_cents(text, field=field)) if text else 0


def _shares(total: int, weights: list[int]) -> list[int]:
    """total split in proportion to weights, to the cent (largest remainder)."""
    whole = sum(weights)
    if whole <= 0:
        return [total] + [0] * (len(weights) - 1)
    raw = [total * w for w in weights]
    shares = [r // whole for r in raw]
    left = total - sum(shares)
    for i in sorted(range(len(raw)), key=lambda i: -(raw[i] % whole))[:left]:
        shares[i] += 1
    return shares


def _discounted(lines: list[dict], discount: int, gross_file: bool) -> list[dict]:
    """The order's discount (gross in a gross file) as each line's share of it, in proportion
    to the line's value, so the lines' net and VAT are what the shop's invoice shows."""
    key = "gross_cents" if gross_file else "net_cents"
    whole = sum(ln[key] for ln in lines)
    if discount > whole:
        raise Invalid("discount", f"the discount {format_money(discount)} is more than the goods")
    out: list[dict] = []
    for line, share in zip(lines, _shares(discount, [ln[key] for ln in lines]), strict=True):
        if gross_file:
            gross = line["gross_cents"] - share
            net = half_up(gross * 10_000, 10_000 + line["vat_bp"])
        else:
            net = line["net_cents"] - share
            gross = net + half_up(net * line["vat_bp"], 10_000)
        goods = line["qty"] * line["unit_price_cents"]
        out.append({**line, "discount_cents": goods - net, "net_cents": net,
                    "vat_cents": gross - net, "gross_cents": gross})  # fmt: skip
    return out


def _shipping(lines: list[dict], shipping: int, gross_file: bool) -> list[dict]:
    """Shipping charged to the customer as the invoice's shipping line: it shares the VAT
    rate of the goods it ships (split by their value when they carry more than one rate)."""
    from crmcli.services.orders import SHIPPING_NAME, price_gross_line, price_lines

    by_rate: dict[int, int] = {}
    for ln in lines:
        by_rate[ln["vat_bp"]] = by_rate.get(ln["vat_bp"], 0) + ln["gross_cents"]
    rates = sorted(by_rate, reverse=True)
    out: list[dict] = []
    for rate, share in zip(rates, _shares(shipping, [by_rate[r] for r in rates]), strict=True):
        line = {"position": len(lines) + len(out), "qty": 1, "product": None,
                "name": SHIPPING_NAME, "vat_bp": rate}  # fmt: skip
        if not share:
            continue
        if gross_file:
            out.append(price_gross_line(line, share))
        else:
            out.append(price_lines([{**line, "unit_price_cents": share}], 0)[0][0])
    return out


def _check(number: str, lines: list[dict], total: str | None, taxes: str | None, notes: list):
    """Warn when the file's total or taxes disagree with the lines imported (VAT by more
    than a cent a line, what a shop's own rounding per unit may differ by)."""
    gross = sum(ln["gross_cents"] for ln in lines)
    vat = sum(ln["vat_cents"] for ln in lines)
    if total:
        want = parse_money_cents(total, field="amount")
        if want != gross:
            notes.append(f"order {number}: the file's total {format_money(want)} differs from "
                         f"its lines' {format_money(gross)}")  # fmt: skip
    if taxes:
        want = parse_money_cents(taxes, field="taxes")
        if abs(want - vat) > len(lines):
            notes.append(f"order {number}: the file's taxes {format_money(want)} differ from "
                         f"its lines' VAT {format_money(vat)}")  # fmt: skip


def _group(rows: Iterable[tuple[str, dict]], reject) -> dict[str, list[tuple[str, dict]]]:
    """The rows by order number, in the order first seen (rows without one are rejected)."""
    orders: dict[str, list[tuple[str, dict]]] = {}
    for where, rec in rows:
        number = " ".join((rec.get("order_number") or "").split())
        if not number:
            reject(where, rec, "order number: the row has none (orders are matched by it)")
            continue
        orders.setdefault(number, []).append((where, rec))
    return orders


def import_orders(
    rows: Iterable[tuple[str, dict]],
    *,
    prices: str = "gross",
    on_conflict: str = "update",
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    keep_going: bool = False,
    now: datetime | None = None,
    on_reject: Callable[[str, dict, str], None] | None = None,
) -> ImportResult:
    """Import orders ({field: text} rows, see ORDER_FIELDS and the module's rules) with
    their contacts, in one transaction; `new` counts orders, `contacts_new` the contacts created.
    Rejects as in imports.import_contacts: a bad order rejects all its rows."""
    from crmcli.services import contacts, orders
    from crmcli.services.import_rows import _contacts_by_email
    from crmcli.services.products import products_by_sku

    if prices not in PRICES:
        raise Invalid("prices", f"'{prices}' is not one of {', '.join(PRICES)}")
    if on_conflict not in ORDER_CONFLICT:
        raise Invalid("on-conflict", f"'{on_conflict}': orders are matched by their number, "
                      f"give one of {', '.join(ORDER_CONFLICT)}")  # fmt: skip
    now = now or utcnow()
    result = ImportResult(dry_run=dry_run)

    def reject(where: str, rec: dict, reason: str) -> None:
        result.reject(where, rec, reason, keep_going=keep_going, on_reject=on_reject)

    counted: list[int] = [0]

    def counting(source):
        for item in source:
            counted[0] += 1
            yield item

    with all_or_nothing(result, dry_run=dry_run, keep_going=keep_going):
        grouped = _group(counting(rows), reject)
        numbers = list(grouped)
        done = 0
        touched: set[int] = set()  # the contacts of the batch's orders
        for part in _chunks(numbers, BATCH):
            stored = {
                number: (order_id, status)
                for number, order_id, status in SalesOrder.select(
                    SalesOrder.external_id, SalesOrder.id, SalesOrder.status
                )
                .where(SalesOrder.external_id.in_(list(part)))
                .tuples()
            }
            emails = {n: (_first(grouped[n], "email") or "") for n in part}
            owners = _contacts_by_email([e.lower() for e in emails.values() if e])
            skus = {r["sku"] for n in part for _, r in grouped[n] if r.get("sku")}
            products = products_by_sku(skus) if skus else {}
            for number in part:
                group = grouped[number]
                done += len(group)
                if number in stored:
                    try:
                        _restate(number, group, stored[number], on_conflict, result, now)
                    except CrmError as exc:
                        for where, rec in group:
                            reject(where, rec, str(exc))
                    continue
                if _all_refunded(group):
                    # no line left to price: an order over its amount would count revenue
                    # the shop gave back
                    result.skipped += 1
                    result.warnings.append(
                        f"order {number} not imported: every line's quantity is 0 (refunded)"
                    )
                    continue
                try:
                    contact_id = _contact(emails[number], owners)
                    at = _first(group, "date")
                    if not at:
                        raise Invalid("date", "an order needs its date")
                    lines, notes = _lines(number, group, products, prices)
                    currency = (_first(group, "currency") or "EUR").strip().upper()
                    if not re.fullmatch(r"[A-Z]{3}", currency):
                        raise Invalid("currency", f"'{currency}' is no currency code")
                    # Every cell is checked before anything is written: a contact created
                    # for an order rejected after it would be rolled back but counted.
                    fields = {
                        "ordered_at": _when(at, now), "now": now,
                        "status": _status(_first(group, "status")),
                        "channel": (_first(group, "channel") or "shop").lower(),
                        "currency": currency, "external_id": number,
                    }  # fmt: skip
                    created = None
                    with database_proxy.atomic():  # a savepoint: a bad order leaves no contact
                        if contact_id is None:
                            email = parse_email(emails[number])
                            # a customer once an order counts (orders.settle_customer_status)
                            contact_id = created = contacts.add_contact(
                                _name(group[0][1], email), email=email, status="prospect",
                                now=now, **_customer(number, group, notes),
                            )["id"]  # fmt: skip
                        order_id = orders.insert_order(contact_id, lines, **fields)
                    touched.add(contact_id)
                    if created is not None:
                        owners[emails[number].strip().lower()] = created
                        result.contacts_new += 1
                    result.warnings.extend(notes)
                except CrmError as exc:
                    for where, rec in group:
                        reject(where, rec, str(exc))
                    continue
                stored[number] = (order_id, fields["status"])
                result.new += 1
                result.ids.append(order_id)
            orders.settle_customer_status(touched, now=now)
            touched.clear()
            if progress is not None:
                progress(done)
        result.rows = counted[0]
    return result


def _restate(
    number: str,
    group: list[tuple[str, dict]],
    stored: tuple[int, str],
    on_conflict: str,
    result: ImportResult,
    now: datetime,
) -> None:
    """An order stored already: its lines stay as priced, but a status the shop changed
    since (completed, then refunded) is taken over with `update`, the way `crm edit order
    --status` changes it (dated for the VAT correction, the customer's status settled);
    with `skip` the stored order stays as it is."""
    from crmcli.services import orders

    order_id, status = stored
    text = _first(group, "status")
    # a row without a status says nothing about a stored order's (not: it is paid)
    new = _status(text) if text else status
    if new == status:
        result.unchanged += 1
    elif on_conflict == "skip":
        result.skipped += 1
    else:
        orders.edit_order(order_id, {"status": new}, now=now)
        result.updated += 1
        result.ids.append(order_id)


def _customer(number: str, group: list[tuple[str, dict]], notes: list[str]) -> dict:
    """A new customer's phone, street, zip, city and country from the order's billing cells;
    a phone that is no phone number is left out with a note (the order is still good)."""
    from crmcli.values import parse_phone

    values = {f: v for f in CUSTOMER_FIELDS if (v := _first(group, f))}
    if values.get("phone"):
        try:
            parse_phone(values["phone"])
        except Invalid:
            notes.append(f"order {number}: phone '{values.pop('phone')}' left out (not a number)")
    return values


def _contact(email: str, owners: dict) -> int | None:
    """The id of the contact with the order's email; None: one is to be created."""
    if not email:
        raise Invalid("email", "the order has no customer email (orders are linked by it)")
    found = owners.get(email.strip().lower())
    if found is not None:
        return found
    parse_email(email)  # a bad email is the order's reason, before anything is written
    return None
