"""The pipeline drawn as a kanban board: a column per open stage with its deals as cards,
narrow columns for won and lost. The board keeps the selection (a column and a card in it)
and says what the mouse did (a card clicked, a header clicked, "more" clicked);
the screen decides what that means for the database.

A stage can hold thousands of deals: a column shows the page it was given (the first ones by
close date) and a "+ 1,234 more" line that asks for the next page, never a widget per deal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static


def money_text(amount, currency: str = "EUR") -> str:
    """`1.234,50 €` (the CLI's money, German unless the locale says en)."""
    from crmcli.output import money

    return money(amount, currency)


def date_text(value: date | datetime | None) -> str:
    """`24.12.2026`; "" for no date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        from crmcli.values import local_tz, to_utc

        value = to_utc(value).astimezone(local_tz()).date()
    return value.strftime("%d.%m.%Y")


def stage_value(stage: dict) -> str:
    """A stage's value: EUR first, other currencies after it (never added together)."""
    values = stage.get("values") or {}
    if not values:
        return money_text(stage.get("value") or 0)
    parts = [money_text(v, cur) for cur, v in sorted(values.items(), key=lambda kv: kv[0] != "EUR")]
    return " + ".join(parts)


MIN_WIDTH = 18  # an open stage's column
CLOSED_WIDTH = 18  # won and lost


class DealTile(Static):
    """One deal on the board: title, contact (or company), amount and close date."""

    DEFAULT_CSS = """
    DealTile {
        height: 3;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        margin: 0 0 1 0;
        background: $boost;
    }
    DealTile.-tall { height: 4; }
    DealTile.-selected {
        background: $accent 40%;
        border-left: outer $accent;
        padding: 0 1 0 0;
    }
    """

    def __init__(self, deal: dict, stage_id: int, tall: bool = False) -> None:
        super().__init__(self._text(deal, tall))
        self.deal = deal
        self.stage_id = stage_id
        self.set_class(tall, "-tall")

    @staticmethod
    def _text(deal: dict, tall: bool) -> Text:
        """Title, contact, amount and close date: the date on a line of its own when the
        column is too narrow for both on one."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(deal["title"] or "", style="bold")
        text.append("\n" + (deal.get("contact") or deal.get("company") or "—"))
        amount = money_text(deal["amount"], deal.get("currency") or "EUR")
        when = date_text(deal.get("expected_close"))
        text.append(f"\n{amount}" + ("\n" if tall else "  ") + when)
        return text

    def set_tall(self, tall: bool) -> None:
        self.set_class(tall, "-tall")
        self.update(self._text(self.deal, tall))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(Board.CardClicked(self.deal, self.stage_id))


class MoreTile(Static):
    """The line under a column's page: how many more deals, a click (or Enter) shows more."""

    DEFAULT_CSS = """
    MoreTile { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; }
    MoreTile.-selected { background: $accent 40%; color: $text; }
    """

    def __init__(self, stage_id: int, more: int) -> None:
        super().__init__(f"+ {more:,} more")
        self.stage_id = stage_id

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(Board.MoreClicked(self.stage_id))


class ColumnHeader(Static):
    DEFAULT_CSS = """
    ColumnHeader {
        height: 3;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    ColumnHeader.-current { background: $primary 50%; }
    """

    def __init__(self, stage: dict) -> None:
        super().__init__()
        self.stage = stage
        self.show(stage)

    def show(self, stage: dict) -> None:
        self.stage = stage
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(stage["name"])
        text.append(
            f"\n{stage['deals']:,} deal{'' if stage['deals'] == 1 else 's'}", style="not bold"
        )
        text.append("\n" + stage_value(stage), style="not bold")
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(Board.HeaderClicked(self.stage))


_SHOWN = ("id", "title", "contact", "company", "amount", "currency", "expected_close")


class _Scroll(VerticalScroll, can_focus=False):
    """A column's cards: scrolls with the wheel; the keys stay with the board."""


class StageColumn(Vertical):
    """One stage: its header and (for an open stage) its page of cards."""

    DEFAULT_CSS = """
    StageColumn {
        width: 24;
        height: 1fr;
        margin: 0 1 0 0;
    }
    StageColumn.-closed { width: 18; min-width: 18; }
    StageColumn.-closed .hint { color: $text-muted; padding: 0 1; }
    StageColumn.-won ColumnHeader { color: $success; }
    StageColumn.-lost ColumnHeader { color: $error; }
    StageColumn > _Scroll { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, stage: dict) -> None:
        super().__init__(id=f"stage-{stage['id']}")
        self.stage = stage
        self._shown: tuple | None = None
        self.add_class(f"-{stage['status']}")
        if stage["status"] != "open":
            self.add_class("-closed")

    def compose(self) -> ComposeResult:
        yield ColumnHeader(self.stage)
        if self.stage["status"] == "open":
            yield _Scroll()
        else:
            hint = "w: won here" if self.stage["status"] == "won" else "x: lost here"
            yield Static(hint, classes="hint")

    @property
    def cards(self) -> list[dict]:
        return self.stage.get("cards") or []

    @property
    def more(self) -> int:
        return max(0, self.stage["deals"] - len(self.cards))

    async def show(self, stage: dict) -> None:
        self.stage = stage
        self.query_one(ColumnHeader).show(stage)
        if stage["status"] != "open":
            return
        tall = isinstance(self.parent, Board) and self.parent.tall
        # The poll reloads the board on every write anywhere: a column whose cards did not
        # change keeps its widgets (and where it was scrolled to).
        shown = (tall, self.more, *(tuple(d[k] for k in _SHOWN) for d in self.cards))
        if shown == self._shown:
            return
        self._shown = shown
        body = self.query_one(_Scroll)
        await body.remove_children()
        tiles: list[Static] = [DealTile(d, stage["id"], tall) for d in self.cards]
        if self.more:
            tiles.append(MoreTile(stage["id"], self.more))
        if tiles:
            await body.mount_all(tiles)


@dataclass
class Selection:
    column: int = 0  # among the open columns
    row: int = 0  # a card, or len(cards): the "more" line


class Board(HorizontalScroll, can_focus=False):
    """The columns side by side (scrolling sideways when the stages do not fit)."""

    DEFAULT_CSS = """
    Board { height: 1fr; padding: 0 0 0 1; }
    Board.-narrow StageColumn.-closed { display: none; }
    """

    class CardClicked(Message):
        def __init__(self, deal: dict, stage_id: int) -> None:
            super().__init__()
            self.deal, self.stage_id = deal, stage_id

    class HeaderClicked(Message):
        def __init__(self, stage: dict) -> None:
            super().__init__()
            self.stage = stage

    class MoreClicked(Message):
        def __init__(self, stage_id: int) -> None:
            super().__init__()
            self.stage_id = stage_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stages: list[dict] = []
        self.selection = Selection()
        self.tall = False  # cards of four lines: the columns are narrow

    # -- what it shows -------------------------------------------------------------------

    @property
    def open_stages(self) -> list[dict]:
        return [s for s in self.stages if s["status"] == "open"]

    async def show(self, stages: list[dict]) -> None:
        """Show `stages` (services.board.board), keeping the selected deal selected."""
        keep = self.selected_deal
        same = [s["id"] for s in stages] == [s["id"] for s in self.stages]
        self.stages = stages
        if not same:
            await self.remove_children()
            await self.mount_all([StageColumn(s) for s in stages])
            self._fit(self.size.width)
        for s in stages:
            await self.query_one(f"#stage-{s['id']}", StageColumn).show(s)
        if keep is not None and not self.select_deal(keep["id"]):
            self._clamp()
        self._mark()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Share the width among the open columns (at least MIN_WIDTH each, scrolling sideways
        beyond); won and lost get narrow columns when there is room for them."""
        narrow = width < 100
        self.set_class(narrow, "-narrow")
        columns = list(self.query(StageColumn))
        open_ = [c for c in columns if c.stage["status"] == "open"]
        closed = 0 if narrow else sum(CLOSED_WIDTH + 1 for c in columns if c not in open_)
        if open_:
            each = max(MIN_WIDTH, (width - 1 - closed) // len(open_) - 1)
            for column in open_:
                column.styles.width = each
            # padding and scrollbar: 3 cells; "99.999,00 €  24.12.2026" needs 23
            tall = each - 3 < 23
            if tall != self.tall:
                self.tall = tall
                for tile in self.query(DealTile):
                    tile.set_tall(tall)

    def column_of(self, stage_id: int) -> StageColumn:
        return self.query_one(f"#stage-{stage_id}", StageColumn)

    # -- the selection -------------------------------------------------------------------

    @property
    def current_stage(self) -> dict | None:
        open_ = self.open_stages
        if not open_:
            return None
        return open_[min(self.selection.column, len(open_) - 1)]

    @property
    def selected_deal(self) -> dict | None:
        stage = self.current_stage
        if stage is None:
            return None
        cards = stage.get("cards") or []
        return cards[self.selection.row] if self.selection.row < len(cards) else None

    @property
    def on_more(self) -> bool:
        stage = self.current_stage
        return (
            stage is not None
            and self.selection.row == len(stage.get("cards") or [])
            and (stage["deals"] > len(stage.get("cards") or []))
        )

    def select_deal(self, deal_id: int) -> bool:
        for i, stage in enumerate(self.open_stages):
            for j, card in enumerate(stage.get("cards") or []):
                if card["id"] == deal_id:
                    self.selection = Selection(i, j)
                    self._mark()
                    return True
        return False

    def select_first_deal(self) -> bool:
        """The first card of the first open stage that has one."""
        for stage in self.open_stages:
            if stage.get("cards"):
                return self.select_deal(stage["cards"][0]["id"])
        return False

    def move_selection(self, columns: int = 0, rows: int = 0) -> None:
        sel = self.selection
        self.selection = Selection(sel.column + columns, sel.row + rows)
        self._clamp(rows_first=columns != 0)
        self._mark()

    def _rows_in(self, stage: dict) -> int:
        cards = len(stage.get("cards") or [])
        return cards + (1 if stage["deals"] > cards else 0)

    def _clamp(self, rows_first: bool = False) -> None:
        open_ = self.open_stages
        if not open_:
            self.selection = Selection()
            return
        column = max(0, min(self.selection.column, len(open_) - 1))
        rows = self._rows_in(open_[column])
        self.selection = Selection(column, max(0, min(self.selection.row, rows - 1)))

    def _mark(self) -> None:
        current = self.current_stage
        for tile in self.query(".-selected"):
            tile.remove_class("-selected")
        for header in self.query(ColumnHeader):
            header.set_class(
                current is not None and header.stage["id"] == current["id"], "-current"
            )
        if current is None:
            return
        tiles = list(self.column_of(current["id"]).query("DealTile, MoreTile"))
        if self.selection.row < len(tiles):
            tile = tiles[self.selection.row]
            tile.add_class("-selected")
            tile.scroll_visible(animate=False)
            self.column_of(current["id"]).scroll_visible(animate=False)

    def state(self) -> dict:
        """What the board shows, for tests: per stage its count and the titles shown."""
        deal = self.selected_deal
        return {
            "stages": {
                s["name"]: {
                    "deals": s["deals"],
                    "value": s["value"],
                    "titles": [c["title"] for c in s.get("cards") or []],
                }
                for s in self.stages
            },
            "selected": None if deal is None else deal["id"],
            "column": None if self.current_stage is None else self.current_stage["name"],
        }
