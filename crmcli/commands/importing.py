"""`crm import csv|vcard|ics|json`: data in. Each format's command lives in its own module
(import_ics.py, ...) and is registered here with one line."""

from __future__ import annotations

import typer

from crmcli.commands import import_ics

app = typer.Typer(
    help="Import tasks and meetings from calendar files.\n\nExample:\n\n\b\n"
    "crm import ics ~/Downloads/tasks.ics --dry-run",
    no_args_is_help=True,
    add_completion=False,
)

app.command("ics")(import_ics.ics)
