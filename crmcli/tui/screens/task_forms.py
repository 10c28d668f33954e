"""Forms about a task: a new one (for a contact, or any), a snooze, an edit. Dates are read
as the CLI reads them (`morgen`, `24.12.2026`, `+3d`, `next monday 9:00`), recurrence as
`--every` (weekly, monatlich, '2 weeks', RFC 5545 rules)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from crmcli.models import PRIORITIES
from crmcli.tui.widgets.form import Field, FormDialog

DATE_HINT = "morgen, fri 9:00, 24.12.2026, +3d, next monday"
PRIORITY_OPTIONS = [(p, p) for p in PRIORITIES]


def _every(text: str) -> str:
    from crmcli.values import parse_every

    return parse_every(text)


def _due_text(task: dict) -> str:
    """A task's due date as one types it (what the edit form starts with)."""
    from crmcli.values import local_tz, to_utc

    due = task["due_at"]
    if due is None:
        return ""
    local = to_utc(due).astimezone(local_tz())
    return local.strftime("%d.%m.%Y %H:%M" if task["due_has_time"] else "%d.%m.%Y")


class _TaskForm(FormDialog):
    """A form that starts in its first field (typing goes there at once)."""

    def on_mount(self) -> None:
        from textual.widgets import Input

        first = self.query(Input).first(Input) if self.query(Input) else None
        if first is not None:
            first.focus()


def add_task(values: dict, contact_id: int | None, now: datetime) -> dict:
    """`crm add task` with the form's values (on the database thread): the contact REF
    resolved, the priority checked."""
    from crmcli.services import contacts, tasks

    if contact_id is None and values.get("contact"):
        contact_id = contacts.resolve_contact(values["contact"])
    due_at, has_time = values.get("due") or (None, False)
    return tasks.add_task(
        values["title"], contact_id=contact_id, due_at=due_at, due_has_time=has_time,
        rrule=values.get("every"), note=values.get("note"), now=now,
        priority=tasks.check_priority(values.get("priority") or "normal"),
    )  # fmt: skip


class NewTaskForm(_TaskForm):
    """Gives back the new task's id. With `contact_id` the task is that contact's."""

    heading = "New task"

    def __init__(self, contact_id: int | None = None) -> None:
        super().__init__()
        self.contact_id = contact_id

    def _due(self, text: str) -> tuple[datetime, bool]:
        from crmcli.values import parse_when_ex

        return parse_when_ex(text, self.crm.now(), field="due")

    def fields(self) -> list[Field]:
        out = [Field("title", "Title", required=True, placeholder="Angebot nachfassen")]
        if self.contact_id is None:
            out.append(Field("contact", "Contact", placeholder="name, email or #id (optional)"))
        out += [
            Field("due", "Due", parse=self._due, placeholder=DATE_HINT),
            Field("every", "Repeat", parse=_every, placeholder="weekly, monatlich, 2 weeks"),
            Field("priority", "Priority", value="normal", options=PRIORITY_OPTIONS),
            Field("note", "Note"),
        ]
        return out

    async def save(self, values: dict[str, Any]) -> int:
        card = await self.call(add_task, values, self.contact_id, self.crm.now())
        self.notify(f"Added task #{card['id']} {card['title']}")
        return card["id"]


def when_for_task(text: str, now: datetime) -> datetime | date:
    """A WHEN for a snooze or a new due date, read as `crm snooze` reads it: a day without a
    time of day (fri, 24.12., +3d) is a date, on which the task keeps its own time."""
    from crmcli.values import local_tz, parse_when_kind

    moment, names_time = parse_when_kind(text, now, field="when")
    return moment if names_time else moment.astimezone(local_tz()).date()


class SnoozeDialog(_TaskForm):
    """Until when; gives back the snoozed task (its card)."""

    def __init__(self, task: dict) -> None:
        super().__init__()
        self.record = task
        self.heading = f"Snooze task #{task['id']} {task['title']}"

    def _until(self, text: str):
        return when_for_task(text, self.crm.now())

    def fields(self) -> list[Field]:
        return [
            Field(
                "until", "Until (a day keeps the task's time of day)", required=True,
                parse=self._until, placeholder=DATE_HINT,
            )
        ]  # fmt: skip

    async def save(self, values: dict[str, Any]) -> dict:
        from crmcli.services import tasks
        from crmcli.tui.widgets.due_lists import when_text

        now = self.crm.now()
        card = await self.call(tasks.snooze_task, self.record["id"], values["until"], now=now)
        due = when_text(card["effective_due"], tasks.has_time(card), now)
        self.notify(f"Snoozed {card['title']} until {due}")
        return card


def edit_changes(original: dict[str, str], values: dict[str, Any], texts: dict[str, str]) -> dict:
    """The fields the user changed, as tasks.edit_task takes them."""
    changes: dict = {}
    for name, text in texts.items():
        if text.strip() == original.get(name, "").strip():
            continue
        value = values[name]
        if name == "due":
            if value is None:
                changes.update(due_at=None, due_has_time=False)
            elif isinstance(value, datetime):
                changes.update(due_at=value, due_has_time=True)
            else:
                changes["due_at"] = value  # a day: the service keeps the time of day
        elif name == "every":
            changes["rrule"] = value
        elif name == "priority":
            changes["priority"] = PRIORITIES.index(value)
        else:
            changes[name] = value
    return changes


class EditTaskForm(_TaskForm):
    """Title, due, repeat, priority, note; gives back the changed task (its card)."""

    def __init__(self, task: dict) -> None:
        super().__init__()
        self.record = task
        self.heading = f"Edit task #{task['id']}"
        self.original = {
            "title": task["title"], "due": _due_text(task), "every": task["rrule"] or "",
            "priority": task["priority"], "note": task["note"] or "",
        }  # fmt: skip

    def _due(self, text: str):
        return when_for_task(text, self.crm.now())

    def fields(self) -> list[Field]:
        o = self.original
        return [
            Field("title", "Title", o["title"], required=True),
            Field("due", "Due (empty: none)", o["due"], parse=self._due, placeholder=DATE_HINT),
            Field("every", "Repeat (empty: none)", o["every"], parse=_every),
            Field("priority", "Priority", o["priority"], options=PRIORITY_OPTIONS, required=True),
            Field("note", "Note", o["note"]),
        ]

    async def save(self, values: dict[str, Any]) -> dict:
        from crmcli.services import tasks

        texts = {name: self.text_of(name) for name in self.original}
        changes = edit_changes(self.original, values, texts)
        if not changes:
            return self.record
        card = await self.call(tasks.edit_task, self.record["id"], changes, now=self.crm.now())
        self.notify(f"Updated task #{card['id']} {card['title']}")
        return card
