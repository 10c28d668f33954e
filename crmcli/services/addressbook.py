"""Address completion for mail clients (mutt's query_command, aerc's address-book-cmd):
the emails of the contacts a query finds, each with its contact's name and company."""

from __future__ import annotations

from typing import NamedTuple

from peewee import SQL, NodeList

from crmcli.models import Company, Contact, ContactEmail, database_proxy
from crmcli.services import search


class Address(NamedTuple):
    email: str
    name: str
    company: str | None
    contact_id: int


def lookup(query: str, *, limit: int = 50) -> list[Address]:
    """Every email of the contacts (at most `limit`) whose name, company, city or email
    matches `query` as `crm search` matches (folded, each word a prefix), or whose email
    starts with it; an email-prefix match first, then the best search hits. A contact's
    primary email comes first, then the others in their order; contacts without email
    are left out."""
    text = " ".join(query.split())
    if not text:
        return []
    ids = _email_prefix(text.lower(), limit)
    # Search hits come a page at a time and count only when they have an email: the best
    # hits may all be contacts without one, and they must not use up the limit.
    page = max(limit, 50)
    offset = 0
    for _ in range(MAX_PAGES):
        if len(ids) >= limit:
            break
        hits = [h["id"] for h in search.search(text, limit=page, offset=offset, kinds=["contact"])]
        with_email = _with_email([i for i in hits if i not in ids])
        ids += [i for i in hits if i in with_email and i not in ids]
        if len(hits) < page:
            break
        offset += page
    return _addresses(ids[:limit])


# How many pages of search hits are read to find `limit` contacts with an email.
MAX_PAGES = 10


def _with_email(ids: list[int]) -> set[int]:
    """Those of these contacts that have an email (a row, or the copy on the contact)."""
    if not ids:
        return set()
    rows = ContactEmail.select(ContactEmail.contact).where(ContactEmail.contact.in_(ids))
    has_copy = Contact.email.is_null(False) & (Contact.email != "")
    query = Contact.select(Contact.id).where(
        Contact.id.in_(ids) & (has_copy | Contact.id.in_(rows))
    )
    return {cid for (cid,) in query.tuples()}


def _email_prefix(prefix: str, limit: int) -> list[int]:
    """Contacts with an email that starts with `prefix` (lower-cased), by that email."""
    if any(ch.isspace() for ch in prefix):
        return []
    high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    ids: list[int] = []
    indexed = _code_point_order()
    for column, owner in (
        (ContactEmail.email_key, ContactEmail.contact),
        (Contact.email_key, Contact.id),  # a contact the 0009 rows do not hold (never, normally)
    ):
        key = column if indexed else NodeList((column, SQL('COLLATE "C"')))
        rows = (
            column.model.select(owner)
            .where((key >= prefix) & (key < high))
            .order_by(column)
            .limit(limit)
        )
        for (contact_id,) in rows.tuples():
            if contact_id not in ids:
                ids.append(contact_id)
    return ids


_C_COLLATIONS = {"c", "posix", "c.utf-8", "c.utf8"}


def _code_point_order() -> bool:
    """Whether the database compares text in code point order, so that a prefix is a range
    of the email index: SQLite's BINARY does, a PostgreSQL database in the C locale too. In
    any other locale the range is compared COLLATE "C" (correct, but without the index)."""
    from peewee import SqliteDatabase

    db = database_proxy.obj
    if isinstance(db, SqliteDatabase):
        return True
    sql = "SELECT datcollate FROM pg_database WHERE datname = current_database()"
    collation = db.execute_sql(sql).fetchone()[0]
    return (collation or "").lower() in _C_COLLATIONS


def _addresses(ids: list[int]) -> list[Address]:
    """The emails of these contacts, in the contacts' order: two queries."""
    if not ids:
        return []
    people = {
        cid: (name, email, company)
        for cid, name, email, company in Contact.select(
            Contact.id, Contact.name, Contact.email, Company.name
        )
        .join(Company, on=(Contact.company == Company.id), join_type=_left())
        .where(Contact.id.in_(ids))
        .tuples()
    }
    emails: dict[int, list[str]] = {}
    rows = (
        ContactEmail.select(ContactEmail.contact, ContactEmail.email)
        .where(ContactEmail.contact.in_(ids))
        .order_by(ContactEmail.contact, ContactEmail.is_primary.desc(), ContactEmail.position)
    )
    for cid, email in rows.tuples():
        emails.setdefault(cid, []).append(email)
    out = []
    for cid in ids:
        if cid not in people:
            continue
        name, primary, company = people[cid]
        listed = emails.get(cid) or ([primary] if primary else [])
        if primary and primary not in listed:  # the copy on the contact leads the list
            listed.insert(0, primary)
        out += [Address(e, name, company, cid) for e in listed]
    return out


def _left():
    from peewee import JOIN

    return JOIN.LEFT_OUTER
