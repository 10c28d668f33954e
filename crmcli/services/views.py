"""What a screen shows of a record, as plain data: the CLI's tables and cards and a future TUI
use the same views. No words and no formatting here: amounts stay Decimal, moments stay
datetimes; each front end formats them for its user."""

from __future__ import annotations

from datetime import date, datetime


def summary(activity: dict) -> str:
    """An activity in one line: `subject: body` with the body's whitespace folded."""
    text = " ".join((activity.get("body") or "").split())
    subject = activity.get("subject")
    line = f"{subject}: {text}" if subject and text else subject or text or ""
    if activity.get("order_id"):
        # the order as the user named it: its shop number if it has one, else its id
        ref = activity.get("order_number") or f"#{activity['order_id']}"
        return f"order {ref}" + (f": {line}" if line else "")
    return line


def activity_view(activity: dict) -> dict:
    """An activity with what a list shows: `who` (its contact, else its company) and
    `summary`."""
    return {
        **activity,
        "who": activity.get("contact") or activity.get("company"),
        "summary": summary(activity),
    }


def task_state(task: dict, today: date | None) -> str:
    """done, overdue, today (due on `today`, the local date) or "" (later or undated)."""
    if task.get("done"):
        return "done"
    if task.get("overdue"):
        return "overdue"
    due = task.get("effective_due")
    if today is not None and isinstance(due, datetime):
        from crmcli.values import local_tz, to_utc

        if to_utc(due).astimezone(local_tz()).date() <= today:
            return "today"
    return ""


def task_view(task: dict, today: date | None = None) -> dict:
    """A task with what a list shows: `due` (the effective due moment, snoozed or not),
    `due_is_day` (a due date without a time of day) and `state` (see task_state)."""
    from crmcli.services.tasks import has_time

    due = task.get("effective_due")
    return {
        **task,
        "due": due,
        "due_is_day": due is not None and not has_time(task),
        "state": task_state(task, today),
    }


def company_card(company_id: int, *, timeline_limit: int | None = 50) -> dict:
    """A company with its tags, people, timeline (newest first, at most `timeline_limit`;
    None: all) and deals: what `crm show company` and a company screen show."""
    from crmcli.services import activities, companies
    from crmcli.services.deals import deals_of

    card = companies.get_company(company_id)
    card["timeline"] = activities.list_activities(company_id=company_id, limit=timeline_limit)
    card["deals"] = deals_of(company_id=company_id)
    return card
