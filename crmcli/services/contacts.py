"""Contacts: create, read, list, change and delete people, with tags and custom fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from peewee import JOIN, fn

from crmcli.errors import Invalid
from crmcli.models import (
    CONTACT_STATUSES,
    Campaign,
    CampaignKeyword,
    Company,
    Contact,
    ContactField,
    ContactTag,
    Tag,
    database_proxy,
    utcnow,
)
from crmcli.services import addresses, cadence, companies, limits, prepared, refs, search, tags
from crmcli.values import (
    birthday_value,
    fold,
    fold_variants,
    parse_email,
    parse_phone,
    plural,
    sound_key,
)

TEXT_FIELDS = ("position", "street", "zip", "city", "country", "source", "owner", "notes")
EDITABLE = (
    "name", "email", "phone", "company", "birthday", "status", "consent", "consent_at",
    "cadence_days",
)  # fmt: skip
EDITABLE += TEXT_FIELDS
SORTS = {
    "name": (Contact.name_key, Contact.id),
    "created": (Contact.created_at, Contact.id),
    "updated": (Contact.updated_at, Contact.id),
    "city": (Contact.city_fold, Contact.name_key, Contact.id),
    "status": (Contact.status, Contact.name_key, Contact.id),
    "id": (Contact.id,),
}


def resolve_contact(ref: str) -> int:
    """The id of the contact that REF names: an id (one merged away names its survivor), any
    of its emails, or a unique name fragment."""
    return refs.resolve(
        Contact, ref, kind="contact", describe=_candidates, by_email=addresses.contact_of_email,
        merged=True,
    )  # fmt: skip


def _candidates(ids: list[int]):
    from crmcli.errors import Candidate

    rows = (
        Contact.select(Contact.id, Contact.name, Contact.email, Company.name)
        .join(Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id))
        .where(Contact.id.in_(ids))
        .order_by(Contact.name_key, Contact.id)
        .tuples()
    )
    return [Candidate(i, n, " · ".join(p for p in (e, c) if p)) for i, n, e, c in rows]


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def check_status(status: str) -> str:
    value = (status or "").strip().lower()
    if value not in CONTACT_STATUSES:
        raise Invalid("status", f"unknown status '{status}' (choose {', '.join(CONTACT_STATUSES)})")
    return value


def clean_fields(values: dict, now: datetime) -> dict:
    """Validate and normalise user values into column values. Unknown keys are a bug, not input."""
    out: dict = {}
    for key, value in values.items():
        if key == "name":
            name = limits.check("name", " ".join((value or "").split()))
            if not name:
                raise Invalid("name", "a contact needs a name")
            out.update(name=name, name_key=fold_variants(name), name_sound=sound_key(name))
        elif key == "email":
            email = limits.check("email", _text(value))
            out["email"] = parse_email(email) if email else None
            out["email_key"] = out["email"].lower() if email else None
        elif key == "phone":
            phone = limits.check("phone", _text(value))
            out["phone"] = phone
            out["phone_e164"] = parse_phone(phone) if phone else None
        elif key == "status":
            if _text(value) is None:
                raise Invalid("status", "a contact always has a status")
            out["status"] = check_status(value)
        elif key == "birthday":
            if value is not None and not isinstance(value, date):
                raise TypeError("birthday must be a date")
            if value is not None and value > now.date():
                raise Invalid("birthday", f"{value.isoformat()} is in the future")
            # A YearlessDate is stored as the plain date in NO_YEAR it is (drivers know date).
            out["birthday"] = value and date(value.year, value.month, value.day)
            out["birthday_md"] = f"{value.month:02d}-{value.day:02d}" if value else None
        elif key == "consent":
            out["consent"] = bool(value)
            if value and "consent_at" not in values:
                out["consent_at"] = now
            if not value:
                out["consent_at"] = None
        elif key == "consent_at":
            if value is not None and value > now + _SLACK:
                from crmcli.values import format_datetime

                raise Invalid(
                    "consent-date", f"{format_datetime(value)} is in the future; consent is "
                    "recorded when it was given",
                )  # fmt: skip
            out["consent_at"] = value
        elif key == "cadence_days":
            if value is not None and not 1 <= value <= 3660:
                raise Invalid("every", "a cadence is from 1 day to 10 years")
            out["cadence_days"] = value
        elif key in TEXT_FIELDS:
            out[key] = limits.check(key, _text(value))
            if key == "city":
                out["city_fold"] = fold(out[key]) if out[key] else None
        elif key == "company":
            continue  # linked by the caller, which may have to create the company
        else:
            raise KeyError(key)
    return out


# A clock a few minutes ahead elsewhere is no reason to refuse a consent just given.
_SLACK = timedelta(minutes=5)


def _check_consent(consent: bool, consent_at: datetime | None, *, without: int = 0) -> None:
    """A consent date says when consent was given: it needs the consent itself. `without`:
    how many of the contacts a change goes to have not consented."""
    if consent_at is not None and not consent:
        some = f"; {plural(without, 'contact')} of these gave none" if without else ""
        raise Invalid(
            "consent-date",
            f"a date of consent needs the consent itself (it does not grant it){some}",
            contacts_without_consent=without or None,
        )


def check_change(changes: dict, now: datetime, *, many: bool = False) -> dict:
    """A change to contacts as a user gave it (None or "" clears a field), checked and turned
    into column values: known fields, valid values, a consent date only with consent. With
    `many` it goes to several contacts at once, so no name and no email (each one's own).
    The one check of edit_contact and bulk.edit; see check_stored_consent for the rest."""
    changes = dict(changes)
    attributed = _attribution(changes, now)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid("field", f"contacts have no field {', '.join(sorted(unknown))}")
    if many:
        for key in ("email", "name"):
            if key in changes and (key == "name" or changes[key] not in (None, "")):
                raise Invalid(key, f"each contact has its own {key}; change it one by one")
    row = clean_fields(changes, now) | attributed
    if "consent" in row:
        _check_consent(row["consent"], row.get("consent_at"))
    return row


def _attribution(values: dict, now: datetime) -> dict:
    """The campaign and keyword of `values` (taken out of it) as column values: a campaign
    REF and a keyword (services.campaigns.attribution); a new campaign clears the keyword
    unless one is given, "" clears; a keyword alone names the one campaign that has it."""
    if "campaign" not in values and "keyword" not in values:
        return {}
    from crmcli.services import campaigns

    given_campaign = "campaign" in values
    campaign, keyword = values.pop("campaign", None), values.pop("keyword", None)
    if not given_campaign and not (keyword or "").strip():
        return {"keyword": None}
    campaign_id, keyword_id = campaigns.attribution(campaign, keyword, now=now)
    return {"campaign": campaign_id, "keyword": keyword_id}


def check_stored_consent(contact_ids: Sequence[int], row: dict) -> None:
    """A consent date given without the consent itself goes only to contacts that consented
    already (call it in the transaction that writes `row`, from check_change)."""
    if row.get("consent_at") is None or "consent" in row:
        return
    without = 0
    for start in range(0, len(contact_ids), 500):
        part = list(contact_ids[start : start + 500])
        without += Contact.select().where(Contact.id.in_(part) & ~Contact.consent).count()
    if without:
        _check_consent(False, row["consent_at"], without=without if len(contact_ids) > 1 else 0)


def check_fields(fields: Sequence[tuple[str, str]]) -> None:
    """Custom fields as a front end may hand them over: a key is a short word (what
    values.parse_assignment reads), a value fits the field limit; Invalid otherwise."""
    for key, value in fields:
        if not isinstance(key, str) or not re.fullmatch(r"[^\W\d_][\w-]{0,63}", key):
            shown = str(key) if len(str(key)) <= 40 else f"{str(key)[:40]}…"
            raise Invalid(
                "field",
                f"'{shown}' is not a field name (a letter, then letters, digits, _ or -; "
                "at most 64)",
            )
        limits.check("field", value)


def _set_fields(contact_id: int, fields: Sequence[tuple[str, str]]) -> None:
    check_fields(fields)
    for key, value in fields:
        ContactField.delete().where(
            (ContactField.contact == contact_id) & (ContactField.key == key)
        ).execute()
        if value != "":
            ContactField.insert(contact=contact_id, key=key, value=value).execute()


def _given_first(single, many: Iterable) -> list:
    """The old single-value argument (email=, phone=: the primary) before the list."""
    items = list(many)
    if single in (None, ""):
        return items
    first = dict(single) if isinstance(single, dict) else {"value": single}
    return [{**first, "primary": True}, *items]


def add_contact(
    name: str,
    *,
    company: str | None = None,
    tags_: Iterable[str] = (),
    fields: Sequence[tuple[str, str]] = (),
    emails: Iterable = (),
    phones: Iterable = (),
    now: datetime | None = None,
    **values,
) -> dict:
    """Create a contact. `emails` and `phones` (strings, or dicts with "email"/"phone",
    "kind", "primary"; see services.addresses): the first marked primary, else the first, is
    the primary; `email=`/`phone=` give the primary alone. An email of another contact is a
    Conflict. `company` is resolved like a REF and created only when nothing matches
    (companies.link_company); the card says whether it was (`company_created`)."""
    now = now or utcnow()
    email, phone = values.pop("email", None), values.pop("phone", None)
    email_list = addresses.clean_emails(_rekey(_given_first(email, emails), "email"))
    phone_list = addresses.clean_phones(_rekey(_given_first(phone, phones), "phone"))
    attribution = {k: values.pop(k) for k in ("campaign", "keyword") if k in values}
    row = clean_fields({"name": name, **values}, now)
    row.update(addresses.primary_copies(email_list, phone_list))
    row.setdefault("status", "lead")
    _check_consent(row.get("consent", False), row.get("consent_at"))
    with database_proxy.atomic():
        addresses.check_emails_free([e["email_key"] for e in email_list])
        row["company"], created = companies.link_company(company, now=now)
        row.update(_attribution(attribution, now))
        contact_id = Contact.insert(created_at=now, updated_at=now, **row).execute()
        addresses.insert_new(contact_id, email_list, phone_list)
        if tags_:
            ContactTag.insert_many(
                [(contact_id, t) for t in tags.ensure_tags(tags_)],
                fields=[ContactTag.contact, ContactTag.tag],
            ).execute()
        _set_fields(contact_id, [(k, v) for k, v in fields if v != ""])
        one_each = len(email_list) <= 1 and len(phone_list) <= 1  # no queries for more
        search.reindex_contacts([contact_id], secondaries=not one_each)
        if row.get("cadence_days") is not None or tags_:
            cadence.refresh([contact_id])
        if row.get("consent"):
            from crmcli.services import consent

            consent.record_flags([contact_id], "added with the contact", now=now)
    known = (addresses.email_views(email_list), addresses.phone_views(phone_list))
    return _get_contact(contact_id, known) | {"company_created": created}


def _rekey(items: Iterable, key: str) -> list:
    """Items of _given_first with its "value" key named as services.addresses reads them."""
    out = []
    for item in items:
        if isinstance(item, dict) and "value" in item:
            item = {key: item["value"], **{k: v for k, v in item.items() if k != "value"}}
        out.append(item)
    return out


def edit_contact(
    contact_id: int,
    changes: dict,
    *,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    fields: Sequence[tuple[str, str]] = (),
    add_emails: Sequence = (),
    remove_emails: Sequence = (),
    primary_email=None,
    add_phones: Sequence = (),
    remove_phones: Sequence = (),
    primary_phone=None,
    now: datetime | None = None,
) -> dict:
    """Change fields (None or "" clears one), tags, custom fields, emails and phones: all or
    nothing. `changes["email"]`/`["phone"]` replace the primary (None or "" removes it and
    the next becomes primary); add_*, remove_* and primary_* work on the others (see
    addresses.change_addresses). A company is resolved like a REF and created only when
    nothing matches (companies.link_company); the card says whether it was
    (`company_created`). An edit of emails and phones alone that changes nothing (an email
    the contact has added again) writes nothing, updated_at included: the card says
    `unchanged`, with the values it `already_has` and `already_primary`."""
    now = now or utcnow()
    changes = dict(changes)
    if (changes.get("keyword") or "").strip() and "campaign" not in changes:
        # a keyword alone is one of the contact's campaign (if it has one)
        from crmcli.services import campaigns

        changes["campaign"] = campaigns.attribution_of(Contact, contact_id)["campaign"]
    replace = {k: changes.pop(k) for k in ("email", "phone") if k in changes}
    row = check_change(changes, now)
    with database_proxy.atomic():
        # A contact deleted meanwhile (cron, a colleague, another window) is NotFound, not
        # a foreign key refused when its new email or phone is written.
        if not Contact.select(Contact.id).where(Contact.id == contact_id).exists():
            from crmcli.errors import NotFound

            raise NotFound(f"no contact with id {contact_id}")
        check_stored_consent([contact_id], row)
        said = addresses.change_addresses(
            contact_id, email=replace.get("email", addresses.KEEP),
            phone=replace.get("phone", addresses.KEEP), add_emails=add_emails,
            remove_emails=remove_emails, primary_email=primary_email, add_phones=add_phones,
            remove_phones=remove_phones, primary_phone=primary_phone,
        )  # fmt: skip
        notes = {"already_has": said["already"], "already_primary": said["already_primary"]}
        if not (said["changed"] or changes or add_tags or remove_tags or fields):
            return get_contact(contact_id) | notes | {"company_created": False, "unchanged": True}
        created = False
        if "company" in changes:
            row["company"], created = companies.link_company(_text(changes["company"]), now=now)
        row["updated_at"] = now
        Contact.update(**row).where(Contact.id == contact_id).execute()
        add = tags.ensure_tags(add_tags)
        if add:
            ContactTag.insert_many(
                [(contact_id, t) for t in add], fields=[ContactTag.contact, ContactTag.tag]
            ).on_conflict_ignore().execute()
        drop = [t for t in tags.tag_ids(remove_tags) if t is not None]
        if drop:
            ContactTag.delete().where(
                (ContactTag.contact == contact_id) & ContactTag.tag.in_(drop)
            ).execute()
        _set_fields(contact_id, fields)
        search.reindex_contacts([contact_id])
        if add or drop or {"cadence_days", "status"} & set(row):
            cadence.refresh([contact_id])
        if "consent" in row:
            from crmcli.services import consent

            consent.record_flags([contact_id], "edited on the contact", now=now)
    return get_contact(contact_id) | notes | {"company_created": created, "unchanged": False}


def tag_contact(contact_id: int, names: Iterable[str], *, remove: bool = False) -> dict:
    """Add (or remove) tags on one contact. Removing, the card lists the names the contact
    did not carry (`not_tagged`)."""
    names = list(names)
    if not remove:
        return edit_contact(contact_id, {}, add_tags=names)
    with database_proxy.atomic():
        carried = get_contact(contact_id)["tags"]
        card = edit_contact(contact_id, {}, remove_tags=names)
    return card | {"not_tagged": tags.not_carried(carried, names)}


def delete_contact(contact_id: int) -> dict:
    """Delete a contact with its tags, custom fields, timeline and tasks; returns its card.
    See bulk.delete_contacts, the one delete of one contact and of many."""
    from crmcli.services import bulk

    with database_proxy.atomic():
        card = get_contact(contact_id)
        bulk.delete_contacts([contact_id])
    return card


def _row(values: tuple) -> dict:
    (
        cid, name, email, phone, phone_e164, company_id, company_name, position, street, zip_,
        city, country, birthday, status, source, owner, notes, consent, consent_at, cadence,
        last_activity, created, updated, cadence_eff, touch_due, campaign, keyword,
    ) = values  # fmt: skip
    return {
        "id": cid,
        "name": name,
        "email": email,
        "phone": phone,
        "phone_e164": phone_e164,
        "company_id": company_id,
        "company": company_name,
        "position": position,
        "street": street,
        "zip": zip_,
        "city": city,
        "country": country,
        "birthday": birthday_value(birthday),
        "status": status,
        "source": source,
        "owner": owner,
        "campaign": campaign,
        "keyword": keyword,
        "notes": notes,
        "consent": bool(consent),
        "consent_at": consent_at,
        "cadence_days": cadence,
        # The cadence that applies (the shorter of the own and the tags') and when the contact
        # is due for a call by it (None without one).
        "cadence_effective_days": cadence_eff,
        "contact_due_at": None if touch_due is None else datetime.fromtimestamp(touch_due, UTC),
        "last_activity_at": last_activity,
        "tags": [],
        "fields": {},
        "created_at": created,
        "updated_at": updated,
    }


def _select():
    return Contact.select(
        Contact.id, Contact.name, Contact.email, Contact.phone, Contact.phone_e164,
        Contact.company, Company.name, Contact.position, Contact.street, Contact.zip,
        Contact.city, Contact.country, Contact.birthday, Contact.status, Contact.source,
        Contact.owner, Contact.notes, Contact.consent, Contact.consent_at, Contact.cadence_days,
        Contact.last_activity_at, Contact.created_at, Contact.updated_at, Contact.cadence_eff,
        Contact.touch_due,
        # the names of what brought the contact (a look-up by primary key each)
        Campaign.select(Campaign.name).where(Campaign.id == Contact.campaign),
        CampaignKeyword.select(CampaignKeyword.keyword)
        .where(CampaignKeyword.id == Contact.keyword),
    ).join(Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id))  # fmt: skip


def _attach(rows: list[dict]) -> list[dict]:
    """Fill tags and custom fields for a page of contacts: two queries, whatever the page size."""
    ids = [r["id"] for r in rows]
    if not ids:
        return rows
    if len(ids) == 1:  # a card: the same two queries every time, built once
        by_contact = {ids[0]: [n for (n,) in prepared.run("contact_tags", _tags_of, ids[0])]}
        query = prepared.run("contact_fields", _fields_of, ids[0])
    else:
        by_contact = tags.tags_by_owner(ContactTag, ContactTag.contact, ids)
        query = _fields_of(ids).tuples()
    fields: dict[int, dict] = {}
    for cid, key, value in query:
        fields.setdefault(cid, {})[key] = value
    for r in rows:
        r["tags"] = by_contact.get(r["id"], [])
        r["fields"] = fields.get(r["id"], {})
    return rows


def _by_id(contact_id):
    return _select().where(Contact.id == contact_id)


def _tags_of(contact_id: int):
    return (
        ContactTag.select(Tag.name)
        .join(Tag)
        .where(ContactTag.contact == contact_id)
        .order_by(Tag.name_fold)
    )


def _fields_of(contact_ids):
    owner = ContactField.contact
    return (
        ContactField.select(ContactField.contact, ContactField.key, ContactField.value)
        .where(owner.in_(contact_ids) if isinstance(contact_ids, list) else owner == contact_ids)
        .order_by(ContactField.key)
    )


def get_contact(contact_id: int) -> dict:
    """Every field of one contact, with company name, tags, custom fields, and every email
    and phone (`emails`, `phones`: see addresses.emails_of; `email` and `phone` are the
    primary's)."""
    return _get_contact(contact_id)


def _get_contact(contact_id: int, known: tuple[list, list] | None = None) -> dict:
    """get_contact; `known`: its emails and phones as the caller just wrote them."""
    from crmcli.errors import NotFound

    found = prepared.run("contact", _by_id, contact_id)
    if not found:
        raise NotFound(f"no contact with id {contact_id}")
    # campaign and keyword come with the row (the subqueries of _select)
    card = _attach([_row(found[0])])[0]
    if known is None:
        known = (
            addresses.emails_of([contact_id]).get(contact_id, []),
            addresses.phones_of([contact_id]).get(contact_id, []),
        )
    card["emails"], card["phones"] = known
    return card


def filtered_query(
    query,
    *,
    tags_: Sequence[str] = (),
    company: str | None = None,
    city: str | None = None,
    status: str | None = None,
    source: str | None = None,
    fields: Sequence[tuple[str, str]] = (),
    created_since: datetime | None = None,
    overdue_contact: datetime | None = None,
    campaign: str | None = None,
):
    """`query` narrowed to contacts matching every filter given (None: nothing can match).
    `campaign`: brought by the campaign this REF names (services.campaigns.resolve_campaign).
    `overdue_contact` (a time) keeps the contacts whose stay-in-touch cadence ran out by then."""
    if campaign:
        from crmcli.errors import NotFound
        from crmcli.services import campaigns

        try:
            query = query.where(Contact.campaign == campaigns.resolve_campaign(campaign))
        except NotFound:
            return None
    for tag_id in tags.tag_ids(tags_):
        if tag_id is None:
            return None
        query = query.where(
            fn.EXISTS(
                ContactTag.select(ContactTag.contact).where(
                    (ContactTag.contact == Contact.id) & (ContactTag.tag == tag_id)
                )
            )
        )
    if company:
        query = query.where(Contact.company == companies.resolve_company(company))
    if city:
        query = query.where(_in_city(city))
    if status:
        query = query.where(Contact.status == check_status(status))
    if source:
        query = query.where(Contact.source.in_(search.matching_values(Contact.source, source)))
    for key, value in fields:
        cond = (ContactField.contact == Contact.id) & (ContactField.key == key)
        if value != "":
            values = search.matching_values(
                ContactField.value, value, where=ContactField.key == key
            )
            cond &= ContactField.value.in_(values)
        query = query.where(fn.EXISTS(ContactField.select(ContactField.id).where(cond)))
    if created_since:
        query = query.where(Contact.created_at >= created_since)
    if overdue_contact is not None:
        from crmcli.services.reminders import cadence_due_ids

        query = query.where(Contact.id.in_(cadence_due_ids(overdue_contact)))
    return query


def _in_city(city: str):
    """Contacts in `city` (folded like search: koeln finds Köln): by their own city, else,
    when they have none, by their company's."""
    at_company = Company.select(Company.id).where(search.text_filter(Company.city_fold, city))
    return search.text_filter(Contact.city_fold, city) | (
        Contact.city_fold.is_null() & Contact.company.in_(at_company)
    )


def list_contacts(
    *, sort: str = "name", limit: int | None = None, offset: int = 0, **filters
) -> list[dict]:
    """Contacts matching every filter (see filtered_query), sorted; tags and fields attached
    in bulk."""
    return list(iter_contacts(sort=sort, limit=limit, offset=offset, **filters))


# Rows read and given their tags and fields at a time by iter_contacts.
BATCH = 1000


def iter_contacts(
    *, sort: str = "name", limit: int | None = None, offset: int = 0, **filters
) -> Iterator[dict]:
    """list_contacts one contact at a time, read in batches of BATCH rows from one query:
    an export of every contact holds a batch in memory, not the whole table."""
    order = _order(sort)
    query = filtered_query(_select(), **filters)
    if query is None:
        return
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    batch: list[dict] = []
    # Streamed from the cursor (server side on PostgreSQL, whose driver would otherwise
    # fetch the whole result at once): no result cache, a batch in memory.
    for values in prepared.stream_query(query):
        batch.append(_row(values))
        if len(batch) == BATCH:
            yield from _attach(batch)
            batch = []
    yield from _attach(batch)


def count_contacts(**filters) -> int:
    """How many contacts match the filters of list_contacts."""
    query = filtered_query(Contact.select(Contact.id), **filters)
    return 0 if query is None else query.count()


def _order(sort: str):
    key = (sort or "name").strip().lower()
    descending = key.startswith("-")
    key = key.lstrip("-")
    if key not in SORTS:
        raise Invalid(
            "sort", f"cannot sort contacts by '{sort}' (choose {', '.join(SORTS)}, or -KEY)"
        )
    return [f.desc() if descending else f.asc() for f in SORTS[key]]


def contact_card(
    contact_id: int, *, timeline_limit: int | None = 50, now: datetime | None = None
) -> dict:
    """The whole card: fields, last interaction, open tasks, deals, the newest orders and
    activities, and what the contact buys (services.profile)."""
    limit = timeline_limit if timeline_limit is not None else 2**62
    with prepared.together(_card_queries(contact_id, limit)):
        return _card(contact_id, limit, now)


def _card_queries(contact_id: int, limit: int) -> list[tuple]:
    """The queries behind a card (PostgreSQL reads them in one round trip)."""
    from crmcli.services import activities, consent, deals, orders, profile, tasks

    return [
        ("contact", _by_id, (contact_id,)),
        ("contact_tags", _tags_of, (contact_id,)),
        ("contact_fields", _fields_of, (contact_id,)),
        *addresses.card_queries(contact_id),
        *activities.card_queries(contact_id, limit),
        tasks.open_tasks_query(contact_id),
        deals.deals_of_query(contact_id),
        orders.orders_of_query(contact_id),
        *profile.profile_queries(contact_id),
        *consent.summary_queries(contact_id),
    ]


def _card(contact_id: int, limit: int, now: datetime | None) -> dict:
    from crmcli.services import activities, tasks

    card = get_contact(contact_id)
    timeline = activities.timeline_of(contact_id, limit)
    card["timeline"] = timeline
    card["timeline_total"] = len(timeline)
    if len(timeline) == limit:
        card["timeline_total"] = activities.count_of(contact_id)
    card["last_activity"] = (
        {k: timeline[0][k] for k in ("id", "kind", "subject", "occurred_at")} if timeline else None
    )
    card["open_tasks"] = tasks.open_tasks_of(contact_id, now=now)
    card["open_issues"] = activities.open_count_of(contact_id)
    from crmcli.services.deals import deals_of

    card["deals"] = deals_of(contact_id=contact_id)
    from crmcli.services.orders import orders_of

    card["orders"] = orders_of(contact_id)
    from crmcli.services.profile import customer_profile

    card["profile"] = customer_profile(contact_id)
    from crmcli.errors import Invalid
    from crmcli.services import consent, mailsettings

    try:
        no_doi = mailsettings.no_doi()
    except Invalid:  # a broken config file is crm mail's error, not the card's: DOI for all
        no_doi = frozenset()
    card["consents"] = consent.summary(contact_id, no_doi=no_doi)
    return card
