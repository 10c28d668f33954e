"""`crm move`, `crm won`, `crm lost` and `crm stages`: deals through the sales process.

(`crm add deal` lives in add.py, `crm list deals` in listing.py, `crm reopen deal` in tasks.py.)
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, render_rows

DealArg = Annotated[str, typer.Argument(help="The deal: id or a unique part of its title.")]


def describe(card: dict) -> str:
    from crmcli.commands.cards import deal_view

    return f"deal #{card['id']} {card['title']} ({deal_view(card)['amount_display']})"


def print_result(card: dict, output) -> None:
    if output is not None:
        from crmcli.commands.cards import print_deal
        from crmcli.services import deals

        print_deal(deals.deal_card(card["id"]), output)


def move(
    deal: DealArg,
    stage: Annotated[str, typer.Argument(help="The stage: its name (or part of it) or id.")],
    output: c.ResultOpt = None,
) -> None:
    """Move an open deal to another stage; the step is recorded in its history.

    Example:

    \b
    crm move "dach köln" Angebot
    """
    c.db()
    from crmcli.services import deals
    from crmcli.services.users import acting_user

    card = deals.move_deal(deals.resolve_deal(deal), stage, now=c.now(), by=acting_user())
    if card["status"] == "won":  # moved to the won stage: said as `crm won` says it
        c.done(f"Won {describe(card)}.")
    else:
        c.done(f"Moved {describe(card)} to {card['stage']}.")
    print_result(card, output)


def won(deal: DealArg, output: c.ResultOpt = None) -> None:
    """Mark a deal as won.

    Example:

    \b
    crm won 12
    """
    c.db()
    from crmcli.services import deals
    from crmcli.services.users import acting_user

    card = deals.win_deal(deals.resolve_deal(deal), now=c.now(), by=acting_user())
    c.done(f"Won {describe(card)}.")
    print_result(card, output)


def lost(
    deal: DealArg,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why it was lost (the funnel ranks reasons).")
    ],
    output: c.ResultOpt = None,
) -> None:
    """Mark a deal as lost, with the reason.

    Example:

    \b
    crm lost 12 --reason "Preis zu hoch"
    """
    c.db()
    from crmcli.services import deals
    from crmcli.services.users import acting_user

    card = deals.lose_deal(deals.resolve_deal(deal), reason, now=c.now(), by=acting_user())
    c.done(f"Lost {describe(card)}: {card['lost_reason']}.")
    print_result(card, output)


# ---------------------------------------------------------------- the sales process

stages_app = typer.Typer(
    help="The sales process: list its stages, or add, rename, reorder and remove them."
    "\n\nExamples:\n\n\b\ncrm stages\ncrm stages -o json\ncrm stages remove --help",
    invoke_without_command=True,
    add_completion=False,
)
STAGE_KEYS = (
    "id", "name", "position", "probability", "is_won", "is_lost", "deals", "value", "values",
)  # fmt: skip
STAGE_COLUMNS = (
    Column("position", "#", "right"), Column("name", "Stage"),
    Column("probability", "Probability %", "right"), Column("flag", "Closes"),
    Column("deals", "Deals", "right"), Column("value", "Value", "right"),
)  # fmt: skip


def _render_stages(output) -> None:
    from crmcli.output import money
    from crmcli.services import stages

    rows = stages.list_stages()
    if output is c.Format.table:
        for r in rows:
            r["flag"] = "won" if r["is_won"] else "lost" if r["is_lost"] else ""
            # each currency on its own, never summed across them
            r["value"] = ", ".join(money(v, cur) for cur, v in r["values"].items()) or money(0)
    render_rows(rows, STAGE_COLUMNS, output, fields=STAGE_KEYS)


@stages_app.callback(invoke_without_command=True)
def stages_list(ctx: typer.Context, output: c.OutputOpt = c.Format.table) -> None:
    """List the stages in order with probability, won/lost flag and the deals in each.

    Examples:

    \b
    crm stages
    crm stages -o json
    """
    if ctx.invoked_subcommand is None:
        c.db()
        _render_stages(output)


@stages_app.command("add")
def stages_add(
    name: Annotated[str, typer.Argument(help="The new stage's name.")],
    after: Annotated[
        str | None, typer.Option("--after", help="Place it after this stage (default: last open).")
    ] = None,
    probability: Annotated[
        int | None,
        typer.Option("--probability", help="Chance to win, 0-100 (default: the previous)."),
    ] = None,
    output: c.ResultOpt = None,
) -> None:
    """Add an open stage to the sales process.

    Example:

    \b
    crm stages add Demo --after Qualifiziert --probability 40
    """
    c.db()
    from crmcli.services import stages

    stage = stages.add_stage(name, after=after, probability=probability, now=c.now())
    c.done(f"Added stage {stage['name']} at position {stage['position']}.")
    if output is not None:
        _render_stages(output)


@stages_app.command("rename")
def stages_rename(
    stage: Annotated[str, typer.Argument(help="The stage to change.")],
    name: Annotated[str | None, typer.Argument(help="Its new name.")] = None,
    probability: Annotated[
        int | None, typer.Option("--probability", help="A new probability, 0-100.")
    ] = None,
    output: c.ResultOpt = None,
) -> None:
    """Rename a stage and/or change its probability.

    Example:

    \b
    crm stages rename Angebot "Angebot verschickt" --probability 60
    """
    from crmcli.errors import Invalid

    if name is None and probability is None:
        raise Invalid(None, "give a new name, --probability or both")
    c.db()
    from crmcli.services import stages

    changed = stages.edit_stage(stage, name=name, probability=probability, now=c.now())
    c.done(f"Stage {changed['name']}: {changed['probability']} %.")
    if output is not None:
        _render_stages(output)


@stages_app.command("reorder")
def stages_reorder(
    order: Annotated[list[str], typer.Argument(help="Every stage, in the new order.")],
    output: c.ResultOpt = None,
) -> None:
    """Put the stages in a new order; name every stage once.

    Example:

    \b
    crm stages reorder Lead Qualifiziert Demo Angebot Verhandlung \\
        Gewonnen Verloren
    """
    c.db()
    from crmcli.services import stages

    rows = stages.reorder_stages(order, now=c.now())
    c.done("Stages: " + " → ".join(r["name"] for r in rows) + ".")
    if output is not None:
        _render_stages(output)


@stages_app.command("remove")
def stages_remove(
    stage: Annotated[str, typer.Argument(help="The stage to remove.")],
    move_to: Annotated[
        str | None,
        typer.Option("--move-to", help="Merge into this stage: its deals and history move there."),
    ] = None,
    yes: c.YesOpt = False,
) -> None:
    """Remove a stage; one that holds deals (or is in their history) needs --move-to.

    Example:

    \b
    crm stages remove Demo --move-to Angebot --yes
    """
    c.db()
    from crmcli.services import stages

    found = stages.resolve_stage(stage)
    where = f" (its deals move to {move_to})" if move_to else ""
    c.confirm(f"Remove stage {found['name']}{where}?", yes=yes)
    removed = stages.remove_stage(stage, move_to=move_to, now=c.now())
    moved = ""
    if move_to:
        from crmcli.values import plural

        moved = f"; {plural(removed['moved_deals'], 'deal')} now in {removed['moved_to']}"
    c.done(f"Removed stage {removed['name']}{moved}.")
