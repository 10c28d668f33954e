"""An inquiry, complaint or return about an order: checked against the order's contact,
shown on the order's card and on the timeline, kept when the order goes."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid, NotFound
from crmcli.models import Activity
from crmcli.services import activities, contacts, orders, products
from crmcli.services.orders import Item
from crmcli.services.views import summary
from tests.conftest import NOW


@pytest.fixture
def bought(db):
    products.add_product("KAF", "Kaffee", price_cents=890, vat_bp=700, now=NOW)
    anna = contacts.add_contact("Anna Weiß", now=NOW)
    order = orders.add_order(anna["id"], [Item("KAF", 2)], now=NOW)
    return anna, order


def test_a_return_about_an_order_is_on_its_card_and_the_timeline(bought):
    anna, order = bought
    ret = activities.log_activity("return", order_id=order["id"], body="kaputt", now=NOW)
    assert (ret["contact_id"], ret["order_id"], ret["status"]) == (anna["id"], order["id"], "open")
    card = orders.order_card(order["id"])
    assert [(a["id"], a["kind"]) for a in card["activities"]] == [(ret["id"], "return")]
    (entry,) = activities.timeline_of(anna["id"], 10)
    assert entry["order_id"] == order["id"]
    assert summary(entry) == f"order #{order['id']}: kaputt"


def test_the_order_must_be_the_contacts_and_the_kind_one_that_waits_for_an_answer(bought):
    anna, order = bought
    other = contacts.add_contact("Bernd Bauer", now=NOW)
    with pytest.raises(Invalid, match="not an order of this contact"):
        activities.log_activity("return", contact_id=other["id"], order_id=order["id"], now=NOW)
    with pytest.raises(Invalid, match="only an inquiry, complaint, return or document"):
        activities.log_activity("call", contact_id=anna["id"], order_id=order["id"], now=NOW)
    with pytest.raises(NotFound, match="no order with id 99"):
        activities.log_activity("return", order_id=99, now=NOW)
    assert Activity.select().count() == 0


def test_deleting_the_order_keeps_the_return(bought):
    _, order = bought
    ret = activities.log_activity("return", order_id=order["id"], now=NOW)
    from crmcli.models import SalesOrder

    SalesOrder.delete().where(SalesOrder.id == order["id"]).execute()
    assert activities.get_activity(ret["id"])["order_id"] is None


def test_a_return_names_the_order_by_the_shops_number_when_it_has_one(bought):
    anna, _ = bought
    shop = orders.add_order(anna["id"], [Item("KAF", 1)], external_id="#1001", now=NOW)
    ret = activities.log_activity("return", order_id=shop["id"], body="kaputt", now=NOW)
    assert ret["order_number"] == "#1001"
    assert summary(activities.get_activity(ret["id"])) == "order #1001: kaputt"
    listed = activities.timeline_of(anna["id"], 10)
    assert [summary(a) for a in listed] == ["order #1001: kaputt"]
