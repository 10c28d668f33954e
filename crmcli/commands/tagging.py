"""`crm tag` and `crm untag`: classify contacts and companies."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c

Args = Annotated[
    list[str],
    typer.Argument(
        metavar="[KIND] REF TAG...", help="contact (default) or company, REF, then tags."
    ),
]


def _apply(args: list[str], remove: bool) -> None:
    from crmcli.services import companies, contacts

    kind = "contact"
    if len(args) >= 3 and args[0].lower() in ("contact", "company"):
        kind, args = args[0].lower(), args[1:]
    if len(args) < 2:
        raise typer.BadParameter("give REF and at least one TAG")
    ref, names = args[0], args[1:]
    c.db()
    if kind == "company":
        card = companies.tag_company(companies.resolve_company(ref), names, remove=remove)
    else:
        card = contacts.tag_contact(contacts.resolve_contact(ref), names, remove=remove)
    shown = ", ".join(card["tags"]) or "none"
    c.done(f"{kind.capitalize()} #{card['id']} {card['name']} now has tags: {shown}.")


def tag(args: Args) -> None:
    """Add tags to a contact (or: crm tag company REF TAG...).

    Example: crm tag müller vip newsletter
    """
    _apply(args, remove=False)


def untag(args: Args) -> None:
    """Remove tags from a contact (or: crm untag company REF TAG...).

    Example: crm untag müller newsletter
    """
    _apply(args, remove=True)
