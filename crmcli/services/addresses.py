"""A contact's emails and phones: any number of each, each with a kind (work, home, mobile,
other) and exactly one primary. The rows live in contact_email and contact_phone; the primary's
value is copied into contact.email/email_key and contact.phone/phone_e164, which lists show and
sort by. Everything that writes a contact's emails or phones goes through this module (or
services.address_sync for many contacts at once), so the copies never drift
(services.maintenance checks that they did not).

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
from crmcli.values import address_kind, email_spellings, parse_email, parse_phone

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
    if "email_key" in entry:
        # A stored punycode domain (xn--) is the same address as its Unicode spelling.
        keys = email_spellings(entry["email_key"])
        return keys[1] if len(keys) > 1 and "xn--" in keys[0] else keys[0]
    return phone_key(entry["phone"], entry["e164"])


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
    # An internationalised domain may be stored in its other spelling (punycode, xn--).
    keys = list(dict.fromkeys(k for key in keys for k in email_spellings(key)))
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


def card_queries(contact_id: int) -> list[tuple]:
    """emails_of and phones_of of one contact as prepared.run takes them (name, build, args)."""
    return [
        ("contact_emails", _emails_query, (contact_id,)),
        ("contact_phones", _phones_query, (contact_id,)),
    ]


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
    """The contact one of whose emails this is (case ignored; an internationalised domain in
    its Unicode or punycode spelling, values.email_spellings), or None."""
    keys = email_spellings(email)
    if len(keys) == 1:  # the usual case: SQL built once per process
        rows = prepared.run(
            "contact_of_email",
            lambda k: ContactEmail.select(ContactEmail.contact).where(ContactEmail.email_key == k),
            keys[0],
        )
    else:
        query = ContactEmail.select(ContactEmail.contact).where(ContactEmail.email_key.in_(keys))
        rows = list(query.order_by(ContactEmail.contact).limit(1).tuples())
    found = rows[0][0] if rows else None
    if found is None:  # a database whose rows drifted from the copies (see maintenance)
        found = Contact.select(Contact.id).where(Contact.email_key.in_(keys)).scalar()
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


def _cleaned(clean, item, field: str) -> dict:
    """`clean(item)`, its Invalid naming `field` (the option it came with: add-email...)."""
    try:
        return clean(item)
    except Invalid as e:
        raise Invalid(field, e.why, action=e.action, **e.facts) from None


def _apply(
    entries: list[dict], *, replace, add, remove, primary, clean, what: str, name: str
) -> tuple[list[dict], dict]:
    """One list of a contact's emails or phones after an edit, every option read against the
    list as it is (as the card shows it), whatever the order they came in:

    1. `remove` goes (Invalid for one the contact does not have);
    2. `replace` (a value, "" or None to remove, or the sentinel _KEEP) replaces the primary
       as shown: the old primary goes, the new one is primary and takes the kind given with
       it, else the default kind as a new one gets (not the old one's: another number is
       another line), unless it is the same value typed again;
    3. `add` is added at the end (one the contact has takes a kind given with it);
    4. `primary` is made primary (it must be among them by then).

    Returns (the list, {"already": values asked to be added that the contact had as they
    were, "already_primary": a value made primary that was already})."""
    keys = [_key(e) for e in entries]
    old = next((e for e in entries if e["primary"]), None)
    gone: set[str] = set()
    for item in remove:
        found = _as_stored(item, clean, what)
        if _key(found) not in keys:
            raise Invalid(f"remove-{what}", f"{name} has no {what} {found[what]}")
        gone.add(_key(found))
    head: list[dict] = []
    if replace is not _KEEP:
        if old is not None:
            gone.add(_key(old))
        if replace not in (None, ""):
            new = _cleaned(clean, replace, what)
            same = next((e for e in entries if _key(e) == _key(new)), None)
            if same is not None and not new["kind_given"]:
                new = {**new, "kind": same["kind"]}  # the same value again: what it was
            head = [{**new, "primary": True}]
            gone.add(_key(new))
    rest = [e for e in entries if _key(e) not in gone]
    out = _one_primary(head + rest) if head or rest else []
    notes: dict = {"already": [], "already_primary": []}
    for item in add:
        new = _cleaned(clean, item, f"add-{what}")
        at = _index(out, _key(new))
        if at is None:
            out = [*out, {**new, "primary": not out}]
        elif new["kind_given"] and out[at]["kind"] != new["kind"]:
            out[at] = {**out[at], "kind": new["kind"]}
        elif _key(new) in keys and _key(new) not in gone:
            notes["already"].append(out[at][what])
    if primary not in (None, ""):
        chosen = _as_stored(primary, clean, what)
        at = _index(out, _key(chosen))
        if at is None and _key(chosen) in gone:
            raise Invalid(
                f"primary-{what}", f"{chosen[what]} is both removed and made primary"
            )  # fmt: skip
        if at is None:
            raise Invalid(
                f"primary-{what}",
                f"{name} has no {what} {chosen[what]} (add it first)",
            )
        kind_changes = chosen["kind_given"] and out[at]["kind"] != chosen["kind"]
        if kind_changes:
            out[at] = {**out[at], "kind": chosen["kind"]}
        elif out[at]["primary"] and old is not None and _key(old) == _key(out[at]):
            notes["already_primary"].append(out[at][what])
        out = _one_primary([{**e, "primary": i == at} for i, e in enumerate(out)])
    return out, notes


def _same(a: list[dict], b: list[dict], fields: tuple[str, ...]) -> bool:
    """Whether two lists of emails or phones are the same as stored (values, order, kinds)."""
    return [tuple(e.get(f) for f in fields) for e in a] == [
        tuple(e.get(f) for f in fields) for e in b
    ]


def _as_stored(item, clean, what: str) -> dict:
    """An email or phone to look for among a contact's: checked as new ones are, else (one
    stored before it was checked, or typed oddly) as its raw text, so it can still go."""
    try:
        return clean(item)
    except Invalid:
        text, kind, _ = _item(item, what)
        if what == "email":
            return {"email": text, "email_key": text.lower(), "kind": kind, "kind_given": False}
        return {"phone": text, "e164": None, "kind": kind, "kind_given": False}


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
) -> dict:
    """Edit one contact's emails and phones (see _apply for how the options combine): `email`
    and `phone` replace the primary ("" or None removes it, the next becomes primary).
    Call inside the edit's transaction; does not reindex. Returns {"changed": whether a list
    changed (nothing is written otherwise), "already": values to add the contact had,
    "already_primary": values made primary that were}."""
    notes: dict = {"changed": False, "already": [], "already_primary": []}
    asked_emails = email is not _KEEP or add_emails or remove_emails or primary_email
    asked_phones = phone is not _KEEP or add_phones or remove_phones or primary_phone
    if not (asked_emails or asked_phones):
        return notes
    name = Contact.select(Contact.name).where(Contact.id == contact_id).scalar()
    label = f"contact #{contact_id} {name}"
    emails, phones = _current(contact_id)
    new_emails = new_phones = None
    if asked_emails:
        new_emails, said = _apply(
            emails, replace=email, add=add_emails, remove=remove_emails, primary=primary_email,
            clean=clean_email, what="email", name=label,
        )  # fmt: skip
        notes["already"] += said["already"]
        notes["already_primary"] += said["already_primary"]
        if _same(new_emails, emails, ("email", "kind", "primary")):
            new_emails = None
    if asked_phones:
        new_phones, said = _apply(
            phones, replace=phone, add=add_phones, remove=remove_phones, primary=primary_phone,
            clean=clean_phone, what="phone", name=label,
        )  # fmt: skip
        notes["already"] += said["already"]
        notes["already_primary"] += said["already_primary"]
        if _same(new_phones, phones, ("phone", "e164", "kind", "primary")):
            new_phones = None
    if new_emails is not None or new_phones is not None:
        set_contact_addresses(contact_id, new_emails, new_phones, reindex=False)
        notes["changed"] = True
    return notes
