"""`crm search QUERY`: full-text search over contacts, companies and activity text."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, render_rows


class Kind(StrEnum):
    contact = "contact"
    company = "company"
    deal = "deal"
    activity = "activity"


COLUMNS = (
    Column("kind", "Kind", keep=True), Column("id", "Id", "right"),
    Column("name", "Name", min_width=14), Column("detail", "Detail", min_width=16),
)  # fmt: skip


def search(
    query: Annotated[list[str], typer.Argument(help="Words to find; each matches as a prefix.")],
    kind: Annotated[
        list[Kind] | None, typer.Option("--kind", "-k", help="Only this kind; repeatable.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=c.MAX_ROWS, help="At most this many results.")
    ] = 20,
    offset: c.OffsetOpt = 0,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Search names, emails, companies, cities, notes and activity text; best first.

    Accents and case are ignored and words match as prefixes: muller and mueller find
    Müller, weiss finds Weiß, schmi finds Schmidt.
    Example: crm search müller köln -o json
    """
    c.db()
    from crmcli.services import search as search_service

    kinds = [k.value for k in kind or []]
    rows = search_service.search(" ".join(query), limit=limit, offset=offset, kinds=kinds)
    from crmcli.commands.cards import SEARCH_KEYS

    render_rows(rows, COLUMNS, output, fields=SEARCH_KEYS, empty="Nothing matches.")
