"""Tasks: to-dos with a due date, a priority and an optional RFC 5545 recurrence."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from peewee import IntegrityError, fn

from crmcli.db import as_utc, utc_session
from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import PRIORITIES, Contact, Task, UTCDateTimeField, database_proxy, utcnow
from crmcli.services import limits, prepared, refs
from crmcli.values import fold_variants, local_tz, next_occurrence, to_utc, unix_seconds

EDITABLE = ("title", "contact_id", "due_at", "due_has_time", "rrule", "priority", "note")


def check_priority(priority: str) -> int:
    value = (priority or "").strip().lower()
    aliases = {
        "hoch": "high",
        "niedrig": "low",
        "mittel": "normal",
        "h": "high",
        "l": "low",
        "n": "normal",
    }
    value = aliases.get(value, value)
    if value not in PRIORITIES:
        raise Invalid("priority", f"unknown priority '{priority}' (choose {', '.join(PRIORITIES)})")
    return PRIORITIES.index(value)


def with_end(rule: str, *, until: datetime | None = None, count: int | None = None) -> str:
    """Add an end to a rule: UNTIL as local wall time (what values.next_occurrence expects).
    An `until` at local midnight is a day (`--until fri`) and includes that whole day."""
    parts = [p for p in rule.split(";") if not p.startswith(("UNTIL=", "COUNT="))]
    if until is not None and count is not None:
        raise Invalid("until", "give an end date or a count, not both", action="until_or_count")
    if until is not None:
        last = until.astimezone(local_tz())
        if last.time() == time():
            last = last.replace(hour=23, minute=59, second=59)
        parts.append("UNTIL=" + last.strftime("%Y%m%dT%H%M%S"))
    if count is not None:
        if not 1 <= count <= limits.MAX_OCCURRENCES:
            raise Invalid("count", f"must be from 1 to {limits.MAX_OCCURRENCES:,}")
        parts.append(f"COUNT={count}")
    return ";".join(parts)


def _rule_end(rule: str | None) -> datetime | None:
    for part in (rule or "").split(";"):
        if part.startswith("UNTIL="):
            # UNTIL=20261126 (a date, as RFC 5545 allows) is that day's 00:00, as for dateutil.
            wall = datetime.strptime((part[6:14] + part[15:21]).ljust(14, "0"), "%Y%m%d%H%M%S")
            return wall.replace(tzinfo=local_tz())
    return None


def _check(row: dict) -> None:
    if row.get("rrule") and row.get("due_at") is None:
        raise Invalid(
            "every",
            "a recurring task needs a due date (the series starts there)",
            action="give_due",
        )
    end = _rule_end(row.get("rrule"))
    if end is not None and row.get("due_at") is not None and end < row["due_at"]:
        raise Invalid("until", "the series ends before it starts", action="until_before_due")
    rule, due = row.get("rrule"), row.get("due_at")
    if rule and due is not None and not re.search(r"(?:^|;)(?:COUNT|UNTIL)=", rule.upper()):
        # An endless rule that never lands after its first date (a Tuesday every 7 days from
        # a Monday) would end the series unannounced at the first `crm done`.
        first = due.astimezone(local_tz())
        if next_occurrence(rule, first, start=first) is None:
            raise Invalid("every", f"'{rule}' never occurs after the due date {first:%Y-%m-%d}")


def add_task(
    title: str,
    *,
    contact_id: int | None = None,
    deal_id: int | None = None,
    due_at: datetime | None = None,
    due_has_time: bool = False,
    rrule: str | None = None,
    priority: int = 1,
    note: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Create a task (for a contact and/or a deal); a recurring one needs a due date, where
    its series starts."""
    now = now or utcnow()
    title = _title(title)
    row = dict(
        title=title, name_key=fold_variants(title), contact=contact_id, due_at=due_at,
        due_has_time=due_has_time, rrule=rrule or None, series_start=due_at if rrule else None,
        priority=priority, note=_note(note), deal=deal_id,
        open_due_at=due_at, remind_at=remind_at(due_at),
    )  # fmt: skip
    _check(row)
    if deal_id is not None:
        _check_party(deal_id, contact_id)
    with _contact_exists(contact_id, deal_id):
        task_id = Task.insert(created_at=now, updated_at=now, **row).execute()
    return get_task(task_id)


def _title(text: str | None) -> str:
    title = " ".join((text or "").split())
    if not title:
        raise Invalid("title", "a task needs a title")
    return limits.check("title", title) or title


def _note(text: str | None) -> str | None:
    return limits.check("note", (text or "").strip() or None)


def _check_party(deal_id: int, contact_id: int | None) -> None:
    """A task about a deal is for the deal's party, not another customer's contact."""
    from crmcli.services import deals

    deals.check_party(deal_id, contact_id=contact_id)


@contextmanager
def _contact_exists(contact_id: int | None, deal_id: int | None = None):
    """A write that links `contact_id` (and `deal_id`): NotFound, nothing written, if the
    linked record is not there."""
    from crmcli.models import Deal

    try:
        with database_proxy.atomic():
            yield
    except IntegrityError:
        for model, given in ((Contact, contact_id), (Deal, deal_id)):
            if given is not None and not model.select().where(model.id == given).exists():
                raise NotFound(f"no {model.__name__.lower()} with id {given}") from None
        raise


def resolve_task(ref: str, *, done: bool = False) -> int:
    """A task by id or by a unique part of its title among open tasks (`done`: among done
    ones, what `crm reopen` names), then among all tasks."""
    text = (ref or "").strip()
    if text.lstrip("#").isdigit():
        return refs.resolve(Task, text, kind="task")
    if Task.select(Task.id).where(Task.done_at.is_null(not done)).exists():
        try:
            return refs.resolve(_tasks_done(done), text, kind="task", describe=_candidates)
        except NotFound:
            pass
    return refs.resolve(Task, text, kind="task", describe=_candidates)


@functools.cache
def _tasks_done(done: bool):
    """A model of the task rows that are open (or done): REF resolution prefers them. Done
    ones: only the last done of a series (a daily task done twice leaves #1 and #2 done and
    #3 open; #2 is what `crm reopen` can take back, #1's next occurrence being done). Made
    on first use: a model class costs ~1.5 ms to make, which every command importing tasks
    would pay."""

    class _SomeTasks(Task):
        class Meta:
            table_name = "task"

        @classmethod
        def select(cls, *fields):
            query = super().select(*fields).where(cls.done_at.is_null(not done))
            if not done:
                return query
            following = Task.alias()
            done_after = following.select(following.id).where(
                (following.previous == cls.id) & following.done_at.is_null(False)
            )
            return query.where(~fn.EXISTS(done_after))

    return _SomeTasks


def _candidates(ids: list[int]):
    from crmcli.errors import Candidate

    rows = Task.select(Task.id, Task.title, Task.due_at).where(Task.id.in_(ids)).order_by(Task.id)
    return [Candidate(t.id, t.title, f"due {t.due_at:%Y-%m-%d}" if t.due_at else "") for t in rows]


_COLUMNS = (
    Task.id, Task.title, Task.contact, Task.contact_name, Task.due_at, Task.due_has_time,
    Task.snoozed_until, Task.rrule, Task.priority, Task.note, Task.done_at, Task.previous,
    Task.deal, Task.created_at, Task.updated_at,
)  # fmt: skip


def _row(values: tuple, now: datetime) -> dict:
    """A task as a dict."""
    return next(_rows((values,), now, day_start(now)))


def _rows(found: Iterable[tuple], now: datetime, today: datetime) -> Iterator[dict]:
    """Each task of `found` as a dict; `today` is day_start(now). One loop, no call a row: a
    list of every task due (7,000 at 1,000,000 contacts) makes thousands."""
    for (tid, title, contact_id, contact, due, has_time, snoozed, rule, prio, note, done, prev,
         deal_id, created, updated) in found:  # fmt: skip
        effective = snoozed or due
        overdue = False
        if effective is not None and done is None:
            # A timed task is overdue from its time, one due on a day from the next day.
            timed = has_time or (snoozed is not None and _timed(has_time, snoozed))
            overdue = effective < (now if timed else today)
        yield {
            "id": tid, "title": title, "contact_id": contact_id, "contact": contact,
            "due_at": due, "due_has_time": bool(has_time), "snoozed_until": snoozed,
            "effective_due": effective, "rrule": rule, "priority": PRIORITIES[prio],
            "note": note, "done": done is not None, "done_at": done, "overdue": overdue,
            "previous_id": prev, "deal_id": deal_id, "created_at": created,
            "updated_at": updated,
        }  # fmt: skip


def _timed(due_has_time: bool, snoozed: datetime | None) -> bool:
    return bool(due_has_time) or (snoozed is not None and not _midnight(snoozed))


def has_time(task: dict) -> bool:
    """Whether a task (a dict as get_task gives) is due at a time of day rather than on a
    day: due with a time, or snoozed to one. A task due on a day and snoozed to a day (its
    local midnight) is still due on a day."""
    return _timed(task.get("due_has_time", False), task.get("snoozed_until"))


def on_day_keeping_time(due: datetime | None, timed: bool, day: date) -> tuple[datetime, bool]:
    """(moment, has_time) for a task moved to `day` by a WHEN that names no time of day: the
    local time of day of `due` when the task is `timed`, else the day itself (its local
    midnight, has_time False). What `crm snooze` and `crm edit task --due` do."""
    from crmcli.values import at_local

    if timed and due is not None:
        return at_local(day, to_utc(due).astimezone(local_tz()).time()), True
    return at_local(day, time()), False


def _midnight(moment: datetime) -> bool:
    """Whether `moment` is local midnight: a snooze of a task due on a day, to a day (the
    task stays one due on a day; see snooze_task)."""
    return to_utc(moment).astimezone(local_tz()).time() == time()


def _select(utc: bool = False):
    """The task rows `_row` reads. `utc` (db.utc_session(): PostgreSQL in UTC): the datetimes
    come from the server aware, so the rows need no conversion in Python at all (a long
    list: 21,000 values, 15-17 ms of CPU at 7,000 tasks)."""
    columns = (
        [as_utc(c) if isinstance(c, UTCDateTimeField) else c for c in _COLUMNS] if utc else _COLUMNS
    )
    return Task.select(*columns)


def _effective():
    return fn.COALESCE(Task.snoozed_until, Task.due_at)


def _due_before(moment: datetime):
    """Open and due (or snoozed to) before `moment`: the indexed open_due_at, which holds
    COALESCE(snoozed_until, due_at) of open tasks and NULL for done ones."""
    return Task.open_due_at < moment


def _effective_before(moment: datetime):
    """Due (or snoozed to) before `moment`, open or done. COALESCE is no field, so `moment`
    would reach the database as it is (SQLite would compare text with an offset against stored
    naive UTC): spelled out, each side is compared through its field."""
    return (Task.snoozed_until.is_null() & (Task.due_at < moment)) | (Task.snoozed_until < moment)


def effective_due():
    """The SQL for when a task is due: its snooze, else its due date."""
    return _effective()


def due_query(before: datetime):
    """Open tasks due (or snoozed to) before `before`, soonest first; rows() reads it."""
    order = (Task.open_due_at, Task.priority.desc(), Task.id)
    return _select(utc_session()).where(_due_before(before)).order_by(*order)


def rows(query, now: datetime) -> list[dict]:
    return list(_rows(prepared.fetch(query), now, day_start(now)))


def remind_at(due: datetime | None) -> int | None:
    """A task's reminder-queue value for its (snoozed) due time: whole seconds since 1970."""
    return None if due is None else unix_seconds(due)


def pending_rows(before: datetime, now: datetime) -> list[tuple[dict, int]]:
    """Tasks due before `before` that `crm remind` has not printed (the queue in
    task.remind_at), soonest first, each with its queue value. The queue holds open tasks
    only; the caller skips a done one (and takes it off), so the query reads the queue's
    index alone rather than every open task."""

    def build(limit):
        order = (_effective(), Task.priority.desc(), Task.id)
        query = _select().select_extend(Task.remind_at)
        return query.where(Task.remind_at < limit).order_by(*order)

    found = prepared.run("task_queue", build, math.ceil(before.timestamp()))
    made = _rows((r[:-1] for r in found), now, day_start(now))
    return [(task, r[-1]) for task, r in zip(made, found, strict=True)]


def get_task(task_id: int, *, now: datetime | None = None) -> dict:
    found = _select().where(Task.id == task_id).tuples().first()
    if found is None:
        raise NotFound(f"no task with id {task_id}")
    return _row(found, now or utcnow())


def list_tasks(
    *,
    state: str = "open",
    overdue: bool = False,
    due_before: datetime | None = None,
    contact_id: int | None = None,
    priority: int | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """Tasks by due date (undated last); `state` is open, done or all. The SQL is built once
    per combination of filters (prepared.run), the values go in as parameters."""
    return list(
        _tasks(
            state=state, overdue=overdue, due_before=due_before, contact_id=contact_id,
            priority=priority, now=now, limit=limit, offset=offset, at_once=True,
        )
    )  # fmt: skip


def iter_tasks(
    *,
    state: str = "open",
    overdue: bool = False,
    due_before: datetime | None = None,
    contact_id: int | None = None,
    priority: int | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Iterator[dict]:
    """list_tasks one task at a time, fetched from the cursor in batches (an export of every
    task never holds them all); the filters are checked at the call, before the first row."""
    return _tasks(
        state=state, overdue=overdue, due_before=due_before, contact_id=contact_id,
        priority=priority, now=now, limit=limit, offset=offset,
    )  # fmt: skip


def _tasks(
    *,
    state: str,
    overdue: bool,
    due_before: datetime | None,
    contact_id: int | None,
    priority: int | None,
    now: datetime | None,
    limit: int | None,
    offset: int,
    at_once: bool = False,
) -> Iterator[dict]:
    """iter_tasks: a list longer than a batch (or without a limit) in batches from a cursor
    (on PostgreSQL a server-side one, a round trip per batch and two more), a page all at
    once. A long list stays on the cursor on PostgreSQL: a plain query of thousands of
    tasks is planned with parallel workers, whose start cost more than the round trips
    (8,000 tasks at 1,000,000 contacts). `at_once`: the caller reads every row before
    anything else (list_tasks; prepared.stream)."""
    now = now or utcnow()
    streamed = limit is None or limit > prepared.BATCH
    given = _given(
        state=state, overdue=overdue, due_before=due_before, contact_id=contact_id,
        priority=priority, now=now,
    )  # fmt: skip
    if limit is not None:
        given["limit"] = limit
    if offset:
        given["offset"] = offset
    names = tuple(given)
    by_due = state == "open" and (overdue or due_before is not None)
    utc = utc_session()

    def build(*marks):
        mark = dict(zip(names, marks, strict=True))
        query = _filtered(_select(utc), state, overdue, mark)
        if state == "done":
            query = query.order_by(Task.done_at.desc(), Task.id.desc())
        elif by_due:
            query = query.order_by(Task.open_due_at, Task.priority.desc(), Task.id)
        else:
            undated_last = (_effective().is_null(), _effective())
            query = query.order_by(*undated_last, Task.priority.desc(), Task.id)
        if "limit" in mark:
            query = query.limit(mark["limit"])
        if "offset" in mark:
            query = query.offset(mark["offset"])
        return query

    name = f"tasks:{state}:{overdue}:{','.join(names)}{':utc' if utc else ''}"
    found: Iterable[tuple] = (
        prepared.stream(name, build, *given.values(), at_once=at_once)
        if streamed
        else prepared.run(name, build, *given.values())
    )
    return _rows(found, now, day_start(now))


def _filtered(query, state: str, overdue: bool, given: dict):
    """`query` narrowed to the tasks of list_tasks's filters; `given`: the stored values (or
    prepared's marks) of those set, by name (now, today, due_before, contact, priority)."""
    by_due = state == "open" and (overdue or "due_before" in given)
    if state == "open" and not by_due:  # open_due_at (by_due) holds open tasks only
        query = query.where(Task.done_at.is_null())
    elif state == "done":
        query = query.where(Task.done_at.is_null(False))
    if overdue:
        query = query.where(overdue_condition(given["now"], given["today"]))
    if "due_before" in given:
        moment = given["due_before"]
        query = query.where(_due_before(moment) if by_due else _effective_before(moment))
    if "contact" in given:
        query = query.where(Task.contact == given["contact"])
    if "priority" in given:
        query = query.where(Task.priority == given["priority"])
    return query


def count_tasks(**filters) -> int:
    """How many tasks list_tasks gives for these filters (all of its but limit and offset)
    without a limit: what a terminal's page of them says it hides."""
    given = _given(**filters)
    state, overdue = filters.get("state", "open"), filters.get("overdue", False)
    return _filtered(Task.select(), state, overdue, given).count()


def _given(
    *,
    state: str = "open",
    overdue: bool = False,
    due_before: datetime | None = None,
    contact_id: int | None = None,
    priority: int | None = None,
    now: datetime | None = None,
) -> dict:
    """The filters of list_tasks that are set, by name, as stored values (see _filtered)."""
    now = now or utcnow()
    if state not in ("open", "done", "all"):
        raise Invalid("state", f"'{state}' must be open, done or all")
    stored = Task.due_at.db_value
    given = {
        "now": stored(now) if overdue else None,
        "today": stored(day_start(now)) if overdue else None,
        "due_before": None if due_before is None else stored(due_before),
        "contact": contact_id,
        "priority": priority,
    }
    return {name: value for name, value in given.items() if value is not None}


def overdue_condition(now, today):
    """Open and past due: a timed task from its time (`now`), one due on a day from the next
    day (`today`, day_start(now)); both datetimes or their stored form. A task due on a day
    and snoozed to a day holds that day's local midnight in snoozed_until: on that day it
    equals `today`, so it is not overdue before the next day (a snooze to an earlier day's
    midnight is before `today` anyway); any other snooze is a time."""
    timed = (Task.due_has_time == True) | (  # noqa: E712
        Task.snoozed_until.is_null(False) & (Task.snoozed_until != today)
    )
    return _due_before(now) & (timed | _due_before(today))


def day_start(now: datetime, days: int = 0) -> datetime:
    """Midnight local time, `days` days from now's date, in UTC."""
    local = now.astimezone(local_tz())
    midnight = datetime.combine(local.date() + timedelta(days=days), datetime.min.time())
    return to_utc(midnight.replace(tzinfo=local_tz()))


# The windows a task list can be cut to: how many days ahead each reaches (its end is that
# many local midnights ahead, so "today" ends tonight and takes every earlier day with it).
DAY_WINDOWS = {"today": 1, "week": 7}


def day_window(now: datetime, which: str | None) -> datetime | None:
    """The end of the "today" or "week" window of due tasks, from `now` (None: no window)."""
    if which is None:
        return None
    if which not in DAY_WINDOWS:
        raise Invalid("window", f"'{which}' is not one of {', '.join(DAY_WINDOWS)}")
    return day_start(now, DAY_WINDOWS[which])


def mark_done_as_imported(task_id: int, done_at: datetime) -> None:
    """Mark a task done at `done_at` and nothing else: an imported task that was done (its
    next occurrence, if it recurs, is a task of the same file)."""
    Task.update(done_at=done_at, open_due_at=None, remind_at=None).where(
        Task.id == task_id
    ).execute()


def complete_task(task_id: int, *, now: datetime | None = None) -> tuple[dict, dict | None]:
    """Mark a task done; a recurring one spawns exactly one next occurrence from its due date."""
    now = now or utcnow()
    with database_proxy.atomic():
        changed = (
            Task.update(done_at=now, updated_at=now, open_due_at=None, remind_at=None)
            .where((Task.id == task_id) & Task.done_at.is_null())
            .execute()
        )
        card = get_task(task_id, now=now)
        if not changed:
            raise Conflict(f"task #{task_id} is done already", action="reopen_task", task=task_id)
        nxt = None
        if card["rrule"]:
            spawned = Task.select(Task.id).where(Task.previous == task_id).scalar()
            # Done, reopened, done again: the next occurrence exists already.
            nxt = get_task(spawned, now=now) if spawned else _spawn(task_id, card, now)
    return card, nxt


def _next_of(task) -> dict | None:
    """The fields of the occurrence that follows `task` in its series (None: it has ended)."""
    start = task.series_start or task.due_at
    due = next_occurrence(
        task.rrule, task.due_at.astimezone(local_tz()), start=start.astimezone(local_tz())
    )
    if due is None:
        return None
    return dict(
        title=task.title, name_key=task.name_key, contact=task.contact_id, due_at=to_utc(due),
        due_has_time=task.due_has_time, rrule=task.rrule, series_start=start,
        priority=task.priority, note=task.note, previous=task.id, deal=task.deal_id,
        snoozed_until=None, done_at=None,
    )  # fmt: skip


def _spawn(task_id: int, card: dict, now: datetime) -> dict | None:
    fields = _next_of(Task.get_by_id(task_id))
    if fields is None:
        return None
    due = fields["due_at"]
    new_id = Task.insert(
        **fields, created_at=now, updated_at=now, open_due_at=due, remind_at=remind_at(due)
    ).execute()
    return get_task(new_id, now=now)


def _worked_on(spawned, parent) -> bool:
    """Whether the occurrence `parent`'s completion spawned was changed since: written again
    (updated_at moved), or not what the spawn wrote (a pinned clock hides the former)."""
    if spawned.updated_at != spawned.created_at:
        return True
    fresh = _next_of(parent)
    return fresh is None or any(spawned.__data__.get(k) != v for k, v in fresh.items())


def reopen_task(task_id: int, *, now: datetime | None = None) -> tuple[dict, dict | None]:
    """Undo `complete_task`: the task is open again, and the next occurrence its completion
    spawned is deleted (returned second), so one occurrence of the series is open.

    A next occurrence that was worked on since (edited, snoozed or done) is neither deleted,
    which would lose that work, nor kept beside the reopened task, which would leave two
    open: Conflict, nothing changed."""
    from crmcli.db import epoch

    now = now or utcnow()
    with database_proxy.atomic():
        task = Task.get_or_none(Task.id == task_id)
        if task is None:
            raise NotFound(f"no task with id {task_id}")
        if task.done_at is None:
            raise Conflict(f"task #{task_id} is not done")
        removed = None
        for spawned in Task.select().where(Task.previous == task_id) if task.rrule else ():
            if _worked_on(spawned, task):
                raise Conflict(
                    f"task #{task_id} has a next occurrence, task #{spawned.id}, that was "
                    f"{'done' if spawned.done_at else 'changed'} since; reopening #{task_id} "
                    f"would leave two open: finish or delete #{spawned.id} first"
                )
            removed = get_task(spawned.id, now=now)
            Task.delete().where(Task.id == spawned.id).execute()
        Task.update(
            done_at=None, updated_at=now, open_due_at=_effective(), remind_at=epoch(_effective())
        ).where(Task.id == task_id).execute()
    return get_task(task_id, now=now), removed


def snooze_task(task_id: int, until: datetime | date, *, now: datetime | None = None) -> dict:
    """Postpone an open task to `until` without moving its series.

    `until` a datetime: that moment. `until` a date (a day named without a time of day:
    `fri`, `+3d`, `in 2 weeks`): the task keeps its time of day on that day (due Friday
    09:00, snoozed `in 2 weeks`: 09:00 then), and a task due on a day stays one due on a day
    (snoozed to that day's local midnight, which `_row` and `overdue_condition` read as a
    day: overdue from the next day, shown without a time)."""
    from crmcli.values import format_date, format_datetime

    now = now or utcnow()
    card = get_task(task_id, now=now)
    if card["done"]:
        raise Conflict(f"task #{task_id} is done; reopen it first")
    due, task_timed = card["effective_due"], has_time(card)
    timed = isinstance(until, datetime) or task_timed  # what the snooze will be
    if not isinstance(until, datetime):
        until = on_day_keeping_time(due, task_timed, until)[0]
    if until <= now if timed else until < day_start(now):  # a day: today will do
        raise Invalid("when", f"snooze to a {'time' if timed else 'day'} in the future")
    if due is not None and until <= due:
        shown = format_datetime(due) if task_timed else format_date(due)
        raise Invalid(
            "when",
            f"task #{task_id} is due {shown} already; snooze postpones",
            action="edit_task_due",
            task=task_id,
        )
    Task.update(
        snoozed_until=until, updated_at=now, open_due_at=until, remind_at=remind_at(until)
    ).where(Task.id == task_id).execute()
    return get_task(task_id, now=now)


def edit_task(task_id: int, changes: dict, *, now: datetime | None = None) -> dict:
    """Change a task; a new due date clears a snooze. A `due_at` that is a date (a day, no
    time of day) keeps the task's time of day, and a task due on a day stays on a day."""
    now = now or utcnow()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid("field", f"tasks have no field {', '.join(sorted(unknown))}")
    task = Task.get_or_none(Task.id == task_id)
    if task is None:
        raise NotFound(f"no task with id {task_id}")
    row: dict = {}
    changes = dict(changes)
    day = changes.get("due_at")
    if isinstance(day, date) and not isinstance(day, datetime):
        timed = bool(task.due_has_time) and task.due_at is not None
        changes["due_at"], changes["due_has_time"] = on_day_keeping_time(task.due_at, timed, day)
    for key, value in changes.items():
        if key == "title":
            title = _title(value)
            row.update(title=title, name_key=fold_variants(title))
        elif key == "contact_id":
            row["contact"] = value
        elif key == "note":
            row["note"] = _note(value)
        else:
            row[key] = value
    if "due_at" in row:
        row["snoozed_until"] = None
        if task.done_at is None:  # a new due time is a new occurrence to remind of
            row.update(open_due_at=row["due_at"], remind_at=remind_at(row["due_at"]))
    merged = {"rrule": task.rrule, "due_at": task.due_at, **row}
    _check(merged)
    if task.deal_id is not None and row.get("contact") is not None:
        _check_party(task.deal_id, row["contact"])
    # A series starts at its first due date: moving the first occurrence moves the series
    # (and where COUNT counts from); moving a later one does not.
    first = task.series_start is None or task.series_start == task.due_at
    if merged["rrule"] and (first or "rrule" in row):
        row["series_start"] = merged["due_at"]
    row["updated_at"] = now
    with _contact_exists(row.get("contact")):
        Task.update(**row).where(Task.id == task_id).execute()
    return get_task(task_id, now=now)


def delete_task(task_id: int) -> dict:
    card = get_task(task_id)
    Task.delete().where(Task.id == task_id).execute()
    return card


def open_tasks_of(contact_id: int, *, now: datetime | None = None) -> list[dict]:
    """A contact's open tasks by due date (the card's list), with a query built once."""
    now = now or utcnow()
    return list(_rows(prepared.run("open_tasks", _open_tasks_of, contact_id), now, day_start(now)))


def open_tasks_query(contact_id: int) -> tuple:
    """open_tasks_of's query as prepared.run takes it (name, build, args)."""
    return ("open_tasks", _open_tasks_of, (contact_id,))


def _open_tasks_of(contact):
    order = (_effective().is_null(), _effective(), Task.priority.desc(), Task.id)
    return _select().where(Task.done_at.is_null() & (Task.contact == contact)).order_by(*order)
