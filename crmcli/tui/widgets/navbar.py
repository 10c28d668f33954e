"""The top line of every main screen: the screens and their number keys, the current one
marked (a click opens one too), as lazygit and k9s show where you are."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget


class NavBar(Widget):
    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self._spans: list[tuple[int, int, str]] = []

    def render(self) -> Text:
        from crmcli.tui.app import SCREENS

        # Narrower than the whole line (71 cells): no "crm", one space between the screens.
        wide = self.size.width >= 71
        text = Text(" crm " if wide else "", style="bold")
        self._spans = []
        for mode, (_, _, key, title) in SCREENS.items():
            start = len(text)
            label = f" {key} {title} " if wide else f"{key} {title} "
            text.append(label, style="reverse bold" if mode == self.current else "")
            self._spans.append((start, len(text), mode))
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, mode in self._spans:
            if start <= event.x < end:
                self.app.switch_mode(mode)
