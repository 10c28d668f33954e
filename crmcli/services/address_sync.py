"""A contact's emails and phones for many contacts at once (bulk edits) and their health:
the primary copies on the contact checked against the rows (`crm db check`) and mended.
See services.addresses for one contact's."""

from __future__ import annotations

from collections.abc import Sequence

from crmcli.models import Contact, ContactEmail, ContactPhone, database_proxy
from crmcli.services.addresses import CHUNK, EMAIL_FIELDS, PHONE_FIELDS, clean_phone


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def drop_primaries(contact_ids: Sequence[int], *, emails: bool, phones: bool) -> None:
    """Remove the primary email and/or phone of many contacts (`crm edit --clear email
    --where ...`): the next of each becomes primary. A few statements per 500 contacts."""
    for part in _chunks(contact_ids):
        for on, model in ((emails, ContactEmail), (phones, ContactPhone)):
            if on:
                model.delete().where(model.contact.in_(part) & model.is_primary).execute()
        promote(part)


def set_primary_phone(contact_ids: Sequence[int], phone: str) -> None:
    """Give many contacts the same primary phone (`crm edit --phone X --where ...`): it
    replaces each one's primary, or becomes the first one; a copy of it among the others
    goes. It takes the kind given with it, else the kind a new one gets: a primary that was
    the same number keeps its kind, another number does not inherit the old one's (as
    addresses.change_addresses does for one contact)."""
    new = clean_phone(phone)
    key = new["e164"]
    for part in _chunks(contact_ids):
        has = {
            cid
            for (cid,) in ContactPhone.select(ContactPhone.contact)
            .where(ContactPhone.contact.in_(part) & ContactPhone.is_primary)
            .tuples()
        }
        ContactPhone.delete().where(
            ContactPhone.contact.in_(part)
            & ~ContactPhone.is_primary
            & (ContactPhone.phone_e164 == key)
        ).execute()
        primaries = ContactPhone.contact.in_(part) & ContactPhone.is_primary
        same = ContactPhone.phone_e164 == key
        kept = {"kind": new["kind"]} if new["kind_given"] else {}
        ContactPhone.update(phone=new["phone"], **kept).where(primaries & same).execute()
        ContactPhone.update(phone=new["phone"], phone_e164=key, kind=new["kind"]).where(
            primaries & (ContactPhone.phone_e164.is_null() | (ContactPhone.phone_e164 != key))
        ).execute()
        rows = [(cid, new["phone"], key, new["kind"], True, 0) for cid in part if cid not in has]
        if rows:
            ContactPhone.insert_many(rows, fields=PHONE_FIELDS).execute()
        promote(part)


def promote(contact_ids: Sequence[int]) -> None:
    """Make each of these contacts' emails and phones have exactly one primary (the marked
    one with the lowest position, else the lowest position) and copy the primaries onto the
    contacts: batched, a few statements per 500 contacts whatever their number."""
    for part in _chunks(contact_ids):
        for model, fields in (
            (ContactEmail, (ContactEmail.email, ContactEmail.email_key)),
            (ContactPhone, (ContactPhone.phone, ContactPhone.phone_e164)),
        ):
            rows = (
                model.select(model.id, model.contact, model.is_primary, *fields)
                .where(model.contact.in_(part))
                .order_by(model.contact, model.is_primary.desc(), model.position, model.id)
                .tuples()
            )
            chosen: dict[int, tuple] = {}
            wrong: list[int] = []  # rows whose primary mark is to flip
            for rid, cid, primary, *values in rows:
                first = cid not in chosen
                if first:
                    chosen[cid] = (rid, *values)
                if bool(primary) != first:
                    wrong.append(rid)
            for start in range(0, len(wrong), CHUNK):
                flip = wrong[start : start + CHUNK]
                model.update(is_primary=~model.is_primary).where(model.id.in_(flip)).execute()
            columns = ("email", "email_key") if model is ContactEmail else ("phone", "phone_e164")
            _copy(part, columns, {cid: tuple(v[1:]) for cid, v in chosen.items()})


def _copy(part: list[int], columns: tuple[str, str], values: dict[int, tuple]) -> None:
    """Set the two copy columns of the contacts in `part` (None where `values` has none),
    only where they differ: one read, then an executemany of the changes."""
    a, b = (Contact._meta.fields[c] for c in columns)
    current = {
        cid: (x, y)
        for cid, x, y in Contact.select(Contact.id, a, b).where(Contact.id.in_(part)).tuples()
    }
    changes = [
        (*values.get(cid, (None, None)), cid)
        for cid, now in current.items()
        if tuple(values.get(cid, (None, None))) != now
    ]
    if not changes:
        return
    # A primary copy moving from one contact to another within `part` must not trip the
    # unique index on email_key half-way: clear the changed ones first.
    ids = [cid for *_, cid in changes]
    for start in range(0, len(ids), CHUNK):
        Contact.update({a: None, b: None}).where(
            Contact.id.in_(ids[start : start + CHUNK])
        ).execute()
    from crmcli.db import placeholder

    mark = placeholder()
    sql = f"UPDATE contact SET {columns[0]} = {mark}, {columns[1]} = {mark} WHERE id = {mark}"
    database_proxy.obj.cursor().executemany(sql, changes)


# ------------------------------------------------------------------ health


def drift() -> dict[str, int]:
    """How many contacts' primary copies disagree with their email and phone rows (a copy
    without a row, a row without a copy, none or several primaries, different values)."""
    return {"email": len(drifted_ids("email")), "phone": len(drifted_ids("phone"))}


def drifted_ids(what: str) -> list[int]:
    """The contacts whose primary `what` (email or phone) is out of step with its rows."""
    table, value, key = (
        ("contact_email", "email", "email_key")
        if what == "email"
        else ("contact_phone", "phone", "phone_e164")
    )
    true = "1" if _sqlite() else "TRUE"
    sql = f"""
        SELECT c.id FROM contact c
        LEFT JOIN (SELECT contact_id, count(*) AS n, max({value}) AS v, max({key}) AS k
                   FROM {table} WHERE is_primary = {true} GROUP BY contact_id) p
               ON p.contact_id = c.id
        WHERE (p.contact_id IS NULL AND (c.{value} IS NOT NULL
                  OR EXISTS (SELECT 1 FROM {table} r WHERE r.contact_id = c.id)))
           OR (p.contact_id IS NOT NULL AND (p.n <> 1 OR c.{value} IS NULL OR c.{value} <> p.v
                  OR (c.{key} IS NULL) <> (p.k IS NULL) OR c.{key} <> p.k))
        ORDER BY c.id
    """
    return [cid for (cid,) in database_proxy.obj.execute_sql(sql).fetchall()]


def _sqlite() -> bool:
    from peewee import SqliteDatabase

    return isinstance(database_proxy.obj, SqliteDatabase)


def repair_drift() -> int:
    """Bring every drifted contact back in step: a copy without rows becomes its primary row
    (as migration 0009 did), rows decide otherwise (one primary, copied). Returns how many
    contacts were mended; reindexes them."""
    from crmcli.services import search

    ids = sorted(set(drifted_ids("email")) | set(drifted_ids("phone")))
    with database_proxy.atomic():
        for part in _chunks(ids):
            _rows_from_copies(part)
            promote(part)
        search.reindex_contacts(ids)
    return len(ids)


def _rows_from_copies(part: list[int]) -> None:
    """A primary row for each copy that has no row of its own among its contact's rows."""
    copies = Contact.select(
        Contact.id, Contact.email, Contact.email_key, Contact.phone, Contact.phone_e164
    ).where(Contact.id.in_(part))
    have_email = {
        k for (k,) in ContactEmail.select(ContactEmail.email_key).where(
            ContactEmail.contact.in_(part)).tuples()
    }  # fmt: skip
    have_phone = {
        (c, p) for c, p in ContactPhone.select(ContactPhone.contact, ContactPhone.phone).where(
            ContactPhone.contact.in_(part)).tuples()
    }  # fmt: skip
    rows = list(copies.tuples())
    keys = [r[2] for r in rows if r[1] and r[2] and r[2] not in have_email]
    taken = {
        k for (k,) in ContactEmail.select(ContactEmail.email_key).where(
            ContactEmail.email_key.in_(keys)).tuples()
    } if keys else set()  # fmt: skip
    emails, phones = [], []
    for cid, email, email_key, phone, e164 in rows:
        if email and email_key and email_key not in have_email and email_key not in taken:
            emails.append((cid, email, email_key, "other", False, -1))
        if phone and (cid, phone) not in have_phone:
            phones.append((cid, phone, e164, "other", False, -1))
    if emails:
        ContactEmail.insert_many(emails, fields=EMAIL_FIELDS).execute()
    if phones:
        ContactPhone.insert_many(phones, fields=PHONE_FIELDS).execute()
