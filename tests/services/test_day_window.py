"""services.tasks.day_window: the --today/--week cut of the task list, for every front end."""

from __future__ import annotations

from datetime import datetime

import pytest

from crmcli.errors import Invalid
from crmcli.services.tasks import day_window
from tests.conftest import NOW  # Monday 23 November 2026, 10:00 in Berlin


def test_today_ends_at_local_midnight_tonight():
    assert day_window(NOW, "today") == datetime.fromisoformat("2026-11-24T00:00:00+01:00")


def test_week_ends_seven_local_midnights_ahead():
    assert day_window(NOW, "week") == datetime.fromisoformat("2026-11-30T00:00:00+01:00")


def test_late_evening_utc_is_already_tomorrow_in_berlin():
    late = datetime.fromisoformat("2026-11-23T23:30:00+00:00")  # 00:30 on the 24th in Berlin
    assert day_window(late, "today") == datetime.fromisoformat("2026-11-25T00:00:00+01:00")


def test_no_window_and_an_unknown_one():
    assert day_window(NOW, None) is None
    with pytest.raises(Invalid, match="'month' is not one of today, week"):
        day_window(NOW, "month")
