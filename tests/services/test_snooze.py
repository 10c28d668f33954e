"""snooze_task with a day (a date): the task keeps its time of day; a task due on a day
stays due on a day, overdue from the day after its snooze, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from crmcli.errors import Invalid
from crmcli.services import reminders, tasks
from tests.conftest import NOW

BERLIN = ZoneInfo("Europe/Berlin")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def overdue_at(task_id: int, now: datetime) -> tuple[bool, bool]:
    flag = tasks.get_task(task_id, now=now)["overdue"]
    listed = task_id in [t["id"] for t in tasks.list_tasks(overdue=True, now=now)]
    return flag, listed


def test_a_timed_task_keeps_its_time(db):
    task = tasks.add_task("Rückruf", due_at=local(2026, 11, 27, 9, 15), due_has_time=True)
    card = tasks.snooze_task(task["id"], date(2026, 12, 7), now=NOW)
    assert card["snoozed_until"] == local(2026, 12, 7, 9, 15)
    assert tasks.has_time(card) is True


def test_a_day_task_snoozed_to_a_day_stays_a_day(db):
    task = tasks.add_task("Karte", due_at=local(2026, 11, 20), due_has_time=False)
    card = tasks.snooze_task(task["id"], date(2026, 11, 27), now=NOW)
    assert card["snoozed_until"] == local(2026, 11, 27)
    assert tasks.has_time(card) is False
    assert overdue_at(task["id"], NOW) == (False, False)
    assert overdue_at(task["id"], local(2026, 11, 27, 23, 59)) == (False, False)
    assert overdue_at(task["id"], local(2026, 11, 28, 0, 1)) == (True, True)
    items = reminders.due_tasks(local(2026, 11, 27, 8), local(2026, 11, 28))
    assert [i["has_time"] for i in items] == [False]


def test_a_day_task_snoozed_to_a_time_is_timed(db):
    task = tasks.add_task("Karte", due_at=local(2026, 11, 20), due_has_time=False)
    card = tasks.snooze_task(task["id"], local(2026, 11, 24, 15), now=NOW)
    assert tasks.has_time(card) is True
    assert overdue_at(task["id"], local(2026, 11, 24, 15, 1)) == (True, True)


def test_a_day_in_the_past_is_refused(db):
    task = tasks.add_task("Karte", due_at=local(2026, 11, 20), due_has_time=False)
    with pytest.raises(Invalid, match="snooze to a day in the future"):
        tasks.snooze_task(task["id"], date(2026, 11, 22), now=NOW)
    assert tasks.snooze_task(task["id"], date(2026, 11, 23), now=NOW)["overdue"] is False


def test_edit_task_given_a_day_keeps_the_time_in_the_service(db):
    """The rule lives in tasks.edit_task, so a TUI or script gets it too."""
    task = tasks.add_task("Anruf", due_at=local(2026, 11, 27, 9), due_has_time=True)
    card = tasks.edit_task(task["id"], {"due_at": date(2026, 12, 4)}, now=NOW)
    assert card["due_at"] == local(2026, 12, 4, 9) and card["due_has_time"] is True
    day_task = tasks.add_task("Karte", due_at=local(2026, 11, 27), due_has_time=False)
    card = tasks.edit_task(day_task["id"], {"due_at": date(2026, 12, 4)}, now=NOW)
    assert card["due_has_time"] is False
