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
    ("seed", "Seed"), ("seconds", "Seconds"),
)  # fmt: skip


def _db_hint() -> str:
    """` --db X` when the database was named on the command line (so the hint finds it)."""
    import shlex

    from crmcli.env import current

    option = current().db_option
    return f" --db {shlex.quote(option)}" if option else ""


def demo(
    contacts: Annotated[
        int, typer.Option("--contacts", min=1, max=2_000_000, help="How many people.")
    ] = 200,
    companies: Annotated[
        int | None,
        typer.Option(
            "--companies", min=0, max=2_000_000, help="How many companies (default: contacts/8)."
        ),
    ] = None,
    activities: Annotated[
        int | None,
        typer.Option(
            "--activities",
            min=0,
            help="Timeline entries (default: 5 a contact, fewer past 10,000).",
        ),
    ] = None,
    tasks: Annotated[
        int | None,
        typer.Option("--tasks", min=0, help="Tasks (default: one per 10 contacts, at least 20)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The same seed makes the same data.")] = 2026,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the contacts and companies already there.")
    ] = False,
    output: c.ResultOpt = None,
) -> None:
    """Fill the database with realistic German sample data for trying crm: people with
    umlauts, companies (GmbH, AG, e.K.), cities, phones, emails, tags, statuses, lead
    sources and custom fields, timelines of every kind over two years, tasks (some recurring,
    some overdue), open complaints and stay-in-touch cadences. Refuses a database that holds
    data unless --force.

    To try the speed, make a big one in a file of its own (--db /tmp/big.db).
    Example: crm demo --contacts 100000
    """
    import time

    from crmcli.db import describe
    from crmcli.env import current

    c.db()
    from crmcli.demo import fill_demo

    started = time.perf_counter()
    counts = fill_demo(
        contacts=contacts, companies=companies, activities=activities, tasks=tasks, seed=seed,
        force=force, now=c.now(),
    )  # fmt: skip
    seconds = round(time.perf_counter() - started, 1)
    where = describe(current().target)
    removed = counts["removed_contacts"], counts["removed_companies"]
    if any(removed):
        people = "contact" if removed[0] == 1 else "contacts"
        firms = "company" if removed[1] == 1 else "companies"
        c.done(f"Removed {removed[0]} {people} and {removed[1]} {firms}.")
    c.done(
        f"Filled {where} with {counts['contacts']} contacts at {counts['companies']} companies "
        f"({seconds} s). Try: crm{_db_hint()} list contacts"
    )
    if output is not None:
        from crmcli.output import render_record

        record = {"database": where, **counts, "seed": seed, "seconds": seconds}
        render_record(record, RESULT_FIELDS, output)
