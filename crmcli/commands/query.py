"""`crm query QUERY`: address completion for mutt, neomutt and aerc."""

from __future__ import annotations

from typing import Annotated

import typer


def query(
    words: Annotated[
        list[str], typer.Argument(metavar="QUERY", help="A name, company or email to complete.")
    ],
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=1, max=10_000, help="At most this many contacts (with an email)."
        ),
    ] = 50,
    no_header: Annotated[
        bool,
        typer.Option("--no-header", help="Leave out the first line (for aerc)."),
    ] = False,
) -> None:
    """Print the emails of matching contacts for a mail client's address completion.

    The output is mutt's query format: a first line saying how many matched, then one line
    per email, `email<TAB>name<TAB>company`, every email of each contact (primary first).
    Names, companies and email beginnings match as in `crm search` (accents and case are
    ignored, words are prefixes). No match is not an error: the first line says so and
    the exit status is 0. In ~/.muttrc (neomutt alike) and in aerc.conf:

    \b
    set query_command = "crm query %s"
    address-book-cmd = crm query --no-header '%s'

    Examples:

    \b
    crm query müller
    crm query jm@mue
    """
    import sys

    from crmcli.env import current

    text = " ".join(words)
    current().db(create=False)  # (not commands.common: each keystroke pays for its import)
    from crmcli.services import addressbook

    found = addressbook.lookup(text, limit=limit)
    lines = []
    if not no_header:
        if found:
            people = len({a.contact_id for a in found})
            shown = f"{len(found)} address{'es' if len(found) != 1 else ''}"
            lines.append(f"crm: {shown} of {people} contact{'s' if people != 1 else ''}")
        else:
            lines.append(f"crm: no contact matches {_field(text)!r}")
    lines += [f"{_field(a.email)}\t{_field(a.name)}\t{_field(a.company or '')}" for a in found]
    sys.stdout.write("".join(line + "\n" for line in lines))


def _field(text: str) -> str:
    """One field of a line: no tabs, line breaks or control characters inside."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()
