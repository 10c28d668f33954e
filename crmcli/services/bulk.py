"""Changes to many contacts or companies at once: the set the `crm list` filters select, tagged,
edited or deleted in one transaction with a few statements per 500 records (never the
one-record service once per record), with every side effect the one-record path has: search
index, stay-in-touch queue columns, updated_at.

A caller selects first (`select`), shows the set and asks; the change then selects again in its
transaction and refuses (`Conflict`, nothing written) when the set is no longer the one shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from crmcli.errors import Conflict, Invalid
from crmcli.models import (
    Activity,
    Company,
    CompanyTag,
    Contact,
    ContactField,
    ContactTag,
    Deal,
    Tag,
    Task,
    database_proxy,
    utcnow,
)
from crmcli.services import cadence, search, tags

CHUNK = 500  # ids per statement: well under SQLite's and PostgreSQL's parameter limits
KINDS = ("contact", "company")
# Fields whose text is in a record's search entry (see search.contact_entries/company_entries).
CONTACT_INDEXED = {"name", "email", "company", "city", "notes", "phone"}
COMPANY_INDEXED = {"name", "domain", "email", "city", "notes", "phone"}


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid("kind", f"changes by filter work on contacts and companies, not {kind}")


def _query(kind: str, filters: dict, every: bool):
    """(id, name) of the records the filters select, unsorted; None when none can match.
    The filter function is the one `crm list` uses, so the set is the one it lists."""
    from crmcli.services import companies, contacts

    _check_kind(kind)
    if not every and not any(v not in (None, "", [], (), False) for v in filters.values()):
        raise Invalid("filter", f"no filter given: every {kind} would change")
    if kind == "contact":
        return contacts.filtered_query(Contact.select(Contact.id, Contact.name), **filters)
    return companies.filtered_query(Company.select(Company.id, Company.name), **filters)


def select(kind: str, filters: dict, *, every: bool = False) -> list[tuple[int, str]]:
    """(id, name) of every contact or company the `crm list` filters select, by name.
    An empty filter is an error unless `every` says all records are meant."""
    query = _query(kind, filters, every)
    if query is None:
        return []
    model = Contact if kind == "contact" else Company
    return list(query.order_by(model.name_key, model.id).tuples())


def _ids(kind: str, filters: dict, every: bool, expect: Sequence[int] | None) -> list[int]:
    """The selected ids inside the writing transaction, checked against the set shown."""
    query = _query(kind, filters, every)
    ids = sorted(i for i, _ in query.tuples()) if query is not None else []
    if expect is not None and set(ids) != set(expect):
        raise Conflict(
            f"the {kind} set changed since it was shown ({len(expect)} then, {len(ids)} now); "
            "nothing changed"
        )
    return ids


def _cadence_tags(tag_ids: Iterable[int]) -> bool:
    """Whether any of these tags has a stay-in-touch cadence (only those move due times)."""
    ids = list(tag_ids)
    return (
        bool(ids) and Tag.select().where(Tag.id.in_(ids) & Tag.cadence_days.is_null(False)).exists()
    )


def tag(
    kind: str,
    filters: dict,
    names: Iterable[str],
    *,
    remove: bool = False,
    every: bool = False,
    expect: Sequence[int] | None = None,
    now: datetime | None = None,
) -> dict:
    """Add (or remove) tags on every selected record, all or nothing. Returns how many records
    were selected (`records`) and how many tag links were added or removed (`changed`)."""
    now = now or utcnow()
    names = list(names)
    with database_proxy.atomic():
        ids = _ids(kind, filters, every, expect)
        changed = _retag(kind, ids, names, remove=remove, now=now)
    return {"kind": kind, "records": len(ids), "changed": changed, "tags": names}


def _retag(kind: str, ids: list[int], names: list[str], *, remove: bool, now: datetime) -> int:
    """Link (or unlink) the named tags on these records; how many links changed."""
    if kind == "contact":
        link, owner, model = ContactTag, ContactTag.contact, Contact
    else:
        link, owner, model = CompanyTag, CompanyTag.company, Company
    if remove:
        tag_ids = [t for t in tags.tag_ids(names) if t is not None]
    else:
        tag_ids = tags.ensure_tags(names)
    changed = 0
    for part in chunks(ids):
        if remove and tag_ids:
            changed += link.delete().where(owner.in_(part) & link.tag.in_(tag_ids)).execute()
        elif tag_ids:
            had = link.select().where(owner.in_(part) & link.tag.in_(tag_ids)).count()
            rows = [(i, t) for i in part for t in tag_ids]
            link.insert_many(rows, fields=[owner, link.tag]).on_conflict_ignore().execute()
            changed += len(rows) - had
        model.update(updated_at=now).where(model.id.in_(part)).execute()
    if kind == "contact" and _cadence_tags(tag_ids):
        cadence.refresh(ids)  # the shorter cadence of own and tags' may have moved
    return changed


def edit(
    kind: str,
    filters: dict,
    changes: dict,
    *,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    fields: Sequence[tuple[str, str]] = (),
    every: bool = False,
    expect: Sequence[int] | None = None,
    now: datetime | None = None,
) -> dict:
    """Give every selected record the same changes (None or "" clears a field), tags and
    custom fields, all or nothing; checked by the one-record edit's own check
    (contacts.check_change, companies.check_change)."""
    from crmcli.services import companies, contacts

    now = now or utcnow()
    _check_kind(kind)
    if fields and kind != "contact":
        raise Invalid("field", "companies have no custom fields")
    contacts.check_fields(fields)
    if kind == "contact":
        row = contacts.check_change(changes, now, many=True)
    else:
        row = companies.check_change(changes, many=True)
    add_tags, remove_tags = list(add_tags), list(remove_tags)
    model = Contact if kind == "contact" else Company
    with database_proxy.atomic():
        ids = _ids(kind, filters, every, expect)
        if kind == "contact":
            contacts.check_stored_consent(ids, row)
        company: dict = {}
        if kind == "contact" and "company" in changes and ids:  # none: no company made
            row["company"], created = companies.link_company(changes["company"], now=now)
            name = Company.select(Company.name).where(Company.id == row["company"]).scalar()
            company = {"company_id": row["company"], "company": name, "company_created": created}
        row["updated_at"] = now
        if kind == "contact":  # the primary email and phone live in rows of their own
            for column in ("email", "email_key", "phone", "phone_e164"):
                row.pop(column, None)
            _change_addresses(ids, changes)
        for part in chunks(ids):
            model.update(**row).where(model.id.in_(part)).execute()
            if kind == "contact":
                for key, value in fields:
                    ContactField.delete().where(
                        ContactField.contact.in_(part) & (ContactField.key == key)
                    ).execute()
                    if value != "":
                        ContactField.insert_many(
                            [(i, key, value) for i in part],
                            fields=[ContactField.contact, ContactField.key, ContactField.value],
                        ).execute()
        tagged = _retag(kind, ids, add_tags, remove=False, now=now) if add_tags else 0
        untagged = _retag(kind, ids, remove_tags, remove=True, now=now) if remove_tags else 0
        indexed = CONTACT_INDEXED if kind == "contact" else COMPANY_INDEXED
        if indexed & set(changes) or fields:  # custom-field values are indexed too
            (search.reindex_contacts if kind == "contact" else search.reindex_companies)(ids)
        if kind == "contact" and {"cadence_days", "status"} & set(row):
            cadence.refresh(ids)
        if kind == "contact" and "consent" in row:
            from crmcli.services import consent

            consent.record_flags(ids, "edited on many contacts at once", now=now)
    # With a company change: the company's id and name, and whether naming it created it.
    return {"kind": kind, "records": len(ids), "tagged": tagged, "untagged": untagged, **company}


def _change_addresses(ids: list[int], changes: dict) -> None:
    """--clear email / --clear phone (the primary goes, the next becomes primary) and
    --phone X (everyone's primary phone) on many contacts; another email for everyone was
    refused by contacts.check_change."""
    from crmcli.services import address_sync

    clear_email = "email" in changes
    clear_phone = "phone" in changes and changes["phone"] in (None, "")
    if clear_email or clear_phone:
        address_sync.drop_primaries(ids, emails=clear_email, phones=clear_phone)
    if "phone" in changes and not clear_phone:
        address_sync.set_primary_phone(ids, changes["phone"])


def delete(
    kind: str,
    filters: dict,
    *,
    contacts: str = "keep",
    every: bool = False,
    expect: Sequence[int] | None = None,
) -> dict:
    """Delete every selected record, all or nothing. Contacts go with their timeline and tasks
    (their deals stay, without contact); a company's people are kept without company or
    deleted with it (`contacts`), as the one-record delete does."""
    if contacts not in ("keep", "delete"):
        raise Invalid("contacts", f"'{contacts}' must be keep or delete")
    with database_proxy.atomic():
        ids = _ids(kind, filters, every, expect)
        if kind == "contact":
            along = contact_dependents(ids)
            delete_contacts(ids)
            return {"kind": kind, "records": len(ids), **along}
        along = delete_companies(ids, contacts=contacts)
    return {"kind": kind, "records": len(ids), "contacts_done": contacts, **along}


def delete_contacts(ids: Sequence[int]) -> None:
    """Delete contacts with their timeline and tasks (by the schema's cascades) and index
    entries; their deals stay, without contact. The one delete of one contact and of many."""
    with database_proxy.atomic():
        for part in chunks(ids):
            timeline = Activity.select(Activity.id).where(Activity.contact.in_(part))
            search.remove("activity", [i for (i,) in timeline.tuples()])
            Contact.delete().where(Contact.id.in_(part)).execute()
        search.remove("contact", ids)


def delete_companies(ids: Sequence[int], *, contacts: str = "keep") -> dict[str, int]:
    """Delete companies. Their people are kept without company or deleted with them
    (`contacts`); the companies' own entries go, entries on people who stay stay (without the
    company). The one delete of one company and of many; returns what it concerned
    (company_dependents, and with `delete` the people's contact_dependents as contact_*)."""
    if contacts not in ("keep", "delete"):
        raise Invalid("contacts", f"'{contacts}' must be keep or delete")
    with database_proxy.atomic():
        people: list[int] = []
        for part in chunks(ids):
            people += [
                i for (i,) in Contact.select(Contact.id).where(Contact.company.in_(part)).tuples()
            ]
        along = company_dependents(ids)
        if contacts == "delete":
            along |= {f"contact_{k}": n for k, n in contact_dependents(people).items()}
            delete_contacts(people)
        for part in chunks(ids):
            # The company's own entries go with it; its people's entries stay with people who stay.
            own = Activity.company.in_(part) & Activity.contact.is_null()
            gone = [i for (i,) in Activity.select(Activity.id).where(own).tuples()]
            search.remove("activity", gone)
            others = Activity.company.in_(part) & Activity.contact.is_null(False)
            Activity.update(company=None).where(others).execute()
        if contacts == "keep":
            for part in chunks(people):
                Contact.update(company=None).where(Contact.id.in_(part)).execute()
            search.reindex_contacts(people)  # the company name leaves their entries
        for part in chunks(ids):
            Company.delete().where(Company.id.in_(part)).execute()
        search.remove("company", ids)
    return along


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
    out = {"contacts": 0, "deals": 0}
    for part in chunks(company_ids):
        out["contacts"] += Contact.select().where(Contact.company.in_(part)).count()
        out["deals"] += Deal.select().where(Deal.company.in_(part)).count()
    return out
