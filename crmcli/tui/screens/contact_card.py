"""Contact screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Static

from crmcli.tui.screens.base import CrmScreen


class ContactCard(CrmScreen):
    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id

    def compose(self) -> ComposeResult:
        yield Static("Contact", classes="title")
        yield Footer()
