"""RFM scores, segments from rules that are data, and rfm: tags applied in one transaction."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.models import ContactTag, Tag
from crmcli.services import contacts, orders, products, rfm
from crmcli.services.orders import Item
from crmcli.values import at_local
from tests.conftest import NOW

UNTIL = date(2026, 11, 30)


def test_quintiles_share_scores_between_ties():
    assert rfm.quintiles([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert rfm.quintiles([7, 7, 7]) == [1, 1, 1]
    assert rfm.quintiles([1, 2, 2, 3, 4, 5, 6, 7, 8, 9]) == [1, 1, 1, 2, 3, 3, 4, 4, 5, 5]


def test_the_default_rules_name_every_pair_with_the_eleven_segments():
    table = rfm.segment_table(rfm.SEGMENT_RULES)
    assert len(table) == 25 and len(set(table.values())) == 11
    assert (table[5, 5], table[1, 1], table[2, 1], table[1, 5], table[5, 1]) == (
        "Champions", "Lost", "Hibernating", "Can't lose", "New",
    )  # fmt: skip


def test_rules_from_a_file_and_rules_that_leave_a_pair_out():
    rules = rfm.read_rules("r,f,segment\n4-5,1-5,Aktiv\n1-3,1-5,Schlafend\n")
    table = rfm.segment_table(rules)
    assert (table[5, 1], table[3, 5]) == ("Aktiv", "Schlafend")
    with pytest.raises(Invalid, match="no rule for R and F scores 11, 12"):
        rfm.segment_table([("2-5", "1-5", "Rest"), ("1", "3-5", "X")])
    with pytest.raises(Invalid, match="columns r, f, segment"):
        rfm.read_rules("a,b\n1,2\n")
    with pytest.raises(Invalid, match="'6' is not a score"):
        rfm.segment_table([("6", "1", "X")])


@pytest.fixture
def five(db):
    products.add_product("KAF", "Kaffee", price_cents=1000, vat_bp=700, now=NOW)
    ids = []
    # name, orders, days before UNTIL of the last one, quantity per order
    for name, count, last, qty in (
        ("Eins", 5, 1, 5), ("Zwei", 4, 10, 4), ("Drei", 3, 30, 3), ("Vier", 2, 100, 2),
        ("Fünf", 1, 300, 1),
    ):  # fmt: skip
        cid = contacts.add_contact(name, now=NOW)["id"]
        ids.append(cid)
        for k in range(count):
            at = at_local(UNTIL - timedelta(days=last + 7 * k), time(12))
            orders.add_order(cid, [Item("KAF", qty)], ordered_at=at, status="paid", now=NOW)
    orders.add_order(ids[4], [Item("KAF", 50)], status="cancelled", now=NOW)  # not counted
    return ids


def test_rfm_scores_and_segments_of_a_known_history(five):
    report = rfm.rfm(until=UNTIL)
    got = [(c["contact"], c["recency_days"], c["frequency"], c["monetary"], c["score"],
            c["segment"]) for c in report["customers"]]  # fmt: skip
    assert got == [
        ("Eins", 1, 5, Decimal("250.00"), "555", "Champions"),
        ("Zwei", 10, 4, Decimal("160.00"), "444", "Loyal"),
        ("Drei", 30, 3, Decimal("90.00"), "333", "Need attention"),
        ("Vier", 100, 2, Decimal("40.00"), "222", "Hibernating"),
        ("Fünf", 300, 1, Decimal("10.00"), "111", "Lost"),
    ]
    sizes = {s["segment"]: (s["customers"], s["revenue"]) for s in report["segments"]}
    assert sizes["Champions"] == (1, Decimal("250.00")) and sizes["New"] == (0, Decimal("0.00"))
    assert len(sizes) == 11


def tags_of(cid: int) -> list[str]:
    rows = Tag.select(Tag.name).join(ContactTag).where(ContactTag.contact == cid)
    return sorted(n for (n,) in rows.tuples())


def test_apply_tags_writes_the_segment_and_moves_it_when_it_changes(five):
    from crmcli.services.tags import ensure_tags

    ContactTag.insert(contact=five[0], tag=ensure_tags(["vip"])[0]).execute()
    result = rfm.apply_tags(rfm.rfm(until=UNTIL)["customers"], now=NOW)
    assert result == {"tagged": 5, "changed": 5, "added": 5, "removed": 0}
    assert tags_of(five[0]) == ["rfm:Champions", "vip"] and tags_of(five[4]) == ["rfm:Lost"]
    again = rfm.apply_tags(rfm.rfm(until=UNTIL)["customers"], now=NOW)
    assert again == {"tagged": 5, "changed": 0, "added": 0, "removed": 0}
    # Other rules move everyone: the old segment's tag goes, the new one comes.
    rules = [("4-5", "1-5", "Aktiv"), ("1-3", "1-5", "Schlafend")]
    moved = rfm.apply_tags(rfm.rfm(until=UNTIL, rules=rules)["customers"], now=NOW)
    assert moved == {"tagged": 5, "changed": 5, "added": 5, "removed": 5}
    assert tags_of(five[0]) == ["rfm:Aktiv", "vip"] and tags_of(five[2]) == ["rfm:Schlafend"]


def _rfm_row_by_row(until, rules=rfm.SEGMENT_RULES) -> dict:
    """What rfm() gave when it grouped the join of orders and contacts and built, sorted and
    summed its rows one by one (Decimal keys and sums): the reference for the test below."""
    from collections import Counter
    from datetime import datetime

    from peewee import fn

    from crmcli.models import PURCHASE_STATUSES, Contact, SalesOrder, UTCDateTimeField

    table = rfm.segment_table(rules)
    end = at_local(until + timedelta(days=1), datetime.min.time())
    rows = list(
        SalesOrder.select(
            SalesOrder.contact, Contact.name, fn.COUNT(SalesOrder.id),
            fn.SUM(SalesOrder.net_cents), fn.MAX(SalesOrder.ordered_at),
        )
        .join(Contact, on=(SalesOrder.contact == Contact.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & (SalesOrder.ordered_at < end))
        .group_by(SalesOrder.contact, Contact.name)
        .tuples()
    )  # fmt: skip
    convert = UTCDateTimeField().python_value
    recency = [(end - convert(last)).days for *_, last in rows]
    r_scores = rfm.quintiles([-d for d in recency])
    f_scores = rfm.quintiles([n for _, _, n, _, _ in rows])
    m_scores = rfm.quintiles([int(c) for _, _, _, c, _ in rows])
    customers = []
    for i, (cid, name, n, cents, _) in enumerate(rows):
        r, f, m = r_scores[i], f_scores[i], m_scores[i]
        customers.append({
            "contact_id": cid, "contact": name, "recency_days": recency[i], "frequency": n,
            "monetary": Decimal(int(cents)).scaleb(-2), "r": r, "f": f, "m": m,
            "score": f"{r}{f}{m}", "segment": table[(r, f)],
        })  # fmt: skip
    customers.sort(key=lambda c: (-c["r"], -c["f"], -c["m"], -c["monetary"], c["contact_id"]))
    sizes = Counter(c["segment"] for c in customers)
    revenue: Counter = Counter()
    for c in customers:
        revenue[c["segment"]] += c["monetary"]
    order = list(dict.fromkeys(name for _, _, name in rules))
    segments = [
        {"segment": s, "customers": sizes.get(s, 0), "revenue": revenue.get(s, Decimal("0.00"))}
        for s in order
    ]
    return {"until": until, "customers": customers, "segments": segments}


def test_the_report_is_the_row_by_row_one_on_seeded_histories(db):
    """rfm() groups before it joins the names and ranks by integers: the same report, in the
    same order, as grouping the join and sorting Decimal keys, on seeded histories full of
    ties (equal sums, equal days, equal counts), with cancelled orders, orders after the
    last day, and rules that leave a segment empty."""
    import random

    rng = random.Random(18)
    for sku, cents in (("A", 500), ("B", 1000), ("C", 1999)):
        products.add_product(sku, sku, price_cents=cents, vat_bp=700, now=NOW)
    people = [contacts.add_contact(f"Kunde {i % 7}", now=NOW)["id"] for i in range(60)]
    for cid in people:
        for _ in range(rng.choice((0, 1, 1, 2, 3, 6))):
            day = UNTIL - timedelta(days=rng.choice((-3, 0, 1, 1, 5, 40, 200, 400)))
            orders.add_order(
                cid, [Item(rng.choice("ABC"), rng.choice((1, 1, 2)))],
                ordered_at=at_local(day, time(rng.choice((0, 9, 23)), rng.choice((0, 59)))),
                status=rng.choice(("paid", "paid", "shipped", "open", "cancelled")), now=NOW,
            )  # fmt: skip
    rules = [("4-5", "1-5", "Aktiv"), ("1-3", "1-5", "Schlafend"), ("1", "1", "Nie")]
    for until in (UNTIL, UNTIL - timedelta(days=30)):
        for given in (rfm.SEGMENT_RULES, rules):
            got, expected = rfm.rfm(until=until, rules=given), _rfm_row_by_row(until, given)
            assert got == expected
            assert [c["contact_id"] for c in got["customers"]] == [
                c["contact_id"] for c in expected["customers"]
            ]
    assert len(rfm.rfm(until=UNTIL)["customers"]) > 40
