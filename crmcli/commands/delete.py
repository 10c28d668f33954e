"""`crm delete [KIND] REF`: remove a contact or a company, after confirmation."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.env import current


class PeopleChoice(StrEnum):
    keep = "keep"
    delete = "delete"


def delete(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="[KIND] REF", help="contact (default), company, deal, task, activity or tag."
        ),
    ],
    yes: c.YesOpt = False,
    contacts: Annotated[
        PeopleChoice | None,
        typer.Option(
            "--contacts", help="For a company: keep its people (without company) or delete them."
        ),
    ] = None,
) -> None:
    """Delete a contact (with its timeline and tasks), company, deal, task, activity or tag.
    Asks first on a terminal; scripts must pass --yes.

    Examples: crm delete 12 | crm delete company acme --contacts keep --yes | crm delete task 7
    """
    kind, ref = c.split_kind(args)
    if contacts is not None and kind != "company":
        from crmcli.errors import Invalid

        raise Invalid(None, "--contacts applies to deleting a company")
    c.db()
    if kind in OTHERS:
        label, remove = OTHERS[kind](ref)
        c.confirm(f"Delete {label}?", yes=yes)
        remove()
        c.done(f"Deleted {label}.")
        return
    if kind == "company":
        from crmcli.services import companies

        company_id = companies.resolve_company(ref)
        card = companies.get_company(company_id)
        people = len(card["contacts"])
        label = f"company #{company_id} {card['name']}"
        answered = False  # a person who chose keep/delete at the prompt has confirmed
        if contacts is None and people:
            contacts = _ask_people(label, people, yes)
            answered = not yes
        c.confirm(f"Delete {label}?", yes=yes or answered)
        companies.delete_company(company_id, contacts=(contacts or PeopleChoice.keep).value)
        what = "deleted" if contacts is PeopleChoice.delete else "kept without company"
        c.done(f"Deleted {label}" + (f"; {people} contact(s) {what}." if people else "."))
        return
    from crmcli.services import contacts as contact_service

    contact_id = contact_service.resolve_contact(ref)
    card = contact_service.get_contact(contact_id)
    label = f"contact #{contact_id} {card['name']}"
    extra = contact_service.dependents(contact_id)
    if any(extra.values()):
        label += " with " + " and ".join(f"{n} {what}" for what, n in extra.items() if n)
    c.confirm(f"Delete {label}?", yes=yes)
    contact_service.delete_contact(contact_id)
    c.done(f"Deleted {label}.")


def _task(ref: str):
    from crmcli.services import tasks

    card = tasks.get_task(tasks.resolve_task(ref))
    return f"task #{card['id']} {card['title']}", lambda: tasks.delete_task(card["id"])


def _activity(ref: str):
    from crmcli.services import activities

    card = activities.get_activity(activities.resolve_activity_ref(ref))
    who = card["contact"] or card["company"]
    label = f"{card['kind']} #{card['id']} with {who}"
    return label, lambda: activities.delete_activity(card["id"])


def _tag(ref: str):
    from crmcli.services import tags

    tag_id = tags.resolve_tag(ref)
    card = next(t for t in tags.list_tags() if t["id"] == tag_id)
    users = card["contacts"] + card["companies"]
    label = f"tag {card['name']}" + (f" (on {users} contacts and companies)" if users else "")
    return label, lambda: tags.delete_tag(tag_id)


def _deal(ref: str):
    from crmcli.services import deals

    card = deals.get_deal(deals.resolve_deal(ref))
    label = f"deal #{card['id']} {card['title']} with its stage history"
    return label, lambda: deals.delete_deal(card["id"])


OTHERS = {"task": _task, "activity": _activity, "tag": _tag, "deal": _deal}


def _ask_people(label: str, people: int, yes: bool) -> PeopleChoice:
    """A company with people: the user decides what becomes of them (keep when --yes alone)."""
    if yes:
        return PeopleChoice.keep
    if not current().stdin_isatty:
        from crmcli.errors import CrmError

        raise CrmError(f"{label} has {people} contact(s); pass --yes and --contacts keep|delete")
    answers = {"k": "keep", "keep": "keep", "d": "delete", "delete": "delete"}
    answers |= {"c": "cancel", "cancel": "cancel", "": "cancel"}
    question = (
        f"{label} has {people} contact(s). [k]eep them without company, [d]elete them, or [c]ancel?"
    )
    for _ in range(3):
        answer = answers.get(typer.prompt(question, default="cancel", err=True).strip().lower())
        if answer == "cancel":
            break
        if answer is not None:
            return PeopleChoice(answer)
    raise typer.Abort()
