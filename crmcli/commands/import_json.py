"""`crm import json FILE`: a dump of `crm export all` restored into an empty database, or an
array or JSON lines of contact records (`crm export contacts`) imported like a CSV."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c

NOT_JSON = "is not a crm JSON export (a dump from crm export all, or an array of contacts)"


def json_import(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The JSON file; - reads stdin.")],
    match: Annotated[
        str,
        typer.Option("--match", help="Contacts: what makes two the same: email, phone, name."),
    ] = "email,phone,name",
    on_conflict: Annotated[
        str, typer.Option("--on-conflict", help="Contacts: update, skip or new.")
    ] = "update",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would happen; write nothing.")
    ] = False,
) -> None:
    """Restore a dump of `crm export all` into an empty database (every table, ids kept, in
    one transaction), or import contacts as `crm export contacts --format json` (or jsonl)
    writes them (matched like crm import csv). Read as it streams: a big dump is never held
    whole. A file that is not such JSON, cut short, or from a newer crm changes nothing.
    To move a database: crm export all -o dump.json, then crm --db NEW import json dump.json.

    Examples:

    \b
    crm import json crm-dump.json
    crm import json kontakte.json --dry-run
    """
    import sys

    from crmcli.errors import Invalid

    stream = sys.stdin.buffer if file == "-" else _open(file)
    name = "stdin" if file == "-" else file
    with stream:
        first = _first_byte(stream, name)
        if first not in (b"{", b"["):
            raise Invalid(None, f"{name} {NOT_JSON}")
        lines = first == b"{" and _check_header(stream, name) == "records"
        with c.import_db(dry_run):
            if first == b"{" and not lines:
                _restore(stream, name, dry_run)
            else:
                _contacts(stream, name, match, on_conflict, dry_run, lines=lines)


def _open(path: str):
    try:
        return open(path, "rb")  # noqa: SIM115 (closed by the caller's with)
    except IsADirectoryError:
        from crmcli.errors import CrmError

        raise CrmError(f"{path} is a directory; give the JSON file") from None


def _first_byte(stream, name: str) -> bytes:
    """The first byte that is not white space (or a BOM), left unread: `{` or `[`."""
    from crmcli.errors import Invalid

    head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
    if b"\x00" in head:
        raise Invalid(None, f"{name} is a binary file, {NOT_JSON.removeprefix('is ')}")
    if head.startswith(b"\xef\xbb\xbf"):  # a BOM (an editor on Windows): the parser wants none
        stream.read(3)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise Invalid(None, f"{name} is empty; {NOT_JSON}")
    return text[:1]


def _check_header(stream, name: str) -> str:
    """A dump's header, read from the file's start before any database is opened (or made):
    not a dump, or one from a newer crm, is refused before anything happens. "records" when
    the file is JSON lines of contact records instead, else "dump"."""
    import io

    import ijson

    from crmcli.db import SCHEMA_VERSION
    from crmcli.errors import Invalid
    from crmcli.services.exports import DUMP_FORMAT

    header: dict = {}
    try:
        events = ijson.parse(io.BytesIO(stream.peek(65536)[:65536]), multiple_values=True)
        for prefix, event, value in events:
            if prefix == "tables" or (prefix, event) == ("", "end_map"):
                break
            if prefix and "." not in prefix:
                header[prefix] = value
    except (ijson.JSONError, UnicodeDecodeError, ValueError):
        pass  # the piece read may end anywhere; the whole file is parsed (and judged) later
    if "format" not in header and "name" in header:
        return "records"  # JSON lines of contact records (crm export contacts --format jsonl)
    if header.get("format") != DUMP_FORMAT:
        raise Invalid(None, f"{name} is not a crm dump (made by crm export all --format json)")
    version = header.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise Invalid(
            None,
            f"{name} is from a newer crm (schema {version}, this one has {SCHEMA_VERSION}): "
            "upgrade crm to restore it",
        )
    return "dump"


def _parse_errors():
    import ijson

    return (ijson.JSONError, UnicodeDecodeError, ValueError)


def _restore(stream, name: str, dry_run: bool = False) -> None:
    import ijson

    from crmcli import __version__
    from crmcli.errors import Invalid
    from crmcli.services import exports

    try:
        counts = exports.restore_dump(ijson.parse(stream), crm_version=__version__, dry_run=dry_run)
    except _parse_errors() as exc:
        if isinstance(exc, Invalid):
            raise
        raise Invalid(None, f"{name} is not valid JSON ({_why(exc)}); nothing restored") from None
    from crmcli.values import plural

    rows = f"{plural(sum(counts.values()), 'row')} of {plural(len(counts), 'table')} from {name}"
    c.done(f"Dry run, nothing written: would restore {rows}." if dry_run else f"Restored {rows}.")


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return "cut short" if "Incomplete" in type(exc).__name__ and "premature" in text else text


def _contacts(
    stream, name: str, match: str, on_conflict: str, dry_run: bool, *, lines: bool = False
) -> None:
    import ijson

    from crmcli.errors import Invalid
    from crmcli.services import imports  # the import engine: matching, validation, one transaction

    def records():
        if lines:
            found = ijson.items(stream, "", use_float=True, multiple_values=True)
        else:
            found = ijson.items(stream, "item", use_float=True)
        what = "record" if lines else "item"
        for n, record in enumerate(found, 1):
            if not isinstance(record, dict):
                raise Invalid(None, f"{name}: {what} {n} is not a contact record (an object)")
            yield f"{what} {n}", record

    keys = [k.strip() for k in match.split(",") if k.strip()]
    try:
        result = imports.import_contacts(
            records(), match=keys, on_conflict=on_conflict, dry_run=dry_run, now=c.now()
        )
    except Invalid as exc:
        if exc.action == "import_rejects":  # import json has no --rejects: fix the file
            exc.action = "fix_rejects"
        raise
    except _parse_errors() as exc:
        if isinstance(exc, Invalid):
            raise
        raise Invalid(None, f"{name} is not valid JSON ({_why(exc)}); nothing imported") from None
    done = "would be" if dry_run else "were"
    doubts = result.possible_duplicates
    c.done(
        f"{result.new} new, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.skipped} skipped contacts {done} imported from {name}"
        + (
            f" ({doubts} possible duplicate{'' if doubts == 1 else 's'}: crm dedupe)."
            if doubts
            else "."
        )
    )
    for warning in result.warnings:
        c.warn(warning)
