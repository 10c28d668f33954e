"""One process for bench/tui.py (headless):

tui_child.py crm DB      crm tui's contacts screen: exits once its first frame shows rows
tui_child.py bare        the yardstick: a minimal Textual app, a 50-row DataTable, same exit
tui_child.py memory DB   the contacts screen on a big database: End, pages, a search, a card
"""

from __future__ import annotations

import sys


def bare() -> None:
    from textual.app import App
    from textual.widgets import DataTable, Footer

    class Bare(App):
        def compose(self):
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Name", "Company", "Email", "Phone", "City", "Status")
            for i in range(50):
                table.add_row(f"Person {i}", "Firma GmbH", f"p{i}@example.de",
                              "+49 30 1234567", "Berlin", "lead")  # fmt: skip
            self.call_after_refresh(self.exit)

    Bare().run(headless=True, size=(120, 40))


def crm(path: str) -> None:
    """`crm --db PATH tui --screen contacts` as a person starts it (the console script's
    path: the CLI, the database, the app), drawn headless, until its first frame with rows.
    stdin and stdout are pipes here, so the command is told they are a terminal."""
    import crmcli.env
    from crmcli.tui import app as tui

    crmcli.env.stdout_is_terminal = crmcli.env.stdin_is_terminal = lambda: True
    run = tui.CrmApp.run

    def headless(app, *args, **kwargs):
        def check() -> None:
            table = getattr(app.screen, "table", None)
            if table is not None and table.loaded and table.row(0) is not None:
                timer.stop()
                app.call_after_refresh(app.exit)

        timer = None

        async def started() -> None:
            nonlocal timer
            timer = app.set_interval(0.002, check)

        app.call_later(started)
        return run(app, headless=True, size=(120, 40))

    tui.CrmApp.run = headless
    sys.argv = ["crm", "--db", path, "tui", "--screen", "contacts"]
    from crmcli.launch import main

    main()


def memory(path: str) -> None:
    import asyncio

    from crmcli.db import open_database
    from crmcli.tui.app import make_app

    async def main() -> None:
        app = make_app(open_database(path), start="contacts")
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.table
            while not table.loaded:
                await pilot.pause(0.01)
            for key in ("end", "pageup", "pageup", "home", "pagedown", "pagedown", "end"):
                await pilot.press(key)
                await app.workers.wait_for_complete()
            await pilot.press("slash", *"schmidt")
            await app.workers.wait_for_complete()
            await pilot.press("enter", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)

    asyncio.run(main())


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "bare":
        bare()
    elif mode == "crm":
        crm(sys.argv[2])
    else:
        memory(sys.argv[2])
