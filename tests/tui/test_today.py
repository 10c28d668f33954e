"""The Today screen: overdue and today's tasks, an open complaint, a contact due for a call,
a deal closing this week and a birthday; nothing marked as reminded; Enter opens, space
ticks a task off; another process's task shows up."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmcli.models import Contact, ReminderLog, Task
from crmcli.services import activities, contacts, deals, reminders, tasks
from tests.conftest import NOW
from tests.tui.conftest import drive, settle

BERLIN = ZoneInfo("Europe/Berlin")
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _still(monkeypatch):
    """No animations (the tabs' underline glides 0.3 s a switch): the pilot waits for them."""
    monkeypatch.setattr("textual.constants.TEXTUAL_ANIMATIONS", "none")


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


def lines(pilot) -> dict[str, list[tuple[str, str, str]]]:
    """Each section's items as (key, what, state)."""
    return {
        title: [(i.key, i.cells[1], i.state) for i in items]
        for title, items in pilot.app.screen.day_list.sections
    }


def _day() -> dict:
    anna = contacts.add_contact("Anna Weiß", birthday=date(1980, 11, 23), now=NOW)
    karl = contacts.add_contact("Karl Krause", cadence_days=14, now=NOW - 20 * DAY)
    bert = contacts.add_contact("Bert Brandt", now=NOW)
    late = tasks.add_task("Angebot nachfassen", contact_id=bert["id"], due_at=local(2026, 11, 20))
    today = tasks.add_task(
        "Rückruf", contact_id=anna["id"], due_at=local(2026, 11, 23, 15), due_has_time=True
    )
    tasks.add_task("Nächste Woche", due_at=local(2026, 11, 30, 9), due_has_time=True)
    complaint = activities.log_activity(
        "complaint", contact_id=bert["id"], subject="Kratzer im Lack",
        occurred_at=NOW - 10 * DAY, now=NOW,
    )  # fmt: skip
    deal = deals.add_deal(
        "Dachsanierung", contact_id=bert["id"], amount_cents=1_234_50,
        expected_close=date(2026, 11, 27), now=NOW,
    )  # fmt: skip
    deals.add_deal("Später", contact_id=bert["id"], expected_close=date(2027, 2, 1), now=NOW)
    return dict(anna=anna, karl=karl, bert=bert, late=late, today=today, complaint=complaint,
                deal=deal)  # fmt: skip


@pytest.mark.both_backends
def test_today_shows_the_day_and_marks_nothing_as_reminded(tui):
    d = _day()
    before = queues()

    async def scenario(pilot):
        got = lines(pilot)
        assert got["Tasks overdue and due today"] == [
            (f"task:{d['late']['id']}", "Angebot nachfassen", "overdue"),
            (f"task:{d['today']['id']}", "Rückruf", "today"),
        ]
        [(key, what, state)] = got["Open inquiries, complaints, returns (oldest first)"]
        assert key == f"open:{d['complaint']['id']}:{d['bert']['id']}"
        assert what == "open complaint: Kratzer im Lack" and state == "overdue"
        [(key, what, _)] = got["Due for a call (stay in touch)"]
        assert key == f"contact:{d['karl']['id']}" and "every 14 days" in what
        [(key, what, _)] = got["Deals closing this week"]
        assert key == f"deal:{d['deal']['id']}" and "Dachsanierung" in what and "1.234,50" in what
        [(key, what, state)] = got["Birthdays"]
        assert (key, what, state) == (f"contact:{d['anna']['id']}", "Anna Weiß turns 46", "today")
        await pilot.app.check_changes()  # a poll and a read again mark nothing either
        await settle(pilot)
        assert queues() == before

    drive(tui("today"), scenario)
    assert queues() == before
    printed = {(i["kind"], i["id"]) for i in reminders.remind(NOW)}
    assert {("task", d["late"]["id"]), ("birthday", d["anna"]["id"])} <= printed
    assert ("cadence", d["karl"]["id"]) in printed


def test_enter_opens_the_item_and_space_ticks_a_task_off(tui):
    d = _day()

    async def scenario(pilot):
        screen = pilot.app.screen
        day_list = screen.day_list
        assert screen.day_list.current_key == f"task:{d['late']['id']}"  # headers are skipped
        await pilot.press("space")
        await settle(pilot)
        assert Task.get_by_id(d["late"]["id"]).done_at is not None
        assert day_list.current_key == f"task:{d['today']['id']}"
        await pilot.press("u")  # undone: open again, back on the list
        await settle(pilot)
        assert Task.get_by_id(d["late"]["id"]).done_at is None
        assert f"task:{d['late']['id']}" in [o.id for o in day_list.options]
        assert day_list.current_key == f"task:{d['today']['id']}"
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ContactCard"
        card = pilot.app.screen
        assert d["anna"]["id"] in (
            getattr(card, "contact_id", None),
            getattr(card, "item_id", None),
        )
        pilot.app.pop_screen()
        await settle(pilot)
        day_list.highlighted = day_list.get_option_index(f"deal:{d['deal']['id']}")
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "DealCard"

    drive(tui("today"), scenario)
    assert Task.get_by_id(d["today"]["id"]).done_at is None
    assert Task.get_by_id(d["late"]["id"]).done_at is None


def test_a_task_added_by_another_process_shows_up_today(tui, db):
    async def scenario(pilot):
        assert lines(pilot)["Tasks overdue and due today"] == []
        script = (
            "import sys; from datetime import datetime; from crmcli.db import open_database; "
            "from crmcli.services import tasks; db = open_database(sys.argv[1]); "
            "tasks.add_task('Vom Cron', due_at=datetime.fromisoformat('2026-11-23T08:00+01:00'),"
            " due_has_time=True); db.close()"
        )
        subprocess.run([sys.executable, "-c", script, str(db.database)], check=True)
        await pilot.app.check_changes()
        await settle(pilot)
        [(_, what, state)] = lines(pilot)["Tasks overdue and due today"]
        assert (what, state) == ("Vom Cron", "overdue")

    drive(tui("today"), scenario)
