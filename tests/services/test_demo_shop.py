"""The demo's shop: a catalogue in categories and two years of orders that follow the
invoice rules, with repeat, one-off and lapsed buyers, the Christmas season and lost carts."""

from __future__ import annotations

from collections import Counter

import pytest
from peewee import fn

from crmcli import demo
from crmcli.demo import shop
from crmcli.models import OrderLine, Product, SalesOrder
from crmcli.services import orders, value
from crmcli.values import local_tz
from tests.conftest import NOW


@pytest.fixture
def filled(db):
    return demo.fill_demo(contacts=400, now=NOW)


def test_the_catalogue(filled):
    assert filled["products"] == Product.select().count() == len(shop.CATALOGUE)
    categories = {c for (c,) in Product.select(Product.category).tuples()}
    assert categories == set(shop.CATEGORIES)
    assert Product.select().where(Product.active == False).count() == 2  # noqa: E712


def test_orders_follow_the_invoice_rules(filled):
    assert filled["orders"] == SalesOrder.select().count() > 300
    assert filled["order_lines"] == OrderLine.select().count()
    sums = (
        OrderLine.select(OrderLine.order, fn.SUM(OrderLine.net_cents), fn.SUM(OrderLine.vat_cents))
        .group_by(OrderLine.order)
        .tuples()
    )
    stored = {o: (n, v) for o, n, v in SalesOrder.select(
        SalesOrder.id, SalesOrder.net_cents, SalesOrder.vat_cents).tuples()}  # fmt: skip
    assert {o: (n, v) for o, n, v in sums} == stored
    some = SalesOrder.select(SalesOrder.id).where(SalesOrder.discount_bp > 0).scalar()
    card = orders.order_card(some)
    again, _ = orders.price_lines(
        [{"qty": ln["qty"], "unit_price_cents": int(ln["unit_price"] * 100),
          "vat_bp": int(ln["vat_rate"] * 100)} for ln in card["lines"]],
        1000,
    )  # fmt: skip
    assert [p["vat_cents"] for p in again] == [int(ln["vat"] * 100) for ln in card["lines"]]


def test_buyers_of_every_kind_and_the_season(filled):
    people = value.histories(NOW.date(), "days")
    repeats = Counter(min(h.x, 3) for h in people)
    assert repeats[0] > 20 and repeats[3] > 20  # one-off buyers and frequent ones
    lapsed = [h for h in people if h.x >= 2 and h.T - h.t_x > 180]
    assert len(lapsed) > 5
    statuses = {s for (s,) in SalesOrder.select(SalesOrder.status).distinct().tuples()}
    assert {"shipped", "cancelled", "returned", "abandoned"} <= statuses
    months = Counter(  # two of each in the two years before NOW (23.11.2026)
        at.astimezone(local_tz()).month
        for (at,) in SalesOrder.select(SalesOrder.ordered_at).tuples()
    )
    assert months[12] > 1.5 * max(months[7], months[8])
