"""`crm tag` and `crm untag`: classify contacts and companies, one by REF or many by filter."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.where import KIND_WORDS, DryRunOpt, WhereCommand, WhereOpt

# Optional for click, so that a missing TAG is said in crm's words ("give at least one TAG"
# with --where, "give REF and at least one TAG" without).
Args = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[KIND] REF TAG...",
        help="contact (default) or company, REF, then tags; with --where no REF.",
    ),
]


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


def _apply(args: list[str], *, remove: bool, where: bool, yes: bool, dry_run: bool) -> None:
    from crmcli.services import companies, contacts

    if where:
        _apply_where(args, remove=remove, yes=yes, dry_run=dry_run)
        return
    if dry_run:
        from crmcli.errors import Invalid

        raise Invalid(None, "--dry-run goes with --where")
    kind, args = split_kind(args)
    if len(args) < 2:
        raise typer.BadParameter("give REF and at least one TAG")
    ref, names = args[0], args[1:]
    c.db()
    if kind == "company":
        card = companies.tag_company(companies.resolve_company(ref), names, remove=remove)
    else:
        card = contacts.tag_contact(contacts.resolve_contact(ref), names, remove=remove)
    label = f"{kind.capitalize()} #{card['id']} {card['name']}"
    for name in card.get("not_tagged", []):
        c.done(f"{label} had no tag {name}.")
    shown = ", ".join(card["tags"]) or "none"
    c.done(f"{label} now has tags: {shown}.")


def _apply_where(args: list[str], *, remove: bool, yes: bool, dry_run: bool) -> None:
    from crmcli.commands import where as w
    from crmcli.values import plural

    # One word alone is a tag, even one that names a kind (`crm tag --where --city köln company`).
    kind, names = split_kind(args) if len(args) > 1 else ("contact", args)
    if not names:
        raise typer.BadParameter("give at least one TAG")
    filters, every, rows = w.select(kind)
    if w.none_match(kind, rows):
        return
    listed = ", ".join(names)
    target = plural(len(rows), kind)
    action = f"remove {listed} from {target}" if remove else f"tag {target} with {listed}"
    if dry_run:
        w.dry_run(kind, filters, action)
        return
    w.ask(action[0].upper() + action[1:] + "?", kind, rows, yes=yes)
    from crmcli.services import bulk

    result = bulk.tag(
        kind, filters, names, remove=remove, every=every, expect=w.ids(rows), now=c.now()
    )
    links = plural(result["changed"], "tag")
    if remove:
        c.done(f"Removed {listed} from {target} ({links} removed).")
    else:
        c.done(f"Tagged {target} with {listed} ({links} added).")


def tag(
    args: Args = None, where: WhereOpt = False, yes: c.YesOpt = False, dry_run: DryRunOpt = False
):
    """Add tags to a contact (or: crm tag company REF TAG...), or with --where to every contact
    the crm list filters select, in one transaction (asks first; scripts pass --yes).

    Examples:

    \b
    crm tag müller vip newsletter
    crm tag --where --city köln --status customer newsletter
    crm tag company --where --industry bau b2b --yes
    """
    _apply(args or [], remove=False, where=where, yes=yes, dry_run=dry_run)


def untag(
    args: Args = None, where: WhereOpt = False, yes: c.YesOpt = False, dry_run: DryRunOpt = False
):
    """Remove tags from a contact (or: crm untag company REF TAG...), or with --where from every
    contact the crm list filters select, in one transaction (asks first; scripts pass --yes).

    Examples:

    \b
    crm untag müller newsletter
    crm untag --where --status inactive newsletter --yes
    """
    _apply(args or [], remove=True, where=where, yes=yes, dry_run=dry_run)


tag.command_class = untag.command_class = WhereCommand
