"""Next purchases: the BG/NBD chance within a window and the median wait, and the customer's
own rhythm when there is too little history to fit."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.services import clv, contacts, forecast, orders, products
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW


@pytest.fixture
def one(db):
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, now=NOW)
    cid = contacts.add_contact("Anna Weiß", now=NOW)["id"]
    for d, qty in ((date(2026, 1, 1), 1), (date(2026, 1, 31), 2), (date(2026, 3, 2), 3)):
        at = at_local(d, time(12))
        orders.add_order(cid, [Item("KAF", qty)], ordered_at=at, status="paid", now=NOW)
    return cid


def test_one_customer_is_too_little_to_fit_so_their_rhythm_counts(one):
    report = forecast.next_purchases(until=date(2026, 3, 31), within_days=30)
    assert report["model"] is None
    (row,) = report["rows"]
    # purchases 1.1., 31.1., 2.3.: every 30 days, so the next is 1.4.
    assert (row["last_purchase"], row["purchases"], row["expected_next"], row["method"]) == (
        date(2026, 3, 2), 3, date(2026, 4, 1), "interval",
    )  # fmt: skip
    assert row["chance"] is None and row["expected_value"] == Decimal("20.00")


def test_with_a_model_the_chance_and_the_median_wait(one):
    for name, days in (
        ("Bernd Bauer", (date(2026, 2, 1), date(2026, 2, 20))),
        ("Carla Klein", (date(2026, 1, 10),)),
        ("Dora Maier", (date(2026, 1, 5), date(2026, 2, 15), date(2026, 3, 25))),
        ("Emil Roth", (date(2026, 3, 1),)),
        ("Fritz Lang", (date(2026, 1, 20), date(2026, 1, 27))),
    ):
        cid = contacts.add_contact(name, now=NOW)["id"]
        for d in days:
            at = at_local(d, time(12))
            orders.add_order(cid, [Item("KAF", 5)], ordered_at=at, status="paid", now=NOW)
    until = date(2026, 3, 31)
    report = forecast.next_purchases(until=until, within_days=30)
    m = clv.BgNbd(*report["model"].values())
    rows = {r["contact"]: r for r in report["rows"]}
    anna = rows["Anna Weiß"]  # x = 2, t_x = 60 days, T = 89 days, in weeks
    x, t_x, big_t = 2, 60 / 7, 89 / 7
    alive = clv.p_alive(m, x, t_x, big_t)
    base = m.alpha + big_t
    assert float(anna["chance"]) == pytest.approx(
        alive * (1 - (base / (base + 30 / 7)) ** (m.r + x)), abs=6e-5
    )
    wait_days = base * (2 ** (1 / (m.r + x)) - 1) * 7
    assert (anna["expected_next"] - until).days == max(1, round(wait_days))  # a day at least
    assert anna["method"] == "bgnbd" and 0 < anna["chance"] < alive
    longer = forecast.next_purchases(until=until, within_days=365)
    assert {r["contact"]: r["chance"] for r in longer["rows"]}["Anna Weiß"] > anna["chance"]
    assert [r["priority"] for r in report["rows"]] == sorted(
        (r["priority"] for r in report["rows"]), reverse=True
    )


def test_too_little_history_to_fit_falls_back_to_each_customers_rhythm_and_says_why(one):
    """The walk: 4 customers, one repeat purchase; BG/NBD came out with a = 2,103,331, the
    repeat buyer's next purchase in 30 days at a chance of 0,0 %."""
    for name, d in (("Bernd", date(2026, 3, 20)), ("Carla", date(2026, 3, 25))):
        cid = contacts.add_contact(name, now=NOW)["id"]
        at = at_local(d, time(12))
        orders.add_order(cid, [Item("KAF", 1)], ordered_at=at, status="paid", now=NOW)
    report = forecast.next_purchases(until=date(2026, 3, 31), within_days=30)
    assert report["model"] is None and report["sorted_by"] == forecast.SORTED_BY_DAY
    assert report["fallback"] == "1 customer bought again, the model needs 2"
    anna = {r["contact"]: r for r in report["rows"]}["Anna Weiß"]
    assert (anna["method"], anna["expected_next"], anna["chance"]) == (
        "interval", date(2026, 4, 1), None,
    )  # fmt: skip


def test_a_degenerate_fit_is_no_model(one, monkeypatch):
    """A fit whose customers all drop out right after a purchase gives a repeat buyer no
    chance at all: the customers' own rhythm instead, and the reason."""
    cid = contacts.add_contact("Bernd", now=NOW)["id"]
    for d in (date(2026, 3, 1), date(2026, 3, 20)):
        at = at_local(d, time(12))
        orders.add_order(cid, [Item("KAF", 1)], ordered_at=at, status="paid", now=NOW)
    monkeypatch.setattr(
        clv, "fit_bgnbd", lambda rows: clv.BgNbd(2.1e7, 2.6e8, 2_103_331.0, 1.8e-6, -3.2)
    )
    report = forecast.next_purchases(until=date(2026, 3, 31), within_days=30)
    assert report["model"] is None and report["fallback"].startswith(
        "a degenerate fit, a = 2,103,331"
    )
    assert {r["method"] for r in report["rows"]} == {"interval"}


def test_a_window_must_be_a_day_or_more(one):
    with pytest.raises(Invalid, match="within"):
        forecast.next_purchases(until=date(2026, 3, 31), within_days=0)


def test_without_a_model_the_list_is_sorted_by_the_next_purchase_and_says_so(db):
    """Walk finding (issue 18): without a fit CHANCE was blank for everyone and the list,
    said to be sorted by chance × value, came by id. Nobody bought twice: no model, no day
    to give, so the order value decides, and the report says what it is sorted by."""
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, now=NOW)
    for name, qty in (("Anna", 1), ("Bernd", 5), ("Carla", 3)):
        cid = contacts.add_contact(name, now=NOW)["id"]
        at = at_local(date(2026, 3, 1), time(12))
        orders.add_order(cid, [Item("KAF", qty)], ordered_at=at, status="paid", now=NOW)
    report = forecast.next_purchases(until=date(2026, 3, 31), within_days=30)
    assert report["model"] is None and report["sorted_by"] == forecast.SORTED_BY_DAY
    assert [(r["contact"], r["expected_next"], r["chance"]) for r in report["rows"]] == [
        ("Bernd", None, None), ("Carla", None, None), ("Anna", None, None),
    ]  # fmt: skip


def test_with_a_model_a_forecast_beyond_two_years_is_no_date(one):
    """A one-off buyer's median wait under BG/NBD is decades (the walk saw 2066-05-29)."""
    cid = contacts.add_contact("Bernd Bauer", now=NOW)["id"]
    at = at_local(date(2025, 1, 10), time(12))
    orders.add_order(cid, [Item("KAF", 1)], ordered_at=at, status="paid", now=NOW)
    cid = contacts.add_contact("Carla Klein", now=NOW)["id"]  # a second repeat buyer
    for d in (date(2025, 11, 1), date(2026, 2, 1)):
        at = at_local(d, time(12))
        orders.add_order(cid, [Item("KAF", 2)], ordered_at=at, status="paid", now=NOW)
    until = date(2026, 3, 31)
    report = forecast.next_purchases(until=until, within_days=30)
    assert report["sorted_by"] == forecast.SORTED_BY_CHANCE and report["horizon_years"] == 2
    rows = {r["contact"]: r for r in report["rows"]}
    bernd, anna = rows["Bernd Bauer"], rows["Anna Weiß"]
    assert (bernd["expected_next"], bernd["beyond_horizon"], bernd["usual_next"]) == (
        None, True, None,
    )  # fmt: skip
    assert bernd["chance"] is not None and bernd["method"] == "bgnbd"
    assert anna["beyond_horizon"] is False and anna["expected_next"] <= date(2028, 3, 31)
    # the usual rhythm beside the model's day: 1.1., 31.1., 2.3. every 30 days, so 1.4.
    assert (anna["usual_next"], anna["usual_interval_days"]) == (date(2026, 4, 1), 30)


@pytest.mark.parametrize(
    ("x", "days", "expected"),
    [
        (2, 60, (date(2026, 4, 1), 30)),
        (2, 13, (date(2026, 1, 21), 7)),
        (3, 1, (date(2026, 1, 3), 1)),
    ],
)
def test_the_usual_interval_is_whole_days_rounded_half_up(x, days, expected):
    assert forecast.usual_next(date(2026, 1, 1), x, days) == expected
    assert forecast.usual_next(date(2026, 1, 1), 0, 0) is None
