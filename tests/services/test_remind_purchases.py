"""Repeat customers due to buy again in `crm remind` (setting remind.next_purchase): their
last purchase plus their mean interval, once per purchase, all or by tag, off by default."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from crmcli.errors import Invalid
from crmcli.models import ReminderLog
from crmcli.services import contacts, db_settings, orders, products, reminders
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW  # 2026-11-23 10:00 Berlin


def day(d: date):
    return at_local(d, time(12))


@pytest.fixture
def buyers(db):
    products.add_product("KAF", "Kaffee", price_cents=890, vat_bp=700, now=NOW)

    def person(name, days, tags=()):
        cid = contacts.add_contact(name, tags_=tags, now=NOW)["id"]
        for d in days:
            orders.add_order(cid, [Item("KAF", 1)], ordered_at=day(d), status="paid", now=NOW)
        return cid

    return {
        # every 30 days: 1.9., 1.10., 31.10. -> due 30.11. (within a week, not a day)
        "anna": person("Anna", [date(2026, 9, 1), date(2026, 10, 1), date(2026, 10, 31)],
                       tags=["vip"]),
        # every 10 days: 3.11., 13.11. -> due 23.11., today
        "bernd": person("Bernd", [date(2026, 11, 3), date(2026, 11, 13)]),
        # every 10 days until 1.10.: due 11.10., more than an interval ago: lapsed
        "carla": person("Carla", [date(2026, 9, 21), date(2026, 10, 1)]),
        # bought once: no rhythm
        "dora": person("Dora", [date(2026, 11, 20)]),
    }  # fmt: skip


def purchase_items(**kw):
    return [i for i in reminders.remind(NOW, **kw) if i["kind"] == "purchase"]


def test_off_by_default(buyers):
    assert db_settings.get_setting("remind.next_purchase") is None
    assert reminders.purchases_due(NOW, NOW + timedelta(days=30)) == []


def test_due_customers_are_reminded_once_per_purchase(buyers):
    db_settings.set_setting("remind.next_purchase", "on")
    (bernd,) = purchase_items()
    assert (bernd["contact"], bernd["due"].date(), bernd["overdue"]) == (
        "Bernd", date(2026, 11, 22), False,  # midnight in Berlin: 23 o'clock UTC
    )  # fmt: skip
    assert bernd["key"] == f"purchase:{buyers['bernd']}:2026-11-13"
    assert purchase_items() == []  # printed once
    week = purchase_items(within=timedelta(days=7))
    assert [(i["contact"], i["ahead"]) for i in week] == [("Anna", True)]
    # Bernd buys again: his rhythm starts anew, and he is due again in its time
    orders.add_order(buyers["bernd"], [Item("KAF", 1)], ordered_at=NOW, status="paid", now=NOW)
    later = NOW + timedelta(days=11)
    assert [i["contact"] for i in reminders.remind(later) if i["kind"] == "purchase"] == [
        "Anna", "Bernd",
    ]  # fmt: skip
    assert ReminderLog.select().where(ReminderLog.key.startswith("purchase:")).count() == 3


def test_a_tag_list_limits_it(buyers):
    db_settings.set_setting("remind.next_purchase", "VIP")
    assert purchase_items() == []
    assert [i["contact"] for i in purchase_items(within=timedelta(days=7))] == ["Anna"]
    assert db_settings.get_setting("remind.next_purchase") == ["VIP"]
    with pytest.raises(Invalid, match="no tag 'stammkunde'"):
        db_settings.set_setting("remind.next_purchase", "vip, stammkunde")
    with pytest.raises(Invalid, match="not a setting"):
        db_settings.set_setting("remind.everything", "on")
    assert db_settings.get_setting("remind.next_purchase") == ["VIP"]
    db_settings.set_setting("remind.next_purchase", "off")
    assert db_settings.get_setting("remind.next_purchase") is None
