"""A table that scrolls through any number of rows and holds only the pages in sight.

Textual's DataTable takes every row into the widget (tens of seconds for 100,000 contacts);
this one draws each visible line itself (the Line API) and fetches the rows it needs a page
at a time through the screen's `fetch`, on the database thread: by key right after or before
a page it holds, else by position (counted from the nearer end by the service). A million
rows scroll in a few pages of memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from crmcli.tui.gateway import Failed

PAGE = 100  # rows fetched at a time
KEEP_PAGES = 24  # pages held; the rest are read again when scrolled back to


class Column(NamedTuple):
    key: str
    title: str
    width: int  # the least it gets; the flexible columns share what is left
    format: Callable[[dict], str]
    sort: str | None = None  # the service's sort name for this column
    flex: bool = False
    right: bool = False
    drop: int = 0  # on a narrow screen the highest go first; 0 never goes


# fetch(offset, limit, after, before, total) -> rows (dicts with "id" and "key")
Fetch = Callable[[int, int, Sequence | None, Sequence | None, int], Awaitable[list[dict]]]


class PagedTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    PagedTable > .paged-table--header { text-style: bold; background: $panel; }
    PagedTable > .paged-table--cursor { background: $accent 40%; text-style: bold; }
    PagedTable:focus > .paged-table--cursor { background: $accent; color: $text; }
    PagedTable > .paged-table--loading { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paged-table--header", "paged-table--cursor", "paged-table--loading",
    }  # fmt: skip
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "select", "Open"),
    ]

    class Selected(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: PagedTable, row: dict) -> None:
            super().__init__()
            self.table = table
            self.row = row

    class Moved(Message):
        """The rows in sight or the cursor changed (for a status line)."""

        def __init__(self, table: PagedTable, first: int, last: int, total: int) -> None:
            super().__init__()
            self.table = table
            self.first, self.last, self.total = first, last, total

    class HeaderClicked(Message):
        def __init__(self, table: PagedTable, column: Column) -> None:
            super().__init__()
            self.table = table
            self.column = column

    def __init__(
        self,
        columns: Sequence[Column],
        fetch: Fetch,
        count: Callable[[], Awaitable[int]],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self._fetch = fetch
        self._count = count
        self.total = 0
        self.cursor = 0
        self.loaded = False  # the first count and page are in
        self.fetching = False  # a load() is under way (its rows are not all in yet)
        self._pages: OrderedDict[int, list[dict]] = OrderedDict()
        self._pending: set[int] = set()
        self._epoch = 0  # a reload makes every page read before it stale
        self._widths: list[int] = []
        self._shown: list[Column] = self.columns
        self._styles: dict[str, Style] = {}
        self._frame: tuple[int, int, int] | None = None  # width, scroll x and y while drawing

    # -- data ----------------------------------------------------------------------------

    async def load(self, *, keep_position: bool = False) -> None:
        """Count and read the rows in sight again (new filters, a sort, or a change)."""
        self._epoch += 1
        epoch = self._epoch
        self.fetching = True
        try:
            total = await self._count()
        except Failed:
            self.fetching = False
            return
        if epoch != self._epoch:
            return
        self._pages.clear()
        self._pending.clear()
        self.total = total
        if not keep_position:
            self.cursor = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        self.cursor = max(0, min(self.cursor, total - 1))
        self.virtual_size = Size(self._width_needed(), total + 1)
        first = self._first_visible()
        pages = {first // PAGE, max(0, first + self._rows_in_sight() - 1) // PAGE}
        for page in sorted(pages):
            await self._load_page(page, epoch)
        if epoch != self._epoch:
            return
        self.loaded = True
        self.fetching = False
        self.refresh()
        self._post_moved()

    def row(self, index: int) -> dict | None:
        page = self._pages.get(index // PAGE)
        if page is None:
            return None
        i = index % PAGE
        return page[i] if i < len(page) else None

    @property
    def current(self) -> dict | None:
        return self.row(self.cursor) if self.total else None

    async def _load_page(self, page: int, epoch: int) -> None:
        if page in self._pages or page in self._pending or page * PAGE >= max(self.total, 1):
            return
        self._pending.add(page)
        try:
            after = before = None
            prev, nxt = self._pages.get(page - 1), self._pages.get(page + 1)
            if prev and len(prev) == PAGE:
                after = prev[-1].get("key")
            elif nxt:
                before = nxt[0].get("key")
            rows = await self._fetch(page * PAGE, PAGE, after, before, self.total)
        except Failed:
            rows = None
        finally:
            self._pending.discard(page)
        if rows is None or epoch != self._epoch:
            return
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > KEEP_PAGES:
            self._pages.popitem(last=False)
        self.refresh()

    def _want(self, index: int) -> None:
        page = index // PAGE
        if page not in self._pages and page not in self._pending:
            self.run_worker(self._load_page(page, self._epoch), group="pages")
        else:
            if page in self._pages:
                self._pages.move_to_end(page)

    # -- drawing -------------------------------------------------------------------------

    def _width_needed(self) -> int:
        return sum(c.width for c in self._shown) + len(self._shown)

    def _layout(self, width: int) -> list[int]:
        """The columns that fit `width` (dropping the most droppable first) and their widths."""
        shown = list(self.columns)
        for column in sorted(self.columns, key=lambda c: -c.drop):
            if sum(c.width + 1 for c in shown) <= width or column.drop == 0:
                break
            shown.remove(column)
        self._shown = shown
        widths = [c.width for c in shown]
        spare = width - sum(widths) - len(widths)
        flex = [i for i, c in enumerate(shown) if c.flex]
        if spare > 0 and flex:
            share, extra = divmod(spare, len(flex))
            for n, i in enumerate(flex):
                widths[i] += share + (1 if n < extra else 0)
        return widths

    def on_resize(self, event: events.Resize) -> None:
        self._widths = self._layout(self.scrollable_content_region.width)
        self.virtual_size = Size(max(self._width_needed(), 1), self.total + 1)
        self._post_moved()

    def _rows_in_sight(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _first_visible(self) -> int:
        return int(self.scroll_offset.y)

    def _line(self, cells: list[str], style: Style, width: int) -> Strip:
        widths = self._widths or self._layout(width)
        parts = []
        for column, text, width in zip(self._shown, cells, widths, strict=False):
            text = " ".join(text.split())
            if cell_len(text) > width:
                text = set_cell_size(text, max(0, width - 1)) + "…"
            elif column.right:
                text = " " * (width - cell_len(text)) + text
            parts.append(set_cell_size(text, width))
        return Strip([Segment(" ".join(parts) + " ", style)])

    def render_lines(self, crop):
        # Styles are looked up once a frame, not once a line (a lookup costs more than
        # drawing the line: ~0.1 ms each, 40 lines a keystroke).
        self._styles = self._look_up_styles()
        self._frame = (
            self.scrollable_content_region.width,
            int(self.scroll_offset.x),
            int(self.scroll_offset.y),
        )
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _look_up_styles(self) -> dict[str, Style]:
        return {
            "base": self.rich_style,
            **{
                name: self.get_component_rich_style(f"paged-table--{name}")
                for name in ("header", "cursor", "loading")
            },
        }

    def render_line(self, y: int) -> Strip:
        width, scroll_x, scroll_y = self._frame or (
            self.scrollable_content_region.width,
            int(self.scroll_offset.x),
            int(self.scroll_offset.y),
        )
        styles = self._styles or self._look_up_styles()
        if y == 0:
            style = styles["header"]
            strip = self._line([c.title for c in self._shown], style, width)
        else:
            index = scroll_y + y - 1
            if index >= self.total:
                return Strip.blank(width, styles["base"])
            row = self.row(index)
            if row is None:
                self._want(index)
                style = styles["loading"]
                strip = Strip([Segment(" …", style)])
            else:
                style = styles["base"]
                if index == self.cursor:
                    style = style + styles["cursor"]
                strip = self._line([c.format(row) for c in self._shown], style, width)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._post_moved()

    def _post_moved(self) -> None:
        first = self._first_visible()
        last = min(self.total, first + self._rows_in_sight())
        self.post_message(self.Moved(self, first, last, self.total))

    # -- moving --------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self.total:
            return
        self.cursor = max(0, min(index, self.total - 1))
        first, sight = self._first_visible(), self._rows_in_sight()
        if self.cursor < first:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= first + sight:
            self.scroll_to(y=self.cursor - sight + 1, animate=False, immediate=True)
        self.refresh()
        self._post_moved()

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        sight = self._rows_in_sight()
        self.scroll_to(y=self._first_visible() + step * sight, animate=False, immediate=True)
        self.move_to(self.cursor + step * sight)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.total - 1)

    def action_select(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x, widths = offset.x + int(self.scroll_offset.x), self._widths
            edge = 0
            for column, width in zip(self._shown, widths, strict=False):
                edge += width + 1
                if x < edge:
                    self.post_message(self.HeaderClicked(self, column))
                    break
            return
        index = self._first_visible() + offset.y - 1
        if index < self.total:
            self.move_to(index)
            if event.chain >= 2:
                self.action_select()

    def state(self) -> dict[str, Any]:
        """What a test looks at: the total, the cursor and the rows in sight."""
        first = self._first_visible()
        rows = [self.row(i) for i in range(first, min(self.total, first + self._rows_in_sight()))]
        return {"total": self.total, "cursor": self.cursor, "first": first, "rows": rows}
