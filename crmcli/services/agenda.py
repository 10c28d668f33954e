"""The day at a glance (crm tui's Today screen): what `crm remind` knows, read without
marking anything as reminded, and the open deals expected to close within the week."""

from __future__ import annotations

from datetime import datetime, timedelta

from crmcli.services import deals, reminders, tasks
from crmcli.values import local_tz

# How far ahead the day looks for birthdays and stay-in-touch calls: `crm remind`'s default.
LOOK_AHEAD = timedelta(days=1)
# Deals "closing this week": an expected close date before today + 7 days (and open deals
# whose date has passed, which are slipping).
DEAL_DAYS = 7
# The most deals listed (the rest are on the pipeline board).
DEAL_LIMIT = 200


def today(
    now: datetime,
    *,
    within: timedelta = LOOK_AHEAD,
    open_after: timedelta = reminders.DEFAULT_OPEN_AFTER,
) -> dict[str, list[dict]]:
    """The day's sections, each a list of reminder items (see services.reminders) or deals:
    tasks overdue or due by tonight, open inquiries/complaints/returns oldest first, contacts
    due for a call, open deals closing within DEAL_DAYS (soonest first) and birthdays.
    Reads only: the reminder queues and log stay as they are."""
    tonight = tasks.day_start(now, 1)
    horizon = now + within
    open_items = reminders.unanswered(now, open_after)
    open_items.sort(key=lambda i: (-i["age_days"], i["id"]))
    week_end = now.astimezone(local_tz()).date() + timedelta(days=DEAL_DAYS)
    closing = deals.list_deals(
        state="open", closing_before=week_end, sort="close", limit=DEAL_LIMIT
    )
    return {
        "tasks": reminders.due_tasks(now, tonight),
        "open": open_items,
        "cadence": reminders.cadence_due(now, horizon),
        "deals": closing,
        "birthdays": reminders.birthdays(now, horizon),
    }
