"""`crm import csv`: contacts (or activities, deals, tasks) from spreadsheets and exports."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands import import_ics, import_json
from crmcli.commands.import_vcard import import_vcard

app = typer.Typer(
    help="Import contacts, tasks and more from CSV, vCard, iCalendar or JSON files.\n\n"
    "Example:\n\n\b\ncrm import csv kunden.csv --dry-run",
    no_args_is_help=True,
    add_completion=False,
)

KINDS = ("contacts", "companies", "activities", "deals", "tasks", "orders")
# The columns of `crm export companies` no contacts file has together: such a file imported
# as contacts made a contact of every company.
_COMPANY_EXPORT = frozenset(("name", "domain", "industry", "contacts"))
# Columns of a person (`crm export contacts`, an address book): such a file imported as
# companies made a company of every person, unless a company column names the companies.
_PERSON_COLUMNS = frozenset(("firstname", "lastname", "vorname", "nachname", "birthday",
                             "geburtstag", "position", "emails", "phones", "emailkinds",
                             "phonekinds", "anrede", "salutation"))  # fmt: skip
_COMPANY_COLUMNS = frozenset(("company", "firma", "unternehmen", "companyname", "firmenname",
                              "organisation", "organization"))  # fmt: skip


def _refuse_contacts_as_companies(csvfile, name: str) -> None:
    """A contacts file given as --kind companies: one clear error, before anything is written
    (its people's names would become companies)."""
    from crmcli.services import csvread

    keys = [csvread._key(h) for h in csvfile.header]
    people = [h for h, k in zip(csvfile.header, keys, strict=True) if k in _PERSON_COLUMNS]
    named = next(
        (k for k, t in zip(keys, csvfile.targets, strict=True) if t and t.field == "name"), None
    )
    if people and named not in _COMPANY_COLUMNS:
        raise csvread.file_error(
            name, f"is a contacts file ({', '.join(people[:3])}): import it with --kind "
            "contacts (their companies come with them)",
        )  # fmt: skip


class _Rejects:
    """The rejected rows as they were, plus a `reason` column, written as they are found (a
    file of 300,000 bad rows is not held in memory): fix them and import the file. Checked
    before the import starts (never the input file itself, a directory that exists), written
    to a private temporary file beside it (mode 0600: personal data) with every cell made
    safe for a spreadsheet, and put in place only when the import landed."""

    def __init__(self, path: str, source: str):
        import os

        from crmcli.errors import Invalid

        self.path = path
        target, self.atomic = c.output_file(path, "rejects")
        if source != "-" and os.path.exists(target) and os.path.samefile(target, source):
            raise Invalid("rejects", f"{path} is the file being imported; give another name")
        self.target = target
        self.temp: str | None = None
        self.out = None
        self.writer = None

    def open(self, csvfile) -> None:
        import csv
        import os

        encoding = "cp1252" if csvfile.encoding == "cp1252" else "utf-8"
        if csvfile.encoding in ("utf-8-sig", "utf-16", "utf-32"):
            encoding = "utf-8-sig"
        header = list(csvfile.header)
        reason_at = next((i for i, h in enumerate(header) if h.strip().lower() == "reason"), None)
        if reason_at is None:
            header.append("reason")
            reason_at = len(header) - 1
        self.width, self.reason_at = len(header), reason_at
        if self.atomic:
            fd, self.temp = c.temporary_beside(self.target, self.path)
            self.out = os.fdopen(fd, "w", encoding=encoding, errors="replace", newline="")
        else:  # a FIFO or a device (/dev/stdout): written into as it is
            self.out = open(  # noqa: SIM115 (closed by close(), as the temporary file is)
                self.target, "w", encoding=encoding, errors="replace", newline=""
            )
        self.writer = csv.writer(self.out, delimiter=csvfile.delimiter, lineterminator="\r\n")
        self.writer.writerow(header)

    def __call__(self, _where: str, record: dict, reason: str) -> None:
        from crmcli.output import _defused

        cells = [_defused(str(cell)) for cell in record.get("_raw") or []]
        cells += [""] * (self.width - len(cells))
        cells[self.reason_at] = reason
        self.writer.writerow(cells)  # type: ignore[union-attr]

    def close(self, *, keep: bool) -> None:
        """Put the file in place (`keep`: the import landed with rejects), else remove it."""
        import os

        if self.out is not None and self.temp is None:  # written into a device
            self.out.close()
            self.out = None
        if self.out is None or self.temp is None:
            return
        self.out.close()
        if keep:
            os.replace(self.temp, self.target)
        else:
            os.unlink(self.temp)
        self.temp = None


def _say_result(result, name: str, what: str, output) -> None:
    from crmcli.output import Format, clean
    from crmcli.values import plural

    summary = result.summary()
    parts = [
        f"{result.new:,} new",
        f"{result.updated:,} updated",
        f"{result.unchanged:,} unchanged",
    ]
    if result.skipped:
        parts.append(f"{result.skipped:,} skipped")
    if result.merged:
        into = "an earlier row" if result.merged == 1 else "earlier rows"
        parts.append(f"{result.merged:,} merged into {into}")
    if result.possible_duplicates:
        parts.append(f"{plural(result.possible_duplicates, 'possible duplicate')} (crm dedupe)")
    parts.append(f"{result.rejected_count:,} rejected")
    if result.contacts_new:
        parts.append(plural(result.contacts_new, "new contact"))
    head = "Dry run, nothing written: would import" if result.dry_run else "Imported"
    rows = f"{result.rows:,} row{'' if result.rows == 1 else 's'}"
    c.done(f"{head} {rows} of {name} ({what}): {', '.join(parts)}.")
    new = "Would create" if result.dry_run else "New"
    for campaign, channel in result.campaigns_new:  # utm_campaign: a typo shows here
        c.done(f"{new} campaign '{campaign}' ({channel}).")
    for campaign, keyword in result.keywords_new:
        c.done(f"{new} keyword '{keyword}' of campaign {campaign}.")
    for where, _, reason in result.rejected[:20]:
        sys.stderr.write(f"  {clean(where)}: {clean(reason)}\n")
    if result.rejected_count > 20:
        sys.stderr.write(f"  … and {result.rejected_count - 20:,} more\n")
    for warning in result.warnings:
        sys.stderr.write(f"crm: warning: {clean(warning)}\n")
    if output is not None:
        import json

        from crmcli.output import jsonable

        if Format(output) is Format.jsonl:
            print(json.dumps(jsonable(summary), ensure_ascii=False))
        else:
            print(json.dumps(jsonable(summary), ensure_ascii=False, indent=2))


@app.command("csv")
def import_csv(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A CSV file; - reads stdin.")],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COLUMN=FIELD",
            help="Read COLUMN as FIELD (name, first_name, last_name, email, email:work, phone, "
            "mobile, company, position, street, zip, city, country, birthday, notes, status, "
            "source, owner, tag, consent, campaign, keyword, medium, field:KEY; "
            "utm_campaign, utm_term and utm_medium are read as the last three); "
            "COLUMN= ignores it. Repeatable.",
        ),
    ] = None,
    match: Annotated[
        str,
        typer.Option(
            "--match",
            metavar="KEYS",
            help="How rows find stored contacts: email, phone, name, comma-separated, tried "
            "in that order; a phone or name only finds a contact whose emails, name (and for a "
            "name: phone, city, company, birthday) do not differ from the row's.",
        ),
    ] = "email,phone,name",
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict",
            metavar="WHAT",
            help="A row that matches: update (fill and overwrite given values, add emails, "
            "phones, tags), skip, or new (import it anyway). Orders: a stored order's "
            "status is updated or skipped.",
        ),
    ] = "update",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; write nothing.")
    ] = False,
    tag: c.TagOpt = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            metavar="CHAR",
            help="Cell delimiter (default: sniffed among , ; tab |); 'tab' for tab.",
        ),  # fmt: skip
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            metavar="NAME",
            help="The file's encoding (default: a BOM, else UTF-8, else cp1252).",
        ),
    ] = None,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="Write bad rows here (with a reason column) and import the good ones.",
        ),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="contacts, companies, activities, deals, tasks or orders.",
        ),
    ] = "contacts",
    prices: Annotated[
        str,
        typer.Option(
            "--prices",
            metavar="GROSS|NET",
            help="Orders: the file's amounts and line prices are gross (default) or net.",
        ),
    ] = "gross",
    output: c.ResultOpt = None,
) -> None:
    """Import contacts from a CSV file: a spreadsheet (German Excel's ; and cp1252 included),
    or a customer or contact export of Shopify, WooCommerce, Google Contacts or Outlook.

    Common English and German headers are recognised (Vorname, Nachname, E-Mail, Telefon,
    Mobil, Firma, Straße, PLZ, Ort, Land, Geburtstag, Notiz...); --map names the others.
    utm_source, utm_campaign, utm_term and utm_medium give the lead source, the campaign and
    its keyword (a campaign not there yet is created, of utm_medium's channel: said in the
    summary, --dry-run too).
    Values are checked as `crm add` checks them. Rows that match a stored contact (by email,
    phone or name) update it, so importing a file twice changes nothing the second time. A
    phone or a name is not enough against a stronger fact: a row with the phone of a contact
    whose emails or name differ (an office's phone), or the name of one in another city, with
    another phone, company or birthday, becomes a new contact, counted and named as a possible
    duplicate (crm dedupe lists them). The whole file lands in one transaction: a bad row
    stops everything, unless --rejects FILE takes the bad rows (fix them and import that
    file).

    With --kind activities, deals or tasks, rows are linked to contacts by their email column
    (else a contact column: an email or a name one contact has; else a company column; a task
    may have no contact). Activity kinds may be German or English names (Telefonat, Termin,
    Reklamation, Retoure, phone call...). Files of `crm export deals|activities|tasks` read
    back whole (contact_email, status, lost reason, due time, rrule, done). With --kind
    companies, rows update the company of their name or create it (a file of `crm export
    companies`; imported as contacts it is refused).

    With --kind orders, a shop's order export (Shopify, WooCommerce or any table with an
    email, an order number, a date and an amount or SKU/quantity/price lines, one row per
    line item) becomes orders: rows are grouped by order number (the order's external id,
    so importing again adds nothing), an unknown email creates a customer (with the
    billing phone and address of Shopify's or WooCommerce's export), amounts are
    gross (--prices net if not) and VAT is taken out per line; a line's unknown SKU
    rejects its order, a line without SKU is a line without product at 19 % (or its vat
    column's rate).

    Examples:

    \b
    crm import csv kunden.csv --dry-run
    crm import csv shopify_customers.csv --tag shop --rejects bad.csv
    crm import csv liste.csv --map "Kd-Nr=field:kundennr" --map Bemerkung2=
    crm import csv anrufe.csv --kind activities
    crm import csv firmen.csv --kind companies
    crm import csv orders_export.csv --kind orders --rejects bad.csv
    """
    from crmcli.errors import Invalid
    from crmcli.services import csvread
    from crmcli.services.import_orders import ORDER_FIELDS
    from crmcli.services.import_rows import KIND_FIELDS
    from crmcli.services.imports import MATCH_KEYS, ON_CONFLICT

    def usage(option: str, why: str):
        return typer.BadParameter(why, param_hint=f"'{option}'")

    kind = kind.strip().lower()
    if kind not in KINDS:
        raise usage("--kind", f"'{kind}' is not one of {', '.join(KINDS)}")
    keys = [k.strip().lower() for k in match.split(",") if k.strip()]
    wrong = [k for k in keys if k not in MATCH_KEYS]
    if wrong or not keys:
        raise usage("--match", f"'{match}': give one or more of {', '.join(MATCH_KEYS)}")
    on_conflict = on_conflict.strip().lower()
    if on_conflict not in ON_CONFLICT:
        raise usage("--on-conflict", f"'{on_conflict}' is not one of {', '.join(ON_CONFLICT)}")
    if kind == "orders" and on_conflict == "new":
        raise usage("--on-conflict", "orders are matched by their number: give update or skip")
    prices = prices.strip().lower()
    if prices not in ("gross", "net"):
        raise usage("--prices", f"'{prices}' is not one of gross, net")
    allowed = ORDER_FIELDS if kind == "orders" else KIND_FIELDS.get(kind)
    try:
        maps = csvread.parse_maps(map_ or [], allowed)
        if delimiter is not None:
            csvread.check_delimiter(delimiter)
        if encoding is not None:
            csvread.check_encoding(encoding)
    except Invalid as exc:
        raise usage(f"--{exc.field}", exc.why) from None
    name = "stdin" if file == "-" else file
    csvfile = csvread.open_csv(
        file,
        encoding=encoding,
        delimiter=delimiter,
        maps=maps,
        recognise=kind == "contacts",
    )
    with csvfile:
        if (
            kind == "contacts"
            and not maps
            and {csvread._key(h) for h in csvfile.header} >= _COMPANY_EXPORT
        ):
            raise csvread.file_error(
                name, "is a companies export (name, domain, industry, contacts): import it with "
                "--kind companies",
            )  # fmt: skip
        if kind == "orders":
            from crmcli.services import import_orders

            import_orders.assign_columns(csvfile, maps)
        elif kind != "contacts":
            from crmcli.services import import_rows

            import_rows.assign_kind_columns(csvfile, kind, maps)
            if kind == "companies" and not maps:
                _refuse_contacts_as_companies(csvfile, name)
        known = [t for t in csvfile.targets if t is not None and t.field != "ignore"]
        if not known:
            raise csvread.file_error(
                name,
                f"has no column crm knows ({', '.join(csvfile.header)[:200]}); "
                "name them with --map COLUMN=FIELD",
            )
        reject_file = _Rejects(rejects, file) if rejects else None
        with c.import_db(dry_run):
            from crmcli.services import import_rows, imports

            progress = c.Progress(f"Importing {kind}")
            records = csvfile.records() if kind == "contacts" else import_rows.kind_records(csvfile)
            on_reject = None
            if reject_file is not None and not dry_run:
                reject_file.open(csvfile)
                on_reject = reject_file
            landed = False
            try:
                if kind == "contacts":
                    result = imports.import_contacts(
                        records,
                        match=keys,
                        on_conflict=on_conflict,
                        dry_run=dry_run,
                        tags=tag or [],
                        progress=progress,
                        keep_going=bool(rejects) or dry_run,
                        now=c.now(),
                        on_reject=on_reject,
                    )
                elif kind == "orders":
                    from crmcli.services import import_orders

                    result = import_orders.import_orders(
                        records,
                        prices=prices,
                        on_conflict=on_conflict,
                        dry_run=dry_run,
                        progress=progress,
                        keep_going=bool(rejects) or dry_run,
                        now=c.now(),
                        on_reject=on_reject,
                    )
                else:
                    result = import_rows.import_rows(
                        kind,
                        records,
                        dry_run=dry_run,
                        progress=progress,
                        keep_going=bool(rejects) or dry_run,
                        now=c.now(),
                        on_reject=on_reject,
                    )
                landed = not dry_run and result.rows > 0 and result.rejected_count > 0
            finally:
                progress.stop()
                if reject_file is not None:
                    reject_file.close(keep=landed)
            if result.rows == 0:
                raise csvread.file_error(name, "has a header but no rows: nothing to import")
            unused = csvfile.unused_columns()
            if unused:
                result.warnings.append(
                    f"columns not imported: {', '.join(unused)} (name them with --map COLUMN=FIELD,"
                    " or COLUMN= to silence this)"
                )
            if landed:
                rows = "row" if result.rejected_count == 1 else "rows"
                result.warnings.append(f"{result.rejected_count:,} bad {rows} written to {rejects}")
            _say_result(result, name, kind, output)
            if result.rejected_count and not rejects:
                raise typer.Exit(1)


app.command("vcard")(import_vcard)
app.command("ics")(import_ics.ics)
app.command("json")(import_json.json_import)
