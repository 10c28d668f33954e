"""The calendar export: open tasks as VTODOs, birthdays, deal close dates and the follow-ups
of open inquiries, complaints and returns as all-day events (services.ical re-exports it).

Written component by component as rows are read in batches keyed by id, so a million tasks
are never a list in memory; every item keeps its UID from one export to the next, so a
calendar app subscribed to the file sees updates, not duplicates. Times are UTC (Z), days
all-day dates, so the file needs no VTIMEZONE.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from crmcli.errors import Invalid
from crmcli.models import Activity, Contact, Deal, Task, utcnow
from crmcli.values import local_tz, to_utc

PRODID = "-//crmcli//crm//DE"
EXPORTABLE = ("tasks", "birthdays", "deals", "followups")
BATCH = 1000
# The domain of the UIDs crm makes (crmcli-task-<id>@crmcli, crmcli-birthday-<id>@crmcli, ...).
UID_DOMAIN = "crmcli"
# crm's priority (an index into PRIORITIES: low, normal, high) as RFC 5545's 1-9.
_PRIORITY_OUT = {2: 1, 1: 5, 0: 9}

# A component is written as (NAME, value) pairs: text is escaped by icalendar's vText,
# dates and times are written as RFC 5545 has them, long lines folded by icalendar's
# Contentline. A component object per row (icalendar's Todo/Event) wrote ~3,000 a second,
# too slow for a million tasks; the files are the same, and the tests read them back with
# icalendar.Calendar.from_ical.
Prop = tuple[str, Any]


def export_calendar(
    out: TextIO,
    *,
    what: Iterable[str] = EXPORTABLE,
    include_done: bool = False,
    state: str | None = None,
    contact_id: int | None = None,
    priority: int | None = None,
    due_before: datetime | None = None,
    open_after: timedelta | None = None,
    now: datetime | None = None,
    **filters: Any,
) -> int:
    """Write a VCALENDAR to `out`, component by component as rows are read (batches keyed
    by id): open tasks (done ones too with include_done or state="all", only those with
    state="done"), birthdays, open deals' expected close dates, follow-ups of open
    inquiries/complaints/returns. Returns how many components were written.

    `contact_id` keeps the items of one contact; `priority` (an index into PRIORITIES) and
    `due_before` (due, or snoozed to, before then) narrow the tasks as `crm list tasks`
    does. Other list filters mean nothing to a calendar and are refused (Invalid); one left
    empty (None, False, nothing) is ignored."""
    given = sorted(k for k, v in filters.items() if v not in (None, (), [], False, ""))
    if given:
        raise Invalid("filter", f"a calendar export has no filter {', '.join(given)}")
    state = state or ("all" if include_done else "open")
    if state not in ("open", "done", "all"):
        raise Invalid("state", f"'{state}' must be open, done or all")
    wanted = list(dict.fromkeys(what))
    unknown = [w for w in wanted if w not in EXPORTABLE]
    if unknown:
        raise Invalid("what", f"cannot export {', '.join(unknown)} ({', '.join(EXPORTABLE)})")
    from crmcli.services.reminders import DEFAULT_OPEN_AFTER

    stamp = to_utc(now or utcnow())
    writers = {
        "tasks": lambda: _task_components(state, contact_id, priority, due_before),
        "birthdays": lambda: _birthday_components(contact_id),
        "deals": lambda: _deal_components(contact_id),
        "followups": lambda: _followup_components(open_after or DEFAULT_OPEN_AFTER, contact_id),
    }
    out.write(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        f"PRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:crm\r\n"
    )
    count = 0
    for name in wanted:
        for kind, props in writers[name]():
            out.write(_component(kind, props, stamp))
            count += 1
    out.write("END:VCALENDAR\r\n")
    return count


_SPECIAL = re.compile(r"[\\;,\r\n]")  # what TEXT escapes; other text is written as it is
# Control characters RFC 5545 allows in no TEXT value (a tab is allowed, a line break is
# escaped): left out, as the vCard export leaves them out (an escape sequence another
# program stored would otherwise reach every calendar app).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _value(value: Any) -> tuple[str, str]:
    """(parameters, value) of one property as RFC 5545 writes it."""
    if isinstance(value, str):
        if isinstance(value, _Raw):
            return "", value
        if _CONTROL.search(value):
            value = _CONTROL.sub("", value)
        if not _SPECIAL.search(value):
            return "", value
        from icalendar import vText

        return "", vText(value).to_ical().decode("utf-8")
    if isinstance(value, datetime):
        v = to_utc(value)
        return "", f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}Z"
    if isinstance(value, date):
        return ";VALUE=DATE", f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return "", str(value)


class _Raw(str):
    """A value written as it is (a recurrence rule crm checked), not escaped as text."""


def _component(kind: str, props: list[Prop], stamp: datetime) -> str:
    if not any(name == "DTSTAMP" for name, _ in props):
        props = [("DTSTAMP", stamp), *props]
    lines = [f"BEGIN:{kind}"]
    for name, value in props:
        params, text = _value(value)
        line = f"{name}{params}:{text}"
        # Lines of up to 75 octets stay as they are; longer ones fold (at characters).
        lines.append(line if len(line.encode()) <= 75 else _fold(line))
    lines.append(f"END:{kind}\r\n")
    return "\r\n".join(lines)


def _fold(line: str) -> str:
    from icalendar.parser import Contentline

    return Contentline(line).to_ical().decode("utf-8")


def _batched(select, id_field, where=None) -> Iterator[tuple]:
    """Rows of `select` by id, BATCH at a time (keyset paging: memory stays flat)."""
    last = 0
    while True:
        query = select.where(id_field > last)
        if where is not None:
            query = query.where(where)
        rows = list(query.order_by(id_field).limit(BATCH).tuples())
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _local_day(moment: datetime) -> date:
    return to_utc(moment).astimezone(local_tz()).date()


def _stamps(created: datetime | None, updated: datetime | None) -> list[Prop]:
    out: list[Prop] = []
    if updated is not None:
        out += [("DTSTAMP", updated), ("LAST-MODIFIED", updated)]
    if created is not None:
        out.append(("CREATED", created))
    return out


def _export_rule(rule: str, timed: bool) -> str:
    """crm's rule for a calendar: UNTIL (local wall time in crm) in UTC next to a DUE in
    UTC, a date next to a DUE that is a date (RFC 5545 wants the same kind)."""

    def until(m: re.Match[str]) -> str:
        stamp = (m[1] + "T000000")[:15]
        wall = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=local_tz())
        if not timed:
            return f"UNTIL={wall:%Y%m%d}"
        return f"UNTIL={to_utc(wall):%Y%m%dT%H%M%S}Z"

    return re.sub(r"UNTIL=(\d{8}(?:T\d{6})?)Z?", until, rule, flags=re.I)


def _left(rule: str, start: datetime, due: datetime) -> str:
    """A rule with COUNT for the occurrence due at `due` of a series that began at `start`:
    the calendar's series starts at `due`, so COUNT becomes what is left of it."""
    from crmcli.values import next_occurrence

    count = re.search(r"(?:^|;)COUNT=(\d+)", rule, flags=re.I)
    if count is None:
        return rule
    zone = local_tz()
    first, until = start.astimezone(zone), due.astimezone(zone)
    done, total = 0, int(count[1])
    at: datetime | None = first
    while at is not None and at < until and done < total:
        done += 1
        at = next_occurrence(rule, at, start=first)
    left = max(total - done, 1)
    return re.sub(r"COUNT=\d+", f"COUNT={left}", rule, flags=re.I)


def task_uid(task_id: int, external_id: str | None) -> str:
    """The UID a task is exported with: the one it came with from a calendar (external_id
    "ical:<UID>"), so the app it came from sees the same to-do and not a copy; else crm's
    own, which services.ical recognises when the file comes back."""
    if external_id and external_id.startswith("ical:") and len(external_id) > 5:
        return external_id[5:]
    return f"crmcli-task-{task_id}@{UID_DOMAIN}"


def _task_components(
    state: str, contact_id: int | None, priority: int | None, due_before: datetime | None
) -> Iterator:
    from functools import reduce

    from peewee import JOIN

    from crmcli.services.tasks import effective_due, has_time

    select = Task.select(
        Task.id, Task.title, Task.note, Task.due_at, Task.due_has_time, Task.snoozed_until,
        Task.rrule, Task.priority, Task.done_at, Task.created_at, Task.updated_at, Contact.name,
        Contact.email, Task.series_start, Task.external_id,
    ).join(Contact, JOIN.LEFT_OUTER, on=(Task.contact == Contact.id))  # fmt: skip
    conditions = []
    if state != "all":
        conditions.append(Task.done_at.is_null(state == "open"))
    if contact_id is not None:
        conditions.append(Task.contact == contact_id)
    if priority is not None:
        conditions.append(Task.priority == priority)
    if due_before is not None:
        stored = Task.due_at.db_value(due_before)  # COALESCE has no field to convert it
        conditions.append(effective_due() < stored)
    where = reduce(operator.and_, conditions) if conditions else None
    for row in _batched(select, Task.id, where):
        (tid, title, note, due, has_clock, snoozed, rule, prio, done, created, updated,
         contact, email, start, external) = row  # fmt: skip
        props: list[Prop] = [("UID", task_uid(tid, external)), *_stamps(created, updated)]
        props.append(("SUMMARY", title))
        if note:
            props.append(("DESCRIPTION", note))
        timed = has_time({"due_has_time": has_clock, "snoozed_until": snoozed})
        effective = snoozed or due
        if rule and due is not None:
            props.append(("DTSTART", to_utc(due) if timed else _local_day(due)))
            left = _left(rule, start, due) if start not in (None, due) else rule
            props.append(("RRULE", _Raw(_export_rule(left, timed))))
        if effective is not None:
            props.append(("DUE", to_utc(effective) if timed else _local_day(effective)))
        props.append(("PRIORITY", _PRIORITY_OUT.get(prio, 5)))
        if contact:
            # RFC 5545's CONTACT, with the email (ALTREP) that links it back on import.
            mail = f';ALTREP="mailto:{email}"' if email and '"' not in email else ""
            props.append((f"CONTACT{mail}", contact))
        if done is not None:
            props += [("STATUS", "COMPLETED"), ("COMPLETED", to_utc(done))]
        else:
            props.append(("STATUS", "NEEDS-ACTION"))
        yield "VTODO", props


def _all_day(uid: str, day: date, summary: str, description: str | None = None) -> list[Prop]:
    props: list[Prop] = [("UID", uid), ("SUMMARY", summary)]
    props += [("DTSTART", day), ("DTEND", day + timedelta(days=1)), ("TRANSP", "TRANSPARENT")]
    if description:
        props.append(("DESCRIPTION", description))
    return props


def _birthday_components(contact_id: int | None) -> Iterator:
    from crmcli.values import NO_YEAR

    select = Contact.select(
        Contact.id, Contact.name, Contact.birthday, Contact.created_at, Contact.updated_at
    )
    where = Contact.birthday.is_null(False)
    if contact_id is not None:
        where &= Contact.id == contact_id
    for cid, name, born, created, updated in _batched(select, Contact.id, where):
        # A birthday without a year starts in 2000, a leap year, so 29 February has a day.
        first = date(2000, born.month, born.day) if born.year == NO_YEAR else born
        props = _all_day(f"crmcli-birthday-{cid}@crmcli", first, f"Birthday: {name}")
        rule = "FREQ=YEARLY"
        if (born.month, born.day) == (2, 29):  # celebrated on the 28th in other years
            rule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1"
        props += [("RRULE", _Raw(rule)), ("CATEGORIES", "Birthday"), *_stamps(created, updated)]
        yield "VEVENT", props


def _deal_components(contact_id: int | None) -> Iterator:
    from peewee import JOIN

    from crmcli.models import Stage
    from crmcli.values import format_money

    select = (
        Deal.select(
            Deal.id,
            Deal.title,
            Deal.expected_close,
            Deal.amount_cents,
            Deal.currency,
            Stage.name,
            Contact.name,
            Deal.created_at,
            Deal.updated_at,
        )  # fmt: skip
        .join(Stage, on=(Deal.stage == Stage.id))
        .switch(Deal)
        .join(Contact, JOIN.LEFT_OUTER, on=(Deal.contact == Contact.id))
    )
    where = Deal.closed_at.is_null() & Deal.expected_close.is_null(False)
    if contact_id is not None:
        where &= Deal.contact == contact_id
    for did, title, close, cents, currency, stage, contact, created, updated in _batched(
        select, Deal.id, where
    ):
        details = [f"Stage: {stage}", f"Amount: {format_money(cents, currency)}"]
        if contact:
            details.append(f"Contact: {contact}")
        uid = f"crmcli-deal-{did}@crmcli"
        props = _all_day(uid, close, f"Close deal: {title}", "\n".join(details))
        yield "VEVENT", props + _stamps(created, updated)


def _followup_components(after: timedelta, contact_id: int | None) -> Iterator:
    from peewee import JOIN

    from crmcli.models import Company

    select = (
        Activity.select(
            Activity.id,
            Activity.kind,
            Activity.subject,
            Activity.body,
            Activity.occurred_at,
            Contact.name,
            Company.name,
            Activity.created_at,
            Activity.updated_at,
        )  # fmt: skip
        .join(Contact, JOIN.LEFT_OUTER, on=(Activity.contact == Contact.id))
        .switch(Activity)
        .join(Company, JOIN.LEFT_OUTER, on=(Activity.company == Company.id))
    )
    where = Activity.status == "open"
    if contact_id is not None:
        where &= Activity.contact == contact_id
    for aid, kind, subject, body, at, contact, company, created, updated in _batched(
        select, Activity.id, where
    ):
        who = contact or company or ""
        what = subject or (body or "").split("\n")[0][:60]
        summary = f"Follow up {kind}: {who}" + (f" ({what})" if what else "")
        description = f"Open {kind} #{aid} since {_local_day(at).isoformat()}"
        uid = f"crmcli-followup-{aid}@crmcli"
        props = _all_day(uid, _local_day(at + after), summary, description)
        yield "VEVENT", props + _stamps(created, updated)
