"""The app shell: number keys switch screens, `?` shows the keys, the command palette jumps
to a contact, company or deal by name, and a failing call is a notification, not a crash."""

from __future__ import annotations

import asyncio

import pytest

from crmcli.errors import NotFound
from crmcli.services import companies, contacts, deals
from crmcli.tui.gateway import Failed, describe
from tests.conftest import NOW
from tests.tui.conftest import drive, settle


def test_number_keys_switch_screens_and_question_mark_shows_the_keys(tui):
    async def scenario(pilot):
        app = pilot.app
        for key, mode in zip("234561", ["contacts", "companies", "tasks", "pipeline",
                                         "reports", "today"], strict=True):  # fmt: skip
            await pilot.press("escape", key)  # escape: out of any search box first
            await settle(pilot)
            assert app.current_mode == mode
        await pilot.press("question_mark")
        await settle(pilot)
        assert app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        await settle(pilot)
        assert not app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.press("escape")  # Esc closes the key list too, and nothing else
        await settle(pilot)
        assert not app.screen.query("HelpPanel") and app.current_mode == "today"

    drive(tui("contacts"), scenario)


@pytest.mark.both_backends
@pytest.mark.parametrize(
    ("query", "kind"), [("mueller jue", "ContactCard"), ("baeckerei", "CompanyCard"),
                        ("dachsanierung", "DealCard")],
)  # fmt: skip
def test_the_palette_jumps_to_a_record_by_a_folded_name(tui, query, kind):
    person = contacts.add_contact("Jürgen Müller", now=NOW)
    companies.add_company("Bäckerei Schmitt", now=NOW)
    deals.add_deal("Dachsanierung Müller", contact_id=person["id"], now=NOW)

    async def scenario(pilot):
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*query)
        await pilot.pause(0.5)  # the palette searches after a short debounce
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == kind

    drive(tui("contacts"), scenario)


def test_a_failing_call_is_a_notification_and_the_app_goes_on(tui):
    def gone() -> None:
        raise NotFound("no contact with id 99")

    async def scenario(pilot):
        app = pilot.app
        with pytest.raises(Failed):
            await app.call(gone)
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["no contact with id 99"]
        assert app.is_running

    drive(tui("contacts"), scenario)


def test_a_busy_database_is_worded_for_people():
    from peewee import OperationalError

    assert describe(OperationalError("database is locked")) == (
        "the database is busy (another crm is writing): try again in a moment"
    )


def test_a_lost_server_connection_is_worded_for_people():
    from peewee import InterfaceError, OperationalError

    for exc in (
        InterfaceError("connection already closed"),
        OperationalError("terminating connection due to administrator command\nserver closed "
                         "the connection unexpectedly"),
    ):  # fmt: skip
        assert describe(exc) == (
            "the connection to the database server was lost: a change in progress may not "
            "have been saved, check before you repeat it"
        )
    for exc in (  # the next call's new connection fails too: the server is still away
        OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection '
                         "refused\n\tIs the server running on that host and accepting TCP/IP "
                         "connections?"),
        OperationalError("FATAL:  the database system is shutting down"),
    ):  # fmt: skip
        assert describe(exc) == (
            "cannot reach the database server (down or restarting?): try again in a moment"
        )


def test_the_app_carries_on_after_the_server_dropped_its_connection(pg_migrated_url):
    """PostgreSQL ends a connection (a restart, an idle timeout): the next call of an open
    crm tui gets a new one instead of failing from then on."""
    import psycopg2

    from crmcli.db import open_database
    from crmcli.services import contacts
    from crmcli.tui.gateway import Gateway

    db = open_database(pg_migrated_url)
    contacts.add_contact("Anna Alt")
    gateway = Gateway(db)

    def names():
        return [c["name"] for c in contacts.list_contacts()]

    async def run():
        first = await gateway.call(names)
        pid = await gateway.call(lambda: db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
        admin = psycopg2.connect(pg_migrated_url)
        admin.autocommit = True
        admin.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
        admin.close()
        for _ in range(100):  # until the server has ended it
            probe = psycopg2.connect(pg_migrated_url)
            cursor = probe.cursor()
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            gone = cursor.fetchone()[0] == 0
            probe.close()
            if gone:
                break
            await asyncio.sleep(0.02)
        return first, await gateway.call(names), await gateway.call(names)

    try:
        assert asyncio.run(run()) == (["Anna Alt"],) * 3
    finally:
        gateway.close()
        db.close()


def test_the_palette_offers_the_screens_actions(tui):
    """Every action the screen has a key for is a palette command too (Filter, Sort, New...)."""
    for i in range(3):
        contacts.add_contact(f"Person {i}", city="Köln" if i else "Berlin", now=NOW)

    async def scenario(pilot):
        app = pilot.app
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Go to Tasks", "Filter", "Sort", "New", "Search"} <= set(titles)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"reverse")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.descending is True

    drive(tui("contacts"), scenario)


def test_no_color_gets_a_theme_that_stays_readable(tui, monkeypatch):
    """NO_COLOR: Textual's filter greys a theme out; on the ANSI theme it drew black on black."""
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario(pilot):
        assert pilot.app.no_color and pilot.app.theme == "textual-dark"

    drive(tui("contacts"), scenario)
    monkeypatch.delenv("NO_COLOR")

    async def colours(pilot):
        assert pilot.app.theme == "ansi-dark"

    drive(tui("contacts"), colours)
