"""`crm db check|migrate|backup|restore|path|setting`: look after the database itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.env import current
from crmcli.output import Column, render_rows

app = typer.Typer(
    help="Check, upgrade, back up and restore the database.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("check")
def check(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rebuild the search index, reminder queues and funnel counters if they drifted.",
        ),
    ] = False,
) -> None:
    """Check integrity, foreign keys, the search index, reminder queues and funnel counters.

    Runs SQLite's integrity and foreign-key checks and verifies the search index, the
    reminder queues (what `crm remind` reads) and the funnel counters (what `crm report
    funnel` reads). Exits 1 when a problem is found.

    Examples:

    \b
    crm db check || mail -s "crm db" me@example.de
    crm db check --repair
    """
    from crmcli import db as dbmod
    from crmcli.errors import CrmError

    target = current().target
    dbmod.require_schema(target)  # an empty or foreign database is not a sound one
    database = c.db()
    from crmcli.services import maintenance

    problems = maintenance.check(database)
    if problems and repair:
        for line in maintenance.repair(problems):
            c.done(line)
        problems = maintenance.check(database)
    from crmcli.output import clean

    for p in problems:
        print(clean(p))
    if problems:
        from crmcli.values import plural

        hint = ""
        if not repair and maintenance.repairable(problems):
            hint = " (run 'crm db check --repair')"
        found = f"{plural(len(problems), 'problem')} found in {dbmod.describe(target)}"
        raise CrmError(found + hint)
    if dbmod.is_read_only(database):
        c.done("read-only file: the search index's own structure check was skipped")
    c.done(f"ok: {dbmod.describe(target)}")


@app.command("migrate")
def migrate(output: c.OutputOpt = c.Format.table) -> None:
    """Apply pending schema migrations (opening a database does it too) and list them.

    Example:

    \b
    crm db migrate
    """
    from crmcli import db as dbmod

    database = c.db()
    rows = [{"migration": name, "applied_at": at} for name, at in dbmod.migration_status(database)]
    render_rows(rows, (Column("migration", "Migration"), Column("applied_at", "Applied")), output)
    c.done(f"schema version {dbmod.schema_version(database)} (this crm: {dbmod.SCHEMA_VERSION})")


@app.command("backup")
def backup(
    dest: Annotated[
        Path, typer.Argument(help="New file, or a directory for a dated one.", show_default=False)
    ],
) -> None:
    """Copy the live database to a new file (mode 0600), safe while others write.

    A directory gets crm-backup-YYYY-MM-DD-HHMM.db; an existing file is never overwritten,
    and a copy that is cut short leaves no file behind.

    Example:

    \b
    crm db backup ~/backups/
    """
    from crmcli import db as dbmod

    path = dbmod.backup(c.db(), dest, now=c.now().astimezone())
    c.done(f"Backed up to {path}.")
    print(path)


@app.command("restore")
def restore(
    source: Annotated[Path, typer.Argument(help="A backup made by crm db backup.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database with a backup, keeping a safety copy of the current one.

    Into a database file that does not exist yet, the backup is simply restored (nothing to
    ask about or keep a copy of).

    The backup is checked first (a crm database this crm can open), the current content is
    kept in a dated safety copy beside the database, the replacement is atomic and the
    restored database is upgraded. Asks first on a terminal; scripts must pass --yes.

    Example:

    \b
    crm db restore ~/backups/crm-backup-2026-11-30-1415.db --yes
    """
    from crmcli import db as dbmod

    dbmod.require_crm_schema(source.expanduser())
    target = current().target
    if not dbmod.is_postgres(target) and not os.path.lexists(dbmod.sqlite_file(target)):
        # Nothing to replace: restored as it is, no empty database made first to keep a
        # "safety copy" of.
        ran = dbmod.restore_new(dbmod.sqlite_file(target), source)
    else:
        c.confirm(f"Replace {dbmod.describe(target)} with {source}?", yes=yes)
        safety, ran = dbmod.restore(c.db(), source, now=c.now().astimezone())
        c.done(f"Kept the previous database in {safety}.")
    if ran:
        c.done(f"Upgraded the restored database ({', '.join(ran)}).")
    c.done(f"Restored {source} into {dbmod.describe(target)}.")


@app.command("path")
def path() -> None:
    """Print which database crm uses (--db, $CRM_DB or the default file).

    Example:

    \b
    crm db path
    """
    from crmcli import db as dbmod

    print(dbmod.describe(current().target))


@app.command("setting")
def setting(
    key: Annotated[
        str | None, typer.Argument(help="remind.next_purchase; none lists every setting.")
    ] = None,
    value: Annotated[
        str | None, typer.Argument(help="The new value: on, off, or tags (vip,stammkunde).")
    ] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Show or change a setting every user and cron job of this database shares.

    remind.next_purchase: `on` lets `crm remind` list repeat customers due to buy
    again (their last purchase plus their usual interval); a list of tags limits it to
    customers with one of them; `off` (the default) keeps orders out of `crm remind`.

    Examples:

    \b
    crm db setting remind.next_purchase on
    crm db setting remind.next_purchase vip,stammkunde
    crm db setting
    """
    c.db()
    from crmcli.services import db_settings

    if key is not None and value is not None:
        stored = db_settings.set_setting(key, value, now=c.now())
        shown = "off" if stored is None else "on" if stored is True else ", ".join(stored)
        c.done(f"Set {key.strip().lower()} to {shown}.")
        return
    rows = db_settings.all_settings()
    if key is not None:
        wanted = db_settings.check_key(key)
        rows = [r for r in rows if r["key"] == wanted]
    views = [
        {**r, "shown": "off" if r["value"] is None else "on" if r["value"] is True
         else ", ".join(r["value"])}
        for r in rows
    ]  # fmt: skip
    render_rows(
        views if output is c.Format.table else rows,
        (Column("key", "Setting", keep=True), Column("shown", "Value"),
         Column("about", "What it does", max_width=60)),
        output, fields=("key", "value", "about"),
    )  # fmt: skip
