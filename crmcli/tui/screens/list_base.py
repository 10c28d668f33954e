"""What the contacts and companies screens share: a paged table over every record, `/` to
search as you type (the folding prefix search of `crm search`), `s` to cycle the sort, `S`
to reverse it (or a click on a column's header), a status line ("rows 1-40 of 100,000"),
Enter to open the card. A subclass names its records and reads its rows and count."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.navbar import NavBar
from crmcli.tui.widgets.paged_table import Column, PagedTable


class PagedListScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("escape", "clear", "Clear", show=False),
        Binding("down", "to_table", "To the rows", show=False),  # from the search box
    ]
    MODE = ""  # the app's mode (the NavBar marks it)
    KIND = ""  # contact or company: what a search finds and Enter opens
    PLURAL = ""
    PLACEHOLDER = "/ search"
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    SORT_CYCLE: ClassVar[tuple[str, ...]] = ("name",)

    def __init__(self) -> None:
        super().__init__()
        self.sort = self.SORT_CYCLE[0]
        self.descending = False
        self.ids: list[int] | None = None  # the search's matches, None without a search
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Input(placeholder=self.PLACEHOLDER, id="search")
        yield PagedTable(self.COLUMNS, self._fetch, self._count, id=self.MODE)
        yield Static("", id="status", classes="status")
        yield Footer()

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.seen_generation = self.crm.generation
        self.run_worker(self.table.load(), group="reload", exclusive=True)

    async def reload(self) -> None:
        await self.table.load(keep_position=True)

    def load_again(self) -> None:
        """Read the table again from its first row (a new search, filter or sort)."""
        self.run_worker(self.table.load(), group="reload", exclusive=True)

    # -- what a subclass reads -----------------------------------------------------------

    def sort_spec(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    async def _fetch(self, offset, limit, after, before, total) -> list[dict]:
        raise NotImplementedError

    async def _count(self) -> int:
        raise NotImplementedError

    async def narrow(self, words: str) -> None:
        """Set what the table shows for the search box's `words` (stripped; "" for none)."""
        from crmcli.services import search

        self.ids = await self.call(search.matching_ids, words, self.KIND) if words else None

    def narrowed(self) -> bool:
        return self.ids is not None

    def status_parts(self) -> list[str]:
        """More for the status line (a subclass's filters)."""
        return []

    # -- search and sort -----------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.run_worker(self._search(event.value.strip()), group="search", exclusive=True)

    async def _search(self, words: str) -> None:
        try:
            await self.narrow(words)
        except Failed:
            return
        await self.table.load()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.table.focus()

    def action_clear(self) -> None:
        """Esc: out of the search box to the rows; in the rows, the search is cleared."""
        box = self.query_one("#search", Input)
        if box.has_focus:
            self.table.focus()
        elif box.value:
            box.value = ""

    def action_to_table(self) -> None:
        self.table.focus()

    def action_sort(self) -> None:
        cycle = self.SORT_CYCLE
        self.sort = cycle[(cycle.index(self.sort) + 1) % len(cycle)]
        self.load_again()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.load_again()

    @on(PagedTable.HeaderClicked)
    def _header(self, event: PagedTable.HeaderClicked) -> None:
        if event.column.sort is None:
            self.notify(f"the table cannot be sorted by {event.column.title.lower()}")
            return
        if event.column.sort == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = event.column.sort, False
        self.load_again()

    # -- status and opening --------------------------------------------------------------

    @on(PagedTable.Moved)
    def _moved(self, event: PagedTable.Moved) -> None:
        if event.total:
            where = f"rows {event.first + 1:,}-{event.last:,} of {event.total:,}"
        else:
            where = f"no {self.PLURAL} match" if self.narrowed() else f"no {self.PLURAL}"
        parts = [where, f"by {self.sort}{' (desc.)' if self.descending else ''}"]
        parts += self.status_parts()
        if self.ids is not None:
            from crmcli.services.search import CANDIDATES

            best = " (the best matches)" if len(self.ids) >= CANDIDATES else ""
            parts.append(f"search '{self.query_text.strip()}'{best}")
        self.query_one("#status", Static).update(" · ".join(parts))

    @on(PagedTable.Selected)
    def _open(self, event: PagedTable.Selected) -> None:
        self.crm.open_item(self.KIND, event.row["id"])
