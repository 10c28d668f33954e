"""Importing activities, deals and tasks (`crm import csv --kind ...`): each row linked to
the contact its email names, validated and stored by the kind's service, and matched against
what that contact has, so that importing a file again adds nothing. One transaction."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from crmcli.errors import CrmError, Invalid
from crmcli.models import Contact, ContactEmail, utcnow
from crmcli.services.imports import (
    BATCH,
    ImportResult,
    _chunks,
    _text,
    all_or_nothing,
)
from crmcli.values import fold, parse_when

# The fields of each kind of row, and the headers (as csvread folds them) that name them.
KIND_FIELDS = {
    "activities": ("email", "kind", "occurred_at", "subject", "body", "direction", "duration",
                   "outcome"),
    "deals": ("email", "title", "amount", "currency", "stage", "expected_close", "owner",
              "source"),
    "tasks": ("email", "title", "due", "priority", "note"),
}  # fmt: skip
_KIND_HEADERS = {
    "email": ("email", "emailadresse", "emailaddress", "mail", "contact", "kontakt",
              "contactemail", "kontaktemail"),
    "kind": ("kind", "type", "art", "typ", "activity", "aktivitat"),
    "occurred_at": ("occurredat", "date", "datum", "when", "wann", "time", "zeit", "zeitpunkt",
                    "datetime"),
    "subject": ("subject", "betreff"),
    "body": ("body", "text", "notes", "notiz", "notizen", "nachricht", "message", "description",
             "beschreibung", "inhalt"),
    "direction": ("direction", "richtung"),
    "duration": ("duration", "dauer", "durationmin", "minuten", "minutes"),
    "outcome": ("outcome", "ergebnis"),
    "title": ("title", "titel", "name", "deal", "task", "aufgabe", "bezeichnung", "subject",
              "betreff"),
    "amount": ("amount", "betrag", "wert", "value", "volumen", "summe"),
    "currency": ("currency", "wahrung"),
    "stage": ("stage", "phase", "status"),
    "expected_close": ("expectedclose", "closedate", "abschluss", "abschlussdatum"),
    "owner": ("owner", "betreuer", "zustandig", "verantwortlich"),
    "source": ("source", "quelle"),
    "due": ("due", "duedate", "fallig", "falligam", "falligkeit", "deadline", "frist"),
    "priority": ("priority", "prioritat", "prio"),
    "note": ("note", "notes", "notiz", "notizen", "beschreibung", "description"),
}  # fmt: skip


def assign_kind_columns(csvfile, kind: str, maps: dict) -> None:
    """The columns of an activities, deals or tasks file: --map first, then known headers."""
    from crmcli.services.csvread import Target, _key

    allowed = KIND_FIELDS[kind]
    targets = []
    for header in csvfile.header:
        key = _key(header)
        if key in maps:
            targets.append(maps[key])
            continue
        found = next(
            (f for f in allowed if key in _KIND_HEADERS.get(f, ()) or key == f.replace("_", "")),
            None,
        )
        if found is not None and any(t is not None and t.field == found for t in targets):
            found = None  # the first column of a field counts
        targets.append(Target(found) if found else None)
    csvfile.targets = targets
    csvfile.unrecognised = [h for h, t in zip(csvfile.header, targets, strict=True) if t is None]


def kind_records(csvfile) -> Iterator[tuple[str, dict]]:
    """("line N", {field: text}) per row of an activities, deals or tasks file."""
    for line, cells in csvfile.rows():
        rec: dict = {"_raw": cells}
        for index, target in enumerate(csvfile.targets):
            if target is None or target.field == "ignore" or index >= len(cells):
                if target is None and index < len(cells) and cells[index].strip():
                    csvfile.unused_with_data.add(index)
                continue
            value = cells[index].strip()
            if value:
                rec.setdefault(target.field, value)
        yield f"line {line}", rec


def _contacts_by_email(keys: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in _chunks(sorted(set(keys))):
        out.update(
            ContactEmail.select(ContactEmail.email_key, ContactEmail.contact)
            .where(ContactEmail.email_key.in_(list(part)))
            .tuples()
        )
        for key, cid in (
            Contact.select(Contact.email_key, Contact.id)
            .where(Contact.email_key.in_(list(part)))
            .tuples()
        ):
            out.setdefault(key, cid)
    return out


def _existing(kind: str, contact_ids: list[int]) -> set[tuple]:
    """What the contacts have already, as the keys a re-import is matched on."""
    from crmcli.models import Activity, Deal, Task

    out: set[tuple] = set()
    for part in _chunks(sorted(set(contact_ids))):
        ids = list(part)
        if kind == "activities":
            query = Activity.select(
                Activity.contact, Activity.kind, Activity.occurred_at, Activity.subject,
                Activity.body,
            ).where(Activity.contact.in_(ids))  # fmt: skip
            out |= {(c, k, _second(at), s or None, b or None) for c, k, at, s, b in query.tuples()}
        elif kind == "deals":
            query = Deal.select(Deal.contact, Deal.title).where(Deal.contact.in_(ids))
            out |= {(c, fold(t)) for c, t in query.tuples()}
        else:
            query = Task.select(Task.contact, Task.title, Task.due_at).where(Task.contact.in_(ids))
            out |= {(c, fold(t), _second(d)) for c, t, d in query.tuples()}
    return out


def _second(at: datetime | None):
    return None if at is None else int(at.timestamp())


# How a call log or another CRM writes an activity's direction (as fold() reads it).
_DIRECTIONS = {
    "in": "in", "eingehend": "in", "ein": "in", "incoming": "in", "inbound": "in",
    "eingang": "in", "rein": "in", "out": "out", "ausgehend": "out", "aus": "out",
    "outgoing": "out", "outbound": "out", "ausgang": "out", "raus": "out",
}  # fmt: skip


def _direction(text: str) -> str:
    return _DIRECTIONS.get(fold(text).strip(), text)  # anything else: the service says why


def _kind_row(kind: str, rec: dict, contact_id: int, now: datetime) -> tuple[tuple, Callable]:
    """The row's match key and the call that stores it, through the kind's service."""
    from crmcli.services import activities, deals, tasks
    from crmcli.values import parse_duration, parse_money_cents, parse_when_ex

    if kind == "activities":
        what = activities.check_kind(rec.get("kind") or "note")
        at = (
            parse_when(rec["occurred_at"], now, field="date", prefer="past")
            if rec.get("occurred_at")
            else None
        )
        if at is None:
            raise Invalid("date", "an imported activity needs its date")
        values = {k: rec[k] for k in ("subject", "body", "direction", "outcome") if rec.get(k)}
        if values.get("direction"):
            values["direction"] = _direction(values["direction"])
        if rec.get("duration"):
            values["duration_min"] = parse_duration(rec["duration"])
        key = (
            contact_id,
            what,
            _second(at),
            _text(values.get("subject")),
            _text(values.get("body")),
        )

        def store():
            return activities.log_activity(
                what, contact_id=contact_id, occurred_at=at, now=now, **values
            )

        return key, store
    if kind == "deals":
        title = _text(rec.get("title"))
        if not title:
            raise Invalid("title", "a deal needs a title")
        values = {k: rec[k] for k in ("currency", "owner", "source") if rec.get(k)}
        if rec.get("amount"):
            values["amount_cents"] = parse_money_cents(rec["amount"])
        if rec.get("expected_close"):
            from crmcli.values import parse_date

            values["expected_close"] = parse_date(rec["expected_close"], now, field="close")
        stage = rec.get("stage")

        def store_deal():
            return deals.add_deal(title, contact_id=contact_id, stage=stage, now=now, **values)

        return (contact_id, fold(" ".join(title.split()))), store_deal
    title = _text(rec.get("title"))
    if not title:
        raise Invalid("title", "a task needs a title")
    due, has_time = (None, False)
    if rec.get("due"):
        due, has_time = parse_when_ex(rec["due"], now, field="due")
    priority = tasks.check_priority(rec["priority"]) if rec.get("priority") else 1

    def store_task():
        return tasks.add_task(
            title, contact_id=contact_id, due_at=due, due_has_time=has_time, priority=priority,
            note=rec.get("note"), now=now,
        )  # fmt: skip

    return (contact_id, fold(" ".join(title.split())), _second(due)), store_task


def import_rows(
    kind: str,
    rows: Iterable[tuple[str, dict]],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    keep_going: bool = False,
    now: datetime | None = None,
    on_reject: Callable[[str, dict, str], None] | None = None,
) -> ImportResult:
    """Import activities, deals or tasks ({field: text} rows, see KIND_FIELDS), each linked
    to the contact its `email` names, validated by its service. A row already stored (an
    activity of the same contact, kind, time, subject and text; a deal of the same title and
    contact; a task of the same title, contact and due time) is `unchanged`, so importing a
    file again adds nothing. One transaction; rejects as in import_contacts."""
    if kind not in KIND_FIELDS:
        raise Invalid("kind", f"'{kind}' is not one of activities, deals, tasks")
    now = now or utcnow()
    result = ImportResult(dry_run=dry_run)
    done = 0

    def reject(where: str, rec: dict, reason: str) -> None:
        result.reject(where, rec, reason, keep_going=keep_going, on_reject=on_reject)

    with all_or_nothing(result, dry_run=dry_run, keep_going=keep_going):
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, BATCH)):
            keys = [_text(r.get("email")) or "" for _, r in batch]
            owners = _contacts_by_email([k.lower() for k in keys if k])
            stored = _existing(kind, list(owners.values()))
            for (where, rec), email in zip(batch, keys, strict=True):
                if not email:
                    reject(where, rec, "email: no contact email (rows are linked by it)")
                    continue
                contact_id = owners.get(email.lower())
                if contact_id is None:
                    reject(where, rec, f"email: no contact has the email {email}")
                    continue
                try:
                    key, store = _kind_row(kind, rec, contact_id, now)
                    if key in stored:
                        result.unchanged += 1
                        continue
                    record = store()
                except CrmError as exc:
                    reject(where, rec, str(exc))
                    continue
                stored.add(key)
                result.new += 1
                result.ids.append(record["id"])
            done += len(batch)
            if progress is not None:
                progress(done)
        result.rows = done
    return result
