"""`crm delete [KIND] REF`: remove a contact or a company, after confirmation."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.where import DryRunOpt, WhereCommand, WhereOpt
from crmcli.env import current


class PeopleChoice(StrEnum):
    keep = "keep"
    delete = "delete"


def delete(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KIND] REF",
            help="contact (default), company, deal, task, activity, tag or campaign; with "
            "--where no REF.",
            show_default=False,
        ),
    ] = None,
    where: WhereOpt = False,
    yes: c.YesOpt = False,
    dry_run: DryRunOpt = False,
    contacts: Annotated[
        PeopleChoice | None,
        typer.Option(
            "--contacts", help="For a company: keep its people (without company) or delete them."
        ),
    ] = None,
) -> None:
    """Delete a contact (with its timeline and tasks), company, deal, task, activity or tag.
    With --where: every contact (or company) the crm list filters select, in one transaction.
    Asks first on a terminal; scripts must pass --yes.

    Examples:

    \b
    crm delete 12
    crm delete company acme --contacts keep --yes
    crm delete task 7
    crm delete campaign "Messe 2025" --yes
    crm delete --where --status inactive --created-since -7d --dry-run
    """
    from crmcli.errors import Invalid

    if where:
        _delete_where(args or [], yes=yes, dry_run=dry_run, contacts=contacts)
        return
    if dry_run:
        raise Invalid(None, "--dry-run goes with --where")
    kind, ref = c.split_kind(args or [], kinds=(*c.KINDS, "campaign"))
    if contacts is not None and kind != "company":
        raise Invalid(None, "--contacts applies to deleting a company")
    c.db()
    from crmcli.services import bulk

    if kind in OTHERS:
        label, remove = OTHERS[kind](ref)
        c.confirm(f"Delete {label}?", yes=yes)
        remove()
        c.done(f"Deleted {label}.")
        return
    if kind == "company":
        from crmcli.services import companies
        from crmcli.services.refs import refuse_merged
        from crmcli.values import plural

        company_id = companies.resolve_company(ref)
        refuse_merged("company", ref, company_id, doing="delete")
        card = companies.get_company(company_id)
        people = len(card["contacts"])
        label = f"company #{company_id} {card['name']}"
        deals = bulk.company_dependents([company_id])["deals"]
        answered = False  # a person who chose keep/delete at the prompt has confirmed
        if contacts is None and people:
            contacts = _ask_people(label, people, yes)
            answered = not yes
        c.confirm(f"Delete {label}{stays(deals, without='company')}?", yes=yes or answered)
        companies.delete_company(company_id, contacts=(contacts or PeopleChoice.keep).value)
        what = "deleted" if contacts is PeopleChoice.delete else "kept without company"
        people_text = f"; {plural(people, 'contact')} {what}" if people else ""
        c.done(f"Deleted {label}{stays(deals, without='company')}{people_text}.")
        return
    from crmcli.services import contacts as contact_service
    from crmcli.services.refs import refuse_merged

    contact_id = contact_service.resolve_contact(ref)
    refuse_merged("contact", ref, contact_id, doing="delete")
    card = contact_service.get_contact(contact_id)
    label = f"contact #{contact_id} {card['name']}" + along(bulk.contact_dependents([contact_id]))
    c.confirm(f"Delete {label}?", yes=yes)
    contact_service.delete_contact(contact_id)
    c.done(f"Deleted {label}.")


def _delete_where(
    args: list[str], *, yes: bool, dry_run: bool, contacts: PeopleChoice | None
) -> None:
    """`crm delete [KIND] --where FILTERS`: every selected contact or company at once."""
    from crmcli.commands import where as w
    from crmcli.services import bulk
    from crmcli.values import plural

    kind = w.where_kind(args)
    if contacts is not None and kind != "company":
        from crmcli.errors import Invalid

        raise Invalid(None, "--contacts applies to deleting companies")
    filters, every, rows = w.select(kind)
    if w.none_match(kind, rows):
        return
    label = plural(len(rows), kind)
    if kind == "contact":
        label += along(bulk.contact_dependents(w.ids(rows)), owner="their")
    else:
        extra = bulk.company_dependents(w.ids(rows))
        label += stays(extra["deals"], owner="their", without="company")
        if extra["contacts"] and contacts is None and not dry_run:
            if not yes and current().stdin_isatty:
                c.done(f"Companies: {w.preview(rows)}.")
            has = "has" if len(rows) == 1 else "have"
            contacts = _ask_people(label, extra["contacts"], yes, has=has)
            yes = True  # --yes, or a person chose keep or delete: confirmed
        if extra["contacts"]:
            choice = contacts or PeopleChoice.keep
            what = "deleted too" if choice is PeopleChoice.delete else "kept without company"
            label += f"; {plural(extra['contacts'], 'contact')} {what}"
    if dry_run:
        w.dry_run(kind, filters, f"delete {label}")
        return
    w.ask(f"Delete {label}?", kind, rows, yes=yes)
    choice = (contacts or PeopleChoice.keep).value
    bulk.delete(kind, filters, contacts=choice, every=every, expect=w.ids(rows))
    c.done(f"Deleted {label}.")


def along(extra: dict[str, int], *, owner: str = "its") -> str:
    """` with 3 activities and 1 task (its 2 deals stay, without contact)`: what goes with
    deleted contacts, and what stays."""
    from crmcli.values import plural

    pairs = (("activities", "activity"), ("tasks", "task"))
    gone = [plural(extra[k], word) for k, word in pairs if extra[k]]
    return (" with " + " and ".join(gone) if gone else "") + stays(extra["deals"], owner=owner)


def stays(deals: int, *, owner: str = "its", without: str = "contact") -> str:
    """` (its 2 deals stay, without contact)`; "" without deals."""
    from crmcli.values import plural

    if not deals:
        return ""
    what = "deal stays" if deals == 1 else plural(deals, "deal") + " stay"
    return f" ({owner} {what}, without {without})"


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
    from crmcli.values import plural

    tag_id = tags.resolve_tag(ref)
    card = next(t for t in tags.list_tags() if t["id"] == tag_id)
    pairs = (("contacts", "contact"), ("companies", "company"))
    on = [plural(card[k], word) for k, word in pairs if card[k]]
    label = f"tag {card['name']}" + (f" (on {' and '.join(on)})" if on else "")
    return label, lambda: tags.delete_tag(tag_id)


def _deal(ref: str):
    from crmcli.services import deals

    card = deals.get_deal(deals.resolve_deal(ref))
    label = f"deal #{card['id']} {card['title']} with its stage history"
    return label, lambda: deals.delete_deal(card["id"])


def _campaign(ref: str):
    from crmcli.commands.campaigns import delete_campaign

    return delete_campaign(ref)


OTHERS = {
    "task": _task, "activity": _activity, "tag": _tag, "deal": _deal, "campaign": _campaign,
}  # fmt: skip


def _ask_people(label: str, people: int, yes: bool, *, has: str = "has") -> PeopleChoice:
    """A company with people: the user decides what becomes of them (keep when --yes alone)."""
    if yes:
        return PeopleChoice.keep
    from crmcli.values import plural

    if not current().stdin_isatty:
        from crmcli.errors import CrmError

        # Scripts: --yes alone never deletes people; that takes an explicit --contacts delete.
        them = "it" if people == 1 else "them"
        company = "company" if has == "has" else "companies"
        raise CrmError(
            f"{label} {has} {plural(people, 'contact')}: --yes deletes the {company} and keeps "
            f"{them} without company; --contacts delete --yes deletes {them} too"
        )
    answers = {"k": "keep", "keep": "keep", "d": "delete", "delete": "delete"}
    answers |= {"c": "cancel", "cancel": "cancel", "": "cancel"}
    question = (
        f"{label} {has} {plural(people, 'contact')}. "
        f"[k]eep {'it' if people == 1 else 'them'} without company, "
        f"[d]elete {'it' if people == 1 else 'them'}, or [c]ancel?"
    )
    for _ in range(3):
        answer = answers.get(c.ask(question, default="cancel").strip().lower())
        if answer == "cancel":
            break
        if answer is not None:
            return PeopleChoice(answer)
    raise typer.Abort()


delete.command_class = WhereCommand
