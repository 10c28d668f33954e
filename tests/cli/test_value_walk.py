"""Walk findings on customer value (issue 18): the VAT report's corrections, one meaning of
--until, the order card's discount, forecasts, shipping lines, customer status, margin."""

from __future__ import annotations

import pytest


@pytest.fixture
def coffee(crm):
    for args in (
        ("add", "contact", "Karl Kunde"),
        ("add", "product", "P", "Kaffee 500 g", "--price", "100"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, r.stderr
    return crm


def test_a_return_later_leaves_the_filed_quarter_and_corrects_the_current(coffee):
    crm = coffee
    assert (
        crm("add", "order", "karl", "--item", "P:1", "--at", "15.8.2026", "-s", "paid").exit_code
        == 0
    )

    def totals(quarter):
        r = crm("report", "vat", "--quarter", quarter, "-o", "json")
        assert r.exit_code == 0, r.stderr
        return r.json()

    assert totals("2026-Q3")["total"] == {"net": "100.00", "vat": "19.00", "gross": "119.00"}
    r = crm("edit", "order", "1", "--status", "returned")
    assert r.exit_code == 0, r.stderr
    assert totals("2026-Q3")["total"] == {"net": "100.00", "vat": "19.00", "gross": "119.00"}
    q4 = totals("2026-Q4")
    assert q4["total"] == {"net": "-100.00", "vat": "-19.00", "gross": "-119.00"}
    assert [(c["order_id"], c["old_status"], c["status"]) for c in q4["corrections"]] == [
        (1, "paid", "returned")
    ]
    table = crm("report", "vat", "--quarter", "2026-Q4").stdout
    assert "-100,00 €" in table and "§ 17 UStG" in table and "2026-08-15" in table


def test_until_a_day_includes_it_in_every_value_report(coffee):
    """`--until 29.11.2026` counted the 29th in rfm and next-purchase but not in value."""
    crm = coffee
    for at in ("1.11.2026 10:00", "20.11.2026 10:00", "20.11.2026 18:00"):
        assert crm("add", "order", "karl", "--item", "P:1", "--at", at, "-s", "paid").exit_code == 0
    assert crm("log", "complaint", "karl", "-m", "kalt", "--at", "20.11.2026 12:00").exit_code == 0

    def value(*args):
        r = crm("report", "value", *args, "-o", "json")
        assert r.exit_code == 0, r.stderr
        return r.json()["total"]["orders"]

    assert value("--until", "20.11.2026") == 3
    assert value("--until", "19.11.2026") == 1
    assert value("--since", "20.11.2026", "--until", "20.11.2026") == 2
    assert value("--until", "20.11.2026 12:00") == 2  # a moment is the end itself
    rfm = crm("report", "rfm", "--until", "20.11.2026", "-o", "json").json()
    assert [r["monetary"] for r in rfm["customers"]] == ["300.00"]

    def complaints(*args):
        r = crm("report", "service", "--by", "kind", *args, "-o", "json")
        assert r.exit_code == 0, r.stderr
        return r.json()["total"]["received"]

    assert complaints("--until", "20.11.2026") == 1
    assert complaints("--until", "19.11.2026") == 0
