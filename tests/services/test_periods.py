"""A period whose end is not after its start is refused everywhere, not silently empty."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcli.errors import Invalid
from crmcli.services import activities, reports
from tests.conftest import NOW

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda since, until: activities.list_activities(since=since, until=until),
        lambda since, until: reports.funnel(since, until),
        lambda since, until: reports.sales(since=since, until=until),
    ],
)
def test_until_on_or_before_since_is_refused(db, call):
    for until in (NOW - DAY, NOW):
        with pytest.raises(Invalid) as err:
            call(NOW, until)
        assert err.value.field == "until" and "period would be empty" in err.value.why
    call(NOW, NOW + DAY)  # a real period
    call(NOW, None)
    call(None, NOW)
