"""The companies list and card driven as a user would: search as you type, open, the people
and timeline on the card, an edit, a delete that keeps the people."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from crmcli.errors import NotFound
from crmcli.services import activities, companies, contacts
from tests.conftest import NOW
from tests.tui.conftest import drive, settle


@pytest.fixture
def firm(db):
    """Müller Bau (Köln) with two people and a call each; three other companies."""
    for name, city in (("Schmidt AG", "Berlin"), ("Weiß & Söhne", "Bonn"), ("Acme", "Aachen")):
        companies.add_company(name, city=city, now=NOW)
    jm = contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)
    anna = contacts.add_contact("Anna Weiß", company="Müller Bau GmbH", now=NOW)
    for i, person in enumerate((jm, anna)):
        activities.log_activity(
            "call", contact_id=person["id"], occurred_at=NOW - timedelta(days=i + 1),
            subject=f"Anruf {i}", now=NOW,
        )  # fmt: skip
    companies.edit_company(jm["company_id"], {"city": "Köln"}, now=NOW)
    return jm["company_id"]


@pytest.mark.both_backends
def test_the_list_sorts_and_search_opens_the_card(tui, firm):
    async def scenario(pilot):
        screen = pilot.app.screen
        assert type(screen).__name__ == "CompaniesScreen"
        table = screen.table
        assert table.total == 4 and table.current["name"] == "Acme"
        assert "rows 1-4 of 4" in str(screen.query_one("#status").render())
        await pilot.press("s")  # by city
        await settle(pilot)
        assert [r["city"] for r in table.state()["rows"]] == ["Aachen", "Berlin", "Bonn", "Köln"]
        await pilot.press("slash", *"muel")
        await settle(pilot)
        assert table.total == 1 and table.current["id"] == firm
        await pilot.press("enter", "enter")
        await settle(pilot)
        card = pilot.app.screen
        assert type(card).__name__ == "CompanyCard" and card.item_id == firm
        people = card.query_one("#people-table")
        assert people.row_count == 2
        assert [a["subject"] for a in card.timeline.items] == ["Anruf 0", "Anruf 1"]
        await pilot.press("enter")  # the first person (by name): Anna
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ContactCard"
        assert pilot.app.screen.card["name"] == "Anna Weiß"

    drive(tui("companies"), scenario)


@pytest.mark.both_backends
def test_edit_the_company_from_its_card(tui, firm):
    async def scenario(pilot):
        pilot.app.open_company(firm)
        await settle(pilot)
        card = pilot.app.screen
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert form.query_one("#field-city").value == "Köln"
        form.query_one("#field-email").value = "kein mail"
        await settle(pilot)
        assert str(form.query_one("#error-email").render())  # refused as typed
        form.query_one("#field-email").value = "info@mueller-bau.de"
        form.query_one("#field-industry").value = "Bau"
        form.query_one("#field-city").value = ""  # emptied: cleared
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is card
        after = companies.get_company(firm)
        assert (after["email"], after["industry"], after["city"]) == (
            "info@mueller-bau.de", "Bau", None)  # fmt: skip
        assert after["name"] == "Müller Bau GmbH"
        assert "Bau" in str(card.query_one("#title").render())

    drive(tui("companies"), scenario)


def test_delete_asks_and_keeps_the_people(tui, firm):
    async def scenario(pilot):
        pilot.app.open_company(firm)
        await settle(pilot)
        card = pilot.app.screen
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("escape")  # no
        await settle(pilot)
        assert pilot.app.screen is card and companies.get_company(firm)
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(NotFound):
            companies.get_company(firm)
        assert contacts.count_contacts() == 2
        assert type(pilot.app.screen).__name__ == "CompaniesScreen"
        assert pilot.app.screen.table.total == 3

    drive(tui("companies"), scenario)


def test_a_company_deleted_by_another_process_closes_its_card(tui, db, firm):
    async def scenario(pilot):
        pilot.app.open_company(firm)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CompanyCard"
        script = (
            "import sys; from crmcli.db import open_database; "
            "from crmcli.services import companies; db = open_database(sys.argv[1]); "
            f"companies.delete_company({firm}); db.close()"
        )
        subprocess.run([sys.executable, "-c", script, str(db.database)], check=True)
        await pilot.app.check_changes()  # what the one-second poll does
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CompaniesScreen"
        assert pilot.app.screen.table.total == 3

    drive(tui("companies"), scenario)
