"""`crm list contacts|companies|deals|tasks|activities|tags`: tables for people, JSON and CSV
for scripts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer

from crmcli.commands import cards
from crmcli.commands import common as c
from crmcli.commands.cards import COMPANY_COLUMNS, CONTACT_COLUMNS
from crmcli.output import Column, render_rows

app = typer.Typer(
    help="List contacts, companies, deals, tasks, activities, tags, products or orders.",
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


# The filters of each list, defined once: `crm export KIND` takes the same (commands/exporting.py).
ContactTagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="Has this tag; repeat for all of several."),
]
AtCompanyOpt = Annotated[
    str | None, typer.Option("--company", "-c", help="Works at this company (REF).")
]
ContactCityOpt = Annotated[
    str | None,
    typer.Option(
        "--city",
        help="In this city; one without a city, at a company there (köln = Koeln = KOELN).",
    ),
]
StatusOpt = Annotated[
    str | None, typer.Option("--status", "-s", help="lead, prospect, customer or inactive.")
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Lead source.")]
CampaignFilterOpt = Annotated[
    str | None, typer.Option("--campaign", help="Brought by this campaign (name, id or part).")
]
FieldFilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        "-f",
        metavar="KEY=VALUE",
        help="Custom field equals VALUE (KEY= : has the field); repeatable.",
    ),
]
OverdueContactOpt = Annotated[
    bool,
    typer.Option(
        "--overdue-contact", help="Due for a call: their stay-in-touch cadence has run out."
    ),
]


def contact_filters(
    tag=None, company=None, city=None, status=None, source=None, field=None,
    created_since=None, overdue_contact=False, campaign=None,
) -> dict:  # fmt: skip
    """The options of `list contacts` as contacts.filtered_query's filters."""
    return dict(
        tags_=tag or [], company=company, city=city, status=status, source=source,
        fields=c.assignments(field), created_since=c.since(created_since, "created-since"),
        overdue_contact=c.now() if overdue_contact else None, campaign=campaign,
    )  # fmt: skip


@app.command("contacts")
def list_contacts(
    tag: ContactTagOpt = None,
    company: AtCompanyOpt = None,
    city: ContactCityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    campaign: CampaignFilterOpt = None,
    field: FieldFilterOpt = None,
    created_since: SinceOpt = None,
    overdue_contact: OverdueContactOpt = False,
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
    crm list contacts --campaign "google ads" --status customer
    """
    filters = contact_filters(
        tag, company, city, status, source, field, created_since, overdue_contact, campaign
    )
    c.db()
    c.warn_unknown_tags(tag)
    from crmcli.services import contacts

    limit = c.page_limit(limit, output)
    rows = c.Counted(contacts.iter_contacts(sort=sort, limit=limit, offset=offset, **filters))
    render_rows(
        rows if output in c.STREAMED else list(rows), CONTACT_COLUMNS, output,
        fields=cards.CONTACT_KEYS, empty="No contacts match.",
    )  # fmt: skip
    c.note_truncated(rows.count, offset, limit, lambda: contacts.count_contacts(**filters))


CompanyTagOpt = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="Has this tag; repeatable.")
]
CityOpt = Annotated[str | None, typer.Option("--city", help="In this city.")]
IndustryOpt = Annotated[str | None, typer.Option("--industry", help="In this industry.")]


def company_filters(tag=None, city=None, industry=None, created_since=None) -> dict:
    """The options of `list companies` as companies.filtered_query's filters."""
    return dict(
        tags_=tag or [], city=city, industry=industry,
        created_since=c.since(created_since, "created-since"),
    )  # fmt: skip


@app.command("companies")
def list_companies(
    tag: CompanyTagOpt = None,
    city: CityOpt = None,
    industry: IndustryOpt = None,
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
    filters = company_filters(tag, city, industry, created_since)
    c.db()
    c.warn_unknown_tags(tag)
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


OfContactOpt = Annotated[str | None, typer.Option("--contact", "-C", help="Of this contact (REF).")]
OfCompanyOpt = Annotated[
    str | None, typer.Option("--company", "-c", help="Of this company and its people (REF).")
]
KindOpt = Annotated[
    list[str] | None,
    typer.Option("--kind", "-k", help="call, email, ... complaint; repeatable."),
]
FromOpt = Annotated[
    str | None,
    typer.Option("--since", metavar="WHEN", help="On or after (e.g. -30d, 1.1.2026)."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", metavar="WHEN", help="Up to this day, included (a time: that moment)."),
]
OpenIssuesOpt = Annotated[
    bool,
    typer.Option("--open", help="Only unanswered inquiries, complaints and returns, oldest first."),
]
DirectionOpt = Annotated[str | None, typer.Option("--direction", "-d", help="in or out.")]


def activity_filters(
    contact=None, company=None, kind=None, since=None, until=None, open_=False, direction=None
) -> dict:
    """The options of `list activities` as activities.iter_activities's filters (opens the
    database to resolve the REFs)."""
    filters = dict(kinds=kind or [], open_only=open_, direction=direction)
    filters["since"], filters["until"] = c.period(since, until)
    c.db()
    return filters | c.contact_and_company(contact, company)


@app.command("activities")
def list_activities(
    contact: OfContactOpt = None,
    company: OfCompanyOpt = None,
    kind: KindOpt = None,
    since: FromOpt = None,
    until: UntilOpt = None,
    open_: OpenIssuesOpt = False,
    direction: DirectionOpt = None,
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

    filters = activity_filters(contact, company, kind, since, until, open_, direction)
    from crmcli.services import activities

    limit = c.page_limit(limit, output)
    rows = c.Counted(activities.iter_activities(limit=limit, offset=offset, **filters))
    listed: Iterable[dict] = rows
    if open_:
        now = c.now()
        listed = ({**r, "age_days": (now - r["occurred_at"]).days} for r in rows)
    views = listed if output in c.STREAMED else [activity_view(r) for r in listed]
    render_rows(
        views, OPEN_COLUMNS if open_ else ACTIVITY_COLUMNS, output,
        fields=cards.OPEN_ACTIVITY_KEYS if open_ else cards.ACTIVITY_KEYS,
        empty="Nothing waits for an answer." if open_ else "No activities match.",
    )  # fmt: skip
    c.note_truncated(rows.count, offset, limit, lambda: activities.count_activities(**filters))


AllTasksOpt = Annotated[bool, typer.Option("--all", help="Open and done tasks.")]
DoneOpt = Annotated[bool, typer.Option("--done", help="Only done tasks, last done first.")]
OverdueOpt = Annotated[bool, typer.Option("--overdue", help="Only overdue tasks.")]
TodayOpt = Annotated[bool, typer.Option("--today", help="Due today or earlier.")]
WeekOpt = Annotated[bool, typer.Option("--week", help="Due within 7 days or earlier.")]
ForContactOpt = Annotated[
    str | None, typer.Option("--contact", "-C", help="For this contact (REF).")
]
PriorityOpt = Annotated[str | None, typer.Option("--priority", "-P", help="low, normal or high.")]


def task_filters(
    all_=False, done=False, overdue=False, today=False, week=False, contact=None, priority=None
) -> dict:
    """The options of `list tasks` as tasks.iter_tasks's filters (opens the database to
    resolve the REF)."""
    from crmcli.errors import Invalid

    if all_ and done:
        raise Invalid(None, "--all and --done exclude each other")
    now = c.now()
    c.db()
    from crmcli.services import contacts, tasks

    return dict(
        state="all" if all_ else "done" if done else "open", overdue=overdue,
        due_before=tasks.day_window(now, "today" if today else "week" if week else None),
        contact_id=contacts.resolve_contact(contact) if contact else None,
        priority=tasks.check_priority(priority) if priority else None, now=now,
    )  # fmt: skip


@app.command("tasks")
def list_tasks(
    all_: AllTasksOpt = False,
    done: DoneOpt = False,
    overdue: OverdueOpt = False,
    today: TodayOpt = False,
    week: WeekOpt = False,
    contact: ForContactOpt = None,
    priority: PriorityOpt = None,
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

    filters = task_filters(all_, done, overdue, today, week, contact, priority)
    from crmcli.services import tasks

    limit = c.page_limit(limit, output)
    rows = c.Counted(tasks.iter_tasks(**filters, limit=limit, offset=offset))
    if output in c.STREAMED:
        render_rows(rows, TASK_COLUMNS, output, fields=cards.TASK_KEYS, empty="No tasks match.")
    else:
        from crmcli.output import steady_locale

        day = c.today()
        with steady_locale():  # read once, not a few times a row
            views = [task_view(r, day) for r in rows]
            render_rows(
                views, TASK_COLUMNS, output, fields=cards.TASK_KEYS, empty="No tasks match."
            )
    c.note_truncated(rows.count, offset, limit, lambda: tasks.count_tasks(**filters))


StageOpt = Annotated[str | None, typer.Option("--stage", "-S", help="In this stage.")]
OpenDealsOpt = Annotated[bool, typer.Option("--open", help="Only open deals.")]
WonOpt = Annotated[bool, typer.Option("--won", help="Only won deals.")]
LostOpt = Annotated[bool, typer.Option("--lost", help="Only lost deals.")]
WithContactOpt = Annotated[
    str | None, typer.Option("--contact", "-C", help="With this contact (REF).")
]
WithCompanyOpt = Annotated[
    str | None, typer.Option("--company", "-c", help="With this company (REF).")
]
OwnerOpt = Annotated[str | None, typer.Option("--owner", help="Looked after by.")]
ClosingBeforeOpt = Annotated[
    str | None,
    typer.Option("--closing-before", metavar="WHEN", help="Expected to close before."),
]
MinAmountOpt = Annotated[
    str | None, typer.Option("--min-amount", help="Worth at least (1.000 or 1000,00).")
]


def deal_filters(
    stage=None, open_=False, won=False, lost=False, contact=None, company=None, owner=None,
    closing_before=None, min_amount=None,
) -> dict:  # fmt: skip
    """The options of `list deals` as deals.iter_deals's filters (opens the database to
    resolve the REFs)."""
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
    return filters | c.contact_and_company(contact, company)


@app.command("deals")
def list_deals(
    stage: StageOpt = None,
    open_: OpenDealsOpt = False,
    won: WonOpt = False,
    lost: LostOpt = False,
    contact: WithContactOpt = None,
    company: WithCompanyOpt = None,
    owner: OwnerOpt = None,
    closing_before: ClosingBeforeOpt = None,
    min_amount: MinAmountOpt = None,
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

    filters = deal_filters(
        stage, open_, won, lost, contact, company, owner, closing_before, min_amount
    )
    from crmcli.services import deals

    limit = c.page_limit(limit, output)
    rows = c.Counted(deals.iter_deals(sort=sort, limit=limit, offset=offset, **filters))
    views = rows if output in c.STREAMED else [deal_view(r) for r in rows]
    render_rows(views, DEAL_COLUMNS, output, fields=cards.DEAL_KEYS, empty="No deals match.")
    c.note_truncated(rows.count, offset, limit, lambda: deals.count_deals(**filters))


# Products and orders live in commands/orders.py with how they are shown.
from crmcli.commands import orders as _orders  # noqa: E402

app.command("products")(_orders.list_products)
app.command("orders")(_orders.list_orders)

from crmcli.commands import campaigns as _campaigns  # noqa: E402

app.command("campaigns")(_campaigns.list_campaigns)

from crmcli.commands import commissions as _commissions  # noqa: E402

app.command("commissions")(_commissions.list_commissions)
