"""`crm import vcard`: contacts from phones', Apple's, Google's, Outlook's and khard's vCard files.

services.vcard reads and checks the cards (a damaged value is dropped with a warning, here on
stderr); services.imports matches them against the contacts there and writes them in one
transaction. This module only wires the two and words the outcome.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmcli.commands import common as c

if TYPE_CHECKING:
    from crmcli.services.imports import ImportResult

MATCH_KEYS = ("email", "phone", "name")
CONFLICTS = ("update", "skip", "new")


def _match_keys(text: str) -> tuple[str, ...]:
    keys = tuple(k.strip().lower() for k in text.split(",") if k.strip())
    wrong = [k for k in keys if k not in MATCH_KEYS]
    if wrong or not keys:
        raise typer.BadParameter(
            f"{', '.join(wrong) or 'nothing'} is no key to match on; use "
            f"{','.join(MATCH_KEYS)} or some of them",
            param_hint="'--match'",
        )
    return keys


def _write_rejects(path: Path, rejected: list) -> None:
    """The cards the import refused, each as it was in the input (its bytes: fix it and
    import the file again), with the reason in an X-CRMCLI-REJECTED line after BEGIN:VCARD."""
    import os

    from crmcli.services.vcard_out import escape_text, fold

    # Private from the first byte (personal data), as every file crm writes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "wb") as out:
        for where, record, reason in rejected:
            card: bytes = record["_card"]
            begin, _, rest = card.partition(b"\r\n")
            try:
                card.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "cp1252"  # the card's own bytes (old Outlook): the reason in kind
            why = fold(f"X-CRMCLI-REJECTED:{escape_text(f'{where}: {reason}')}") + "\r\n"
            out.write(begin + b"\r\n" + why.encode(encoding, "replace") + rest)


def import_vcard(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE|DIR",
            help="A .vcf file, a directory of them (every *.vcf, as khard keeps them), or - "
            "for stdin.",
        ),
    ],
    match: Annotated[
        str,
        typer.Option(
            "--match",
            metavar="KEYS",
            help="Which keys find an existing contact, in order: email, phone, name (a phone "
            "or name not against other emails or another name, city, phone: see crm import "
            "csv --help).",
        ),
    ] = ",".join(MATCH_KEYS),
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict",
            metavar="update|skip|new",
            help="A card that matches a contact: update it (default), skip it, or add a new one.",
        ),
    ] = "update",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would happen; write nothing.")
    ] = False,
    tag: c.TagOpt = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="Import the good cards and write the refused ones to FILE (vCard, with the "
            "reason); without it one bad card stops the import and nothing is written.",
        ),
    ] = None,
) -> None:
    """Import contacts from vCard files (.vcf), as phones, Apple Contacts, Google, Outlook
    and khard export them (vCard 2.1, 3.0 and 4.0).

    Every email and phone number is kept with its type (work, home, mobile, other); the
    preferred one becomes the primary. A contact that is already there (same email, phone or
    name) is updated, so importing the same file twice changes nothing. Damaged values (a
    junk email, a cut-off photo) are dropped with a warning on stderr and the person is kept;
    a file that is not vCard, or a card that is never closed, stops the import and nothing
    is written. Photos are not stored.

    Examples:

    \b
    crm import vcard contacts.vcf --dry-run
    crm import vcard ~/.contacts/family/ --tag familie --rejects refused.vcf
    """
    keys = _match_keys(match)
    if on_conflict not in CONFLICTS:
        raise typer.BadParameter(
            f"{on_conflict!r} is not one of {', '.join(CONFLICTS)}", param_hint="'--on-conflict'"
        )
    from crmcli.errors import Invalid
    from crmcli.services import imports, vcard

    what: Any = sys.stdin.buffer if source == "-" else Path(source)
    if isinstance(what, Path) and not what.exists():
        raise Invalid(None, f"{source}: no such file or directory")
    if rejects is not None and not os.access(rejects.parent, os.W_OK):
        # Said before the import, not after it landed.
        raise Invalid(None, f"{rejects}: cannot write there (no such directory, or no permission)")

    def rows():
        cards = vcard.read_cards(what, name="stdin", keep_text=rejects is not None)
        for where, record, warnings in cards:
            for warning in warnings:
                c.warn(warning)
            yield where, record

    with c.import_db(dry_run):
        progress = c.Progress("Importing vCards", unit="cards")
        try:
            result = imports.import_contacts(
                rows(),
                match=keys,
                on_conflict=on_conflict,
                dry_run=dry_run,
                tags=tuple(tag or ()),
                progress=progress,
                keep_going=rejects is not None or dry_run,
                now=c.now(),
            )
        except Invalid as exc:
            if exc.action == "import_rejects":  # the engine's own line says nothing was imported
                why = re.sub(r"^(\S+) bad row(s?),", r"\1 bad card\2,", exc.why)
                raise Invalid(exc.field, why, action=exc.action, **exc.facts) from None
            raise Invalid(exc.field, f"{exc.why}; nothing was imported") from None
        finally:
            progress.stop()
        _report(result, source, dry_run=dry_run, rejects=rejects)


def _report(result: ImportResult, source: str, *, dry_run: bool, rejects: Path | None) -> None:
    from crmcli.errors import Invalid

    rejected = result.rejected  # every one: the import keeps going for a dry run or --rejects
    summary = (
        f"{result.new} new, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.skipped} skipped, {result.rejected_count} rejected"
    )
    if result.possible_duplicates:
        from crmcli.values import plural

        summary += f", {plural(result.possible_duplicates, 'possible duplicate')} (crm dedupe)"
    name = "stdin" if source == "-" else source
    if dry_run:
        c.done(f"Dry run of {name}, nothing written: {summary}.")
        for warning in result.warnings:
            c.warn(warning)
        for where, _record, reason in rejected:
            c.done(f"  {where}: {reason}")
        if result.rejected_count and rejects is None:
            # The real run would stop on these cards: so does its rehearsal, as CSV's does.
            from crmcli.values import plural

            cards = plural(result.rejected_count, "bad card")
            raise Invalid(
                None, f"{cards}: the import would stop and import nothing", action="import_rejects"
            )
        return
    c.done(f"Imported {name}: {summary}.")
    for warning in result.warnings:
        c.warn(warning)
    if rejects is not None:
        _write_rejects(rejects, rejected)
        if rejected:
            from crmcli.values import plural

            c.done(
                f"{plural(result.rejected_count, 'refused card')}, with the reasons, in {rejects}."
            )
