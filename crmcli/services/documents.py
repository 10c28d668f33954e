"""Documents from templates: offers, letters, order confirmations and contracts, filled with a
contact's, company's, deal's and order's data and the business's own (the sender), rendered
as Markdown, HTML or PDF and recorded on the contact's timeline.

A document template (templates of kind `doc`, see services/templating.py) says in its front
matter what it is for (`for: contact|deal|order`), the page around its text (`layout:
din5008` a letter, `document` a plain page with a letterhead, `none`), and may name a
`subject`, a `number` and its `number_label` (Angebots-Nr.). Money comes as Decimal euros,
line items as a table of net, VAT per rate and gross, priced as services/orders.py prices
them (per line half up, VAT summed per rate). A deal has no lines of its own: its amount is
one line, net, at the sender's VAT rate (19 % unless set).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmcli.errors import Invalid, NotFound
from crmcli.models import Setting, database_proxy, utcnow
from crmcli.values import cents_money

KIND = "doc"
FORMATS = ("pdf", "html", "md")
LAYOUTS = ("din5008", "document", "none")
TARGETS = ("contact", "deal", "order")
SENDER_SETTING = "sender"
# The business's own data, as letters print it (German words are what the documents say).
SENDER_FIELDS = {
    "name": "Firma", "street": "Straße", "zip": "PLZ", "city": "Ort", "country": "Land",
    "phone": "Telefon", "email": "E-Mail", "web": "Web", "vat_id": "USt-IdNr.",
    "tax_number": "Steuernummer", "register": "Handelsregister", "manager": "Geschäftsführung",
    "bank": "Bank", "iban": "IBAN", "bic": "BIC", "vat_rate": "USt-Satz",
}  # fmt: skip
DEFAULT_VAT_BP = 1900
VALID_DAYS = 30  # an offer's validity (valid_until), unless its template says valid_days
_HOME = {"", "de", "deu", "germany", "deutschland"}


# ---------------------------------------------------------------- the sender


def sender() -> dict[str, Any]:
    """The business's own data for documents: every SENDER_FIELDS key (None where unset),
    `vat_bp` (the rate a deal's amount is taxed at) and `line` (the return address line)."""
    raw = Setting.select(Setting.value).where(Setting.key == SENDER_SETTING).scalar()
    stored = json.loads(raw) if raw else {}
    found: dict[str, Any] = {key: stored.get(key) for key in SENDER_FIELDS}
    found["vat_bp"] = int(stored.get("vat_bp") or DEFAULT_VAT_BP)
    found["vat_rate"] = _percent_text(found["vat_bp"])
    place = " ".join(p for p in (found["zip"], found["city"]) if p)
    found["line"] = " · ".join(p for p in (found["name"], found["street"], place) if p)
    return found


def _percent_text(bp: int) -> str:
    from crmcli.values import format_percent_bp

    return format_percent_bp(bp)


def set_sender(changes: Mapping[str, str]) -> dict[str, Any]:
    """Change the sender's data: field -> text ("" clears it). IBANs are checked (mod 97),
    emails for syntax, the VAT rate read as a percentage."""
    from crmcli.values import parse_email, parse_percent_bp

    unknown = [key for key in changes if key not in SENDER_FIELDS]
    if unknown:
        raise Invalid(unknown[0], f"not a sender field (choose {', '.join(SENDER_FIELDS)})")
    with database_proxy.atomic():
        raw = Setting.select(Setting.value).where(Setting.key == SENDER_SETTING).scalar()
        stored = json.loads(raw) if raw else {}
        for key, given in changes.items():
            text = " ".join(given.split())
            if key == "vat_rate":
                stored.pop("vat_bp", None)
                if text:
                    stored["vat_bp"] = parse_percent_bp(text, field="vat_rate")
                continue
            if text and key == "iban":
                text = check_iban(text)
            elif text and key == "email":
                text = parse_email(text, field="email")
            elif text and key == "bic":
                text = text.replace(" ", "").upper()
            if text:
                stored[key] = text
            else:
                stored.pop(key, None)
        value, now = json.dumps(stored, ensure_ascii=False, sort_keys=True), utcnow()
        Setting.insert(key=SENDER_SETTING, value=value, updated_at=now).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: value, Setting.updated_at: now}
        ).execute()
    return sender()


def check_iban(text: str) -> str:
    """An IBAN without spaces, upper case, its check digits verified (ISO 13616, mod 97)."""
    plain = "".join(text.split()).upper()
    if not (15 <= len(plain) <= 34 and plain[:2].isalpha() and plain.isalnum()):
        raise Invalid("iban", f"'{text}' is not an IBAN (e.g. DE89 3704 0044 0532 0130 00)")
    digits = "".join(str(int(ch, 36)) for ch in plain[4:] + plain[:4])
    if int(digits) % 97 != 1:
        raise Invalid("iban", f"'{text}': the check digits do not match (a typo?)")
    return plain


# ---------------------------------------------------------------- what a document is about


@dataclass
class Target:
    """The records a document is about (ids); the contact or, without one, the company is
    whom it is addressed to and on whose timeline it is recorded."""

    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    order_id: int | None = None


def target_kind(template) -> str:
    """What the template's REF names: `for:` in its front matter (contact unless said)."""
    kind = template.front_matter.get("for", "contact").strip().lower()
    if kind not in TARGETS:
        raise Invalid(
            f"template {template.name}", f"for: {kind} is not one of {', '.join(TARGETS)}"
        )
    return kind


def resolve_target(
    template, ref: str | None, *, deal: str | None = None, order: str | None = None
) -> Target:
    """The records REF (of the template's kind, see target_kind), `deal` and `order` name,
    checked to belong to one customer; without a contact REF, the deal's or order's."""
    from crmcli.models import Contact, Deal, SalesOrder
    from crmcli.services.contacts import resolve_contact
    from crmcli.services.deals import check_party, resolve_deal
    from crmcli.services.orders import resolve_order

    kind = target_kind(template)
    given = {"contact": None, "deal": deal, "order": order}
    if ref is not None:
        if kind != "contact" and given[kind] is not None:
            raise Invalid(kind, f"give the {kind} once: as REF or by its option, not both")
        given[kind] = ref
    if given[kind] is None and not (kind == "contact" and (deal or order)):
        raise Invalid(kind, f"template {template.name} is for a {kind}: name one")
    found = Target()
    if given["contact"] is not None:
        found.contact_id = resolve_contact(given["contact"])
    if given["order"] is not None:
        found.order_id = resolve_order(given["order"])
        owner = SalesOrder.select(SalesOrder.contact).where(SalesOrder.id == found.order_id)
        of_order = owner.scalar()
        if of_order is None:  # an order outlives its contact
            raise Invalid("order", f"order #{found.order_id} has no contact to write to")
        if found.contact_id not in (None, of_order):
            raise Invalid("order", f"order #{found.order_id} is another customer's")
        found.contact_id = of_order
    if given["deal"] is not None:
        found.deal_id = resolve_deal(given["deal"])
        if found.contact_id is None:
            row = Deal.select(Deal.contact, Deal.company).where(Deal.id == found.deal_id)
            found.contact_id, found.company_id = row.tuples().first()
            if found.contact_id is None and found.company_id is None:
                raise Invalid(
                    "deal", f"deal #{found.deal_id} has no contact or company to write to"
                )
        else:
            check_party(found.deal_id, contact_id=found.contact_id)
    if found.contact_id is not None:
        company = Contact.select(Contact.company).where(Contact.id == found.contact_id).scalar()
        found.company_id = company or found.company_id
    return found


# ---------------------------------------------------------------- the data a template sees


_money = cents_money  # integer cents as a Decimal amount


def _deal_items(deal: dict, vat_bp: int) -> tuple[list[dict], dict]:
    """A deal's amount as one line item, net, at `vat_bp`, priced as an order line is."""
    from crmcli.services.orders import price_lines

    cents = int((deal["amount"] or Decimal(0)) * 100)
    priced, rates = price_lines([{"qty": 1, "unit_price_cents": cents, "vat_bp": vat_bp}], 0)
    line = priced[0]
    items = [{
        "position": 1, "sku": None, "name": deal["title"], "qty": 1, "unit": "pauschal",
        "unit_price": _money(cents), "vat_rate": Decimal(vat_bp).scaleb(-2),
        "discount": Decimal(0), "goods": _money(cents), "net": _money(line["net_cents"]),
        "vat": _money(line["vat_cents"]), "gross": _money(line["gross_cents"]),
    }]  # fmt: skip
    totals = {
        "goods": items[0]["net"], "discount": Decimal(0), "discount_rate": None,
        "net": items[0]["net"], "vat": items[0]["vat"], "gross": items[0]["gross"],
        "currency": deal["currency"],
        "by_rate": [
            {"vat_rate": Decimal(r["vat_bp"]).scaleb(-2), "net": _money(r["net_cents"]),
             "vat": _money(r["vat_cents"]), "gross": _money(r["gross_cents"])}
            for r in rates
        ],
    }  # fmt: skip
    return items, totals


def _order_items(order: dict) -> tuple[list[dict], dict]:
    """The order's lines, each with its goods value (quantity × unit price, before the
    discount), and its totals: the goods, the discount taken off them (its rate), the net
    that leaves, VAT per rate and gross: goods − discount = net, line by line and in sum."""
    items = [{**line, "goods": line["net"] + line["discount"]} for line in order["lines"]]
    discount = sum((line["discount"] for line in items), Decimal(0))
    totals = {
        "goods": order["net"] + discount, "discount": discount,
        "discount_rate": order["discount"] if discount else None,
        "net": order["net"], "vat": order["vat"], "gross": order["gross"],
        "currency": order["currency"], "by_rate": order["vat_by_rate"],
    }  # fmt: skip
    return items, totals


def _address(contact: dict | None, company: dict | None) -> list[str]:
    """The address block's lines: company, person, street, ZIP and city, a foreign country."""
    place = contact if contact is not None and (contact["street"] or contact["city"]) else company
    lines = [company["name"] if company else None, contact["name"] if contact else None]
    if place is not None:
        lines += [place["street"], " ".join(p for p in (place["zip"], place["city"]) if p)]
        country = place["country"]
        if country and country.strip().lower() not in _HOME:
            lines.append(country.upper())
    return [line for line in lines if line]


def salutation(contact: dict | None) -> str:
    """`Sehr geehrte Frau Dr. Weber,` when the contact's custom fields say anrede (Frau,
    Herr) and perhaps titel; `Guten Tag Anna Weber,` without; to a company `Sehr geehrte
    Damen und Herren,`."""
    if contact is None:
        return "Sehr geehrte Damen und Herren,"
    fields = {k.lower(): v.strip() for k, v in contact.get("fields", {}).items()}
    form = (fields.get("anrede") or fields.get("salutation") or "").lower()
    title = fields.get("titel") or fields.get("title") or ""
    surname = contact["name"].split()[-1] if contact["name"].split() else contact["name"]
    named = " ".join(p for p in (title, surname) if p)
    if form in ("frau", "ms", "mrs"):
        return f"Sehr geehrte Frau {named},"
    if form in ("herr", "mr"):
        return f"Sehr geehrter Herr {named},"
    return f"Guten Tag {contact['name']},"


def document_context(
    template,
    target: Target,
    *,
    now: datetime,
    text: str | None = None,
    values: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything a document template reads (see the module docstring and README)."""
    from crmcli.services.companies import get_company
    from crmcli.services.contacts import get_contact
    from crmcli.services.deals import get_deal
    from crmcli.services.orders import order_card
    from crmcli.values import local_tz, to_utc

    me = sender()
    contact = get_contact(target.contact_id) if target.contact_id is not None else None
    company = get_company(target.company_id) if target.company_id is not None else None
    deal = get_deal(target.deal_id) if target.deal_id is not None else None
    order = order_card(target.order_id) if target.order_id is not None else None
    items: list[dict] = []
    totals: dict | None = None
    if order is not None:
        items, totals = _order_items(order)
    elif deal is not None:
        items, totals = _deal_items(deal, me["vat_bp"])
    today = to_utc(now).astimezone(local_tz()).date()
    owner = (deal or {}).get("owner") or (contact or {}).get("owner")
    return {
        "today": today, "now": now,
        "valid_until": today + timedelta(days=_valid_days(template)),
        "sender": me, "contact": contact, "company": company, "deal": deal, "order": order,
        "items": items, "totals": totals, "owner": {"name": owner},
        "recipient": {
            "name": contact["name"] if contact else company["name"] if company else "",
            "lines": _address(contact, company),
        },
        "salutation": salutation(contact if contact is not None or company is None else None),
        "text": text, "vars": dict(values or {}),
        "doc": {"template": template.name, "title": template.title},
    }  # fmt: skip


def _valid_days(template) -> int:
    text = template.front_matter.get("valid_days", str(VALID_DAYS)).strip()
    if not text.isdigit() or not 0 < int(text) <= 3650:
        raise Invalid(f"template {template.name}", f"valid_days: {text!r} is not 1 to 3650 days")
    return int(text)


def info_block(context: Mapping[str, Any], number: str, label: str) -> list[tuple[str, str]]:
    """The info block of a letter (DIN 5008): label and value lines, the date last."""
    from crmcli.services.templating import format_date_de

    me, contact = context["sender"], context["contact"]
    rows = [
        ("Ihr Ansprechpartner", context["owner"]["name"]),
        ("Telefon", me["phone"]),
        ("E-Mail", me["email"]),
        ("Kunden-Nr.", str(contact["id"]) if contact else None),
        (label or "Nr.", number or None),
        ("Datum", format_date_de(context["today"])),
    ]
    return [(name, value) for name, value in rows if value]


def footer_columns(me: Mapping[str, Any]) -> list[list[str]]:
    """The footer's columns: address, how to reach the sender, bank, tax and register."""
    from crmcli.services.templating import format_iban

    place = " ".join(p for p in (me["zip"], me["city"]) if p)
    columns = [
        [me["name"], me["street"], place],
        [me["phone"] and f"Tel. {me['phone']}", me["email"], me["web"]],
        [me["bank"], me["iban"] and f"IBAN {format_iban(me['iban'])}",
         me["bic"] and f"BIC {me['bic']}"],
        [me["vat_id"] and f"USt-IdNr. {me['vat_id']}",
         me["tax_number"] and f"St.-Nr. {me['tax_number']}", me["register"],
         me["manager"] and f"Geschäftsführung: {me['manager']}"],
    ]  # fmt: skip
    return [kept for column in columns if (kept := [line for line in column if line])]


# ---------------------------------------------------------------- rendering


@dataclass
class Document:
    """A rendered document, not yet written anywhere."""

    template: str
    title: str
    format: str
    subject: str
    content: bytes
    target: Target
    context: dict[str, Any] = field(repr=False, default_factory=dict)
    # Its layout prints the sender (letterhead, return address), but none is set.
    sender_missing: bool = False


def format_of(path: str | None, fmt: str | None) -> str:
    """The output format: `fmt` if given, else the file's suffix, else PDF (Markdown for -)."""
    if fmt:
        chosen = fmt.strip().lower().lstrip(".")
        chosen = {"markdown": "md", "htm": "html"}.get(chosen, chosen)
    elif path and path != "-":
        chosen = path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
        chosen = {"markdown": "md", "htm": "html"}.get(chosen, chosen)
        if chosen not in FORMATS:
            raise Invalid("output", f"'{path}': end the file name in .pdf, .html or .md")
    else:
        chosen = "md" if path == "-" else "pdf"
    if chosen not in FORMATS:
        raise Invalid("format", f"'{fmt}' is not one of {', '.join(FORMATS)}")
    if chosen == "pdf" and path == "-":
        raise Invalid("output", "a PDF goes to a file, not to standard output")
    return chosen


def render_document(
    name: str,
    ref: str | None,
    *,
    fmt: str,
    deal: str | None = None,
    order: str | None = None,
    text: str | None = None,
    subject: str | None = None,
    values: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Document:
    """Template `name` filled for REF (and `deal`, `order`) as `fmt` (pdf, html, md)."""
    from crmcli.services import templating

    now = now or utcnow()
    try:
        template = templating.load_template(name, KIND)
    except NotFound as exc:
        raise NotFound(str(exc), action="list_doc_templates", template=name) from None
    layout = template.front_matter.get("layout", "none").strip().lower()
    if layout not in LAYOUTS:
        raise Invalid(
            f"template {template.name}", f"layout: {layout} is not one of {', '.join(LAYOUTS)}"
        )
    target = resolve_target(template, ref, deal=deal, order=order)
    if target_kind(template) == "order":
        _check_confirmable(template, target)
    context = document_context(template, target, now=now, text=text, values=values)
    context["number"] = templating.render_value(template, "number", context)
    # Every part is rendered, the one not written too: an error in any of them is one error
    # and nothing is written or recorded, whichever format was asked for.
    own_subject = templating.render_value(template, "subject", context)
    context["subject"] = subject or own_subject
    label = templating.render_value(template, "number_label", context)
    context["info"] = info_block(context, context["number"], label)
    context["footer"] = footer_columns(context["sender"])
    part = "text" if fmt == "md" else "html"
    if template.part(part) is None:
        raise Invalid(f"template {template.name}", f"has no {part} part for {fmt.upper()}")
    # The text part is Markdown: the names and the typed text in it are escaped as Markdown.
    bodies = {p: templating.render(template, context, p, markdown=p == "text")
              for p in templating.PARTS if template.part(p) is not None}  # fmt: skip
    body = bodies[part]
    if fmt == "pdf":
        from crmcli.services.document_pdf import pdf_bytes

        content = pdf_bytes(_local_images(body, template), context, layout=layout)
    else:
        content = _framed(body, context, layout, fmt).encode("utf-8")
    title = context["subject"] or template.title
    document = Document(template.name, template.title, fmt, title, content, target, context)
    # A page with a letterhead and a return address prints them blank without a sender.
    document.sender_missing = layout != "none" and not context["sender"]["name"]
    return document


_IMG_SRC = re.compile(r"""(<img\b[^>]*?(?<![\w-])src\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
# Pictures fpdf2 reads by their content; Pillow checks the others are pictures at all.
_VECTOR = (".svg",)


def image_dirs(template) -> list[Path]:
    """Where a document's pictures (a logo) may come from: crmcli's config directory (your
    templates are in it) and the template's own folder; nowhere else, so that a template
    cannot print a file of the machine into a PDF (`<img src="/etc/passwd">`)."""
    from crmcli.services import templating

    roots = [templating.config_dir().resolve(), template.path.parent.resolve()]
    return [r for i, r in enumerate(roots) if not any(r.is_relative_to(o) for o in roots[:i])]


def _local_images(body_html: str, template) -> str:
    """`body_html` with every `<img src>` checked and made absolute for the PDF: a file path
    (relative to the template's folder) inside image_dirs that holds a picture, or a `data:`
    URI. Invalid naming the picture and why otherwise, before anything is laid out."""
    import html

    allowed = image_dirs(template)
    base = template.path.parent

    def check(match: re.Match) -> str:
        quoted = match.group(2)
        src = html.unescape(quoted[1:-1] if quoted[0] in "\"'" else quoted).strip()
        if src.lower().startswith("data:"):
            return match.group(0)
        where = f"template {template.name}"
        if "://" in src or src.lower().startswith(("file:", "//")):
            raise Invalid(where, f"image '{src}': a document's pictures are files, not addresses")
        path = (base / Path(src).expanduser()).resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            raise Invalid(
                where,
                f"image '{src}' is outside the folders pictures may come from "
                f"({' or '.join(map(str, allowed))})",
            )
        if not path.is_file():
            raise Invalid(where, f"image '{src}': no such file ({path})")
        if path.suffix.lower() not in _VECTOR:
            _check_picture(path, src, where)
        checked.add(str(path))
        return match.group(1) + '"' + html.escape(str(path)) + '"'

    checked: set[str] = set()
    out = _IMG_SRC.sub(check, body_html)
    # What fpdf2's HTML parser will read must be what was checked: a tag the pattern above
    # reads otherwise (`<img alt=">" src=...>`) is refused, not printed unchecked.
    for src in _img_sources(out):
        if src not in checked and not src.strip().lower().startswith("data:"):
            raise Invalid(
                f"template {template.name}",
                f"image '{src}': its <img> tag cannot be checked (a '>' inside an attribute?)",
            )
    return out


def _img_sources(body_html: str) -> list[str]:
    """The src of every <img> in `body_html` as an HTML parser (fpdf2's is one) reads it."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Sources(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag == "img":
                found.extend(value or "" for name, value in attrs if name == "src")

    parser = Sources(convert_charrefs=True)
    parser.feed(body_html)
    parser.close()
    return found


def _check_picture(path: Path, src: str, where: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            picture.verify()
    except (UnidentifiedImageError, SyntaxError, ValueError):
        raise Invalid(where, f"image '{src}' is not a picture (PNG, JPEG, GIF, SVG ...)") from None
    except OSError as exc:
        raise Invalid(where, f"image '{src}' cannot be read: {exc.strerror or exc}") from None


def _check_confirmable(template, target: Target) -> None:
    """A template for an order confirms a purchase: an abandoned, cancelled or returned
    order is no purchase to confirm (a letter about it, `--order` on a contact's, still is)."""
    from crmcli.models import PURCHASE_STATUSES, SalesOrder

    status, external = (
        SalesOrder.select(SalesOrder.status, SalesOrder.external_id)
        .where(SalesOrder.id == target.order_id)
        .tuples()
        .first()
    )
    if status not in PURCHASE_STATUSES:
        shown = f"#{external}" if external else f"#{target.order_id}"
        raise Invalid(
            "order",
            f"order {shown} is {status}: template {template.name} is for an order "
            f"that is {', '.join(PURCHASE_STATUSES[:-1])} or {PURCHASE_STATUSES[-1]}",
        )


def _framed(body: str, context: dict[str, Any], layout: str, fmt: str) -> str:
    """The body inside its layout's page (templates doc/_LAYOUT.md or .html)."""
    from markupsafe import Markup

    from crmcli.services import templating

    if layout == "none":
        return body
    frame = templating.load_template(f"_{layout}", KIND)
    # The body is rendered already (escaped as its part needs): the frame prints it as it is.
    framed = {**context, "body": Markup(body)}
    if fmt == "md":
        return templating.render(frame, framed, "text", markdown=True)
    return templating.render(frame, framed, "html")


def record_document(
    document: Document, path: str | None, write: Callable[[], None], *, now: datetime | None = None
) -> dict:
    """Write the document (`write`) and record it on the timeline of its contact (or
    company), linked to its deal or order, in one transaction: nothing is recorded when the writing
    fails, and the writing happens only when the record can be made."""
    from crmcli.services.activities import log_activity

    now = now or utcnow()
    t = document.target
    where = path if path not in (None, "-") else "standard output"
    lines = [f"Template: {document.template} ({document.title})", f"File: {where}"]
    if t.order_id is not None:
        lines.append(f"Order: #{t.order_id}")
    with database_proxy.atomic():
        activity = log_activity(
            "document", contact_id=t.contact_id,
            company_id=t.company_id if t.contact_id is None else None, deal_id=t.deal_id,
            order_id=t.order_id, occurred_at=now, now=now, direction="out",
            subject=document.subject, body="\n".join(lines),
        )  # fmt: skip
        write()
    return activity
