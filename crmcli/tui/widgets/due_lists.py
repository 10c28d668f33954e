"""Lists of things that fall due (the Today and Tasks screens): overdue rows in the theme's
error colour, today's highlighted, dates worded relative to today ("today 15:00").

`DayList` is a list in sections (a header line with a count, then its items; the cursor skips
the headers); `TaskTable` a table whose columns share the width, the widest flexible.
Both redraw their lines on a resize, so nothing is cut off at 80 columns or wasted at 200.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

STATES = ("overdue", "today")
# The widest a text column gets: on a wide screen the contact stays near what it belongs to.
MAX_TEXT = 90


def local_day(moment: datetime | date) -> date:
    from crmcli.values import local_tz, to_utc

    if isinstance(moment, datetime):
        return to_utc(moment).astimezone(local_tz()).date()
    return moment


def when_text(moment: datetime | date | None, has_time: bool, now: datetime) -> str:
    """A due date as read at a glance: `today 15:00`, `tomorrow`, `Fr 27.11.`, `3.2.2027`."""
    from crmcli.values import local_tz, to_utc

    if moment is None:
        return ""
    day, today = local_day(moment), local_day(now)
    clock = ""
    if has_time and isinstance(moment, datetime):
        clock = " " + to_utc(moment).astimezone(local_tz()).strftime("%H:%M")
    names = {today: "today", today + timedelta(days=1): "tomorrow"}
    names[today - timedelta(days=1)] = "yesterday"
    if day in names:
        return names[day] + clock
    weekday = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")[day.weekday()]
    if day.year == today.year:
        return f"{weekday} {day.day:02d}.{day.month:02d}.{clock}"
    return f"{day.day:02d}.{day.month:02d}.{day.year}{clock}"


def due_state(overdue: bool, moment: datetime | date | None, now: datetime) -> str:
    """ "overdue", "today" (due later today) or ""."""
    if overdue:
        return "overdue"
    if moment is not None and local_day(moment) <= local_day(now):
        return "today"
    return ""


def day_text(moment: datetime | date) -> str:
    """A day as German users write it: 07.10.2026."""
    day = local_day(moment)
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class Item(NamedTuple):
    key: str  # "task:12", "contact:3", "deal:7"
    cells: tuple[str, ...]
    state: str = ""


class DayList(OptionList):
    """Sections of items in columns: `show([(title, [Item, ...]), ...])`. The first column
    is `widths[0]` cells, the last `widths[-1]` (it goes on a narrow screen), the middle one
    takes the rest."""

    DEFAULT_CSS = """
    DayList { height: 1fr; border: none; padding: 0; }
    DayList:focus { border: none; }
    DayList > .option-list--option-disabled { color: $text; text-style: bold; }
    DayList > .day-list--overdue { color: $error; }
    DayList > .day-list--today { color: $warning; text-style: bold; }
    DayList > .day-list--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "day-list--overdue", "day-list--today", "day-list--muted",
    }  # fmt: skip

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open")]

    def __init__(self, widths: Sequence[int], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.widths = tuple(widths)
        self.sections: list[tuple[str, list[Item]]] = []

    def show(self, sections: list[tuple[str, list[Item]]]) -> None:
        """Draw these sections, keeping the cursor on the same item when it is still there."""
        self.sections = sections
        self._draw()

    @property
    def current_key(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None and not option.disabled else None

    def _draw(self) -> None:
        keep = self.current_key
        before = self.highlighted
        width = max(self.scrollable_content_region.width - 1, 20)
        first, last = self.widths[0], self.widths[-1]
        if width < first + last + 30:
            last = 0  # a narrow screen: the contact column goes first
        elif width >= 120:
            last = max(last, 32)  # a wide one: whole names
        middle = min(width - first - last - (2 if last else 1), MAX_TEXT)
        options: list[Option] = []
        for title, items in self.sections:
            options.append(Option(Text(f"{title} ({len(items)})"), id=None, disabled=True))
            for item in items:
                options.append(Option(self._line(item, first, middle, last), id=item.key))
            if not items:
                options.append(Option(Text("  nothing", style="dim"), disabled=True))
        self.set_options(options)
        keys = [o.id for o in options]
        if keep is not None and keep in keys:
            self.highlighted = keys.index(keep)
        else:
            self._land(min(before or 0, len(options) - 1) if options else None)

    def _line(self, item: Item, first: int, middle: int, last: int) -> Text:
        style = (
            self.get_component_rich_style(f"day-list--{item.state}", partial=True)
            if item.state in (*STATES, "muted")
            else None
        )
        when, what, *rest = item.cells
        text = Text(" " + fit(when, first - 1) + " ", style=style or "")
        text.append(fit(what, middle), style=style or "")
        if last:
            text.append(" " + fit(rest[0] if rest else "", last), style="")
        return text

    def _land(self, index: int | None) -> None:
        """The cursor on the first item at or after `index` (headers are skipped)."""
        if index is None:
            return
        for i in [*range(index, self.option_count), *range(index - 1, -1, -1)]:
            if not self.get_option_at_index(i).disabled:
                self.highlighted = i
                return

    def on_resize(self) -> None:
        if self.sections:
            self._draw()


class TaskTable(DataTable):
    """A table of rows with a state each: `show(rows)`; the cursor stays on the same key.
    Columns are (title, width[, width on a wide screen]); a width of 0 takes the room the
    others leave (at most MAX_TEXT)."""

    DEFAULT_CSS = """
    TaskTable { height: 1fr; scrollbar-gutter: stable; }
    TaskTable > .task-table--overdue { color: $error; }
    TaskTable > .task-table--today { color: $warning; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open")]
    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "task-table--overdue", "task-table--today",
    }  # fmt: skip

    def __init__(self, columns: Sequence[tuple], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.spec = list(columns)
        self.items: list[Item] = []
        self._width = 0

    def show(self, items: list[Item]) -> None:
        self.items = items
        self._draw()

    @property
    def current_key(self) -> str | None:
        if not self.items or self.cursor_row >= len(self.items):
            return None
        return self.items[self.cursor_row].key

    def _draw(self) -> None:
        keep, row = self.current_key, self.cursor_row
        width = max(self.scrollable_content_region.width, 40)
        self._width = width
        # A column's width, or on a wide screen (140+) its wider one: whole names.
        widths = [c[2] if len(c) > 2 and width >= 140 else c[1] for c in self.spec]
        pad = 2 * len(self.spec) + 1
        flex = min(max(width - sum(widths) - pad, 12), MAX_TEXT)
        widths = [w or flex for w in widths]
        self.clear(columns=True)
        for (title, *_), w in zip(self.spec, widths, strict=True):
            self.add_column(title, width=w)
        for item in self.items:
            style = (
                self.get_component_rich_style(f"task-table--{item.state}", partial=True)
                if item.state in STATES
                else None
            )
            cells = [
                Text(fit(cell, w).rstrip(), style=style or "", no_wrap=True)
                for cell, w in zip(item.cells, widths, strict=True)
            ]
            self.add_row(*cells, key=item.key)
        keys = [i.key for i in self.items]
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False)
        elif self.items:
            self.move_cursor(row=min(row, len(self.items) - 1), animate=False)

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._draw()
