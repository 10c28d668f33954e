"""`crm import`: contacts and more from other programs' files, matched against what is there."""

from __future__ import annotations

import typer

from crmcli.commands.import_vcard import import_vcard

app = typer.Typer(
    help="Import contacts from vCard files (and CSV, iCalendar and JSON), matched against "
    "the contacts there so that nothing is duplicated.",
    rich_markup_mode=None,
)
app.command("vcard")(import_vcard)
