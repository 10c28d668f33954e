"""Pipeline: the sales process as a kanban board, a column per open stage with its deals by
close date (won and lost as narrow columns on a wide terminal). Arrows select a deal,
`>`/`<` (or shift+arrows) move it to the next/previous stage, `w` wins it, `x` loses it with
a reason, Enter opens it, `n` adds one. The mouse: a click selects a card; drag it onto
another column, or click a card and then another column's header, to move it there."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Footer, Static

from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmScreen
from crmcli.tui.widgets.board import Board, DealTile, StageColumn, money_text
from crmcli.tui.widgets.navbar import NavBar


def acting_user() -> str | None:
    from crmcli.services.users import acting_user as who

    return who()


class PipelineScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "select(-1, 0)", "Left", show=False),
        Binding("right", "select(1, 0)", "Right", show=False),
        Binding("up", "select(0, -1)", "Up", show=False),
        Binding("down", "select(0, 1)", "Down", show=False),
        Binding("home", "select(0, -100000)", "First", show=False),
        Binding("end", "select(0, 100000)", "Last", show=False),
        Binding("shift+right,greater_than_sign", "step(1)", "Next stage", key_display=">"),
        Binding("shift+left,less_than_sign", "step(-1)", "Prev stage", key_display="<"),
        Binding("w", "win", "Won"),
        Binding("x", "lose", "Lost"),
        Binding("enter", "open", "Open"),
        Binding("n", "new_deal", "New"),
        Binding("escape", "disarm", "Cancel", show=False),
    ]
    PAGE = 50

    def __init__(self, item_id: int | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.shown: dict[int, int] = {}  # stage id: how many of its deals are loaded
        self.grabbed: dict | None = None  # the card the mouse went down on
        self.armed: dict | None = None  # a clicked card: a click on a header moves it

    def compose(self) -> ComposeResult:
        yield NavBar("pipeline")
        yield Board()
        yield Static("", id="status", classes="status")
        yield Footer()

    @property
    def board(self) -> Board:
        return self.query_one(Board)

    def on_mount(self) -> None:
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    async def reload(self) -> None:
        from crmcli.services import board

        columns = await self.call(board.board, dict(self.shown), page=self.PAGE)
        await self.board.show(columns)
        if self.item_id is not None:
            self.board.select_deal(self.item_id)
            self.item_id = None
        elif self.board.selected_deal is None:
            self.board.select_first_deal()  # keys act at once: no empty first stage chosen
        self._status()

    def _status(self, note: str = "") -> None:
        closed = [s for s in self.board.stages if s["status"] != "open"]
        parts = [
            f"{s['name']} {s['deals']:,}" + (f" · {money_text(s['value'])}" if s["is_won"] else "")
            for s in closed
        ]
        open_ = [s for s in self.board.stages if s["status"] == "open"]
        total = sum(s["deals"] for s in open_)
        parts.insert(0, f"open {total:,}")
        if self.armed is not None:
            note = f"click a stage's header to move {self.armed['title']} there (Esc cancels)"
        self.query_one("#status", Static).update(note or " · ".join(parts))

    # -- keys ----------------------------------------------------------------------------

    async def action_select(self, columns: int, rows: int) -> None:
        self.armed = None
        board = self.board
        stage = board.current_stage
        if rows > 0 and stage is not None and board.on_more is False:
            cards = stage.get("cards") or []
            at_end = board.selection.row + rows >= len(cards)
            if at_end and stage["deals"] > len(cards) and rows == 1:
                await self._more(stage["id"])  # arrowing past the page loads the next
        board.move_selection(columns, rows)
        self._status()

    async def action_open(self) -> None:
        board = self.board
        if board.on_more and board.current_stage is not None:
            await self._more(board.current_stage["id"])
            return
        deal = board.selected_deal
        if deal is not None:
            self.crm.open_deal(deal["id"])

    async def _more(self, stage_id: int) -> None:
        stage = next(s for s in self.board.stages if s["id"] == stage_id)
        self.shown[stage_id] = len(stage.get("cards") or []) + self.PAGE
        try:
            await self.reload()
        except Failed:
            return

    def action_disarm(self) -> None:
        self.armed = None
        self._status()

    async def action_step(self, step: int) -> None:
        deal = self.board.selected_deal
        if deal is None:
            self.notify("no deal selected: choose one with the arrow keys or a click")
            return
        open_ = self.board.open_stages
        ids = [s["id"] for s in open_]
        i = ids.index(deal["stage_id"]) + step if deal["stage_id"] in ids else -1
        if not 0 <= i < len(open_):
            where = "last" if step > 0 else "first"
            self.notify(f"{deal['stage']} is the {where} open stage (w: won, x: lost)")
            return
        await self._move(deal, open_[i])

    async def _move(self, deal: dict, stage: dict) -> None:
        """Move `deal` to `stage` (won: win it, lost: ask why) as `crm move` does."""
        from crmcli.services import deals

        self.armed = None
        if stage["id"] == deal["stage_id"]:
            return
        if stage["status"] == "won":
            await self._win(deal)
            return
        if stage["status"] == "lost":
            self._ask_lost(deal)
            return
        try:
            moved = await self.call(
                deals.move_deal, deal["id"], str(stage["id"]), now=self.crm.now(), by=acting_user()
            )
        except Failed:
            await self._after_write()
            return
        self.notify(f"Moved {moved['title']} to {moved['stage']}")
        await self._after_write(moved["id"])

    async def _after_write(self, follow: int | None = None) -> None:
        """After a write: every screen reads again (this one through changed()), selecting
        `follow` (the deal just moved) when it is on the board."""
        if follow is not None:
            self.item_id = follow
        self.crm.wrote()

    async def action_win(self) -> None:
        deal = self.board.selected_deal
        if deal is not None:
            await self._win(deal)

    async def _win(self, deal: dict) -> None:
        from crmcli.services import deals

        try:
            won = await self.call(deals.win_deal, deal["id"], now=self.crm.now(), by=acting_user())
        except Failed:
            await self._after_write()
            return
        self.notify(f"Won {won['title']} ({money_text(won['amount'], won['currency'])})")
        await self._after_write()

    def action_lose(self) -> None:
        deal = self.board.selected_deal
        if deal is not None:
            self._ask_lost(deal)

    def _ask_lost(self, deal: dict) -> None:
        from crmcli.tui.screens.deal_forms import LostForm

        def done(card: dict | None) -> None:
            if card is not None:
                self.run_worker(self._after_write(), group="write")

        self.app.push_screen(LostForm(deal), done)

    def action_new_deal(self) -> None:
        from crmcli.tui.screens.deal_forms import NewDealForm

        stage = self.board.current_stage

        def done(card: dict | None) -> None:
            if card is not None:
                self.run_worker(self._after_write(card["id"]), group="write")

        self.app.push_screen(
            NewDealForm(self.board.open_stages, stage["id"] if stage else None), done
        )

    # -- the mouse -----------------------------------------------------------------------

    def _under(self, event: events.MouseEvent, kind: type[Widget]) -> Widget | None:
        """The `kind` widget under the pointer (a card, a column), or None."""
        try:
            widget, _ = self.get_widget_at(event.screen_x, event.screen_y)
        except Exception:  # outside the screen
            return None
        node: DOMNode | None = widget
        while node is not None and not isinstance(node, kind):
            node = node.parent
        return node if isinstance(node, kind) else None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        tile = self._under(event, DealTile)
        self.grabbed = tile.deal if isinstance(tile, DealTile) else None

    async def on_mouse_up(self, event: events.MouseUp) -> None:
        deal, self.grabbed = self.grabbed, None
        column = self._under(event, StageColumn)
        dragged = isinstance(column, StageColumn) and deal is not None
        if dragged and deal["stage_id"] != column.stage["id"]:  # type: ignore[index,union-attr]
            await self._move(deal, column.stage)  # type: ignore[arg-type,union-attr]

    @on(Board.CardClicked)
    def _clicked(self, event: Board.CardClicked) -> None:
        self.board.select_deal(event.deal["id"])
        self.armed = event.deal
        self._status()

    @on(Board.HeaderClicked)
    async def _header(self, event: Board.HeaderClicked) -> None:
        deal, self.armed = self.armed, None
        if deal is not None and deal["stage_id"] != event.stage["id"]:
            await self._move(deal, event.stage)
        else:
            self._status()

    @on(Board.MoreClicked)
    async def _more_clicked(self, event: Board.MoreClicked) -> None:
        await self._more(event.stage_id)
