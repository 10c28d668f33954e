"""Customer value from orders: the value report on a known history, the models' (x, t_x, T)
from orders on distinct days, and the CLV fit of the CDNOW sample recorded as orders."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.models import Contact, SalesOrder
from crmcli.services import contacts, orders, products, value
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW
from tests.services.test_clv import CALIBRATION_END, cdnow_purchases


def day(d: date, hour: int = 12) -> datetime:
    return at_local(d, time(hour))


@pytest.fixture
def shop(db):
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, category="Kaffee")
    products.add_product("TASSE", "Tasse", price_cents=500, category="Geschirr")
    anna = contacts.add_contact("Anna Weiß", city="Köln", source="shop", now=NOW)["id"]
    bernd = contacts.add_contact("Bernd Bauer", city="Bonn", source="messe", now=NOW)["id"]
    carla = contacts.add_contact("Carla Klein", city="Köln", source="shop", now=NOW)["id"]

    def order(who, items, d, status="paid"):
        return orders.add_order(who, items, ordered_at=day(d), status=status, now=NOW)

    order(anna, [Item("KAF", 2)], date(2026, 1, 5))  # 20,00
    order(anna, [Item("TASSE", 1)], date(2026, 1, 5))  # 5,00, the same day: one purchase
    order(anna, [Item("KAF", 1), Item("TASSE", 2)], date(2026, 3, 2))  # 20,00
    order(anna, [Item("KAF", 9)], date(2026, 4, 1), status="cancelled")  # not revenue
    order(bernd, [Item("KAF", 3)], date(2026, 2, 1), status="shipped")  # 30,00
    order(carla, [Item("TASSE", 4)], date(2026, 2, 10), status="abandoned")  # interest only
    return {"anna": anna, "bernd": bernd, "carla": carla}


def test_value_report_on_a_known_history(shop):
    report = value.value_report()
    assert report["total"] == {
        "customers": 2, "orders": 4, "revenue": Decimal("75.00"),
        "average_order": Decimal("18.75"), "abandoned": 1, "cost": None,
        "margin": None, "uncosted_lines": 5, "lines": 5,  # no purchase price: no cost, margin
    }  # fmt: skip
    assert [(r["cost"], r["margin"]) for r in report["customers"]] == [(None, None)] * 2
    assert [r["cost"] for r in report["by_category"] + report["by_source"]] == [None] * 4
    card = orders.order_card(orders.iter_orders(contact_id=shop["anna"])[0]["id"])
    assert (card["goods_cost"], card["margin"]) == (None, None)  # walk: "Goods cost: 0,00 €"
    anna, bernd = report["customers"]
    assert (anna["contact"], anna["orders"], anna["revenue"], anna["average_order"]) == (
        "Anna Weiß", 3, Decimal("45.00"), Decimal("15.00"),
    )  # fmt: skip
    assert anna["first_purchase"] == day(date(2026, 1, 5))
    assert anna["last_purchase"] == day(date(2026, 3, 2))
    assert (bernd["contact"], bernd["revenue"], bernd["historic_clv"]) == (
        "Bernd Bauer", Decimal("30.00"), Decimal("30.00"),
    )  # fmt: skip
    assert [(r["category"], r["customers"], r["revenue"]) for r in report["by_category"]] == [
        ("Kaffee", 2, Decimal("60.00")), ("Geschirr", 1, Decimal("15.00")),
    ]  # fmt: skip
    assert [(r["source"], r["customers"], r["revenue"]) for r in report["by_source"]] == [
        ("shop", 1, Decimal("45.00")), ("messe", 1, Decimal("30.00")),
    ]  # fmt: skip
    assert [(r["city"], r["orders"]) for r in report["by_city"]] == [("Köln", 3), ("Bonn", 1)]


def test_margin_is_revenue_less_purchase_prices_and_order_costs(shop):
    from crmcli.models import OrderLine

    kaf = products.resolve_product("KAF")
    products.edit_product(kaf, {"cost_cents": 420})  # applies to the orders made before
    # Anna's March order cost 4,90 shipping; its KAF line was bought in at 3,99 back then.
    march = orders.iter_orders(contact_id=shop["anna"], status="paid")[0]
    orders.edit_order(march["id"], {"cost_cents": 490})
    OrderLine.update(cost_cents=399).where(
        (OrderLine.order == march["id"]) & (OrderLine.product == kaf)
    ).execute()
    report = value.value_report()
    # KAF: Anna 2 × 4,20 + 3,99, Bernd 3 × 4,20; TASSE has no purchase price (2 lines, 15,00
    # net): the margin is over the lines with one, 75,00 − 15,00 − 29,89 (walk finding: the
    # TASSE lines counted as pure margin, 45,11).
    assert (report["total"]["cost"], report["total"]["margin"]) == (
        Decimal("29.89"), Decimal("30.11"),
    )  # fmt: skip
    assert report["total"]["uncosted_lines"] == 2
    anna, bernd = report["customers"]
    assert (anna["cost"], anna["margin"]) == (Decimal("17.29"), Decimal("12.71"))
    assert (anna["uncosted_lines"], bernd["uncosted_lines"]) == (2, 0)
    assert (bernd["cost"], bernd["margin"]) == (Decimal("12.60"), Decimal("17.40"))
    assert [(r["category"], r["cost"], r["margin"]) for r in report["by_category"]] == [
        ("Kaffee", Decimal("24.99"), Decimal("35.01")),
        ("Geschirr", None, None),  # no purchase price: no cost known, no margin
    ]  # fmt: skip
    assert [(r["source"], r["margin"]) for r in report["by_source"]] == [
        ("shop", Decimal("12.71")), ("messe", Decimal("17.40")),
    ]  # fmt: skip
    card = orders.order_card(march["id"])
    assert (card["goods_cost"], card["cost"], card["margin"], card["uncosted_lines"]) == (
        Decimal("3.99"), Decimal("4.90"), Decimal("1.11"), 1,  # 20,00 − TASSE 10,00 − costs
    )  # fmt: skip


def test_value_report_of_a_period_keeps_the_historic_clv(shop):
    report = value.value_report(since=day(date(2026, 2, 1), 0))
    anna = next(r for r in report["customers"] if r["contact"] == "Anna Weiß")
    assert (anna["orders"], anna["revenue"], anna["historic_clv"]) == (
        1, Decimal("20.00"), Decimal("45.00"),
    )  # fmt: skip


def test_histories_count_purchase_days_after_the_first(shop):
    by_id = {h.contact_id: h for h in value.histories(date(2026, 3, 31), "days")}
    assert set(by_id) == {shop["anna"], shop["bernd"]}  # abandoned carts are no purchase
    anna = by_id[shop["anna"]]
    assert (anna.x, anna.t_x, anna.T, anna.repeat_mean) == (1, 56, 85, 20.0)
    bernd = by_id[shop["bernd"]]
    assert (bernd.x, bernd.t_x, bernd.T, bernd.repeat_mean) == (0, 0, 58, None)
    weeks = {h.contact_id: h for h in value.histories(date(2026, 3, 31), "weeks")}
    assert (weeks[shop["anna"]].t_x, round(weeks[shop["anna"]].T, 4)) == (8, round(85 / 7, 4))
    before = value.histories(date(2026, 2, 28), "days")  # the period ends that day
    assert [(h.x, h.T) for h in before if h.contact_id == shop["anna"]] == [(0, 54)]


def test_clv_refuses_too_little_history(shop):
    with pytest.raises(Invalid, match="too little history"):
        value.clv_report(until=date(2026, 2, 28))
    with pytest.raises(Invalid, match="unit"):
        value.histories(date(2026, 2, 28), "months")


def test_clv_of_the_cdnow_sample_recorded_as_orders(db):
    """The CDNOW purchases as orders (several on one day too), fitted through the report:
    the published estimates come out (see tests/services/test_clv.py)."""
    purchases = cdnow_purchases()
    Contact.insert_many(
        [{"name": f"CDNOW {c}", "name_key": f"cdnow {c}"} for c in purchases]
    ).execute()
    ids = dict(Contact.select(Contact.name, Contact.id).tuples())
    rows = []
    for customer, by_day in purchases.items():
        for d, dollars in by_day.items():
            cents = round(dollars * 100)
            half = cents // 2  # two orders on the day: still one purchase of their sum
            for hour, part in ((10, half), (15, cents - half)):
                rows.append({
                    "contact": ids[f"CDNOW {customer}"], "ordered_at": day(d, hour),
                    "status": "paid", "net_cents": part, "gross_cents": part,
                })  # fmt: skip
    for start in range(0, len(rows), 1000):
        SalesOrder.insert_many(rows[start : start + 1000]).execute()
    report = value.clv_report(until=CALIBRATION_END, unit="weeks", horizon=39)
    assert (report["customers"], report["repeat_customers"]) == (2357, 946)
    fit = report["bgnbd"]
    assert [round(fit[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert round(fit["log_likelihood"], 1) == -9582.4
    spend = report["gamma_gamma"]
    assert [round(spend[k], 2) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.44]
    for r in report["rows"][:50]:  # CLV = expected purchases x expected spend (each rounded)
        ep, ev = r["expected_purchases"], r["expected_value"]
        slack = Decimal("0.005") * (ep + 1) + Decimal("0.00005") * ev
        assert abs(r["clv"] - ep * ev) <= slack
    assert all(0 <= r["p_alive"] <= 1 for r in report["rows"])
    assert {r["p_alive"] for r in report["rows"] if r["x"] == 0} == {1}  # none dropped out yet
    assert report["rows"] == sorted(report["rows"], key=lambda r: -r["clv"])


def test_revenue_by_month_in_local_months_with_the_empty_ones(shop):
    # a purchase at 23:30 on 31 January in Berlin is January's
    orders.add_order(
        shop["bernd"], [Item("TASSE", 2)], ordered_at=at_local(date(2026, 1, 31), time(23, 30)),
        status="paid", now=NOW,
    )  # fmt: skip
    months = value.revenue_by_month()
    assert [(m["month"], m["orders"], m["revenue"]) for m in months] == [
        ("2026-01", 3, Decimal("35.00")), ("2026-02", 1, Decimal("30.00")),
        ("2026-03", 1, Decimal("20.00")),
    ]  # fmt: skip
    since = value.revenue_by_month(since=day(date(2026, 2, 1), 0))
    assert [m["month"] for m in since] == ["2026-02", "2026-03"]
    assert value.revenue_by_month(since=day(date(2026, 5, 1), 0)) == []


def test_clv_falls_back_to_own_mean_order_values_when_gamma_gamma_has_q_at_most_1(db):
    """Each customer spends the same every time, but customers differ by a factor of 300
    (coffee to machines): the fit's q is 1 or below, its mean spend unbounded; the report
    says so and values every customer at their own mean order value, sorted by CLV."""
    spends = [10, 12, 15, 18, 25, 40, 80, 150, 400, 900, 3000]
    for i, euros in enumerate(spends):
        who = contacts.add_contact(f"Kunde {i}", now=NOW)["id"]
        for d in (date(2026, 1, 5 + i), date(2026, 3, 2 + i), date(2026, 5, 4 + i)):
            SalesOrder.insert(contact=who, ordered_at=day(d), status="paid",
                              net_cents=euros * 100, gross_cents=euros * 100).execute()  # fmt: skip
    lone = contacts.add_contact("Einmal", now=NOW)["id"]
    SalesOrder.insert(contact=lone, ordered_at=day(date(2026, 6, 1)), status="paid",
                      net_cents=3300, gross_cents=3300).execute()  # fmt: skip
    report = value.clv_report(until=date(2026, 11, 30))
    assert report["gamma_gamma"] is None and "≤ 1" in report["spend_note"]
    by_name = {r["contact"]: r for r in report["rows"]}
    assert by_name["Kunde 10"]["expected_value"] == Decimal("3000.00")
    assert by_name["Einmal"]["expected_value"] == Decimal("33.00")
    assert all(r["clv"] is not None for r in report["rows"])
    assert report["rows"] == sorted(report["rows"], key=lambda r: -r["clv"])
