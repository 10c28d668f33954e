"""A deal's card: its fields, its steps through the stages and its timeline. Keys move it
(`>`/`<`), win it (`w`), lose it with a reason (`x`), reopen it (`r`), edit it (`e`), open
its contact (`c`) and delete it (`d`, asked first)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.board import date_text, money_text


def acting_user() -> str | None:
    from crmcli.services.users import acting_user as who

    return who()


def _when(value) -> str:
    from crmcli.output import display_datetime

    return display_datetime(value) if value else ""


class DealCard(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False),  # the title line says so
        Binding("shift+right,greater_than_sign", "step(1)", "Next", key_display=">"),
        Binding("shift+left,less_than_sign", "step(-1)", "Prev", key_display="<", show=False),
        Binding("w", "win", "Won"),
        Binding("x", "lose", "Lost"),
        Binding("r", "reopen", "Reopen"),
        Binding("e", "edit", "Edit"),
        Binding("c", "contact", "Contact"),
        Binding("d,delete", "delete", "Delete"),
    ]
    DEFAULT_CSS = """
    DealCard #fields { height: auto; padding: 0 1; }
    DealCard .section { text-style: bold; padding: 0 1; margin-top: 1; height: 1; }
    DealCard DataTable { height: auto; max-height: 12; }
    """

    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.card: dict | None = None
        self.closing = False  # deleted: leaves when next in view

    def compose(self) -> ComposeResult:
        yield Static("Deal", id="title", classes="title")
        with VerticalScroll():
            yield Static("", id="fields")
            yield Static("Stage history", classes="section")
            yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            yield Static("Timeline", classes="section")
            yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history", DataTable).add_columns("When", "From", "To", "By")
        self.query_one("#timeline", DataTable).add_columns("When", "Kind", "Subject")
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    async def reload(self) -> None:
        from crmcli.errors import NotFound
        from crmcli.services import deals

        try:
            card = await self.crm.gateway.call(deals.deal_card, self.item_id)
        except Failed as exc:
            if not isinstance(exc.__cause__, NotFound):
                self.notify(str(exc), title="Not done", severity="error", timeout=6)
                return
            # Deleted meanwhile (by another crm?): say so once and leave, as the contact
            # and company cards do (under a dialog: once the dialog is gone).
            name = self.card["title"] if self.card else f"deal #{self.item_id}"
            self.notify(
                f"{name} was deleted (by another crm?): the card is closed", severity="warning"
            )
            self.card = None
            self.closing = True
            if self.is_active:
                self.app.pop_screen()
            return
        self.card = card
        self._show(card)
        self.refresh_bindings()

    def on_screen_resume(self) -> None:
        if self.closing:
            self.app.call_later(self.app.pop_screen)
        else:
            super().on_screen_resume()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An open deal offers its moves, won and lost; a closed one offers reopen: the
        footer shows what can be done (all of it fits 80 columns then)."""
        if self.card is None or action not in ("step", "win", "lose", "reopen"):
            return True
        closed = self.card["status"] in ("won", "lost")
        return closed if action == "reopen" else not closed

    def _show(self, card: dict) -> None:
        status = {"won": "won", "lost": "lost"}.get(card["status"], "open")
        self.query_one("#title", Static).update(
            f"Deal #{card['id']} · {card['title']} · {card['stage']} ({status})  · Esc back"
        )
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        rows = [
            ("Stage", f"{card['stage']} ({card['probability']} %)"),
            ("Amount", money_text(card["amount"], card["currency"])),
            ("Expected close", date_text(card["expected_close"])),
            ("Contact", card["contact"] or ""),
            ("Company", card["company"] or ""),
            ("Owner", card["owner"] or ""),
            ("Source", card["source"] or ""),
            ("Lost because", card["lost_reason"] or ""),
            ("Closed", _when(card["closed_at"])),
            ("Created", _when(card["created_at"])),
        ]
        for label, value in rows:
            if value:
                grid.add_row(label, Text(str(value)))
        self.query_one("#fields", Static).update(grid)
        history = self.query_one("#history", DataTable)
        history.clear()
        for step in reversed(card["history"]):
            history.add_row(
                _when(step["changed_at"]), step["from_stage"] or "—", step["to_stage"],
                step["changed_by"] or "",
            )  # fmt: skip
        timeline = self.query_one("#timeline", DataTable)
        timeline.clear()
        for item in card["timeline"]:
            subject = item.get("subject") or item.get("body") or ""
            timeline.add_row(_when(item.get("occurred_at")), item.get("kind", ""), subject[:80])

    # -- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    async def _write(self, fn, *args, said: str = "", **kwargs) -> None:
        try:
            card = await self.call(fn, *args, **kwargs)
        except Failed:
            return
        if said:
            self.notify(said.format(**card))
        self.crm.wrote()  # this card reads again through changed()

    async def action_step(self, step: int) -> None:
        from crmcli.services import board, deals

        if self.card is None:
            return
        if self.card["status"] != "open":
            self.notify(f"the deal is {self.card['status']} (r: reopen)")
            return
        target = await self.call(board.neighbour_stage, self.card["stage_id"], step)
        if target is None:
            self.notify(f"{self.card['stage']} is the {'last' if step > 0 else 'first'} open stage")
            return
        await self._write(
            deals.move_deal, self.card["id"], str(target["id"]), now=self.crm.now(),
            by=acting_user(), said="Moved to {stage}",
        )  # fmt: skip

    async def action_win(self) -> None:
        from crmcli.services import deals

        if self.card is not None:
            await self._write(
                deals.win_deal, self.card["id"], now=self.crm.now(), by=acting_user(),
                said="Won {title}",
            )  # fmt: skip

    def action_lose(self) -> None:
        from crmcli.tui.screens.deal_forms import LostForm

        if self.card is None:
            return

        def done(card: dict | None) -> None:
            if card is not None:
                self.crm.wrote()  # this card reads again (changed() or on resume)

        self.app.push_screen(LostForm(self.card), done)

    async def action_reopen(self) -> None:
        from crmcli.services import deals

        if self.card is not None:
            await self._write(
                deals.reopen_deal, self.card["id"], now=self.crm.now(), by=acting_user(),
                said="Reopened in {stage}",
            )  # fmt: skip

    def action_edit(self) -> None:
        from crmcli.tui.screens.deal_forms import EditDealForm

        if self.card is None:
            return

        def done(card: dict | None) -> None:
            if card is not None:
                self.crm.wrote()  # this card reads again (changed() or on resume)

        self.app.push_screen(EditDealForm(self.card), done)

    def action_contact(self) -> None:
        if self.card is None:
            return
        if self.card["contact_id"] is not None:
            self.crm.open_contact(self.card["contact_id"])
        elif self.card["company_id"] is not None:
            self.crm.open_company(self.card["company_id"])

    def action_delete(self) -> None:
        from crmcli.tui.widgets.form import Confirm

        card = self.card
        if card is None:
            return

        async def answered(yes: bool | None) -> None:
            from crmcli.services import deals

            if not yes:
                return
            try:
                await self.call(deals.delete_deal, card["id"])
            except Failed:
                return
            self.notify(f"Deleted deal #{card['id']} {card['title']}")
            self.crm.wrote()
            self.app.pop_screen()

        self.app.push_screen(
            Confirm(f"Delete deal #{card['id']} {card['title']} and its stage history?"), answered
        )
