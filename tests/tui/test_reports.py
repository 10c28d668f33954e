"""The reports screen shows the numbers of the services (`crm report`) for the period chosen."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crmcli.services import activities, activity_report, contacts, deals, reports
from tests.conftest import NOW
from tests.tui.conftest import drive, settle


def _history():
    person = contacts.add_contact("Jürgen Müller")
    old = datetime(2025, 6, 2, 9, tzinfo=UTC)
    this_year = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for title, when, cents, end in (
        ("Alt gewonnen", old, 500_00, "won"),
        ("Neu gewonnen", this_year, 1234_50, "won"),
        ("Neu verloren", this_year, 800_00, "lost"),
        ("Offen", this_year, 2000_00, None),
    ):
        d = deals.add_deal(
            title, contact_id=person["id"], amount_cents=cents, now=when,
            expected_close=date(2026, 12, 24),
        )  # fmt: skip
        if end == "won":
            deals.win_deal(d["id"], now=when)
        elif end == "lost":
            deals.lose_deal(d["id"], "Preis zu hoch", now=when)
    for kind, when in (("call", old), ("call", this_year), ("email", this_year)):
        activities.log_activity(kind, contact_id=person["id"], occurred_at=when, now=when)


@pytest.mark.both_backends
def test_the_reports_show_the_services_numbers_per_period(tui):
    _history()

    async def scenario(pilot):
        screen = pilot.app.screen
        since = datetime(2026, 1, 1, tzinfo=NOW.tzinfo)
        data = screen.data
        assert data["since"] == since
        assert data["funnel"] == reports.funnel(since, None)
        assert data["funnel"]["deals"] == 3
        assert data["pipeline"] == reports.pipeline()
        assert data["sales"] == reports.sales(by="month", since=since)
        assert data["activity"] == activity_report.activity_by_month(since)
        funnel = screen.query_one("#funnel").rows
        assert [(b.label, b.value) for b in funnel][:1] == [("Lead", 3)]
        reasons = screen.query_one("#reasons").rows
        assert [(b.label, b.value) for b in reasons] == [("Preis zu hoch", 1)]
        forecast = screen.query_one("#forecast").rows
        assert forecast[0].label == "2026-12" and "2.000,00 €" in forecast[0].figure
        assert forecast[-1].label == "Total" and forecast[-1].figure.startswith("1 · 2.000,00 €")
        sales = screen.query_one("#sales").rows
        assert sales[-1].label == "Total" and "1.234,50 €" in sales[-1].figure
        assert "1 won · 1 lost" in sales[-1].figure
        sparks = dict((k, c) for k, c, _ in screen.query_one("#activity").rows)
        assert sum(sparks["call"]) == 1 and sum(sparks["email"]) == 1
        await pilot.press("a")
        await settle(pilot)
        assert screen.data["since"] is None
        assert screen.data["funnel"]["deals"] == 4
        assert screen.data["sales"] == reports.sales(by="month")
        sparks = dict((k, c) for k, c, _ in screen.query_one("#activity").rows)
        assert sum(sparks["call"]) == 2
        assert "1.734,50 €" in screen.query_one("#sales").rows[-1].figure
        await pilot.press("l")
        await settle(pilot)
        assert screen.data["since"] == datetime(2025, 12, 1, tzinfo=NOW.tzinfo)

    drive(tui("reports"), scenario)


def test_revenue_by_month_as_bars(tui):
    from crmcli.services import orders, products, value
    from crmcli.services.orders import Item

    products.add_product("KAF", "Kaffee", price_cents=10_00, vat_bp=700, now=NOW)
    anna = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    for (y, m, d), qty in (((2025, 12, 5), 1), ((2026, 2, 3), 2), ((2026, 2, 20), 3)):
        when = datetime(y, m, d, 9, tzinfo=UTC)
        orders.add_order(anna, [Item("KAF", qty)], ordered_at=when, status="paid", now=NOW)

    async def scenario(pilot):
        screen = pilot.app.screen
        assert screen.data["revenue"] == value.revenue_by_month(screen.data["since"])
        bars = screen.query_one("#revenue").rows
        assert [(b.label, b.value) for b in bars] == [("2026-02", 50.0), ("Total", 0)]
        assert bars[0].figure == "2 orders · 50,00 €"
        assert bars[-1].figure == "2 orders · 50,00 €"
        await pilot.press("a")
        await settle(pilot)
        bars = screen.query_one("#revenue").rows
        assert [b.label for b in bars] == ["2025-12", "2026-01", "2026-02", "Total"]
        assert bars[1].value == 0 and bars[-1].figure == "3 orders · 60,00 €"

    drive(tui("reports"), scenario)
