"""Reminders called directly: once per occurrence, birthdays, open issues, cadences, context."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from peewee import SqliteDatabase
from playhouse.test_utils import count_queries

from crmcli.models import ReminderLog
from crmcli.services import activities, contacts, reminders, tags, tasks
from tests.conftest import NOW

BERLIN = ZoneInfo("Europe/Berlin")
DAY = timedelta(days=1)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def summary(items: list[dict]) -> list[tuple]:
    return [(i["kind"], i["contact"] or i["text"], i["due"].astimezone(BERLIN)) for i in items]


# ---------------------------------------------------------------- once per occurrence


def test_remind_returns_each_occurrence_once(db):
    late = tasks.add_task("Überfällig", due_at=local(2026, 11, 20), due_has_time=False)
    soon = tasks.add_task("Rückruf", due_at=local(2026, 11, 23, 11), due_has_time=True)
    tasks.add_task("Nächste Woche", due_at=local(2026, 11, 30, 9), due_has_time=True)
    tasks.add_task("Ohne Datum")
    first = reminders.remind(NOW)
    assert [(i["id"], i["overdue"], i["has_time"]) for i in first] == [
        (late["id"], True, False), (soon["id"], False, True),
    ]  # fmt: skip
    assert first[1]["key"] == "task:2:1795428000"  # 2026-11-23 10:00 UTC in Unix seconds
    assert reminders.remind(NOW) == []
    assert reminders.remind(NOW + timedelta(hours=1)) == []
    assert ReminderLog.select().count() == 2


def test_everything_returns_all_and_marks_nothing(db):
    tasks.add_task("a", due_at=local(2026, 11, 23, 9), due_has_time=True)
    tasks.add_task("b", due_at=local(2026, 11, 23, 12), due_has_time=True)
    everything = reminders.remind(NOW, everything=True)
    assert [i["text"] for i in everything] == ["a", "b"]
    assert ReminderLog.select().count() == 0
    assert reminders.remind(NOW, everything=True) == everything
    assert reminders.remind(NOW) == everything
    assert reminders.remind(NOW) == []
    assert reminders.remind(NOW, everything=True) == everything


def test_a_snoozed_or_next_occurrence_is_reminded_again(db):
    task = tasks.add_task(
        "Jour fixe", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    assert len(reminders.remind(NOW)) == 1
    tasks.snooze_task(task["id"], local(2026, 11, 25, 15), now=NOW)
    assert reminders.remind(NOW) == []  # not due within the next day any more
    again = reminders.remind(local(2026, 11, 24, 16))
    assert [(i["id"], i["due"]) for i in again] == [(task["id"], local(2026, 11, 25, 15))]
    assert reminders.remind(local(2026, 11, 24, 16)) == []
    _, nxt = tasks.complete_task(task["id"], now=NOW)
    assert reminders.remind(NOW, within=3 * DAY) == []  # the next one is on the 30th
    assert [i["id"] for i in reminders.remind(local(2026, 11, 29, 10))] == [nxt["id"]]


def test_a_look_ahead_shows_what_is_coming_and_swallows_no_reminder(db):
    """`crm remind --within 30d`, a look at the month ahead, marks only what a run without it
    marks (due within a day); the rest is shown and reminded again in its day."""
    task = tasks.add_task("Angebot", due_at=local(2026, 12, 3, 9), due_has_time=True)["id"]
    anna = contacts.add_contact("Anna", birthday=date(1980, 12, 5), now=NOW)["id"]
    karl = contacts.add_contact("Karl", cadence_days=14, now=NOW - 7 * DAY)["id"]  # due 30.11.
    soon = tasks.add_task("Heute", due_at=local(2026, 11, 23, 15), due_has_time=True)["id"]
    ahead = reminders.remind(NOW, within=30 * DAY)
    assert [(i["kind"], i["id"], i["ahead"]) for i in ahead] == [
        ("task", soon, False), ("cadence", karl, True), ("task", task, True),
        ("birthday", anna, True),
    ]  # fmt: skip
    assert keys(reminders.remind(NOW, within=30 * DAY)) == keys(ahead[1:])  # shown again
    assert reminders.remind(NOW) == []  # nothing else falls due today
    # The day each falls due, the cron run (a day ahead) prints it, once.
    for at, key in [
        (local(2026, 11, 29, 11), f"cadence:{karl}:"),
        (local(2026, 12, 2, 10), f"task:{task}:"),
        (local(2026, 12, 4, 8), f"birthday:{anna}:2026"),
    ]:
        printed = reminders.remind(at)
        assert len(printed) == 1 and printed[0]["key"].startswith(key), at
        assert printed[0]["ahead"] is False
        assert reminders.remind(at) == []
        assert not [k for k in keys(reminders.remind(at, within=30 * DAY)) if k.startswith(key)]
    assert queues_empty()


def test_a_shorter_within_marks_only_its_window(db):
    tasks.add_task("In 6 Stunden", due_at=NOW + timedelta(hours=6), due_has_time=True)
    assert reminders.remind(NOW, within=timedelta(hours=2)) == []
    assert len(reminders.remind(NOW, within=timedelta(hours=7))) == 1
    assert reminders.remind(NOW) == []


def test_a_second_run_waits_for_the_first_and_prints_nothing_twice(db, monkeypatch):
    """Cron overlapping itself, made deterministic: run A is held inside its transaction
    (after reading and marking, before committing); run B, started meanwhile, may look at
    the queues without the lock (a run with nothing to print takes none), but must wait for
    the lock before its locked read, then finds every item taken."""
    for i in range(20):
        tasks.add_task(f"Aufgabe {i}", due_at=NOW, due_has_time=True)
    a_inside, release = threading.Event(), threading.Event()
    readers: list[str] = []
    pending, drop = reminders._pending, reminders._drop_reminded

    def tracked_pending(*args):
        if db.in_transaction():  # the locked read; the look before it takes no lock
            readers.append(threading.current_thread().name)
        return pending(*args)

    def held_drop(items):
        if threading.current_thread().name == "A":
            a_inside.set()
            assert release.wait(30)
        return drop(items)

    monkeypatch.setattr(reminders, "_pending", tracked_pending)
    monkeypatch.setattr(reminders, "_drop_reminded", held_drop)
    results: dict[str, list] = {}

    def run() -> None:
        try:
            results[threading.current_thread().name] = keys(reminders.remind(NOW))
        finally:
            db.close()  # this thread's connection

    a = threading.Thread(target=run, name="A")
    a.start()
    assert a_inside.wait(30)
    b = threading.Thread(target=run, name="B")
    b.start()
    try:
        time.sleep(0.5)  # time enough for B to read, if it could: it must not
        assert b.is_alive() and readers == ["A"]
    finally:
        release.set()
        a.join(30)
        b.join(30)
    assert readers == ["A", "B"]
    assert len(results["A"]) == 20 and results["B"] == []
    assert ReminderLog.select().count() == 20


def test_a_done_task_is_not_reminded(db):
    task = tasks.add_task("Erledigt", due_at=local(2026, 11, 22), due_has_time=False)
    tasks.complete_task(task["id"], now=NOW)
    assert reminders.remind(NOW, everything=True) == []


def test_due_items_come_soonest_first(db):
    anna = contacts.add_contact("Anna Weiß", birthday=date(1980, 11, 24), now=NOW)["id"]
    activities.log_activity(
        "complaint", contact_id=anna, subject="Rechnung", occurred_at=NOW - 5 * DAY, now=NOW
    )
    tasks.add_task("Später", due_at=local(2026, 11, 24, 9), due_has_time=True)
    tasks.add_task("Früher", due_at=local(2026, 11, 21, 9), due_has_time=True)
    items = reminders.due_items(NOW, DAY)
    assert summary(items) == [
        ("task", "Früher", local(2026, 11, 21, 9)),
        ("complaint", "Anna Weiß", local(2026, 11, 21, 10)),  # logged 18.11. + 3 days
        ("birthday", "Anna Weiß", local(2026, 11, 24)),
        ("task", "Später", local(2026, 11, 24, 9)),
    ]


# ---------------------------------------------------------------- birthdays


def test_birthdays_in_the_window_across_new_year(db):
    for name, born in [
        ("Gestern", date(1990, 12, 27)),
        ("Heute", date(1990, 12, 28)),
        ("Neujahr", date(1990, 1, 2)),
        ("Letzter Tag", date(1990, 1, 4)),
        ("Zu spät", date(1990, 1, 5)),
        ("Ohne Jahr", date(1900, 12, 30)),
    ]:
        contacts.add_contact(name, birthday=born, now=NOW)
    now = local(2026, 12, 28, 10)
    items = reminders.birthdays(now, now + 7 * DAY)
    assert [(i["contact"], i["due"], i["key"].split(":")[2], i["text"]) for i in items] == [
        ("Heute", local(2026, 12, 28), "2026", "Heute turns 36"),
        ("Letzter Tag", local(2027, 1, 4), "2027", "Letzter Tag turns 37"),
        ("Neujahr", local(2027, 1, 2), "2027", "Neujahr turns 37"),
        ("Ohne Jahr", local(2026, 12, 30), "2026", "Ohne Jahr's birthday"),
    ]
    assert {i["overdue"] for i in items} == {False}


def test_born_on_29_february(db):
    leap = contacts.add_contact("Schaltjahr", birthday=date(2000, 2, 29), now=NOW)["id"]
    contacts.add_contact("Achtundzwanzig", birthday=date(2001, 2, 28), now=NOW)
    now = local(2027, 2, 25, 10)  # 2027 has no 29 February: celebrated on the 28th
    items = reminders.birthdays(now, now + 7 * DAY)
    assert [(i["contact"], i["due"], i["text"]) for i in items] == [
        ("Achtundzwanzig", local(2027, 2, 28), "Achtundzwanzig turns 26"),
        ("Schaltjahr", local(2027, 2, 28), "Schaltjahr turns 27"),
    ]
    now = local(2028, 2, 25, 10)  # a leap year: on the day itself, once
    items = reminders.birthdays(now, now + 7 * DAY)
    assert [(i["id"], i["due"]) for i in items if i["id"] == leap] == [(leap, local(2028, 2, 29))]
    on_the_28th = reminders.birthdays(local(2028, 2, 28, 10), local(2028, 2, 28, 11))
    assert [i["contact"] for i in on_the_28th] == ["Achtundzwanzig"]


def test_a_birthday_is_reminded_once_a_year(db):
    contacts.add_contact("Jürgen Müller", birthday=date(1970, 11, 24), now=NOW)
    assert [i["key"] for i in reminders.remind(NOW)] == ["birthday:1:2026"]
    assert reminders.remind(NOW + timedelta(hours=5)) == []
    next_year = reminders.remind(local(2027, 11, 23, 10))
    assert [(i["key"], i["text"]) for i in next_year] == [
        ("birthday:1:2027", "Jürgen Müller turns 57")
    ]


# ---------------------------------------------------------------- open issues


def test_unanswered_respects_open_after(db):
    jm = contacts.add_contact("Jürgen Müller", now=NOW)["id"]
    old = activities.log_activity(
        "complaint", contact_id=jm, subject="Rechnung falsch", occurred_at=NOW - 5 * DAY, now=NOW
    )
    new = activities.log_activity(
        "inquiry", contact_id=jm, body="Preis?", occurred_at=NOW - 12 * timedelta(hours=1), now=NOW
    )
    gone = activities.log_activity(
        "return", contact_id=jm, occurred_at=NOW - 9 * DAY, now=NOW
    )  # fmt: skip
    activities.resolve_activity(gone["id"], now=NOW)
    activities.log_activity("call", contact_id=jm, occurred_at=NOW - 9 * DAY, now=NOW)
    items = reminders.unanswered(NOW)
    assert [(i["id"], i["text"], i["age_days"], i["due"]) for i in items] == [
        (old["id"], "open complaint: Rechnung falsch", 5, NOW - 2 * DAY)
    ]
    items = reminders.unanswered(NOW, timedelta(hours=6))
    assert [(i["id"], i["text"], i["age_days"]) for i in items] == [
        (old["id"], "open complaint: Rechnung falsch", 5),
        (new["id"], "open inquiry: Preis?", 0),
    ]
    assert [i["id"] for i in reminders.remind(NOW, open_after=timedelta(days=6))] == []
    assert [i["id"] for i in reminders.remind(NOW, open_after=timedelta(days=4))] == [old["id"]]


# ---------------------------------------------------------------- stay in touch


def test_the_shorter_of_contact_and_tag_cadence_wins(db):
    created = NOW - 20 * DAY
    both = contacts.add_contact("Beide", cadence_days=30, tags_=["stammkunde"], now=created)
    own = contacts.add_contact("Eigener", cadence_days=10, tags_=["selten"], now=created)
    contacts.add_contact("Ohne", now=created)
    tags.edit_tag("stammkunde", {"cadence_days": 14})
    tags.edit_tag("selten", {"cadence_days": 60})
    items = reminders.cadence_due(NOW, NOW + DAY)
    # Never contacted: the clock runs from when the contact was created.
    assert [(i["id"], i["cadence_days"], i["due"], i["overdue"]) for i in items] == [
        (own["id"], 10, created + 10 * DAY, True),
        (both["id"], 14, created + 14 * DAY, True),
    ]
    # The service hands over data; front ends word "every 10 days; never contacted".
    assert items[0]["text"] == "get in touch with Eigener"
    assert items[0]["last_activity_at"] is None
    # contact 2, counted from its creation (Unix seconds), every 10 days
    assert items[0]["key"] == f"cadence:2:{int(created.timestamp())}:10"


def test_cadence_restarts_with_each_interaction_and_skips_inactive(db):
    created = NOW - 40 * DAY
    anna = contacts.add_contact("Anna Weiß", cadence_days=30, now=created)["id"]
    contacts.add_contact("Ruhend", cadence_days=30, status="inactive", now=created)
    assert [i["id"] for i in reminders.remind(NOW)] == [anna]
    activities.log_activity("call", contact_id=anna, occurred_at=NOW - 2 * DAY, now=NOW)
    assert reminders.cadence_due(NOW, NOW + 27 * DAY) == []
    due = reminders.cadence_due(NOW, NOW + 28 * DAY)
    assert [(i["id"], i["due"], i["last_activity_at"]) for i in due] == [
        (anna, NOW + 28 * DAY, NOW - 2 * DAY)
    ]
    assert due[0]["text"] == "get in touch with Anna Weiß"
    assert due[0]["cadence_days"] == 30
    # A new due date is a new occurrence: reminded again when it comes.
    later = NOW + 28 * DAY
    since = int((NOW - 2 * DAY).timestamp())
    assert [i["key"] for i in reminders.remind(later)] == [f"cadence:1:{since}:30"]
    assert reminders.remind(later) == []


# ---------------------------------------------------------------- the reminder queues
# crm remind reads what it has yet to print from indexed columns that every write keeps; each
# test changes a record the way a user would and checks what the next cron run prints.


def keys(items: list[dict]) -> list[str]:
    return [i["key"] for i in items]


def queues_empty() -> bool:
    from crmcli.models import Activity, Contact, Task

    return not (
        Task.select().where(Task.remind_at.is_null(False)).exists()
        or Activity.select().where(Activity.remind_at.is_null(False)).exists()
        or Contact.select().where(Contact.touch_remind.is_null(False)).exists()
    )


def test_a_run_takes_everything_it_printed_off_the_queues(db):
    fill(3, 0)
    armed_task = tasks.add_task("Später", due_at=NOW + 5 * DAY, due_has_time=True)
    assert len(reminders.remind(NOW)) == 12
    from crmcli.models import Task

    # Only what lies beyond the horizon stays queued; the next run reads nothing else.
    queued = Task.select().where(Task.remind_at.is_null(False))
    assert [t.id for t in queued] == [armed_task["id"]]
    assert reminders.remind(NOW + 3 * DAY) == []
    assert len(reminders.remind(NOW + 5 * DAY)) == 1
    assert queues_empty()


def test_a_tag_cadence_change_reaches_its_people(db):
    created = NOW - 20 * DAY
    vip = contacts.add_contact("Vera Vip", tags_=["vip"], now=created)["id"]
    assert reminders.remind(NOW) == []  # the tag has no cadence yet
    tags.edit_tag("vip", {"cadence_days": 14})
    assert keys(reminders.remind(NOW)) == [f"cadence:{vip}:{int(created.timestamp())}:14"]
    tags.edit_tag("vip", {"cadence_days": 7})  # a shorter cadence is a new occurrence
    assert keys(reminders.remind(NOW)) == [f"cadence:{vip}:{int(created.timestamp())}:7"]
    tags.edit_tag("vip", {"cadence_days": None})
    assert reminders.cadence_due(NOW, NOW + DAY) == []
    tags.edit_tag("vip", {"cadence_days": 7})  # back to one printed before: not again
    assert reminders.remind(NOW) == []
    assert [i["id"] for i in reminders.cadence_due(NOW, NOW + DAY)] == [vip]


def test_untagging_or_deleting_the_tag_ends_its_cadence(db):
    created = NOW - 20 * DAY
    a = contacts.add_contact("Anton", tags_=["vip"], now=created)["id"]
    b = contacts.add_contact("Berta", tags_=["vip"], now=created)["id"]
    tags.edit_tag("vip", {"cadence_days": 14})
    assert [i["id"] for i in reminders.cadence_due(NOW, NOW + DAY)] == [a, b]
    contacts.tag_contact(a, ["vip"], remove=True)
    assert [i["id"] for i in reminders.cadence_due(NOW, NOW + DAY)] == [b]
    contacts.tag_contact(a, ["VIP"])
    assert [i["id"] for i in reminders.cadence_due(NOW, NOW + DAY)] == [a, b]
    tags.delete_tag(tags.resolve_tag("vip"))
    assert reminders.cadence_due(NOW, NOW + DAY) == []
    assert reminders.remind(NOW) == []


def test_status_and_own_cadence_edits_move_the_due_time(db):
    created = NOW - 40 * DAY
    cid = contacts.add_contact("Clara", now=created)["id"]
    contacts.edit_contact(cid, {"cadence_days": 30})
    assert keys(reminders.remind(NOW)) == [f"cadence:{cid}:{int(created.timestamp())}:30"]
    contacts.edit_contact(cid, {"status": "inactive"})
    assert reminders.cadence_due(NOW, NOW + DAY) == []
    contacts.edit_contact(cid, {"status": "customer"})  # the same occurrence: printed already
    assert [i["id"] for i in reminders.cadence_due(NOW, NOW + DAY)] == [cid]
    assert reminders.remind(NOW) == []
    contacts.edit_contact(cid, {"cadence_days": None})
    assert reminders.cadence_due(NOW, NOW + 400 * DAY) == []


def test_deleting_or_moving_the_last_interaction_moves_the_due_time(db):
    created = NOW - 100 * DAY
    cid = contacts.add_contact("Dora", cadence_days=30, now=created)["id"]
    old = activities.log_activity("call", contact_id=cid, occurred_at=NOW - 50 * DAY, now=NOW)
    new = activities.log_activity("call", contact_id=cid, occurred_at=NOW - 5 * DAY, now=NOW)
    assert reminders.cadence_due(NOW, NOW + DAY) == []
    activities.delete_activity(new["id"])  # the call before is the last one again: overdue
    assert [i["due"] for i in reminders.cadence_due(NOW, NOW + DAY)] == [NOW - 20 * DAY]
    activities.edit_activity(old["id"], {"occurred_at": NOW - DAY})
    assert reminders.cadence_due(NOW, NOW + DAY) == []
    assert [i["due"] for i in reminders.cadence_due(NOW, NOW + 29 * DAY)] == [NOW + 29 * DAY]


def test_task_queue_follows_snooze_edit_reopen_and_done(db):
    task = tasks.add_task("Angebot", due_at=NOW - DAY, due_has_time=True)["id"]
    assert keys(reminders.remind(NOW)) == [f"task:{task}:{int((NOW - DAY).timestamp())}"]
    tasks.complete_task(task, now=NOW)
    tasks.reopen_task(task, now=NOW)
    assert reminders.remind(NOW) == []  # the same occurrence again: printed already
    tasks.edit_task(task, {"due_at": NOW + 2 * DAY})
    assert reminders.remind(NOW) == []
    assert keys(reminders.remind(NOW + DAY + timedelta(hours=1))) == [
        f"task:{task}:{int((NOW + 2 * DAY).timestamp())}"
    ]
    tasks.snooze_task(task, NOW + 3 * DAY, now=NOW)
    tasks.complete_task(task, now=NOW)
    assert reminders.remind(NOW + 4 * DAY) == []  # done: nothing to remind of
    assert queues_empty()


def test_open_activity_queue_follows_resolve_reopen_and_time_edits(db):
    cid = contacts.add_contact("Emil")["id"]
    c = activities.log_activity(
        "complaint", contact_id=cid, occurred_at=NOW - DAY, subject="kaputt", now=NOW
    )["id"]
    assert reminders.remind(NOW) == []  # waited one day of three
    activities.edit_activity(c, {"occurred_at": NOW - 5 * DAY})
    assert keys(reminders.remind(NOW)) == [f"open:{c}"]
    activities.resolve_activity(c, now=NOW)
    activities.reopen_activity(c, now=NOW)
    assert keys(reminders.remind(NOW)) == [f"open:{c}"]  # open again: told again
    activities.resolve_activity(c, now=NOW)
    assert reminders.remind(NOW + 10 * DAY) == []
    note = activities.log_activity(
        "note", contact_id=cid, occurred_at=NOW - 9 * DAY, body="Notiz", now=NOW
    )
    activities.edit_activity(note["id"], {"kind": "inquiry"})  # a note that was an inquiry
    assert keys(reminders.remind(NOW)) == [f"open:{note['id']}"]


def test_an_issue_queued_anew_for_later_between_the_queues_two_reads_is_not_due(db, monkeypatch):
    """The open issues' queue is read as ids, then rows: a row another process queued for
    a later time in between (PostgreSQL, READ COMMITTED) is not printed and cleared now."""
    from crmcli.models import Activity
    from crmcli.services import prepared

    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    late = activities.log_activity(
        "complaint", contact_id=cid, occurred_at=NOW - 9 * DAY, body="Kaputt", now=NOW
    )["id"]
    due = activities.log_activity(
        "inquiry", contact_id=cid, occurred_at=NOW - 8 * DAY, body="Frage", now=NOW
    )["id"]
    until = NOW - 7 * DAY
    assert [row["id"] for row, _ in activities.pending_rows(until)] == [late, due]
    run = prepared.run

    def then_requeued(*args, **kwargs):
        ids = list(run(*args, **kwargs))
        Activity.update(remind_at=int((NOW + DAY).timestamp())).where(Activity.id == late).execute()
        return ids

    monkeypatch.setattr(prepared, "run", then_requeued)
    assert [row["id"] for row, _ in activities.pending_rows(until)] == [due]


def test_queue_drift_is_found_and_rebuilt(db):
    from crmcli.models import Activity, Contact, Task

    fill(3, 0)
    reminders.remind(NOW)
    assert reminders.queue_drift() == {"tasks": 0, "activities": 0, "contacts": 0}
    done = tasks.add_task("Erledigt", due_at=NOW + DAY, due_has_time=True)["id"]
    tasks.complete_task(done, now=NOW)
    Task.update(remind_at=123).where(Task.id == done).execute()
    Task.update(open_due_at=None).where(Task.id == 1).execute()
    Activity.update(remind_at=5).where(Activity.id == 1).execute()  # open, but another time
    Contact.update(cadence_eff=1).where(Contact.id == 1).execute()
    assert reminders.queue_drift() == {"tasks": 2, "activities": 1, "contacts": 1}
    reminders.rebuild_queues()
    assert reminders.queue_drift() == {"tasks": 0, "activities": 0, "contacts": 0}
    assert reminders.remind(NOW) == []


def test_rebuilt_queues_print_nothing_twice(db):
    fill(3, 0)
    first = reminders.remind(NOW)
    reminders.rebuild_queues()
    assert not queues_empty()
    assert reminders.remind(NOW) == []
    assert queues_empty()
    assert len(reminders.remind(NOW, everything=True)) == len(first)


# ---------------------------------------------------------------- --brief


def test_brief_adds_last_interaction_and_open_issues(db):
    jm = contacts.add_contact("Jürgen Müller", now=NOW)["id"]
    anna = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    activities.log_activity(
        "call", contact_id=jm, subject="Angebot", occurred_at=NOW - 3 * DAY, now=NOW
    )
    last = activities.log_activity(
        "complaint", contact_id=jm, subject="Lieferung", occurred_at=NOW - DAY, now=NOW
    )
    activities.log_activity("inquiry", contact_id=jm, occurred_at=NOW - 2 * DAY, now=NOW)
    tasks.add_task("Nachfassen", contact_id=jm, due_at=local(2026, 11, 23), due_has_time=False)
    tasks.add_task(
        "Anna anrufen", contact_id=anna, due_at=local(2026, 11, 23, 9), due_has_time=True
    )
    tasks.add_task("Allgemein", due_at=local(2026, 11, 23, 9), due_has_time=True)
    items = {i["text"]: i for i in reminders.remind(NOW, brief=True, open_after=timedelta(days=9))}
    assert items["Nachfassen"]["last_activity"] == {
        "id": last["id"], "kind": "complaint", "subject": "Lieferung", "occurred_at": NOW - DAY,
    }  # fmt: skip
    assert items["Nachfassen"]["open_issues"] == 2
    assert (items["Anna anrufen"]["last_activity"], items["Anna anrufen"]["open_issues"]) == (
        None, 0,
    )  # fmt: skip
    assert (items["Allgemein"]["last_activity"], items["Allgemein"]["open_issues"]) == (None, 0)
    assert "last_activity" not in reminders.remind(NOW, everything=True)[0]


def fill(n: int, start: int) -> None:
    """n contacts, each with a due task, a birthday today, an open complaint and a cadence."""
    for i in range(start, start + n):
        cid = contacts.add_contact(
            f"Kunde {i}", birthday=date(1980, 11, 23), cadence_days=7, now=NOW - 30 * DAY
        )["id"]
        tasks.add_task(f"Aufgabe {i}", contact_id=cid, due_at=NOW, due_has_time=True)
        activities.log_activity(
            "complaint", contact_id=cid, occurred_at=NOW - 10 * DAY, subject=f"Problem {i}", now=NOW
        )


@pytest.mark.parametrize("brief", [True, False])
def test_remind_issues_the_same_few_queries_for_3_or_30_items(db, brief):
    counts = []
    for n, start in ((3, 0), (30, 3)):
        fill(n, start)
        with count_queries() as counter:
            items = reminders.remind(NOW, brief=brief)
        assert len(items) == 4 * n  # the earlier ones were reminded already
        counts.append(counter.count)
    assert counts[0] == counts[1]
    # The setting remind.next_purchase, five queue reads without the lock (is anything
    # new? the open activities' queue is two: its ids, then their rows), the same five under
    # it, one look into the log, four queue clears, one log insert (+2 --brief); PostgreSQL
    # takes its advisory lock with one statement more.
    lock = 0 if isinstance(db, SqliteDatabase) else 1
    assert counts[0] <= (19 if brief else 17) + lock


def test_a_run_with_nothing_new_takes_no_write_lock(db, monkeypatch):
    """The cron steady state neither waits for writers nor holds them up."""
    import crmcli.db

    tasks.add_task("Heute", due_at=NOW, due_has_time=True)
    assert len(reminders.remind(NOW)) == 1

    def no_lock(database):
        raise AssertionError("a run with nothing new took the write lock")

    monkeypatch.setattr(crmcli.db, "exclusive_transaction", no_lock)
    with count_queries() as counter:
        assert reminders.remind(NOW) == []
    assert counter.count <= 5  # the setting remind.next_purchase and the four queues


def test_a_look_ahead_with_nothing_to_mark_takes_no_write_lock(db, monkeypatch):
    """`crm remind --within 30d` when everything in the window is still ahead: shown, not
    marked, and no write lock (it works while another writer holds it, or read-only)."""
    import crmcli.db

    tasks.add_task("In zwei Wochen", due_at=NOW + timedelta(days=14), due_has_time=True)

    def no_lock(database):
        raise AssertionError("a look-ahead with nothing to mark took the write lock")

    monkeypatch.setattr(crmcli.db, "exclusive_transaction", no_lock)
    items = reminders.remind(NOW, within=timedelta(days=30))
    assert [(i["text"], i["ahead"]) for i in items] == [("In zwei Wochen", True)]
    assert reminders.remind(NOW, within=timedelta(days=30)) == items  # nothing was marked


def test_a_long_queue_of_open_issues_is_reminded_whole_and_oldest_first(db, monkeypatch):
    """The open activities' queue is read as ids, then their rows a chunk of ids at a time:
    every queued one comes, once, oldest first, across chunks."""
    monkeypatch.setattr(activities, "QUEUE_CHUNK", 3)
    jm = contacts.add_contact("Jürgen Müller", now=NOW)["id"]
    logged = [
        activities.log_activity(
            "complaint", contact_id=jm, subject=f"Nr. {n}", occurred_at=NOW - (10 - n) * DAY,
            now=NOW,
        )["id"]
        for n in (3, 1, 4, 0, 2, 6, 5)
    ]  # fmt: skip
    activities.resolve_activity(logged[2], now=NOW)  # Nr. 4: no longer open
    items = reminders.remind(NOW)
    assert [i["text"] for i in items] == [f"open complaint: Nr. {n}" for n in (0, 1, 2, 3, 5, 6)]
    assert reminders.remind(NOW) == []
