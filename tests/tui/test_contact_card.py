"""The contact card driven as a user would: found by search, a call logged, a field edited,
tags on and off, a complaint resolved, a delete asked first, a contact deleted by another
process meanwhile, and a long timeline read a page at a time."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from crmcli.errors import NotFound
from crmcli.services import activities, contacts
from tests.conftest import NOW
from tests.tui.conftest import drive, settle


@pytest.fixture
def jm(db):
    """Jürgen Müller at Müller Bau with a work email, a mobile and one call on his timeline."""
    card = contacts.add_contact(
        "Jürgen Müller", company="Müller Bau GmbH", position="Bauleiter", city="Köln",
        emails=[{"email": "jm@mueller-bau.de", "kind": "work"}],
        phones=[{"phone": "0171 2345678", "kind": "mobile"}], tags_=["b2b"], now=NOW,
    )  # fmt: skip
    contacts.add_contact("Anna Weiß", city="Berlin", now=NOW)
    activities.log_activity(
        "call", contact_id=card["id"], occurred_at=NOW - timedelta(days=3),
        subject="Erstgespräch", now=NOW,
    )  # fmt: skip
    return card["id"]


def card_of(app):
    screen = app.screen
    assert type(screen).__name__ == "ContactCard"
    return screen


async def open_card(pilot, contact_id: int):
    pilot.app.open_contact(contact_id)
    await settle(pilot)
    return card_of(pilot.app)


@pytest.mark.both_backends
def test_search_opens_the_card_and_a_logged_call_lands_on_the_timeline(tui, jm):
    async def scenario(pilot):
        await pilot.press("slash", *"muell", "enter", "enter")
        await settle(pilot)
        card = card_of(pilot.app)
        assert card.card["id"] == jm
        assert "Müller Bau GmbH" in str(card.query_one("#title").render())
        assert [a["subject"] for a in card.timeline.items] == ["Erstgespräch"]
        await pilot.press("l")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#field-subject").value = "Angebot"
        form.query_one("#field-body").text = "Rückruf besprochen"
        form.query_one("#field-when").value = "morgen"  # the future: refused as typed
        await settle(pilot)
        assert "future" in str(form.query_one("#error-when").render())
        form.query_one("#field-when").value = "gestern 14:00"
        form.query_one("#field-direction").value = "out"
        form.query_one("#field-duration_min").value = "15m"
        await settle(pilot)
        assert str(form.query_one("#error-when").render()) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is card
        [logged, _] = activities.list_activities(contact_id=jm)
        assert (logged["kind"], logged["subject"], logged["body"]) == (
            "call", "Angebot", "Rückruf besprochen")  # fmt: skip
        assert (logged["direction"], logged["duration_min"]) == ("out", 15)
        assert logged["occurred_at"] == datetime(2026, 11, 22, 13, 0, tzinfo=UTC)  # 14:00 Berlin
        assert card.timeline.items[0]["id"] == logged["id"]
        assert card.timeline.total == 2

    drive(tui("contacts"), scenario)


def test_a_future_call_is_refused_by_the_service_too(tui, jm):
    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("l")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#field-kind").value = "note"  # a note without text: refused on save
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form  # still open to fix it
        assert activities.count_of(jm) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is card

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
def test_edit_changes_what_was_changed_and_nothing_else(tui, jm):
    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert form.query_one("#field-city").value == "Köln"  # prefilled
        form.query_one("#field-birthday").value = "31.02.1970"
        await settle(pilot)
        assert str(form.query_one("#error-birthday").render())  # refused as typed
        form.query_one("#field-birthday").value = "24.12.1968"
        form.query_one("#field-city").value = "Bonn"
        form.query_one("#field-position").value = ""  # emptied: cleared
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is card
        after = contacts.get_contact(jm)
        assert (after["city"], after["position"], str(after["birthday"])) == (
            "Bonn", None, "1968-12-24")  # fmt: skip
        # Untouched: the primary email keeps its kind, the company stays.
        assert after["emails"] == [{"email": "jm@mueller-bau.de", "kind": "work", "primary": True}]
        assert after["company"] == "Müller Bau GmbH"
        assert card.card["city"] == "Bonn"  # the card read again

    drive(tui("contacts"), scenario)


def test_tag_and_untag(tui, jm):
    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("plus")
        await settle(pilot)
        pilot.app.screen.query_one("#field-tags").value = "vip, newsletter"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert contacts.get_contact(jm)["tags"] == ["b2b", "newsletter", "vip"]
        assert card.card["tags"] == ["b2b", "newsletter", "vip"]
        await pilot.press("minus")
        await settle(pilot)
        pilot.app.screen.query_one("#field-tag").value = "vip"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert contacts.get_contact(jm)["tags"] == ["b2b", "newsletter"]
        assert pilot.app.screen is card

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
def test_resolve_the_selected_complaint(tui, jm):
    complaint = activities.log_activity(
        "complaint", contact_id=jm, subject="Lieferung beschädigt", now=NOW
    )

    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("down")  # the call: nothing to resolve
        await pilot.press("r")
        await settle(pilot)
        assert pilot.app.screen is card
        await pilot.press("up")  # the complaint, newest
        assert card.timeline.current["id"] == complaint["id"]
        await pilot.press("enter")  # the whole activity
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ActivityView"
        assert pilot.app.screen.activity["subject"] == "Lieferung beschädigt"
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is card
        await pilot.press("r")
        await settle(pilot)
        pilot.app.screen.query_one("#field-note").value = "Ersatz geliefert"
        await pilot.press("ctrl+s")
        await settle(pilot)
        done = activities.get_activity(complaint["id"])
        assert (done["status"], done["resolution"]) == ("resolved", "Ersatz geliefert")
        assert card.timeline.current["status"] == "resolved"  # read again, same row

    drive(tui("contacts"), scenario)


def test_delete_asks_first(tui, jm):
    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert pilot.app.screen is card
        assert contacts.get_contact(jm)["name"] == "Jürgen Müller"
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(NotFound):
            contacts.get_contact(jm)
        assert type(pilot.app.screen).__name__ == "ContactsScreen"
        assert pilot.app.screen.table.total == 1  # the list read again

    drive(tui("contacts"), scenario)


def test_a_contact_deleted_by_another_process_closes_its_card(tui, db, jm):
    async def scenario(pilot):
        await open_card(pilot, jm)
        script = (
            "import sys; from crmcli.db import open_database; "
            "from crmcli.services import contacts; db = open_database(sys.argv[1]); "
            f"contacts.delete_contact({jm}); db.close()"
        )
        subprocess.run([sys.executable, "-c", script, str(db.database)], check=True)
        await pilot.app.check_changes()  # what the one-second poll does
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ContactsScreen"

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
def test_a_long_timeline_opens_with_its_first_page_and_reads_more_at_the_end(tui, jm):
    from crmcli.models import database_proxy

    with database_proxy.obj.atomic():
        for i in range(299):
            activities.log_activity(
                "email", contact_id=jm, occurred_at=NOW - timedelta(minutes=i + 1),
                subject=f"Mail {i}", now=NOW,
            )  # fmt: skip

    async def scenario(pilot):
        card = await open_card(pilot, jm)
        timeline = card.timeline
        assert (len(timeline.items), timeline.total, timeline.pages_read) == (50, 300, 0)
        assert "Timeline (300)" in str(card.query_one("#tabs").get_tab("timeline").label)
        await pilot.press("end")
        await settle(pilot)
        assert timeline.pages_read >= 1  # the next page (or two) came in behind the cursor
        assert len(timeline.items) == 50 * (1 + timeline.pages_read) < 300
        for _ in range(6):
            await pilot.press("end")
            await settle(pilot)
        ids = [a["id"] for a in timeline.items]
        assert len(ids) == 300 == len(set(ids)) and timeline.exhausted
        assert timeline.items[-1]["subject"] == "Erstgespräch"  # the oldest, last
        assert timeline.row_count == 300

    drive(tui("contacts"), scenario)


def test_company_and_deal_open_from_the_card(tui, jm):
    from crmcli.services import deals

    deal = deals.add_deal("Dach Köln", contact_id=jm, now=NOW)

    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert card.query_one("#tabs").active == "deals"
        assert card.query_one("#deals-table").has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "DealCard"
        assert pilot.app.screen.item_id == deal["id"]
        pilot.app.pop_screen()  # the deal card is another helper's: back by hand
        await settle(pilot)
        assert pilot.app.screen is card
        await pilot.press("c")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CompanyCard"
        assert pilot.app.screen.item_id == contacts.get_contact(jm)["company_id"]

    drive(tui("contacts"), scenario)


def test_t_adds_a_task_for_the_contact(tui, jm):
    from crmcli.services import tasks

    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.press("t")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#field-title").value = "Angebot nachfassen"
        form.query_one("#field-due").value = "fr 9:00"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is card
        [task] = tasks.open_tasks_of(jm, now=NOW)
        assert (task["title"], task["contact_id"]) == ("Angebot nachfassen", jm)
        assert [t["id"] for t in card.card["open_tasks"]] == [task["id"]]
        assert card.query_one("#tasks-table").row_count == 1

    drive(tui("contacts"), scenario)


def test_tabs_open_with_a_click(tui, jm):
    async def scenario(pilot):
        card = await open_card(pilot, jm)
        await pilot.click("#tabs Tab#--content-tab-details-pane")
        await settle(pilot)
        assert card.query_one("#tabs").active == "details-pane"
        from rich.console import Console

        console = Console(width=100, record=True, file=io.StringIO())
        console.print(card._details(card.card))
        details = console.export_text()
        assert "jm@mueller-bau.de (work)" in details
        assert "0171 2345678 (mobile)" in details or "+49 171 2345678 (mobile)" in details
        assert "Bauleiter" in details and "b2b" in details
        # what a mailing would do, not the old flag's yes or nothing
        assert [line.split() for line in details.splitlines() if "Consent" in line] == [
            ["Consent", "none"]
        ]

    drive(tui("contacts"), scenario)


def test_a_call_logged_by_another_process_shows_on_the_open_card(tui, db, jm):
    async def scenario(pilot):
        card = await open_card(pilot, jm)
        script = (
            "import sys; from crmcli.db import open_database; "
            "from crmcli.services import activities; db = open_database(sys.argv[1]); "
            f"activities.log_activity('complaint', contact_id={jm}, subject='Rechnung falsch'); "
            "db.close()"
        )
        subprocess.run([sys.executable, "-c", script, str(db.database)], check=True)
        await pilot.app.check_changes()  # what the one-second poll does
        await settle(pilot)
        assert card.timeline.items[0]["subject"] == "Rechnung falsch"
        assert card.card["open_issues"] == 1
        assert "1 open" in str(card.query_one("#summary").render())

    drive(tui("contacts"), scenario)


def test_deleted_meanwhile_under_an_open_form_the_save_fails_and_the_card_closes(tui, db, jm):
    async def scenario(pilot):
        await open_card(pilot, jm)
        await pilot.press("l")
        await settle(pilot)
        form = pilot.app.screen
        contacts.delete_contact(jm)  # cron, say, while the user types
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form  # refused, as a notification: still open
        assert any("no contact" in n.message for n in pilot.app._notifications)
        await pilot.app.check_changes()  # the poll; the card under the form is stale now
        await settle(pilot)
        assert pilot.app.screen is form
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ContactsScreen"

    drive(tui("contacts"), scenario)


def test_space_on_the_tasks_tab_ticks_a_task_off(tui):
    from crmcli.services import tasks

    person = contacts.add_contact("Tina Tasker", now=NOW)
    task = tasks.add_task("Rückruf", contact_id=person["id"], now=NOW)

    async def scenario(pilot):
        pilot.app.open_contact(person["id"])
        await settle(pilot)
        await pilot.press("space")  # on the timeline: a hint, nothing done
        await settle(pilot)
        assert not tasks.get_task(task["id"])["done"]
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)
        assert tasks.get_task(task["id"])["done"]

    drive(tui(), scenario)


def test_the_orders_tab_shows_the_newest_orders_and_what_they_buy(tui, jm):
    from textual.widgets import DataTable, TabbedContent

    from crmcli.services import orders, products
    from crmcli.services.orders import Item

    products.add_product("KAF", "Kaffee", price_cents=8_90, vat_bp=700, category="Kaffee",
                         cost_cents=4_00, now=NOW)  # fmt: skip
    orders.add_order(jm, [Item("KAF", 2)], ordered_at=NOW - timedelta(days=9), status="paid",
                     channel="shop", external_id="#1001", now=NOW)  # fmt: skip
    orders.add_order(jm, [Item("KAF", 1)], ordered_at=NOW - timedelta(days=2), now=NOW)

    async def scenario(pilot):
        card = await open_card(pilot, jm)
        tabs = card.query_one(TabbedContent)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert tabs.active == "orders"
        assert str(tabs.get_tab("orders").label) == "Orders (2)"
        table = card.query_one("#orders-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [(r[1], r[2], r[4], r[6]) for r in rows] == [
            ("#2", "open", "1", "9,52 €"), ("#1001", "paid", "1", "19,05 €"),  # lines
        ]  # fmt: skip
        buys = str(card.query_one("#buys").render())
        assert "spent 26,70 € net" in buys and "Kaffee 100 %" in buys
        assert "margin 14,70 €" in buys  # 26,70 − 3 × 4,00

    drive(tui(), scenario)
