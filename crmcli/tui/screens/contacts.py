"""Contacts: every contact in a table that pages itself in (100,000 or 1,000,000 alike),
`/` to search as you type (the folding prefix search of `crm search`), `f` to filter by
tag, status, city and owner, `s` to change the sort, Enter to open the card."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from crmcli.models import CONTACT_STATUSES as STATUSES
from crmcli.tui.screens.list_base import PagedListScreen
from crmcli.tui.widgets.form import Field, FormDialog
from crmcli.tui.widgets.paged_table import Column


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


class ContactsScreen(PagedListScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *PagedListScreen.BINDINGS,
        Binding("f", "filters", "Filter"),
        Binding("n", "new_contact", "New"),
    ]
    MODE = "contacts"
    KIND = "contact"
    PLURAL = "contacts"
    SORT_CYCLE = ("name", "city", "status", "created", "id")  # `s`: the next one
    PLACEHOLDER = "/ search: name, email, phone, company, city…"
    COLUMNS = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.filters: dict = {}
        self.initial: str | None = None  # a one-letter search: names beginning with it

    # -- data ----------------------------------------------------------------------------

    async def _fetch(self, offset, limit, after, before, total) -> list[dict]:
        from crmcli.services import browse

        return await self.call(
            browse.contact_rows, sort=self.sort_spec(), offset=offset, limit=limit,
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

    async def narrow(self, words: str) -> None:
        # One letter narrows to the names that begin with it (as a phone book's thumb
        # index): a one-letter prefix of every indexed word would match most of the
        # database (~50 ms a keystroke at 100,000 contacts and 1,000,000 activities).
        await super().narrow(words if len(words) > 1 else "")
        self.initial = words if len(words) == 1 else None

    def narrowed(self) -> bool:
        return self.ids is not None or bool(self.initial) or bool(self.filters)

    def status_parts(self) -> list[str]:
        parts = []
        if self.initial:
            parts.append(f"names beginning with '{self.initial}' (type on to search everything)")
        shown = ", ".join(f"{k} {v}" for k, v in self.filters.items() if v)
        if shown:
            parts.append(f"filter: {shown} (Esc clears)")
        return parts

    # -- filters and a new contact ---------------------------------------------------------

    def action_clear(self) -> None:
        box = self.query_one("#search", Input)
        if not box.has_focus and self.filters:
            self.filters = {}
            self.load_again()
        else:
            super().action_clear()

    def action_filters(self) -> None:
        def apply(filters: dict | None) -> None:
            if filters is not None:
                self.filters = filters
                self.load_again()

        self.app.push_screen(FilterDialog(self.filters), apply)

    def action_new_contact(self) -> None:
        from crmcli.tui.screens.contact_forms import NewContactForm

        def opened(contact_id: int | None) -> None:
            if contact_id is not None:
                self.crm.wrote()
                self.crm.open_contact(contact_id)

        self.app.push_screen(NewContactForm(), opened)


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
