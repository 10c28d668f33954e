"""What an export of deals, activities and tasks adds so that `crm import csv --kind ...`
reads it back into another database: each row's contact by email (its id is only this
database's, its name need not be unique)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from crmcli.models import Contact

BATCH = 1000


def with_contact_emails(rows: Iterable[dict]) -> Iterator[dict]:
    """The rows, each with `contact_email` (its contact's primary email, or None), read in
    batches: one query per BATCH rows, never a list of them all."""
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, BATCH)):
        ids = sorted({r["contact_id"] for r in batch if r.get("contact_id") is not None})
        emails = (
            dict(Contact.select(Contact.id, Contact.email).where(Contact.id.in_(ids)).tuples())
            if ids
            else {}
        )
        for row in batch:
            row["contact_email"] = emails.get(row.get("contact_id"))
            yield row
