"""fill_demo: every generator in order, in one transaction, then the search index."""

from __future__ import annotations

import random
from datetime import datetime

from crmcli.demo import people, pipeline, timeline
from crmcli.demo.state import Demo, pools
from crmcli.errors import Conflict, Invalid
from crmcli.models import (
    Company,
    CompanyTag,
    Contact,
    ContactField,
    ContactTag,
    Tag,
    database_proxy,
    utcnow,
)
from crmcli.services import search
from crmcli.values import to_utc

MAX_CONTACTS = 2_000_000


def _search_index(d: Demo) -> int:
    """Index every demo record; entries equal what the search service would make."""
    entries = people.search_entries(d)
    entries += timeline.activity_entries(d)
    entries += pipeline.deal_entries(d)
    search.put(entries)
    return len(entries)


def _clear() -> None:
    """Remove every record the demo makes, and the search index."""
    from crmcli.models import Activity, Deal, DealStageChange, ReminderLog, Task

    for model in (
        ReminderLog,
        Task,
        Activity,
        DealStageChange,
        Deal,
        ContactTag,
        CompanyTag,
        ContactField,
        Contact,
        Company,
        Tag,
    ):
        model.delete().execute()
    database_proxy.obj.execute_sql("DELETE FROM search_index")


def _plural(n: int, word: str, words: str) -> str:
    return f"{n} {word if n == 1 else words}"


def fill_demo(
    *,
    contacts: int = 200,
    companies: int | None = None,
    seed: int = 2026,
    force: bool = False,
    now: datetime | None = None,
    activities: int | None = None,
    tasks: int | None = None,
    deals: int | None = None,
) -> dict:
    """Fill the database with German sample data: `contacts` people at `companies` companies
    (default one per eight people). Refuses a database that holds contacts or companies unless
    `force`, which replaces them (with tags, custom fields and search entries). The same seed
    and `now` give the same data. Returns how many rows of each kind were made and removed."""
    if not 0 <= contacts <= MAX_CONTACTS:
        raise Invalid("contacts", f"{contacts} is not between 0 and {MAX_CONTACTS:,}")
    if companies is None:
        companies = max(1, contacts // 8)
    if activities is None:  # five a contact; one a contact past 10,000, so big demos stay quick
        activities = contacts * 5 if contacts <= 10_000 else 40_000 + contacts
    tasks = max(20, contacts // 10) if tasks is None else tasks
    if not 0 <= activities <= 20 * MAX_CONTACTS or not 0 <= tasks <= MAX_CONTACTS:
        raise Invalid("activities", "too many activities or tasks for a demo")
    if not 0 <= companies <= MAX_CONTACTS:
        raise Invalid("companies", f"{companies} is not between 0 and {MAX_CONTACTS:,}")
    deals = (max(20, contacts // 4) if contacts else 0) if deals is None else deals
    if not 0 <= deals <= MAX_CONTACTS:
        raise Invalid("deals", f"{deals} is not between 0 and {MAX_CONTACTS:,}")
    now = to_utc(now or utcnow()).replace(microsecond=0)
    with database_proxy.atomic():
        from crmcli.models import Activity, Task

        held = Contact.select().count(), Company.select().count()
        others = Task.select().count() + Activity.select().count()
        if (any(held) or others) and not force:
            extra = f" and {_plural(others, 'task or activity', 'tasks and activities')}"
            raise Conflict(
                f"the database already holds {_plural(held[0], 'contact', 'contacts')}, "
                f"{_plural(held[1], 'company', 'companies')}{extra if others else ''}; "
                "crm demo --force replaces them"
            )
        if force:
            _clear()
        d = Demo(rng=random.Random(seed), now=now, **pools(seed))
        steps = (  # in order: each may use what the ones before made
            ("companies", lambda: people.companies(d, companies)),
            ("contacts", lambda: people.contacts(d, contacts)),
            ("tags", lambda: people.tags(d)),
            ("contact_tags", lambda: people.contact_tags(d)),
            ("company_tags", lambda: people.company_tags(d)),
            ("custom_fields", lambda: people.contact_fields(d)),
            ("activities", lambda: timeline.activities(d, activities)),
            ("tasks", lambda: timeline.tasks(d, tasks)),
            ("cadences", lambda: timeline.cadences(d)),
            ("deals", lambda: pipeline.deals(d, deals)),
            ("search_entries", lambda: _search_index(d)),  # last: it indexes all the others
        )
        counts = {key: make() for key, make in steps}
        counts["activities"] += getattr(d, "touched", 0)  # calls that keep cadences in time
        from crmcli.services.reminders import rebuild_queues

        rebuild_queues()  # bulk inserts bypass the services that keep the reminder queues
    return {
        "contacts": counts.pop("contacts"),
        **counts,
        "removed_contacts": held[0],
        "removed_companies": held[1],
    }
