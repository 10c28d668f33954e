"""`crm mail TEMPLATE --to SEGMENT`: a mailing to the contacts of a segment who consented."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column

# The `crm list contacts` filters a segment may name (KEY:VALUE), as that command's options.
SEGMENT_KEYS = {
    "tag": "tag", "company": "company", "city": "city", "status": "status", "source": "source",
    "field": "field", "created-since": "created_since", "overdue-contact": "overdue_contact",
}  # fmt: skip
REPEATABLE = {"tag", "field"}
PLAN_KEYS = ("contact_id", "name", "email", "send", "skipped_because")
# On a terminal: one column says "send" or why not, and it stays when the width runs out.
PLAN_COLUMNS = (
    Column("contact_id", "Id", "right"), Column("name", "Name", min_width=18),
    Column("email", "Email", drop=2, min_width=16), Column("outcome", "Outcome", keep=True),
)  # fmt: skip


def segment_filters(segments: list[str]) -> tuple[dict, bool]:
    """`--to tag:vip --to city:köln` as the filters of `crm list contacts` (all of them
    apply), and whether `--to all` selects everyone."""
    from crmcli.commands.where import _service_filters
    from crmcli.errors import Invalid

    given: dict = {}
    every = False
    for segment in segments:
        key, sep, value = segment.partition(":")
        key = key.strip().lower()
        if key in ("all", "*") and not sep:
            every = True
            continue
        if key == "overdue-contact" and not sep:
            given["overdue_contact"] = True
            continue
        name = SEGMENT_KEYS.get(key)
        if name is None or not sep or not value.strip():
            keys = ", ".join(f"{k}:…" for k in SEGMENT_KEYS if k != "overdue-contact")
            raise Invalid("to", f"'{segment}' is not a segment (choose {keys}, overdue-contact "
                          "or all)")  # fmt: skip
        if key in REPEATABLE:
            given.setdefault(name, []).append(value.strip())
        elif name in given:
            raise Invalid("to", f"{key}: is given twice (a contact has one {key})")
        else:
            given[name] = value.strip()
    if every and given:
        raise Invalid("to", "all and other segments exclude each other")
    return _service_filters(given), every


TEMPLATE_COLUMNS = (
    Column("name", "Name", keep=True), Column("title", "Title", min_width=16),
    Column("purpose", "Purpose"), Column("subject", "Subject", drop=2, min_width=16),
    Column("origin", "From", drop=1), Column("path", "File", drop=3),
)  # fmt: skip
TEMPLATE_KEYS = ("name", "title", "purpose", "subject", "origin", "path", "parts")


def mail(
    template: Annotated[
        str | None,
        typer.Argument(
            help="The template's name or file (--templates lists them).", show_default=False
        ),
    ] = None,  # fmt: skip
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="SEGMENT",
            help="tag:T, city:C, status:S, company:REF, source:S, field:K=V, "
            "created-since:WHEN, overdue-contact or all; repeat for all of several.",
        ),
    ] = None,  # fmt: skip
    to_user: Annotated[
        list[str] | None,
        typer.Option(
            "--to-user", metavar="EMAIL", help="A colleague (no consent needed); repeatable."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List who would get it and who not, and why.")
    ] = False,
    send: Annotated[bool, typer.Option("--send", help="Send through SMTP.")] = False,
    mbox: Annotated[
        str | None, typer.Option("--mbox", metavar="FILE", help="Append the mails to an mbox file.")
    ] = None,
    eml_dir: Annotated[
        str | None,
        typer.Option("--eml-dir", metavar="DIR", help="Write each mail as an .eml file."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The mailing's name (default: the template and its digest)."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", min=0.1, metavar="N", help="At most N mails a minute (else CRM_SMTP_RATE)."
        ),
    ] = None,
    yes: c.YesOpt = False,
    output: c.OutputOpt = c.Format.table,
    templates: Annotated[
        bool,
        typer.Option(
            "--templates",
            help="List the mail templates, built-in and yours (as crm doc templates), and stop.",
        ),
    ] = False,
) -> None:
    """Mail a template to the contacts of a segment who consented to its purpose.

    The template names its subject and consent purpose in its front matter. Only contacts with
    an email and a valid consent to that purpose receive it (confirmed by double opt-in
    unless the purpose needs none); a mail already sent in this mailing is not sent again, so
    an interrupted run can simply be run again. Each mail sent lands on the contact's
    timeline. SMTP: CRM_SMTP_HOST, CRM_SMTP_PORT, CRM_SMTP_FROM, CRM_SMTP_USER,
    CRM_SMTP_PASSWORD, CRM_SMTP_SECURITY (starttls, ssl, none), CRM_UNSUBSCRIBE, or [smtp] in
    the config file.

    Examples:

    \b
    crm mail newsletter --to tag:newsletter --dry-run
    crm mail newsletter --to tag:vip --to city:köln --send --rate 60
    crm mail newsletter --to status:customer --eml-dir /tmp/vorschau
    crm mail task-digest --to-user chefin@example.de --send --yes
    crm mail --templates
    """
    from crmcli.errors import Invalid

    if templates:
        _list_templates(output)
        return
    if template is None:
        raise typer.BadParameter("name the template (crm mail --templates lists them)")

    targets = [t for t in (send, mbox is not None, eml_dir is not None) if t]
    if len(targets) > 1:
        raise Invalid(None, "choose one of --send, --mbox and --eml-dir")
    if dry_run and targets:
        raise Invalid(
            None, "--dry-run sends and writes nothing; leave out --send, --mbox, --eml-dir"
        )
    if bool(to) == bool(to_user):
        raise Invalid("to", "give the segment (--to) or colleagues (--to-user), one of them")
    filters, every = segment_filters(to) if to else ({}, False)
    c.db()
    from crmcli.services import mailing as service
    from crmcli.services import mailsettings

    now = c.now()
    if to:
        plan = service.plan_contacts(template, filters, every=every, name=name, now=now)
    else:
        plan = service.plan_users(template, to_user or [], name=name, now=now)
    settings = mailsettings.settings()
    messages = service.render(plan, settings, now=now)  # every template error before anything
    c.warn_unknown_tags(filters.get("tags_"))  # after the errors: an error is one line alone
    if not targets:
        _show_plan(plan, output, dry=dry_run)
        return
    if mbox is not None:
        count = service.write_mbox(messages, mbox)
        c.done(f"Wrote {_mails(count)} of mailing {plan.name} to {mbox}; nothing was sent.")
        return
    if eml_dir is not None:
        count = service.write_eml_dir(messages, eml_dir)
        c.done(f"Wrote {_mails(count)} of mailing {plan.name} to {eml_dir}; nothing was sent.")
        return
    if not messages:
        _summary(plan, 0)
        return
    c.confirm(f"Send {template} to {_people(len(messages))}?", yes=yes)
    progress = c.Progress("Sending", "mails")
    try:
        result = service.send(
            plan, messages, settings, rate=rate or settings.rate, progress=progress
        )
    finally:
        progress.stop()
    _summary(plan, result.sent)
    if result.withdrawn:
        import sys

        sys.stderr.write(
            f"crm: warning: {_people(result.withdrawn)} withdrew their consent while the "
            "mailing ran: not sent\n"
        )
    if result.refused:
        shown = "; ".join(f"{a} ({why})" for a, why in result.refused[:5])
        more = f" and {len(result.refused) - 5} more" if len(result.refused) > 5 else ""
        raise service.MailError(
            f"the SMTP server refused {_people(len(result.refused))}: {shown}{more}; "
            "not sent, not recorded"
        )


def _list_templates(output) -> None:
    """The mail templates, as `crm doc templates` lists the document ones; where yours go."""
    from crmcli.commands.documents import template_rows
    from crmcli.output import render_rows
    from crmcli.services import templating

    rows = template_rows("mail", {"purpose": None, "subject": None})
    render_rows(rows, TEMPLATE_COLUMNS, output, fields=TEMPLATE_KEYS, empty="No templates.")
    if output == c.Format.table:
        c.done(f"Your own go into {templating.user_template_dir('mail')}")


def _mails(n: int) -> str:
    from crmcli.values import plural

    return plural(n, "mail")


def _people(n: int) -> str:
    from crmcli.values import plural

    return plural(n, "recipient")


def _skips(plan) -> str:
    skipped = plan.skipped()
    if not skipped:
        return ""
    parts = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))
    return f"; skipped {sum(skipped.values())} ({parts})"


def _show_plan(plan, output, *, dry: bool) -> None:
    from crmcli.output import render_rows

    rows = plan.rows()
    if output == c.Format.table:
        rows = [dict(r, outcome=r["skipped_because"] or "send") for r in rows]
    render_rows(rows, PLAN_COLUMNS, output, fields=PLAN_KEYS, empty="Nobody selected.")
    would = len(plan.to_send)
    hint = "" if dry else " (--send, --mbox or --eml-dir to go ahead)"
    c.done(
        f"Would send {plan.template.name} to {_people(would)}{_skips(plan)}; nothing sent{hint}."
    )


def _summary(plan, sent: int) -> None:
    c.done(f"Sent {plan.template.name} to {_people(sent)} (mailing {plan.name}){_skips(plan)}.")
