"""Periods [since, until): the one check every listing and report that takes both makes."""

from __future__ import annotations

from datetime import datetime

from crmcli.errors import Invalid


def check_period(since: datetime | None, until: datetime | None) -> None:
    """Refuse a period that cannot hold anything: `until` on or before `since` (the end is
    exclusive), rather than answer with a silently empty result."""
    if since is None or until is None or until > since:
        return
    from crmcli.values import format_datetime

    raise Invalid(
        "until",
        f"{format_datetime(until)} is not after since {format_datetime(since)}: "
        "the period would be empty",
    )
