"""Tasks: the open tasks, today's, the overdue ones or this week's (the tabs, or a t o w),
as `crm list tasks` lists them. Space ticks one off (a recurring task spawns its next), `u`
undoes that, `s` snoozes with a date prompt, `n` adds, `e` edits, Delete deletes (asking
first), Enter opens the task's contact. Overdue in red, today's highlighted."""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static, Tab, Tabs

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.due_lists import Item, TaskTable, due_state, when_text
from crmcli.tui.widgets.navbar import NavBar

# view: (tab label, key)
VIEWS = {
    "open": ("a All open", "a"),
    "today": ("t Today", "t"),
    "overdue": ("o Overdue", "o"),
    "week": ("w This week", "w"),
}
# The most tasks a view shows (the rest: narrow the view, or `crm list tasks`).
LIMIT = 500
COLUMNS = (("Due", 16), ("Task", 0), ("Contact", 18, 30), ("Prio", 6))

# The tasks ticked off in this app, last first: what `u` reopens.
_finished: weakref.WeakKeyDictionary[App, list[int]] = weakref.WeakKeyDictionary()


def tasks_in_view(view: str, now: datetime, limit: int) -> list[dict]:
    """The tasks of a view, as `crm list tasks` [--today|--overdue|--week] lists them (runs on
    the database thread)."""
    from crmcli.services import tasks

    window = tasks.day_window(now, view if view in ("today", "week") else None)
    return tasks.list_tasks(overdue=view == "overdue", due_before=window, now=now, limit=limit)


def task_item(t: dict, now: datetime) -> Item:
    from crmcli.services.tasks import has_time

    # The marks go first: a long title is cut at the column's end, they must not be.
    marks = ("↻ " if t["rrule"] else "") + ("(snoozed) " if t["snoozed_until"] else "")
    title = marks + t["title"]
    return Item(
        str(t["id"]),
        (
            when_text(t["effective_due"], has_time(t), now), title, t["contact"] or "",
            "" if t["priority"] == "normal" else t["priority"],
        ),
        due_state(t["overdue"], t["effective_due"], now),
    )  # fmt: skip


def _describe_due(card: dict, now: datetime) -> str:
    from crmcli.services.tasks import has_time

    return when_text(card["effective_due"], has_time(card), now) or "no date"


async def finish(screen: CrmScreen, task_id: int) -> None:
    """Tick a task off; a recurring one's next occurrence is named."""
    from crmcli.services import tasks

    now = screen.crm.now()
    try:
        card, nxt = await screen.call(tasks.complete_task, task_id, now=now)
    except Failed:
        return
    _finished.setdefault(screen.app, []).append(task_id)
    message = f"Done: {card['title']}"
    if nxt is not None:
        message += f"; next: {_describe_due(nxt, now)}"
    elif card["rrule"]:
        message += "; the series has ended"
    screen.notify(message + " (u undoes)")
    screen.crm.wrote()


async def undo(screen: CrmScreen) -> None:
    """Reopen the task ticked off last (its spawned next occurrence goes again)."""
    from crmcli.services import tasks

    stack = _finished.get(screen.app) or []
    if not stack:
        screen.notify("nothing to undo: no task was ticked off here", severity="warning")
        return
    task_id = stack[-1]
    try:
        card, removed = await screen.call(tasks.reopen_task, task_id, now=screen.crm.now())
    except Failed:
        return
    stack.pop()
    extra = f" (its next occurrence, #{removed['id']}, is gone again)" if removed else ""
    screen.notify(f"Reopened: {card['title']}{extra}")
    screen.crm.wrote()


async def snooze(screen: CrmScreen, task_id: int) -> None:
    """Ask until when, and snooze the task."""
    from crmcli.services import tasks
    from crmcli.tui.screens.task_forms import SnoozeDialog

    try:
        card = await screen.call(tasks.get_task, task_id, now=screen.crm.now())
    except Failed:
        return

    def snoozed(result: dict | None) -> None:
        if result is not None:
            screen.crm.wrote()

    screen.app.push_screen(SnoozeDialog(card), snoozed)


class TasksScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"view('{view}')", label[2:], show=False)
            for view, (label, key) in VIEWS.items()
        ),
        Binding("space", "done", "Done"),
        Binding("s", "snooze", "Snooze"),
        Binding("n", "new_task", "New"),
        Binding("e", "edit", "Edit"),
        Binding("delete", "delete", "Delete", key_display="del"),
        Binding("u", "undo", "Undo"),
    ]  # fmt: skip

    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.view = "open"
        self.rows: dict[int, dict] = {}

    def compose(self) -> ComposeResult:
        yield NavBar("tasks")
        yield Tabs(*(Tab(label, id=view) for view, (label, _) in VIEWS.items()), id="views")
        yield TaskTable(COLUMNS, id="tasks")
        yield Static("", id="status", classes="status")
        yield Footer(show_command_palette=False)  # the keys fit 80 columns; ^p still opens it

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    async def reload(self) -> None:
        now = self.crm.now()
        view = self.view
        found = await self.call(tasks_in_view, view, now, LIMIT + 1)
        if view != self.view:
            return  # switched meanwhile: that view's read draws
        more = len(found) > LIMIT
        found = found[:LIMIT]
        self.rows = {t["id"]: t for t in found}
        self.table.show([task_item(t, now) for t in found])
        overdue = sum(1 for t in found if t["overdue"])
        label = VIEWS[view][0][2:].lower()
        shown = f"the first {LIMIT} {label} tasks" if more else f"{len(found)} {label} tasks"
        if not found:
            shown = f"no {label} tasks"
        self.query_one("#status", Static).update(
            f"{shown}" + (f" · {overdue} overdue" if overdue else "") + " · Enter opens the contact"
        )

    # -- views ---------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.query_one(Tabs).active = view  # the tab's activation reads the view

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        view = event.tab.id or "open"
        if view != self.view:
            self.view = view
            self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    # -- the task under the cursor -------------------------------------------------------

    @property
    def current(self) -> dict | None:
        key = self.table.current_key
        return self.rows.get(int(key)) if key else None

    def _need(self) -> dict | None:
        task = self.current
        if task is None:
            self.notify("no task here", severity="warning")
        return task

    def action_done(self) -> None:
        task = self._need()
        if task is not None:
            self.run_worker(finish(self, task["id"]), group="write")

    def action_undo(self) -> None:
        self.run_worker(undo(self), group="write")

    def action_snooze(self) -> None:
        task = self._need()
        if task is not None:
            self.run_worker(snooze(self, task["id"]), group="write")

    def action_new_task(self) -> None:
        from crmcli.tui.screens.task_forms import NewTaskForm

        def added(task_id: int | None) -> None:
            if task_id is not None:
                self.crm.wrote()

        self.app.push_screen(NewTaskForm(), added)

    def action_edit(self) -> None:
        from crmcli.tui.screens.task_forms import EditTaskForm

        task = self._need()
        if task is None:
            return

        def edited(card: dict | None) -> None:
            if card is not None:
                self.crm.wrote()

        self.app.push_screen(EditTaskForm(task), edited)

    def action_delete(self) -> None:
        from crmcli.tui.widgets.form import Confirm

        task = self._need()
        if task is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._delete(task), group="write")

        self.app.push_screen(Confirm(f"Delete task #{task['id']} “{task['title']}”?"), answered)

    async def _delete(self, task: dict) -> None:
        from crmcli.services import tasks

        try:
            await self.call(tasks.delete_task, task["id"])
        except Failed:
            return
        self.notify(f"Deleted task #{task['id']} {task['title']}")
        self.crm.wrote()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        task = self.rows.get(int(event.row_key.value or 0))
        if task is None:
            return
        if task["contact_id"]:
            self.crm.open_contact(task["contact_id"])
        elif task["deal_id"]:
            self.crm.open_deal(task["deal_id"])
        else:
            self.notify(f"task #{task['id']} is for no contact")
