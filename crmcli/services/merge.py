"""Merging duplicates: one contact (or company) survives and takes over the others' records.

The survivor keeps its own values; a field it lacks is filled from the others (in the order
given); where both hold different values the survivor's stays and the difference is reported
as a conflict, unless the caller chose (`choose`: field -> the id of the record whose value
to take, or the value itself). Emails, phones (a number the survivor has already is dropped),
timeline, tasks, deals, tags and custom fields move to the survivor; its primary email and
phone stay primary. Consent: the most restrictive wins: the merged record has consent only
when every merged record had it, dated by the latest of their consent dates (from then on all
of them had agreed). The merged-away records are deleted and each leaves a merge_alias row
(old id -> survivor; older aliases to it are re-pointed), so an old id still names the
survivor; their emails name it because they moved. All in one transaction; `dry_run` writes
nothing and returns the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from peewee import fn

from crmcli.errors import Invalid, NotFound
from crmcli.models import (
    Activity,
    Company,
    CompanyTag,
    Contact,
    ContactEmail,
    ContactField,
    ContactPhone,
    ContactTag,
    Deal,
    MergeAlias,
    ReminderLog,
    Task,
    database_proxy,
    utcnow,
)
from crmcli.values import sound_key

CHUNK = 500
# A contact's fields as a merge treats them, in the order a plan lists them.
CONTACT_FIELDS = (
    "name", "company", "position", "street", "zip", "city", "country", "birthday", "status",
    "source", "owner", "notes", "cadence_days",
)  # fmt: skip
COMPANY_FIELDS = (
    "name", "domain", "industry", "phone", "email", "street", "zip", "city", "country", "notes",
)  # fmt: skip
# A choice by field for the survivor's primary email or phone: the named record's primary.
PRIMARY_CHOICES = ("email", "phone")
FIELD_PREFIX = "fields."  # a custom field in a plan and in `choose`: fields.kundennr


def _records(model, keep_id: int, other_ids: Sequence[int], kind: str) -> list:
    """The survivor, then the others in the order given (each once); NotFound, Invalid."""
    others: list[int] = []
    for rid in other_ids:
        if rid == keep_id:
            raise Invalid("merge", f"{kind} #{keep_id} cannot be merged into itself")
        if rid not in others:
            others.append(rid)
    if not others:
        raise Invalid("merge", f"name at least one {kind} to merge into #{keep_id}")
    ids = [keep_id, *others]
    found = {r.id: r for r in model.select().where(model.id.in_(ids))}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(f"no {kind} with id {', '.join(missing)}", kind=kind)
    return [found[i] for i in ids]


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same(a: Any, b: Any) -> bool:
    """Whether two values need no choice: blanks around a text aside, they are spelled the
    same. Köln and Koeln fold alike for a search, but the user may prefer one spelling."""
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


def _field_key(field: str, fields: Sequence[str], custom: set[str]) -> str:
    """The plan's name of a field a caller chose: a record field, or fields.KEY for a custom
    field (a bare key works when no record field has that name)."""
    name = field.strip().lower().replace("-", "_")
    if name in fields or name in PRIMARY_CHOICES:
        return name
    key = name.removeprefix(FIELD_PREFIX)
    if key in custom:
        return FIELD_PREFIX + key
    choices = ", ".join([*fields, *(FIELD_PREFIX + k for k in sorted(custom))])
    raise Invalid("take", f"no field '{field}' to choose (choose {choices})")


class _Plan:
    """The values the survivor ends up with, and what the plan tells the caller."""

    def __init__(self, kind: str, records: list, labels: dict[int, str]):
        self.kind = kind
        self.keep = records[0]
        self.others = records[1:]
        self.ids = [r.id for r in records]
        self.labels = labels  # id -> a record's name as shown
        self.values: dict[str, Any] = {}  # field -> the survivor's new value (changes only)
        self.conflicts: list[dict] = []
        self.filled: list[dict] = []
        self.chosen: list[dict] = []

    def decide(self, field: str, values: dict[int, Any], choice: Any, *, show=None) -> Any:
        """The survivor's value of `field` given each record's (`values`, id -> value); notes
        a change, a fill, a choice or a conflict. Returns the value."""
        show = show or (lambda v: v)
        keep_id = self.keep.id
        kept = values.get(keep_id)
        others = [(rid, v) for rid, v in values.items() if rid != keep_id and not _empty(v)]
        if choice is not None:
            source, value = choice
            if source is not None:
                if source not in values:
                    raise Invalid("take", f"#{source} is not one of the records merged")
                value = values[source]
                if _empty(value):
                    raise Invalid("take", f"{self.kind} #{source} has no {field}")
            self.chosen.append({"field": field, "value": show(value), "from": source})
            if value != kept:
                self.values[field] = value
            return value
        if _empty(kept):
            if others:
                source, value = others[0]
                self.values[field] = value
                differing = [(r, v) for r, v in others[1:] if not _same(v, value)]
                if differing:  # one entry: what fills the field, and the alternatives
                    conflict = self._conflict(field, source, value, differing, show)
                    self.conflicts.append({**conflict, "filled": True})
                else:
                    self.filled.append({"field": field, "value": show(value), "from": source})
                return value
            return kept
        differing = [(r, v) for r, v in others if not _same(v, kept)]
        if differing:
            self.conflicts.append(self._conflict(field, keep_id, kept, differing, show))
        return kept

    def _conflict(self, field, source, value, differing, show) -> dict:
        """A field the records differ in: `kept` (from `kept_from`), the `others`' values;
        `filled` is True when the survivor had none and `kept` fills it."""
        return {
            "field": field,
            "kept": show(value),
            "kept_from": source,
            "others": [{"id": rid, "value": show(v)} for rid, v in differing],
            "filled": False,
        }

    def result(self, **extra) -> dict:
        return {
            "kind": self.kind,
            "keep": {"id": self.keep.id, "name": self.labels[self.keep.id]},
            "merged": [{"id": r.id, "name": self.labels[r.id]} for r in self.others],
            "conflicts": self.conflicts,
            "filled": self.filled,
            "chosen": self.chosen,
            **extra,
        }


def _choices(
    choose: Mapping[str, Any] | None, fields: Sequence[str], custom: set[str]
) -> dict[str, tuple[int | None, Any]]:
    """`choose` as field -> (source id, None) or (None, the value itself)."""
    out: dict[str, tuple[int | None, Any]] = {}
    for field, value in (choose or {}).items():
        key = _field_key(field, fields, custom)
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = (value, None)
        else:
            out[key] = (None, value)
    return out


def _literal(kind: str, field: str, value: Any, now: datetime) -> Any:
    """A value the caller gave for a field, checked as add and edit check it."""
    if kind == "contact" and field in PRIMARY_CHOICES:
        raise Invalid("take", f"choose the primary {field} by the id of the contact it is of")
    if field.startswith(FIELD_PREFIX):
        from crmcli.services import contacts

        contacts.check_fields([(field.removeprefix(FIELD_PREFIX), str(value))])
        return str(value)
    if field == "company":
        from crmcli.services import companies

        return companies.resolve_company(str(value))
    if kind == "contact":
        from crmcli.services import contacts

        row = contacts.clean_fields({field: value}, now)
        return row[field]
    from crmcli.services import companies

    return companies.clean_fields({field: value})[field]


def _transaction(dry_run: bool):
    """The merge's one transaction; a dry run only reads (and so works on a database this
    user may only read)."""
    from contextlib import nullcontext

    return nullcontext() if dry_run else database_proxy.atomic()


# ---------------------------------------------------------------- contacts


def merge_contacts(
    keep_id: int,
    other_ids: Sequence[int],
    *,
    choose: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> dict:
    """Merge the contacts `other_ids` into `keep_id` (see the module's doc). Returns the plan:
    `keep`, `merged`, `conflicts` (field, kept, kept_from, others: id and value; filled: the
    survivor had none), `filled`, `chosen`, `consent`, `moves` (counts of what moves),
    `unrelated` (see unrelated_records), `dry_run`. Records that are unrelated are merged
    only with `force` (Invalid otherwise; a dry run reports them)."""
    now = now or utcnow()
    with _transaction(dry_run):
        records = _records(Contact, keep_id, other_ids, "contact")
        plan, extra = _contact_plan(records, choose, now)
        unrelated = unrelated_records("contact", records)
        info = {"consent": extra["consent"], "moves": extra["moves"], "unrelated": unrelated}
        if dry_run:
            return plan.result(**info, dry_run=True)
        _refuse_unrelated(plan, unrelated, force)
        _apply_contact(plan, extra, now)
        from crmcli.services.orders import settle_customer_status

        settle_customer_status([keep_id], now=now)  # the orders and won deals it took over
    return plan.result(**info, dry_run=False)


def _refuse_unrelated(plan: _Plan, unrelated: list[int], force: bool) -> None:
    if unrelated and not force:
        raise Invalid("merge", unrelated_reason(plan.kind, plan.keep.id, unrelated, plan.labels))


def unrelated_reason(kind: str, keep_id: int, unrelated: list[int], labels: dict) -> str:
    """Why records are not merged without being forced, for a person."""
    names = ", ".join(f"#{rid} {labels[rid]}" for rid in unrelated)
    shared = "email, phone" if kind == "contact" else "domain, email, phone"
    return (
        f"no sign that {kind} {names} and #{keep_id} {labels[keep_id]} are the same: "
        f"they share no {shared} or similar name"
    )


def unrelated_records(kind: str, records: list) -> list[int]:
    """The records (after the first, the survivor) that nothing ties to the survivor: no
    email, phone (or a company's domain) or similar name shared with it or with another
    record that is tied to it. Merging such records is most likely a mistyped id."""
    from crmcli.services import dedupe

    keys: dict[int, set[str]] = {r.id: set() for r in records}
    for r in records:
        for prefix, value in (
            ("email:", dedupe.email_key(r.email_key if kind == "contact" else r.email)),
            ("phone:", r.phone_e164),
        ):
            if value:
                keys[r.id].add(prefix + value)
        if kind == "company" and r.domain:
            keys[r.id].add("domain:" + (dedupe._domain_key(r.domain) or ""))
    ids = list(keys)
    if kind == "contact":
        for cid, key in (
            ContactEmail.select(ContactEmail.contact, ContactEmail.email_key)
            .where(ContactEmail.contact.in_(ids))
            .tuples()
        ):
            if key:
                keys[cid].add("email:" + (dedupe.email_key(key) or ""))
        for cid, key in (
            ContactPhone.select(ContactPhone.contact, ContactPhone.phone_e164)
            .where(ContactPhone.contact.in_(ids) & ContactPhone.phone_e164.is_null(False))
            .tuples()
        ):
            keys[cid].add("phone:" + key)
    company = kind == "company"
    tied = {records[0].id}
    waiting = list(records[1:])
    grew = True
    while grew and waiting:
        grew = False
        for r in list(waiting):
            if any(
                keys[r.id] & keys[t.id]
                or dedupe.similar_names(r.name or "", t.name or "", company=company)
                for t in records
                if t.id in tied
            ):
                tied.add(r.id)
                waiting.remove(r)
                grew = True
    return [r.id for r in waiting]


def _company_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(Company.select(Company.id, Company.name).where(Company.id.in_(list(ids))).tuples())


def _custom_fields(ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {i: {} for i in ids}
    query = ContactField.select(ContactField.contact, ContactField.key, ContactField.value)
    for cid, key, value in (
        query.where(ContactField.contact.in_(ids)).order_by(ContactField.key).tuples()
    ):
        out[cid][key] = value
    return out


def _contact_plan(records: list, choose, now: datetime) -> tuple[_Plan, dict]:
    from crmcli.values import birthday_value

    ids = [r.id for r in records]
    plan = _Plan("contact", records, {r.id: r.name for r in records})
    custom = _custom_fields(ids)
    keys = {k for fields in custom.values() for k in fields}
    choices = _choices(choose, CONTACT_FIELDS, keys)
    firms = _company_names({r.company_id for r in records if r.company_id})
    for field in CONTACT_FIELDS:
        column = "company_id" if field == "company" else field
        values = {r.id: getattr(r, column) for r in records}
        choice = choices.get(field)
        if choice is not None and choice[0] is None:
            choice = (None, _literal("contact", field, choice[1], now))
            if field == "company":
                firms |= _company_names({choice[1]})
        if field == "company":
            plan.decide(field, values, choice, show=firms.get)
        elif field == "birthday":
            if choice is None:
                values = _fuller_birthdays(values)
            plan.decide(field, values, choice, show=birthday_value)
        elif field == "notes" and choice is None:
            _notes(plan, values)
        else:
            plan.decide(field, values, choice)
    for key in sorted(keys):
        values = {rid: custom[rid].get(key) for rid in ids}
        choice = choices.get(FIELD_PREFIX + key)
        if choice is not None and choice[0] is None:
            choice = (None, _literal("contact", FIELD_PREFIX + key, choice[1], now))
        plan.decide(FIELD_PREFIX + key, values, choice)
    primaries = {field: choices[field][0] for field in PRIMARY_CHOICES if field in choices}
    for field, source in primaries.items():
        if source is None:
            _literal("contact", field, None, now)  # raises: by id only
        if source not in ids:
            raise Invalid("take", f"#{source} is not one of the records merged")
        if not getattr(next(r for r in records if r.id == source), field):
            raise Invalid("take", f"contact #{source} has no {field}")
        plan.chosen.append({"field": field, "value": "primary", "from": source})
    consented = all(r.consent for r in records)
    dates = [r.consent_at for r in records if r.consent_at is not None]
    consent = {
        "consent": consented,
        "consent_at": max(dates) if consented and dates else None,
    }
    keep = records[0]
    if consent["consent"] != bool(keep.consent) or consent["consent_at"] != keep.consent_at:
        plan.values["consent"] = consent["consent"]
        plan.values["consent_at"] = consent["consent_at"]
    last = [r.last_activity_at for r in records if r.last_activity_at is not None]
    if last and max(last) != keep.last_activity_at:
        plan.values["last_activity_at"] = max(last)
    others = ids[1:]
    moves = _contact_moves(keep.id, others)
    return plan, {"consent": consent, "moves": moves, "primaries": primaries}


def _fuller_birthdays(values: dict[int, Any]) -> dict[int, Any]:
    """A birthday without a year that another record has with its year (the same day) tells
    nothing more: it counts as empty, so the full date fills the survivor's instead of the
    year being lost (24.12. and 24.12.1980 are 24.12.1980)."""
    from crmcli.values import NO_YEAR

    days = {(v.month, v.day) for v in values.values() if v is not None and v.year != NO_YEAR}
    return {
        rid: None if v is not None and v.year == NO_YEAR and (v.month, v.day) in days else v
        for rid, v in values.items()
    }


def _notes(plan: _Plan, values: dict[int, Any]) -> None:
    """Notes are not chosen between but joined (the survivor's first), each text once."""
    from crmcli.services import limits

    texts: list[str] = []
    for value in values.values():
        if not _empty(value) and value.strip() not in texts:
            texts.append(value.strip())
    joined = "\n\n".join(texts) or None
    if joined != values[plan.keep.id]:
        plan.values["notes"] = limits.check("notes", joined)
        plan.filled.append({"field": "notes", "value": joined, "from": None})


def _contact_moves(keep_id: int, others: list[int]) -> dict[str, int]:
    """How many of each kind of record move to the survivor."""
    out = {"emails": 0, "phones": 0, "activities": 0, "tasks": 0, "deals": 0, "tags": 0}
    kept_tags = ContactTag.select(ContactTag.tag).where(ContactTag.contact == keep_id)
    for part in _chunks(others):
        out["emails"] += ContactEmail.select().where(ContactEmail.contact.in_(part)).count()
        # a contact whose primary email has no row yet (written before rows existed)
        out["emails"] += (
            Contact.select()
            .where(
                Contact.id.in_(part)
                & Contact.email_key.is_null(False)
                & ~fn.EXISTS(
                    ContactEmail.select().where(ContactEmail.email_key == Contact.email_key)
                )
            )
            .count()
        )
        out["activities"] += Activity.select().where(Activity.contact.in_(part)).count()
        out["tasks"] += Task.select().where(Task.contact.in_(part)).count()
        out["deals"] += Deal.select().where(Deal.contact.in_(part)).count()
        out["tags"] += (
            ContactTag.select(ContactTag.tag)
            .where(ContactTag.contact.in_(part) & ContactTag.tag.not_in(kept_tags))
            .distinct()
            .count()
        )
    phones = _phone_keys([keep_id])
    for part in _chunks(others):
        for key in _phone_keys(part):
            if key not in phones:
                phones.add(key)
                out["phones"] += 1
    return out


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _phone_key(phone: str | None, e164: str | None) -> str:
    return e164 or " ".join((phone or "").split())


def _phone_keys(ids: list[int]) -> set[str]:
    keys = {
        _phone_key(p, e)
        for p, e in ContactPhone.select(ContactPhone.phone, ContactPhone.phone_e164)
        .where(ContactPhone.contact.in_(ids))
        .tuples()
    }
    keys |= {
        _phone_key(p, e)
        for p, e in Contact.select(Contact.phone, Contact.phone_e164)
        .where(Contact.id.in_(ids) & Contact.phone.is_null(False))
        .tuples()
    }
    return keys


def _ensure_rows(ids: list[int]) -> None:
    """Give every contact's primary email and phone its row when a writer that predates the
    rows left only the copy on the contact, so that what moves is complete."""
    for cid, email, key, phone, e164 in (
        Contact.select(
            Contact.id, Contact.email, Contact.email_key, Contact.phone, Contact.phone_e164
        )
        .where(Contact.id.in_(ids))
        .tuples()
    ):
        if key and not ContactEmail.select().where(ContactEmail.email_key == key).exists():
            has_primary = (
                ContactEmail.select()
                .where((ContactEmail.contact == cid) & ContactEmail.is_primary)
                .exists()
            )
            ContactEmail.insert(
                contact=cid, email=email, email_key=key, kind="other",
                is_primary=not has_primary, position=_first_position(ContactEmail, cid),
            ).execute()  # fmt: skip
        if phone and _phone_key(phone, e164) not in {
            _phone_key(p, e)
            for p, e in ContactPhone.select(ContactPhone.phone, ContactPhone.phone_e164)
            .where(ContactPhone.contact == cid)
            .tuples()
        }:
            has_primary = (
                ContactPhone.select()
                .where((ContactPhone.contact == cid) & ContactPhone.is_primary)
                .exists()
            )
            ContactPhone.insert(
                contact=cid, phone=phone, phone_e164=e164, kind="other",
                is_primary=not has_primary, position=_first_position(ContactPhone, cid),
            ).execute()  # fmt: skip


def _first_position(model, contact_id: int) -> int:
    """A position before the contact's other rows (its primary comes first)."""
    first = model.select(fn.MIN(model.position)).where(model.contact == contact_id).scalar()
    return 0 if first is None else first - 1


def _move_rows(model, keep_id: int, others: list[int], primary_from: int | None) -> None:
    """Move email or phone rows to the survivor behind its own, none of them primary unless
    the survivor has none (then the first other's primary, or `primary_from`'s, is)."""
    keep_has_primary = model.select().where((model.contact == keep_id) & model.is_primary).exists()
    if primary_from is None and not keep_has_primary:
        for rid in others:
            if model.select().where((model.contact == rid) & model.is_primary).exists():
                primary_from = rid
                break
    if primary_from is not None and primary_from != keep_id:
        model.update(is_primary=False).where(model.contact == keep_id).execute()
    base = (model.select(fn.MAX(model.position)).where(model.contact == keep_id).scalar() or 0) + 1
    for rid in others:
        rows = model.select(model.id).where(model.contact == rid).order_by(model.position, model.id)
        for offset, (row_id,) in enumerate(rows.tuples()):
            primary = rid == primary_from and (
                model.select().where((model.id == row_id) & model.is_primary).exists()
            )
            model.update(contact=keep_id, position=base + offset, is_primary=primary).where(
                model.id == row_id
            ).execute()
        base += rows.count()


def _drop_known_phones(keep_id: int, others: list[int]) -> None:
    """A number the survivor has already (or another before it) is not moved twice."""
    seen = _phone_keys([keep_id])
    for rid in others:
        for row_id, phone, e164 in (
            ContactPhone.select(ContactPhone.id, ContactPhone.phone, ContactPhone.phone_e164)
            .where(ContactPhone.contact == rid)
            .order_by(ContactPhone.position, ContactPhone.id)
            .tuples()
        ):
            key = _phone_key(phone, e164)
            if key in seen:
                ContactPhone.delete().where(ContactPhone.id == row_id).execute()
            else:
                seen.add(key)


def _primary_copy(model, keep_id: int) -> tuple | None:
    """The survivor's primary email (email, key) or phone (phone, e164); the first one
    becomes primary when none is (its primary was a number it had already)."""
    columns = (
        (model.email, model.email_key) if model is ContactEmail else (model.phone, model.phone_e164)
    )
    mine = model.contact == keep_id
    found = model.select(*columns).where(mine & model.is_primary).tuples().first()
    if found is None:
        first = model.select(model.id).where(mine).order_by(model.position, model.id).scalar()
        if first is None:
            return None
        model.update(is_primary=True).where(model.id == first).execute()
        found = model.select(*columns).where(model.id == first).tuples().first()
    return found


def _apply_contact(plan: _Plan, extra: dict, now: datetime) -> None:
    from crmcli.services import cadence, search

    keep_id = plan.keep.id
    others = plan.ids[1:]
    primaries = extra["primaries"]
    _ensure_rows(plan.ids)
    # The others' copies of their primaries go first: contact.email_key is unique.
    Contact.update(email=None, email_key=None).where(Contact.id.in_(others)).execute()
    _move_rows(ContactEmail, keep_id, others, primaries.get("email"))
    _drop_known_phones(keep_id, others)
    _move_rows(ContactPhone, keep_id, others, primaries.get("phone"))
    for part in _chunks(others):
        Activity.update(contact=keep_id).where(Activity.contact.in_(part)).execute()
        Task.update(contact=keep_id).where(Task.contact.in_(part)).execute()
        Deal.update(contact=keep_id).where(Deal.contact.in_(part)).execute()
        _copy_tags(ContactTag, ContactTag.contact, keep_id, part)
    _move_others(Contact, keep_id, others, handled={
        ContactEmail, ContactPhone, ContactTag, ContactField, Activity, Task, Deal,
    })  # fmt: skip
    _birthday_reminders(plan, keep_id)
    _aliases("contact", keep_id, others, now)
    from crmcli.services import bulk

    bulk.delete_contacts(others)  # what is left of them: their rows cascade; index entries
    row = _contact_row(plan, now)
    email = _primary_copy(ContactEmail, keep_id)
    phone = _primary_copy(ContactPhone, keep_id)
    row["email"], row["email_key"] = email if email else (None, None)
    row["phone"], row["phone_e164"] = phone if phone else (None, None)
    Contact.update(**row).where(Contact.id == keep_id).execute()
    _write_custom(plan, keep_id)
    search.reindex_contacts([keep_id])
    cadence.refresh([keep_id])
    from crmcli.services import consent

    # The others' consent histories came along (_move_others); the most restrictive flag wins.
    consent.record_flags([keep_id], "merge of duplicates", now=now)


def _contact_row(plan: _Plan, now: datetime) -> dict:
    from crmcli.values import fold, fold_variants

    row: dict[str, Any] = {"updated_at": now}
    for field, value in plan.values.items():
        if field.startswith(FIELD_PREFIX):
            continue
        if field == "company":
            row["company"] = value
        elif field == "birthday":
            row["birthday"] = value
            row["birthday_md"] = value.strftime("%m-%d") if value else None
        else:
            row[field] = value
            if field == "city":
                row["city_fold"] = fold(value) if value else None
    name = plan.values.get("name", plan.keep.name)
    row["name"] = name
    row["name_key"] = fold_variants(name)
    row["name_sound"] = sound_key(name)
    return row


def _write_custom(plan: _Plan, keep_id: int) -> None:
    for field, value in plan.values.items():
        if not field.startswith(FIELD_PREFIX):
            continue
        key = field.removeprefix(FIELD_PREFIX)
        ContactField.delete().where(
            (ContactField.contact == keep_id) & (ContactField.key == key)
        ).execute()
        if not _empty(value):
            ContactField.insert(contact=keep_id, key=key, value=value).execute()


def _birthday_reminders(plan: _Plan, keep_id: int) -> None:
    """A birthday reminded of on a merged-away record is not reminded of again on the
    survivor: the year it was reminded and the reminder log's entries carry over when the
    survivor's birthday is on the same day."""
    records = [plan.keep, *plan.others]
    birthday = plan.values.get("birthday", plan.keep.birthday)
    if birthday is None:
        return
    md = birthday.strftime("%m-%d")
    same = [r for r in records if r.birthday is not None and r.birthday.strftime("%m-%d") == md]
    reminded = max((r.birthday_reminded or 0 for r in same), default=0)
    if reminded != plan.keep.birthday_reminded:
        Contact.update(birthday_reminded=reminded).where(Contact.id == keep_id).execute()
    for r in same:
        if r.id == keep_id:
            continue
        prefix = f"birthday:{r.id}:"
        logged = ReminderLog.select(ReminderLog.key, ReminderLog.reminded_at).where(
            ReminderLog.key.startswith(prefix)
        )
        rows = [(f"birthday:{keep_id}:{k[len(prefix) :]}", at) for k, at in logged.tuples()]
        if rows:
            ReminderLog.insert_many(
                rows, fields=[ReminderLog.key, ReminderLog.reminded_at]
            ).on_conflict_ignore().execute()


def _move_others(model, keep_id: int, others: list[int], *, handled: set) -> None:
    """Records of tables this module does not know by name (added later) that point at a
    merged-away record point at the survivor instead."""
    for field in model._meta.backrefs:
        if field.model in handled or field.model is model:
            continue
        for part in _chunks(others):
            field.model.update({field: keep_id}).where(field.in_(part)).execute()


def _aliases(kind: str, keep_id: int, others: list[int], now: datetime) -> None:
    """Each merged-away id names the survivor from now on, and so do the ids merged into
    them before."""
    for part in _chunks(others):
        MergeAlias.update(new_id=keep_id).where(
            (MergeAlias.kind == kind) & MergeAlias.new_id.in_(part)
        ).execute()
        # an id used again after its record was merged away (SQLite may reuse the highest)
        MergeAlias.delete().where((MergeAlias.kind == kind) & MergeAlias.old_id.in_(part)).execute()
    MergeAlias.delete().where((MergeAlias.kind == kind) & (MergeAlias.old_id == keep_id)).execute()
    MergeAlias.insert_many(
        [(kind, old, keep_id, now) for old in others],
        fields=[MergeAlias.kind, MergeAlias.old_id, MergeAlias.new_id, MergeAlias.merged_at],
    ).execute()


def alias_of(kind: str, old_id: int) -> int | None:
    """The survivor an id merged away now names, or None."""
    return (
        MergeAlias.select(MergeAlias.new_id)
        .where((MergeAlias.kind == kind) & (MergeAlias.old_id == old_id))
        .scalar()
    )


# ---------------------------------------------------------------- companies


def merge_companies(
    keep_id: int,
    other_ids: Sequence[int],
    *,
    choose: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> dict:
    """Merge the companies `other_ids` into `keep_id`: their people, deals, timeline and tags
    move; fields (and `force` for unrelated records) as merge_contacts treats them. Returns
    the plan (`moves`: people, deals, activities, tags)."""
    now = now or utcnow()
    with _transaction(dry_run):
        records = _records(Company, keep_id, other_ids, "company")
        plan = _Plan("company", records, {r.id: r.name for r in records})
        choices = _choices(choose, COMPANY_FIELDS, set())
        for field in COMPANY_FIELDS:
            choice = choices.get(field)
            if choice is not None and choice[0] is None:
                choice = (None, _literal("company", field, choice[1], now))
            values = {r.id: getattr(r, field) for r in records}
            if field == "notes" and choice is None:
                _notes(plan, values)
            else:
                plan.decide(field, values, choice)
        others = plan.ids[1:]
        moves = {"contacts": 0, "deals": 0, "activities": 0, "tags": 0}
        kept_tags = CompanyTag.select(CompanyTag.tag).where(CompanyTag.company == keep_id)
        for part in _chunks(others):
            moves["contacts"] += Contact.select().where(Contact.company.in_(part)).count()
            moves["deals"] += Deal.select().where(Deal.company.in_(part)).count()
            moves["activities"] += Activity.select().where(Activity.company.in_(part)).count()
            moves["tags"] += (
                CompanyTag.select(CompanyTag.tag)
                .where(CompanyTag.company.in_(part) & CompanyTag.tag.not_in(kept_tags))
                .distinct()
                .count()
            )
        unrelated = unrelated_records("company", records)
        if dry_run:
            return plan.result(moves=moves, unrelated=unrelated, dry_run=True)
        _refuse_unrelated(plan, unrelated, force)
        _apply_company(plan, now)
    return plan.result(moves=moves, unrelated=unrelated, dry_run=False)


def _apply_company(plan: _Plan, now: datetime) -> None:
    from crmcli.services import bulk, search
    from crmcli.values import fold, fold_variants

    keep_id = plan.keep.id
    others = plan.ids[1:]
    people: list[int] = []
    for part in _chunks(others):
        people += [
            i for (i,) in Contact.select(Contact.id).where(Contact.company.in_(part)).tuples()
        ]
        Contact.update(company=keep_id).where(Contact.company.in_(part)).execute()
        Deal.update(company=keep_id).where(Deal.company.in_(part)).execute()
        Activity.update(company=keep_id).where(Activity.company.in_(part)).execute()
        _copy_tags(CompanyTag, CompanyTag.company, keep_id, part)
    _move_others(Company, keep_id, others, handled={Contact, Deal, Activity, CompanyTag})
    _aliases("company", keep_id, others, now)
    bulk.delete_companies(others, contacts="keep")  # no one is left there; index entries go
    row: dict[str, Any] = {"updated_at": now}
    for field, value in plan.values.items():
        row[field] = value
        if field == "city":
            row["city_fold"] = fold(value) if value else None
        if field == "phone":
            from crmcli.values import parse_phone

            row["phone_e164"] = parse_phone(value) if value else None
    name = plan.values.get("name", plan.keep.name)
    row.update(name=name, name_fold=fold(name), name_key=fold_variants(name))
    row["name_sound"] = sound_key(name, company=True)
    if name != plan.keep.name:
        from crmcli.errors import Conflict
        from crmcli.services import companies

        taken = companies.same_name(name, keep_id)
        if taken:
            raise Conflict(f"another company is named {name}: #{taken[0][0]} {taken[0][1]}")
    Company.update(**row).where(Company.id == keep_id).execute()
    search.reindex_companies([keep_id])  # its people's entries name it
    search.reindex_contacts(people)


def _copy_tags(link, owner, keep_id: int, part) -> None:
    """Give the survivor every tag of the records in `part` (ContactTag or CompanyTag; the
    others' own links go with them when they are deleted)."""
    tag_ids = [t for (t,) in link.select(link.tag).where(owner.in_(part)).distinct().tuples()]
    if tag_ids:
        link.insert_many(
            [(keep_id, t) for t in tag_ids], fields=[owner, link.tag]
        ).on_conflict_ignore().execute()
