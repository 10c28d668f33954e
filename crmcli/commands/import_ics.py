"""`crm import ics FILE`: tasks from VTODOs, meetings from VEVENTs (services.ical)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c

RESULT_FIELDS = (
    ("tasks_new", "New tasks"), ("tasks_updated", "Updated tasks"),
    ("tasks_unchanged", "Unchanged tasks"), ("meetings_new", "New meetings"),
    ("meetings_unchanged", "Meetings already there"), ("skipped", "Skipped"),
    ("dry_run", "Dry run"),
)  # fmt: skip
CSV_FIELDS = (
    "dry_run", "tasks_new", "tasks_updated", "tasks_unchanged", "meetings_new",
    "meetings_unchanged", "skipped",
)  # fmt: skip


def ics(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="An .ics file; - reads it from stdin.")
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what would be imported; write nothing."),
    ] = False,
    output: c.ResultOpt = None,
) -> None:
    """Import an iCalendar file: to-dos as tasks, events as meetings with known contacts.

    VTODOs become tasks (due date and time, recurrence, priority, done), VEVENTs meetings on
    the timeline of a known contact (an attendee or the organizer, by any of the contact's
    emails). Each item's UID is kept, so importing the
    same file again changes nothing and a changed item updates its task. Events without a
    known contact, events still to come, cancelled items and recurrences crm cannot repeat
    (hourly, several rules) are skipped and listed. The whole file lands in one
    transaction or not at all; a damaged file is an error and nothing is imported.

    Examples:

    \b
    crm import ics ~/Downloads/tasks.ics --dry-run
    crm import ics calendar.ics -o json
    """
    source: str | bytes = file
    if file == "-":
        source = typer.get_binary_stream("stdin").read()
    with c.import_db(dry_run):
        from crmcli.services.ical import import_ics

        name = "stdin" if file == "-" else file
        progress = c.Progress("Importing the calendar", unit="items")
        try:
            result = import_ics(source, dry_run=dry_run, now=c.now(), name=name, progress=progress)
        finally:
            progress.stop()
        for where, why in result.skipped:
            c.done(f"skipped {where}: {why}")
        for where, text in result.warnings:
            c.done(f"warning: {where}: {text}")
        c.done(_summary(name, result))
        if output is not None:
            from crmcli.output import render_record

            render_record(result.as_dict(), RESULT_FIELDS, output, record_fields=CSV_FIELDS)


def _summary(name: str, r) -> str:
    tasks = f"{r.tasks_new} new, {r.tasks_updated} updated, {r.tasks_unchanged} unchanged"
    meetings = f"{r.meetings_new} new, {r.meetings_unchanged} already there"
    counts = f"tasks {tasks}; meetings {meetings}; {len(r.skipped)} skipped"
    if r.dry_run:
        return f"Dry run, nothing written: {name} would give {counts}."
    return f"Imported {name}: {counts}."
