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
from crmcli.values import at_local, local_tz
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


def sources_on_orders_are_their_contacts(database) -> None:
    """What the report sums by source (the order's copy, migration 0016's triggers) is what
    a join of each order with its contact gives."""
    stale = database.execute_sql(
        "SELECT o.id FROM sales_order o JOIN contact c ON c.id = o.contact_id "
        "WHERE o.source IS NOT c.source" if roi._sqlite() else
        "SELECT o.id FROM sales_order o JOIN contact c ON c.id = o.contact_id "
        "WHERE o.source IS DISTINCT FROM c.source"
    ).fetchall()  # fmt: skip
    assert stale == []


def test_by_source_follows_the_contacts_source_of_today(won, db):
    """An order counts under its contact's source as it is now: an edit, a bulk edit and a
    merge move it along; a deleted contact's orders count under no source."""
    from crmcli.services import bulk, merge

    contacts.edit_contact(won["anna"], {"source": "Newsletter"})
    report = roi.roi_report(by="source")
    assert group(report, "Newsletter")["revenue"] == Decimal("150.00")  # Anna's three orders
    assert group(report, "google")["revenue"] == Decimal("30.00")  # Bernd's won deal
    bulk.edit("contact", {"source": "Newsletter"}, {"source": "Messe"})
    assert group(roi.roi_report(by="source"), "Messe")["revenue"] == Decimal("150.00")
    sources_on_orders_are_their_contacts(db)
    contacts.edit_contact(won["anna"], {"source": ""})
    assert group(roi.roi_report(by="source"), roi.NO_SOURCE)["revenue"] == Decimal("150.00")
    dora = Contact.get(Contact.name == "Dora").id
    merge.merge_contacts(won["carla"], [dora], force=True)  # Carla (messe) keeps her source
    by_source = roi.roi_report(by="source")
    assert group(by_source, "messe")["revenue"] == Decimal("500.00")  # Dora's order moved
    assert "website" not in [g["group"] for g in by_source["groups"]]
    sources_on_orders_are_their_contacts(db)
    contacts.delete_contact(won["carla"])
    assert "messe" not in [g["group"] for g in roi.roi_report(by="source")["groups"]]
    assert roi.roi_report()["total"]["revenue"] == Decimal("180.00")  # campaigns keep theirs


def test_an_import_that_changes_a_source_moves_the_orders_along(won, db):
    from crmcli.services import imports

    contacts.edit_contact(won["anna"], {"email": "anna@x.de"})
    imports.import_contacts([("line 2", {"name": "Anna", "emails": [
        {"email": "anna@x.de", "kind": "work", "primary": True}], "source": "Katalog"})],
        now=NOW)  # fmt: skip
    assert contacts.get_contact(won["anna"])["source"] == "Katalog"
    assert group(roi.roi_report(by="source"), "Katalog")["revenue"] == Decimal("150.00")
    sources_on_orders_are_their_contacts(db)


def test_orders_without_a_campaign_count_by_source_alone(won):
    """Dora's order has no campaign: it is in no campaign, keyword or channel, only in her
    source; the keyword rows of a campaign add up to the campaign's."""
    by_campaign = roi.roi_report()
    assert by_campaign["total"]["revenue"] == Decimal("180.00")
    by_keyword = roi.roi_report(by="keyword")
    herbst = [g for g in by_keyword["groups"] if g["group"].startswith("Herbst:")]
    assert sum(g["revenue"] for g in herbst) == group(by_campaign, "Herbst")["revenue"]
    assert roi.roi_report(by="channel")["total"]["revenue"] == Decimal("180.00")
    assert roi.roi_report(by="source")["total"]["revenue"] == Decimal("680.00")


def test_margin_leaves_out_returns_and_takes_off_costs_by_every_grouping(db):
    """Margin per order: net less its own cost and its goods' known purchase costs; a
    returned order counts for nothing, in every grouping."""
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, cost_cents=400)
    products.add_product("TEE", "Tee", price_cents=500, vat_bp=700)
    spring = campaigns.add_campaign("Frühling", channel="social", keywords=["bohne"], now=NOW)
    campaigns.add_cost(spring["id"], 5_000, spent_on=date(2026, 3, 1), keyword="bohne", now=NOW)
    anna = contacts.add_contact("Anna", campaign="Frühling", keyword="bohne", source="insta",
                                now=at(date(2026, 3, 2)))["id"]  # fmt: skip
    kept = orders.add_order(anna, [Item("KAF", 5), Item("TEE", 2)], ordered_at=at(date(2026, 3, 5)),
                            status="paid", cost_cents=300, now=NOW)  # fmt: skip
    back = orders.add_order(anna, [Item("KAF", 10)], ordered_at=at(date(2026, 3, 6)),
                            status="paid", now=NOW)  # fmt: skip
    orders.edit_order(back["id"], {"status": "returned"})
    assert kept["id"] != back["id"]
    for by, name in (("campaign", "Frühling"), ("keyword", "Frühling: bohne"),
                     ("channel", "social"), ("source", "insta")):  # fmt: skip
        report = roi.roi_report(by=by, margin=True)
        # 60,00 net - 3,00 shipping - 5 × 4,00 coffee (tea has no purchase price)
        assert group(report, name)["revenue"] == Decimal("37.00"), by
        assert group(roi.roi_report(by=by), name)["revenue"] == Decimal("60.00"), by
    assert group(roi.roi_report(margin=True), "Frühling")["payback_on"] is None
    assert group(roi.roi_report(), "Frühling")["payback_on"] == date(2026, 3, 5)


ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")


@pytest.fixture
def around_midnight(db):
    """Orders of four sources and two campaigns at random times of 2026 and every hour of the
    days the zones of ZONES change their clocks, some returned, with and without purchase
    costs; won deals too."""
    import random
    from datetime import UTC, timedelta

    rng = random.Random(19)
    products.add_product("KAF", "Kaffee", price_cents=1234, vat_bp=700, cost_cents=567)
    products.add_product("TEE", "Tee", price_cents=499, vat_bp=700)
    for name in ("Herbst", "Messe"):
        card = campaigns.add_campaign(name, keywords=["a", "b"], now=NOW)
        for month in (1, 3, 6, 10):
            campaigns.add_cost(card["id"], rng.randint(1_000, 20_000),
                               spent_on=date(2026, month, 1), now=NOW,
                               keyword=rng.choice(["a", "b", None]))  # fmt: skip
    people = []
    for n in range(24):
        campaign = rng.choice(["Herbst", "Messe", None])
        people.append(contacts.add_contact(
            f"Kunde {n}", source=rng.choice(["google", "messe", "web", None]),
            campaign=campaign, keyword=rng.choice(["a", "b", None]) if campaign else None,
            now=at(date(2026, 1, 1) + timedelta(days=7 * n)),
        )["id"])  # fmt: skip
    start = datetime(2025, 12, 31, tzinfo=UTC)
    moments = [
        start + timedelta(days=rng.randint(0, 365), hours=rng.randrange(24),
                          minutes=rng.choice((0, 14, 15, 29, 30, 59)))
        for _ in range(250)
    ]  # fmt: skip
    changes = ("2026-03-08", "2026-03-29", "2026-04-05", "2026-10-04", "2026-10-25", "2026-11-01")
    moments += [
        datetime.fromisoformat(f"{day}T00:00:00+00:00") + timedelta(hours=hour, minutes=30)
        for day in changes for hour in range(-3, 27)
    ]  # fmt: skip
    for moment in moments:
        items = [Item(rng.choice(["KAF", "TEE"]), rng.randint(1, 4))]
        status = rng.choice(["paid", "shipped", "open", "returned", "cancelled"])
        orders.add_order(rng.choice(people), items, ordered_at=moment, status=status,
                         cost_cents=rng.choice([0, 490]), now=NOW)  # fmt: skip
    for n in range(6):
        deal = deals.add_deal(f"Deal {n}", contact_id=rng.choice(people),
                              amount_cents=rng.randint(1_000, 90_000), now=NOW)  # fmt: skip
        deals.win_deal(deal["id"], now=start + timedelta(days=rng.randint(1, 330), hours=23.5))


@pytest.mark.parametrize("zone", ZONES)
def test_sums_by_utc_day_give_the_local_days_of_row_by_row(around_midnight, zone, monkeypatch):
    """The report sums orders per UTC day along an index and splits each day at its local
    midnight; the same report with every order's local day computed row by row (what zones
    that split cannot take get) has the same figures and payback days, in every grouping."""
    import time as clock

    from crmcli.services import localdays

    monkeypatch.setenv("TZ", zone)
    clock.tzset()
    periods = [(None, None), (at(date(2026, 3, 29), 0, 0), at(date(2026, 10, 26), 0, 0))]
    fast = {}
    for by in roi.GROUPINGS:
        for margin in (False, True):
            for since, until in periods:
                fast[by, margin, since] = roi.roi_report(by=by, margin=margin, since=since,
                                                         until=until)  # fmt: skip
    assert any(g["payback_on"] for g in fast["campaign", False, None]["groups"])
    monkeypatch.setattr(localdays, "utc_day_cuts", lambda first, last: None)
    for (by, margin, since), report in fast.items():
        until = dict(periods)[since]
        assert roi.roi_report(by=by, margin=margin, since=since, until=until) == report


def test_a_zone_whose_day_turns_back_at_midnight_is_summed_row_by_row(monkeypatch, db):
    """DST that ends at 00:30 turns the clock back into the day before: a UTC day is then
    three local days in turn, so the report computes each order's local day instead."""
    import time as clock

    from crmcli.services import localdays

    monkeypatch.setenv("TZ", "XST3XDT,M10.1.0/0,M2.3.0/0:30")
    clock.tzset()
    assert localdays.utc_day_cuts(date(2026, 2, 1), date(2026, 3, 1)) is None
    assert localdays.utc_day_cuts(date(2026, 3, 1), date(2026, 4, 1)) is not None
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700)
    spring = campaigns.add_campaign("Sommer", now=NOW)
    campaigns.add_cost(spring["id"], 1_000, spent_on=date(2026, 2, 15), now=NOW)
    anna = contacts.add_contact("Anna", campaign="Sommer", now=NOW)["id"]
    # the clock goes back at 02:30 UTC on the 16th (as the zone library reads the rule), to
    # 23:30 on the 15th: 02:45 UTC is 23:45 local on the 15th, not the 16th it had been
    moment = datetime.fromisoformat("2026-02-16T02:45:00+00:00")
    assert moment.astimezone(local_tz()).date() == date(2026, 2, 15)
    orders.add_order(anna, [Item("KAF", 1)], ordered_at=moment, status="paid", now=NOW)
    sommer = group(roi.roi_report(), "Sommer")
    assert (sommer["revenue"], sommer["payback_on"]) == (Decimal("10.00"), date(2026, 2, 15))
