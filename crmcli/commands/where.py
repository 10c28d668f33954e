"""`--where`: change every contact (or company) the `crm list` filters select, instead of one REF.

The grammar, for tag, untag, edit and delete:

    crm tag [KIND] --where FILTER... TAG...      crm delete [KIND] --where FILTER... [--yes]
    crm edit [KIND] CHANGE... --where FILTER...  (KIND: contact, the default, or company)

After `--where`, the options that `crm list contacts` (or `crm list companies`) filters with are
filters, parsed by that command's own option definitions, so a filter means what it means there.
Everything else keeps its meaning wherever it stands: the TAGs, --yes, --dry-run and the changes
of `crm edit`. A change named like a filter (--city, --status, --tag...) goes before --where:
`crm edit --status customer --where --status lead`. `--where --all` means every record.

The command shows how many records the filters select (and the first names), asks on a terminal
(a script passes --yes), and changes them in one transaction (services.bulk).
"""

from __future__ import annotations

import functools
from typing import Annotated

import typer
from typer.core import TyperCommand

from crmcli.commands import common as c

META = "crm.where"
NOT_FILTERS = {"sort", "limit", "offset", "output"}  # list options that shape, not select
SHOWN = 5  # names in the question before "and N more"

WhereOpt = Annotated[
    bool,
    typer.Option(
        "--where",
        help="Instead of a REF: every record the filters after it select (see Filters below).",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="With --where: list what would change; change nothing.")
]
# The words read as a kind before the REF (or before --where): the kinds that take part, and the
# others, so that `crm tag deal 19 x` can say deals have no tags.
KIND_WORDS = {
    "contact": "contact", "contacts": "contact",
    "company": "company", "companies": "company",
    "deal": "deals", "deals": "deals", "task": "tasks", "tasks": "tasks",
    "activity": "activities", "activities": "activities", "tag": "tags", "tags": "tags",
}  # fmt: skip


class WhereCommand(TyperCommand):
    """A command whose `--where` is followed by the `crm list` filters: they are read here,
    before click parses the rest, and handed to the command in `ctx.meta`."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        args = list(args)
        at = self._where_at(args)
        if at is not None:
            end = args.index("--", at) if "--" in args[at:] else len(args)
            ctx.meta[META], rest = _parse_filters(ctx, args[at + 1 : end])
            args = [*args[:at], "--where", *rest, *args[end:]]
        return super().parse_args(ctx, args)

    def _where_at(self, args: list[str]) -> int | None:
        """Where `--where` stands: not after `--`, and not as the value of an option
        (`crm edit 5 --notes --where` sets a note)."""
        takes_value = {
            opt
            for p in self.params
            if p.param_type_name == "option" and not p.is_flag and not p.count
            for opt in p.opts
        }
        for i, token in enumerate(args):
            if token == "--":
                return None
            if token == "--where" and not (i and args[i - 1] in takes_value):
                return i
        return None

    def format_options(self, ctx, formatter) -> None:
        from crmcli.values import plural_of

        super().format_options(ctx, formatter)
        names = _filter_names()
        rows = []
        for param in _filter_command().params:
            opts, text = param.get_help_record(ctx)
            only = [k for k, known in names.items() if param.name in known]
            if len(only) == 1:
                text = f"{text} ({plural_of(only[0])} only)"
            rows.append((opts, text))
        with formatter.section("Filters after --where (as in crm list contacts/companies)"):
            formatter.write_dl(rows)


def _list_functions() -> dict[str, object]:
    from crmcli.commands import listing

    return {"contact": listing.list_contacts, "company": listing.list_companies}


@functools.cache
def _filter_names() -> dict[str, set[str]]:
    """{kind: names of the filter options its `crm list` command has}."""
    return {kind: {p.name for p in _params_of(f)} for kind, f in _list_functions().items()}


def _params_of(function) -> list:
    from typer.main import get_command

    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command()(function)
    return [p for p in get_command(single).params if p.name not in NOT_FILTERS]


@functools.cache
def _filter_command():
    """A click command that knows every filter of `crm list contacts` and `crm list companies`
    (and --all) and hands every other argument back."""
    from typer.core import TyperOption

    params, seen = [], set()
    for function in _list_functions().values():
        for param in _params_of(function):
            if param.name not in seen:
                seen.add(param.name)
                params.append(param)
    every = TyperOption(
        param_decls=["--all", "all_"], is_flag=True, help="No filter: every record."
    )
    params.append(every)
    return TyperCommand(
        "--where", params=params, add_help_option=False, rich_markup_mode=None,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )  # fmt: skip


def _parse_filters(outer, tokens: list[str]) -> tuple[dict, list[str]]:
    """The filters among `tokens` ({option name: value} for those given) and the rest."""
    from typer._click.core import ParameterSource
    from typer._click.exceptions import UsageError

    command = _filter_command()
    try:
        ctx = command.make_context("--where", list(tokens))
    except UsageError as exc:
        raise UsageError(exc.message, outer) from None
    for param in command.params:
        if param.multiple or getattr(param, "is_flag", False):
            continue
        given = [
            t for t in tokens if t in param.opts or t.startswith(tuple(f"{o}=" for o in param.opts))
        ]
        if len(given) > 1:
            raise UsageError(
                f"{max(param.opts, key=len)} is given twice after --where "
                "(a change named like a filter goes before --where)",
                outer,
            )
    filters = {}
    for param in command.params:
        if ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
            value = ctx.params[param.name]
            filters[param.name] = list(value) if isinstance(value, tuple) else value
    return filters, list(ctx.args)


def where_kind(args: list[str]) -> str:
    """The KIND before --where (contact by default); only contacts and companies."""
    from crmcli.errors import Invalid

    if not args:
        return "contact"
    kind = KIND_WORDS.get(args[0].lower())
    if len(args) > 1 or kind is None:
        raise typer.BadParameter(
            f"with --where give no REF ({' '.join(args)}): at most the KIND, contact or company"
        )
    if kind not in ("contact", "company"):
        raise Invalid(None, f"--where changes contacts and companies, not {kind}")
    return kind


def filters_for(kind: str) -> tuple[dict, bool]:
    """The service filters given after --where for this kind, and whether --all was given."""
    from typer._click.globals import get_current_context

    from crmcli.errors import Invalid

    given = dict(get_current_context().meta.get(META, {}))
    every = bool(given.pop("all_", False))
    wrong = sorted(set(given) - _filter_names()[kind])
    if wrong:
        flags = ", ".join("--" + w.replace("_", "-") for w in wrong)
        from crmcli.values import plural_of

        kinds = plural_of(kind)
        raise Invalid(None, f"{flags} does not filter {kinds} (see crm list {kinds} --help)")
    for name, value in given.items():
        if value in ("", []) or (isinstance(value, str) and not value.strip()):
            raise Invalid(name.replace("_", "-"), "an empty filter selects nothing in particular")
    if every and given:
        raise Invalid(None, "--all and filters exclude each other")
    if not every and not given:
        raise Invalid(
            None, f"--where without a filter would select every {kind}; add --all to mean that"
        )
    return _service_filters(given), every


def _service_filters(given: dict) -> dict:
    """Option values as the list services take them (as `crm list` converts them)."""
    out = {}
    for name, value in given.items():
        if name == "tag":
            out["tags_"] = value
        elif name == "field":
            out["fields"] = c.assignments(value)
        elif name == "created_since":
            out["created_since"] = c.since(value, "created-since")
        elif name == "overdue_contact":
            out["overdue_contact"] = c.now() if value else None
        else:
            out[name] = value  # a plain text filter: city, status, company, source, industry
    return out


def select(kind: str) -> tuple[dict, bool, list[tuple[int, str]]]:
    """The filters, --all, and the (id, name) of every record they select, by name."""
    filters, every = filters_for(kind)
    c.db()
    c.warn_unknown_tags(filters.get("tags_"))
    from crmcli.services import bulk

    return filters, every, bulk.select(kind, filters, every=every)


def none_match(kind: str, rows: list) -> bool:
    """Say so (on stderr; success) when the filters select nothing."""
    from crmcli.values import plural_of

    if rows:
        return False
    c.done(f"No {plural_of(kind)} match.")
    return True


def preview(rows: list[tuple[int, str]]) -> str:
    """`#3 Anna Adler, #1 Bernd Bauer and 18 more`."""
    names = [f"#{i} {name}" for i, name in rows[:SHOWN]]
    more = len(rows) - SHOWN
    if more > 0:
        return ", ".join(names) + f" and {more} more"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def ask(question: str, kind: str, rows: list[tuple[int, str]], *, yes: bool) -> None:
    """On a terminal: which records, then the question; without one, --yes or refuse."""
    from crmcli.env import current
    from crmcli.values import plural_of

    if not yes and current().stdin_isatty:
        c.done(f"{plural_of(kind).capitalize()}: {preview(rows)}.")
    c.confirm(question, yes=yes)


def dry_run(kind: str, filters: dict, would: str, output=None) -> None:
    """List the records that would change as `crm list` shows them (stdout), and what would
    happen to them (stderr)."""
    from crmcli.commands.cards import COMPANY_COLUMNS, CONTACT_COLUMNS
    from crmcli.output import Format, render_rows
    from crmcli.services import companies, contacts

    if kind == "contact":
        render_rows(contacts.list_contacts(**filters), CONTACT_COLUMNS, output or Format.table)
    else:
        render_rows(companies.list_companies(**filters), COMPANY_COLUMNS, output or Format.table)
    c.done(f"Would {would}; nothing changed (--dry-run).")


def ids(rows: list[tuple[int, str]]) -> list[int]:
    return [i for i, _ in rows]


# What a change of `crm edit` is called in a sentence ("Changed status and tags of 3 contacts").
CHANGE_WORDS = {
    "every": "stay-in-touch cadence", "consent_date": "consent date", "tag": "tags",
    "untag": "tags", "field": "custom fields",
}  # fmt: skip


def changed_what(v: dict) -> str:
    """`status, city and tags`: the changes of `crm edit` as words, each once."""
    words = sorted({CHANGE_WORDS.get(k, k.replace("_", " ")) for k in v})
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]


def edit_where(kind: str, v: dict, *, yes: bool, dry_run_: bool, output=None) -> None:
    """`crm edit [KIND] CHANGES --where FILTERS`: the same changes on every selected record."""
    from crmcli.commands.edit import company_changes, contact_changes
    from crmcli.errors import Invalid
    from crmcli.values import plural

    if output is not None and not dry_run_:
        raise Invalid(None, "-o with --where prints the --dry-run list; add --dry-run")
    if kind not in ("contact", "company"):
        raise Invalid(None, f"--where changes contacts and companies, not a {kind}")
    changes = contact_changes(v) if kind == "contact" else company_changes(v)
    filters, every, rows = select(kind)
    if none_match(kind, rows):
        return
    what = changed_what(v)
    target = plural(len(rows), kind)
    if dry_run_:
        dry_run(kind, filters, f"change {what} of {target}", output)
        return
    ask(f"Change {what} of {target}?", kind, rows, yes=yes)
    from crmcli.services import bulk

    result = bulk.edit(
        kind, filters, changes, add_tags=v.get("tag", []), remove_tags=v.get("untag", []),
        fields=c.assignments(v.get("field")), every=every, expect=ids(rows), now=c.now(),
    )  # fmt: skip
    from crmcli.commands.add import company_news

    company_news(result)
    c.done(f"Changed {what} of {target}.")
