"""`crm done`, `crm snooze`, `crm reopen`: move tasks along (`crm add task` lives in add.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.commands.cards import print_task


def describe(card: dict) -> str:
    from crmcli.output import display, display_date
    from crmcli.services.tasks import has_time

    due = card["effective_due"]
    shown = display(due) if has_time(card) else display_date(due)  # due on a day: no 00:00
    due = f", due {shown}" if due else ""
    return f"task #{card['id']} {card['title']}{due}"


def done(
    task: Annotated[str, typer.Argument(help="The task: id or a unique part of its title.")],
    output: c.ResultOpt = None,
) -> None:
    """Finish a task. A recurring task spawns its next occurrence, counted from its due date.

    Examples:

    \b
    crm done 12
    crm done "rückruf müller"
    """
    c.db()
    from crmcli.services import tasks

    card, nxt = tasks.complete_task(tasks.resolve_task(task), now=c.now())
    c.done(f"Done: {describe(card)}.")
    if nxt is not None:
        c.done(f"Next: {describe(nxt)}.")
    elif card["rrule"]:
        c.done("The series has ended.")
    if output is not None:
        print_task(nxt or card, output)


def snooze(
    task: Annotated[str, typer.Argument(help="The task: id or a unique part of its title.")],
    when: Annotated[str, typer.Argument(help="Until when: tomorrow 9:00, +3d, next monday, 1.12.")],
    output: c.ResultOpt = None,
) -> None:
    """Postpone a task; a recurring series keeps its rhythm.

    WHEN without a time of day (fri, 24.12., +3d, in 2 weeks) keeps the task's own time:
    a task due Friday 09:00 snoozed "in 2 weeks" is due at 09:00 that day, and a task due on
    a day stays due on a day. A time (tomorrow 14:00, +4h) sets the time too.

    Examples:

    \b
    crm snooze 12 "tomorrow 9:00"
    crm snooze "rückruf müller" +3d
    """
    from crmcli.values import local_tz, parse_when_kind

    until, names_time = parse_when_kind(when, c.now(), field="when")
    if not names_time:  # a day: the service keeps the task's time of day
        until = until.astimezone(local_tz()).date()
    c.db()
    from crmcli.services import tasks

    card = tasks.snooze_task(tasks.resolve_task(task), until, now=c.now())
    c.done(f"Snoozed {describe(card)}.")
    if output is not None:
        print_task(card, output)


def reopen(
    args: Annotated[
        list[str],
        typer.Argument(metavar="[KIND] REF", help="task (default), activity or deal, then REF."),
    ],
    stage: Annotated[
        str | None, typer.Option("--stage", help="Deal: reopen in this stage.")
    ] = None,
    output: c.ResultOpt = None,
) -> None:
    """Reopen a done task, a resolved inquiry, complaint or return, or a won or lost deal
    (back in the stage it was closed from, or --stage). Reopening a recurring task undoes its
    `done`: the next occurrence it spawned goes again (refused if that one was changed since).

    Examples:

    \b
    crm reopen 12
    crm reopen activity 42
    crm reopen deal 7 --stage Angebot
    """
    from crmcli.commands.cards import print_activity
    from crmcli.errors import Invalid

    kind, ref = c.split_kind(args, default="task")
    c.db()
    if kind == "activity":
        from crmcli.services import activities

        card = activities.reopen_activity(activities.resolve_activity_ref(ref), now=c.now())
        c.done(f"Reopened {card['kind']} #{card['id']}.")
        if output is not None:
            print_activity(card, output)
        return
    if kind == "deal":
        from crmcli.commands import deals as deal_commands
        from crmcli.services import deals
        from crmcli.services.users import acting_user

        card = deals.reopen_deal(
            deals.resolve_deal(ref), stage=stage, now=c.now(), by=acting_user()
        )
        c.done(f"Reopened {deal_commands.describe(card)} in {card['stage']}.")
        deal_commands.print_result(card, output)
        return
    if stage is not None:
        raise Invalid("stage", "--stage applies to reopening a deal")
    if kind != "task":
        raise Invalid("kind", f"cannot reopen a {kind}")
    from crmcli.services import tasks

    card, removed = tasks.reopen_task(tasks.resolve_task(ref, done=True), now=c.now())
    c.done(f"Reopened {describe(card)}.")
    if removed is not None:
        c.done(f"Removed {describe(removed)}: the next occurrence, not yet worked on.")
    if output is not None:
        print_task(card, output)
