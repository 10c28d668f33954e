"""What the contact and company cards share: a record read through a service that raises
NotFound once it is gone (deleted by another process: the card says so and closes, under a
dialog once the dialog is gone), a timeline paged by key that a reload keeps in place, tabs
switched with `[` and `]`, Escape back, Enter on a deal or an activity opens it, and deleting
the record after asking."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.widgets import DataTable, TabbedContent

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.timeline import PAGE, ActivityView, Timeline


class TabbedCard(CrmScreen):
    kind = "record"  # in "company #12 was deleted"
    TABS: ClassVar[tuple[str, ...]] = ()  # the TabPane ids, in the order `]` walks them

    def __init__(self, item_id: int) -> None:
        super().__init__()
        self.item_id = item_id
        self.card: dict | None = None
        self.loaded = False  # the first read is shown (the bench waits for it)
        self.closing = False  # deleted: leaves when next in view
        self._limit = PAGE

    # -- what each card says for itself --------------------------------------------------

    async def read(self, timeline_limit: int) -> dict:
        """The card from its service, with this many timeline entries (through read_card)."""
        raise NotImplementedError

    def timeline_owner(self) -> dict[str, int]:
        """Whose timeline the card pages: {"contact_id": id} or {"company_id": id}."""
        raise NotImplementedError

    def _show(self, card: dict) -> None:
        raise NotImplementedError

    async def delete_record(self) -> dict:
        """Delete the record through its service (the user has said yes)."""
        raise NotImplementedError

    # -- data ----------------------------------------------------------------------------

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    async def reload(self) -> None:
        # As many activities as the timeline holds now: a reload keeps the user's place.
        self._limit = max(PAGE, len(self.timeline.items))
        card = await self.read(self._limit)
        self.card = card
        self._show(card)
        self.loaded = True

    async def _page(self, before) -> list[dict]:
        from crmcli.services import activities

        return await self.call(
            activities.timeline_page, **self.timeline_owner(), before=before, limit=PAGE
        )

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

    async def _delete(self, yes: bool | None) -> None:
        if not yes:
            return
        try:
            card = await self.delete_record()
        except Failed:
            return
        self.notify(f"Deleted {card['name']}")
        self.close_card()
        self.crm.wrote()

    @on(DataTable.RowSelected, "#deals-table")
    def _open_deal(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.crm.open_deal(int(event.row_key.value))

    @on(Timeline.Opened)
    def _open_activity(self, event: Timeline.Opened) -> None:
        self.app.push_screen(ActivityView(event.activity))

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Keys go to what the tab shows (Enter on the Deals tab opens a deal)."""
        for widget in event.pane.query("DataTable, VerticalScroll"):
            widget.focus()
            break
