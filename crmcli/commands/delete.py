"""`crm delete [KIND] REF`: remove a contact or a company, after confirmation."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.env import current


class PeopleChoice(str, Enum):
    keep = "keep"
    delete = "delete"


def delete(
    args: Annotated[list[str], typer.Argument(metavar="[KIND] REF", help="contact (default) or company, then REF.")],
    yes: c.YesOpt = False,
    contacts: Annotated[
        PeopleChoice | None,
        typer.Option("--contacts", help="For a company: keep its people (without company) or delete them."),
    ] = None,
) -> None:
    """Delete a contact or a company. Asks first on a terminal; scripts must pass --yes.

    Examples: crm delete 12 | crm delete company acme --contacts keep --yes
    """
    kind, ref = c.split_kind(args)
    c.db()
    if kind == "company":
        from crmcli.services import companies

        company_id = companies.resolve_company(ref)
        card = companies.get_company(company_id)
        people = len(card["contacts"])
        label = f"company #{company_id} {card['name']}"
        if contacts is None and people:
            contacts = _ask_people(label, people, yes)
        c.confirm(f"Delete {label}?", yes=yes or contacts is not None)
        result = companies.delete_company(company_id, contacts=(contacts or PeopleChoice.keep).value)
        what = "deleted" if contacts is PeopleChoice.delete else "kept without company"
        c.done(f"Deleted {label}" + (f"; {people} contact(s) {what}." if people else "."))
        return
    if contacts is not None:
        from crmcli.errors import Invalid

        raise Invalid(None, "--contacts applies to deleting a company")
    from crmcli.services import contacts as contact_service

    contact_id = contact_service.resolve_contact(ref)
    card = contact_service.get_contact(contact_id)
    label = f"contact #{contact_id} {card['name']}"
    c.confirm(f"Delete {label}?", yes=yes)
    contact_service.delete_contact(contact_id)
    c.done(f"Deleted {label}.")


def _ask_people(label: str, people: int, yes: bool) -> PeopleChoice:
    """A company with people: the user decides what becomes of them (keep when --yes alone)."""
    if yes:
        return PeopleChoice.keep
    if not current().stdin_isatty:
        from crmcli.errors import CrmError

        raise CrmError(
            f"{label} has {people} contact(s); pass --yes and --contacts keep|delete"
        )
    answers = {"k": "keep", "keep": "keep", "d": "delete", "delete": "delete"}
    answers |= {"c": "cancel", "cancel": "cancel", "": "cancel"}
    question = f"{label} has {people} contact(s). [k]eep them without company, [d]elete them, or [c]ancel?"
    for _ in range(3):
        answer = answers.get(typer.prompt(question, default="cancel", err=True).strip().lower())
        if answer == "cancel":
            break
        if answer is not None:
            return PeopleChoice(answer)
    raise typer.Abort()


def register(app: typer.Typer) -> None:
    app.command("delete")(delete)
