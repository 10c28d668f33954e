"""`crm import csv|vcard|ics|json`: data in. Each format's command lives in its own module
(import_json.py, ...) and is registered here with one line."""

from __future__ import annotations

import typer

from crmcli.commands import import_json

app = typer.Typer(
    help="Import contacts, or restore a dump of crm export all.\n\nExample:\n\n\b\n"
    "crm import json crm-dump.json",
    no_args_is_help=True,
    add_completion=False,
)

app.command("json")(import_json.json_import)
