"""A contact's emails and phones: any number of each, each with a kind (work, home, mobile,
other) and exactly one primary. The rows live in contact_email and contact_phone; the primary's
value is copied into contact.email/email_key and contact.phone/phone_e164, which lists show and
sort by. Everything that writes a contact's emails or phones goes through this module, so the
copies never drift (services.maintenance checks that they did not).

An email or phone as a service takes it: a plain string, or a dict {"email"|"phone": ...,
"kind": ..., "primary": bool} (the CONTACT RECORD shape); as it gives them back: dicts
{"email", "kind", "primary"} and {"phone", "e164", "kind", "primary"}, primary first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from crmcli.errors import Conflict, Invalid
from crmcli.models import EMAIL_KINDS, Contact, ContactEmail, ContactPhone, database_proxy
from crmcli.services import limits, prepared
from crmcli.values import address_kind, parse_email, parse_phone

CHUNK = 500


def _kind(value, field: str) -> str:
    if value is None or value == "":
        return "other"
    return value if value in EMAIL_KINDS else address_kind(str(value), field=field)


def _item(item, key: str) -> tuple[str, str | None, bool]:
    """(value, kind or None, primary) of an email or phone as a caller hands it over."""
    if isinstance(item, dict):
        return str(item.get(key) or "").strip(), item.get("kind"), bool(item.get("primary"))
    if isinstance(item, tuple):  # (kind, value) as values.parse_kinded gives it
        kind, value = item
        return str(value or "").strip(), kind, False
    return str(item or "").strip(), None, False


def clean_email(item) -> dict:
    """One email checked: {"email", "email_key", "kind", "primary"}; Invalid on a bad one."""
    text, kind, primary = _item(item, "email")
    limits.check("email", text)
    if not text:
        raise Invalid("email", "an empty email address")
    email = parse_email(text)
    return {"email": email, "email_key": email.lower(), "kind": _kind(kind, "email"),
            "primary": primary, "kind_given": kind not in (None, "")}  # fmt: skip


def clean_phone(item) -> dict:
    """One phone checked: {"phone" (as typed), "e164", "kind", "primary"}; Invalid on a bad one."""
    text, kind, primary = _item(item, "phone")
    text = " ".join(text.split())
    limits.check("phone", text)
    if not text:
        raise Invalid("phone", "an empty phone number")
    return {"phone": text, "e164": parse_phone(text), "kind": _kind(kind, "phone"),
            "primary": primary, "kind_given": kind not in (None, "")}  # fmt: skip


def phone_key(phone: str | None, e164: str | None) -> str:
    """What makes two phone numbers the same: the E.164 number, else the digits typed."""
    return e164 or re.sub(r"\D", "", phone or "")


def _key(entry: dict) -> str:
    return entry["email_key"] if "email_key" in entry else phone_key(entry["phone"], entry["e164"])


def _one_primary(entries: list[dict]) -> list[dict]:
    """Each value once (the first kept; a later copy's primary mark and given kind go to
    it), exactly one primary (the first marked, else the first), primary first."""
    seen: dict[str, dict] = {}
    for e in entries:
        first = seen.get(_key(e))
        if first is None:
            seen[_key(e)] = dict(e)
            continue
        first["primary"] = first["primary"] or e["primary"]
        if e.get("kind_given"):
            first["kind"] = e["kind"]
    out = list(seen.values())
    primary = next((e for e in out if e["primary"]), out[0] if out else None)
    for e in out:
        e["primary"] = e is primary
    return sorted(out, key=lambda e: not e["primary"])


def _given(items: Iterable, key: str) -> list:
    """The items that hold a value: an empty one ("" from a script's empty variable, a
    spreadsheet's empty cell) is not given."""
    return [i for i in items if _item(i, key)[0]]


def clean_emails(items: Iterable) -> list[dict]:
    """Emails checked, each once, one primary (the first marked, else the first given);
    empty ones are left out."""
    return _one_primary([clean_email(i) for i in _given(items, "email")])


def clean_phones(items: Iterable) -> list[dict]:
    """Phones checked, each once (by E.164), one primary (the first marked, else the first);
    empty ones are left out."""
    return _one_primary([clean_phone(i) for i in _given(items, "phone")])


def check_emails_free(keys: Sequence[str], contact_id: int | None = None) -> None:
    """Conflict when one of these (lower-cased) emails belongs to another contact, naming it."""
    keys = list(keys)
    if not keys:
        return
    # One email (add contact, --add-email): SQL built once per process. 0 is no contact's id.
    if len(keys) == 1:
        rows = prepared.run("email_owner", _owner_query, keys[0], contact_id or 0)
    else:
        rows = list(_owner_query(keys, contact_id or 0).tuples())
    found = rows[0] if rows else None
    if found is not None:
        key, owner = found
        name = Contact.select(Contact.name).where(Contact.id == owner).scalar()
        raise Conflict(
            f"{key} already belongs to contact #{owner} {name}", contact_id=owner, email=key
        )


def _owner_query(keys, contact_id):
    """(email_key, contact id) of a contact other than `contact_id` that holds one of `keys`
    (a list, or one key): among the rows, and the primary copies too, in the same query (a
    database whose rows drifted, see drift)."""
    many = isinstance(keys, list)
    rows = ContactEmail.email_key.in_(keys) if many else ContactEmail.email_key == keys
    copies = Contact.email_key.in_(keys) if many else Contact.email_key == keys
    rows &= ContactEmail.contact != contact_id
    copies &= Contact.id != contact_id
    query = ContactEmail.select(ContactEmail.email_key, ContactEmail.contact).where(rows) | (
        Contact.select(Contact.email_key, Contact.id).where(copies)
    )
    return query.limit(1)


def _email_rows(contact_id: int, entries: list[dict]) -> list[tuple]:
    return [
        (contact_id, e["email"], e["email_key"], e["kind"], e["primary"], n)
        for n, e in enumerate(entries)
    ]


def _phone_rows(contact_id: int, entries: list[dict]) -> list[tuple]:
    return [
        (contact_id, e["phone"], e["e164"], e["kind"], e["primary"], n)
        for n, e in enumerate(entries)
    ]


EMAIL_FIELDS = [
    ContactEmail.contact, ContactEmail.email, ContactEmail.email_key, ContactEmail.kind,
    ContactEmail.is_primary, ContactEmail.position,
]  # fmt: skip
PHONE_FIELDS = [
    ContactPhone.contact, ContactPhone.phone, ContactPhone.phone_e164, ContactPhone.kind,
    ContactPhone.is_primary, ContactPhone.position,
]  # fmt: skip


def primary_copies(emails: list[dict] | None, phones: list[dict] | None) -> dict:
    """The contact columns that copy the primary of these (cleaned) lists; None: not given."""
    row: dict = {}
    if emails is not None:
        first = emails[0] if emails else None
        row["email"] = first and first["email"]
        row["email_key"] = first and first["email_key"]
    if phones is not None:
        first = phones[0] if phones else None
        row["phone"] = first and first["phone"]
        row["phone_e164"] = first and first["e164"]
    return row


def insert_new(contact_id: int, emails: list[dict], phones: list[dict]) -> None:
    """The rows of a contact just inserted with these cleaned lists' primaries copied: one
    INSERT each (what add_contact costs over a contact of one email and phone)."""
    for model, rows, fields in (
        (ContactEmail, _email_rows(contact_id, emails), EMAIL_FIELDS),
        (ContactPhone, _phone_rows(contact_id, phones), PHONE_FIELDS),
    ):
        if len(rows) == 1:  # the usual case: SQL built once per process
            prepared.insert(model, {f.name: v for f, v in zip(fields, rows[0], strict=True)})
        elif rows:
            model.insert_many(rows, fields=fields).execute()


def set_contact_addresses(
    contact_id: int,
    emails: Iterable | None = None,
    phones: Iterable | None = None,
    *,
    reindex: bool = True,
) -> dict:
    """Give a contact exactly these emails and/or phones (None: keep that list as it is), in
    this order, the first marked primary (else the first) primary, and copy the primaries onto
    the contact. An email of another contact is a Conflict naming it. Reindexes the contact's
    search entry unless `reindex` is False (a caller that reindexes many at once). Returns
    {"emails": [...], "phones": [...]} as stored."""
    from crmcli.services import search

    new_emails = None if emails is None else clean_emails(emails)
    new_phones = None if phones is None else clean_phones(phones)
    with database_proxy.atomic():
        if new_emails is not None:
            check_emails_free([e["email_key"] for e in new_emails], contact_id)
            ContactEmail.delete().where(ContactEmail.contact == contact_id).execute()
            insert_new(contact_id, new_emails, [])
        if new_phones is not None:
            ContactPhone.delete().where(ContactPhone.contact == contact_id).execute()
            insert_new(contact_id, [], new_phones)
        row = primary_copies(new_emails, new_phones)
        if row:
            Contact.update(**row).where(Contact.id == contact_id).execute()
        if reindex:
            search.reindex_contacts([contact_id])
    return {
        "emails": email_views(new_emails)
        if new_emails is not None
        else emails_of([contact_id]).get(contact_id, []),
        "phones": phone_views(new_phones)
        if new_phones is not None
        else phones_of([contact_id]).get(contact_id, []),
    }


def email_views(entries: list[dict]) -> list[dict]:
    """Cleaned emails as emails_of gives them back."""
    return [{"email": e["email"], "kind": e["kind"], "primary": e["primary"]} for e in entries]


def phone_views(entries: list[dict]) -> list[dict]:
    """Cleaned phones as phones_of gives them back."""
    return [
        {"phone": e["phone"], "e164": e["e164"], "kind": e["kind"], "primary": e["primary"]}
        for e in entries
    ]


def emails_of(contact_ids: Iterable[int]) -> dict[int, list[dict]]:
    """contact id -> its emails [{"email", "kind", "primary"}], primary first, then in the
    order given; one query per 500 contacts."""
    ids = list(contact_ids)
    out: dict[int, list[dict]] = {}
    for part in _parts(ids):
        rows = _rows("contact_emails", _emails_query, part)
        for cid, email, kind, primary in rows:
            out.setdefault(cid, []).append({"email": email, "kind": kind, "primary": bool(primary)})
    return out


def phones_of(contact_ids: Iterable[int]) -> dict[int, list[dict]]:
    """contact id -> its phones [{"phone", "e164", "kind", "primary"}], primary first; one
    query per 500 contacts."""
    ids = list(contact_ids)
    out: dict[int, list[dict]] = {}
    for part in _parts(ids):
        rows = _rows("contact_phones", _phones_query, part)
        for cid, phone, e164, kind, primary in rows:
            out.setdefault(cid, []).append(
                {"phone": phone, "e164": e164, "kind": kind, "primary": bool(primary)}
            )
    return out


def _parts(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _rows(name: str, build, part: list[int]) -> list[tuple]:
    """The rows of `build(ids)`; for one contact (a card) with SQL built once per process."""
    if len(part) == 1:
        return prepared.run(name, build, part[0])
    return list(build(part).tuples())


def _emails_query(ids):
    owner = ContactEmail.contact
    return (
        ContactEmail.select(
            ContactEmail.contact, ContactEmail.email, ContactEmail.kind, ContactEmail.is_primary
        )
        .where(owner.in_(ids) if isinstance(ids, list) else owner == ids)
        .order_by(ContactEmail.contact, ContactEmail.is_primary.desc(), ContactEmail.position)
    )


def _phones_query(ids):
    owner = ContactPhone.contact
    return (
        ContactPhone.select(
            ContactPhone.contact,
            ContactPhone.phone,
            ContactPhone.phone_e164,
            ContactPhone.kind,
            ContactPhone.is_primary,
        )  # fmt: skip
        .where(owner.in_(ids) if isinstance(ids, list) else owner == ids)
        .order_by(ContactPhone.contact, ContactPhone.is_primary.desc(), ContactPhone.position)
    )


def contact_of_email(email: str) -> int | None:
    """The contact one of whose emails this is (case ignored), or None."""
    key = (email or "").strip().lower()
    rows = prepared.run(
        "contact_of_email",
        lambda k: ContactEmail.select(ContactEmail.contact).where(ContactEmail.email_key == k),
        key,
    )
    found = rows[0][0] if rows else None
    if found is None:  # a database whose rows drifted from the copies (see maintenance)
        found = Contact.select(Contact.id).where(Contact.email_key == key).scalar()
    return found


def contacts_of_phone(phone: str) -> list[int]:
    """The contacts one of whose phones is this number (by E.164), oldest first."""
    e164 = parse_phone(phone)
    query = (
        ContactPhone.select(ContactPhone.contact)
        .where(ContactPhone.phone_e164 == e164)
        .distinct()
        .order_by(ContactPhone.contact)
    )
    return [cid for (cid,) in query.tuples()]


# ------------------------------------------------------------------ changes to one contact


def _current(contact_id: int) -> tuple[list[dict], list[dict]]:
    emails = [
        {**e, "email_key": e["email"].lower(), "kind_given": True}
        for e in emails_of([contact_id]).get(contact_id, [])
    ]
    phones = [{**p, "kind_given": True} for p in phones_of([contact_id]).get(contact_id, [])]
    return emails, phones


def _index(entries: list[dict], key: str) -> int | None:
    return next((i for i, e in enumerate(entries) if _key(e) == key), None)


def _replace_primary(entries: list[dict], new: dict | None) -> list[dict]:
    """The primary replaced by `new` (keeping its kind unless `new` names one); None removes
    it, and the next in order becomes primary."""
    rest = [e for e in entries if not e["primary"]]
    old = next((e for e in entries if e["primary"]), None)
    if new is None:
        return _one_primary(rest)
    if not new["kind_given"] and old is not None:
        new = {**new, "kind": old["kind"]}
    return _one_primary([{**new, "primary": True}, *rest])


def _apply(
    entries: list[dict], *, replace, add, remove, primary, clean, what: str, name: str
) -> list[dict]:
    """One list of a contact's emails or phones after an edit: the primary replaced
    (`replace`: a value, "" or None to remove it, or the sentinel _KEEP), then `add` added
    (an existing one takes a kind given with it), `remove` removed (Invalid when the contact
    has no such one) and `primary` made primary (it must be among them by then)."""
    if replace is not _KEEP:
        entries = _replace_primary(entries, clean(replace) if replace not in (None, "") else None)
    for item in add:
        new = clean(item)
        at = _index(entries, _key(new))
        if at is None:
            entries = [*entries, {**new, "primary": not entries}]
        elif new["kind_given"]:
            entries[at] = {**entries[at], "kind": new["kind"]}
    for item in remove:
        gone = clean(item)
        at = _index(entries, _key(gone))
        if at is None:
            raise Invalid(f"remove-{what}", f"{name} has no {what} {gone[what]}")
        entries = _one_primary(entries[:at] + entries[at + 1 :])
    if primary not in (None, ""):
        chosen = clean(primary)
        at = _index(entries, _key(chosen))
        if at is None:
            raise Invalid(
                f"primary-{what}",
                f"{name} has no {what} {chosen[what]} (add it first)",
            )
        if chosen["kind_given"]:
            entries[at] = {**entries[at], "kind": chosen["kind"]}
        entries = _one_primary([{**e, "primary": i == at} for i, e in enumerate(entries)])
    return entries


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


_KEEP = _Keep()
KEEP = _KEEP  # "leave the primary as it is" for change_addresses' email and phone


def change_addresses(
    contact_id: int,
    *,
    email=_KEEP,
    phone=_KEEP,
    add_emails: Sequence = (),
    remove_emails: Sequence = (),
    primary_email=None,
    add_phones: Sequence = (),
    remove_phones: Sequence = (),
    primary_phone=None,
) -> bool:
    """Edit one contact's emails and phones (see _apply for the order of the steps): `email`
    and `phone` replace the primary ("" or None removes it, the next becomes primary).
    Call inside the edit's transaction; does not reindex. Whether anything was asked."""
    asked_emails = email is not _KEEP or add_emails or remove_emails or primary_email
    asked_phones = phone is not _KEEP or add_phones or remove_phones or primary_phone
    if not (asked_emails or asked_phones):
        return False
    name = Contact.select(Contact.name).where(Contact.id == contact_id).scalar()
    label = f"contact #{contact_id} {name}"
    emails, phones = _current(contact_id)
    new_emails = new_phones = None
    if asked_emails:
        new_emails = _apply(
            emails, replace=email, add=add_emails, remove=remove_emails, primary=primary_email,
            clean=clean_email, what="email", name=label,
        )  # fmt: skip
    if asked_phones:
        new_phones = _apply(
            phones, replace=phone, add=add_phones, remove=remove_phones, primary=primary_phone,
            clean=clean_phone, what="phone", name=label,
        )  # fmt: skip
    set_contact_addresses(contact_id, new_emails, new_phones, reindex=False)
    return True


# ------------------------------------------------------------------ many contacts at once


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
    replaces each one's primary (keeping its kind), or becomes the first one; a copy of it
    among the others goes."""
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
        ContactPhone.update(phone=new["phone"], phone_e164=key).where(
            ContactPhone.contact.in_(part) & ContactPhone.is_primary
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
