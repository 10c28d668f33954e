"""Campaigns and their return on investment on known histories: costs, leads, customers,
revenue, ROI to the cent, and the payback day exactly (local days, DST included)."""

from __future__ import annotations

from datetime import date, datetime, time  # noqa: F401
from decimal import Decimal

import pytest
from playhouse.test_utils import count_queries

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import Contact, Deal, SalesOrder
from crmcli.services import campaigns, contacts, deals, orders, products, roi
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW


def at(d: date, hour: int = 12, minute: int = 0) -> datetime:
    return at_local(d, time(hour, minute))


def group(report: dict, name: str) -> dict:
    return next(g for g in report["groups"] if g["group"] == name)


@pytest.fixture
def history(db):
    """Herbst (search ads, keywords kaffee and tee): 100,00 € on 1.3.2026 and 50,00 € on
    1.4.2026 (tee). Anna (kaffee) buys 60,00 on 10.3., 40,00 on 20.3. (cumulative 100,00 =
    cost: paid back), then the April cost puts it behind again until her 50,00 at 00:30 on
    15.4. (22:30 UTC on 14.4.): paid back on 15.4. Bernd (tee) has a won deal of 30,00 and a
    cancelled order; Carla is a lead who never bought; Dora came without campaign."""
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700)
    herbst = campaigns.add_campaign(
        "Herbst", channel="Search Ads", keywords=["Kaffee", "tee"], starts_on=date(2026, 3, 1),
        now=NOW,
    )  # fmt: skip
    campaigns.add_cost(herbst["id"], 10_000, spent_on=date(2026, 3, 1), now=NOW)
    campaigns.add_cost(herbst["id"], 5_000, spent_on=date(2026, 4, 1), keyword="TEE", now=NOW)
    messe = campaigns.add_campaign("Messe Köln", channel="messe", now=NOW)
    campaigns.add_cost(messe["id"], 30_000, spent_on=date(2026, 5, 2), note="Stand", now=NOW)

    def person(name, when, **kw):
        return contacts.add_contact(name, now=at(when), **kw)["id"]

    anna = person("Anna", date(2026, 3, 2), campaign="herbst", keyword="kaffee", source="google")
    bernd = person("Bernd", date(2026, 3, 5), campaign="Herbst", keyword="Tee", source="google")
    carla = person("Carla", date(2026, 6, 1), campaign="Messe", source="messe")
    dora = person("Dora", date(2026, 3, 3), source="website")

    def order(who, qty, when, status="paid"):
        return orders.add_order(who, [Item("KAF", qty)], ordered_at=when, status=status, now=NOW)

    order(anna, 6, at(date(2026, 3, 10)))
    order(anna, 4, at(date(2026, 3, 20)))
    order(anna, 5, at(date(2026, 4, 15), 0, 30))
    order(bernd, 9, at(date(2026, 4, 2)), status="cancelled")
    order(dora, 50, at(date(2026, 3, 4)))  # no campaign: not Herbst's revenue
    deal = deals.add_deal("Kaffeeabo", contact_id=bernd, amount_cents=3_000, now=NOW)
    return {"herbst": herbst["id"], "messe": messe["id"], "anna": anna, "bernd": bernd,
            "carla": carla, "deal": deal["id"]}  # fmt: skip


@pytest.fixture
def won(history):
    deals.win_deal(history["deal"], now=at(date(2026, 5, 1)))
    return history


def test_orders_and_deals_take_their_contacts_campaign(history):
    kinds = (SalesOrder, Deal)
    for model in kinds:
        rows = model.select(model.campaign, model.keyword).where(model.contact == history["anna"])
        for campaign_id, keyword_id in rows.tuples():
            assert campaign_id == history["herbst"] and keyword_id is not None
    card = orders.order_card(1)
    assert (card["campaign"], card["keyword"]) == ("Herbst", "Kaffee")
    assert deals.deal_card(history["deal"])["campaign"] == "Herbst"
    assert contacts.get_contact(history["bernd"])["keyword"] == "tee"


def test_roi_by_campaign_to_the_cent_and_the_day(won):
    report = roi.roi_report()
    herbst = group(report, "Herbst")
    assert herbst["cost"] == Decimal("150.00")
    assert herbst["revenue"] == Decimal("180.00")  # 60 + 40 + 50 + the won deal's 30
    assert (herbst["leads"], herbst["customers"]) == (2, 2)
    assert herbst["conversion"] == Decimal("1.0000")
    assert herbst["cost_per_lead"] == Decimal("75.00")
    assert herbst["roi"] == Decimal("0.2000")
    assert herbst["paid_back"] is True
    assert herbst["payback_on"] == date(2026, 4, 15)  # 00:30 local, 22:30 UTC the day before
    assert herbst["missing"] is None
    messe = group(report, "Messe Köln")
    assert messe["channel"] == "trade fair"
    assert (messe["cost"], messe["revenue"], messe["leads"], messe["customers"]) == (
        Decimal("300.00"), Decimal("0.00"), 1, 0,
    )  # fmt: skip
    assert messe["paid_back"] is False and messe["payback_on"] is None
    assert messe["missing"] == Decimal("300.00")
    assert messe["roi"] == Decimal("-1.0000") and messe["cost_per_customer"] is None
    assert report["total"]["cost"] == Decimal("450.00")
    assert report["total"]["missing"] == Decimal("270.00")


def test_payback_is_the_day_revenue_caught_up_for_good(history):
    """Before the deal is won Herbst has 150,00 revenue against 150,00 cost: paid back on the
    day of the last order; the first catch-up (20.3.) did not last past the April cost."""
    herbst = group(roi.roi_report(), "Herbst")
    assert herbst["payback_on"] == date(2026, 4, 15)
    assert herbst["customers"] == 1  # Bernd's only order was cancelled
    early = group(roi.roi_report(until=at(date(2026, 3, 31), 0, 0)), "Herbst")
    assert early["cost"] == Decimal("100.00") and early["payback_on"] == date(2026, 3, 20)


def test_not_yet_says_what_is_missing(history):
    report = roi.roi_report(until=at(date(2026, 3, 15), 0, 0))
    herbst = group(report, "Herbst")
    assert (herbst["cost"], herbst["revenue"]) == (Decimal("100.00"), Decimal("60.00"))
    assert herbst["paid_back"] is False and herbst["payback_on"] is None
    assert herbst["missing"] == Decimal("40.00")


def test_period_counts_costs_leads_and_revenue_in_it(won):
    report = roi.roi_report(since=at(date(2026, 4, 1), 0, 0), until=at(date(2026, 6, 1), 0, 0))
    herbst = group(report, "Herbst")
    assert herbst["cost"] == Decimal("50.00")  # the April entry only
    assert herbst["revenue"] == Decimal("80.00")  # 15.4. order and the deal won 1.5.
    assert herbst["leads"] == 0  # Anna and Bernd came in March
    assert group(report, "Messe Köln")["leads"] == 0  # Carla came on 1.6.: the end is out


def test_by_keyword_channel_and_source(won):
    by_keyword = roi.roi_report(by="keyword")
    tee = group(by_keyword, "Herbst: tee")
    assert (tee["cost"], tee["revenue"], tee["leads"]) == (Decimal("50.00"), Decimal("30.00"), 1)
    kaffee = group(by_keyword, "Herbst: Kaffee")
    assert (kaffee["cost"], kaffee["revenue"]) == (Decimal("0.00"), Decimal("150.00"))
    assert group(by_keyword, "Herbst: (no keyword)")["cost"] == Decimal("100.00")
    by_channel = roi.roi_report(by="channel")
    assert group(by_channel, "search ads")["revenue"] == Decimal("180.00")
    assert group(by_channel, "trade fair")["cost"] == Decimal("300.00")
    by_source = roi.roi_report(by="source")
    google = group(by_source, "google")
    assert (google["leads"], google["revenue"], google["cost"]) == (2, Decimal("180.00"), None)
    assert group(by_source, "website")["revenue"] == Decimal("500.00")
    with pytest.raises(Invalid):
        roi.roi_report(by="weather")


def test_report_is_a_fixed_number_of_queries(won):
    with count_queries() as counter:
        roi.roi_report(by="keyword")
    few = counter.count
    for n in range(20):
        contacts.add_contact(f"Neu {n}", campaign="Herbst", keyword=f"k{n}", now=NOW)
    with count_queries() as counter:
        roi.roi_report(by="keyword")
    assert counter.count == few


def test_payback_walk():
    d = date
    assert roi.payback({}, {}) == (None, 0, 0, 0)
    assert roi.payback({d(2026, 1, 1): 100}, {d(2026, 1, 1): 100}) == (d(2026, 1, 1), 0, 100, 100)
    assert roi.payback({d(2026, 1, 1): 100}, {d(2026, 1, 2): 99}) == (None, 1, 100, 99)
    # revenue before any cost is no payback of a cost that comes later
    assert roi.payback({d(2026, 1, 5): 100}, {d(2026, 1, 1): 150}) == (d(2026, 1, 5), 0, 100, 150)


def test_campaign_rules(db):
    card = campaigns.add_campaign("Frühjahr", keywords=["a", "A", "b"], now=NOW)
    assert card["keywords"] == ["a", "b"] and card["channel"] == "other"
    with pytest.raises(Conflict):
        campaigns.add_campaign("FRUHJAHR", now=NOW)
    with pytest.raises(Invalid):
        campaigns.add_campaign("X", channel="zeppelin", now=NOW)
    with pytest.raises(Invalid):
        campaigns.add_campaign("X", starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1), now=NOW)
    with pytest.raises(Invalid):
        campaigns.add_cost(card["id"], 0, spent_on=date(2026, 1, 1))
    with pytest.raises(NotFound):
        campaigns.resolve_campaign("Sommer")
    edited = campaigns.edit_campaign(
        card["id"], {"name": "Frühjahr 2026", "ends_on": date(2026, 6, 30)},
        add_keywords=["c"], remove_keywords=["B"], now=NOW,
    )  # fmt: skip
    assert (edited["name"], edited["keywords"]) == ("Frühjahr 2026", ["a", "c"])
    with pytest.raises(Invalid):  # a keyword in two campaigns needs its campaign
        campaigns.add_campaign("Herbst", keywords=["a"], now=NOW)
        contacts.add_contact("Eva", keyword="a", now=NOW)


def test_delete_campaign_keeps_what_it_brought(won):
    campaigns.delete_campaign(won["herbst"])
    assert Contact.get_by_id(won["anna"]).campaign_id is None
    assert SalesOrder.select().where(SalesOrder.campaign.is_null(False)).count() == 0
    assert [g["group"] for g in roi.roi_report()["groups"]] == ["Messe Köln"]


def test_edit_contact_attribution(history):
    card = contacts.edit_contact(history["carla"], {"keyword": "Stand A"})
    assert (card["campaign"], card["keyword"]) == ("Messe Köln", "Stand A")
    card = contacts.edit_contact(history["carla"], {"keyword": ""})
    assert (card["campaign"], card["keyword"]) == ("Messe Köln", None)
    card = contacts.edit_contact(history["carla"], {"campaign": ""})
    assert card["campaign"] is None


def test_margin_takes_off_the_goods_and_the_orders_own_costs(db):
    """Kaffee sells at 10,00 net and costs 4,00 to buy; each order costs 5,00 to ship. Against
    100,00 of cost on 1.3.: revenue catches up with the first order (100,00 on 10.3.), margin
    (100 - 40 - 5 = 55,00 an order) only with the second on 20.3. Tee has no purchase price:
    its goods count at no cost."""
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, cost_cents=400)
    products.add_product("TEE", "Tee", price_cents=500, vat_bp=700)
    spring = campaigns.add_campaign("Frühling", now=NOW)
    campaigns.add_cost(spring["id"], 10_000, spent_on=date(2026, 3, 1), now=NOW)
    anna = contacts.add_contact("Anna", campaign="Frühling", now=at(date(2026, 3, 2)))["id"]
    for day in (10, 20):
        orders.add_order(anna, [Item("KAF", 10)], ordered_at=at(date(2026, 3, day)),
                         status="paid", cost_cents=500, now=NOW)  # fmt: skip
    orders.add_order(anna, [Item("TEE", 2)], ordered_at=at(date(2026, 3, 25)), status="paid",
                     now=NOW)  # fmt: skip
    by_revenue = group(roi.roi_report(), "Frühling")
    assert by_revenue["revenue"] == Decimal("210.00")
    assert by_revenue["payback_on"] == date(2026, 3, 10)
    report = roi.roi_report(margin=True)
    assert report["basis"] == "margin"
    by_margin = group(report, "Frühling")
    assert by_margin["revenue"] == Decimal("120.00")  # 55 + 55 + Tee's 10 at no cost
    assert by_margin["payback_on"] == date(2026, 3, 20)
    assert by_margin["roi"] == Decimal("0.2000")
    early = group(roi.roi_report(margin=True, until=at(date(2026, 3, 15), 0, 0)), "Frühling")
    assert early["paid_back"] is False and early["missing"] == Decimal("45.00")
