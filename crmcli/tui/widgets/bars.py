"""Charts drawn with text: horizontal bars (a label, a bar as long as its share of the
largest, a figure) and sparklines (a label, a row of ▁▂▃▅▇ blocks, a total), fitted to the
width they are given, so they stay readable at 80 columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"


@dataclass
class Bar:
    label: str
    value: float
    figure: str = ""  # the numbers, right of the bar
    style: str = "cyan"


class BarChart(Widget):
    """One bar per row, as long as its value's share of the largest value."""

    DEFAULT_CSS = """
    BarChart { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Bar] = []
        self.empty = "nothing in this period"

    def show(self, rows: Sequence[Bar], *, empty: str = "nothing in this period") -> None:
        self.rows = list(rows)
        self.empty = empty
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.rows))

    def render(self) -> Text:
        if not self.rows:
            return Text(self.empty, style="dim")
        width = self.content_size.width or 78
        label_w = min(16, max(len(r.label) for r in self.rows))
        figure_w = max(len(r.figure) for r in self.rows)
        bar_w = max(4, width - label_w - figure_w - 2)
        top = max((r.value for r in self.rows), default=0) or 1
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, r in enumerate(self.rows):
            filled = round(bar_w * max(r.value, 0) / top)
            if i:
                text.append("\n")
            label = r.label if len(r.label) <= label_w else r.label[: label_w - 1] + "…"
            text.append(label.ljust(label_w) + " ")
            text.append("█" * filled, style=r.style)
            text.append(" " * (bar_w - filled) + " ")
            text.append(r.figure.rjust(figure_w))
        return text


def spark(counts: Sequence[int], width: int) -> str:
    """The counts as a row of blocks, at most `width` long (later ones kept: the recent)."""
    shown = list(counts)[-width:] if width > 0 else []
    top = max(shown, default=0)
    if not top:
        return BLOCKS[0] * len(shown)
    return "".join(BLOCKS[0 if not n else max(1, round(8 * n / top))] for n in shown)


class Sparklines(Widget):
    """One sparkline per row: label, blocks (one per period), total."""

    DEFAULT_CSS = """
    Sparklines { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[tuple[str, list[int], str]] = []
        self.caption = ""

    def show(self, rows: Sequence[tuple[str, list[int], str]], caption: str = "") -> None:
        self.rows = list(rows)
        self.caption = caption
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.rows) + (1 if self.caption else 0))

    def render(self) -> Text:
        if not self.rows:
            return Text("no activities in this period", style="dim")
        width = self.content_size.width or 78
        label_w = max(len(r[0]) for r in self.rows)
        figure_w = max(len(r[2]) for r in self.rows)
        room = max(4, width - label_w - figure_w - 2)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (label, counts, figure) in enumerate(self.rows):
            if i:
                text.append("\n")
            per = max(1, min(4, room // max(1, len(counts))))  # cells a month
            line = "".join(block * per for block in spark(counts, room // per))
            text.append(label.ljust(label_w) + " ")
            text.append(line.ljust(room), style="green")
            text.append(" " + figure.rjust(figure_w))
        if self.caption:
            text.append("\n" + self.caption, style="dim")
        return text
