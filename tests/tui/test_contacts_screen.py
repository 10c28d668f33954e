"""The contacts screen: a paged table over every contact, search as you type, filters, sort,
Enter opens the card, and other processes' writes shown without a keypress."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crmcli.services import contacts
from tests.conftest import NOW
from tests.tui.conftest import drive, settle


def _people(n: int) -> None:
    from crmcli.models import Contact, database_proxy

    with database_proxy.obj.atomic():
        for i in range(n):
            contacts.add_contact(
                f"Person {i:04d}", city="Köln" if i % 2 else "Berlin",
                status="customer" if i % 3 == 0 else "lead", now=NOW,
            )  # fmt: skip
    assert Contact.select().count() >= n


@pytest.mark.both_backends
def test_the_table_pages_in_and_end_jumps_to_the_last_contact(tui):
    _people(450)
    contacts.add_contact("Zacharias Zündel", now=NOW)

    async def scenario(pilot):
        table = pilot.app.screen.table
        state = table.state()
        assert state["total"] == 451
        assert state["rows"][0]["name"] == "Person 0000"
        assert len(table._pages) <= 2  # a page or two, never the table
        await pilot.press("end")
        await settle(pilot)
        assert table.current["name"] == "Zacharias Zündel"
        status = str(pilot.app.screen.query_one("#status").render())
        assert "of 451" in status
        await pilot.press("home", "down", "down")
        await settle(pilot)
        assert table.current["name"] == "Person 0002"
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.cursor > 2 and table.current is not None

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
def test_search_as_you_type_filters_and_enter_opens_the_card(tui):
    _people(30)
    target = contacts.add_contact("Jürgen Müller", city="Köln", now=NOW)

    async def scenario(pilot):
        await pilot.press("slash", *"mueller")
        await settle(pilot)
        table = pilot.app.screen.table
        assert table.total == 1 and table.current["id"] == target["id"]
        await pilot.press("enter")  # leaves the search box for the table
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ContactCard"

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
def test_filters_and_sort(tui):
    _people(40)

    async def scenario(pilot):
        screen = pilot.app.screen
        await pilot.press("f")
        await settle(pilot)
        dialog = pilot.app.screen
        dialog.query_one("#field-city").value = "koeln"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.table.total == 20
        assert {r["city"] for r in screen.table.state()["rows"] if r} == {"Köln"}
        assert "filter: city koeln" in str(screen.query_one("#status").render())
        await pilot.press("S")  # reverse
        await settle(pilot)
        assert screen.table.current["name"] == "Person 0039"
        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        assert screen.table.total == 40
        await pilot.press("S", "s")  # back to ascending, then the next sort: by city
        await settle(pilot)
        assert "by city" in str(screen.query_one("#status").render())
        rows = screen.table.state()["rows"]
        assert [r["city"] for r in rows[:2]] == ["Berlin", "Berlin"]
        assert [r["name"] for r in rows[:2]] == ["Person 0000", "Person 0002"]
        await pilot.press("s")  # by status
        await settle(pilot)
        assert "by status" in str(screen.query_one("#status").render())
        assert screen.table.state()["rows"][0]["status"] == "customer"

    drive(tui("contacts"), scenario)


def test_a_contact_added_by_another_process_appears_without_a_keypress(tui, db):
    _people(3)

    async def scenario(pilot):
        table = pilot.app.screen.table
        assert table.total == 3
        script = (
            "import sys; from crmcli.db import open_database; "
            "from crmcli.services import contacts; db = open_database(sys.argv[1]); "
            "contacts.add_contact('Aaron Außenseiter'); db.close()"
        )
        subprocess.run([sys.executable, "-c", script, str(db.database)], check=True)
        await pilot.app.check_changes()  # what the one-second poll does
        await settle(pilot)
        assert table.total == 4
        assert table.state()["rows"][0]["name"] == "Aaron Außenseiter"

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
def test_a_new_contact_from_the_form_checks_as_you_type_and_lands(tui):
    async def scenario(pilot):
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#field-name").value = "Ölfa Ünal"
        form.query_one("#field-email").value = "not an email"
        await settle(pilot)
        assert "email" in str(form.query_one("#error-email").render()).lower()
        await form.action_save()
        await settle(pilot)
        assert pilot.app.screen is form  # refused: still open, nothing written
        assert contacts.count_contacts() == 0
        form.query_one("#field-email").value = "oelfa@example.de"
        form.query_one("#field-phone").value = "0171 2345678"
        await settle(pilot)
        assert str(form.query_one("#error-email").render()) == ""
        await form.action_save()
        await settle(pilot)
        [made] = contacts.list_contacts()
        # the phone kept as typed, with its E.164 form beside it (as crm add contact does)
        assert (made["name"], made["email"], made["phone"], made["phone_e164"]) == (
            "Ölfa Ünal", "oelfa@example.de", "0171 2345678", "+491712345678")  # fmt: skip
        assert type(pilot.app.screen).__name__ == "ContactCard"

    drive(tui("contacts"), scenario)


def test_one_letter_shows_the_names_beginning_with_it_and_more_letters_search(tui):
    for name in ("Ömer Yıldız", "Otto Berg", "Anna Otten", "Bernd Ohm"):
        contacts.add_contact(name, now=NOW)

    async def scenario(pilot):
        screen = pilot.app.screen
        await pilot.press("slash", "o")
        await settle(pilot)
        names = [r["name"] for r in screen.table.state()["rows"]]
        assert names == ["Ömer Yıldız", "Otto Berg"]
        assert "names beginning with 'o'" in str(screen.query_one("#status").render())
        await pilot.press("t")  # "ot": the search, every word: Otto, Otten
        await settle(pilot)
        assert sorted(r["name"] for r in screen.table.state()["rows"]) == [
            "Anna Otten",
            "Otto Berg",
        ]
        await pilot.press("escape")  # out of the box to the rows, the search kept
        await settle(pilot)
        assert screen.table.has_focus and screen.table.total == 2
        await pilot.press("escape")  # in the rows: the search cleared
        await settle(pilot)
        assert screen.table.total == 4

    drive(tui("contacts"), scenario)
