"""`crm tui`: the full-screen CRM."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c

SCREENS = ("today", "contacts", "companies", "tasks", "pipeline", "reports")


def tui(
    screen: Annotated[
        str,
        typer.Option(
            "--screen",
            metavar="SCREEN",
            help=f"Open on this screen: {', '.join(SCREENS)}.",
        ),
    ] = "today",
) -> None:
    """Open the full-screen CRM: today's work, contacts, companies, tasks, the pipeline
    board and reports, with the keys shown at the bottom (? lists them all).

    It shows what other crm processes write (cron's reminders, scripts) within two seconds.

    Example:

    \b
    crm tui --screen contacts
    """
    from crmcli.errors import Invalid

    if screen not in SCREENS:
        raise Invalid("screen", f"no screen '{screen}' (choose {', '.join(SCREENS)})")
    env = c.current()
    if not (env.stdin_isatty and env.stdout_isatty):
        raise Invalid(
            None,
            "crm tui needs a terminal (stdin and stdout); "
            "for scripts use crm list, crm show and crm report",
        )
    db = c.db()
    from crmcli.tui.app import make_app

    make_app(db, now=env.now, start=screen).run()
