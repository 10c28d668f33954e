"""The company card: its fields and tags, its people (Enter opens one), its deals and its
timeline (its own activities and its people's, newest first, a page at a time). `e` edits
it, `delete` deletes it after asking (its people stay, without a company)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from crmcli.tui.screens.card_base import TabbedCard
from crmcli.tui.screens.contact_card import field_grid, fill_deals, show
from crmcli.tui.screens.contact_forms import _email, _phone, _text
from crmcli.tui.widgets.form import Field, FormDialog
from crmcli.tui.widgets.timeline import Timeline


class CompanyCard(TabbedCard):
    DEFAULT_CSS = """
    CompanyCard .card-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    CompanyCard #summary { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    CompanyCard TabbedContent { height: 1fr; }
    CompanyCard TabPane { padding: 0; }
    CompanyCard #details { padding: 0 1; }
    CompanyCard DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("delete", "delete", "Delete", key_display="del"),
        Binding("escape", "back", "Back", key_display="esc"),
        Binding("right_square_bracket", "tab(1)", "Next tab", key_display="]"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, key_display="["),
    ]

    kind = "company"
    TABS = ("people", "deals", "timeline", "details-pane")

    def compose(self) -> ComposeResult:
        yield Static("Company", classes="card-title", id="title")
        yield Static("", id="summary")
        with TabbedContent(id="tabs"):
            with TabPane("People", id="people"):
                yield DataTable(id="people-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Deals", id="deals"):
                yield DataTable(id="deals-table", cursor_type="row")
            with TabPane("Timeline", id="timeline"):
                yield Timeline(self._page, show_who=True, id="timeline-table")
            with TabPane("Details", id="details-pane"), VerticalScroll():
                yield Static("", id="details")
        yield Footer(compact=True, show_command_palette=False)  # ^p still opens it

    def on_mount(self) -> None:
        self.query_one("#people-table").focus()
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    # -- data ----------------------------------------------------------------------------

    async def read(self, timeline_limit: int) -> dict:
        from crmcli.services import views

        return await self.read_card(views.company_card, self.item_id, timeline_limit=timeline_limit)

    def timeline_owner(self) -> dict[str, int]:
        return {"company_id": self.item_id}

    def _show(self, card: dict) -> None:
        parts = [f"#{card['id']} {card['name']}", card["industry"], card["city"]]
        self.query_one("#title", Static).update(" · ".join(p for p in parts if p))
        first = [x for x in (card["domain"], card["email"], card["phone"]) if x]
        if card["tags"]:
            first.append("tags: " + ", ".join(card["tags"]))
        self.query_one("#summary", Static).update(" · ".join(first))
        self.query_one("#details", Static).update(
            field_grid(
                [
                    ("Name", card["name"]),
                    ("Domain", show(card["domain"])),
                    ("Industry", show(card["industry"])),
                    ("Phone", show(card["phone"])),
                    ("Email", show(card["email"])),
                    ("Street", show(card["street"])),
                    ("Zip / city", " ".join(x for x in (card["zip"], card["city"]) if x)),
                    ("Country", show(card["country"])),
                    ("Tags", ", ".join(card["tags"])),
                    ("Notes", show(card["notes"]) if card["notes"] else ""),
                    ("Created", show(card["created_at"])),
                    ("Updated", show(card["updated_at"])),
                ]
            )  # fmt: skip
        )
        self._fill_people(card["contacts"])
        fill_deals(self.query_one("#deals-table", DataTable), card["deals"])
        self.timeline.show(card["timeline"], None, limit=self._limit)
        tabs = self.query_one(TabbedContent)
        shown = len(card["timeline"])
        more = "+" if shown >= self._limit else ""
        tabs.get_tab("people").label = f"People ({len(card['contacts'])})"  # type: ignore[assignment]
        tabs.get_tab("deals").label = f"Deals ({len(card['deals'])})"  # type: ignore[assignment]
        tabs.get_tab("timeline").label = f"Timeline ({shown}{more})"  # type: ignore[assignment]

    def _fill_people(self, people: list[dict]) -> None:
        """Name, position, email, phone and status; on a narrow screen the phone goes and
        the others get widths that fit (a DataTable would scroll sideways)."""
        table = self.query_one("#people-table", DataTable)
        width = self.size.width or 80
        wide = width >= 110
        table.clear(columns=True)
        if wide:
            table.add_columns("Name", "Position", "Email", "Phone", "Status")
        else:
            email = max(16, width - (20 + 14 + 9) - 2 * 4 - 2)
            for title, w in (("Name", 20), ("Position", 14), ("Email", email), ("Status", 9)):
                table.add_column(title, width=w)
        for p in people:
            cells = [p["name"], p["position"] or "", p["email"] or ""]
            cells += [p["phone"] or ""] if wide else []
            table.add_row(*cells, p["status"] or "", key=str(p["id"]))

    def on_resize(self) -> None:
        if self.card is not None:
            self._fill_people(self.card["contacts"])

    # -- keys ----------------------------------------------------------------------------

    def action_edit(self) -> None:
        if self.card is None:
            return

        def saved(result) -> None:
            if result is not None:
                self.crm.wrote()

        self.app.push_screen(EditCompanyForm(self.card), saved)

    def action_delete(self) -> None:
        from crmcli.tui.widgets.form import Confirm

        if self.card is None:
            return
        people = len(self.card["contacts"])
        stay = f" Its {people} people stay, without a company." if people else ""
        question = f"Delete the company {self.card['name']}?{stay}"
        self.app.push_screen(Confirm(question), self._delete)

    async def delete_record(self) -> dict:
        from crmcli.services import companies

        return await self.call(companies.delete_company, self.item_id, contacts="keep")

    # -- opening -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#people-table")
    def _open_person(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.crm.open_contact(int(event.row_key.value))


class EditCompanyForm(FormDialog):
    """A company's fields as `crm edit company` changes them: what was changed is sent, an
    emptied field is cleared. Gives back the company's id."""

    FIELDS = (
        ("name", "Name"), ("domain", "Domain"), ("industry", "Industry"), ("phone", "Phone"),
        ("email", "Email"), ("street", "Street"), ("zip", "Zip"), ("city", "City"),
        ("country", "Country"), ("notes", "Notes"),
    )  # fmt: skip

    def __init__(self, card: dict) -> None:
        super().__init__()
        self.card = card
        self.heading = f"Edit {card['name']}"

    def fields(self) -> list[Field]:
        parsers = {"phone": _phone, "email": _email}
        return [
            Field(
                name,
                label,
                _text(self.card[name]),
                parsers.get(name),
                required=name == "name",
                multiline=name == "notes",
            )  # fmt: skip
            for name, label in self.FIELDS
        ]

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import companies

        changes = {
            name: "" if values[name] is None else values[name]
            for name, f in self._fields.items()
            if self.text_of(name).strip() != f.value.strip()
        }
        if not changes:
            self.notify("nothing changed")
            return self.card["id"]
        if "phone" in changes and changes["phone"]:
            changes["phone"] = self.text_of("phone").strip()  # stored as typed, checked there
        card = await self.call(companies.edit_company, self.card["id"], changes, now=self.crm.now())
        self.notify(f"Updated {card['name']}")
        return card["id"]
