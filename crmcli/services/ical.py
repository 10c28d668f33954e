"""iCalendar in and out (RFC 5545, through the `icalendar` library).

In: VTODOs become tasks, VEVENTs with a known contact meetings on the timeline; each keeps
its UID in external_id ("ical:UID"), so importing a file again changes nothing and a changed
item updates what it made. Out: export_calendar, in services/ical_export.py.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crmcli.errors import Invalid
from crmcli.models import Activity, Contact, ContactEmail, Task, database_proxy, utcnow
from crmcli.services import limits

# The export lives in its own module; `ical.export_calendar` is where callers find it.
from crmcli.services.ical_export import EXPORTABLE, PRODID, UID_DOMAIN, export_calendar
from crmcli.values import MAX_DURATION, at_local, local_tz, to_utc

_CHUNK = 500  # ids or keys per IN (...): well under SQLite's variable limit
# RFC 5545 PRIORITY: 1-4 high, 5 normal, 6-9 low, 0 undefined; crm's index into PRIORITIES.
_HIGH, _NORMAL, _LOW = 2, 1, 0
# Years a date may have: a day either side of them must still be a date after time zones.
_EARLIEST, _LATEST = 2, 9998
# A clock a little ahead elsewhere is no reason to refuse a meeting that just ended.
_SLACK = timedelta(minutes=5)


@dataclass
class IcsResult:
    """What an import did (or, with dry_run, would do)."""

    dry_run: bool = False
    tasks_new: int = 0
    tasks_updated: int = 0
    tasks_unchanged: int = 0
    meetings_new: int = 0
    meetings_unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)
    activity_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run, "tasks_new": self.tasks_new,
            "tasks_updated": self.tasks_updated, "tasks_unchanged": self.tasks_unchanged,
            "meetings_new": self.meetings_new, "meetings_unchanged": self.meetings_unchanged,
            "skipped": len(self.skipped),
            "skipped_items": [{"where": w, "reason": r} for w, r in self.skipped],
            "warnings": [{"where": w, "warning": r} for w, r in self.warnings],
            "task_ids": self.task_ids, "activity_ids": self.activity_ids,
        }  # fmt: skip


class _Skip(Exception):
    """A component crm cannot represent: counted as skipped with the reason, not an error."""


# ---------------------------------------------------------------- reading the file


def _read(source: str | os.PathLike | bytes, name: str | None) -> Iterator:
    """The file's VTODOs and VEVENTs, parsed one at a time (a big file is never one tree of
    objects in memory); Invalid for anything that is not a whole iCalendar file (binary,
    another format, a calendar never closed, a value that cannot be read)."""
    from crmcli.values import decode_text

    if isinstance(source, bytes):
        name, data = name or "input", source
    else:
        with open(source, "rb") as fh:
            data = fh.read()
        name = name or os.fspath(source)
    if b"\x00" in data:
        raise Invalid(None, f"{name} is a binary file, not iCalendar")
    # RFC 5545 3.1: lines are unfolded before the text is decoded, for a writer may fold
    # inside a multi-byte character (between the two bytes of an ü: decoded first, that
    # line was not UTF-8 and the whole file fell back to cp1252). No NUL: no UTF-16 here.
    data = re.sub(rb"\r?\n[ \t]", b"", data)
    lines = decode_text(data).splitlines()
    del data
    blocks = list(_blocks(lines, name))
    # Zones first (icalendar keeps those it has read), then the items in file order.
    zones = [b for b in blocks if b[0] == "VTIMEZONE"]
    for kind, n, first, last in zones + [b for b in blocks if b[0] != "VTIMEZONE"]:
        comp = _parse(lines[first:last], f"{name} is not readable iCalendar: {kind} {n}")
        if kind in ("VTODO", "VEVENT"):
            yield comp


def _blocks(lines: list[str], name: str) -> Iterator[tuple[str, int, int, int]]:
    """(kind, its number among its kind, first line, last line + 1) of every component
    directly inside a VCALENDAR; the calendars' own properties are checked here."""
    not_ical = f"{name} is not an iCalendar file (it does not start BEGIN:VCALENDAR)"
    stack: list[str] = []
    start, calendars = 0, 0
    counts: dict[str, int] = {}
    own: list[str] = []  # the properties of the calendar itself, with their folded lines
    in_own = False
    for i, raw in enumerate(lines):
        if raw[:1] in " \t" and stack:  # a folded line goes on
            if in_own:
                own.append(raw)
            continue
        in_own = False
        word = raw.strip().upper()
        if not word:
            continue
        if word.startswith("BEGIN:"):
            if not stack and word != "BEGIN:VCALENDAR":
                raise Invalid(
                    None, not_ical if not calendars else f"{name} has {word} after END:VCALENDAR"
                )
            stack.append(word[6:])
            start = i if len(stack) == 2 else start
        elif word.startswith("END:"):
            if not stack or stack[-1] != word[4:]:
                raise Invalid(
                    None, f"{name} is not readable iCalendar: line {i + 1}: {raw.strip()[:40]} "
                    f"closes {'nothing' if not stack else 'BEGIN:' + stack[-1]}",
                )  # fmt: skip
            kind = stack.pop()
            if len(stack) == 1:
                counts[kind] = counts.get(kind, 0) + 1
                yield kind, counts[kind], start, i + 1
            elif not stack:
                calendars += 1
                own = ["BEGIN:VCALENDAR", *own, "END:VCALENDAR"]
                _parse(own, f"{name} is not readable iCalendar")
                own = []
        elif not stack and calendars:
            raise Invalid(
                None, f"{name} is not readable iCalendar: line {i + 1} is after END:VCALENDAR"
            )
        elif not stack:
            raise Invalid(None, not_ical)
        elif len(stack) == 1:
            own.append(raw)
            in_own = True
    if stack:
        raise Invalid(None, f"{name} is truncated: BEGIN:{stack[0]} is never closed")
    if not calendars:
        raise Invalid(None, not_ical)


def _parse(lines: list[str], context: str):
    from icalendar import Component

    try:
        return Component.from_ical("\r\n".join(lines) + "\r\n")
    except Exception as err:  # icalendar raises ValueError mostly, others on odd input
        raise Invalid(None, f"{context}: {_reason(err)}") from None


def _reason(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _text(comp, key: str) -> str | None:
    value = comp.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def _moment(comp, key: str, where: str, warn) -> tuple[datetime, bool] | None:
    """A DATE or DATE-TIME property as (UTC moment, has a time of day): a date is its local
    midnight; a floating time, or one in a zone nobody knows, is local time."""
    prop = comp.get(key)
    if prop is None:
        return None
    if isinstance(prop, list):
        raise Invalid(None, f"{where}: {key} is given {len(prop)} times")
    value = comp.decoded(key)
    if isinstance(value, date) and not _EARLIEST <= value.year <= _LATEST:
        raise Invalid(None, f"{where}: {key} {value.isoformat()} is out of range")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            tzid = getattr(prop, "params", {}).get("TZID")
            if tzid:
                warn(where, f"unknown time zone {tzid!r} in {key}: read as local time")
            value = value.replace(tzinfo=local_tz())
        return to_utc(value), True
    if isinstance(value, date):
        return at_local(value, time()), False
    raise Invalid(None, f"{where}: {key} is not a date or a date and time")


def _rule(comp, where: str, warn) -> str | None:
    """The VTODO's RRULE as crm stores it (UNTIL as local wall time), or _Skip when crm
    cannot repeat a task that way."""
    from crmcli.values import parse_every

    prop = comp.get("RRULE")
    if prop is None:
        return None
    if isinstance(prop, list):
        if len(prop) > 1:
            raise _Skip("more than one RRULE (crm repeats a task by one rule)")
        prop = prop[0]
    text = prop.to_ical().decode()
    for key in ("RDATE", "EXDATE"):
        if comp.get(key) is not None:
            warn(where, f"{key} ignored: crm repeats by the rule alone")

    def wall(m: re.Match[str]) -> str:
        stamp, utc = m[1], m[2]
        if len(stamp) == 8:  # a date: the whole day is in the series
            return f"UNTIL={stamp}T235959"
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S")
        if utc:
            moment = moment.replace(tzinfo=UTC).astimezone(local_tz()).replace(tzinfo=None)
        return f"UNTIL={moment:%Y%m%dT%H%M%S}"

    text = re.sub(r"UNTIL=(\d{8}(?:T\d{6})?)(Z?)", wall, text, flags=re.I)
    try:
        return parse_every(text, field="RRULE")
    except Invalid as err:
        raise _Skip(f"recurrence crm cannot represent: {err.why}") from None


def _priority(comp, where: str, warn) -> int:
    raw = comp.get("PRIORITY")
    if raw is None:
        return _NORMAL
    try:
        value = int(str(raw).strip())
    except ValueError:
        warn(where, f"PRIORITY {str(raw)!r} is not a number: normal")
        return _NORMAL
    if 1 <= value <= 4:
        return _HIGH
    if 6 <= value <= 9:
        return _LOW
    return _NORMAL


def _categories(comp) -> list[str]:
    found = comp.get("CATEGORIES")
    items = found if isinstance(found, list) else [found] if found is not None else []
    names: list[str] = []
    for item in items:
        names += [str(c).strip() for c in getattr(item, "cats", [item]) if str(c).strip()]
    return names


def _shortened(title: str, text: str | None, limit: int, where: str, warn) -> tuple:
    """A SUMMARY longer than crm's title: cut, the whole of it kept first in the text."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title, text
    warn(where, f"SUMMARY of {len(title):,} characters cut to {limit}; all of it is in the note")
    return title[: limit - 3] + "...", "\n\n".join(filter(None, [title, text]))


# A description in HTML, as Google Calendar writes one (<br>, <a href>, lists): the tags that
# tell it from text that merely has a "<" in it.
_HTML = re.compile(
    r"(?i)<(?:br|p|div|a\s[^>]*href|b|i|u|strong|em|span|ul|ol|li|html|body)\b/?[^>]*>"
)


def _plain(text: str | None) -> str | None:
    """Text from a description: HTML (Google's) as text, a line break for <br> and blocks,
    a link as `text (url)`; anything else as it is."""
    if not text or not _HTML.search(text):
        return text
    from html import unescape
    from html.parser import HTMLParser

    out: list[str] = []
    links: list[tuple[str, int]] = []  # (href, where its text begins in out)

    blocks = ("p", "div", "ul", "ol", "li", "tr", "h1", "h2", "h3", "h4")

    def new_line() -> None:  # a block starts on a line of its own (one, not a blank one)
        tail = "".join(out[-3:]).rstrip(" \t")
        if tail and not tail.endswith("\n"):
            out.append("\n")

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag == "br":
                out.append("\n")
            elif tag in blocks:
                new_line()
                out.append("- " if tag == "li" else "")
            elif tag == "a":
                links.append((dict(attrs).get("href") or "", len(out)))

        def handle_endtag(self, tag: str) -> None:
            if tag in blocks:
                new_line()
            elif tag == "a" and links:
                href, begin = links.pop()
                label = "".join(out[begin:]).strip()
                plain = re.sub(r"(?i)^mailto:", "", href)
                if href and plain != label:
                    out.append(f" ({plain})" if label else plain)

        def handle_data(self, data: str) -> None:
            out.append(data)

    reader = Reader(convert_charrefs=True)
    reader.feed(text)
    reader.close()
    lines = [" ".join(line.split()) for line in unescape("".join(out)).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() or None


def _uid(comp, *parts: Any) -> str:
    """The UID, or one made from the content (the same content gives the same one), so a
    file without UIDs also imports once."""
    uid = _text(comp, "UID")
    if uid:
        return uid
    digest = hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:20]
    return f"crmcli-nouid-{digest}"


def _task_of(comp, where: str, warn, now: datetime) -> dict:
    title = _text(comp, "SUMMARY")
    if not title:
        raise _Skip("no SUMMARY (a task needs a title)")
    status = (_text(comp, "STATUS") or "").upper()
    if status == "CANCELLED":
        raise _Skip("cancelled")
    due = _moment(comp, "DUE", where, warn)
    if due is None:
        start = _moment(comp, "DTSTART", where, warn)
        if start is not None:
            length = comp.decoded("DURATION") if comp.get("DURATION") is not None else None
            due = (start[0] + length, start[1]) if isinstance(length, timedelta) else start
    rule = _rule(comp, where, warn)
    if rule and due is None:
        raise _Skip("a recurring task needs DUE or DTSTART (the series starts there)")
    completed = _moment(comp, "COMPLETED", where, warn)
    percent = _text(comp, "PERCENT-COMPLETE")
    done = status == "COMPLETED" or completed is not None or percent == "100"
    note = _plain(_text(comp, "DESCRIPTION"))
    title, note = _shortened(title, note, limits.NAME, where, warn)
    categories = _categories(comp)
    if categories:
        note = "\n\n".join(filter(None, [note, "Categories: " + ", ".join(categories)]))
    uid = _uid(comp, "VTODO", title, due, rule, note)
    return {
        "external_id": f"ical:{uid}", "title": title, "note": note,
        "due_at": due[0] if due else None, "due_has_time": bool(due and due[1]),
        "rrule": rule, "priority": _priority(comp, where, warn),
        "done_at": (completed[0] if completed else now) if done else None,
        # Whom it is about: CONTACT (by an email in it or its ALTREP, as crm exports it),
        # else an attendee crm knows.
        "emails": _contact_emails(comp) + _emails(comp, "ATTENDEE"),
    }  # fmt: skip


_MAILTO = re.compile(r"(?i)^mailto:")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _contact_emails(comp) -> list[str]:
    found = comp.get("CONTACT")
    values = found if isinstance(found, list) else [found] if found is not None else []
    out: list[str] = []
    for value in values:
        altrep = str(getattr(value, "params", {}).get("ALTREP", ""))
        out += [e.lower() for e in _EMAIL.findall(altrep + " " + str(value))]
    return out


def _emails(comp, key: str) -> list[str]:
    found = comp.get(key)
    values = found if isinstance(found, list) else [found] if found is not None else []
    out = []
    for value in values:
        text = _MAILTO.sub("", str(value).strip()).strip().lower()
        if "@" in text:
            out.append(text)
    return out


# The UIDs crm's calendar export gives what it makes of birthdays, deal closes and follow-ups:
# days to remember, not meetings that happened.
_OWN_EVENT = re.compile(r"^crmcli-(birthday|deal|followup)-\d+@", re.I)
_OWN_EVENT_WHAT = {
    "birthday": "a birthday",
    "deal": "a deal's close date",
    "followup": "a follow-up",
}
# A task crm exported without a UID of its own (crmcli-task-<id>@<domain>).
_OWN_TASK = re.compile(r"^ical:crmcli-task-(\d{1,18})@(.+)$", re.I)


def _meeting_of(comp, where: str, warn, now: datetime) -> dict:
    own = _OWN_EVENT.match(_text(comp, "UID") or "")
    if own:
        what = _OWN_EVENT_WHAT[own[1].lower()]
        raise _Skip(f"{what} from crm's own calendar export, not a meeting")
    if (_text(comp, "STATUS") or "").upper() == "CANCELLED":
        raise _Skip("cancelled")
    start = _moment(comp, "DTSTART", where, warn)
    if start is None:
        raise _Skip("no DTSTART")
    at, timed = start
    if at > now + _SLACK:
        raise _Skip("in the future: the timeline records what happened")
    minutes = None
    end = _moment(comp, "DTEND", where, warn)
    if end is not None:
        length: Any = end[0] - at
    else:
        length = comp.decoded("DURATION") if comp.get("DURATION") is not None else None
    if timed and isinstance(length, timedelta):
        minutes = round(length.total_seconds() / 60)
        minutes = minutes if 0 < minutes <= MAX_DURATION else None
    subject = _text(comp, "SUMMARY")
    body = _plain(_text(comp, "DESCRIPTION"))
    if subject:
        subject, body = _shortened(subject, body, limits.SUBJECT, where, warn)
    location = _text(comp, "LOCATION")
    if location:
        body = "\n\n".join(filter(None, [body, f"Location: {location}"]))
    uid = _uid(comp, "VEVENT", subject, at)
    recurrence = comp.get("RECURRENCE-ID")
    if isinstance(recurrence, list):
        raise Invalid(None, f"{where}: RECURRENCE-ID is given {len(recurrence)} times")
    external = f"ical:{uid}" + (f"/{recurrence.to_ical().decode()}" if recurrence else "")
    row = {
        "external_id": external, "occurred_at": at, "duration_min": minutes,
        "subject": subject, "body": body,
        # The organizer first: who called the meeting is whom it was with, when crm knows them.
        "emails": _emails(comp, "ORGANIZER") + _emails(comp, "ATTENDEE"),
    }  # fmt: skip
    if comp.get("RRULE") is not None and recurrence is None:
        # A series: each occurrence that has happened is a meeting ("ical:UID/<its start>", as
        # a RECURRENCE-ID names it), worked out once the file's moved ones are known.
        row["series"] = (comp, f"ical:{uid}")
    return row


# At most this many meetings from one series (the latest): a daily stand-up of ten years is a
# timeline of stand-ups, not of what happened with the customer.
MAX_OCCURRENCES = 366
_MOST_FOLLOWED = 20_000  # occurrences worked out before a series is given up as too dense


def _occurrences(
    comp, base: str, where: str, warn, now: datetime, moved: set[str]
) -> list[tuple[str, datetime]]:
    """(external id, UTC moment) of a series' occurrences up to now, those a RECURRENCE-ID
    of the file replaces and EXDATEs left out; the first alone when the rule cannot be
    followed."""
    from dateutil.rrule import rruleset, rrulestr
    from icalendar import vDDDTypes

    start = comp.decoded("DTSTART")
    all_day = not isinstance(start, datetime)
    first = datetime.combine(start, time()) if all_day else start
    if not all_day and start.tzinfo is None and comp["DTSTART"].params.get("TZID"):
        first = start.replace(tzinfo=local_tz())  # a zone nobody knows: local time

    def moment(at: datetime) -> datetime:
        if all_day:
            return at_local(at.date(), time())
        return to_utc(at.replace(tzinfo=local_tz()) if at.tzinfo is None else at)

    def key(at: datetime) -> str:
        value = at.date() if all_day else at
        return f"{base}/{vDDDTypes(value).to_ical().decode()}"

    rules = comp.get("RRULE")
    rules = rules if isinstance(rules, list) else [rules]
    try:
        series = rruleset()
        for rule in rules:
            text = rule.to_ical().decode()
            if first.tzinfo is None:  # UNTIL next to a floating or all-day start: the same kind
                text = re.sub(r"(UNTIL=\d{8}T\d{6})Z", r"\1", text, flags=re.I)
            else:
                text = re.sub(r"UNTIL=(\d{8})(?=;|$)", r"UNTIL=\1T235959Z", text, flags=re.I)
            parsed = rrulestr(text, dtstart=first)
            if isinstance(parsed, rruleset):  # never for one RRULE's text; mypy cannot know
                raise ValueError(f"RRULE {text!r} is more than one rule")
            series.rrule(parsed)
        for key_name, add in (("RDATE", series.rdate), ("EXDATE", series.exdate)):
            found = comp.get(key_name)
            for prop in found if isinstance(found, list) else [found] if found else []:
                for item in prop.dts:
                    value = item.dt
                    if not isinstance(value, datetime):
                        value = datetime.combine(value, time())
                    if first.tzinfo is not None and value.tzinfo is None:
                        value = value.replace(tzinfo=first.tzinfo)
                    elif first.tzinfo is None and value.tzinfo is not None:
                        value = value.replace(tzinfo=None)
                    add(value)
        end = now + _SLACK
        found_at: list[datetime] = []
        for n, at in enumerate(series):
            if moment(at) > end:
                break
            if n >= _MOST_FOLLOWED:  # every minute for years: not meetings, and not in time
                raise ValueError(f"more than {_MOST_FOLLOWED:,} occurrences so far")
            if key(at) not in moved:
                found_at.append(at)
    except Exception as err:  # a rule dateutil cannot follow: the first occurrence stands
        warn(where, f"recurrence not followed ({_reason(err)}): its first occurrence only")
        return [(key(first), moment(first))] if key(first) not in moved else []
    if len(found_at) > MAX_OCCURRENCES:
        warn(where, f"{len(found_at):,} occurrences so far: the latest {MAX_OCCURRENCES} logged")
        found_at = found_at[-MAX_OCCURRENCES:]
    return [(key(at), moment(at)) for at in found_at]


def _items(components: Iterator, result: IcsResult, now: datetime) -> tuple[list, list, dict]:
    """(tasks, meetings) as plain dicts, each with where it is in the file, and {where: its
    position in the file}; what cannot be represented goes to result.skipped."""
    order: dict[str, int] = {}
    tasks: list[tuple[str, dict]] = []
    meetings: list[tuple[str, dict]] = []
    counts = {"VTODO": 0, "VEVENT": 0}

    def warn(where: str, text: str) -> None:
        result.warnings.append((where, text))

    for comp in components:
        counts[comp.name] += 1
        summary = _text(comp, "SUMMARY")
        where = f"{comp.name} {counts[comp.name]}" + (f" {summary[:40]!r}" if summary else "")
        order[where] = len(order)
        try:
            if comp.name == "VTODO":
                tasks.append((where, _task_of(comp, where, warn, now)))
            else:
                meetings.append((where, _meeting_of(comp, where, warn, now)))
        except _Skip as skip:
            result.skipped.append((where, str(skip)))
        except Invalid:
            raise
        except Exception as err:  # a value icalendar read but cannot hand over
            raise Invalid(None, f"{where}: {_reason(err)}") from None
    moved = {row["external_id"] for _, row in meetings if "series" not in row}
    for where, row in meetings:
        comp, base = row.pop("series", (None, ""))
        if comp is not None:
            row["occurrences"] = _occurrences(comp, base, where, warn, now, moved)
    return tasks, meetings, order


# ---------------------------------------------------------------- import


def import_ics(
    source: str | os.PathLike | bytes,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> IcsResult:
    """Import an .ics file (a path, or its bytes; `name` is what messages call it): VTODOs
    as tasks, VEVENTs with a known contact as meetings, in one transaction (rolled back with
    dry_run). `progress` is called with how many items were written so far (a bar)."""
    now = now or utcnow()
    result = IcsResult(dry_run=dry_run)
    tasks, meetings, order = _items(_read(source, name), result, now)
    with database_proxy.atomic() as txn:
        _import_tasks(tasks, result, now, progress)
        _import_meetings(meetings, result, now, progress, start=len(tasks))
        if dry_run:
            txn.rollback()
            result.task_ids, result.activity_ids = [], []  # rolled back: no such records
    if progress is not None:
        progress(len(tasks) + len(meetings))
    # In the order of the file (skips found while writing came last).
    result.skipped.sort(key=lambda item: order.get(item[0], -1))
    return result


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_TASK_FIELDS = ("title", "note", "due_at", "due_has_time", "rrule", "priority", "contact_id")


def _import_tasks(items: list, result: IcsResult, now: datetime, progress=None) -> None:
    from crmcli.services import tasks as task_service

    known = _known_contacts([e for _, row in items for e in row["emails"]])
    for _, row in items:
        row["contact_id"] = next((known[e] for e in row["emails"] if e in known), None)
    keys = list({row["external_id"] for _, row in items})
    existing: dict[str, tuple] = {}
    columns = (Task.external_id, Task.id, *(getattr(Task, f) for f in _TASK_FIELDS[:-1]))
    columns += (Task.contact,)
    for part in _chunks(keys):
        for ext, *rest in (
            Task.select(*columns, Task.done_at).where(Task.external_id.in_(part)).tuples()
        ):
            existing[ext] = tuple(rest)
    existing.update(_own_tasks(items, existing, columns))
    seen: set[str] = set()
    for n, (where, row) in enumerate(items, start=1):
        if progress is not None and n % 100 == 0:
            progress(n)
        ext = row["external_id"]
        if ext in seen:
            result.skipped.append((where, "the same UID appears earlier in the file"))
            continue
        seen.add(ext)
        try:
            if ext in existing:
                _update_task(existing[ext], row, result, now)
            else:
                card = task_service.add_task(
                    row["title"], due_at=row["due_at"], due_has_time=row["due_has_time"],
                    rrule=row["rrule"], priority=row["priority"], note=row["note"], now=now,
                    contact_id=row["contact_id"],
                )  # fmt: skip
                done = {"open_due_at": None, "remind_at": None} if row["done_at"] else {}
                Task.update(external_id=ext, done_at=row["done_at"], **done).where(
                    Task.id == card["id"]
                ).execute()
                result.tasks_new += 1
                result.task_ids.append(card["id"])
        except Invalid as err:
            if err.field not in ("every", "until", "RRULE"):
                raise Invalid(err.field, f"{where}: {err.why}") from None
            result.skipped.append((where, f"recurrence crm cannot represent: {err.why}"))
        except (OverflowError, ValueError) as err:  # a series that runs past the year 9999
            raise Invalid(None, f"{where}: {_reason(err)}") from None


def _own_tasks(items: list, existing: dict, columns: tuple) -> dict[str, tuple]:
    """{external id: stored row} for the file's to-dos that crm exported itself
    (UID crmcli-task-<id>@crmcli): the task with that id, when it is still there, came from
    no other calendar (no external_id) and has the same title (another crm database numbers
    its tasks too: an unrelated task here is never overwritten)."""
    wanted: dict[int, tuple[str, str]] = {}
    for _, row in items:
        ext = row["external_id"]
        own = _OWN_TASK.match(ext) if ext not in existing else None
        if own and own[2].lower() == UID_DOMAIN:
            wanted.setdefault(int(own[1]), (ext, " ".join(row["title"].split())))
    found: dict[str, tuple] = {}
    ids = sorted(wanted)
    for part in _chunks(ids):
        query = Task.select(*columns, Task.done_at).where(
            Task.id.in_(part) & Task.external_id.is_null()
        )
        for _, task_id, title, *rest in query.tuples():
            ext, want = wanted[task_id]
            if " ".join((title or "").split()) == want:
                found[ext] = (task_id, title, *rest)
    return found


def _update_task(stored: tuple, row: dict, result: IcsResult, now: datetime) -> None:
    from crmcli.db import epoch
    from crmcli.services import tasks as task_service

    task_id, *values, done_at = stored
    current = dict(zip(_TASK_FIELDS, values, strict=True))
    current["due_has_time"] = bool(current["due_has_time"])
    # Done in crm, and its next occurrence spawned: the series went on here; the file's
    # first occurrence would open it a second time.
    went_on = done_at is not None and current["rrule"] and row["done_at"] is None
    if went_on and Task.select(Task.id).where(Task.previous == task_id).exists():
        result.tasks_unchanged += 1
        return
    changes = {k: row[k] for k in _TASK_FIELDS if row[k] != current[k]}
    if row["contact_id"] is None:
        changes.pop("contact_id", None)  # a link made in crm stays when the file names nobody
    if "rrule" in changes and _rule_parts(row["rrule"]) == _rule_parts(current["rrule"]):
        del changes["rrule"]  # the same rule, its parts in another order
    done_changed = (row["done_at"] is None) != (done_at is None)
    if not changes and not done_changed:
        result.tasks_unchanged += 1
        return
    if changes:
        task_service.edit_task(task_id, changes, now=now)
    if done_changed and row["done_at"] is not None:
        Task.update(done_at=row["done_at"], open_due_at=None, remind_at=None, updated_at=now).where(
            Task.id == task_id
        ).execute()
    elif done_changed:
        due = task_service.effective_due()
        Task.update(done_at=None, open_due_at=due, remind_at=epoch(due), updated_at=now).where(
            Task.id == task_id
        ).execute()
    result.tasks_updated += 1
    result.task_ids.append(task_id)


def _rule_parts(rule: str | None) -> frozenset[str]:
    return frozenset(p for p in (rule or "").upper().split(";") if p)


def _known_contacts(emails: list[str]) -> dict[str, int]:
    """{lower-cased email: contact id} for the emails crm knows, by any of a contact's emails."""
    found: dict[str, int] = {}
    for part in _chunks(sorted(set(emails))):
        found.update(
            ContactEmail.select(ContactEmail.email_key, ContactEmail.contact)
            .where(ContactEmail.email_key.in_(part))
            .tuples()
        )
        for key, cid in (
            Contact.select(Contact.email_key, Contact.id)
            .where(Contact.email_key.in_(part))
            .tuples()
        ):
            found.setdefault(key, cid)
    return found


def _import_meetings(
    items: list, result: IcsResult, now: datetime, progress=None, *, start: int = 0
) -> None:
    from crmcli.services import activities

    known = _known_contacts([e for _, row in items for e in row["emails"]])
    keys = list(
        {ext for _, row in items for ext, _ in row.get("occurrences") or [(row["external_id"], 0)]}
    )
    existing: set[str] = set()
    for part in _chunks(keys):
        query = Activity.select(Activity.external_id).where(Activity.external_id.in_(part))
        existing.update(e for (e,) in query.tuples())
    for n, (where, row) in enumerate(items, start=start + 1):
        if progress is not None and n % 100 == 0:
            progress(n)
        contact_id = next((known[e] for e in row["emails"] if e in known), None)
        if contact_id is None:
            why = "no attendee or organizer is a known contact"
            result.skipped.append((where, why if row["emails"] else "no attendees"))
            continue
        occurrences = row.get("occurrences")
        if occurrences is None:
            occurrences = [(row["external_id"], row["occurred_at"])]
        for ext, at in occurrences:
            if ext in existing:
                result.meetings_unchanged += 1
                continue
            existing.add(ext)
            try:
                card = activities.log_activity(
                    "meeting", contact_id=contact_id, occurred_at=at,
                    subject=row["subject"], body=row["body"], duration_min=row["duration_min"],
                    now=now,
                )  # fmt: skip
            except Invalid as err:
                raise Invalid(err.field, f"{where}: {err.why}") from None
            Activity.update(external_id=ext).where(Activity.id == card["id"]).execute()
            result.meetings_new += 1
            result.activity_ids.append(card["id"])


__all__ = ["EXPORTABLE", "PRODID", "IcsResult", "export_calendar", "import_ics"]
