"""Changes to many contacts or companies at once: the set `crm list` filters select, tagged,
edited or deleted in one transaction with a few statements per 500 records (never the
one-record service once per record), with every side effect the one-record path has."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from crmcli.models import Activity, Deal, Task

CHUNK = 500  # ids per statement: well under SQLite's and PostgreSQL's parameter limits


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def contact_dependents(contact_ids: Sequence[int]) -> dict[str, int]:
    """What deleting these contacts takes along (their activities and tasks) and what it
    leaves without a contact (their deals, which stay)."""
    out = {"activities": 0, "tasks": 0, "deals": 0}
    for part in chunks(contact_ids):
        out["activities"] += Activity.select().where(Activity.contact.in_(part)).count()
        out["tasks"] += Task.select().where(Task.contact.in_(part)).count()
        out["deals"] += Deal.select().where(Deal.contact.in_(part)).count()
    return out


def company_dependents(company_ids: Sequence[int]) -> dict[str, int]:
    """What deleting these companies concerns: their people and their deals (which stay)."""
    from crmcli.models import Contact

    out = {"contacts": 0, "deals": 0}
    for part in chunks(company_ids):
        out["contacts"] += Contact.select().where(Contact.company.in_(part)).count()
        out["deals"] += Deal.select().where(Deal.company.in_(part)).count()
    return out
