"""`crm import`: contacts and more from other programs' files, matched against what is there."""

from __future__ import annotations

import typer

from crmcli.commands.import_vcard import import_vcard

app = typer.Typer(
    help="Import contacts from vCard files (and CSV, iCalendar and JSON), matched against "
    "the contacts there so that nothing is duplicated.\n\nExample:\n\n\b\n"
    "crm import vcard contacts.vcf --dry-run",
    no_args_is_help=True,
    add_completion=False,
)
app.command("vcard")(import_vcard)
