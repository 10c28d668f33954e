"""fill_demo: every generator in order, in one transaction, then the search index."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from crmcli.db import fresh_statistics
from crmcli.demo import campaigns, consents, people, pipeline, shop, timeline
from crmcli.demo.state import Demo, pools
from crmcli.errors import Conflict, Invalid
from crmcli.models import (
    database_proxy,
    utcnow,
)
from crmcli.services import search
from crmcli.values import plural, to_utc

MAX_CONTACTS = 2_000_000


def _search_index(d: Demo) -> int:
    """Index every demo record; entries equal what the search service would make."""
    entries = people.search_entries(d)
    entries += timeline.activity_entries(d)
    entries += pipeline.deal_entries(d)
    search.put(entries)
    return len(entries)


# The tables that hold a user's records, by the name a report gives them, in the order a
# report lists them. The demo fills each; a database with any of them is not empty.
RECORDS = (
    ("contacts", "Contact"), ("companies", "Company"), ("deals", "Deal"),
    ("activities", "Activity"), ("tasks", "Task"), ("tags", "Tag"),
    ("custom_fields", "ContactField"), ("contact_tags", "ContactTag"),
    ("company_tags", "CompanyTag"), ("stage_changes", "DealStageChange"),
    ("contact_emails", "ContactEmail"), ("contact_phones", "ContactPhone"),
    ("merge_aliases", "MergeAlias"), ("products", "Product"), ("orders", "SalesOrder"),
    ("order_lines", "OrderLine"), ("campaigns", "Campaign"),
    ("campaign_keywords", "CampaignKeyword"), ("campaign_costs", "CampaignCost"),
)  # fmt: skip
# What a person calls one of them (values.plural words the count).
LABELS = {
    "contacts": "contact", "companies": "company", "deals": "deal", "activities": "activity",
    "tasks": "task", "tags": "tag", "custom_fields": "custom field",
    "contact_tags": "contact tag", "company_tags": "company tag",
    "stage_changes": "stage change", "reminders": "printed reminder",
    "merge_aliases": "merged-away id",  # emails and phones: part of their contacts
    "products": "product", "orders": "order",  # order lines: part of their orders
    "campaigns": "campaign", "campaign_costs": "campaign cost",  # keywords: their campaign's
}  # fmt: skip
MARKER = "demo"  # the setting that records what the demo made


def _models() -> dict[str, type]:
    from crmcli import models

    return {key: getattr(models, name) for key, name in RECORDS}


def held() -> dict[str, int]:
    """How many records of each kind the database holds."""
    return {key: model.select().count() for key, model in _models().items()}


def fingerprint() -> dict[str, list]:
    """Per table (the records and the sales stages): rows, the highest id, the latest
    created_at and updated_at, and the sum of every updated_at in seconds. A record made,
    changed or deleted moves one of them, even under a clock pinned in the past (CRM_NOW), so
    a database whose fingerprint is the one the demo recorded holds the demo alone."""
    from peewee import SQL, fn

    from crmcli.db import epoch
    from crmcli.models import Stage

    out = {}
    for key, model in (*_models().items(), ("stages", Stage)):
        fields = model._meta.fields
        columns = [fn.COUNT(SQL("*"))] + [
            fn.MAX(fields[name]) for name in ("id", "created_at", "updated_at") if name in fields
        ]
        if "updated_at" in fields:
            columns.append(fn.SUM(epoch(fields["updated_at"])))
        row = model.select(*columns).tuples().get()
        out[key] = [None if v is None else v if isinstance(v, int) else str(v) for v in row]
    return out


def demo_marker() -> dict | None:
    """What the last `crm demo` recorded (made_at, seed, counts, fingerprint), or None."""
    import json

    from crmcli.models import Setting

    value = Setting.select(Setting.value).where(Setting.key == MARKER).scalar()
    try:
        marker = json.loads(value) if value else None
    except ValueError:
        return None
    return marker if isinstance(marker, dict) else None


def describe_counts(counts: dict[str, int]) -> str:
    """'200 contacts, 25 companies and 1 deal': the kinds that are not 0, in report order."""
    parts = [plural(n, LABELS[key]) for key, n in counts.items() if n and key in LABELS]
    if len(parts) < 2:
        return "".join(parts) or "nothing"
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def _check_replaceable(counts: dict[str, int], force: bool) -> None:
    """Refuse unless the database is empty or holds an unchanged demo (then only with force)."""
    if not any(counts.values()):
        return
    marker = demo_marker()
    what = describe_counts(counts)
    if marker is None:
        raise Conflict(
            f"the database already holds {what} that the demo did not make; the demo goes only "
            "into an empty database or over an unchanged demo",
            action="demo_other_database",
        )
    if marker.get("fingerprint") != fingerprint():
        raise Conflict(
            f"the demo in this database was changed after it was made ({what} now), so it may "
            "hold somebody's work; the demo goes only into an empty database or over an "
            "unchanged demo",
            action="demo_other_database",
        )
    if not force:
        raise Conflict(
            f"the database already holds a demo made {_when(marker.get('made_at'))} ({what})",
            action="demo_replace",
        )


def _when(iso: object) -> str:
    from crmcli.values import format_datetime

    try:
        return format_datetime(datetime.fromisoformat(str(iso)))
    except ValueError:
        return "earlier"


def _clear() -> dict[str, int]:
    """Remove every record of the demo, the search index and the printed-reminder log;
    returns how many of each kind went."""
    from crmcli.models import ReminderLog

    models = _models()
    removed = {key: model.select().count() for key, model in models.items()}
    removed["reminders"] = ReminderLog.select().count()
    order = ("order_lines", "orders", "products", "stage_changes", "deals", "tasks",
             "activities", "contact_tags", "company_tags", "custom_fields", "contact_emails",
             "contact_phones", "merge_aliases", "contacts", "companies", "tags",
             "campaign_costs", "campaign_keywords", "campaigns")  # fmt: skip
    ReminderLog.delete().execute()
    for key in order:
        models[key].delete().execute()
    database_proxy.obj.execute_sql("DELETE FROM search_index")
    return removed


@contextmanager
def _alone() -> Iterator[None]:
    """One transaction in which no other writer commits between the check of what the
    database holds and the demo's last row: a record added meanwhile would be wiped unseen.
    SQLite's write lock is taken up front; on PostgreSQL the tables are locked against
    writers (readers go on) until the commit."""
    from peewee import SqliteDatabase

    from crmcli.db import exclusive_transaction
    from crmcli.models import Setting, Stage

    db = database_proxy.obj
    with exclusive_transaction(db):
        if not isinstance(db, SqliteDatabase):
            tables = [m._meta.table_name for m in (*_models().values(), Stage, Setting)]
            db.execute_sql(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        yield


def _record(now: datetime, seed: int, counts: dict[str, int]) -> None:
    import json

    from crmcli.models import Setting

    value = json.dumps({
        "made_at": now.isoformat(), "seed": seed, "counts": counts, "fingerprint": fingerprint(),
    })  # fmt: skip
    Setting.insert(key=MARKER, value=value, updated_at=now).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: value, Setting.updated_at: now}
    ).execute()


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
    (default one per eight people). Only an empty database, or one that holds an earlier demo
    unchanged (its fingerprint as the demo recorded it) with `force`, which replaces that demo
    whole; anything else is refused, force or not. The same seed and `now` give the same data.
    Returns how many rows of each kind were made, and as removed_* what was removed."""
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
    with _alone(), fresh_statistics():  # PostgreSQL plans for the tables as now filled
        before = held()
        _check_replaceable(before, force)
        removed = _clear() if any(before.values()) else dict.fromkeys((*before, "reminders"), 0)
        d = Demo(rng=random.Random(seed), now=now, **pools(seed))
        steps = (  # in order: each may use what the ones before made
            ("companies", lambda: people.companies(d, companies)),
            ("contacts", lambda: people.contacts(d, contacts)),
            ("contact_emails", lambda: people.contact_addresses(d)),
            ("contact_phones", lambda: d.phone_rows),
            ("tags", lambda: people.tags(d)),
            ("contact_tags", lambda: people.contact_tags(d)),
            ("consent_entries", lambda: consents.consents(d)),
            ("company_tags", lambda: people.company_tags(d)),
            ("custom_fields", lambda: people.contact_fields(d)),
            ("activities", lambda: timeline.activities(d, activities)),
            ("tasks", lambda: timeline.tasks(d, tasks)),
            ("cadences", lambda: timeline.cadences(d)),
            ("deals", lambda: pipeline.deals(d, deals)),
            ("products", lambda: shop.products(d)),
            ("orders", lambda: shop.orders(d)),
            ("order_lines", lambda: d.order_lines),
            ("campaigns", lambda: campaigns.campaigns(d)),
            ("search_entries", lambda: _search_index(d)),  # last: it indexes all the others
        )
        counts = {key: make() for key, make in steps}
        counts["activities"] += getattr(d, "touched", 0)  # calls that keep cadences in time
        counts["contact_tags"] += getattr(d, "consent_tagged", 0)  # withdrawn, still tagged
        from crmcli.services.reminders import rebuild_queues

        rebuild_queues()  # bulk inserts bypass the services that keep the reminder queues
        _record(now, seed, counts)  # last: its fingerprint is of everything made above
    return {
        "contacts": counts.pop("contacts"),
        **counts,
        **{f"removed_{key}": n for key, n in removed.items()},
    }
