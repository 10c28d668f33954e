"""`crm doc render|templates|sender`: documents from templates (offers, letters, order
confirmations, contracts) as PDF, HTML or Markdown, each recorded on the contact's timeline."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, render_record, render_rows

app = typer.Typer(
    help="Documents from templates: offers, letters, order confirmations, contracts."
    "\n\nExamples:\n\n\b\ncrm doc render offer 12 -o angebot.pdf\ncrm doc templates",
    no_args_is_help=True,
    add_completion=False,
)

TEMPLATE_COLUMNS = (
    Column("name", "Name", keep=True), Column("title", "Title", min_width=20),
    Column("for", "For"), Column("layout", "Layout", drop=2), Column("origin", "From", drop=1),
    Column("path", "File", drop=3),
)  # fmt: skip
TEMPLATE_KEYS = ("name", "title", "for", "layout", "origin", "path", "parts")


@app.command("render")
def render(
    template: Annotated[str, typer.Argument(help="Template name (crm doc templates) or file.")],
    ref: Annotated[
        str | None,
        typer.Argument(
            help="What the template is for (its `for:`): a contact, deal or order REF.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="FILE.pdf, .html or .md (replaced atomically); - for stdout (md or html). "
            "Default: TEMPLATE-ID.pdf here.",
        ),
    ] = None,  # fmt: skip
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="pdf, html or md (default: from the file name)."),
    ] = None,
    deal: Annotated[
        str | None, typer.Option("--deal", help="The deal it is about (a REF).")
    ] = None,
    order: Annotated[
        str | None,
        typer.Option("--order", help="The order whose lines it lists (id or external id)."),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option("--message", "-m", help="The letter's text ({{ text }}); - reads stdin."),
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="The subject, instead of the template's.")
    ] = None,
    values: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="A value for {{ vars.KEY }}; repeatable."),
    ] = None,
    log: Annotated[
        bool | None,
        typer.Option(
            "--log/--no-log",
            help="Record it on the timeline: the default for a file, not for -o - (a preview).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fill a document template and write it as PDF, HTML or Markdown.

    REF names what the template is for: a deal for `offer`, an order for `confirmation`, a
    contact for `letter` and `contract` (--deal and --order add a deal or an order's lines).
    A file is recorded on the contact's timeline (kind document, with the template and the
    file) unless --no-log; -o - (standard output) is a preview, recorded only with --log.
    Your own templates go into `crm doc templates --path`.

    Examples:

    \b
    crm doc render offer "Website-Relaunch" -o angebot.pdf
    crm doc render confirmation 4711 -o bestaetigung.pdf
    crm doc render letter mueller --subject "Anfrage" -m "Danke ..." -o brief.pdf
    crm doc render contract mueller --deal 12 -o - --format md | less
    """
    from crmcli.services import documents

    if output is None and fmt not in (None, "pdf"):
        output = "-"
    chosen = documents.format_of(output, fmt)
    if output not in (None, "-"):
        _writable(output)  # a wrong -o is the one thing said, before the document's warnings
    if text == "-":
        text = c.read_stdin()
    c.db()
    document = documents.render_document(
        template, ref, fmt=chosen, deal=deal, order=order, text=text, subject=subject,
        values=dict(c.assignments(values)), now=c.now(),
    )  # fmt: skip
    if document.sender_missing:
        c.warn(
            "no sender is set (your business's name and address on the page): "
            'crm doc sender name="Muster GmbH" street=... zip=... city=...'
        )
    path = _path(output, document)
    to_stdout = path == "-"
    no_log = not log if log is not None else to_stdout  # printing it sends nothing

    def write() -> None:
        from crmcli.commands.exporting import destination

        with destination(path, binary=True) as out:
            out.write(document.content)

    if no_log:
        write()
    else:
        activity = documents.record_document(
            document, None if to_stdout else os.path.abspath(path), write, now=c.now()
        )
    if not to_stdout:
        print(path)
    told = "" if no_log else f"; on the timeline as activity #{activity['id']}"
    c.done(f"{'Printed' if to_stdout else 'Wrote'} {document.subject or document.title}{told}")


def _writable(path: str) -> None:
    """CrmError when FILE cannot be written where it is given: a directory, or in a folder
    that does not exist (what exporting.destination refuses, said before anything else)."""
    from crmcli.errors import CrmError

    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise CrmError(f"{path} is a directory; give a file name")
    if not os.path.isdir(os.path.dirname(target)):
        raise CrmError(f"{path}: no such directory {os.path.dirname(target)}")


def _path(output: str | None, document) -> str:
    """FILE as given, or TEMPLATE-ID.FORMAT in the current directory (never replacing a
    file: -2, -3 ... when the name is taken)."""
    if output is not None:
        return output
    t = document.target
    number = t.order_id or t.deal_id or t.contact_id or t.company_id
    base = f"{document.template}-{number}"
    for n in range(1, 1000):
        candidate = f"{base}.{document.format}" if n == 1 else f"{base}-{n}.{document.format}"
        if not os.path.lexists(candidate):
            return candidate
    from crmcli.errors import CrmError

    raise CrmError(f"too many files named {base}-*.{document.format} here; give -o FILE")


@app.command("templates")
def templates(
    output: c.OutputOpt = c.Format.table,
    path: Annotated[
        bool, typer.Option("--path", help="Print the folder for your own templates and stop.")
    ] = False,
) -> None:
    """List the document templates: built-in ones and your own.

    Your own go into the folder `--path` prints (NAME.jinja with a text and an HTML part,
    or NAME.md and NAME.html); one named as a built-in one replaces it. Copy a built-in
    one from the File column to start.

    Examples:

    \b
    crm doc templates
    crm doc templates --path
    crm doc templates -o json
    """
    from crmcli.services import documents, templating

    if path:
        print(templating.user_template_dir(documents.KIND))
        return
    rows = template_rows(documents.KIND, {"for": "contact", "layout": "none"})
    render_rows(rows, TEMPLATE_COLUMNS, output, fields=TEMPLATE_KEYS, empty="No templates.")


def template_rows(kind: str, front: dict[str, str]) -> list[dict]:
    """The templates of `kind` (doc, mail) as list rows: name, title, the front-matter keys
    `front` (with their defaults), origin (built-in or yours), file and parts."""
    from crmcli.services import templating

    return [
        {"name": t.name, "title": t.title,
         **{key: t.front_matter.get(key, default) for key, default in front.items()},
         "origin": "built-in" if t.builtin else "yours", "path": str(t.path),
         "parts": list(t.parts)}
        for t in templating.list_templates(kind)
    ]  # fmt: skip


# The interface speaks English (the documents print German words of their own).
SENDER_ROWS = (
    ("name", "Name"), ("street", "Street"), ("zip", "Zip"), ("city", "City"),
    ("country", "Country"), ("phone", "Phone"), ("email", "Email"), ("web", "Web"),
    ("vat_id", "VAT id"), ("tax_number", "Tax number"), ("register", "Register"),
    ("manager", "Manager"), ("bank", "Bank"), ("iban", "IBAN"), ("bic", "BIC"),
    ("vat_rate", "VAT rate (deals)"),
)  # fmt: skip


@app.command("sender")
def sender(
    changes: Annotated[
        list[str] | None,
        typer.Argument(metavar="[KEY=VALUE]...", help="Fields to set; KEY= clears one."),
    ] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Show or set your business's data that documents print: name, address, bank, VAT id.

    Keys: name, street, zip, city, country, phone, email, web, vat_id, tax_number,
    register, manager, bank, iban, bic, vat_rate (what a deal's amount is taxed at in an
    offer; 19 % unless set).

    Examples:

    \b
    crm doc sender name="Muster GmbH" street="Hauptstr. 1" zip=10115 city=Berlin
    crm doc sender iban="DE89 3704 0044 0532 0130 00" vat_id=DE123456789
    crm doc sender
    """
    from crmcli.services import documents

    c.db()
    if changes:
        found = documents.set_sender(dict(c.assignments(changes)))
        c.done("Sender updated")
    else:
        found = documents.sender()
    record = {key: found[key] for key, _ in SENDER_ROWS}
    render_record(record, SENDER_ROWS, output, title="Sender", record_fields=list(record))
