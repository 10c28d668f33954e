"""`crm add contact|company|deal|task|product|order`: create records."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_company, print_contact
from crmcli.services.limits import MAX_OCCURRENCES

app = typer.Typer(
    help="Create a contact, company, deal, task, product, order, campaign or cost.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("contact")
def add_contact(
    name: Annotated[str, typer.Argument(help="Full name, e.g. 'Jürgen Müller'.")],
    email: c.EmailsOpt = None,
    phone: c.PhonesOpt = None,
    company: c.CompanyOpt = None,
    position: c.PositionOpt = None,
    street: c.StreetOpt = None,
    zip: c.ZipOpt = None,
    city: c.CityOpt = None,
    country: c.CountryOpt = None,
    birthday: c.BirthdayOpt = None,
    status: c.StatusOpt = None,
    source: c.SourceOpt = None,
    campaign: c.CampaignOpt = None,
    keyword: c.KeywordOpt = None,
    owner: c.OwnerOpt = None,
    notes: c.NotesOpt = None,
    tag: c.TagOpt = None,
    field: c.FieldOpt = None,
    consent: c.ConsentOpt = None,
    consent_date: c.ConsentDateOpt = None,
    every: c.EveryOpt = None,
    output: c.ResultOpt = None,
) -> None:
    """Create a contact. --company names a company like a REF (id, name or a unique part of
    it, case and accents ignored); a new one is created only when nothing matches, and an
    ambiguous name lists the candidates and changes nothing. --email and --phone repeat; the
    first of each is the primary (what lists show); a kind may go in front (work:, privat:).

    Examples:

    \b
    crm add contact "Jürgen Müller" -e jm@example.de -p "030 1234567" \\
        -c "Müller Bau GmbH" --city Berlin -t vip --field kundennr=4711
    crm add contact "Anna Weiß" -e work:anna@firma.de -e privat:anna@example.com \\
        -p "030 1234567" -p "mobil:0171 1234567"
    """
    values = c.contact_values(
        dict(
            position=position, street=street, zip=zip, city=city,
            country=country, birthday=birthday, status=status, source=source, owner=owner,
            notes=notes, consent=consent, consent_at=consent_date, cadence_days=every,
            campaign=campaign, keyword=keyword,
        )
    )  # fmt: skip
    fields = c.assignments(field)
    c.db()
    from crmcli.commands.campaigns import keyword_news
    from crmcli.services import contacts

    news = keyword_news(campaign, keyword)
    card = contacts.add_contact(
        name, company=company, tags_=tag or [], fields=fields, now=c.now(),
        emails=c.kinded(email, "email"), phones=c.kinded(phone, "phone"), **values,
    )  # fmt: skip
    company_news(card)
    if news:
        c.done(news)
    at = f" at {card['company']} (company #{card['company_id']})" if card["company"] else ""
    c.done(f"Added contact #{card['id']} {card['name']}{at}.")
    if output is not None:
        print_contact(card, output)


def company_news(result: dict) -> None:
    """Say so when naming a company created it (a typo would otherwise go unnoticed): one
    wording for add, edit and edit --where, from what the service reports."""
    if result.get("company_created"):
        c.done(f"Created company '{result['company']}' (#{result['company_id']}).")


@app.command("company")
def add_company(
    name: Annotated[str, typer.Argument(help="Company name, e.g. 'Müller Bau GmbH'.")],
    domain: c.DomainOpt = None,
    industry: c.IndustryOpt = None,
    phone: c.PhoneOpt = None,
    email: c.EmailOpt = None,
    street: c.StreetOpt = None,
    zip: c.ZipOpt = None,
    city: c.CityOpt = None,
    country: c.CountryOpt = None,
    notes: c.NotesOpt = None,
    tag: c.TagOpt = None,
    output: c.ResultOpt = None,
) -> None:
    """Create a company. A company whose name differs only in case or accents exists already.

    Example:

    \b
    crm add company "Müller Bau GmbH" --domain mueller-bau.de \\
        --industry Bau --city Köln
    """
    values = c.given(
        domain=domain, industry=industry, phone=phone, email=email, street=street, zip=zip,
        city=city, country=country, notes=notes,
    )  # fmt: skip
    c.db()
    from crmcli.services import companies

    card = companies.add_company(name, tags_=tag or [], now=c.now(), **values)
    c.done(f"Added company #{card['id']} {card['name']}.")
    if output is not None:
        print_company(card, output)


PRIORITY_HELP = "low, normal or high."


@app.command("task")
def add_task(
    title: Annotated[str, typer.Argument(help="What to do, e.g. 'Angebot nachfassen'.")],
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="For this contact (REF).")
    ] = None,
    deal: Annotated[str | None, typer.Option("--deal", help="For this deal (REF).")] = None,
    due: Annotated[
        str | None,
        typer.Option("--due", metavar="WHEN", help="Due: fri, tomorrow 9:00, 24.12., +3d."),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            metavar="RULE",
            help="Repeat: weekly, '2 weeks', monatlich, 'FREQ=MONTHLY;BYDAY=1MO'.",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="WHEN", help="Last possible occurrence.")
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            min=1,
            max=MAX_OCCURRENCES,
            help="How many occurrences in all (at most 10,000).",
        ),
    ] = None,
    priority: Annotated[str, typer.Option("--priority", "-P", help=PRIORITY_HELP)] = "normal",
    note: Annotated[str | None, typer.Option("--note", help="Details.")] = None,
    output: c.ResultOpt = None,
) -> None:
    """Create a task, optionally recurring (RFC 5545 rules).

    Examples:

    \b
    crm add task "Rückruf Müller" -C müller --due "tomorrow 9:00"
    crm add task Wochenbericht --due "mon 8:00" --every weekly
    """
    from crmcli.commands.cards import print_task
    from crmcli.errors import Invalid
    from crmcli.values import parse_every, parse_when_ex

    due_at, has_time = parse_when_ex(due, c.now(), field="due") if due else (None, False)
    rule = parse_every(every) if every else None
    if rule is None and (until or count):
        raise Invalid("every", "--until and --count need --every")
    until_at = c.when(until, "until")
    c.db()
    from crmcli.services import contacts, deals, tasks

    if rule:
        rule = tasks.with_end(rule, until=until_at, count=count)
    contact_id = contacts.resolve_contact(contact) if contact else None
    deal_id = deals.resolve_deal(deal) if deal else None
    card = tasks.add_task(
        title, contact_id=contact_id, deal_id=deal_id, due_at=due_at,
        due_has_time=has_time, rrule=rule, priority=tasks.check_priority(priority), note=note,
        now=c.now(),
    )  # fmt: skip
    from crmcli.commands.tasks import describe

    c.done(f"Added {describe(card)}.")
    if output is not None:
        print_task(card, output)


@app.command("deal")
def add_deal(
    title: Annotated[str, typer.Argument(help="What is being sold, e.g. 'Dachsanierung Köln'.")],
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="With this contact (REF).")
    ] = None,
    company: Annotated[
        str | None,
        typer.Option("--company", "-c", help="With this company (REF; default: the contact's)."),
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", "-a", help="Value: 1.234,50 or 1234.50.")
    ] = None,
    currency: Annotated[str, typer.Option("--currency", help="Currency code.")] = "EUR",
    stage: Annotated[
        str | None, typer.Option("--stage", "-S", help="Start in this stage (default: the first).")
    ] = None,
    close: Annotated[
        str | None,
        typer.Option(
            "--close", metavar="WHEN", help="Expected close date: 31.12., +30d, 2027-01-15."
        ),
    ] = None,
    owner: c.OwnerOpt = None,
    source: c.SourceOpt = None,
    campaign: c.CampaignOpt = None,
    keyword: c.KeywordOpt = None,
    output: c.ResultOpt = None,
) -> None:
    """Open a deal in the sales pipeline; its first step is recorded in its stage history.
    Without --campaign it carries the campaign and keyword of its contact.

    Example:

    \b
    crm add deal "Dachsanierung Köln" -C müller --amount 12.500,00 \\
        --close 31.12.
    """
    from crmcli.commands.deals import describe
    from crmcli.errors import Invalid
    from crmcli.values import parse_money_cents

    if contact is None and company is None:
        raise Invalid("contact", "a deal is with someone: give --contact or --company")
    cents = parse_money_cents(amount) if amount is not None else 0
    expected = c.day(close, "close")
    c.db()
    from crmcli.commands.campaigns import keyword_news
    from crmcli.services import companies, contacts, deals
    from crmcli.services.users import acting_user

    news = keyword_news(campaign, keyword)
    card = deals.add_deal(
        title, contact_id=contacts.resolve_contact(contact) if contact else None,
        company_id=companies.resolve_company(company) if company else None, amount_cents=cents,
        currency=currency, stage=stage, expected_close=expected, owner=owner, source=source,
        campaign=campaign, keyword=keyword, now=c.now(), by=acting_user(),
    )  # fmt: skip
    c.done(f"Added {describe(card)} in {card['stage']}.")
    if news:
        c.done(news)
    if output is not None:
        from crmcli.commands.cards import print_deal

        print_deal(deals.deal_card(card["id"]), output)


# Products and orders live in commands/orders.py with how they are shown.
from crmcli.commands import orders as _orders  # noqa: E402

app.command("product")(_orders.add_product)
app.command("order")(_orders.add_order)

# Campaigns and their costs live in commands/campaigns.py with how they are shown.
from crmcli.commands import campaigns as _campaigns  # noqa: E402

app.command("campaign")(_campaigns.add_campaign)
app.command("cost")(_campaigns.add_cost)

from crmcli.commands import commissions as _commissions  # noqa: E402

app.command("commission")(_commissions.add_commission)
