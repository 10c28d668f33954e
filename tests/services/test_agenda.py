"""The day at a glance (Today screen): the facts of `crm remind`, read without marking."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crmcli.models import Contact, ReminderLog, Task
from crmcli.services import activities, agenda, contacts, deals, reminders, tasks
from tests.conftest import NOW

BERLIN = ZoneInfo("Europe/Berlin")
DAY = timedelta(days=1)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def queues() -> tuple:
    """What `crm remind` reads and writes: its log and its queue columns."""
    return (
        ReminderLog.select().count(),
        sorted(Task.select(Task.id, Task.remind_at).tuples()),
        sorted(
            Contact.select(Contact.id, Contact.touch_remind, Contact.birthday_reminded).tuples()
        ),
    )


def test_the_day_has_every_section_and_marks_nothing(db):
    anna = contacts.add_contact("Anna", birthday=date(1980, 11, 23), now=NOW)
    karl = contacts.add_contact("Karl", cadence_days=14, now=NOW - 20 * DAY)
    bert = contacts.add_contact("Bert", now=NOW)
    late = tasks.add_task("Überfällig", contact_id=bert["id"], due_at=local(2026, 11, 20))
    now_ = tasks.add_task("Heute", due_at=local(2026, 11, 23, 15), due_has_time=True)
    tasks.add_task("Morgen", due_at=local(2026, 11, 24, 9), due_has_time=True)
    old = activities.log_activity(
        "complaint", contact_id=bert["id"], subject="Kratzer", occurred_at=NOW - 10 * DAY, now=NOW
    )
    older = activities.log_activity(
        "inquiry", contact_id=anna["id"], subject="Preis", occurred_at=NOW - 20 * DAY, now=NOW
    )
    activities.log_activity("inquiry", contact_id=anna["id"], subject="Neu", now=NOW)
    soon = deals.add_deal("Dach", contact_id=bert["id"], expected_close=date(2026, 11, 27), now=NOW)
    deals.add_deal("Später", contact_id=bert["id"], expected_close=date(2026, 12, 20), now=NOW)
    before = queues()

    day = agenda.today(NOW)

    assert [(t["id"], t["overdue"]) for t in day["tasks"]] == [
        (late["id"], True),
        (now_["id"], False),
    ]
    assert [i["id"] for i in day["open"]] == [older["id"], old["id"]]  # oldest first
    assert [i["id"] for i in day["cadence"]] == [karl["id"]]
    assert [d["id"] for d in day["deals"]] == [soon["id"]]
    assert [b["id"] for b in day["birthdays"]] == [anna["id"]]
    assert queues() == before
    # Unmarked: `crm remind` still prints them all.
    printed = {(i["kind"], i["id"]) for i in reminders.remind(NOW)}
    assert {("task", late["id"]), ("birthday", anna["id"]), ("cadence", karl["id"])} <= printed


def test_a_won_deal_is_not_closing(db):
    bert = contacts.add_contact("Bert", now=NOW)
    deal = deals.add_deal("Dach", contact_id=bert["id"], expected_close=date(2026, 11, 25), now=NOW)
    deals.win_deal(deal["id"], now=NOW)
    assert agenda.today(NOW)["deals"] == []
