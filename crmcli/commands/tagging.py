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
# The words `crm tag KIND ...` reads as a kind: the ones that carry tags, and the others, so that
# `crm tag deal 19 x` says deals have no tags instead of looking for a contact named "deal".
KIND_WORDS = {
    "contact": "contact", "contacts": "contact", "person": "contact",
    "company": "company", "companies": "company",
    "deal": "deals", "deals": "deals", "task": "tasks", "tasks": "tasks",
    "activity": "activities", "activities": "activities", "tag": "tags", "tags": "tags",
}  # fmt: skip


def split_kind(args: list[str]) -> tuple[str, list[str]]:
    """`[KIND] REST...`: contact or company, and the rest. A first word that names a kind is
    the kind (`crm tag contact company x` tags a contact named Company)."""
    from crmcli.errors import Invalid

    kind = KIND_WORDS.get(args[0].lower()) if args else None
    if kind is None:
        return "contact", args
    if kind not in ("contact", "company"):
        raise Invalid(None, f"{kind} have no tags; only contacts and companies carry tags")
    return kind, args[1:]


def _apply(args: list[str], remove: bool) -> None:
    from crmcli.services import companies, contacts

    kind, args = split_kind(args)
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
