"""`crm db check|migrate|backup|path`: look after the database itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.env import current
from crmcli.output import Column, render_rows

app = typer.Typer(
    help="Check, upgrade and back up the database.", no_args_is_help=True, add_completion=False
)


@app.command("check")
def check(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair", help="Rebuild the search index and reminder queues if they drifted."
        ),
    ] = False,
) -> None:
    """Run SQLite's integrity and foreign-key checks; verify the search index and the
    reminder queues (what `crm remind` reads).

    Exits 1 when a problem is found. Example: crm db check || mail -s "crm db" me@example.de
    """
    from crmcli import db as dbmod
    from crmcli.errors import CrmError

    database = c.db()
    problems = dbmod.check(database)
    if problems and repair:
        from crmcli.services import reminders, search

        if any(p.startswith("search index") for p in problems):  # drift or FTS corruption
            count = search.rebuild()
            c.done(f"Rebuilt the search index ({count} entries).")
        if dbmod.reminder_queue_drift():
            with database.atomic():
                reminders.rebuild_queues()
            c.done("Rebuilt the reminder queues (nothing is reminded twice).")
        problems = dbmod.check(database)
    for p in problems:
        print(p)
    if problems:
        raise CrmError(f"{len(problems)} problem(s) found in {dbmod.describe(current().target)}")
    c.done(f"ok: {dbmod.describe(current().target)}")


@app.command("migrate")
def migrate(output: c.OutputOpt = c.Format.table) -> None:
    """Apply pending schema migrations (opening a database also does this) and list them all.

    Example: crm db migrate
    """
    from crmcli import db as dbmod

    database = c.db()
    rows = [{"migration": name, "applied_at": at} for name, at in dbmod.migration_status(database)]
    render_rows(rows, (Column("migration", "Migration"), Column("applied_at", "Applied")), output)
    c.done(f"schema version {dbmod.schema_version(database)} (this crm: {dbmod.SCHEMA_VERSION})")


@app.command("backup")
def backup(
    dest: Annotated[Path, typer.Argument(help="New file (or a directory) for the copy.")],
) -> None:
    """Copy the live database to a new file (mode 0600), safe while others write.

    Example: crm db backup ~/backups/crm-$(date +%F).db
    """
    from crmcli import db as dbmod

    path = dbmod.backup(c.db(), dest)
    c.done(f"Backed up to {path}.")
    print(path)


@app.command("path")
def path() -> None:
    """Print which database crm uses (--db, $CRM_DB or the default file).

    Example: crm db path
    """
    from crmcli import db as dbmod

    print(dbmod.describe(current().target))
