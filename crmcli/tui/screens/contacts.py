"""Contacts: every contact in a table that pages itself in (100,000 or 1,000,000 alike),
`/` to search as you type (the folding prefix search of `crm search`), `f` to filter by
tag, status, city and owner, `s` to change the sort, Enter to open the card."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from crmcli.models import CONTACT_STATUSES as STATUSES
from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.form import Field, FormDialog
from crmcli.tui.widgets.navbar import NavBar
from crmcli.tui.widgets.paged_table import Column, PagedTable

SORT_CYCLE = ("name", "city", "status", "created", "updated", "id")


def _date(value) -> str:
    from crmcli.values import format_date

    return format_date(value) if value else ""


COLUMNS = (
    Column("name", "Name", 18, lambda r: r["name"] or "", sort="name", flex=True),
    Column("company", "Company", 14, lambda r: r["company"] or "", flex=True, drop=3),
    Column("email", "Email", 16, lambda r: r["email"] or "", flex=True, drop=4),
    # As it was typed, as `crm list contacts` shows it (the card shows it in E.164 too).
    Column("phone", "Phone", 16, lambda r: r["phone"] or "", drop=5),
    Column("city", "City", 12, lambda r: r["city"] or "", sort="city", drop=2),
    Column("status", "Status", 9, lambda r: r["status"] or "", sort="status", drop=1),
    Column("last", "Last contact", 12, lambda r: _date(r["last_activity_at"]), drop=6),
)


class ContactsScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("f", "filters", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("n", "new_contact", "New"),
        Binding("escape", "clear", "Clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "name"
        self.descending = False
        self.filters: dict = {}
        self.ids: list[int] | None = None  # the search's matches, None without a search
        self.initial: str | None = None  # a one-letter search: names beginning with it
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield NavBar("contacts")
        yield Input(placeholder="/ search: name, email, phone, company, city…", id="search")
        yield PagedTable(COLUMNS, self._fetch, self._count, id="contacts")
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
            browse.contact_rows, sort=self._sort_spec(), offset=offset, limit=limit,
            after=after, before=before, total=total, ids=self.ids, initial=self.initial,
            **self._service_filters(),
        )  # fmt: skip

    async def _count(self) -> int:
        from crmcli.services import browse

        return await self.call(
            browse.count_contacts, ids=self.ids, initial=self.initial, **self._service_filters()
        )

    def _service_filters(self) -> dict:
        f = self.filters
        out: dict = {}
        if f.get("tag"):
            out["tags_"] = [f["tag"]]
        for key in ("status", "city", "owner"):
            if f.get(key):
                out[key] = f[key]
        return out

    # -- search, filters, sort -------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.run_worker(self._search(event.value), group="search", exclusive=True)

    async def _search(self, text: str) -> None:
        from crmcli.services import search

        words = text.strip()
        try:
            if len(words) > 1:
                self.ids = await self.call(search.matching_ids, words, "contact")
            else:
                self.ids = None
        except Failed:
            return
        # One letter narrows to the names that begin with it (as a phone book's thumb index):
        # a one-letter prefix of every indexed word would match most of the database.
        self.initial = words if len(words) == 1 else None
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
        elif self.filters:
            self.filters = {}
            self.run_worker(self.table.load(), group="reload", exclusive=True)

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

    def action_filters(self) -> None:
        def apply(filters: dict | None) -> None:
            if filters is not None:
                self.filters = filters
                self.run_worker(self.table.load(), group="reload", exclusive=True)

        self.app.push_screen(FilterDialog(self.filters), apply)

    def action_new_contact(self) -> None:
        from crmcli.tui.screens.contact_forms import NewContactForm

        def opened(contact_id: int | None) -> None:
            if contact_id is not None:
                self.crm.wrote()
                self.crm.open_contact(contact_id)

        self.app.push_screen(NewContactForm(), opened)

    # -- status and opening --------------------------------------------------------------

    @on(PagedTable.Moved)
    def _moved(self, event: PagedTable.Moved) -> None:
        self._show_status(event.first, event.last, event.total)

    def _show_status(self, first: int, last: int, total: int) -> None:
        if total:
            where = f"rows {first + 1:,}-{last:,} of {total:,}"
        else:
            narrowed = self.ids is not None or self.initial or self.filters
            where = "no contacts match" if narrowed else "no contacts"
        parts = [where, f"sorted by {self.sort}{' (descending)' if self.descending else ''}"]
        if self.initial:
            parts.append(f"names beginning with '{self.initial}' (type on to search everything)")
        if self.ids is not None:
            from crmcli.services.search import CANDIDATES

            best = " (the best matches)" if len(self.ids) >= CANDIDATES else ""
            parts.append(f"search '{self.query_text.strip()}'{best}")
        shown = ", ".join(f"{k} {v}" for k, v in self.filters.items() if v)
        if shown:
            parts.append(f"filter: {shown} (Esc clears)")
        self.query_one("#status", Static).update(" · ".join(parts))

    @on(PagedTable.Selected)
    def _open(self, event: PagedTable.Selected) -> None:
        self.crm.open_contact(event.row["id"])


class FilterDialog(FormDialog):
    """Tag, status, city and owner; empty means any. Gives back the filters (Esc: None)."""

    heading = "Filter contacts (empty: any)"

    def __init__(self, filters: dict) -> None:
        super().__init__()
        self.filters = dict(filters)

    def fields(self) -> list[Field]:
        f = self.filters
        return [
            Field("tag", "Tag", f.get("tag", ""), placeholder="any tag"),
            Field(
                "status", "Status", f.get("status", ""), options=[(s, s) for s in STATUSES]
            ),  # fmt: skip
            Field("city", "City", f.get("city", ""), placeholder="koeln finds Köln"),
            Field("owner", "Owner", f.get("owner", ""), placeholder="anyone"),
        ]

    async def save(self, values: dict) -> dict:
        return {k: v for k, v in values.items() if v}
