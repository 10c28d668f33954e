"""`crm edit [KIND] REF --field value ...`: change a contact, company, task, activity or tag."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_activity, print_company, print_contact, print_task
from crmcli.commands.where import DryRunOpt, WhereCommand, WhereOpt, where_kind
from crmcli.errors import Invalid

CONTACT = {
    "name", "email", "phone", "company", "position", "street", "zip", "city", "country",
    "birthday", "status", "source", "owner", "notes", "consent", "consent_date", "every",
    "tag", "untag", "field", "add_email", "remove_email", "primary_email", "add_phone",
    "remove_phone", "primary_phone", "campaign", "keyword",
}  # fmt: skip
# A contact's other emails and phones: one contact at a time (never with --where).
ADDRESS_OPS = (
    "add_email", "remove_email", "primary_email", "add_phone", "remove_phone", "primary_phone",
)  # fmt: skip
COMPANY = {
    "name", "email", "phone", "street", "zip", "city", "country", "notes", "domain", "industry",
    "tag", "untag",
}  # fmt: skip
TASK = {"title", "contact", "due", "every", "priority", "note"}
ACTIVITY = {
    "kind", "at", "subject", "message", "direction", "duration", "outcome", "rating", "score",
    "owner",
}  # fmt: skip
TAG = {"name", "every"}
DEAL = {
    "title",
    "contact",
    "company",
    "amount",
    "currency",
    "close",
    "owner",
    "source",
    "lost_reason",
}
PRODUCT = {"sku", "name", "category", "price", "vat", "unit", "active", "cost"}
ORDER = {"status", "at", "channel", "campaign", "keyword", "note", "cost"}
ALLOWED = {
    "contact": CONTACT, "company": COMPANY, "task": TASK, "activity": ACTIVITY, "tag": TAG,
    "deal": DEAL, "product": PRODUCT, "order": ORDER,
    "campaign": {"name", "channel", "note", "keyword", "remove_keyword", "from_", "until"},
}  # fmt: skip
NOT_CLEARABLE = {
    "name", "title", "kind", "at", "consent", "tag", "untag", "field", "priority", "currency",
    "sku", "price", "vat", "unit", "active", *ADDRESS_OPS,
}  # fmt: skip

# Parameters of edit() that are not values to change.
NOT_VALUES = ("args", "clear", "output", "target", "ref", "where", "yes", "dry_run")


def edit(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KIND] REF",
            help="contact (default), company, deal, task, activity, tag, product, order or "
            "campaign, then REF "
            "(with --where no REF).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    email: c.EmailOpt = None,
    phone: c.PhoneOpt = None,
    add_email: Annotated[
        list[str] | None,
        typer.Option(
            "--add-email",
            metavar="[KIND:]EMAIL",
            help="Contact: another email (work:, privat:...); repeatable.",
        ),
    ] = None,
    remove_email: Annotated[
        list[str] | None,
        typer.Option(
            "--remove-email",
            metavar="EMAIL",
            help="Contact: remove this email (the primary's successor is the next); repeatable.",
        ),
    ] = None,
    primary_email: Annotated[
        str | None,
        typer.Option("--primary-email", metavar="EMAIL", help="Contact: make this email primary."),
    ] = None,
    add_phone: Annotated[
        list[str] | None,
        typer.Option(
            "--add-phone",
            metavar="[KIND:]PHONE",
            help="Contact: another phone (mobil:, work:...); repeatable.",
        ),
    ] = None,
    remove_phone: Annotated[
        list[str] | None,
        typer.Option(
            "--remove-phone", metavar="PHONE", help="Contact: remove this phone; repeatable."
        ),
    ] = None,
    primary_phone: Annotated[
        str | None,
        typer.Option("--primary-phone", metavar="PHONE", help="Contact: make this phone primary."),
    ] = None,
    company: c.CompanyOpt = None,
    position: c.PositionOpt = None,
    street: c.StreetOpt = None,
    zip: c.ZipOpt = None,
    city: c.CityOpt = None,
    country: c.CountryOpt = None,
    birthday: c.BirthdayOpt = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", "-s", help="Contact: lead, prospect, customer, inactive; order: paid..."
        ),
    ] = None,
    source: c.SourceOpt = None,
    owner: c.OwnerOpt = None,
    notes: c.NotesOpt = None,
    consent: c.ConsentOpt = None,
    consent_date: c.ConsentDateOpt = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            metavar="RULE",
            help="Contact/tag: stay-in-touch cadence (30 days); task: recurrence.",
        ),
    ] = None,
    domain: c.DomainOpt = None,
    industry: c.IndustryOpt = None,
    title: Annotated[str | None, typer.Option("--title", help="Task: new title.")] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="Task: for this contact (REF).")
    ] = None,
    due: Annotated[
        str | None,
        typer.Option(
            "--due",
            metavar="WHEN",
            help="Task: new due date. Without a time of day (fri, 24.12., +3d) the task keeps "
            "its time; '' clears the due date.",
        ),
    ] = None,
    priority: Annotated[
        str | None, typer.Option("--priority", "-P", help="Task: low, normal or high.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Task, order: details.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Activity: another kind.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="WHEN", help="Activity, order: when it happened.")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Activity: subject.")] = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Activity: the text ('-' reads stdin).")
    ] = None,
    direction: Annotated[
        str | None, typer.Option("--direction", "-d", help="Activity: in or out.")
    ] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="Activity: 15m, 1:30.")] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="Activity: what came of it.")
    ] = None,
    rating: Annotated[int | None, typer.Option("--rating", help="Review: 1-5.")] = None,
    score: Annotated[int | None, typer.Option("--score", help="Survey: 0-100.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="Deal: value, 1.234,50.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="Deal: currency.")] = None,
    close: Annotated[
        str | None, typer.Option("--close", metavar="WHEN", help="Deal: expected close date.")
    ] = None,
    lost_reason: Annotated[
        str | None, typer.Option("--lost-reason", help="Deal: why it was lost.")
    ] = None,
    sku: Annotated[str | None, typer.Option("--sku", help="Product: new SKU.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Product: category (segment).")
    ] = None,
    price: Annotated[
        str | None, typer.Option("--price", help="Product: net unit price, 8,90.")
    ] = None,
    vat: Annotated[
        str | None, typer.Option("--vat", metavar="RATE", help="Product: VAT rate, 19 or 7 %.")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Product: unit (Stück, kg).")] = None,
    cost: Annotated[
        str | None,
        typer.Option(
            "--cost", help="Product: net purchase price; order: shipping and other costs."
        ),
    ] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Product: can be ordered, or not any more."),
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Order: shop, phone, store...")
    ] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Contact, order: the campaign (REF).")
    ] = None,
    keyword: Annotated[
        str | None,
        typer.Option(
            "--keyword", help="Contact, order: the campaign's keyword; campaign: add one."
        ),
    ] = None,
    remove_keyword: Annotated[
        list[str] | None,
        typer.Option(
            "--remove-keyword",
            help="Campaign: remove a keyword (its costs and contacts keep the campaign "
            "without keyword; asks first).",
        ),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", metavar="DAY", help="Campaign: first day.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="DAY", help="Campaign: last day.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Add a tag; repeatable.")
    ] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", help="Remove a tag; repeatable.")
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="KEY=VALUE",
            help="Set a custom field (KEY= removes it); repeatable.",
        ),
    ] = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(
            "--clear", metavar="FIELD", help="Empty a field, e.g. --clear phone; repeatable."
        ),
    ] = None,
    output: c.ResultOpt = None,
    where: WhereOpt = False,
    yes: c.YesOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Change a contact (default), company, deal, task, activity, tag, product, order or
    campaign; all changes land together. With --where: every contact (or company) the crm
    list filters after it select, in one transaction (asks first; scripts pass --yes);
    changes go before --where.

    An empty value ("") or --clear FIELD empties a field. On a contact --email and --phone
    replace the primary (with the kind given, work:..., else other; --clear email removes
    it: the next one becomes primary); --add-email, --remove-email, --primary-email and the
    same for phones change the others. They all read the contact as its card shows it:
    removals first, then the new primary, then additions, then --primary-*.

    Examples:

    \b
    crm edit müller --email neu@example.de --tag vip --untag lead
    crm edit müller --every "30 days"
    crm edit müller --add-email privat:jm@example.com \\
        --add-phone "mobil:0171 1234567"
    crm edit müller --primary-email jm@example.com --remove-phone "030 123456"
    crm edit company acme --city Köln --clear phone
    crm edit task 7 --due fri --priority high
    crm edit activity 42 --subject Reklamation
    crm edit tag vip --every "2 weeks"
    crm edit deal "dach köln" --amount 14.000 --close 15.1.2027
    crm edit product KAF-500 --price 9,40 --vat 7
    crm edit order 7 --status shipped --note "DHL 0034"
    crm edit campaign "google ads" --until 31.12.2026 --keyword "kaffee abo"
    crm edit --status customer --tag kunde --where --status lead \\
        --tag bestellt --yes
    """
    if dry_run and not where:
        raise Invalid(None, "--dry-run goes with --where")
    target, ref = (
        (where_kind(args or []), None) if where else c.split_kind(args or [], kinds=c.SHOWN_KINDS)
    )
    values = {k: v for k, v in locals().items() if k not in NOT_VALUES}
    values = {k: v for k, v in values.items() if v is not None and v != []}
    for key in clear or []:
        key = key.strip().lower().replace("-", "_")
        if key not in ALLOWED[target] or key in NOT_CLEARABLE:
            raise Invalid("clear", f"cannot clear '{key}' of a {target}")
        if values.get(key) not in (None, ""):
            raise Invalid("clear", f"'{key}' is both set and cleared")
        values[key] = ""
    misplaced = sorted(set(values) - ALLOWED[target])
    if misplaced:
        flags = ", ".join("--" + k.replace("_", "-") for k in misplaced)
        raise Invalid(None, f"{flags} does not apply to a {target}")
    if where and target == "contact" and set(values) & set(ADDRESS_OPS):
        raise Invalid("email", "each contact has its own emails and phones; change them one by one")
    if not values:
        where_hint = " (changes go before --where)" if where else ""
        raise Invalid(
            None, f"nothing to change{where_hint}; see crm edit --help for what a {target} has"
        )
    c.db()
    if where:
        from crmcli.commands.where import edit_where

        edit_where(target, values, yes=yes, dry_run_=dry_run, output=output)
        return
    if target == "campaign":  # removing a keyword that has costs or contacts asks first
        values["yes"] = yes
    EDITORS[target](ref, values, output)


# Changes that are not a field of the record itself.
LINKS = {"tag", "untag", "field", *ADDRESS_OPS}


def contact_changes(v: dict) -> dict:
    """The field changes of `crm edit` on a contact (its options as given) as the service
    takes them; one place for an edit of one contact and of many (--where)."""
    plain = {k: v[k] for k in CONTACT - {"consent_date", "every", *LINKS} if k in v}
    plain.update(
        {k: v[o] for k, o in (("consent_at", "consent_date"), ("cadence_days", "every")) if o in v}
    )
    return c.contact_values(plain)


def company_changes(v: dict) -> dict:
    """The field changes of `crm edit` on a company."""
    return {k: v[k] for k in COMPANY - LINKS if k in v}


def _edit_contact(ref: str, v: dict, output) -> None:
    from crmcli.services import contacts

    contact_id = contacts.resolve_contact(ref)
    from crmcli.commands.add import company_news

    changes = contact_changes(v)
    from crmcli.commands.campaigns import keyword_news

    news = keyword_news(v.get("campaign"), v.get("keyword"))
    for key in ("email", "phone"):  # a kind may go in front: --email work:jm@firma.de
        if changes.get(key):
            changes[key] = _kinded([changes[key]], key, key)[0]
    one = {"primary_email": "email", "primary_phone": "phone"}
    card = contacts.edit_contact(
        contact_id, changes, add_tags=v.get("tag", []),
        remove_tags=v.get("untag", []), fields=c.assignments(v.get("field")),
        add_emails=_kinded(v.get("add_email"), "email", "add-email"),
        remove_emails=_kinded(v.get("remove_email"), "email", "remove-email"),
        add_phones=_kinded(v.get("add_phone"), "phone", "add-phone"),
        remove_phones=_kinded(v.get("remove_phone"), "phone", "remove-phone"),
        **{k: _kinded([v[k]], f, k.replace("_", "-"))[0] for k, f in one.items() if v.get(k)},
        now=c.now(),
    )  # fmt: skip
    label = f"contact #{card['id']} {card['name']}"
    for value in card["already_has"]:
        c.done(f"{label[0].upper()}{label[1:]} already has {value}.")
    for value in card["already_primary"]:
        c.done(f"{value} already is the primary of {label}.")
    if card["unchanged"]:
        if not (card["already_has"] or card["already_primary"]):
            c.done(f"Nothing changed: {label} already is like that.")
    else:
        company_news(card)
        c.done(f"Updated {label}.")
        if news:
            c.done(news)
    if output is not None:
        print_contact(card, output)


def _kinded(values: list[str] | None, what: str, option: str) -> list[dict]:
    """Emails or phones as typed, `[KIND:]VALUE` each, an unknown kind named by its option
    (`remove-phone: unknown kind ...`)."""
    from crmcli.values import parse_kinded

    out = []
    for text in values or []:
        kind, value = parse_kinded(text, field=option)
        out.append({what: value, "kind": kind})
    return out


def _edit_company(ref: str, v: dict, output) -> None:
    from crmcli.services import companies

    company_id = companies.resolve_company(ref)
    card = companies.edit_company(
        company_id, company_changes(v), add_tags=v.get("tag", []),
        remove_tags=v.get("untag", []), now=c.now(),
    )  # fmt: skip
    c.done(f"Updated company #{card['id']} {card['name']}.")
    if output is not None:
        print_company(card, output)


def _edit_task(ref: str, v: dict, output) -> None:
    from crmcli.services import contacts, tasks
    from crmcli.values import local_tz, parse_every, parse_when_kind

    task_id = tasks.resolve_task(ref)
    changes: dict = {}
    if "title" in v:
        changes["title"] = v["title"]
    if "note" in v:
        changes["note"] = v["note"]
    if "contact" in v:
        changes["contact_id"] = contacts.resolve_contact(v["contact"]) if v["contact"] else None
    if "due" in v:
        due_at, has_time = (
            parse_when_kind(v["due"], c.now(), field="due") if v["due"] else (None, False)
        )
        if due_at is not None and not has_time:  # a day: the service keeps the time of day
            changes["due_at"] = due_at.astimezone(local_tz()).date()
        else:
            changes.update(due_at=due_at, due_has_time=has_time)
    if "every" in v:
        changes["rrule"] = parse_every(v["every"]) if v["every"] else None
    if "priority" in v:
        changes["priority"] = tasks.check_priority(v["priority"])
    card = tasks.edit_task(task_id, changes, now=c.now())
    c.done(f"Updated task #{card['id']} {card['title']}.")
    if output is not None:
        print_task(card, output)


def _edit_activity(ref: str, v: dict, output) -> None:
    from crmcli.services import activities

    activity_id = activities.resolve_activity_ref(ref)
    changes = {k: v[k] for k in ("kind", "subject", "direction", "outcome", "owner") if k in v}
    changes.update({k: v[k] or None for k in ("rating", "score") if k in v})
    if "at" in v:
        # It happened: `fri` or `24.12.` is the most recent one, not the next.
        changes["occurred_at"] = c.when(v["at"], "at", prefer="past")
    if "message" in v:
        changes["body"] = c.message_text(v["message"], what="text") if v["message"] else None
    if "duration" in v:
        changes["duration_min"] = c.duration(v["duration"])
    card = activities.edit_activity(activity_id, changes, now=c.now())
    c.done(f"Updated {card['kind']} #{card['id']}.")
    if output is not None:
        print_activity(card, output)


def _edit_tag(ref: str, v: dict, output) -> None:
    from crmcli.services import tags
    from crmcli.values import describe_cadence, parse_cadence

    changes: dict = {}
    if "name" in v:
        changes["name"] = v["name"]
    if "every" in v:
        changes["cadence_days"] = parse_cadence(v["every"]) if v["every"] else None
    card = tags.edit_tag(ref, changes, now=c.now())
    cadence = describe_cadence(card["cadence_days"])
    c.done(f"Updated tag {card['name']}" + (f" (stay in touch {cadence})." if cadence else "."))
    if output is not None:
        from crmcli.output import render_record

        render_record(
            card, (("id", "Id"), ("name", "Name"), ("cadence_days", "Cadence (days)")), output
        )


def _edit_deal(ref: str, v: dict, output) -> None:
    from crmcli.services import companies, contacts, deals
    from crmcli.values import parse_money_cents

    deal_id = deals.resolve_deal(ref)
    changes = {k: v[k] for k in ("title", "currency", "owner", "source", "lost_reason") if k in v}
    if "amount" in v:
        changes["amount_cents"] = parse_money_cents(v["amount"]) if v["amount"] else 0
    if "close" in v:
        changes["expected_close"] = c.day(v["close"], "close")
    if "contact" in v:
        changes["contact_id"] = contacts.resolve_contact(v["contact"]) if v["contact"] else None
    if "company" in v:
        changes["company_id"] = companies.resolve_company(v["company"]) if v["company"] else None
    card = deals.edit_deal(deal_id, changes, now=c.now())
    c.done(f"Updated deal #{card['id']} {card['title']}.")
    if output is not None:
        from crmcli.commands.cards import print_deal

        print_deal(deals.deal_card(card["id"]), output)


def _edit_product(ref: str, v: dict, output) -> None:
    from crmcli.commands.orders import print_product
    from crmcli.services import products
    from crmcli.values import parse_money_cents, parse_percent_bp

    product_id = products.resolve_product(ref)
    changes = {k: v[k] for k in ("sku", "name", "category", "unit", "active") if k in v}
    if "price" in v:
        changes["price_cents"] = parse_money_cents(v["price"], field="price")
    if "vat" in v:
        changes["vat_bp"] = parse_percent_bp(v["vat"], field="vat")
    if "cost" in v:  # --clear cost: not known
        changes["cost_cents"] = parse_money_cents(v["cost"], field="cost") if v["cost"] else None
    card = products.edit_product(product_id, changes, now=c.now())
    c.done(f"Updated product #{card['id']} {card['sku']} {card['name']}.")
    if output is not None:
        print_product(card, output)


def _edit_order(ref: str, v: dict, output) -> None:
    from crmcli.commands.orders import describe, print_order
    from crmcli.services import orders
    from crmcli.values import parse_money_cents

    order_id = orders.resolve_order(ref)
    changes = {k: v[k] for k in ("status", "channel", "campaign", "keyword", "note") if k in v}
    if "cost" in v:
        changes["cost_cents"] = parse_money_cents(v["cost"], field="cost") if v["cost"] else 0
    if "at" in v:
        changes["ordered_at"] = c.when(v["at"], "at", prefer="past")
    news = None
    if v.get("keyword"):  # a keyword alone is one of the order's campaign
        from crmcli.commands.campaigns import keyword_news

        campaign = v["campaign"] if "campaign" in v else orders.order_card(order_id)["campaign"]
        news = keyword_news(campaign, v["keyword"])
    card = orders.edit_order(order_id, changes, now=c.now())
    c.done(f"Updated {describe(card)}.")
    if news:
        c.done(news)
    if output is not None:
        print_order(card, output)


def _campaign_editor():
    from crmcli.commands.campaigns import edit_campaign

    return edit_campaign


EDITORS = {
    "contact": _edit_contact, "company": _edit_company, "task": _edit_task,
    "campaign": lambda ref, v, output: _campaign_editor()(ref, v, output),
    "activity": _edit_activity, "tag": _edit_tag, "deal": _edit_deal,
    "product": _edit_product, "order": _edit_order,
}  # fmt: skip
edit.command_class = WhereCommand
