"""Importing a shop's orders (`crm import csv --kind orders`): Shopify's and WooCommerce's
order exports, or any table of orders, one transaction, idempotent.

The rules, as the CLI documents them:
- Rows are grouped by order number (the order's external id), as Shopify writes one row per
  line item and repeats the order number; the order-level cells (email, date, status) are
  taken from the order's first row that has them. An order number stored already leaves
  the order `unchanged`, so importing a file again adds nothing.
- The contact is the one with the order's email (any of a contact's emails); an email no
  contact has creates a contact with the row's name (or first and last name, else the
  email's local part) and status customer.
- Amounts in the file are gross, what the customer paid, as German shops show them (with
  `prices="net"` line prices are net). A line's net is taken out of its gross per line,
  rounded half up to the cent, and its VAT is the rest; VAT is summed per rate.
- A line with a SKU is a line of that catalogue product (an inactive one too: these are
  past orders) at its VAT rate; without a price cell it costs the catalogue's net price.
  A SKU the catalogue does not know rejects the whole order (all its rows) with the reason.
- A line without a SKU (or a file without a SKU column) is an ad-hoc line without product:
  its item name (else "Order NUMBER"), its price (else the order's amount), at the `vat`
  cell's rate or 19 %. An order of no lines at all is one such line over its amount.
- Order totals are the sums of their lines: shipping and the shop's order-level discounts
  are not revenue of a product and are left out.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from crmcli.errors import CrmError, Invalid
from crmcli.models import SalesOrder, database_proxy, utcnow
from crmcli.services.imports import (
    BATCH,
    KEPT_REJECTS,
    SHOWN_REJECTS,
    ImportResult,
    _chunks,
    _Rollback,
    rejects_error,
)
from crmcli.values import fold, parse_email, parse_money_cents, parse_percent_bp, parse_when

ORDER_FIELDS = (
    "email", "name", "first_name", "last_name", "order_number", "date", "amount", "sku",
    "qty", "price", "item", "status", "channel", "currency", "vat",
)  # fmt: skip
# Headers as csvread folds them. Shopify's "Name" is its order number (see assign_columns).
ORDER_HEADERS = {
    "email": ("email", "emailadresse", "emailaddress", "billingemail", "billingemailaddress",
              "customeremail", "kundenemail", "mail", "kontaktemail"),
    "name": ("billingname", "customername", "customer", "kunde", "kundenname", "name",
             "fullname"),
    "first_name": ("billingfirstname", "firstname", "vorname", "customerfirstname"),
    "last_name": ("billinglastname", "lastname", "nachname", "customerlastname"),
    "order_number": ("ordernumber", "orderid", "order", "ordernr", "orderno", "bestellnummer",
                     "bestellnr", "bestellung", "auftragsnummer", "auftragsnr", "belegnummer"),
    "date": ("createdat", "orderdate", "date", "datum", "bestelldatum", "auftragsdatum",
             "orderdateandtime", "datetime"),
    "amount": ("total", "ordertotal", "ordertotalamount", "amount", "betrag", "summe",
               "gesamt", "gesamtbetrag", "brutto", "bruttobetrag", "totalgross"),
    "sku": ("lineitemsku", "sku", "itemsku", "productsku", "artikelnummer", "artnr",
            "artikelnr"),
    "qty": ("lineitemquantity", "quantity", "qty", "itemquantity", "menge", "anzahl"),
    "price": ("lineitemprice", "itemprice", "itemcost", "unitprice", "price", "preis",
              "einzelpreis", "stuckpreis"),
    "item": ("lineitemname", "itemname", "productname", "produkt", "artikel",
             "artikelname", "bezeichnung"),
    "status": ("financialstatus", "orderstatus", "status", "zahlungsstatus"),
    "channel": ("channel", "kanal", "vertriebskanal"),
    "currency": ("currency", "wahrung", "ordercurrency"),
    "vat": ("vat", "vatrate", "taxrate", "mwst", "mwstsatz", "ustsatz", "steuersatz"),
}  # fmt: skip
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
_OFFSET = re.compile(r"^(.*\d)\s*([+-]\d\d:?\d\d|Z|UTC)$")


def assign_columns(csvfile, maps: dict) -> None:
    """The columns of an order export: --map first, then known headers. Shopify names its
    order number "Name" (and the customer "Billing Name"): in a file with Shopify's line
    item columns, "Name" is the order number, and the columns not read are not warned of."""
    from crmcli.services.csvread import Target, _key

    keys = [_key(h) for h in csvfile.header]
    shopify = any(k.startswith("lineitem") for k in keys) or "financialstatus" in keys
    targets: list = []
    for key in keys:
        if key in maps:
            targets.append(maps[key])
            continue
        if shopify and key == "name":
            found: str | None = "order_number"
        else:
            found = next(
                (f for f in ORDER_FIELDS
                 if key in ORDER_HEADERS[f] or key == f.replace("_", "")),
                None,
            )  # fmt: skip
        if found is not None and any(t is not None and t.field == found for t in targets):
            found = None  # the first column of a field counts
        # Shopify's other seventy columns (addresses, shipping, payment) are known: silent.
        targets.append(Target(found) if found else Target("ignore") if shopify else None)
    csvfile.targets = targets
    csvfile.unrecognised = [h for h, t in zip(csvfile.header, targets, strict=True) if t is None]


def _when(text: str, now: datetime) -> datetime:
    """An order's time: ISO with an offset as shops write it (`2026-11-03 14:22:10 +0100`),
    else any form parse_when reads (local time)."""
    found = _OFFSET.match(text.strip())
    if found:
        zone = found[2].replace("UTC", "+00:00")
        try:
            return datetime.fromisoformat(f"{found[1]}{zone}").astimezone(UTC)
        except ValueError:
            pass
    at = parse_when(text, now, field="date", prefer="past")
    if at > now:
        raise Invalid("date", f"'{text}' is in the future")
    return at


def _status(text: str | None) -> str:
    if not text:
        return "paid"  # an exported order without a status was bought
    key = re.sub(r"[^a-z]", "", fold(text))
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


def _lines(number: str, rows: list[tuple[str, dict]], products: dict, prices: str) -> list:
    """The order's priced lines (see the module for the rules)."""
    from crmcli.services.orders import MAX_QTY, line_cost, price_gross_line, price_lines
    from crmcli.services.products import sku_key

    out: list[dict] = []
    for _, rec in rows:
        if not (rec.get("sku") or rec.get("item") or rec.get("price") or rec.get("qty")):
            continue  # an order-level row (Shopify's rows all carry a line, others may not)
        qty_text = rec.get("qty") or "1"
        if not qty_text.isdigit() or not 0 < int(qty_text) <= MAX_QTY:
            raise Invalid("quantity", f"'{qty_text}' is no quantity (a whole number, 1 or more)")
        qty = int(qty_text)
        price = parse_money_cents(rec["price"], field="price") if rec.get("price") else None
        if price is not None and price < 0:
            raise Invalid("price", f"'{rec['price']}': a price is 0 or more")
        line: dict = {"position": len(out), "qty": qty}
        if rec.get("sku"):
            product = products.get(sku_key(rec["sku"]))
            if product is None:
                raise Invalid("sku", f"no product with SKU '{rec['sku']}' in the catalogue")
            line.update(product=product["id"], name=product["name"], vat_bp=product["vat_bp"],
                        cost_cents=line_cost(product, qty))  # fmt: skip
            if price is None:
                line["unit_price_cents"] = int(product["price"] * 100)
                out.append(price_lines([line], 0)[0][0])
                continue
        else:
            vat = parse_percent_bp(rec["vat"], field="vat") if rec.get("vat") else STANDARD_VAT_BP
            line.update(product=None, name=rec.get("item") or f"Order {number}", vat_bp=vat)
            if price is None:
                raise Invalid("price", "a line without SKU needs its price")
        if prices == "net":
            line["unit_price_cents"] = price
            out.append(price_lines([line], 0)[0][0])
        else:
            out.append(price_gross_line(line, price * qty))
    if not out:
        amount = _first(rows, "amount")
        if amount is None:
            raise Invalid("amount", "an order needs its amount or its lines")
        gross = parse_money_cents(amount, field="amount")
        if gross < 0:
            raise Invalid("amount", f"'{amount}': an order's amount is 0 or more")
        vat_text = _first(rows, "vat")
        rate = parse_percent_bp(vat_text, field="vat") if vat_text else STANDARD_VAT_BP
        line = {"position": 0, "qty": 1, "product": None, "name": f"Order {number}",
                "vat_bp": rate}  # fmt: skip
        if prices == "net":
            line["unit_price_cents"] = gross
            return price_lines([line], 0)[0]
        out.append(price_gross_line(line, gross))
    return out


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
    now = now or utcnow()
    result = ImportResult(dry_run=dry_run)

    def reject(where: str, rec: dict, reason: str) -> None:
        result.rejected_count += 1
        if on_reject is not None:
            on_reject(where, rec, reason)
            if len(result.rejected) < KEPT_REJECTS:
                result.rejected.append((where, rec, reason))
        elif keep_going or len(result.rejected) < SHOWN_REJECTS:
            result.rejected.append((where, rec, reason))

    counted: list[int] = [0]

    def counting(source):
        for item in source:
            counted[0] += 1
            yield item

    try:
        with database_proxy.atomic():
            grouped = _group(counting(rows), reject)
            numbers = list(grouped)
            done = 0
            for part in _chunks(numbers, BATCH):
                stored = set(
                    SalesOrder.select(SalesOrder.external_id)
                    .where(SalesOrder.external_id.in_(list(part)))
                    .scalars()
                )
                emails = {n: (_first(grouped[n], "email") or "") for n in part}
                owners = _contacts_by_email([e.lower() for e in emails.values() if e])
                skus = {r["sku"] for n in part for _, r in grouped[n] if r.get("sku")}
                products = products_by_sku(skus) if skus else {}
                for number in part:
                    group = grouped[number]
                    done += len(group)
                    if number in stored:
                        result.unchanged += 1
                        continue
                    try:
                        contact_id = _contact(emails[number], owners)
                        at = _first(group, "date")
                        if not at:
                            raise Invalid("date", "an order needs its date")
                        lines = _lines(number, group, products, prices)
                        currency = (_first(group, "currency") or "EUR").strip().upper()
                        if not re.fullmatch(r"[A-Z]{3}", currency):
                            raise Invalid("currency", f"'{currency}' is no currency code")
                        with database_proxy.atomic():  # a savepoint: a bad order leaves no contact
                            if contact_id is None:
                                email = parse_email(emails[number])
                                contact_id = contacts.add_contact(
                                    _name(group[0][1], email), email=email, status="customer",
                                    now=now,
                                )["id"]  # fmt: skip
                                owners[email.lower()] = contact_id
                                result.contacts_new += 1
                            order_id = orders.insert_order(
                                contact_id, lines, ordered_at=_when(at, now), now=now,
                                status=_status(_first(group, "status")),
                                channel=(_first(group, "channel") or "shop").lower(),
                                currency=currency, external_id=number,
                            )  # fmt: skip
                    except CrmError as exc:
                        for where, rec in group:
                            reject(where, rec, str(exc))
                        continue
                    stored.add(number)
                    result.new += 1
                    result.ids.append(order_id)
                if progress is not None:
                    progress(done)
            result.rows = counted[0]
            if dry_run or (result.rejected_count and not keep_going):
                raise _Rollback
    except _Rollback:
        pass
    if result.rejected_count and not keep_going:
        raise rejects_error(result)
    if dry_run:
        result.ids = array("q")
    return result


def _contact(email: str, owners: dict) -> int | None:
    """The id of the contact with the order's email; None: one is to be created."""
    if not email:
        raise Invalid("email", "the order has no customer email (orders are linked by it)")
    found = owners.get(email.strip().lower())
    if found is not None:
        return found
    parse_email(email)  # a bad email is the order's reason, before anything is written
    return None
