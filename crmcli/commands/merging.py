"""`crm dedupe` and `crm merge`: find records that are probably the same, and merge them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.env import current
from crmcli.output import Column, render_rows

# On a narrow terminal the evidence a person checks a group by (email, phone) stays longest;
# the company goes first, then the reason (the email and phone columns show it), then the
# score. The name may shrink to 16 and a long email to 24 (cut at its end, the start that
# tells people apart stays) so that both fit beside it at 80.
CONTACT_COLUMNS = (
    Column("group", "Group", "right", keep=True), Column("id", "Id", "right"),
    Column("name", "Name", min_width=16), Column("email", "Email", min_width=24, drop=2),
    Column("phone", "Phone", keep=True, drop=3), Column("company", "Company", drop=6),
    Column("reason", "Reason", min_width=24, drop=5), Column("score", "Score", "right", drop=4),
)  # fmt: skip
COMPANY_COLUMNS = (
    Column("group", "Group", "right", keep=True), Column("id", "Id", "right"),
    Column("name", "Name", min_width=16), Column("domain", "Domain", min_width=24, drop=2),
    Column("phone", "Phone", keep=True, drop=3), Column("city", "City", drop=6),
    Column("reason", "Reason", min_width=24, drop=5), Column("score", "Score", "right", drop=4),
)  # fmt: skip


def _rows(groups, kind: str):
    """One row per member for tables and CSV: its group's number, its score against the
    group's first member and what it shares with the others."""
    for group in groups:
        for member in group["members"]:
            row = {"group": group["group"], **member, "reason": ", ".join(member["reasons"])}
            row.pop("reasons")
            row.pop("created_at", None)
            yield row


def dedupe(
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="KEYS",
            help="What records must share, comma-separated: email, phone, name (contacts; "
            "default all three) or name, domain, phone (companies).",
        ),
    ] = None,
    companies: Annotated[
        bool,
        typer.Option(
            "--companies", "--company", help="Find duplicate companies instead of contacts."
        ),
    ] = False,
    min_score: Annotated[
        int,
        typer.Option(
            "--min-score",
            min=0,
            max=100,
            help="Only groups whose names are at least this alike (0-100; default 0: all).",
            show_default=False,
        ),
    ] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            max=c.MAX_ROWS,
            help="At most this many groups (0: all; a terminal shows 100).",
        ),
    ] = None,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """List groups of contacts (or companies) that are probably the same person, likeliest
    first: the same email (case and Gmail's dots aside), the same phone number however it was
    written, or names that sound alike in German (Meier, Maier and Meyer; Müller and
    Mueller). Score: how alike the names are (100: the same). Merge a group with crm merge.

    Examples:

    \b
    crm dedupe
    crm dedupe --by email,phone -o json
    crm dedupe --companies
    """
    from crmcli.services import dedupe as service

    kind = "company" if companies else "contact"
    keys = service.check_keys((by or "").split(","), kind) if by is not None else None
    c.db()
    shown = c.page_limit(limit, output)
    # one more than shown: whether to say that there are more
    groups = service.find_duplicates(
        keys, kind=kind, min_score=min_score, limit=None if shown is None else shown + 1
    )
    more = False
    if shown is not None:
        page = list(groups)
        more, groups = len(page) > shown, page[:shown]
    counted = c.Counted(groups)
    columns = COMPANY_COLUMNS if companies else CONTACT_COLUMNS
    fields = [col.key for col in columns]
    if output in (c.Format.json, c.Format.jsonl):
        render_rows(counted, columns, output)
    else:
        render_rows(_rows(counted, kind), columns, output, fields=fields)
    if counted.count == 0:
        what = "companies" if companies else "contacts"
        sys.stderr.write(f"No duplicate {what} found.\n")
    elif output is c.Format.table and current().stdout_isatty:
        hint = " (--limit 0 shows all)" if more else ""
        flag = "--company " if companies else ""
        # two short lines: one line of both wrapped at 80 columns
        sys.stderr.write(
            f"{counted.count:,} group{'s' if counted.count != 1 else ''}{hint}.\n"
            f"Merge one with: crm merge {flag}KEEP OTHER... (try --dry-run first)\n"
        )


CONFLICT_COLUMNS = (
    Column("field", "Field", keep=True), Column("kept", "Kept", min_width=12),
    Column("kept_from", "From", "right"), Column("other_id", "Other", "right"),
    Column("other_value", "Other value", min_width=12),
)  # fmt: skip


def _takes(takes: list[str] | None) -> dict[str, int]:
    """`--take FIELD=ID` options as field -> the id of the record whose value to keep."""
    from crmcli.errors import Invalid
    from crmcli.services import refs

    out: dict[str, int] = {}
    for text in takes or []:
        field, sep, ref = text.partition("=")
        if not sep or not field.strip() or not refs.is_id(ref):
            raise Invalid("take", f"cannot read '{text}': expected FIELD=ID, e.g. city=12")
        out[field.strip().lower()] = refs.parse_id(ref, kind="take")
    return out


def _resolve_keep(resolve, keep: str, *, company: bool) -> int:
    """KEEP's id; `crm merge company 1 3` (the kind first, as crm show takes it) is not how
    merge says companies: when no contact is called so, the error says --company."""
    from crmcli.errors import NotFound

    try:
        return resolve(keep)
    except NotFound:
        word = keep.strip().lower()
        if not company and word in ("company", "companies", "firma"):
            raise NotFound(
                f"no contact matches '{keep}'; did you mean --company (crm merge --company "
                "KEEP OTHER...)?"
            ) from None
        if word in ("contact", "contacts"):
            raise NotFound(
                f"no {'company' if company else 'contact'} matches '{keep}'; merge takes no "
                "kind first: crm merge KEEP OTHER... (contacts) or crm merge --company ..."
            ) from None
        raise


def merge(
    keep: Annotated[str, typer.Argument(metavar="KEEP", help="The record that stays: a REF.")],
    others: Annotated[
        list[str], typer.Argument(metavar="OTHER...", help="Records merged into it: REFs.")
    ],
    company: Annotated[
        bool,
        typer.Option(
            "--company", "--companies", help="Merge companies (KEEP and OTHER name companies)."
        ),
    ] = False,
    take: Annotated[
        list[str] | None,
        typer.Option(
            "--take",
            metavar="FIELD=ID",
            help="Keep this record's value of a field where they differ (city=12, "
            "fields.kundennr=12; email=12 or phone=12 makes its one the primary); repeatable.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Merge records that share no email, phone or similar name (refused without "
            "it: most likely a mistyped id).",
        ),
    ] = False,
    yes: c.YesOpt = False,
    output: c.ResultOpt = None,
) -> None:
    """Merge duplicates into one record: KEEP stays and takes over the others' emails, phones,
    timeline, tasks, deals, tags and custom fields, in one transaction. KEEP's values win
    where both have one (the differences are shown; --take chooses another's); empty fields
    are filled from the others; notes are joined. Consent stays only if every record had it.
    A merged record's id and emails still find KEEP afterwards. Asks first on a terminal;
    scripts must pass --yes.

    Examples:

    \b
    crm merge 12 47
    crm merge 12 47 51 --take city=47 --dry-run
    crm merge --company 3 8 --yes
    """
    chosen = _takes(take)
    c.db()
    from crmcli.services import merge as service

    if company:
        from crmcli.services.companies import resolve_company as resolve

        run = service.merge_companies
    else:
        from crmcli.services.contacts import resolve_contact as resolve

        run = service.merge_contacts
    kind = "company" if company else "contact"
    keep_id = _resolve_keep(resolve, keep, company=company)
    other_ids = [resolve(ref) for ref in others]
    _already_merged(kind, [keep, *others], [keep_id, *other_ids])
    from crmcli.services.refs import refuse_merged

    for ref, rid in zip([keep, *others], [keep_id, *other_ids], strict=True):
        refuse_merged(kind, ref, rid, doing="merge")
    plan = run(keep_id, other_ids, choose=chosen, dry_run=True, now=c.now())
    _describe(plan)
    if plan["unrelated"] and not force:
        from crmcli.errors import Invalid

        labels = {plan["keep"]["id"]: plan["keep"]["name"]}
        labels |= {r["id"]: r["name"] for r in plan["merged"]}
        why = service.unrelated_reason(kind, keep_id, plan["unrelated"], labels)
        hint = _other_kind_hint(kind, plan["unrelated"], [keep_id, *other_ids])
        if not dry_run:
            raise Invalid("merge", f"{why}{hint}; pass --force if they are")
        c.done(f"Warning: {why}{hint}; merging needs --force.")
    if dry_run:
        c.done("Nothing changed (--dry-run).")
    else:
        kind = plan["kind"]
        names = ", ".join(f"#{r['id']} {r['name']}" for r in plan["merged"])
        c.confirm(
            f"Merge {kind} {names} into #{keep_id} {plan['keep']['name']} "
            f"(the merged {'records are' if len(other_ids) > 1 else 'record is'} deleted)?",
            yes=yes,
        )
        plan = run(keep_id, other_ids, choose=chosen, force=force, now=c.now())
        c.done(f"Merged {names} into {kind} #{keep_id} {plan['keep']['name']}.")
    if output in (c.Format.json, c.Format.jsonl):  # the plan (or result) as one object
        from crmcli.output import render_record

        render_record(plan, (), output)
    elif output is not None:  # a table or CSV: the conflicts, one row per other value
        rows = [
            {"field": k["field"], "kept": k["kept"], "kept_from": k["kept_from"],
             "other_id": o["id"], "other_value": o["value"]}
            for k in plan["conflicts"] for o in k["others"]
        ]  # fmt: skip
        render_rows(rows, CONFLICT_COLUMNS, output)


def _already_merged(kind: str, refs_given: list[str], ids: list[int]) -> None:
    """An id given that was merged away names its survivor; when that is another record
    given too, say so rather than that a record cannot be merged into itself."""
    from crmcli.errors import Invalid
    from crmcli.services import refs

    for ref, rid in zip(refs_given, ids, strict=True):
        if ids.count(rid) < 2 or not refs.is_id(ref):
            continue
        given = refs.parse_id(ref, kind=kind)
        if given != rid and refs.survivor(kind, given) == rid:
            raise Invalid("merge", f"{kind} #{given} was already merged into #{rid}")


def _other_kind_hint(kind: str, ids: list[int], given: list[int]) -> str:
    """A contact merge of ids whose company merge was the last merge done: a company merge
    retyped without --company, say so. Not the other way (--company is never typed by
    mistake), nor after an older merge (the walk: two unrelated companies were told that a
    contact merged before was meant)."""
    from crmcli.services import refs

    last = refs.last_merge() if kind == "contact" else None
    if last is None or last[0] != "company":
        return ""
    for rid in ids:
        survivor = refs.survivor("company", rid)
        if rid == last[1] and survivor in given:
            return f" (#{rid} was a company merged into #{survivor}: meant with --company?)"
    return ""


def _describe(plan: dict) -> None:
    """What the merge does, for a person (stderr): conflicts with the --take that picks the
    other value, fields filled, what moves, the consent."""
    from crmcli.values import plural

    kind, keep = plan["kind"], plan["keep"]
    names = ", ".join(f"#{r['id']} {r['name']}" for r in plan["merged"])
    lines = [f"Merging {kind} {names} into #{keep['id']} {keep['name']}:"]
    for conflict in plan["conflicts"]:
        field = conflict["field"]
        others = "; ".join(f"#{o['id']} has {_shown(o['value'])}" for o in conflict["others"])
        hint = conflict["others"][0]["id"]
        verb = "fills" if conflict.get("filled") else "keeps"
        lines.append(
            f"  {field}: {verb} {_shown(conflict['kept'])} (#{conflict['kept_from']}); {others}"
            f"  [--take {field}={hint}]"
        )
    for fill in plan["filled"]:
        source = f" from #{fill['from']}" if fill["from"] is not None else " (joined)"
        lines.append(f"  {fill['field']}: {_short(_shown(fill['value']))}{source}")
    for choice in plan["chosen"]:
        lines.append(f"  {choice['field']}: {_shown(choice['value'])} (chosen, #{choice['from']})")
    moves = [plural(n, _NOUNS.get(k, k)) for k, n in plan["moves"].items() if n]
    if moves:
        lines.append(f"  moves {', '.join(moves)}")
    if "consent" in plan:
        consent = plan["consent"]
        lines.append(
            "  consent: "
            + (
                "yes, every record had it"
                if consent["consent"]
                else "none (not every record had it)"
            )
        )
    c.done("\n".join(lines))


_NOUNS = {
    "emails": "email", "phones": "phone", "activities": "activity", "tasks": "task",
    "deals": "deal", "tags": "tag", "contacts": "contact",
}  # fmt: skip


def _shown(value) -> str:
    """A plan's value for a person. A date is a birthday here, written as a birthday without
    a year is (24.12.1980 beside 24.12., not 1980-12-24 beside 24.12.)."""
    from datetime import date

    from crmcli.output import display

    if isinstance(value, date) and not hasattr(value, "shown"):
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    return display(value)


def _short(text: str) -> str:
    line = text.replace("\n", " ")
    return line if len(line) <= 60 else line[:59] + "…"
