"""Pipeline screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.navbar import NavBar


class PipelineScreen(CrmScreen):
    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id

    def compose(self) -> ComposeResult:
        yield NavBar("pipeline")
        yield Footer()
