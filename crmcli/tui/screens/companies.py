"""Companies: every company in a table that pages itself in, `/` to search as you type (the
folding prefix search of `crm search`), `s` to change the sort, Enter to open the card."""

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

SORT_CYCLE = ("name", "city", "created", "id")


COLUMNS = (
    Column("name", "Name", 20, lambda r: r["name"] or "", sort="name", flex=True),
    Column("industry", "Industry", 14, lambda r: r["industry"] or "", flex=True, drop=2),
    Column("city", "City", 14, lambda r: r["city"] or "", sort="city", drop=1),
    Column("domain", "Domain", 18, lambda r: r["domain"] or "", flex=True, drop=3),
    Column("phone", "Phone", 16, lambda r: r["phone"] or "", drop=4),
)


class CompaniesScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("escape", "clear", "Clear", show=False),
    ]

    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.sort = "name"
        self.descending = False
        self.ids: list[int] | None = None  # the search's matches, None without a search
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield NavBar("companies")
        yield Input(placeholder="/ search: name, domain, city…", id="search")
        yield PagedTable(COLUMNS, self._fetch, self._count, id="companies")
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

    # -- data ----------------------------------------------------------------------------

    def _sort_spec(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    async def _fetch(self, offset, limit, after, before, total) -> list[dict]:
        from crmcli.services import browse

        return await self.call(
            browse.company_rows, sort=self._sort_spec(), offset=offset, limit=limit,
            after=after, before=before, total=total, ids=self.ids,
        )  # fmt: skip

    async def _count(self) -> int:
        from crmcli.services import browse

        return await self.call(browse.count_companies, ids=self.ids)

    # -- search and sort -----------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.run_worker(self._search(event.value), group="search", exclusive=True)

    async def _search(self, text: str) -> None:
        from crmcli.services import search

        try:
            self.ids = (
                await self.call(search.matching_ids, text, "company") if text.strip() else None
            )
        except Failed:
            return
        await self.table.load()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.table.focus()

    def action_clear(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_focus and box.value:
            box.value = ""
        elif box.has_focus:
            self.table.focus()

    def action_sort(self) -> None:
        self.sort = SORT_CYCLE[(SORT_CYCLE.index(self.sort) + 1) % len(SORT_CYCLE)]
        self.run_worker(self.table.load(), group="reload", exclusive=True)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.run_worker(self.table.load(), group="reload", exclusive=True)

    @on(PagedTable.HeaderClicked)
    def _header(self, event: PagedTable.HeaderClicked) -> None:
        if event.column.sort is None:
            self.notify(f"the table cannot be sorted by {event.column.title.lower()}")
            return
        if event.column.sort == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = event.column.sort, False
        self.run_worker(self.table.load(), group="reload", exclusive=True)

    # -- status and opening --------------------------------------------------------------

    @on(PagedTable.Moved)
    def _moved(self, event: PagedTable.Moved) -> None:
        if event.total:
            where = f"rows {event.first + 1:,}-{event.last:,} of {event.total:,}"
        else:
            where = "no companies match" if self.ids is not None else "no companies"
        parts = [where, f"sorted by {self.sort}{' (descending)' if self.descending else ''}"]
        if self.ids is not None:
            from crmcli.services.search import CANDIDATES

            best = " (the best matches)" if len(self.ids) >= CANDIDATES else ""
            parts.append(f"search '{self.query_text.strip()}'{best}")
        self.query_one("#status", Static).update(" · ".join(parts))

    @on(PagedTable.Selected)
    def _open(self, event: PagedTable.Selected) -> None:
        self.crm.open_company(event.row["id"])
