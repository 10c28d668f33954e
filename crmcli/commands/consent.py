"""`crm consent REF [grant|withdraw|confirm] --purpose P`: a contact's consent history."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column

ACTIONS = ("grant", "withdraw", "confirm")
HISTORY_KEYS = (
    "id", "contact_id", "purpose", "action", "at", "source", "text", "version", "confirmed_at",
    "created_at",
)  # fmt: skip
HISTORY_COLUMNS = (
    Column("at", "When", keep=True), Column("purpose", "Purpose"), Column("action", "Action"),
    Column("source", "Source", drop=3, max_width=24), Column("version", "Version", drop=2),
    Column("confirmed_at", "Confirmed", keep=True),
    Column("text", "Consent text", max_width=40, drop=4, min_width=12),
)  # fmt: skip


def consent(
    ref: Annotated[str, typer.Argument(help="The contact (id, email or name).")],
    action: Annotated[
        str | None,
        typer.Argument(metavar="[ACTION]", help="grant, withdraw or confirm; none: the history."),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="What the consent is for: newsletter, offers..."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Where it was given or withdrawn: web form, phone, paper..."),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="The consent text agreed to (grant).")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="The version of that text (grant).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="WHEN", help="When it happened (default: now)."),
    ] = None,
    confirmed: Annotated[
        bool,
        typer.Option(
            "--confirmed", help="grant: the double opt-in is confirmed already (at --at)."
        ),
    ] = False,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Show or record a contact's consent to mailings, per purpose, as a history.

    A grant lets mailings of its purpose go out once its double opt-in is confirmed (`confirm`,
    or `--confirmed` when it was confirmed elsewhere); a withdrawal stops them at once. The
    purpose "newsletter" is also the contact's consent flag (`crm edit --consent`).

    Examples:

    \b
    crm consent müller
    crm consent müller grant --purpose newsletter --source "web form" --version 3
    crm consent müller confirm --purpose newsletter
    crm consent müller withdraw --purpose newsletter --source phone
    """
    from crmcli.errors import Invalid

    if action is not None and action.lower() not in ACTIONS:
        raise typer.BadParameter(f"'{action}' is not grant, withdraw or confirm")
    when = c.when(at, "at", prefer="past")
    c.db()
    from crmcli.services import consent as service
    from crmcli.services import contacts

    contact_id = contacts.resolve_contact(ref)
    if action is None:
        for given, flag in ((source, "--source"), (text, "--text"), (version, "--version"),
                            (at, "--at"), (confirmed or None, "--confirmed")):  # fmt: skip
            if given is not None:
                raise Invalid(None, f"{flag} goes with grant, withdraw or confirm")
        from crmcli.output import render_rows

        rows = service.history(contact_id, purpose)
        render_rows(
            rows, HISTORY_COLUMNS, output, fields=HISTORY_KEYS, empty="No consent recorded."
        )
        return
    if purpose is None:
        raise Invalid("purpose", "name the purpose (--purpose newsletter)")
    action = action.lower()
    name = contacts.get_contact(contact_id)["name"]
    if action == "confirm":
        for given, flag in ((source, "--source"), (text, "--text"), (version, "--version"),
                            (confirmed or None, "--confirmed")):  # fmt: skip
            if given is not None:
                raise Invalid(None, f"{flag} goes with grant, not confirm")
        entry = service.confirm(contact_id, purpose, at=when, now=c.now())
        c.done(f"Confirmed the consent of #{contact_id} {name} to {entry['purpose']}.")
        return
    if confirmed and action != "grant":
        raise Invalid(None, "--confirmed goes with grant")
    now = c.now()
    entry = service.record(
        contact_id, action, purpose, at=when, source=source, text=text, version=version,
        confirmed_at=(when or now) if confirmed else None, now=now,
    )  # fmt: skip
    if action == "grant":
        doi = "" if entry["confirmed_at"] else " (unconfirmed until its double opt-in)"
        c.done(f"Recorded the consent of #{contact_id} {name} to {entry['purpose']}{doi}.")
    else:
        c.done(f"Recorded the withdrawal of #{contact_id} {name} from {entry['purpose']}.")
