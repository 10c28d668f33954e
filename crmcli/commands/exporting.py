"""`crm export contacts|companies|deals|activities|tasks|all`: the records as CSV, JSON, JSON
lines, vCard or iCalendar, to stdout or atomically into a file, with the filters of `crm list`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from typing import Annotated, Any

import typer

from crmcli.commands import common as c
from crmcli.commands import listing as ls

app = typer.Typer(
    help="Export contacts, companies, deals, activities, tasks or everything.\n\nExample:\n\n"
    "\b\ncrm export contacts -o kontakte.csv --excel",
    no_args_is_help=True,
    add_completion=False,
)


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    vcf = "vcf"
    ics = "ics"


FormatOpt = Annotated[
    ExportFormat | None,
    typer.Option(
        "--format",
        help="csv, json, jsonl, vcf (contacts) or ics (calendar); default: what -o FILE's "
        "suffix names, else csv.",
    ),
]
FileOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE (replaced atomically, mode 0600) instead of stdout.",
    ),
]
ExcelOpt = Annotated[
    bool,
    typer.Option("--excel", help="CSV for German Excel: ';' between cells, UTF-8 BOM, CRLF."),
]
VcardVersionOpt = Annotated[
    str, typer.Option("--vcard-version", help="vCard version for --format vcf: 3.0 or 4.0.")
]


@contextmanager
def destination(path: str | None, *, excel: bool = False, binary: bool = False) -> Iterator[Any]:
    """stdout, or FILE written atomically: a temporary file in the same directory (mode 0600:
    it holds personal data), synced and renamed over FILE, so a reader (a calendar app
    subscribed to it) sees the old file or the new one, never half of one. On an error the old
    file stays and the temporary one goes. A symbolic link's file is the one replaced; a FIFO
    or a device (/dev/null) is written into; the database itself is refused (c.output_file).
    `binary`: a file (or stdout) that takes bytes."""
    if path is None or path == "-":
        if binary:
            sys.stdout.flush()
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            yield sys.stdout
        return
    target, atomic = c.output_file(path)
    if not atomic:  # a FIFO or a device: written into as it is
        with (
            open(target, "wb") if binary else open(target, "w", encoding="utf-8", newline="") as out
        ):
            yield out
        return
    fd, temp = c.temporary_beside(target, path)
    directory = os.path.dirname(target)
    try:
        # newline="": the CSV writer chooses the line ends (CRLF with --excel).
        with (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        ) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    try:  # the rename itself survives a power cut once the directory is synced
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _refuse(kind: str, fmt: ExportFormat, allowed: str) -> None:
    from crmcli.errors import Invalid

    raise Invalid("format", f"{kind} cannot be exported as {fmt.value} (choose {allowed})")


# The format a file's name asks for when --format is not given (`-o kunden.vcf`).
_BY_SUFFIX = {
    ".csv": ExportFormat.csv, ".json": ExportFormat.json, ".jsonl": ExportFormat.jsonl,
    ".ndjson": ExportFormat.jsonl, ".vcf": ExportFormat.vcf, ".vcard": ExportFormat.vcf,
    ".ics": ExportFormat.ics, ".ical": ExportFormat.ics,
}  # fmt: skip
_SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods")


def _from_name(fmt: ExportFormat | None, output: str | None) -> ExportFormat | None:
    """--format, else what the output file's suffix names (None: the kind's default). A
    spreadsheet's own format is refused rather than filled with CSV under its name."""
    if fmt is not None or output in (None, "-"):
        return fmt
    suffix = os.path.splitext(output)[1].lower()
    if suffix in _SPREADSHEETS:
        from crmcli.errors import Invalid

        raise Invalid(
            "output",
            f"crm does not write {suffix} files; use a .csv name (--excel for German Excel)",
        )
    return _BY_SUFFIX.get(suffix)


def _tabular(
    kind: str, fmt: ExportFormat | None, excel: bool, *, ics: bool, output: str | None = None
) -> ExportFormat:
    """The format for a kind of records, checked: vCard is for contacts, iCalendar for what has
    a date in a calendar, --excel for CSV. Without --format, the output file's suffix says
    (`-o kunden.vcf`), else CSV."""
    fmt = _from_name(fmt, output) or ExportFormat.csv
    allowed = "csv, json, jsonl" + (", vcf" if kind == "contacts" else "") + (", ics" * ics)
    if fmt is ExportFormat.vcf and kind != "contacts":
        _refuse(kind, fmt, allowed)
    if fmt is ExportFormat.ics and not ics:
        _refuse(kind, fmt, allowed)
    if excel and fmt is not ExportFormat.csv:
        from crmcli.errors import Invalid

        raise Invalid(None, "--excel is for CSV; leave it out or use --format csv")
    return fmt


def _write(rows, fmt: ExportFormat, output: str | None, excel: bool, fields, what: str) -> None:
    from crmcli.output import write_rows

    with destination(output) as out:
        count = write_rows(rows, fmt.value, out, fields=fields, excel=excel, compact=True)
    _tell(count, output, what)


def _tell(count: int, output: str | None, what: str) -> None:
    """What went into FILE, in the kind's own word (`what`: singular, `Exported 200 contacts
    to c.csv.`)."""
    if output not in (None, "-"):
        from crmcli.values import plural

        c.done(f"Exported {plural(count, what)} to {output}.")


def _calendar(output: str | None, what: tuple[str, ...], **filters) -> None:
    from crmcli.services import ical  # written alongside: imported only for --format ics

    with destination(output) as out:
        count = ical.export_calendar(out, what=what, **filters)
    _tell(count, output, "calendar entry")


@app.command("contacts")
def export_contacts(
    tag: ls.ContactTagOpt = None,
    company: ls.AtCompanyOpt = None,
    city: ls.ContactCityOpt = None,
    status: ls.StatusOpt = None,
    source: ls.SourceOpt = None,
    field: ls.FieldFilterOpt = None,
    created_since: ls.SinceOpt = None,
    overdue_contact: ls.OverdueContactOpt = False,
    fmt: FormatOpt = None,
    output: FileOpt = None,
    excel: ExcelOpt = False,
    vcard_version: VcardVersionOpt = "3.0",
) -> None:
    """Export contacts with every email, phone, tag and custom field (the filters of `crm list
    contacts`). CSV has one row a contact: email and phone are the primary ones, emails and
    phones all of them (" ::: " between them), custom fields are field:KEY columns; `crm
    import csv` reads it back.
    --format ics: their birthdays as yearly events.

    Examples:

    \b
    crm export contacts -o kontakte.csv --excel
    crm export contacts --tag vip --format vcf -o vip.vcf
    crm export contacts --format json | jq '.[].emails'
    """
    fmt = _tabular("contacts", fmt, excel, ics=True, output=output)
    if vcard_version not in ("3.0", "4.0"):
        from crmcli.errors import Invalid

        raise Invalid("vcard-version", f"'{vcard_version}' must be 3.0 or 4.0")
    filters = ls.contact_filters(
        tag, company, city, status, source, field, created_since, overdue_contact
    )
    c.db(bulk=True)
    c.warn_unknown_tags(tag)  # an empty export of a misspelt tag should not look like none
    from crmcli.services import exports

    if fmt is ExportFormat.ics:
        _calendar(output, ("birthdays",), **_given(filters))
        return
    records = exports.contact_records(**filters)
    if fmt is ExportFormat.vcf:
        from crmcli.services import vcard  # written alongside: imported only for vCards

        with destination(output) as out:
            count = vcard.write_cards(records, out, version=vcard_version)
        _tell(count, output, "contact")
        return
    if getattr(records, "whole", False):  # every contact on SQLite: lines made by SQLite
        _whole_contacts(fmt, output, excel)
        return
    if fmt is ExportFormat.csv:
        keys = exports.contact_field_keys()
        # SQLite writes the cells itself (a stand-in for the records, in tests, has no
        # csv_batches: the general way below).
        fast = getattr(records, "csv_batches", lambda keys: None)(keys)
        if fast is not None:
            from crmcli.output import write_csv_batches

            header = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
            with destination(output) as out:
                count = write_csv_batches(
                    fast, out, fields=header, excel=excel,
                    repair=lambda rows: exports.repair_csv_rows(rows, keys),
                )  # fmt: skip
            _tell(count, output, "contact")
            return
        fields = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
        rows = (exports.flat_contact(r, keys) for r in records)
        _write(rows, fmt, output, excel, fields, "contact")
        return
    texts = getattr(records, "json_batches", lambda: None)()
    if texts is not None:  # SQLite writes each record's JSON itself
        from crmcli.output import write_json_texts

        with destination(output) as out:
            count = write_json_texts(texts, fmt.value, out)
        _tell(count, output, "contact")
        return
    _write(records, fmt, output, excel, exports.CONTACT_CSV_KEYS, "contact")


def _whole_contacts(fmt: ExportFormat, output: str | None, excel: bool) -> None:
    """Every contact as CSV, JSON or JSON lines, on SQLite: each batch of lines made by
    SQLite, several batches at once by connections sharing one snapshot."""
    from crmcli.output import write_csv_chunks, write_json_chunks
    from crmcli.services import exports
    from crmcli.services import exports_sqlite as xs

    with xs.shared_snapshot(xs.workers()) as readers, destination(output) as out:
        if fmt is ExportFormat.csv:
            keys = exports.contact_field_keys()
            header = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
            count = write_csv_chunks(
                xs.csv_chunks(readers, keys), out, fields=header, excel=excel,
                remake=lambda ids: xs.remake_csv_rows(ids, keys),
            )  # fmt: skip
        else:
            count = write_json_chunks(
                xs.json_chunks(readers), fmt.value, out, remake=xs.remake_json
            )
    _tell(count, output, "contact")


# The options behind each list filter, for the calendar export's refusal.
_OPTIONS = {
    "tags_": "--tag", "company": "--company", "city": "--city", "status": "--status",
    "source": "--source", "fields": "--field", "created_since": "--created-since",
    "overdue_contact": "--overdue-contact", "stage": "--stage", "state": "--open/--won/--lost",
    "owner": "--owner", "closing_before": "--closing-before", "min_amount_cents": "--min-amount",
    "company_id": "--company", "kinds": "--kind", "since": "--since", "until": "--until",
    "open_only": "--open", "direction": "--direction", "overdue": "--overdue",
    "due_before": "--today/--week", "priority": "--priority",
}  # fmt: skip


def _given(filters: dict, allowed: tuple[str, ...] = ()) -> dict:
    """The filters given, for the calendar export: only `allowed` ones (a contact's items);
    any other is refused here, by the option's name."""
    given = {k: v for k, v in filters.items() if v not in (None, [], (), False, "")}
    refused = sorted({_OPTIONS.get(k, k) for k in given if k not in allowed})
    if refused:
        from crmcli.errors import Invalid

        raise Invalid(None, f"--format ics takes no {', '.join(refused)}")
    return given


@app.command("companies")
def export_companies(
    tag: ls.CompanyTagOpt = None,
    city: ls.CityOpt = None,
    industry: ls.IndustryOpt = None,
    created_since: ls.SinceOpt = None,
    fmt: FormatOpt = None,
    output: FileOpt = None,
    excel: ExcelOpt = False,
) -> None:
    """Export companies with their tags and how many people work there (the filters of `crm
    list companies`).

    Example:

    \b
    crm export companies --industry handel --format jsonl -o firmen.jsonl
    """
    from crmcli.commands import cards

    fmt = _tabular("companies", fmt, excel, ics=False, output=output)
    filters = ls.company_filters(tag, city, industry, created_since)
    c.db(bulk=True)
    c.warn_unknown_tags(tag)
    from crmcli.services import companies

    rows = companies.iter_companies(sort="id", **filters)
    _write(rows, fmt, output, excel, cards.COMPANY_KEYS, "company")


@app.command("deals")
def export_deals(
    stage: ls.StageOpt = None,
    open_: ls.OpenDealsOpt = False,
    won: ls.WonOpt = False,
    lost: ls.LostOpt = False,
    contact: ls.WithContactOpt = None,
    company: ls.WithCompanyOpt = None,
    owner: ls.OwnerOpt = None,
    closing_before: ls.ClosingBeforeOpt = None,
    min_amount: ls.MinAmountOpt = None,
    fmt: FormatOpt = None,
    output: FileOpt = None,
    excel: ExcelOpt = False,
) -> None:
    """Export deals (the filters of `crm list deals`); --format ics: their expected close
    dates as events.

    Examples:

    \b
    crm export deals --won -o gewonnen.csv --excel
    crm export deals --open --format ics -o abschluesse.ics
    """
    from crmcli.commands import cards

    fmt = _tabular("deals", fmt, excel, ics=True, output=output)
    filters = ls.deal_filters(
        stage, open_, won, lost, contact, company, owner, closing_before, min_amount
    )
    if fmt is ExportFormat.ics:
        _calendar(output, ("deals",), **_given(filters, ("contact_id",)))
        return
    from crmcli.services import deals, export_links

    rows = export_links.with_contact_emails(deals.iter_deals(sort="id", **filters))
    _write(rows, fmt, output, excel, (*cards.DEAL_KEYS, "contact_email"), "deal")


@app.command("activities")
def export_activities(
    contact: ls.OfContactOpt = None,
    company: ls.OfCompanyOpt = None,
    kind: ls.KindOpt = None,
    since: ls.FromOpt = None,
    until: ls.UntilOpt = None,
    open_: ls.OpenIssuesOpt = False,
    direction: ls.DirectionOpt = None,
    fmt: FormatOpt = None,
    output: FileOpt = None,
    excel: ExcelOpt = False,
) -> None:
    """Export the timeline: calls, emails, meetings, complaints... (the filters of `crm list
    activities`); --format ics: open complaints' and inquiries' follow-ups as events.

    Examples:

    \b
    crm export activities --since 1.1.2026 --format jsonl > 2026.jsonl
    crm export activities --open --format ics -o offen.ics
    """
    from crmcli.commands import cards

    fmt = _tabular("activities", fmt, excel, ics=True, output=output)
    filters = ls.activity_filters(contact, company, kind, since, until, open_, direction)
    if fmt is ExportFormat.ics:
        _calendar(output, ("followups",), **_given(filters, ("contact_id",)))
        return
    from crmcli.services import activities, export_links

    rows = export_links.with_contact_emails(activities.iter_activities(**filters))
    _write(rows, fmt, output, excel, (*cards.ACTIVITY_KEYS, "contact_email"), "activity")


@app.command("tasks")
def export_tasks(
    all_: ls.AllTasksOpt = False,
    done: ls.DoneOpt = False,
    overdue: ls.OverdueOpt = False,
    today: ls.TodayOpt = False,
    week: ls.WeekOpt = False,
    contact: ls.ForContactOpt = None,
    priority: ls.PriorityOpt = None,
    fmt: FormatOpt = None,
    output: FileOpt = None,
    excel: ExcelOpt = False,
) -> None:
    """Export tasks (the filters of `crm list tasks`: open ones unless --all or --done);
    --format ics: VTODOs with due time and recurrence, for a calendar app to subscribe to.

    Examples:

    \b
    crm export tasks --format ics -o ~/kalender/crm.ics
    crm export tasks --all -o aufgaben.csv
    """
    from crmcli.commands import cards

    fmt = _tabular("tasks", fmt, excel, ics=True, output=output)
    filters = ls.task_filters(all_, done, overdue, today, week, contact, priority)
    if fmt is ExportFormat.ics:
        extra = {k: v for k, v in filters.items() if k not in ("now", "state")}
        if filters["state"] == "done":
            from crmcli.errors import Invalid

            raise Invalid(None, "a calendar holds open tasks, or all with --all; not --done")
        extra = _given(extra, ("contact_id",))
        _calendar(output, ("tasks",), now=filters["now"], include_done=all_, **extra)
        return
    from crmcli.services import export_links, tasks

    rows = export_links.with_contact_emails(tasks.iter_tasks(**filters))
    _write(rows, fmt, output, excel, (*cards.TASK_KEYS, "contact_email"), "task")


AllFormatOpt = Annotated[
    ExportFormat | None,
    typer.Option(
        "--format",
        help="json (a dump for crm import json) or ics (calendar); default: what -o FILE's "
        "suffix names, else json.",
    ),
]


@app.command("all")
def export_all(fmt: AllFormatOpt = None, output: FileOpt = None) -> None:
    """Export everything: --format json (the default) dumps every table with ids, a backup
    that `crm import json` restores into an empty database, on SQLite or PostgreSQL;
    --format ics: tasks, birthdays, deal close dates and follow-ups in one calendar.

    Examples:

    \b
    crm export all -o crm-dump.json
    crm export all --format ics -o ~/kalender/crm.ics
    """
    fmt = _from_name(fmt, output) or ExportFormat.json
    if fmt not in (ExportFormat.json, ExportFormat.ics):
        _refuse("all", fmt, "json or ics; export each kind for csv, jsonl or vcf")
    c.db(bulk=True)
    if fmt is ExportFormat.ics:
        _calendar(output, ("tasks", "birthdays", "deals", "followups"))
        return
    from crmcli import __version__
    from crmcli.services import exports

    with destination(output) as out:
        counts = exports.dump(out.write, crm_version=__version__, now=c.now())
    if output not in (None, "-"):
        from crmcli.values import plural

        rows = plural(sum(counts.values()), "row")
        c.done(f"Exported {rows} of {plural(len(counts), 'table')} to {output}.")
