"""What is due: tasks, birthdays, unanswered inquiries and complaints, contacts due for a
call (stay-in-touch cadences), and, when the setting remind.next_purchase is on (or names
tags), customers whose expected next purchase falls due. `remind` prints each occurrence
once, for cron."""

from __future__ import annotations

import functools
import operator
from datetime import date, datetime, timedelta

from peewee import Tuple

from crmcli.models import Activity, Contact, ReminderLog, Task, database_proxy, utcnow
from crmcli.services import activities, cadence, prepared, tasks
from crmcli.values import local_tz, to_utc, unix_seconds

DEFAULT_OPEN_AFTER = timedelta(days=3)
# How far ahead `remind` counts an item as reminded: what falls due within a day (the default
# --within) is printed once, a day ahead at most. A longer look (--within 30d) shows the rest
# without marking it, so the run in its day still prints it.
REMIND_LEAD = timedelta(days=1)


def _item(kind: str, key: str, ref_id: int, due: datetime, now: datetime, **data) -> dict:
    return {
        "kind": kind, "key": key, "id": ref_id, "due": due, "has_time": True, "overdue": due < now,
        "ahead": False,
        "contact_id": data.pop("contact_id", None), "contact": data.pop("contact", None),
        "text": data.pop("text"), **data,
    }  # fmt: skip


def _task_item(t: dict, now: datetime) -> dict:
    due = t["effective_due"]
    item = _item(
        "task", f"task:{t['id']}:{unix_seconds(due)}", t["id"], due, now,
        contact_id=t["contact_id"], contact=t["contact"], text=t["title"], priority=t["priority"],
    )  # fmt: skip
    item["overdue"] = t["overdue"]  # a task due on a day is overdue from the next day
    item["has_time"] = tasks.has_time(t)  # a task due on a day and snoozed to a day: a day
    return item


def due_tasks(now: datetime, horizon: datetime) -> list[dict]:
    """Open tasks whose (snoozed) due time falls before `horizon`."""
    return [_task_item(t, now) for t in tasks.rows(tasks.due_query(horizon), now)]


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


def birthdays(now: datetime, horizon: datetime, *, fresh: bool = False) -> list[dict]:
    """Birthdays from today to the horizon's day (local dates); with `fresh`, only those whose
    year's birthday was not reminded of (contact.birthday_reminded holds that year)."""
    zone = local_tz()
    days = _month_days(now.astimezone(zone).date(), horizon.astimezone(zone).date())
    if not days:
        return []
    if fresh:  # one branch per calendar year in the window (two around New Year)
        years: dict[int, list[str]] = {}
        for md, day in days.items():
            years.setdefault(day.year, []).append(md)
        where = functools.reduce(
            operator.or_,
            (
                Contact.birthday_md.in_(mds) & (Contact.birthday_reminded < year)
                for year, mds in years.items()
            ),
        )
    else:
        where = Contact.birthday_md.in_(list(days))
    rows = (
        Contact.select(Contact.id, Contact.name, Contact.birthday, Contact.birthday_md)
        .where(where)
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


def _open_item(a: dict, now: datetime, older_than: timedelta) -> dict:
    return _item(
        a["kind"], f"open:{a['id']}", a["id"], a["occurred_at"] + older_than, now,
        contact_id=a["contact_id"], contact=a["contact"] or a["company"],
        text=f"open {a['kind']}: {a['subject'] or (a['body'] or '')[:60]}".rstrip(": "),
        age_days=(now - a["occurred_at"]).days,
    )  # fmt: skip


def unanswered(now: datetime, older_than: timedelta = DEFAULT_OPEN_AFTER) -> list[dict]:
    """Inquiries, complaints and returns still open after `older_than`, oldest first."""
    query = activities.open_query(until=now - older_than)
    return [_open_item(a, now, older_than) for a in activities.rows(query)]


def _cadence_item(row: tuple, now: datetime) -> dict:
    """A contact due for a call: `text` names the call; how often and since when are data
    (cadence_days, last_activity_at), for each front end to word in its user's locale."""
    cid, name, days, last, created = row
    since_at = last or created
    return _item(
        "cadence", f"cadence:{cid}:{unix_seconds(since_at)}:{days}", cid,
        since_at + timedelta(days=days), now, contact_id=cid, contact=name,
        text=f"get in touch with {name}", cadence_days=days, last_activity_at=last,
    )  # fmt: skip


_CADENCE_COLUMNS = (
    Contact.id, Contact.name, Contact.cadence_eff, Contact.last_activity_at, Contact.created_at,
)  # fmt: skip


def cadence_due_ids(horizon: datetime):
    """The ids of contacts due for a call by `horizon`, as a subquery (for list filters)."""
    return Contact.select(Contact.id).where(cadence.due_before(horizon))


def cadence_due(now: datetime, horizon: datetime) -> list[dict]:
    """Contacts whose stay-in-touch cadence (their own or a tag's, the shorter) runs out by
    `horizon`, counted from their last interaction (or from when they were added)."""
    query = Contact.select(*_CADENCE_COLUMNS).where(cadence.due_before(horizon))
    out = [_cadence_item(row, now) for row in query.tuples()]
    out.sort(key=lambda i: (i["due"], i["id"]))
    return out


def purchase_scope():
    """The setting remind.next_purchase: None (off), True (all customers) or tag names."""
    from crmcli.services import db_settings

    return db_settings.get_setting(db_settings.NEXT_PURCHASE)


_UNREAD = object()


def purchases_due(now: datetime, horizon: datetime, scope=_UNREAD) -> list[dict]:
    """Customers whose next purchase falls due by the horizon's day, if the setting
    remind.next_purchase is on (all customers) or names tags (customers with any of them);
    nothing, and no purchase history read, when it is off.

    Due is the customer's own rhythm, the forecast's fallback (services.forecast): the last
    purchase day plus the mean interval between their purchase days, for customers who
    bought on two days or more (forecast.usual_next; `crm report next-purchase` shows it as
    `usual_next` beside the model's day). (The BG/NBD median wait counts from today and moves
    on with every day without a purchase, so it never falls due.) A customer overdue by more than
    one interval is left out: that is a lapsed customer, not one about to buy. Each is
    reminded once per purchase: the key holds the day of their last one. `scope`: the
    setting, when the caller has read it."""
    if scope is _UNREAD:
        scope = purchase_scope()
    if not scope:
        return []
    from crmcli.services.forecast import usual_next
    from crmcli.services.value import contact_names, histories

    zone = local_tz()
    today, last_day = now.astimezone(zone).date(), horizon.astimezone(zone).date()
    allowed = None if scope is True else _tagged([str(t) for t in scope])
    due_rows = []
    for h in histories(today, "days"):
        if h.x == 0 or (allowed is not None and h.contact_id not in allowed):
            continue
        days = round(h.t_x)
        last = h.first + timedelta(days=days)
        day, every = usual_next(h.first, h.x, days)  # type: ignore[misc]  # x > 0
        interval = timedelta(days=every)
        if day <= last_day and day + interval >= today:
            due_rows.append((h, last, day, every))
    names = contact_names([h.contact_id for h, _, _, _ in due_rows])
    out = []
    for h, last, day, every in due_rows:
        name = names.get(h.contact_id)
        due = to_utc(datetime.combine(day, datetime.min.time()).replace(tzinfo=zone))
        item = _item(
            "purchase", f"purchase:{h.contact_id}:{last.isoformat()}", h.contact_id, due, now,
            contact_id=h.contact_id, contact=name,
            text=f"{name} is due to buy again (usual interval: every {every} days)",
            last_purchase=last, purchases=h.x + 1, usual_interval_days=every,
        )  # fmt: skip
        item.update(overdue=day < today, has_time=False)
        out.append(item)
    return out


def _tagged(names: list[str]) -> set[int]:
    from crmcli.models import ContactTag, Tag
    from crmcli.values import fold

    query = (
        ContactTag.select(ContactTag.contact)
        .join(Tag, on=(ContactTag.tag == Tag.id))
        .where(Tag.name_fold.in_([fold(n) for n in names]))
    )
    return {cid for (cid,) in query.tuples()}


def due_items(
    now: datetime, within: timedelta, *, open_after: timedelta = DEFAULT_OPEN_AFTER
) -> list[dict]:
    """Everything due from now to now + within (and everything overdue), soonest first."""
    horizon = now + within
    items = due_tasks(now, horizon) + birthdays(now, horizon)
    items += unanswered(now, open_after) + cadence_due(now, horizon)
    items += purchases_due(now, horizon)
    items.sort(key=lambda i: (i["due"], i["kind"], i["id"]))
    return items


def _pending(now: datetime, within: timedelta, open_after: timedelta, scope=None):
    """What `crm remind` has not printed yet, read from the reminder queues (indexed columns
    that hold only unprinted occurrences): the items, the queue rows read (model, column,
    [(id, value, item)], item None for a row with nothing to print) and the birthdays."""
    horizon = now + within
    items, marks = [], []

    task_rows = tasks.pending_rows(horizon, now)
    task_items = [None if t["done"] else _task_item(t, now) for t, _ in task_rows]
    marks.append((Task, Task.remind_at, [
        (t["id"], at, item) for (t, at), item in zip(task_rows, task_items, strict=True)
    ]))  # fmt: skip

    open_rows = activities.pending_rows(now - open_after)
    open_items = [
        _open_item(a, now, open_after) if a["status"] == "open" else None for a, _ in open_rows
    ]
    marks.append((Activity, Activity.remind_at, [
        (a["id"], at, item) for (a, at), item in zip(open_rows, open_items, strict=True)
    ]))  # fmt: skip

    touch_rows = prepared.run(
        "touch_queue",
        lambda limit: Contact.select(*_CADENCE_COLUMNS, Contact.touch_remind).where(
            cadence.pending_before(limit)
        ),
        unix_seconds(horizon),
    )
    touch_items = [_cadence_item(row[:-1], now) for row in touch_rows]
    marks.append((Contact, Contact.touch_remind, [
        (row[0], row[-1], item) for row, item in zip(touch_rows, touch_items, strict=True)
    ]))  # fmt: skip

    born = birthdays(now, horizon, fresh=True)
    items = [i for i in task_items + open_items if i is not None] + touch_items + born
    # Not queued (the forecast moves every day): those printed before are left out here, so
    # a cron run with nothing new takes no write lock for them.
    purchases = purchases_due(now, horizon, scope) if scope else []
    if purchases:
        items += _drop_reminded(purchases)
    return items, marks, born


def _clear(marks: list) -> None:
    """Take what was read off the queues: each row only if it still holds the value read, so
    a task snoozed meanwhile (PostgreSQL lets others write) stays armed for its new time.
    A row whose item is merely ahead stays queued."""
    for model, column, rows in marks:
        pairs = [(rid, value) for rid, value, item in rows if item is None or not item["ahead"]]
        for start in range(0, len(pairs), 400):
            part = pairs[start : start + 400]
            model.update({column: None}).where(Tuple(model.id, column).in_(part)).execute()


def _mark_birthdays(born: list[dict]) -> None:
    """Record the year of each birthday reminded (the day it falls on is its due date)."""
    years: dict[int, list[int]] = {}
    for item in born:
        years.setdefault(item["due"].astimezone(local_tz()).year, []).append(item["id"])
    for year, ids in years.items():
        for start in range(0, len(ids), 500):
            Contact.update(birthday_reminded=year).where(
                Contact.id.in_(ids[start : start + 500]) & (Contact.birthday_reminded < year)
            ).execute()


def _drop_reminded(items: list[dict]) -> list[dict]:
    """Items whose key the reminder log already holds (printed before) left out."""
    keys = [i["key"] for i in items]
    seen: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = ReminderLog.select(ReminderLog.key).where(
            ReminderLog.key.in_(keys[start : start + 500])
        )
        seen.update(k for (k,) in chunk.tuples())
    return [i for i in items if i["key"] not in seen] if seen else items


def remind(
    now: datetime | None = None,
    *,
    within: timedelta = timedelta(days=1),
    everything: bool = False,
    brief: bool = False,
    open_after: timedelta = DEFAULT_OPEN_AFTER,
) -> list[dict]:
    """Due items not reminded of before, marked as reminded in the same transaction.

    Only what falls due within REMIND_LEAD (a day), or within `within` if shorter, is marked;
    a longer `within` looks ahead: it also returns what comes later, with "ahead" true and
    unmarked, so a later run prints it again in its day. Two `crm remind` processes at once
    never both return an item: the check and the mark run in one exclusive transaction.
    `everything` returns all due items and marks nothing.
    """
    from crmcli.db import exclusive_transaction

    now = now or utcnow()
    mark_before = now + min(within, REMIND_LEAD)
    if everything:
        items = due_items(now, within, open_after=open_after)
        for item in items:
            item["ahead"] = item["due"] >= mark_before
        return _finish(items, brief)
    # The steady state of a cron run: nothing new to mark (at most items ahead, which are
    # shown and never marked). Looked at without the write lock, so such a run never waits for
    # writers nor holds them up, and works on a database it may only read; what a writer
    # commits just after this look is printed by the next run.
    scope = purchase_scope()  # one read a run (it says whether to read orders at all)
    looked = _pending(now, within, open_after, scope)[0]
    if not any(i["due"] < mark_before for i in looked):
        items = _drop_reminded(looked) if looked else []
        for item in items:
            item["ahead"] = True
        return _finish(items, brief)
    with exclusive_transaction(database_proxy.obj):
        items, marks, born = _pending(now, within, open_after, scope)
        for item in items:
            item["ahead"] = item["due"] >= mark_before
        if items:
            # A queue may hold an occurrence printed before (armed again by an edit that
            # kept its time): the log has the last word.
            items = _drop_reminded(items)
            _clear(marks)
            _mark_birthdays([b for b in born if not b["ahead"]])
        reminded = [i for i in items if not i["ahead"]]
        if reminded:
            ReminderLog.insert_many(
                [(i["key"], now) for i in reminded],
                fields=[ReminderLog.key, ReminderLog.reminded_at],
            ).on_conflict_ignore().execute()
    return _finish(items, brief)


def _finish(items: list[dict], brief: bool) -> list[dict]:
    """The items soonest first, with their context for --brief."""
    items.sort(key=lambda i: (i["due"], i["kind"], i["id"]))
    if brief:
        add_context(items)
    return items


def rebuild_queues() -> None:
    """Arm every reminder queue from the records themselves, after a bulk load: open tasks
    with a due time (and their open_due_at), open inquiries/complaints/returns, stay-in-touch
    due times. What was printed before stays in the reminder log: nothing prints twice."""
    from crmcli.db import epoch

    due = tasks.effective_due()
    Task.update(open_due_at=due, remind_at=epoch(due)).where(
        Task.done_at.is_null() & due.is_null(False)
    ).execute()
    Task.update(open_due_at=None, remind_at=None).where(Task.done_at.is_null(False)).execute()
    Activity.update(remind_at=epoch(Activity.occurred_at)).where(
        Activity.status == "open"
    ).execute()
    cadence.refresh()


def queue_drift() -> dict[str, int]:
    """Records whose reminder queue columns are out of step with them (0 each when sound):
    a done task still queued, an open one whose open_due_at is not its due time or whose
    queued time is another, a queued activity that is not open (or at another time), and
    contacts whose cadence or due time is stale."""
    from crmcli.db import differs, epoch

    due = tasks.effective_due()
    task_bad = (Task.done_at.is_null(False) & (
        Task.open_due_at.is_null(False) | Task.remind_at.is_null(False)
    )) | (Task.done_at.is_null() & (
        differs(Task.open_due_at, due)
        | (Task.remind_at.is_null(False) & (Task.remind_at != epoch(due)))
    ))  # fmt: skip
    activity_bad = Activity.remind_at.is_null(False) & (
        Activity.status.is_null()
        | (Activity.status != "open")
        | (Activity.remind_at != epoch(Activity.occurred_at))
    )
    return {
        "tasks": Task.select().where(task_bad).count(),
        "activities": Activity.select().where(activity_bad).count(),
        "contacts": cadence.drift(),
    }


def add_context(items: list[dict]) -> None:
    """Per item with a contact: the last interaction and open inquiries/complaints/returns."""
    ids = sorted({i["contact_id"] for i in items if i["contact_id"]})
    last = activities.last_activities(ids)
    open_ = activities.open_counts(ids)
    for item in items:
        cid = item["contact_id"]
        item["last_activity"] = last.get(cid)
        item["open_issues"] = open_.get(cid, 0)
