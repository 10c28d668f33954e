"""Reports on known histories with fixed dates: every figure is asserted exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crmcli.errors import Invalid
from crmcli.services import contacts, deals, reports

D = Decimal  # amounts are exact Decimals

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def deal(person, title, cents, path, *, created=T0, owner=None, source=None, **kw):
    """A deal opened at `created` in Lead that takes the steps of `path`: (day, stage) or
    (day, "lost", reason), (day, "reopen", stage) or (day, "won")."""
    d = deals.add_deal(
        title, contact_id=person["id"], amount_cents=cents, owner=owner, source=source,
        now=created, **kw,
    )  # fmt: skip
    for step in path:
        at = created + timedelta(days=step[0])
        if step[1] == "won":
            deals.win_deal(d["id"], now=at)
        elif step[1] == "lost":
            deals.lose_deal(d["id"], step[2], now=at)
        elif step[1] == "reopen":
            deals.reopen_deal(d["id"], stage=step[2], now=at)
        else:
            deals.move_deal(d["id"], step[1], now=at)
    return d


@pytest.fixture
def person(db):
    return contacts.add_contact("Jürgen Müller")


@pytest.fixture
def history(person):
    """Six deals of January 2026 (see test_funnel for what each did)."""
    deal(person, "A", 1000_00, [(2, "Qualifiziert"), (5, "Angebot"), (10, "Verhandlung"),
                                (20, "won")], owner="Anna", source="Messe")  # fmt: skip
    deal(person, "B", 2000_00, [(4, "Qualifiziert"), (7, "Angebot"),
                                (9, "lost", "Preis zu hoch")], owner="Anna")  # fmt: skip
    deal(person, "C", 500_00, [(1, "lost", "Kein Budget")], owner="Anna")
    deal(person, "D", 300_00, [(3, "Angebot")])  # skipped Qualifiziert, still open
    deal(person, "E", 700_00, [])  # still in Lead
    deal(person, "F", 400_00, [(6, "Qualifiziert"), (8, "lost", "Preis zu hoch")])


def test_funnel(history):
    f = reports.funnel()
    assert f["deals"] == 6 and f["currency"] == "EUR"
    got = {
        r["stage"]: (r["reached"], r["value"], r["conversion_next"], r["conversion_won"],
                     r["median_days"], r["stays"])
        for r in f["stages"]
    }  # fmt: skip
    D = Decimal
    assert got == {
        # reached: every deal was a Lead; A, B, D (skipped it) and F got to Qualifiziert...
        "Lead": (6, D("4900.00"), D("0.6667"), D("0.1667"), D(D("3.00")), 5),  # stays 1,2,3,4,6
        "Qualifiziert": (4, D("3700.00"), D("0.7500"), D("0.2500"), D(D("3.00")), 3),  # 2,3,3
        "Angebot": (3, D("3300.00"), D("0.3333"), D("0.3333"), D(D("3.50")), 2),  # 2,5: the mean
        "Verhandlung": (1, D("1000.00"), D("1.0000"), D("1.0000"), D(D("10.00")), 1),
        "Gewonnen": (1, D("1000.00"), None, D("1.0000"), None, 0),
        "Verloren": (3, D("2900.00"), None, None, None, 0),
    }
    assert f["lost_reasons"] == [
        {"reason": "Preis zu hoch", "deals": 2, "value": D("2400.00"), "share": D("0.6667")},
        {"reason": "Kein Budget", "deals": 1, "value": D("500.00"), "share": D("0.3333")},
    ]


def test_funnel_counts_the_deals_created_in_the_period(history, person):
    deal(person, "G", 1_00, [(1, "Angebot")], created=day(40))
    assert reports.funnel(until=day(30))["deals"] == 6
    later = reports.funnel(since=day(30))
    assert later["deals"] == 1
    assert [(r["stage"], r["reached"]) for r in later["stages"][:4]] == [
        ("Lead", 1), ("Qualifiziert", 1), ("Angebot", 1), ("Verhandlung", 0),
    ]  # fmt: skip
    assert later["stages"][3]["conversion_next"] is None  # nothing to divide by
    assert reports.funnel(currency="USD")["deals"] == 0


def test_a_reopened_deal_counts_once_and_its_stays_count(person):
    deal(
        person,
        "R",
        10_00,
        [(1, "Angebot"), (2, "lost", "Preis"), (5, "reopen", "Angebot"), (9, "won")],
    )
    f = {r["stage"]: r for r in reports.funnel()["stages"]}
    # Reopened, the loss was undone: the deal no longer counts as reaching Verloren.
    assert (f["Angebot"]["reached"], f["Verloren"]["reached"], f["Gewonnen"]["reached"]) == (
        1, 0, 1
    )  # fmt: skip
    # Angebot: 1 day, then 4 days after the reopen: median 2.5; lost for 3 days.
    assert (f["Angebot"]["median_days"], f["Angebot"]["stays"]) == (Decimal(D("2.50")), 2)
    assert f["Verloren"]["median_days"] == Decimal(D("3.00"))
    assert reports.funnel()["lost_reasons"] == []  # not lost now


def test_pipeline_weights_open_value_by_probability_and_close_month(person):
    deal(person, "D", 300_00, [(3, "Angebot")], expected_close=date(2026, 12, 15))
    deal(person, "E", 700_00, [])
    deal(person, "G", 1234_56, [(1, "Verhandlung")], expected_close=date(2026, 12, 1))
    deal(person, "H", 99, [(1, "Verhandlung")], expected_close=date(2027, 1, 10))
    deal(person, "W", 5000_00, [(1, "won")], expected_close=date(2026, 12, 1))  # closed
    p = reports.pipeline()
    assert p["stages"] == [
        {"stage": "Lead", "probability": 10, "deals": 1, "value": D("700.00"),
         "weighted": D("70.00")},
        {"stage": "Qualifiziert", "probability": 25, "deals": 0, "value": D("0.00"),
         "weighted": D("0.00")},
        {"stage": "Angebot", "probability": 50, "deals": 1, "value": D("300.00"),
         "weighted": D("150.00")},
        # 1235.55 × 75 % = 926.6625: rounded once, at the end
        {"stage": "Verhandlung", "probability": 75, "deals": 2, "value": D("1235.55"),
         "weighted": D("926.66")},
    ]  # fmt: skip
    assert p["months"] == [
        {"month": "2026-12", "deals": 2, "value": D("1534.56"), "weighted": D("1075.92")},
        {"month": "2027-01", "deals": 1, "value": D("0.99"), "weighted": D("0.74")},
        {"month": None, "deals": 1, "value": D("700.00"), "weighted": D("70.00")},
    ]
    assert p["total"] == {"deals": 4, "value": D("2235.55"), "weighted": D("1146.66")}


def test_sales_by_month_quarter_owner_and_source(history, person):
    # Won at 23:30 UTC on 31 March: 1 April in Berlin, so April and the second quarter.
    created = datetime(2026, 2, 1, 9, tzinfo=UTC)
    won_at = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    deal(person, "W", 3000_00, [((won_at - created).total_seconds() / 86400, "won")],
         created=created, owner="Jonas", source="Messe")  # fmt: skip
    D = Decimal
    by_month = reports.sales(by="month")
    assert by_month == [
        {"group": "2026-01", "won": 1, "lost": 3, "won_value": D("1000.00"),
         "average_deal": D("1000.00"), "win_rate": D("0.2500"), "sales_cycle_days": D(D("20.00"))},
        {"group": "2026-04", "won": 1, "lost": 0, "won_value": D("3000.00"),
         "average_deal": D("3000.00"), "win_rate": D("1.0000"), "sales_cycle_days": D(D("58.60"))},
        {"group": None, "won": 2, "lost": 3, "won_value": D("4000.00"),
         "average_deal": D("2000.00"), "win_rate": D("0.4000"), "sales_cycle_days": D(D("39.30"))},
    ]  # fmt: skip
    assert [(r["group"], r["won"], r["lost"]) for r in reports.sales(by="quarter")] == [
        ("2026-Q1", 1, 3), ("2026-Q2", 1, 0), (None, 2, 3),
    ]  # fmt: skip
    assert [(r["group"], r["won_value"], r["win_rate"]) for r in reports.sales(by="owner")] == [
        ("Jonas", D("3000.00"), D("1.0000")), ("Anna", D("1000.00"), D("0.3333")),
        (None, D("0.00"), D("0.0000")), (None, D("4000.00"), D("0.4000")),
    ]  # fmt: skip
    assert [r["group"] for r in reports.sales(by="source")][:1] == ["Messe"]
    since = datetime(2026, 3, 1, tzinfo=UTC)
    assert [r["group"] for r in reports.sales(by="month", since=since)] == ["2026-04", None]
    with pytest.raises(Invalid, match="must be one of"):
        reports.sales(by="weekday")


def by_definition(by: str) -> dict:
    """sales() figures per group as the definition gives them, deal by deal in Python."""
    from crmcli.values import local_tz

    groups: dict = {}
    for d in deals.list_deals():
        if d["status"] == "open" or d["closed_at"] is None:
            continue
        local = d["closed_at"].astimezone(local_tz())
        key = {
            "month": f"{local.year:04d}-{local.month:02d}",
            "quarter": f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}",
            "owner": d["owner"],
            "source": d["source"],
        }[by]
        acc = groups.setdefault(key, [0, 0, Decimal(0), 0])
        if d["status"] == "won":
            acc[0] += 1
            acc[2] += Decimal(d["amount"])
            acc[3] += int((d["closed_at"] - d["created_at"]).total_seconds())
        else:
            acc[1] += 1
    return {
        k: (won, lost, cents, reports.days(cycle, won))
        for k, (won, lost, cents, cycle) in groups.items()
    }


@pytest.mark.parametrize("sqlite_version", [None, (3, 37, 2)])  # before unixepoch()
def test_sales_cycles_are_exact_to_the_microsecond(person, sqlite_version, monkeypatch):
    import sqlite3

    if sqlite_version:
        monkeypatch.setattr(sqlite3, "sqlite_version_info", sqlite_version)
    # A cycle is whole seconds of created→won, truncated per deal: 431.5 s and 432.5 s count
    # 431 + 432 = 863 s, a mean of 431.5 s = 0.0049942 days → 0.00. Whole seconds of each end
    # (432 + 432) or the sum truncated once (864) would reach 0.005 → 0.01.
    at = datetime(2026, 5, 4, 8, tzinfo=UTC)
    deal(person, "M", 1_00, [(431.5 / 86400, "won")], created=at + timedelta(seconds=0.7))
    deal(person, "N", 1_00, [(432.5 / 86400, "won")], created=at)
    for by in reports.SALES_GROUPS:
        first, total = reports.sales(by=by)
        assert first["won"] == 2 and first["sales_cycle_days"] == Decimal(D("0.00"))
        assert total["sales_cycle_days"] == Decimal(D("0.00"))
    deal(person, "O", 1_00, [(433 / 86400, "won")], created=at)  # 1296 s / 3 = 432 s
    assert reports.sales(by="month")[0]["sales_cycle_days"] == Decimal(D("0.01"))


def test_sales_months_follow_local_time_where_a_clock_change_skips_midnight(person, monkeypatch):
    import time

    # Summer time starts at local midnight on the first Sunday of November: 1 November 2026,
    # so that month begins at 01:00 local time, 03:00 UTC.
    monkeypatch.setenv("TZ", "XST3XDT,M11.1.0/0,M2.3.0/0")
    time.tzset()
    created = datetime(2026, 10, 1, tzinfo=UTC)
    for n, closed in enumerate(
        [datetime(2026, 11, 1, 2, 59, 59, 999_999, tzinfo=UTC),
         datetime(2026, 11, 1, 3, tzinfo=UTC), datetime(2027, 2, 21, 1, 59, tzinfo=UTC),
         datetime(2027, 2, 21, 2, tzinfo=UTC)]
    ):  # fmt: skip
        deal(person, f"K{n}", 10_00, [((closed - created).total_seconds() / 86400, "won")],
             created=created)  # fmt: skip
    by_month = reports.sales(by="month")
    assert [(r["group"], r["won"]) for r in by_month] == [
        ("2026-10", 1), ("2026-11", 1), ("2027-02", 2), (None, 4),
    ]  # fmt: skip
    for by in ("month", "quarter"):
        got = {r["group"]: (r["won"], r["lost"], r["won_value"], r["sales_cycle_days"])
               for r in reports.sales(by=by)[:-1]}  # fmt: skip
        assert got == by_definition(by)


def test_sales_equal_the_definition_on_a_demo_pipeline(db):
    from crmcli import demo
    from tests.conftest import NOW

    demo.fill_demo(contacts=150, deals=400, activities=0, now=NOW)
    for by in reports.SALES_GROUPS:
        rows = reports.sales(by=by)
        got = {r["group"]: (r["won"], r["lost"], r["won_value"], r["sales_cycle_days"])
               for r in rows[:-1]}  # fmt: skip
        assert got == by_definition(by) and len(got) > 3
        total = rows[-1]
        assert total["won"] == sum(r["won"] for r in rows[:-1])
    since, until = NOW - timedelta(days=200), NOW - timedelta(days=30)
    window = reports.sales(by="quarter", since=since, until=until)
    closed = [d for d in deals.list_deals() if d["status"] != "open"]
    inside = [d for d in closed if since <= d["closed_at"] < until]
    assert window[-1]["won"] + window[-1]["lost"] == len(inside)


def funnel_by_definition(since, until, currency="EUR") -> dict:
    """funnel(since, until)'s per-stage figures and lost reasons, deal by deal in Python."""
    from crmcli.models import Deal, DealStageChange
    from crmcli.services import stages

    process = stages.stages()
    info = {s["id"]: s for s in process}
    cohort = {
        i: (cents, stage, reason)
        for i, cents, stage, reason, created, cur in Deal.select(
            Deal.id, Deal.amount_cents, Deal.stage, Deal.lost_reason, Deal.created_at,
            Deal.currency,
        ).tuples()
        if cur == currency and (since is None or created >= since)
        and (until is None or created < until)
    }  # fmt: skip
    entered: dict[int, set] = {}
    stays: dict[int, list[int]] = {}
    for deal_id, to, stay in DealStageChange.select(
        DealStageChange.deal, DealStageChange.to_stage, DealStageChange.stay_seconds
    ).tuples():
        if deal_id in cohort:
            # A won or lost stage counts while the deal is in it: reopened, it was undone.
            if not (info[to]["is_won"] or info[to]["is_lost"]) or to == cohort[deal_id][1]:
                entered.setdefault(deal_id, set()).add(to)
            if stay is not None:
                stays.setdefault(to, []).append(stay)
    out = {}
    for s in process:
        if s["is_lost"]:
            inside = [i for i in cohort if s["id"] in entered.get(i, ())]
        else:
            inside = [
                i for i in cohort
                if any(not info[t]["is_lost"] and info[t]["position"] >= s["position"]
                       for t in entered.get(i, ()))
            ]  # fmt: skip
        won = sum(1 for i in inside if info[cohort[i][1]]["is_won"]) if not s["is_lost"] else 0
        ordered = sorted(stays.get(s["id"], []))
        middle = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
        out[s["name"]] = (
            len(inside), reports.money(sum(cohort[i][0] for i in inside)), won,
            reports.days(sum(middle), len(middle)), len(ordered),
        )  # fmt: skip
    reasons: dict = {}
    for cents, stage, reason in cohort.values():
        if info[stage]["is_lost"]:
            acc = reasons.setdefault(reason, [0, 0])
            acc[0] += 1
            acc[1] += cents
    return {"stages": out, "reasons": sorted((r, n, c) for r, (n, c) in reasons.items())}


def as_figures(f: dict) -> dict:
    return {
        "stages": {
            r["stage"]: (r["reached"], r["value"], r["won"], r["median_days"], r["stays"])
            for r in f["stages"]
        },
        "reasons": sorted(
            (r["reason"], r["deals"], int(Decimal(r["value"]) * 100)) for r in f["lost_reasons"]
        ),
    }


def test_funnel_of_a_period_on_a_known_history(history, person):
    # G and H come later; H was lost twice from different stages, and reopened in between.
    deal(person, "G", 1_00, [(1, "Angebot"), (3, "won")], created=day(40))
    deal(person, "H", 2_00, [(2, "lost", "Kein Budget"), (4, "reopen", "Verhandlung"),
                             (5, "lost", "Preis zu hoch")], created=day(41))  # fmt: skip
    D = Decimal
    later = reports.funnel(since=day(30), until=day(50))
    assert later["deals"] == 2
    got = {r["stage"]: (r["reached"], r["value"], r["won"], r["median_days"], r["stays"])
           for r in later["stages"]}  # fmt: skip
    assert got == {
        "Lead": (2, D("3.00"), 1, D(D("1.50")), 2),  # stays 1 (G) and 2 (H)
        "Qualifiziert": (2, D("3.00"), 1, None, 0),  # both passed it without a stay
        "Angebot": (2, D("3.00"), 1, D(D("2.00")), 1),
        "Verhandlung": (2, D("3.00"), 1, D(D("1.00")), 1),  # G passed it; H stayed after its reopen
        "Gewonnen": (1, D("1.00"), 1, None, 0),
        "Verloren": (1, D("2.00"), 0, D(D("2.00")), 1),  # H entered it twice: one deal
    }
    assert later["lost_reasons"] == [
        {"reason": "Preis zu hoch", "deals": 1, "value": D("2.00"), "share": D("1.0000")}
    ]
    january = reports.funnel(since=T0, until=day(30))
    everything = reports.funnel()
    assert january["deals"] == 6 and everything["deals"] == 8
    assert as_figures(january) == funnel_by_definition(T0, day(30))
    assert as_figures(later) == funnel_by_definition(day(30), day(50))


def test_funnel_of_periods_equals_the_definition_on_a_demo_pipeline(db):
    from crmcli import demo
    from tests.conftest import NOW

    demo.fill_demo(contacts=150, deals=600, activities=0, now=NOW)
    periods = [
        (NOW - timedelta(days=365), None),  # half the deals: a scan on SQLite
        (NOW - timedelta(days=40), NOW - timedelta(days=10)),  # a few: the created_at index
        (None, NOW - timedelta(days=600)),
        (NOW + timedelta(days=1), None),  # none
    ]
    for since, until in periods:
        f = reports.funnel(since, until)
        assert as_figures(f) == funnel_by_definition(since, until), (since, until)
    assert reports.funnel(since=NOW - timedelta(days=365))["deals"] > 100
    assert reports.funnel(since=NOW + timedelta(days=1))["stages"][0]["reached"] == 0


def test_funnel_of_a_period_with_two_lost_stages(person):
    from crmcli.models import Stage

    # The services keep one lost stage; a database edited by hand may have two.
    Stage.insert(name="Storniert", name_fold="storniert", position=7, probability=0,
                 is_won=False, is_lost=True, created_at=T0, updated_at=T0).execute()  # fmt: skip
    deal(person, "A", 10_00, [(1, "Angebot"), (2, "lost", "Preis")])
    b = deal(person, "B", 20_00, [(1, "lost", "Zeit")])
    deals.reopen_deal(b["id"], now=day(2))
    deals.lose_deal(b["id"], "Zeit", now=day(3))
    from crmcli.models import Deal, DealStageChange

    # B's second loss went to Storniert (as if chosen by hand); A stays in Verloren.
    storniert = Stage.get(Stage.name == "Storniert").id
    last = (
        DealStageChange.select(DealStageChange.id).where(DealStageChange.deal == b["id"])
        .order_by(DealStageChange.changed_at.desc()).scalar()
    )  # fmt: skip
    DealStageChange.update(to_stage=storniert).where(DealStageChange.id == last).execute()
    Deal.update(stage=storniert).where(Deal.id == b["id"]).execute()
    f = reports.funnel(since=T0)
    lost = {r["stage"]: (r["reached"], r["value"]) for r in f["stages"] if r["is_lost"]}
    # B was reopened from Verloren: it counts in Storniert, where it is now, alone.
    assert lost == {"Verloren": (1, D("10.00")), "Storniert": (1, D("20.00"))}
    assert as_figures(f) == funnel_by_definition(T0, None)
    assert {r["reason"] for r in f["lost_reasons"]} == {"Preis", "Zeit"}
