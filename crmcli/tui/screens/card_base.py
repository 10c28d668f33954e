"""What the contact and company cards share: a record read through a service that raises
NotFound once it is gone (deleted by another process: the card says so and closes, under a
dialog once the dialog is gone), tabs switched with `[` and `]`, Escape back."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.widgets import TabbedContent

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen


class TabbedCard(CrmScreen):
    kind = "record"  # in "company #12 was deleted"
    TABS: ClassVar[tuple[str, ...]] = ()  # the TabPane ids, in the order `]` walks them

    def __init__(self, item_id: int) -> None:
        super().__init__()
        self.item_id = item_id
        self.card: dict | None = None
        self.loaded = False  # the first read is shown (the bench waits for it)
        self.closing = False  # deleted: leaves when next in view

    async def read_card(self, fn, *args: Any, **kwargs: Any) -> dict:
        """The card from its service; a record deleted meanwhile closes the card with one
        notification (not the generic "Not done" and a second message)."""
        from crmcli.errors import NotFound

        try:
            return await self.crm.gateway.call(fn, *args, **kwargs)
        except Failed as exc:
            if isinstance(exc.__cause__, NotFound):
                self.gone()
            else:
                self.notify(str(exc), title="Not done", severity="error", timeout=6)
            raise

    def gone(self) -> None:
        name = self.card["name"] if self.card else f"{self.kind} #{self.item_id}"
        self.notify(f"{name} was deleted (by another crm?): the card is closed", severity="warning")
        self.close_card()

    def close_card(self) -> None:
        """Leave the card; under a dialog, once the dialog is gone."""
        self.closing = True
        if self.is_active:  # is_current holds under a dialog too
            self.app.pop_screen()

    def on_screen_resume(self) -> None:
        if self.closing:
            self.app.call_later(self.close_card)
        else:
            super().on_screen_resume()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        now = self.TABS.index(tabs.active) if tabs.active in self.TABS else 0
        tabs.active = self.TABS[(now + step) % len(self.TABS)]

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Keys go to what the tab shows (Enter on the Deals tab opens a deal)."""
        for widget in event.pane.query("DataTable, VerticalScroll"):
            widget.focus()
            break
