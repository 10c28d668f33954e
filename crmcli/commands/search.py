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
    Column("name", "Name", min_width=22), Column("detail", "Detail", min_width=16),
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

    Examples:

    \b
    crm search müller köln
    crm search weiss --kind contact -o json
    """
    from crmcli.errors import Invalid
    from crmcli.services import search as search_service

    text = " ".join(query)
    if not search_service.searchable(text):
        shown = text.strip()
        quoted = f'"{shown}"' if "'" in shown else f"'{shown}'"
        raise Invalid(
            "query",
            (f"{quoted} has nothing to search for: " if shown else "")
            + "give a word, a name, an email or a phone number",
        )
    c.db()
    kinds = [k.value for k in kind or []]
    hits = search_service.search(text, limit=limit, offset=offset, kinds=kinds)
    from crmcli.commands.cards import SEARCH_KEYS

    rows = [{k: detail(hit) if k == "detail" else hit.get(k) for k in SEARCH_KEYS} for hit in hits]
    render_rows(rows, COLUMNS, output, fields=SEARCH_KEYS, empty="Nothing matches.")


def detail(hit: dict) -> str:
    """What a hit's Detail column says, in the user's locale: a contact's email, company and
    city; a company's domain and city; an activity's kind, time and first 80 characters; a
    deal's stage, amount and who it is with."""
    from crmcli.output import display_datetime, money

    kind = hit["kind"]
    if kind == "contact":
        parts = (hit["email"], hit["company"], hit["city"])
    elif kind == "company":
        parts = (hit["domain"], hit["city"])
    elif kind == "activity":
        when = display_datetime(hit["at"]) if hit["at"] is not None else ""
        return f"{hit['activity']} {when}: {(hit['summary'] or '')[:80]}"
    else:
        amount = money(hit["amount"], hit["currency"] or "EUR")
        parts = (hit["stage"], amount, hit["contact"] or hit["company"])
    return " · ".join(p for p in parts if p)
