"""The display views a CLI table and a TUI screen share: plain data, no formatted strings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crmcli.services import activities, companies, contacts, deals, reports, tasks, views
from tests.conftest import NOW


def test_company_card_is_plain_data(db):
    person = contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)
    deals.add_deal("Dach", contact_id=person["id"], amount_cents=123450, now=NOW)
    activities.log_activity("call", contact_id=person["id"], subject="Anruf", now=NOW)
    card = views.company_card(person["company_id"], timeline_limit=10)
    assert card["name"] == "Müller Bau GmbH"
    assert [p["name"] for p in card["contacts"]] == ["Jürgen Müller"]
    assert card["deals"][0]["amount"] == Decimal("1234.50")
    assert card["timeline"][0]["subject"] == "Anruf"
    assert isinstance(card["created_at"], datetime)
    assert companies.get_company(person["company_id"])["name"] == card["name"]


def test_money_from_services_is_decimal_not_text(db):
    person = contacts.add_contact("Jürgen Müller", now=NOW)
    deal = deals.add_deal("Dach", contact_id=person["id"], amount_cents=1_234_550, now=NOW)
    assert deals.get_deal(deal["id"])["amount"] == Decimal("12345.50")
    pipeline = reports.pipeline()
    assert pipeline["total"] == {"deals": 1, "value": Decimal("12345.50"),
                                 "weighted": Decimal("1234.55")}  # fmt: skip
    assert isinstance(reports.funnel()["stages"][0]["value"], Decimal)


def test_activity_view_folds_the_text_into_one_line(db):
    person = contacts.add_contact("Jürgen Müller", now=NOW)
    a = activities.log_activity(
        "email", contact_id=person["id"], subject="Angebot", body="Zeile 1\n  Zeile 2", now=NOW
    )
    view = views.activity_view(a)
    assert (view["who"], view["summary"]) == ("Jürgen Müller", "Angebot: Zeile 1 Zeile 2")
    assert views.summary({"subject": None, "body": None}) == ""


def test_task_view_says_state_and_keeps_the_due_moment(db):
    today = NOW.date()
    for title, due, timed in (
        ("gestern", NOW - timedelta(days=1), False),
        ("heute", NOW + timedelta(hours=1), True),
        ("morgen", NOW + timedelta(days=1), False),
    ):
        tasks.add_task(title, due_at=due, due_has_time=timed, now=NOW)
    rows = {t["title"]: views.task_view(t, today) for t in tasks.list_tasks(now=NOW)}
    assert {k: v["state"] for k, v in rows.items()} == {
        "gestern": "overdue", "heute": "today", "morgen": ""
    }  # fmt: skip
    assert rows["heute"]["due"] == (NOW + timedelta(hours=1)).astimezone(UTC)
    assert (rows["heute"]["due_is_day"], rows["morgen"]["due_is_day"]) == (False, True)
    assert views.task_state({"done": True}, date(2026, 1, 1)) == "done"
