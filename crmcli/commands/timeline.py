"""`crm log KIND CONTACT` and `crm resolve ACTIVITY`: the timeline of every interaction."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_activity

KINDS_HELP = (
    "call, email, letter, meeting, note, inquiry, complaint, return, review, survey or document"
)


def log(
    kind: Annotated[str, typer.Argument(help=KINDS_HELP + ".")],
    contact: Annotated[
        str | None, typer.Argument(help="The contact (REF); optional with --company.")
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            "--message", "-m", help="The text; '-' reads stdin; none opens $EDITOR on a terminal."
        ),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="A short subject line.")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="WHEN",
            help="When it happened (default: now); fri or 24.12. is the last one.",
        ),
    ] = None,
    direction: Annotated[
        str | None, typer.Option("--direction", "-d", help="in (they contacted you) or out.")
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="How long: 15m, 1h30m, 1:30.")
    ] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What came of it.")] = None,
    rating: Annotated[int | None, typer.Option("--rating", help="A review's stars, 1-5.")] = None,
    score: Annotated[int | None, typer.Option("--score", help="A survey's score, 0-100.")] = None,
    company: Annotated[
        str | None,
        typer.Option("--company", "-c", help="The company (REF), with or instead of a contact."),
    ] = None,
    deal: Annotated[str | None, typer.Option("--deal", help="About this deal (REF).")] = None,
    order: Annotated[
        str | None,
        typer.Option(
            "--order",
            metavar="ORDER",
            help="An inquiry, complaint or return about this order (id or external id); "
            "the contact defaults to the order's.",
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Who in your team had this interaction.")
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="With '-': an unknown sender becomes a new lead.")
    ] = False,
    output: c.ResultOpt = None,
) -> None:
    """Record an interaction on a contact's (or company's) timeline.

    Inquiries, complaints and returns stay open until `crm resolve`. `-m -` with nothing
    on stdin, or a note without any text, is refused: nothing is logged.

    `-` as the contact reads a mail message on stdin (from mutt, neomutt or aerc): the
    contact is its sender, or for a mail you sent (From one of $CRM_MY_EMAILS, or
    --direction out) its first recipient who is a contact; subject, text, date and
    Message-ID come from the mail, and the same mail piped again is logged once.

    Examples:

    \b
    crm log call müller -m "Angebot besprochen" --duration 15m \\
        --direction out
    echo "Lieferung beschädigt" | \\
        crm log complaint jm@example.de -m - --subject Lieferung
    crm log email - < message.eml
    crm log email - --create < message.eml
    crm log return --order 1042 -m "Mühle defekt"
    """
    from crmcli.errors import Invalid

    if contact == "-":
        return _log_piped_mail(kind, message, company, create, output, values=dict(
            subject=subject, at=at, direction=direction, duration=duration, outcome=outcome,
            rating=rating, score=score, deal=deal, owner=owner,
        ))  # fmt: skip
    if create:
        raise Invalid("create", "--create goes with '-' (a mail on stdin)")
    if contact is None and company is None and order is None:
        raise Invalid("contact", "name a contact, or a company with --company")
    values = dict(
        subject=subject, direction=direction, duration_min=c.duration(duration), outcome=outcome,
        rating=rating, score=score, owner=owner,
    )  # fmt: skip
    occurred = c.when(at, "at", prefer="past")  # it happened: fri is last Friday
    c.db()
    from crmcli.services import activities, companies, contacts, deals, orders

    kind = activities.check_kind(kind)
    deal_id = deals.resolve_deal(deal) if deal else None
    order_id = orders.resolve_order(order) if order else None
    contact_id = contacts.resolve_contact(contact) if contact else None
    company_id = companies.resolve_company(company) if company else None
    body = c.message_text(message, what=kind, empty_ok=kind != "note")
    card = activities.log_activity(
        kind, contact_id=contact_id, company_id=company_id, deal_id=deal_id, order_id=order_id,
        occurred_at=occurred, body=body, now=c.now(), **values,
    )  # fmt: skip
    who = card["contact"] or card["company"]
    c.done(f"Logged {kind} #{card['id']} with {who}.")
    if output is not None:
        print_activity(card, output)


def resolve(
    activity: Annotated[str, typer.Argument(help="The inquiry, complaint or return (id).")],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="How it was resolved.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who resolved it (default: $USER).")
    ] = None,
    output: c.ResultOpt = None,
) -> None:
    """Mark an inquiry, complaint or return as resolved, with who, when and how.

    Example:

    \b
    crm resolve 42 -m "Ersatz geliefert"
    """
    c.db()
    from crmcli.services import activities
    from crmcli.services.users import acting_user

    activity_id = activities.resolve_activity_ref(activity)
    card = activities.resolve_activity(
        activity_id, note=message, by=by or acting_user(), now=c.now()
    )
    c.done(f"Resolved {card['kind']} #{card['id']} of {card['contact'] or card['company']}.")
    if output is not None:
        print_activity(card, output)


def _log_piped_mail(kind, message, company, create, output, *, values: dict) -> None:
    """`crm log KIND -`: the mail message on stdin, logged once on its contact's timeline."""
    import sys

    from crmcli.env import current
    from crmcli.errors import Invalid

    if message is not None or company is not None:
        raise Invalid(None, "a piped mail brings its own text and contact: leave out -m and -c")
    if current().stdin_isatty:
        raise Invalid(
            None, "'-' reads a mail message on stdin: pipe one in (crm log email - < x.eml)"
        )
    occurred = c.when(values.pop("at"), "at", prefer="past")
    duration = c.duration(values.pop("duration"))
    c.db()
    from crmcli.services import activities, deals, mailin

    kind = activities.check_kind(kind)
    deal = values.pop("deal")
    extra = {k: v for k, v in values.items() if v is not None and k != "direction"}
    if deal:
        extra["deal_id"] = deals.resolve_deal(deal)
    if duration is not None:
        extra["duration_min"] = duration
    if occurred is not None:
        extra["occurred_at"] = occurred
    buffer = getattr(sys.stdin, "buffer", None)  # None: a text-only stdin (some test runners)
    data = buffer.read(mailin.MAX_BYTES + 1) if buffer else sys.stdin.read().encode()
    logged = mailin.log_mail(
        data, kind=kind, direction=values["direction"], create=create, now=c.now(), **extra
    )
    card = logged.card
    if logged.existing:
        c.done(f"Already logged as activity #{card['id']} ({card['contact']}); nothing changed.")
    else:
        if logged.created_contact is not None:
            new = logged.created_contact
            c.done(f"Added contact #{new['id']} {new['name']} <{new['email']}> as a lead.")
        way = "to" if logged.direction == "out" else "from"
        c.done(f"Logged {kind} #{card['id']} {way} {card['contact']}.")
    if output is not None:
        print_activity(card, output)
