"""`crm demo`: fill a database with realistic German sample data, for trying things."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c

RESULT_FIELDS = (
    ("database", "Database"), ("contacts", "Contacts"), ("companies", "Companies"),
    ("tags", "Tags"), ("contact_tags", "Tagged contacts"), ("company_tags", "Tagged companies"),
    ("custom_fields", "Custom fields"), ("activities", "Activities"), ("tasks", "Tasks"),
    ("cadences", "Cadences"), ("deals", "Deals"), ("search_entries", "Search entries"),
    ("removed_contacts", "Removed contacts"), ("removed_companies", "Removed companies"),
    ("removed_deals", "Removed deals"), ("removed_activities", "Removed activities"),
    ("removed_tasks", "Removed tasks"), ("removed_tags", "Removed tags"),
    ("removed_custom_fields", "Removed custom fields"),
    ("removed_contact_tags", "Removed contact tags"),
    ("removed_company_tags", "Removed company tags"),
    ("removed_stage_changes", "Removed stage changes"),
    ("removed_reminders", "Removed printed reminders"),
    ("seed", "Seed"), ("seconds", "Seconds"),
)  # fmt: skip


def _db_hint(where: str) -> str:
    """` --db X` when the database was named on the command line (so the hint finds it),
    without its password: `where` is db.describe's form of it."""
    import shlex

    from crmcli.env import current

    return f" --db {shlex.quote(where)}" if current().db_option else ""


# The most a demo makes: ten times what the bench builds on (1,000,000 contacts, 10 activities
# each), far past any real use; a bigger number is a usage error, not a run for hours or an
# overflow deep in the database.
MAX_CONTACTS = 2_000_000
MAX_COMPANIES = 2_000_000
MAX_ACTIVITIES = 20_000_000
MAX_TASKS = 2_000_000


def demo(
    contacts: Annotated[
        int,
        typer.Option(
            "--contacts", min=1, max=MAX_CONTACTS, help="How many people (at most 2,000,000)."
        ),
    ] = 200,
    companies: Annotated[
        int | None,
        typer.Option(
            "--companies",
            min=0,
            max=MAX_COMPANIES,
            help="How many companies (default: contacts/8; at most 2,000,000).",
        ),
    ] = None,
    activities: Annotated[
        int | None,
        typer.Option(
            "--activities",
            min=0,
            max=MAX_ACTIVITIES,
            help="Timeline entries (default: 5 a contact, fewer past 10,000; at most 20,000,000).",
        ),
    ] = None,
    tasks: Annotated[
        int | None,
        typer.Option(
            "--tasks",
            min=0,
            max=MAX_TASKS,
            help="Tasks (default: one per 10 contacts, at least 20; at most 2,000,000).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The same seed makes the same data.")] = 2026,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an earlier demo (never anybody's own records)."),
    ] = False,
    output: c.ResultOpt = None,
) -> None:
    """Fill the database with realistic German sample data for trying crm: people with
    umlauts, companies (GmbH, AG, e.K.), cities, phones, emails, tags, statuses, lead
    sources and custom fields, timelines of every kind over two years, tasks (some recurring,
    some overdue), open complaints and stay-in-touch cadences. Only into an empty database or
    one that holds an earlier, unchanged demo (--force replaces that); a database with
    anybody's own records is refused, --force or not.

    To try the speed, make a big one in a file of its own (--db /tmp/big.db).

    Examples:

    \b
    crm demo
    crm --db /tmp/big.db demo --contacts 100000
    """
    import time

    from crmcli.db import describe
    from crmcli.env import current

    c.db(bulk=True)
    from crmcli.demo import fill_demo
    from crmcli.demo.fill import describe_counts

    started = time.perf_counter()
    counts = fill_demo(
        contacts=contacts, companies=companies, activities=activities, tasks=tasks, seed=seed,
        force=force, now=c.now(),
    )  # fmt: skip
    seconds = round(time.perf_counter() - started, 1)
    where = describe(current().target)
    removed = {k[len("removed_") :]: n for k, n in counts.items() if k.startswith("removed_")}
    if any(removed.values()):
        c.done(f"Removed the earlier demo: {describe_counts(removed)}.")
    c.done(
        f"Filled {where} with {counts['contacts']} contacts at {counts['companies']} companies "
        f"({seconds} s). Try: crm{_db_hint(where)} list contacts"
    )
    if output is not None:
        from crmcli.output import render_record

        record = {"database": where, **counts, "seed": seed, "seconds": seconds}
        render_record(record, RESULT_FIELDS, output)
