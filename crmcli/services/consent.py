"""Consent as a history a German business can show: per contact and purpose, every grant
(when, where from, the text and version agreed to, the double-opt-in confirmation) and every
withdrawal. The newest entry by time is in force; a withdrawal blocks mailings at once.

A grant is valid for mailings once confirmed (double opt-in), unless the purpose needs none
(`no_doi`: purposes whose grants count unconfirmed, e.g. from the config's
`[consent] no_doi = ["service"]`). The contact's old consent flag (consent, consent_at) is
kept as the state of the purpose "newsletter": writing a newsletter entry sets it, and a
change of the flag (crm add/edit, --where, import, merge) is recorded as an entry by
`record_flags`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from crmcli.errors import Invalid, NotFound
from crmcli.models import CONSENT_ACTIONS, ConsentEntry, Contact, database_proxy, utcnow
from crmcli.services import limits

NEWSLETTER = "newsletter"  # the purpose the old consent flag stands for
# Why a contact gets no mail for a purpose (mailing's --dry-run words them).
NO_CONSENT, WITHDRAWN, UNCONFIRMED = "no consent", "withdrawn", "unconfirmed"
_SLACK = timedelta(minutes=5)  # a clock a few minutes ahead elsewhere is no reason to refuse
_CHUNK = 500


def check_purpose(purpose: str | None) -> str:
    """A purpose is a short lower-case word or phrase: newsletter, offers, event invitations."""
    value = " ".join((purpose or "").split()).lower()
    if not value:
        raise Invalid("purpose", "name the purpose of the consent (e.g. newsletter)")
    if len(value) > 64 or not re.fullmatch(r"[^\W_][\w .\-/]*", value):
        raise Invalid("purpose", f"'{purpose}' is not a purpose (a word or a few, at most 64)")
    return value


def _text(value: str | None, field: str) -> str | None:
    """One line (source, version), or the consent text as given (up to a long text's limit)."""
    if field == "text":
        text = (value or "").strip()
        if len(text) > limits.LONG:
            raise Invalid("text", f"is {len(text):,} characters long; at most {limits.LONG:,}")
    else:
        text = " ".join((value or "").split())
    return limits.check(field if field != "text" else "notes", text) or None


def _exists(contact_id: int) -> None:
    from crmcli.services import prepared

    if not prepared.run("contact_exists", _contact_query, contact_id):
        raise NotFound(f"no contact with id {contact_id}")


def _contact_query(contact_id):
    return Contact.select(Contact.id).where(Contact.id == contact_id).limit(1)


def summary_queries(contact_id: int) -> list[tuple]:
    """summary's queries as prepared.run takes them (name, build, args)."""
    return [
        ("consent_history", _history_query, (contact_id,)),
        ("contact_exists", _contact_query, (contact_id,)),
    ]


def record(
    contact_id: int,
    action: str,
    purpose: str,
    *,
    at: datetime | None = None,
    source: str | None = None,
    text: str | None = None,
    version: str | None = None,
    confirmed_at: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """Add a grant or a withdrawal to the history (grants: the text, its version, and the
    double-opt-in confirmation when it is already known). Returns the entry."""
    now = now or utcnow()
    if action not in CONSENT_ACTIONS:
        raise Invalid("action", f"'{action}' is neither grant nor withdraw")
    purpose = check_purpose(purpose)
    at = at or now
    for field, value in (("at", at), ("confirmed", confirmed_at)):
        if value is not None and value > now + _SLACK:
            from crmcli.values import format_datetime

            raise Invalid(field, f"{format_datetime(value)} is in the future; consent is "
                          "recorded when it happened")  # fmt: skip
    if action == "withdraw" and (text or version or confirmed_at):
        raise Invalid("withdraw", "a withdrawal has no consent text, version or confirmation")
    if confirmed_at is not None and confirmed_at < at:
        raise Invalid("confirmed", "a grant is confirmed after it was given, not before")
    row = {
        "contact": contact_id, "purpose": purpose, "action": action, "at": at,
        "source": _text(source, "source"), "text": _text(text, "text"),
        "version": _text(version, "version"), "confirmed_at": confirmed_at, "created_at": now,
    }  # fmt: skip
    with database_proxy.atomic():
        _exists(contact_id)
        entry_id = ConsentEntry.insert(**row).execute()
        if purpose == NEWSLETTER:
            _mirror_flags([contact_id], now)
        else:  # the contact's record changed (and `crm demo --force` sees it did)
            Contact.update(updated_at=now).where(Contact.id == contact_id).execute()
    return _entry(entry_id)


def confirm(
    contact_id: int, purpose: str, *, at: datetime | None = None, now: datetime | None = None
) -> dict:
    """Record the double-opt-in confirmation of the grant in force (NotFound without one;
    Invalid when it is confirmed already or the grant was withdrawn since)."""
    now = now or utcnow()
    purpose = check_purpose(purpose)
    at = at or now
    if at > now + _SLACK:
        raise Invalid("at", "a confirmation is recorded when it happened, not in the future")
    with database_proxy.atomic():
        _exists(contact_id)
        latest = _latest(contact_id, purpose)
        if latest is None:
            name = Contact.select(Contact.name).where(Contact.id == contact_id).scalar()
            raise NotFound(f"#{contact_id} {name} gave no consent to {purpose} to confirm")
        if latest.action != "grant":
            raise Invalid("confirm", f"the consent to {purpose} was withdrawn; nothing to confirm")
        if latest.confirmed_at is not None:
            from crmcli.values import format_datetime

            raise Invalid(
                "confirm", f"the consent to {purpose} was confirmed already "
                f"({format_datetime(latest.confirmed_at)})",
            )  # fmt: skip
        if at < latest.at:
            raise Invalid("at", "a grant is confirmed after it was given, not before")
        ConsentEntry.update(confirmed_at=at).where(ConsentEntry.id == latest.id).execute()
        Contact.update(updated_at=now).where(Contact.id == contact_id).execute()
    return _entry(latest.id)


def _latest(contact_id: int, purpose: str):
    return (
        ConsentEntry.select()
        .where((ConsentEntry.contact == contact_id) & (ConsentEntry.purpose == purpose))
        .order_by(ConsentEntry.at.desc(), ConsentEntry.id.desc())
        .first()
    )


_FIELDS = (
    ConsentEntry.id, ConsentEntry.contact, ConsentEntry.purpose, ConsentEntry.action,
    ConsentEntry.at, ConsentEntry.source, ConsentEntry.text, ConsentEntry.version,
    ConsentEntry.confirmed_at, ConsentEntry.created_at,
)  # fmt: skip
_KEYS = (
    "id", "contact_id", "purpose", "action", "at", "source", "text", "version", "confirmed_at",
    "created_at",
)  # fmt: skip


def _entry(entry_id: int) -> dict:
    row = ConsentEntry.select(*_FIELDS).where(ConsentEntry.id == entry_id).tuples().get()
    return dict(zip(_KEYS, row, strict=True))


def history(contact_id: int, purpose: str | None = None) -> list[dict]:
    """Every entry of a contact (of one purpose), oldest first: the record to show."""
    if purpose is None:  # the contact card's: SQL built once (services.prepared)
        from crmcli.services import prepared

        rows = prepared.run("consent_history", _history_query, contact_id)
        if not rows:  # an entry has its contact (a foreign key): only none needs the check
            _exists(contact_id)
        return [dict(zip(_KEYS, row, strict=True)) for row in rows]
    _exists(contact_id)
    query = _history_query(contact_id).where(ConsentEntry.purpose == check_purpose(purpose))
    return [dict(zip(_KEYS, row, strict=True)) for row in query.tuples()]


def _history_query(contact_id):
    return (
        ConsentEntry.select(*_FIELDS)
        .where(ConsentEntry.contact == contact_id)
        .order_by(ConsentEntry.at, ConsentEntry.id)
    )


def state(entry: dict | None, *, no_doi: Iterable[str] = ()) -> str | None:
    """None when the entry in force lets mail go out, else why not (NO_CONSENT, WITHDRAWN,
    UNCONFIRMED)."""
    if entry is None:
        return NO_CONSENT
    if entry["action"] == "withdraw":
        return WITHDRAWN
    if entry["confirmed_at"] is None and entry["purpose"] not in set(no_doi):
        return UNCONFIRMED
    return None


def in_force(contact_ids: Sequence[int], purpose: str) -> dict[int, dict]:
    """{contact id: the entry in force for `purpose`} of those that have one (no query per
    contact: one per 500)."""
    purpose = check_purpose(purpose)
    out: dict[int, dict] = {}
    for start in range(0, len(contact_ids), _CHUNK):
        part = list(contact_ids[start : start + _CHUNK])
        query = (
            ConsentEntry.select(*_FIELDS)
            .where(ConsentEntry.contact.in_(part) & (ConsentEntry.purpose == purpose))
            .order_by(ConsentEntry.at, ConsentEntry.id)
        )
        for row in query.tuples():
            out[row[1]] = dict(zip(_KEYS, row, strict=True))  # the newest comes last
    return out


def summary(contact_id: int, *, no_doi: Iterable[str] = ()) -> list[dict]:
    """Per purpose the entry in force and whether mail may go out: the contact card's lines."""
    rows: dict[str, dict] = {}
    for entry in history(contact_id):
        rows[entry["purpose"]] = entry
    out = []
    for purpose in sorted(rows):
        entry = rows[purpose]
        why = state(entry, no_doi=no_doi)
        granted = entry["action"] == "grant"
        out.append({
            "purpose": purpose, "state": why or "granted", "mailable": why is None,
            "since": entry["at"], "source": entry["source"],
            "version": entry["version"] if granted else None,
            "confirmed_at": entry["confirmed_at"] if granted else None,
        })  # fmt: skip
    return out


def mailing_words(row: dict) -> str:
    """A summary row (see summary) as a mailing sees it: `granted, confirmed`, `granted,
    unconfirmed` (no mail until its double opt-in), `granted (no double opt-in needed)` or
    `withdrawn`."""
    if row["confirmed_at"] is not None:
        return "granted, confirmed"
    if row["state"] == UNCONFIRMED:
        return "granted, unconfirmed"
    if row["state"] == "granted":
        return "granted (no double opt-in needed)"
    return str(row["state"])


def newsletter_words(consents: list[dict]) -> str:
    """The newsletter consent of summary's rows in mailing_words, "none" without one (the old
    yes/no flag said yes to a grant no mailing would use)."""
    row = next((c for c in consents if c["purpose"] == NEWSLETTER), None)
    return "none" if row is None else mailing_words(row)


def _mirror_flags(contact_ids: Sequence[int], now: datetime) -> None:
    """The old flag follows the newsletter entry in force: a grant sets consent and its date,
    a withdrawal (or none) clears them."""
    found = in_force(contact_ids, NEWSLETTER)
    for cid in contact_ids:
        entry = found.get(cid)
        since = entry["at"] if entry is not None and entry["action"] == "grant" else None
        Contact.update(consent=since is not None, consent_at=since, updated_at=now).where(
            Contact.id == cid
        ).execute()


def record_flags(
    contact_ids: Sequence[int] | None, source: str, *, now: datetime | None = None
) -> int:
    """After the consent flag was written another way (crm add/edit, --where, an import, a
    merge): record each change as a newsletter entry, so the history stays the whole story.
    A flag set where no grant is in force becomes a grant dated by consent_at (now, when that
    is not after the withdrawal in force: the flag and the history agree); a flag cleared
    where a grant is in force becomes a withdrawal now. `contact_ids` None: every contact.
    Call it inside the writing transaction. Returns how many entries it wrote."""
    now = now or utcnow()
    if contact_ids is None:
        contact_ids = [i for (i,) in Contact.select(Contact.id).tuples()]
    written = 0
    for start in range(0, len(contact_ids), _CHUNK):
        part = list(contact_ids[start : start + _CHUNK])
        found = in_force(part, NEWSLETTER)
        flags = Contact.select(Contact.id, Contact.consent, Contact.consent_at).where(
            Contact.id.in_(part)
        )
        rows = []
        for cid, flag, flag_at in flags.tuples():
            entry = found.get(cid)
            granted = entry is not None and entry["action"] == "grant"
            if bool(flag) and not granted:
                at = flag_at or now
                if entry is not None and entry["at"] >= at:
                    # A consent date before the withdrawal in force would leave the grant
                    # behind it (the flag yes, the history no): consent given again, now.
                    at = max(now, entry["at"])
                rows.append((cid, NEWSLETTER, "grant", at, source, now))
            elif not flag and granted:
                rows.append((cid, NEWSLETTER, "withdraw", now, source, now))
        if rows:
            ConsentEntry.insert_many(
                rows,
                fields=[
                    ConsentEntry.contact, ConsentEntry.purpose, ConsentEntry.action,
                    ConsentEntry.at, ConsentEntry.source, ConsentEntry.created_at,
                ],
            ).execute()  # fmt: skip
            written += len(rows)
    return written


def purposes() -> list[str]:
    """Every purpose the history names, in order."""
    query = ConsentEntry.select(ConsentEntry.purpose).distinct().order_by(ConsentEntry.purpose)
    return [p for (p,) in query.tuples()]
