"""What is due: tasks, birthdays, unanswered inquiries and complaints, and contacts due for a
call (stay-in-touch cadences). `remind` prints each occurrence once, for cron."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from peewee import JOIN, Value, fn

from crmcli.models import (
    Activity,
    Contact,
    ContactTag,
    ReminderLog,
    Tag,
    Task,
    database_proxy,
    utcnow,
)
from crmcli.services import activities, tasks
from crmcli.values import local_tz, to_utc

DEFAULT_OPEN_AFTER = timedelta(days=3)


def _item(kind: str, key: str, ref_id: int, due: datetime, now: datetime, **data) -> dict:
    return {
        "kind": kind, "key": key, "id": ref_id, "due": due, "has_time": True, "overdue": due < now,
        "contact_id": data.pop("contact_id", None), "contact": data.pop("contact", None),
        "text": data.pop("text"), **data,
    }  # fmt: skip


def _unreminded(query, key):
    """`query` without the rows whose reminder `key` (an SQL expression) was printed."""
    return query.join(ReminderLog, JOIN.LEFT_OUTER, on=(ReminderLog.key == key)).where(
        ReminderLog.key.is_null()
    )


def _key(prefix: str, *parts):
    """The SQL twin of f"{prefix}:{part}:{part}..." for reminder keys."""
    expr = Value(f"{prefix}:").concat(parts[0])
    for part in parts[1:]:
        expr = expr.concat(":").concat(part)
    return expr


def due_tasks(now: datetime, horizon: datetime, *, fresh: bool = False) -> list[dict]:
    """Open tasks whose (snoozed) due time falls before `horizon`; with `fresh`, only those
    not reminded of at that due time."""
    from crmcli.db import epoch

    query = tasks.due_query(horizon)
    if fresh:
        query = _unreminded(query, _key("task", Task.id, epoch(tasks.effective_due())))
    out = []
    for t in tasks.rows(query, now):
        due = t["effective_due"]
        item = _item(
            "task", f"task:{t['id']}:{int(due.timestamp())}", t["id"], due, now,
            contact_id=t["contact_id"], contact=t["contact"], text=t["title"],
            priority=t["priority"],
        )  # fmt: skip
        item["overdue"] = t["overdue"]  # a task due on a day is overdue from the next day
        item["has_time"] = t["due_has_time"] or t["snoozed_until"] is not None
        out.append(item)
    return out


def _month_days(start: date, end: date) -> dict[str, date]:
    """{"MM-DD": the date it falls on} for every day from start to end (at most a year)."""
    out: dict[str, date] = {}
    day = start
    while day <= end and len(out) < 366:
        out[day.strftime("%m-%d")] = day
        if day.month == 2 and day.day == 28 and not _leap(day.year):
            out["02-29"] = day  # born on 29 February: celebrated on the 28th
        day += timedelta(days=1)
    return out


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthdays(now: datetime, horizon: datetime) -> list[dict]:
    """Birthdays from today to the horizon's day (local dates)."""
    zone = local_tz()
    days = _month_days(now.astimezone(zone).date(), horizon.astimezone(zone).date())
    rows = (
        Contact.select(Contact.id, Contact.name, Contact.birthday, Contact.birthday_md)
        .where(Contact.birthday_md.in_(list(days)))
        .order_by(Contact.name_key)
        .tuples()
    )
    out = []
    for cid, name, born, md in rows:
        day = days[md]
        due = to_utc(datetime.combine(day, datetime.min.time()).replace(tzinfo=zone))
        age = day.year - born.year
        out.append(
            _item(
                "birthday",
                f"birthday:{cid}:{day.year}",
                cid,
                due,
                now,
                contact_id=cid,
                contact=name,
                text=f"{name} turns {age}" if born.year > 1900 else f"{name}'s birthday",
            )  # fmt: skip
        )
        out[-1].update(overdue=False, has_time=False)
    return out


def unanswered(
    now: datetime, older_than: timedelta = DEFAULT_OPEN_AFTER, *, fresh: bool = False
) -> list[dict]:
    """Inquiries, complaints and returns still open after `older_than`, oldest first."""
    query = activities.open_query(until=now - older_than)
    if fresh:
        query = _unreminded(query, _key("open", Activity.id))
    return [
        _item(
            a["kind"],
            f"open:{a['id']}",
            a["id"],
            a["occurred_at"] + older_than,
            now,
            contact_id=a["contact_id"],
            contact=a["contact"] or a["company"],
            text=f"open {a['kind']}: {a['subject'] or (a['body'] or '')[:60]}".rstrip(": "),
            age_days=(now - a["occurred_at"]).days,
        )  # fmt: skip
        for a in activities.rows(query)
    ]


def _cadence_query(horizon: datetime):
    """Contacts (id, name, days, last interaction, created) whose cadence runs out by `horizon`;
    also the SQL of their `since` and the per-contact cadence table."""
    from crmcli.db import plus_days_before

    # Due means some cadence has run out: since + days <= horizon, i.e. since <= horizon - days.
    # One branch per cadence tag (there are few), each walking that tag's members by index,
    # and one for contacts with a cadence of their own (indexed too).
    since = fn.COALESCE(Contact.last_activity_at, Contact.created_at)

    def since_before(days: int):  # a constant bound: no date arithmetic per row
        return since <= Contact.created_at.to_value(horizon - timedelta(days=days))

    branches = [
        ContactTag.select(ContactTag.contact.alias("cid"), Value(days).alias("days"))
        .join(Contact, on=(ContactTag.contact == Contact.id))
        .where((ContactTag.tag == tag_id) & since_before(days))
        for tag_id, days in Tag.select(Tag.id, Tag.cadence_days)
        .where(Tag.cadence_days.is_null(False))
        .tuples()
    ]
    branches.append(
        Contact.select(Contact.id.alias("cid"), Contact.cadence_days.alias("days")).where(
            Contact.cadence_days.is_null(False)
            & plus_days_before(since, Contact.cadence_days, horizon)
        )
    )
    both = functools.reduce(lambda a, b: a.union_all(b), branches).alias("both")
    every = (
        both.select_from(both.c.cid, fn.MIN(both.c.days).alias("days"))
        .group_by(both.c.cid)
        .alias("every")
    )
    query = (
        Contact.select(
            Contact.id, Contact.name, every.c.days, Contact.last_activity_at, Contact.created_at
        )
        .join(every, on=(every.c.cid == Contact.id))
        .where(Contact.status != "inactive")
    )
    return query, since, every


def cadence_due_ids(horizon: datetime):
    """The ids of contacts due for a call by `horizon`, as a subquery (for list filters)."""
    query, _, _ = _cadence_query(horizon)
    return query.select(Contact.id)


def cadence_due(now: datetime, horizon: datetime, *, fresh: bool = False) -> list[dict]:
    """Contacts whose stay-in-touch cadence (their own or a tag's, the shorter) runs out by
    `horizon`, counted from their last interaction (or from when they were added)."""
    from crmcli.db import epoch

    query, since, every = _cadence_query(horizon)
    if fresh:
        query = _unreminded(query, _key("cadence", Contact.id, epoch(since), every.c.days))
    out = []
    for cid, name, days, last, created in query.tuples():
        since_at = last or created
        due = since_at + timedelta(days=days)
        when = f"last contact {last.astimezone(local_tz()):%Y-%m-%d}" if last else "never contacted"
        out.append(
            _item(
                "cadence",
                f"cadence:{cid}:{int(since_at.timestamp())}:{days}",
                cid,
                due,
                now,
                contact_id=cid,
                contact=name,
                text=f"get in touch with {name} (every {days} days; {when})",
                cadence_days=days,
                last_activity_at=last,
            )  # fmt: skip
        )
    out.sort(key=lambda i: i["due"])
    return out


def due_items(
    now: datetime,
    within: timedelta,
    *,
    open_after: timedelta = DEFAULT_OPEN_AFTER,
    fresh: bool = False,
) -> list[dict]:
    """Everything due from now to now + within (and everything overdue), soonest first;
    with `fresh`, only what was not reminded of yet."""
    horizon = now + within
    items = due_tasks(now, horizon, fresh=fresh) + birthdays(now, horizon)
    items += unanswered(now, open_after, fresh=fresh) + cadence_due(now, horizon, fresh=fresh)
    if fresh:  # birthdays are few: filtered here rather than in SQL
        items = _drop_reminded(items)
    items.sort(key=lambda i: (i["due"], i["kind"], i["id"]))
    return items


def _drop_reminded(items: list[dict]) -> list[dict]:
    keys = [i["key"] for i in items if i["kind"] == "birthday"]
    seen: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = ReminderLog.select(ReminderLog.key).where(
            ReminderLog.key.in_(keys[start : start + 500])
        )
        seen.update(k for (k,) in chunk.tuples())
    return [i for i in items if i["key"] not in seen]


def remind(
    now: datetime | None = None,
    *,
    within: timedelta = timedelta(days=1),
    everything: bool = False,
    brief: bool = False,
    open_after: timedelta = DEFAULT_OPEN_AFTER,
) -> list[dict]:
    """Due items not reminded of before, marked as reminded in the same transaction.

    Two `crm remind` processes at once never both return an item: the check and the mark run
    in one exclusive transaction. `everything` returns all due items and marks nothing.
    """
    from crmcli.db import exclusive_transaction

    now = now or utcnow()
    if everything:
        items = due_items(now, within, open_after=open_after)
    else:
        with exclusive_transaction(database_proxy.obj):
            items = due_items(now, within, open_after=open_after, fresh=True)
            if items:
                ReminderLog.insert_many(
                    [(i["key"], now) for i in items],
                    fields=[ReminderLog.key, ReminderLog.reminded_at],
                ).on_conflict_ignore().execute()
    if brief:
        add_context(items)
    return items


def add_context(items: list[dict]) -> None:
    """Per item with a contact: the last interaction and open inquiries/complaints/returns."""
    ids = sorted({i["contact_id"] for i in items if i["contact_id"]})
    last = activities.last_activities(ids)
    open_ = activities.open_counts(ids)
    for item in items:
        cid = item["contact_id"]
        item["last_activity"] = last.get(cid)
        item["open_issues"] = open_.get(cid, 0)
