"""`crm list contacts|companies|deals|tasks|activities|tags`: tables for people, JSON and CSV
for scripts."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import cards
from crmcli.commands import common as c
from crmcli.commands.cards import COMPANY_COLUMNS, CONTACT_COLUMNS
from crmcli.output import Column, render_rows

app = typer.Typer(
    help="List contacts, companies, deals, tasks, activities or tags.",
    no_args_is_help=True,
    add_completion=False,
)

SortOpt = Annotated[
    str, typer.Option("--sort", help="name, created, updated, city, status or id; -KEY reverses.")
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--created-since", metavar="WHEN", help="Created on or after (e.g. -30d, 1.1.2026)."
    ),
]


@app.command("contacts")
def list_contacts(
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Has this tag; repeat for all of several."),
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Works at this company (REF).")
    ] = None,
    city: Annotated[
        str | None,
        typer.Option(
            "--city",
            help="In this city; one without a city, at a company there (köln = Koeln = KOELN).",
        ),
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="lead, prospect, customer or inactive.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Lead source.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="KEY=VALUE",
            help="Custom field equals VALUE (KEY= : has the field); repeatable.",
        ),
    ] = None,
    created_since: SinceOpt = None,
    overdue_contact: Annotated[
        bool,
        typer.Option(
            "--overdue-contact", help="Due for a call: their stay-in-touch cadence has run out."
        ),
    ] = False,
    sort: SortOpt = "name",
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List contacts, filtered and sorted.

    Examples:

    \b
    crm list contacts --tag vip --city köln
    crm list contacts --sort -created -o csv > kontakte.csv
    """
    filters = dict(
        tags_=tag or [], company=company, city=city, status=status, source=source,
        fields=c.assignments(field), created_since=c.since(created_since, "created-since"),
        overdue_contact=c.now() if overdue_contact else None,
    )  # fmt: skip
    c.db()
    from crmcli.services import contacts

    limit = c.page_limit(limit, output)
    rows = c.Counted(contacts.iter_contacts(sort=sort, limit=limit, offset=offset, **filters))
    render_rows(
        rows if output in c.STREAMED else list(rows), CONTACT_COLUMNS, output,
        fields=cards.CONTACT_KEYS, empty="No contacts match.",
    )  # fmt: skip
    c.note_truncated(rows.count, offset, limit, lambda: contacts.count_contacts(**filters))


@app.command("companies")
def list_companies(
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Has this tag; repeatable.")
    ] = None,
    city: Annotated[str | None, typer.Option("--city", help="In this city.")] = None,
    industry: Annotated[str | None, typer.Option("--industry", help="In this industry.")] = None,
    created_since: SinceOpt = None,
    sort: Annotated[
        str, typer.Option("--sort", help="name, created, city, contacts or id; -KEY reverses.")
    ] = "name",
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List companies with how many people work there.

    Example:

    \b
    crm list companies --sort -contacts --limit 10
    """
    filters = dict(
        tags_=tag or [], city=city, industry=industry,
        created_since=c.since(created_since, "created-since"),
    )  # fmt: skip
    c.db()
    from crmcli.services import companies

    limit = c.page_limit(limit, output)
    rows = c.Counted(companies.iter_companies(sort=sort, limit=limit, offset=offset, **filters))
    render_rows(
        rows if output in c.STREAMED else list(rows), COMPANY_COLUMNS, output,
        fields=cards.COMPANY_KEYS, empty="No companies match.",
    )  # fmt: skip
    c.note_truncated(rows.count, offset, limit, lambda: companies.count_companies(**filters))


@app.command("tags")
def list_tags(output: c.OutputOpt = c.Format.table) -> None:
    """List tags with how many contacts and companies carry each.

    Example:

    \b
    crm list tags -o json
    """
    c.db()
    from crmcli.services import tags

    columns = (
        Column("id", "Id", "right"), Column("name", "Tag"),
        Column("contacts", "Contacts", "right"), Column("companies", "Companies", "right"),
    )  # fmt: skip
    render_rows(tags.list_tags(), columns, output, fields=cards.TAG_KEYS, empty="No tags yet.")


@app.command("activities")
def list_activities(
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="Of this contact (REF).")
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Of this company and its people (REF).")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="call, email, ... complaint; repeatable."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="WHEN", help="On or after (e.g. -30d, 1.1.2026)."),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="WHEN", help="Before.")] = None,
    open_: Annotated[
        bool,
        typer.Option(
            "--open", help="Only unanswered inquiries, complaints and returns, oldest first."
        ),
    ] = False,
    direction: Annotated[str | None, typer.Option("--direction", "-d", help="in or out.")] = None,
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List activities, newest first (with --open: what still waits for an answer, oldest first).

    Examples:

    \b
    crm list activities --open
    crm list activities --kind complaint --kind return --since -30d
    """
    from crmcli.commands.cards import ACTIVITY_COLUMNS, OPEN_COLUMNS, activity_view

    filters = dict(
        kinds=kind or [], open_only=open_, direction=direction,
    )  # fmt: skip
    filters["since"], filters["until"] = c.period(since, until)
    c.db()
    from crmcli.services import activities

    filters |= c.contact_and_company(contact, company)
    limit = c.page_limit(limit, output)
    rows = activities.iter_activities(limit=limit, offset=offset, **filters)
    if open_:
        now = c.now()
        rows = ({**r, "age_days": (now - r["occurred_at"]).days} for r in rows)
    views = rows if output in c.STREAMED else [activity_view(r) for r in rows]
    render_rows(
        views, OPEN_COLUMNS if open_ else ACTIVITY_COLUMNS, output,
        fields=cards.OPEN_ACTIVITY_KEYS if open_ else cards.ACTIVITY_KEYS,
        empty="Nothing waits for an answer." if open_ else "No activities match.",
    )  # fmt: skip


@app.command("tasks")
def list_tasks(
    all_: Annotated[bool, typer.Option("--all", help="Open and done tasks.")] = False,
    done: Annotated[bool, typer.Option("--done", help="Only done tasks, last done first.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue tasks.")] = False,
    today: Annotated[bool, typer.Option("--today", help="Due today or earlier.")] = False,
    week: Annotated[bool, typer.Option("--week", help="Due within 7 days or earlier.")] = False,
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="For this contact (REF).")
    ] = None,
    priority: Annotated[
        str | None, typer.Option("--priority", "-P", help="low, normal or high.")
    ] = None,
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List open tasks by due date, overdue ones marked (--all, --done for the others).

    Examples:

    \b
    crm list tasks --today
    crm list tasks --overdue -o json
    """
    from crmcli.commands.cards import TASK_COLUMNS, task_view
    from crmcli.errors import Invalid

    if all_ and done:
        raise Invalid(None, "--all and --done exclude each other")
    now = c.now()
    c.db()
    from crmcli.services import contacts, tasks

    due_before = tasks.day_window(now, "today" if today else "week" if week else None)
    rows = tasks.iter_tasks(
        state="all" if all_ else "done" if done else "open", overdue=overdue,
        due_before=due_before, contact_id=contacts.resolve_contact(contact) if contact else None,
        priority=tasks.check_priority(priority) if priority else None, now=now,
        limit=c.page_limit(limit, output), offset=offset,
    )  # fmt: skip
    views = rows if output in c.STREAMED else [task_view(r) for r in rows]
    render_rows(views, TASK_COLUMNS, output, fields=cards.TASK_KEYS, empty="No tasks match.")


@app.command("deals")
def list_deals(
    stage: Annotated[str | None, typer.Option("--stage", "-S", help="In this stage.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open deals.")] = False,
    won: Annotated[bool, typer.Option("--won", help="Only won deals.")] = False,
    lost: Annotated[bool, typer.Option("--lost", help="Only lost deals.")] = False,
    contact: Annotated[
        str | None, typer.Option("--contact", "-C", help="With this contact (REF).")
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="With this company (REF).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Looked after by.")] = None,
    closing_before: Annotated[
        str | None,
        typer.Option("--closing-before", metavar="WHEN", help="Expected to close before."),
    ] = None,
    min_amount: Annotated[
        str | None, typer.Option("--min-amount", help="Worth at least (1.000 or 1000,00).")
    ] = None,
    sort: Annotated[
        str,
        typer.Option("--sort", help="id, created, close, amount, title or stage; -KEY reverses."),
    ] = "-id",
    limit: c.LimitOpt = None,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List deals, newest first, filtered by stage, state, people, owner, close date, amount.

    Examples:

    \b
    crm list deals --open --closing-before +30d --sort close
    crm list deals --won --min-amount 1.000 -o csv
    """
    from crmcli.commands.cards import DEAL_COLUMNS, deal_view
    from crmcli.errors import Invalid
    from crmcli.values import parse_money_cents

    if open_ + won + lost > 1:
        raise Invalid(None, "--open, --won and --lost exclude each other")
    filters = dict(
        stage=stage, state="open" if open_ else "won" if won else "lost" if lost else None,
        owner=owner, closing_before=c.day(closing_before, "closing-before"),
        min_amount_cents=parse_money_cents(min_amount, field="min-amount") if min_amount else None,
    )  # fmt: skip
    c.db()
    from crmcli.services import deals

    filters |= c.contact_and_company(contact, company)
    limit = c.page_limit(limit, output)
    rows = c.Counted(deals.iter_deals(sort=sort, limit=limit, offset=offset, **filters))
    views = rows if output in c.STREAMED else [deal_view(r) for r in rows]
    render_rows(views, DEAL_COLUMNS, output, fields=cards.DEAL_KEYS, empty="No deals match.")
    c.note_truncated(rows.count, offset, limit, lambda: deals.count_deals(**filters))
