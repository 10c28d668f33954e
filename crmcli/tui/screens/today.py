"""Today, the start screen: overdue and today's tasks, open inquiries/complaints/returns by
age, contacts due for a call, deals closing this week and birthdays: what `crm remind`
knows, read without marking anything as reminded. Enter opens the item (a task's contact,
the contact, the deal); space ticks a task off, `s` snoozes it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, OptionList, Static

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.due_lists import DayList, Item, day_text, due_state, local_day, when_text
from crmcli.tui.widgets.navbar import NavBar


def _money(deal: dict) -> str:
    from crmcli.values import format_money

    if deal["amount"] is None:
        return ""
    return format_money(int(deal["amount"] * 100), deal["currency"] or "EUR")


def _cadence_text(item: dict) -> str:
    """As `crm remind` words it: how often, and the last contact."""
    days = item["cadence_days"]
    every = "every day" if days == 1 else f"every {days} days"
    last = item["last_activity_at"]
    when = f"last contact {day_text(last)}" if last else "never contacted"
    return f"{item['text']} ({every}; {when})"


def sections(day: dict, now) -> list[tuple[str, list[Item]]]:
    """The service's day as the list's sections."""
    tasks = [
        Item(
            f"task:{t['id']}",
            (when_text(t["due"], t["has_time"], now), t["text"], t["contact"] or ""),
            due_state(t["overdue"], t["due"], now),
        )
        for t in day["tasks"]
    ]
    open_ = [
        Item(
            f"open:{a['id']}:{a['contact_id'] or ''}",
            (f"{a['age_days']} days", a["text"], a["contact"] or ""),
            "overdue" if a["age_days"] >= 7 else "",
        )
        for a in day["open"]
    ]
    calls = [
        Item(
            f"contact:{c['id']}",
            (when_text(c["due"], False, now), _cadence_text(c), c["contact"] or ""),
            due_state(local_day(c["due"]) < local_day(now), c["due"], now),
        )
        for c in day["cadence"]
    ]
    deals = [
        Item(
            f"deal:{d['id']}",
            (
                when_text(d["expected_close"], False, now),
                " · ".join(x for x in (d["title"], _money(d), d["stage"]) if x),
                d["contact"] or d["company"] or "",
            ),
            due_state(False, d["expected_close"], now),
        )
        for d in day["deals"]
    ]
    born = [
        Item(
            f"contact:{b['id']}",
            (when_text(b["due"], False, now), b["text"], ""),
            due_state(False, b["due"], now),
        )
        for b in day["birthdays"]
    ]
    return [
        ("Tasks overdue and due today", tasks),
        ("Open inquiries, complaints, returns (oldest first)", open_),
        ("Due for a call (stay in touch)", calls),
        ("Deals closing this week", deals),
        ("Birthdays", born),
    ]


class TodayScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "done", "Done"),
        Binding("s", "snooze", "Snooze"),
        Binding("u", "undo", "Undo"),
        Binding("n", "new_task", "New task"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.day: dict | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("today")
        yield DayList((16, 22), id="day")
        yield Static("", id="status", classes="status")
        yield Footer()

    @property
    def day_list(self) -> DayList:
        return self.query_one(DayList)

    def on_mount(self) -> None:
        self.day_list.focus()
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    async def reload(self) -> None:
        from crmcli.services import agenda

        now = self.crm.now()
        self.day = await self.call(agenda.today, now)
        self.day_list.show(sections(self.day, now))
        counts = {name: len(items) for name, items in self.day.items()}
        overdue = sum(1 for t in self.day["tasks"] if t["overdue"])
        from crmcli.values import plural

        self.query_one("#status", Static).update(
            f"{when_text(now, False, now).capitalize()} {day_text(now)} · "
            f"{plural(counts['tasks'], 'task')}, {overdue} overdue · {counts['open']} open · "
            f"{plural(counts['cadence'], 'call')} · {plural(counts['deals'], 'deal')} · "
            f"{plural(counts['birthdays'], 'birthday')}"
        )

    # -- acting on the item under the cursor -----------------------------------------------

    def _current(self) -> tuple[str, int, list[str]] | None:
        key = self.day_list.current_key
        if not key:
            return None
        kind, item_id, *rest = key.split(":")
        return kind, int(item_id), rest

    def _day_task(self, task_id: int) -> dict | None:
        for t in (self.day or {}).get("tasks", []):
            if t["id"] == task_id:
                return t
        return None

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        current = self._current()
        if current is None:
            return
        kind, item_id, rest = current
        if kind == "task":
            task = self._day_task(item_id)
            if task and task["contact_id"]:
                self.crm.open_contact(task["contact_id"])
            else:
                self.run_worker(self._open_task_deal(item_id), group="open")
        elif kind == "open":
            if rest and rest[0]:
                self.crm.open_contact(int(rest[0]))
            else:
                self.notify("this issue is about a company without a contact")
        elif kind == "contact":
            self.crm.open_contact(item_id)
        elif kind == "deal":
            self.crm.open_deal(item_id)

    async def _open_task_deal(self, task_id: int) -> None:
        from crmcli.services import tasks

        try:
            card = await self.call(tasks.get_task, task_id)
        except Failed:
            return
        if card["deal_id"]:
            self.crm.open_deal(card["deal_id"])
        else:
            self.notify(f"task #{task_id} is for no contact or deal")

    def _task_under_cursor(self) -> int | None:
        current = self._current()
        if current is None or current[0] != "task":
            self.notify("move to a task first", severity="warning")
            return None
        return current[1]

    def action_done(self) -> None:
        task_id = self._task_under_cursor()
        if task_id is not None:
            from crmcli.tui.screens.tasks import finish

            self.run_worker(finish(self, task_id), group="write")

    def action_snooze(self) -> None:
        task_id = self._task_under_cursor()
        if task_id is not None:
            from crmcli.tui.screens.tasks import snooze

            self.run_worker(snooze(self, task_id), group="write")

    def action_undo(self) -> None:
        from crmcli.tui.screens.tasks import undo

        self.run_worker(undo(self), group="write")

    def action_new_task(self) -> None:
        from crmcli.tui.screens.task_forms import NewTaskForm

        def added(task_id: int | None) -> None:
            if task_id is not None:
                self.crm.wrote()

        self.app.push_screen(NewTaskForm(), added)

    def action_refresh(self) -> None:
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)
