"""Importing activities, deals and tasks (`crm import csv --kind ...`): each row linked to
the contact its email names (or its contact column: an email, else a name exactly one
contact has; or, with no contact, the company its company column names), validated and
stored by the kind's service, and matched against what that contact has, so that importing
a file again adds nothing. `crm export deals|activities|tasks` files read back whole. One
transaction."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from crmcli.errors import CrmError, Invalid
from crmcli.models import TRACKED_KINDS, Contact, ContactEmail, utcnow
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
    "activities": ("email", "contact", "company", "kind", "occurred_at", "subject", "body",
                   "direction", "duration", "outcome", "rating", "score", "status",
                   "resolved_at", "resolved_by", "resolution", "owner"),
    "deals": ("email", "contact", "company", "title", "amount", "currency", "stage", "status",
              "expected_close", "owner", "source", "lost_reason", "closed_at"),
    "tasks": ("email", "contact", "title", "due", "due_has_time", "rrule", "priority", "note",
              "done", "done_at"),
    "companies": ("name", "domain", "industry", "phone", "email", "street", "zip", "city",
                  "country", "notes", "tags"),
}  # fmt: skip
_KIND_HEADERS = {
    "email": ("email", "emailadresse", "emailaddress", "mail", "contactemail", "kontaktemail"),
    "contact": ("contact", "kontakt", "contactname", "kontaktname", "kunde", "customer"),
    "company": ("company", "firma", "unternehmen", "organisation", "organization"),
    "kind": ("kind", "type", "art", "typ", "activity", "aktivitat"),
    "occurred_at": ("occurredat", "date", "datum", "when", "wann", "time", "zeit", "zeitpunkt",
                    "datetime"),
    "subject": ("subject", "betreff"),
    "body": ("body", "text", "notes", "notiz", "notizen", "nachricht", "message", "description",
             "beschreibung", "inhalt"),
    "direction": ("direction", "richtung"),
    "duration": ("duration", "dauer", "durationmin", "minuten", "minutes"),
    "outcome": ("outcome", "ergebnis"),
    "rating": ("rating", "bewertung", "sterne", "stars"),
    "score": ("score", "punkte", "nps"),
    "resolved_at": ("resolvedat", "erledigtam", "gelostam"),
    "resolved_by": ("resolvedby", "erledigtvon", "gelostvon"),
    "resolution": ("resolution", "losung", "antwort"),
    "title": ("title", "titel", "name", "deal", "task", "aufgabe", "bezeichnung", "subject",
              "betreff"),
    "amount": ("amount", "betrag", "wert", "value", "volumen", "summe"),
    "currency": ("currency", "wahrung"),
    "stage": ("stage", "phase"),
    "expected_close": ("expectedclose", "closedate", "abschluss", "abschlussdatum"),
    "owner": ("owner", "betreuer", "zustandig", "verantwortlich"),
    "source": ("source", "quelle"),
    "lost_reason": ("lostreason", "verlustgrund", "grund"),
    "closed_at": ("closedat", "geschlossenam", "abgeschlossenam"),
    "due": ("due", "dueat", "duedate", "fallig", "falligam", "falligkeit", "deadline", "frist"),
    "due_has_time": ("duehastime",),
    "rrule": ("rrule", "every", "recurrence", "wiederholung", "serie"),
    "priority": ("priority", "prioritat", "prio"),
    "note": ("note", "notes", "notiz", "notizen", "beschreibung", "description"),
    "done": ("done", "erledigt", "completed", "fertig"),
    "done_at": ("doneat", "completedat", "erledigtam"),
    "name": ("name", "firma", "company", "unternehmen", "companyname", "firmenname"),
    "domain": ("domain", "website", "web", "homepage", "url", "webseite"),
    "industry": ("industry", "branche"),
    "phone": ("phone", "telefon", "tel", "telephone", "telefonnummer"),
    "street": ("street", "strasse", "str", "adresse", "address"),
    "zip": ("zip", "plz", "postleitzahl", "postcode", "postalcode", "zipcode"),
    "city": ("city", "ort", "stadt", "town"),
    "country": ("country", "land"),
    "notes": ("notes", "note", "notiz", "notizen", "bemerkung", "bemerkungen"),
    "tags": ("tags", "tag", "schlagworte", "labels"),
}  # fmt: skip
# Deals and activities have a status: a deal's is won, lost or open (its stage says the same),
# an inquiry's open or resolved. A task file's "status" is its done column.
_STATUS = {"activities": "status", "deals": "status", "tasks": "done", "companies": "status"}
# What `crm export` writes that an import makes anew (ids, stamps, figures derived from the
# rest) or cannot carry into another database (the ids of deals and orders): read as nothing.
_EXPORT_ONLY = frozenset((
    "id", "contactid", "companyid", "stageid", "probability", "effectivedue", "overdue",
    "previousid", "dealid", "orderid", "ordernumber", "createdat", "updatedat", "snoozeduntil",
    "phonee164", "contacts",
))  # fmt: skip


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
        if key == "status":
            key = _STATUS[kind]
        found = next(
            (f for f in allowed if key in _KIND_HEADERS.get(f, ()) or key == f.replace("_", "")),
            None,
        )
        if found is None and key in _EXPORT_ONLY:
            targets.append(Target("ignore"))
            continue
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


def _existing(kind: str, parties: list[tuple[int | None, int | None]]) -> set[tuple]:
    """What the parties (contact id, or None and a company id) have already, as the keys a
    re-import is matched on."""
    from crmcli.models import Activity, Deal, Task

    out: set[tuple] = set()
    contact_ids = sorted({c for c, _ in parties if c is not None})
    company_ids = sorted({co for c, co in parties if c is None and co is not None})
    alone = any(c is None and co is None for c, co in parties)
    for field, ids in (("contact", contact_ids), ("company", company_ids), ("none", [None])):
        if field == "company" and kind == "tasks":
            continue
        if field == "none" and not (alone and kind == "tasks"):
            continue
        for part in _chunks(ids):
            model = {"activities": Activity, "deals": Deal, "tasks": Task}[kind]
            if field == "none":
                where = model.contact.is_null()
            elif field == "contact":
                where = model.contact.in_(list(part))
            else:
                where = model.contact.is_null() & model.company.in_(list(part))
            if kind == "activities":
                query = Activity.select(
                    Activity.contact, Activity.company, Activity.kind, Activity.occurred_at,
                    Activity.subject, Activity.body,
                ).where(where)  # fmt: skip
                out |= {
                    (_party(c, co), k, _second(at), s or None, b or None)
                    for c, co, k, at, s, b in query.tuples()
                }
            elif kind == "deals":
                query = Deal.select(Deal.contact, Deal.company, Deal.title).where(where)
                out |= {(_party(c, co), fold(t)) for c, co, t in query.tuples()}
            else:
                query = Task.select(Task.contact, Task.title, Task.due_at).where(where)
                out |= {(_party(c, None), fold(t), _second(d)) for c, t, d in query.tuples()}
    return out


def _party(contact_id: int | None, company_id: int | None) -> tuple:
    """Whose a row is, in a match key: its contact, else its company."""
    return ("contact", contact_id) if contact_id is not None else ("company", company_id)


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


def _when(rec: dict, key: str, now: datetime, field: str) -> datetime | None:
    return parse_when(rec[key], now, field=field, prefer="past") if rec.get(key) else None


def _number(rec: dict, key: str) -> int | None:
    text = rec.get(key)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise Invalid(key, f"'{text}' is not a whole number") from None


def _flag(rec: dict, key: str) -> bool:
    from crmcli.services.csvread import yes_no

    return bool(yes_no(rec[key], key)) if rec.get(key) else False


def _kind_row(
    kind: str, rec: dict, contact_id: int | None, company_id: int | None, now: datetime
) -> tuple[tuple, Callable]:
    """The row's match key and the call that stores it, through the kind's service."""
    from crmcli.services import activities, deals, tasks
    from crmcli.values import parse_duration, parse_every, parse_money_cents, parse_when_ex

    party = _party(contact_id, company_id)
    if kind == "activities":
        what = activities.check_kind(rec.get("kind") or "note")
        at = _when(rec, "occurred_at", now, "date")
        if at is None:
            raise Invalid("date", "an imported activity needs its date")
        values: dict = {
            k: rec[k] for k in ("subject", "body", "direction", "outcome", "owner") if rec.get(k)
        }
        if values.get("direction"):
            values["direction"] = _direction(values["direction"])
        if rec.get("duration"):
            values["duration_min"] = parse_duration(rec["duration"])
        for number in ("rating", "score"):
            if rec.get(number):
                values[number] = _number(rec, number)
        status = fold(rec.get("status") or "")
        if status not in ("", "open", "offen", "resolved", "erledigt", "gelost", "closed"):
            raise Invalid("status", f"'{rec['status']}' is not open or resolved")
        resolved = status in ("resolved", "erledigt", "gelost", "closed")
        if resolved and what not in TRACKED_KINDS:
            raise Invalid("status", f"only {', '.join(TRACKED_KINDS)} are open or resolved")
        resolved_at = _when(rec, "resolved_at", now, "resolved_at") if resolved else None
        key: tuple = (
            party, what, _second(at), _text(values.get("subject")), _text(values.get("body"))
        )  # fmt: skip

        def store():
            record = activities.log_activity(
                what, contact_id=contact_id, company_id=company_id, occurred_at=at, now=now,
                **values,
            )  # fmt: skip
            if resolved:
                activities.resolve_activity(
                    record["id"], note=rec.get("resolution"), by=rec.get("resolved_by"),
                    now=resolved_at or now,
                )  # fmt: skip
            return record

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
        stage, end = _deal_end(rec)
        closed_at = _when(rec, "closed_at", now, "closed_at")
        reason = rec.get("lost_reason")
        if end == "lost" and not _text(reason):
            raise Invalid("lost_reason", "a lost deal needs its reason")

        def store_deal():
            record = deals.add_deal(
                title, contact_id=contact_id, company_id=company_id, stage=stage, now=now,
                **values,
            )  # fmt: skip
            if end == "won":
                return deals.win_deal(record["id"], now=closed_at or now)
            if end == "lost":
                return deals.lose_deal(record["id"], reason or "", now=closed_at or now)
            return record

        return (party, fold(" ".join(title.split()))), store_deal
    title = _text(rec.get("title"))
    if not title:
        raise Invalid("title", "a task needs a title")
    due, has_time = (None, False)
    if rec.get("due"):
        due, has_time = parse_when_ex(rec["due"], now, field="due")
        if rec.get("due_has_time"):  # an export's: 00:00 is no time of day, or is one
            has_time = _flag(rec, "due_has_time")
    rule = parse_every(rec["rrule"], field="rrule") if rec.get("rrule") else None
    priority = tasks.check_priority(rec["priority"]) if rec.get("priority") else 1
    done = _flag(rec, "done") or bool(rec.get("done_at"))
    done_at = _when(rec, "done_at", now, "done_at") if done else None

    def store_task():
        record = tasks.add_task(
            title, contact_id=contact_id, due_at=due, due_has_time=has_time, rrule=rule,
            priority=priority, note=rec.get("note"), now=now,
        )  # fmt: skip
        if done:  # done as it was: a recurring one's next occurrence is a row of its own
            tasks.mark_done_as_imported(record["id"], done_at or now)
        return record

    return (party, fold(" ".join(title.split())), _second(due)), store_task


def _deal_end(rec: dict) -> tuple[str | None, str | None]:
    """The open stage a deal starts in, and whether it ends won or lost (its stage or its
    status says so: an export names the won or lost stage and the status)."""
    from crmcli.services import stages

    stage = rec.get("stage")
    status = fold(rec.get("status") or "")
    ends = {"won": "won", "gewonnen": "won", "lost": "lost", "verloren": "lost"}
    if status and status not in (*ends, "open", "offen"):
        raise Invalid("status", f"'{rec['status']}' is not open, won or lost")
    end = ends.get(status)
    if stage:
        target = stages.resolve_stage(stage)
        if target["is_won"] or target["is_lost"]:
            stage_end = "won" if target["is_won"] else "lost"
            if end is not None and end != stage_end:
                raise Invalid("status", f"'{rec['status']}' but the stage is {target['name']}")
            return None, stage_end
    return stage, end


def _company_row(rec: dict, result: ImportResult, now: datetime) -> None:
    """One row of a companies file: the company of its name (as crm compares names) updated
    with the values the row gives and its tags added, or a new company; two of that name are
    the row's error."""
    from crmcli.services import companies

    name = _text(rec.get("name"))
    if not name:
        raise Invalid("name", "a company needs a name")
    values = {k: rec[k] for k in KIND_FIELDS["companies"][1:-1] if _text(rec.get(k))}
    companies.clean_fields({"name": name, **values})  # every value checked before a write
    names = [t.strip() for t in re.split(r"[,;]", rec.get("tags") or "") if t.strip()]
    found = companies.same_name(name)
    if len(found) > 1:
        ids = ", ".join(f"#{i} {n}" for i, n in found)
        raise Invalid("name", f"{len(found)} companies are named {name} ({ids})")
    if not found:
        record = companies.add_company(name, tags_=names, now=now, **values)
        result.new += 1
        result.ids.append(record["id"])
        return
    company_id = found[0][0]
    card = companies.get_company(company_id)
    # The name stays as stored (Müller Bau is Mueller Bau); given values overwrite.
    changes = {k: values[k] for k in values if any(card.get(c) != v for c, v in
               companies.clean_fields({k: values[k]}).items() if c in card)}  # fmt: skip
    have = {fold(t) for t in card.get("tags") or []}
    new_tags = [t for t in names if fold(t) not in have]
    if not changes and not new_tags:
        result.unchanged += 1
        return
    companies.edit_company(company_id, changes, add_tags=new_tags, now=now)
    result.updated += 1
    result.ids.append(company_id)


def _parties(kind: str, batch: list[tuple[str, dict]]) -> list[tuple | str]:
    """Whose each row is: (contact id, None), (None, company id), (None, None) for a task of
    nobody; or why it is refused. The email column, else the contact column (an email, else
    a name exactly one contact has), else the company column (a company's activity or deal).
    A few queries per batch."""
    from crmcli.services import companies
    from crmcli.values import fold_variants

    def email_of(rec: dict) -> str | None:
        email = _text(rec.get("email"))
        contact = _text(rec.get("contact"))
        return email or (contact if contact and "@" in contact else None)

    emails = [e.lower() for e in (email_of(r) for _, r in batch) if e]
    owners = _contacts_by_email(emails)
    names = sorted({
        fold_variants(" ".join(r["contact"].split())) for _, r in batch
        if not email_of(r) and _text(r.get("contact"))
    })  # fmt: skip
    named: dict[str, list[int]] = {}
    for part in _chunks(names):
        query = Contact.select(Contact.name_key, Contact.id).where(Contact.name_key.in_(list(part)))
        for key, cid in query.tuples():
            named.setdefault(key, []).append(cid)
    firms: dict[str, list[tuple[int, str]]] = {}
    out: list[tuple | str] = []
    for _, rec in batch:
        email = email_of(rec)
        contact, company = _text(rec.get("contact")), _text(rec.get("company"))
        if email:
            cid = owners.get(email.lower())
            out.append((cid, None) if cid else f"email: no contact has the email {email}")
        elif contact:
            found = named.get(fold_variants(" ".join(contact.split())), [])
            if len(found) == 1:
                out.append((found[0], None))
            else:
                how = "no contact is" if not found else f"{len(found)} contacts are"
                out.append(f"contact: {how} named {contact} (give an email column)")
        elif company and kind != "tasks":
            if company not in firms:
                firms[company] = companies.same_name(company)
            few = firms[company]
            if len(few) == 1:
                out.append((None, few[0][0]))
            else:
                how = "no company is" if not few else f"{len(few)} companies are"
                out.append(f"company: {how} named {company}")
        elif kind == "tasks":
            out.append((None, None))  # a task of nobody in particular
        else:
            out.append("email: no contact email (rows are linked by it, or by a contact or "
                       "company name)")  # fmt: skip
    return out


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
    to its contact or company (see _parties; a task may have neither), validated by its
    service. A row already stored (an
    activity of the same contact, kind, time, subject and text; a deal of the same title and
    contact; a task of the same title, contact and due time) is `unchanged`, so importing a
    file again adds nothing. One transaction; rejects as in import_contacts."""
    if kind not in KIND_FIELDS:
        raise Invalid("kind", f"'{kind}' is not one of {', '.join(KIND_FIELDS)}")
    now = now or utcnow()
    result = ImportResult(dry_run=dry_run)
    done = 0
    if kind == "companies":
        with all_or_nothing(result, dry_run=dry_run, keep_going=keep_going):
            for where, rec in rows:
                try:
                    _company_row(rec, result, now)
                except CrmError as exc:
                    result.reject(where, rec, str(exc), keep_going=keep_going, on_reject=on_reject)
                done += 1
                if progress is not None and done % BATCH == 0:
                    progress(done)
            result.rows = done
        return result

    def reject(where: str, rec: dict, reason: str) -> None:
        result.reject(where, rec, reason, keep_going=keep_going, on_reject=on_reject)

    with all_or_nothing(result, dry_run=dry_run, keep_going=keep_going):
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, BATCH)):
            parties = _parties(kind, batch)
            stored = _existing(kind, [p for p in parties if not isinstance(p, str)])
            for (where, rec), found in zip(batch, parties, strict=True):
                if isinstance(found, str):
                    reject(where, rec, found)
                    continue
                contact_id, company_id = found
                try:
                    key, store = _kind_row(kind, rec, contact_id, company_id, now)
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
