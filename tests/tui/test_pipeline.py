"""The pipeline board and the deal card: deals moved with keys and the mouse, won, lost with
a reason, added with the form, edited and deleted on the card; asserted on the database."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from crmcli.models import Deal, DealStageChange
from crmcli.services import contacts, deals
from tests.conftest import NOW
from tests.tui.conftest import drive, settle


def _deal(title: str, stage: str = "Lead", close: date | None = None, cents: int = 1234_50):
    person = contacts.add_contact(f"Kunde {title}")
    return deals.add_deal(
        title, contact_id=person["id"], stage=stage, amount_cents=cents,
        expected_close=close or date(2026, 12, 24), now=NOW,
    )  # fmt: skip


def _stage(deal_id: int) -> str:
    return deals.get_deal(deal_id)["stage"]


def _steps(deal_id: int) -> list[str]:
    return [h["to_stage"] for h in deals.history_of(deal_id)]


@pytest.mark.both_backends
def test_keys_move_a_deal_across_the_board_and_the_history_is_recorded(tui):
    first = _deal("Dachsanierung Köln", close=date(2026, 12, 1))
    _deal("Solaranlage Bonn", close=date(2026, 12, 20))

    async def scenario(pilot):
        board = pilot.app.screen.board
        state = board.state()
        assert state["selected"] == first["id"]
        assert state["stages"]["Lead"]["deals"] == 2
        assert state["stages"]["Lead"]["titles"] == ["Dachsanierung Köln", "Solaranlage Bonn"]
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert _stage(first["id"]) == "Qualifiziert"
        assert board.state()["selected"] == first["id"]  # the selection follows the deal
        await pilot.press("shift+right", "shift+right")
        await settle(pilot)
        assert _stage(first["id"]) == "Verhandlung"
        await pilot.press("less_than_sign")
        await settle(pilot)
        assert _stage(first["id"]) == "Angebot"
        assert board.state()["stages"]["Angebot"]["titles"] == ["Dachsanierung Köln"]

    drive(tui("pipeline"), scenario)
    assert _steps(first["id"]) == ["Lead", "Qualifiziert", "Angebot", "Verhandlung", "Angebot"]


@pytest.mark.both_backends
def test_lost_asks_for_a_reason_and_won_wins(tui):
    a = _deal("Alpha", close=date(2026, 12, 1))
    b = _deal("Beta", close=date(2026, 12, 2))

    async def scenario(pilot):
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")  # no reason: refused, the form stays
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LostForm"
        assert deals.get_deal(a["id"])["status"] == "open"
        await pilot.press(*"Preis zu hoch", "enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PipelineScreen"
        assert pilot.app.screen.board.state()["selected"] == b["id"]
        await pilot.press("w")
        await settle(pilot)
        state = pilot.app.screen.board.state()
        assert state["stages"]["Lead"]["deals"] == 0
        assert state["stages"]["Gewonnen"]["deals"] == 1

    drive(tui("pipeline"), scenario)
    lost = deals.get_deal(a["id"])
    assert lost["status"] == "lost" and lost["lost_reason"] == "Preis zu hoch"
    assert deals.get_deal(b["id"])["status"] == "won"


def test_new_deal_form(tui):
    person = contacts.add_contact("Jürgen Müller")

    async def scenario(pilot):
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        await pilot.press(*"Dach Köln")
        form.query_one("#field-contact").value = "müller"
        form.query_one("#field-amount").value = "12.5x"
        await settle(pilot)
        assert "amount" in str(form.query_one("#error-amount").render()).lower() or str(
            form.query_one("#error-amount").render()
        )
        form.query_one("#field-amount").value = "1.234,50"
        form.query_one("#field-close").value = "24.12.2026"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PipelineScreen"
        assert pilot.app.screen.board.state()["stages"]["Lead"]["titles"] == ["Dach Köln"]

    drive(tui("pipeline"), scenario)
    made = deals.list_deals()
    assert len(made) == 1
    d = made[0]
    assert (d["title"], d["contact_id"], d["stage"]) == ("Dach Köln", person["id"], "Lead")
    assert d["amount"] == Decimal("1234.50")
    assert d["expected_close"] == date(2026, 12, 24)


def test_mouse_click_selects_and_header_click_or_drag_moves(tui):
    a = _deal("Alpha", close=date(2026, 12, 1))
    b = _deal("Beta", close=date(2026, 12, 2))

    async def scenario(pilot):
        screen = pilot.app.screen
        tiles = list(screen.query("DealTile"))
        beta = next(t for t in tiles if t.deal["id"] == b["id"])
        await pilot.click(beta)
        await settle(pilot)
        assert screen.board.state()["selected"] == b["id"]
        await pilot.press("greater_than_sign")  # click-select then key
        await settle(pilot)
        assert _stage(b["id"]) == "Qualifiziert"
        alpha = next(t for t in screen.query("DealTile") if t.deal["id"] == a["id"])
        await pilot.click(alpha)
        header = screen.board.column_of(
            next(s["id"] for s in screen.board.stages if s["name"] == "Angebot")
        ).query_one("ColumnHeader")
        await pilot.click(header)  # click a card, then a column's header
        await settle(pilot)
        assert _stage(a["id"]) == "Angebot"
        alpha = next(t for t in screen.query("DealTile") if t.deal["id"] == a["id"])
        target = screen.board.column_of(
            next(s["id"] for s in screen.board.stages if s["name"] == "Verhandlung")
        )
        await pilot.mouse_down(alpha)
        await pilot.mouse_up(target)  # dragged onto Verhandlung
        await settle(pilot)
        assert _stage(a["id"]) == "Verhandlung"
        beta = next(t for t in screen.query("DealTile") if t.deal["id"] == b["id"])
        won = screen.board.column_of(
            next(s["id"] for s in screen.board.stages if s["status"] == "won")
        )
        await pilot.mouse_down(beta)
        await pilot.mouse_up(won)  # dropped on Gewonnen: won
        await settle(pilot)
        assert deals.get_deal(b["id"])["status"] == "won"

    drive(tui("pipeline"), scenario)
    assert _steps(a["id"]) == ["Lead", "Angebot", "Verhandlung"]


def test_a_big_stage_shows_a_page_and_loads_more(tui):
    person = contacts.add_contact("Viel Kunde")
    from crmcli.models import database_proxy

    with database_proxy.obj.atomic():
        for i in range(120):
            deals.add_deal(
                f"Deal {i:03d}", contact_id=person["id"], expected_close=date(2027, 1, 1)
            )

    async def scenario(pilot):
        screen = pilot.app.screen
        assert len(screen.query("DealTile")) == 50
        assert "+ 70 more" in str(screen.query_one("MoreTile").render())
        await pilot.press("end", "enter")
        await settle(pilot)
        assert len(screen.query("DealTile")) == 100

    drive(tui("pipeline"), scenario)


def test_a_deal_moved_by_another_process_shows(tui, db_target):
    a = _deal("Alpha")

    async def scenario(pilot):
        board = pilot.app.screen.board
        assert board.state()["stages"]["Lead"]["titles"] == ["Alpha"]
        subprocess.run(
            [sys.executable, "-m", "crmcli", "--db", db_target, "move", str(a["id"]), "Angebot"],
            check=True, capture_output=True,
        )  # fmt: skip
        await pilot.app.check_changes()
        await settle(pilot)
        assert board.state()["stages"]["Angebot"]["titles"] == ["Alpha"]
        assert board.state()["stages"]["Lead"]["titles"] == []

    drive(tui("pipeline"), scenario)


def test_the_deal_card_moves_loses_reopens_and_wins(tui):
    a = _deal("Alpha")
    from crmcli.services import activities

    activities.log_activity(
        "call", contact_id=a["contact_id"], deal_id=a["id"], subject="Angebot besprochen", now=NOW
    )

    async def scenario(pilot):
        await pilot.press("enter")
        await settle(pilot)
        card = pilot.app.screen
        assert type(card).__name__ == "DealCard" and card.card["id"] == a["id"]
        timeline = card.query_one("#timeline")
        assert timeline.row_count == 1 and "Angebot besprochen" in timeline.get_row_at(0)
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert _stage(a["id"]) == "Qualifiziert"
        await pilot.press("x", *"Kein Budget", "enter")
        await settle(pilot)
        assert deals.get_deal(a["id"])["lost_reason"] == "Kein Budget"
        await pilot.press("r")
        await settle(pilot)
        assert _stage(a["id"]) == "Qualifiziert"
        await pilot.press("w")
        await settle(pilot)
        assert card.card["status"] == "won"
        assert card.query_one("#history").row_count == len(deals.history_of(a["id"])) == 5

    drive(tui("pipeline"), scenario)
    assert deals.get_deal(a["id"])["status"] == "won"
    assert _steps(a["id"]) == ["Lead", "Qualifiziert", "Verloren", "Qualifiziert", "Gewonnen"]


def test_the_deal_card_edits_opens_the_contact_and_deletes(tui):
    a = _deal("Alpha")

    async def scenario(pilot):
        pilot.app.open_deal(a["id"])
        await settle(pilot)
        card = pilot.app.screen
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert form.query_one("#field-amount").value == "1.234,50"
        assert form.query_one("#field-close").value == "24.12.2026"
        form.query_one("#field-amount").value = "2.000"
        form.query_one("#field-owner").value = "Anna"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is card and card.card["owner"] == "Anna"
        saved = deals.get_deal(a["id"])
        assert (saved["amount"], saved["owner"]) == (Decimal("2000.00"), "Anna")
        await pilot.press("c")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ContactCard"
        pilot.app.pop_screen()
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("n")  # asked first: no keeps it
        await settle(pilot)
        assert Deal.select().where(Deal.id == a["id"]).exists()
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PipelineScreen"

    drive(tui("pipeline"), scenario)
    assert not Deal.select().where(Deal.id == a["id"]).exists()
    assert not DealStageChange.select().where(DealStageChange.deal == a["id"]).exists()
    assert deals.list_deals() == []


def test_the_first_deal_is_selected_even_when_the_first_stage_is_empty(tui):
    """Keys act at once: with nothing in Lead, the board opens on the first card there is."""
    later = _deal("Wartungsvertrag", stage="Angebot")

    async def scenario(pilot):
        assert pilot.app.screen.board.state()["selected"] == later["id"]
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert _stage(later["id"]) == "Verhandlung"

    drive(tui("pipeline"), scenario)


@pytest.mark.both_backends
def test_a_deal_deleted_by_another_process_closes_its_card(tui):
    deal = _deal("Verschwindet")

    async def scenario(pilot):
        app = pilot.app
        app.open_deal(deal["id"])
        await settle(pilot)
        assert type(app.screen).__name__ == "DealCard"
        deals.delete_deal(deal["id"])  # another connection: the poll sees it
        await app.check_changes()
        await settle(pilot)
        assert type(app.screen).__name__ == "PipelineScreen"
        assert any("was deleted" in n.message for n in app._notifications)
        assert not any(n.title == "Not done" for n in app._notifications)

    drive(tui("pipeline"), scenario)
