"""The funnel's stored facts: each stay's end and length on its history row and the counters
(services.tallies) stay right through every change, and the funnel read from them equals the
funnel computed from the deals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crmcli.models import Deal, DealStageChange
from crmcli.services import contacts, deals, reports, stages, tallies
from tests.services.test_reports import T0, deal

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def expected_stays() -> dict[int, tuple]:
    """Every history row's (left_at, stay_seconds, currency) by the definition: the next step
    of the deal in (changed_at, id) order, and the deal's currency."""
    rows = list(
        DealStageChange.select(DealStageChange, Deal.currency)
        .join(Deal, on=(DealStageChange.deal == Deal.id))
        .order_by(DealStageChange.deal, DealStageChange.changed_at, DealStageChange.id)
        .objects()
    )
    out = {}
    for row, nxt in zip(rows, [*rows[1:], None], strict=False):
        if nxt is None or nxt.deal_id != row.deal_id:
            out[row.id] = (None, None, row.currency)
        else:
            stay = int(nxt.changed_at.timestamp()) - int(row.changed_at.timestamp())
            out[row.id] = (nxt.changed_at, stay, row.currency)
    return out


def stored_stays() -> dict[int, tuple]:
    return {
        r.id: (r.left_at, r.stay_seconds, r.currency) for r in DealStageChange.select()
    }  # fmt: skip


def assert_facts_right() -> None:
    """Stored stays as defined, counters as a rebuild makes them, and both funnels equal."""
    assert stored_stays() == expected_stays()
    kept = tallies.rows()
    tallies.rebuild()
    assert kept == tallies.rows()
    for currency in ("EUR", "USD"):
        fast = reports.funnel(currency=currency)
        slow = reports.funnel(since=LONG_AGO, currency=currency)
        fast.pop("since"), slow.pop("since")
        assert fast == slow


@pytest.fixture
def person(db):
    return contacts.add_contact("Jürgen Müller")


def test_every_change_keeps_the_facts_right(person):
    a = deal(person, "A", 1000_00, [(2, "Qualifiziert"), (5.5, "Angebot")])
    b = deal(person, "B", 2000_00, [(4, "Qualifiziert"), (9, "lost", "Preis zu hoch")])
    assert_facts_right()
    first = (
        DealStageChange.select()
        .where(DealStageChange.deal == a["id"])
        .order_by(DealStageChange.changed_at)[0]
    )
    assert (first.left_at, first.stay_seconds) == (T0 + timedelta(days=2), 2 * 86400)

    deals.move_deal(a["id"], "Verhandlung", now=T0 + timedelta(days=7))
    assert_facts_right()
    deals.win_deal(a["id"], now=T0 + timedelta(days=8, seconds=1))
    assert_facts_right()
    deals.reopen_deal(a["id"], now=T0 + timedelta(days=10))
    assert_facts_right()
    deals.lose_deal(a["id"], "Kein Budget", now=T0 + timedelta(days=11))
    deals.reopen_deal(b["id"], stage="Angebot", now=T0 + timedelta(days=12))
    assert_facts_right()
    deals.edit_deal(a["id"], {"amount_cents": 1234_56, "lost_reason": "Preis zu hoch"})
    assert_facts_right()
    deals.edit_deal(b["id"], {"currency": "USD"})
    assert_facts_right()
    assert reports.funnel(currency="USD")["deals"] == 1
    deals.delete_deal(b["id"])
    assert_facts_right()
    assert reports.funnel(currency="USD")["deals"] == 0
    assert tallies.rows() == [r for r in tallies.rows() if r[1] == "EUR"]


def test_a_merged_or_reordered_stage_rebuilds_the_counters(person):
    deal(person, "A", 100_00, [(1, "Qualifiziert"), (3, "Angebot"), (4, "Verhandlung")])
    deal(person, "B", 200_00, [(2, "Qualifiziert"), (6, "won")])
    deal(person, "C", 300_00, [(1, "Angebot")])
    stages.add_stage("Demo", after="Qualifiziert")
    deal(person, "D", 400_00, [(1, "Demo"), (2, "lost", "Kein Budget")])
    assert_facts_right()
    stages.reorder_stages(
        ["Lead", "Angebot", "Qualifiziert", "Demo", "Verhandlung", "Gewonnen", "Verloren"]
    )
    assert_facts_right()
    reached = {r["stage"]: r["reached"] for r in reports.funnel()["stages"]}
    assert (reached["Angebot"], reached["Qualifiziert"], reached["Demo"]) == (4, 3, 3)
    stages.remove_stage("Demo", move_to="Angebot")
    assert_facts_right()
    stages.remove_stage("Verhandlung", move_to="Qualifiziert")
    assert_facts_right()
    assert reports.funnel()["deals"] == 4


def test_medians_across_day_buckets_are_exact(person):
    # Lead stays of 1 d, 1.5 d, 1 d 23 h, 2.5 d, 5 d, 9 d: the middle two are on two days.
    for i, d in enumerate([1, 1.5, 1 + 23 / 24, 2.5, 5, 9]):
        deal(person, f"L{i}", 1_00, [(d, "Qualifiziert")])
    rows = {r["stage"]: r for r in reports.funnel()["stages"]}
    assert (rows["Lead"]["median_days"], rows["Lead"]["stays"]) == (Decimal("2.23"), 6)
    deal(person, "L6", 1_00, [(30, "Qualifiziert")])  # odd: the 4th
    rows = {r["stage"]: r for r in reports.funnel()["stages"]}
    assert (rows["Lead"]["median_days"], rows["Lead"]["stays"]) == (Decimal("2.50"), 7)
    assert_facts_right()


def test_the_demo_writes_its_facts(db):
    from crmcli import demo
    from tests.conftest import NOW

    demo.fill_demo(contacts=200, now=NOW)
    assert_facts_right()


def test_a_reopened_deal_no_longer_counts_in_the_stage_it_was_closed_in(person):
    lost = deal(person, "L", 100_00, [(1, "Angebot"), (2, "lost", "Preis zu hoch")])
    won = deal(person, "W", 200_00, [(1, "Verhandlung"), (3, "won")])

    def reached() -> dict:
        both = reports.funnel(), reports.funnel(since=LONG_AGO)
        rows = [{r["stage"]: (r["reached"], r["value"]) for r in f["stages"]} for f in both]
        assert rows[0] == rows[1]
        return rows[0]

    assert reached()["Verloren"] == (1, Decimal("100.00"))
    assert reached()["Gewonnen"] == (1, Decimal("200.00"))
    deals.reopen_deal(lost["id"], now=T0 + timedelta(days=4))
    deals.reopen_deal(won["id"], now=T0 + timedelta(days=4))
    assert_facts_right()
    assert reached()["Verloren"] == (0, Decimal("0.00"))
    assert reached()["Gewonnen"] == (0, Decimal("0.00"))
    assert reached()["Verhandlung"] == (1, Decimal("200.00"))  # where W got to, still
    assert reached()["Angebot"][0] == 2
    assert reports.funnel()["lost_reasons"] == []
    deals.lose_deal(lost["id"], "Kein Budget", now=T0 + timedelta(days=5))
    assert_facts_right()
    assert reached()["Verloren"] == (1, Decimal("100.00"))  # lost again: once, not twice


def test_counters_of_an_older_version_are_found_drifted_and_rebuilt(person):
    lost = deal(person, "L", 100_00, [(1, "Angebot"), (2, "lost", "Preis zu hoch")])
    assert not tallies.drifted()
    # What an older version kept for a deal lost and then reopened: still counted as lost.
    deals.reopen_deal(lost["id"], now=T0 + timedelta(days=4))
    stale = tallies.PipelineTally.update(deals=tallies.PipelineTally.deals + 1).where(
        tallies.PipelineTally.kind == "reached"
    )
    stale.execute()
    kept = tallies.rows()
    assert tallies.drifted()
    assert tallies.rows() == kept  # looking changed nothing
    tallies.rebuild()
    assert not tallies.drifted()
    assert_facts_right()


@pytest.mark.sqlite_only
def test_the_drift_check_only_reads(db, db_path, person):
    """crm db check compares the counters with a recount without writing: it works while
    another process holds the write lock (it deleted and rebuilt them, rolled back)."""
    import sqlite3

    deal(person, "L", 100_00, [(1, "Angebot"), (2, "lost", "Preis zu hoch")])
    other = sqlite3.connect(str(db_path), isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert tallies.drifted() is False
    finally:
        other.execute("ROLLBACK")
        other.close()
