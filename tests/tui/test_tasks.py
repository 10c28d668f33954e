"""The tasks screen and its forms: add with the form, tick off with space (a recurring task
spawns its next), undo, snooze to a German date, edit, delete after asking, the views, and a
task added by another process."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crmcli.models import Task
from crmcli.services import contacts, tasks
from tests.conftest import NOW
from tests.tui.conftest import drive, settle

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _still(monkeypatch):
    """No animations (the tabs' underline glides 0.3 s a switch): the pilot waits for them."""
    monkeypatch.setattr("textual.constants.TEXTUAL_ANIMATIONS", "none")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def shown(pilot) -> list[str]:
    """The titles in the table, top to bottom."""
    return [item.cells[1] for item in pilot.app.screen.table.items]


async def to_row(pilot, task_id: int) -> None:
    table = pilot.app.screen.table
    table.move_cursor(row=[i.key for i in table.items].index(str(task_id)))
    await settle(pilot)


async def type_into(pilot, selector: str, text: str, *, keys: bool = False) -> None:
    """Click into a field and enter `text`: typed key by key with `keys` (slow), else set
    as a paste would."""
    await pilot.click(selector)
    box = pilot.app.screen.query_one(selector)
    if keys:
        box.value = ""
        await pilot.press(*text)
    else:
        box.value = text
    await settle(pilot, rounds=1)


@pytest.mark.both_backends
def test_a_task_from_the_form_lands_with_its_contact_due_date_and_rule(tui):
    anna = contacts.add_contact("Anna Schäfer", now=NOW)

    async def scenario(pilot):
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        await type_into(pilot, "#field-title", "Wochenbericht")
        await type_into(pilot, "#field-contact", "schäfer")
        await type_into(pilot, "#field-due", "quatsch")
        assert "cannot read" in str(form.query_one("#error-due").render())
        await type_into(pilot, "#field-due", "morgen 9:00")
        await type_into(pilot, "#field-every", "wöchentlich")
        assert str(form.query_one("#error-due").render()) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is not form
        assert "↻ Wochenbericht" in shown(pilot)

    drive(tui("tasks"), scenario)
    [task] = tasks.list_tasks(now=NOW)
    assert (task["title"], task["contact_id"], task["rrule"]) == (
        "Wochenbericht", anna["id"], "FREQ=WEEKLY;INTERVAL=1")  # fmt: skip
    assert (task["due_at"], task["due_has_time"]) == (local(2026, 11, 24, 9), True)


@pytest.mark.both_backends
def test_space_finishes_a_recurring_task_its_next_appears_and_u_undoes(tui):
    weekly = tasks.add_task(
        "Wochenbericht", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    other = tasks.add_task("Angebot", due_at=local(2026, 11, 25))

    async def scenario(pilot):
        await to_row(pilot, weekly["id"])
        await pilot.press("space")
        await settle(pilot)
        nxt = Task.get(Task.previous == weekly["id"])
        assert nxt.due_at == local(2026, 11, 30, 9) and nxt.done_at is None
        assert Task.get_by_id(weekly["id"]).done_at is not None
        keys = [i.key for i in pilot.app.screen.table.items]
        assert str(weekly["id"]) not in keys and str(nxt.id) in keys
        await pilot.press("u")
        await settle(pilot)
        assert Task.get_by_id(weekly["id"]).done_at is None
        assert not Task.select().where(Task.id == nxt.id).exists()

    drive(tui("tasks"), scenario)
    assert Task.get_by_id(other["id"]).done_at is None


@pytest.mark.both_backends
def test_snooze_to_a_german_date_keeps_the_time_of_day(tui):
    task = tasks.add_task("Rückruf", due_at=local(2026, 11, 23, 15), due_has_time=True)

    async def scenario(pilot):
        await to_row(pilot, task["id"])
        await pilot.press("s")
        await settle(pilot)
        await type_into(pilot, "#field-until", "24.12.2026", keys=True)
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "TasksScreen"

    drive(tui("tasks"), scenario)
    card = tasks.get_task(task["id"], now=NOW)
    assert card["snoozed_until"] == local(2026, 12, 24, 15)
    assert card["due_at"] == local(2026, 11, 23, 15)  # the series' date stays


def test_edit_changes_title_due_and_priority(tui):
    task = tasks.add_task("Angebot", due_at=local(2026, 11, 25))

    async def scenario(pilot):
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert form.query_one("#field-due").value == "25.11.2026"
        await type_into(pilot, "#field-title", "Angebot schicken")
        await type_into(pilot, "#field-due", "fr 14:00")
        form.query_one("#field-priority").value = "high"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert shown(pilot) == ["Angebot schicken"]

    drive(tui("tasks"), scenario)
    card = tasks.get_task(task["id"], now=NOW)
    assert (card["title"], card["priority"]) == ("Angebot schicken", "high")
    assert (card["due_at"], card["due_has_time"]) == (local(2026, 11, 27, 14), True)


def test_delete_asks_first(tui):
    task = tasks.add_task("Weg damit")

    async def scenario(pilot):
        await pilot.press("delete")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "Confirm"
        await pilot.press("n")
        await settle(pilot)
        assert Task.select().where(Task.id == task["id"]).exists()
        await pilot.press("delete")
        await settle(pilot)
        await pilot.click("#yes")
        await settle(pilot)
        assert shown(pilot) == []

    drive(tui("tasks"), scenario)
    assert not Task.select().where(Task.id == task["id"]).exists()


def test_the_views_and_enter_opens_the_contact(tui):
    bert = contacts.add_contact("Bert Brandt", now=NOW)
    tasks.add_task("Überfällig", contact_id=bert["id"], due_at=local(2026, 11, 20))
    tasks.add_task("Heute", due_at=local(2026, 11, 23, 16), due_has_time=True)
    tasks.add_task("Freitag", due_at=local(2026, 11, 27))
    tasks.add_task("Januar", due_at=local(2027, 1, 10))
    tasks.add_task("Irgendwann")

    async def scenario(pilot):
        assert shown(pilot) == ["Überfällig", "Heute", "Freitag", "Januar", "Irgendwann"]
        table = pilot.app.screen.table
        assert [i.state for i in table.items[:3]] == ["overdue", "today", ""]
        for key, titles in (
            ("t", ["Überfällig", "Heute"]),
            ("o", ["Überfällig"]),
            ("w", ["Überfällig", "Heute", "Freitag"]),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert shown(pilot) == titles, key
        await pilot.click("#open")  # the tab, with the mouse
        await settle(pilot)
        assert len(shown(pilot)) == 5
        table.focus()
        await pilot.press("home", "enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert type(screen).__name__ == "ContactCard"

    drive(tui("tasks"), scenario)


def test_a_task_added_by_another_process_shows_up(tui, db):
    tasks.add_task("Erste", due_at=local(2026, 11, 24))

    async def scenario(pilot):
        assert shown(pilot) == ["Erste"]
        script = (
            "import sys; from datetime import datetime; from crmcli.db import open_database; "
            "from crmcli.services import tasks; db = open_database(sys.argv[1]); "
            "tasks.add_task('Vom Cron', due_at=datetime.fromisoformat('2026-11-23T08:00+01:00'),"
            " due_has_time=True); db.close()"
        )
        subprocess.run([sys.executable, "-c", script, str(db.database)], check=True)
        await pilot.app.check_changes()
        await settle(pilot)
        assert shown(pilot) == ["Vom Cron", "Erste"]

    drive(tui("tasks"), scenario)


def test_the_form_for_a_contact_has_no_contact_field_and_files_the_task_there(tui):
    anna = contacts.add_contact("Anna Schäfer", now=NOW)

    async def scenario(pilot):
        from crmcli.tui.screens.task_forms import NewTaskForm

        got: list = []
        pilot.app.push_screen(NewTaskForm(contact_id=anna["id"]), got.append)
        await settle(pilot)
        form = pilot.app.screen
        assert not form.query("#field-contact")
        assert form.query_one("#field-title").has_focus  # typing goes to the title at once
        await pilot.press(*"Anruf")
        await type_into(pilot, "#field-due", "24.12.2026")
        await pilot.click("#save")
        await settle(pilot)
        assert got and isinstance(got[0], int)
        assert tasks.get_task(got[0], now=NOW)["contact_id"] == anna["id"]

    drive(tui("tasks"), scenario)
    [task] = tasks.list_tasks(contact_id=anna["id"], now=NOW)
    assert (task["title"], task["due_at"], task["due_has_time"]) == (
        "Anruf", local(2026, 12, 24), False)  # fmt: skip
