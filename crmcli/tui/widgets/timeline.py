"""A contact's or company's timeline, newest first, read a page at a time: the card shows the
first page it read with the card, and the next one is read (by key, on the database thread)
when the cursor or the scroll comes near the end. A history of 5,000 activities opens as
fast as one of ten."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmModal

PAGE = 50  # activities read at a time
WHO = 14  # the width of the company timeline's contact column
NEAR_END = 5  # rows before the end at which the next page is read

# before (occurred_at, id) of the last activity held, or None -> the next page
FetchPage = Callable[[tuple | None], Awaitable[list[dict]]]


def _when(value) -> str:
    from crmcli.output import display

    return display(value)


def _summary(activity: dict) -> str:
    from crmcli.services.views import summary

    return summary(activity)


def _status(activity: dict) -> Text:
    status = activity.get("status") or ""
    return Text(status, style="bold red" if status == "open" else "dim")


class Timeline(DataTable):
    """Activities newest first; `current` is the one under the cursor."""

    DEFAULT_CSS = """
    Timeline { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    class Opened(Message):
        """Enter (or a click on the selected row) on an activity."""

        def __init__(self, timeline: Timeline, activity: dict) -> None:
            super().__init__()
            self.timeline = timeline
            self.activity = activity

    def __init__(self, fetch: FetchPage, *, show_who: bool = False, id: str | None = None):
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._fetch = fetch
        self.show_who = show_who
        self.items: list[dict] = []
        self.total: int | None = 0  # None: not counted (read on until a page comes short)
        self._done = False
        self._drawn_width = 0
        self.pages_read = 0  # pages read since the card's first (tests look at it)
        self._busy = False

    def on_mount(self) -> None:
        self.add_column("When", key="when", width=16)
        self.add_column("Kind", key="kind", width=9)
        self.add_column("Dir", key="dir", width=3)
        if self.show_who:
            self.add_column("Who", key="who", width=WHO)
        self.add_column("Subject / text", key="summary")
        self.add_column("Status", key="status", width=8)

    @property
    def exhausted(self) -> bool:
        return self._done or (self.total is not None and len(self.items) >= self.total)

    @property
    def current(self) -> dict | None:
        if not self.items or not 0 <= self.cursor_row < len(self.items):
            return None
        return self.items[self.cursor_row]

    def show(self, items: list[dict], total: int | None, *, limit: int = PAGE) -> None:
        """The card's (re)read: these activities (at most `limit` were asked for) of `total`
        (None: not counted); the cursor stays on its activity."""
        keep = self.current["id"] if self.current else None
        self.items = list(items)
        self.total = None if total is None else max(total, len(items))
        self._done = len(items) < limit
        self.clear()
        self._add(self.items)
        if keep is not None:
            for row, item in enumerate(self.items):
                if item["id"] == keep:
                    self.move_cursor(row=row, animate=False)
                    break

    def _summary_width(self) -> int:
        """What is left for the text beside the fixed columns (each with its padding) and
        the scrollbar."""
        columns = 6 if self.show_who else 5
        fixed = 16 + 9 + 3 + 8 + (WHO if self.show_who else 0) + 2 * columns + 2
        return max(12, self.size.width - fixed)

    def on_resize(self) -> None:
        if self.items and self._drawn_width != self._summary_width():
            held = len(self.items)  # the same rows, the same end
            self.show(self.items, self.total, limit=held + 1 if self._done else held)

    def _add(self, items: list[dict]) -> None:
        width = self._drawn_width = self._summary_width()
        for a in items:
            cells: list[Any] = [_when(a["occurred_at"]), a["kind"], a.get("direction") or ""]
            if self.show_who:
                cells.append(a.get("contact") or a.get("company") or "")
            text = _summary(a)
            if len(text) > width:
                text = text[: width - 1] + "…"
            cells += [text, _status(a)]
            self.add_row(*cells, key=str(a["id"]))

    async def more(self) -> None:
        """Read the next page, if there is one and none is on its way."""
        if self._busy or self.exhausted or not self.items:
            return
        self._busy = True
        try:
            last = self.items[-1]
            page = await self._fetch((last["occurred_at"], last["id"]))
        except Failed:
            return
        finally:
            self._busy = False
        self.pages_read += 1
        held = {a["id"] for a in self.items}
        page = [a for a in page if a["id"] not in held]
        if len(page) < PAGE:
            self._done = True  # the oldest is in (fewer than counted: some went meanwhile)
        if page:
            self.items += page
            self._add(page)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        """The last activity held; near the end, the next page comes in behind it."""
        if self.items:
            self.move_cursor(row=len(self.items) - 1)

    def _near_end(self) -> bool:
        return bool(self.items) and (
            self.cursor_row >= len(self.items) - NEAR_END
            or 0 < self.max_scroll_y <= self.scroll_y + NEAR_END
        )

    def _maybe_more(self) -> None:
        if not self.exhausted and not self._busy and self._near_end():
            self.run_worker(self.more, group="timeline-more")

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        self._maybe_more()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._maybe_more()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.current is not None:
            self.post_message(self.Opened(self, self.current))


class ActivityView(CrmModal):
    """One activity in full (Enter on the timeline): its text, and how it was resolved."""

    DEFAULT_CSS = """
    ActivityView > VerticalScroll { width: 80%; max-width: 100; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, activity: dict) -> None:
        super().__init__()
        self.activity = activity

    def compose(self) -> ComposeResult:
        from rich.table import Table

        from crmcli.output import display
        from crmcli.values import format_duration

        a = self.activity
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        rows = [
            ("When", display(a["occurred_at"])), ("Contact", display(a.get("contact"))),
            ("Company", display(a.get("company"))), ("Direction", display(a.get("direction"))),
            ("Duration", format_duration(a.get("duration_min"))),
            ("Subject", display(a.get("subject"))), ("Text", display(a.get("body"), newlines=True)),
            ("Outcome", display(a.get("outcome"))), ("Rating", display(a.get("rating"))),
            ("Score", display(a.get("score"))), ("Status", display(a.get("status"))),
            ("Resolved", display(a.get("resolved_at"))),
            ("Resolved by", display(a.get("resolved_by"))),
            ("Resolution", display(a.get("resolution"))), ("Owner", display(a.get("owner"))),
        ]  # fmt: skip
        for label, value in rows:
            if value:
                grid.add_row(label, value)
        with VerticalScroll():
            yield Static(f"{a['kind']} #{a['id']}", classes="title")
            yield Static(grid)

    def action_close(self) -> None:
        self.dismiss(None)
