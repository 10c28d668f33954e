"""`crm remind`: what is due or overdue, for cron and for people. Each occurrence once."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Annotated

import typer

from crmcli.commands import common as c
from crmcli.output import Column, render_rows

# `--exit-code`: 0 nothing due, 3 something due (1 and 2 stay errors), like `git diff --exit-code`.
DUE_EXIT_CODE = 3
# The CSV header (every kind's keys; a kind without one leaves it empty).
ITEM_KEYS = (
    "kind", "key", "id", "due", "has_time", "overdue", "contact_id", "contact", "text",
    "priority", "age_days", "cadence_days", "ahead", "last_activity_at", "last_activity",
    "open_issues", "last_purchase", "purchases", "usual_interval_days",
)  # fmt: skip
# On a narrow terminal the text, the contact and the context shrink; when, what kind, the id
# and the overdue flag never do (the context goes first, then the contact).
COLUMNS = (
    Column("due_text", "Due", keep=True), Column("kind", "Kind", keep=True),
    Column("ref", "Id", "right"), Column("text", "What", max_width=60, min_width=12),
    Column("contact", "Contact", max_width=28, min_width=8, drop=1),
    Column("flag", "!", keep=True),
)  # fmt: skip
CONTEXT = Column("context", "Context", max_width=50, min_width=10, drop=2)
# The narrowest a plain line cuts the text, the contact and the context to.
MIN_TEXT, MIN_CONTACT, MIN_CONTEXT = 16, 10, 16


def span(text: str, field: str, examples: str = "1d, 12h, 2w, 30min") -> timedelta:
    """`1d`, `2w`, `12h`, `30min`: a span counted from now with the date parser's units;
    `examples` are what the error suggests (what the caller accepts)."""
    from crmcli.errors import Invalid

    now = c.now()
    spec = text.strip()
    try:
        at = c.when(spec if spec[:1] in "+-" else f"+{spec}", field)
    except Invalid as err:
        if err.field != field:  # not about the span (TZ names no zone)
            raise
        at = None
    if at is None or at < now:
        raise Invalid(field, f"'{text}' is not a span such as {examples}")
    return at - now


def remind(
    within: Annotated[
        str,
        typer.Option(
            "--within",
            "-w",
            metavar="SPAN",
            help="Look ahead this far: 1d, 12h, 1w. What falls due after the next day is "
            "shown without counting as reminded: it is printed again in its day.",
        ),
    ] = "1d",
    all_: Annotated[
        bool,
        typer.Option("--all", help="Everything due, also what was reminded before; marks nothing."),
    ] = False,
    brief: Annotated[
        bool,
        typer.Option(
            "--brief", "-b", help="Add context: last interaction, open inquiries/complaints."
        ),
    ] = False,
    open_after: Annotated[
        str,
        typer.Option(
            "--open-after",
            metavar="SPAN",
            help="Remind of inquiries, complaints and returns open this long.",
        ),
    ] = "3d",
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code", help=f"Exit {DUE_EXIT_CODE} when something is due, 0 when not."
        ),
    ] = False,
    output: c.OutputOpt = c.Format.table,
) -> None:
    """Print what is due or overdue: tasks, birthdays, unanswered inquiries and complaints,
    and contacts due for a call. Each occurrence is printed once, up to a day before it is
    due (cron may run this every 5 minutes); a longer --within looks further ahead without
    taking those reminders from the cron run; --all prints everything again.

    Repeat customers due to buy again (their last purchase plus their usual interval) are
    listed too, once per purchase, after `crm db setting remind.next_purchase on` (or a list
    of tags: only customers with one of them).

    Examples: a crontab line (cron needs the full path to crm, here for a clone in
    $HOME/crmcli, and mails what it prints), and a look further ahead:

    \b
    */15 8-18 * * 1-5  $HOME/crmcli/.venv/bin/crm remind --brief
    crm remind --within 30d
    """
    look_ahead = span(within, "within")
    waited = span(open_after, "open-after")
    now = c.now()
    c.db()
    from crmcli.services import reminders

    items = reminders.remind(
        now, within=look_ahead, everything=all_, brief=brief, open_after=waited
    )
    for item in items:  # JSON and CSV say dates in ISO 8601 always, in sentences too
        item["text"] = worded(item, iso=output is not c.Format.table)
    if output is c.Format.table:
        _print_lines(items, now, brief)
    else:
        render_rows(items, COLUMNS, output, fields=ITEM_KEYS)
    if exit_code and items:
        raise typer.Exit(DUE_EXIT_CODE)


def worded(item: dict, *, iso: bool = False) -> str:
    """An item's text as people read it: a cadence's text gains how often and since when,
    its date in the user's locale, or ISO 8601 with `iso` (the service hands over data)."""
    if item["kind"] != "cadence":
        return item["text"]
    from crmcli.output import display_date
    from crmcli.values import format_date

    days = item["cadence_days"]
    every = "every day" if days == 1 else f"every {days} days"
    last = item["last_activity_at"]
    if last is None:
        when = "never contacted"
    elif iso:
        when = f"last contact {format_date(last)}"
    else:
        when = f"last contact {display_date(last)}"
    return f"{item['text']} ({every}; {when})"


def _print_lines(items: list[dict], now: datetime, brief: bool) -> None:
    from crmcli.env import current
    from crmcli.output import clean, display, display_date

    rows = []
    for item in items:
        due = display(item["due"]) if item["has_time"] else display_date(item["due"])
        line = {
            "due_text": due, "kind": item["kind"], "ref": f"#{item['id']}",
            "text": item["text"], "contact": item["contact"] or "",
            "flag": "overdue" if item["overdue"] else "",
        }  # fmt: skip
        if brief:
            line["context"] = _context(item)
        rows.append(line)
    if current().color:
        from crmcli.commands.cards import STATE_STYLES
        from crmcli.output import ROW_STYLE
        from crmcli.values import local_tz, to_utc

        today = c.today()
        for line, item in zip(rows, items, strict=True):
            due = item["due"]
            if isinstance(due, datetime):
                due = to_utc(due).astimezone(local_tz()).date()
            state = "overdue" if item["overdue"] else "today" if due and due <= today else ""
            line[ROW_STYLE] = STATE_STYLES.get(state)
        # In colour an overdue row is red already: its "!" column is the first to go when the
        # terminal is narrow, before the text, the contact or --brief's context are cut.
        columns = tuple(
            col._replace(keep=False, drop=3) if col.key == "flag" else col for col in COLUMNS
        ) + ((CONTEXT,) if brief else ())
        render_rows(rows, columns, c.Format.table)
        return
    # One line per item, no header: grep- and mail-friendly; when, kind and ref padded so
    # that day-only and timed items line up.
    # On a terminal each line fits its width (the text, contact and context shrink); piped,
    # lines are whole.
    width = shutil.get_terminal_size().columns if current().stdout_isatty else None
    widths = [max((len(r[k]) for r in rows), default=0) for k in ("due_text", "kind", "ref")]
    for r in rows:
        lead = [r[k].ljust(w) for k, w in zip(("due_text", "kind", "ref"), widths, strict=True)]
        text = clean(r["text"])
        contact = clean(r["contact"]) if r["contact"] and r["contact"] not in r["text"] else ""
        context = clean(r["context"]) if brief and r["context"] else ""
        flag = "OVERDUE" if r["flag"] else ""
        if width is not None:
            room = width - len("  ".join(lead)) - 2 - (len(flag) + 2 if flag else 0)
            text, contact, context = _fit(text, contact, context, room)
        parts = [*lead, text]
        if contact:
            parts.append(f"({contact})")
        if flag:
            parts.append(flag)
        if context:
            parts.append(f"| {context}")
        print("  ".join(parts))


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, ellipsized when cut."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)).rstrip() + "…" if width > 0 else ""


def _fit(text: str, contact: str, context: str, room: int) -> tuple[str, str, str]:
    """The text, contact and context of a plain line cut to `room` cells with their
    separators: the context shrinks first (and goes below its minimum), then the contact,
    then the text; the text keeps at least MIN_TEXT cells."""
    from rich.cells import cell_len

    def need(t: str, c: str, x: str) -> int:
        return cell_len(t) + (cell_len(c) + 4 if c else 0) + (cell_len(x) + 4 if x else 0)

    if need(text, contact, context) <= room:
        return text, contact, context
    if context:
        spare = room - need(text, contact, "") - 4
        context = _cut(context, spare) if spare >= MIN_CONTEXT else ""
        if context:
            return text, contact, context
    if contact:
        spare = room - cell_len(text) - 4
        contact = _cut(contact, max(spare, MIN_CONTACT))
        if need(text, contact, "") > room and room - cell_len(contact) - 4 < MIN_TEXT:
            contact = ""  # too narrow for both: the text says more
    text = _cut(text, max(room - (cell_len(contact) + 4 if contact else 0), MIN_TEXT))
    return text, contact, context


def _context(item: dict) -> str:
    from crmcli.output import display

    bits = []
    last = item.get("last_activity")
    if last:
        subject = f' "{last["subject"]}"' if last["subject"] else ""
        bits.append(f"last: {last['kind']} {display(last['occurred_at'])}{subject}")
    elif item.get("contact_id"):
        bits.append("no interaction yet")
    if item.get("open_issues"):
        bits.append(f"open inquiries/complaints: {item['open_issues']}")
    return "; ".join(bits)
