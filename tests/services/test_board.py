"""The pipeline board's data: stages with their tallies, a page of each open stage's deals by
close date; and activity over time per kind and month, checked against the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crmcli.services import activities, activity_report, board, contacts, deals, stages


def _deals(person, n: int, stage: str = "Lead") -> list[dict]:
    return [
        deals.add_deal(
            f"Deal {i:02d}",
            contact_id=person["id"],
            amount_cents=(i + 1) * 100_00,
            stage=stage,
            expected_close=date(2027, 1, 1) - timedelta(days=i),
        )  # fmt: skip
        for i in range(n)
    ]


def test_board_pages_each_open_stage_by_close_date(db):
    person = contacts.add_contact("Jürgen Müller")
    made = _deals(person, 7)
    _deals(person, 2, stage="Angebot")
    undated = deals.add_deal("Ohne Datum", contact_id=person["id"], stage="Lead")
    deals.win_deal(made[0]["id"])
    deals.lose_deal(made[1]["id"], "Preis zu hoch")
    columns = board.board({stages.resolve_stage("Lead")["id"]: 3})
    by_name = {c["name"]: c for c in columns}
    lead = by_name["Lead"]
    assert lead["status"] == "open" and lead["deals"] == 6
    assert lead["value"] == Decimal("2500.00")  # deals 2..6: 300 + ... + 700, and 0
    # the first three by close date: the latest made close first
    assert [c["title"] for c in lead["cards"]] == ["Deal 06", "Deal 05", "Deal 04"]
    assert len(by_name["Angebot"]["cards"]) == 2
    everything = board.board()[0]["cards"]
    assert [c["title"] for c in everything][-2:] == ["Deal 02", "Ohne Datum"]  # undated last
    assert everything[-1]["id"] == undated["id"]
    assert by_name["Gewonnen"]["status"] == "won" and by_name["Gewonnen"]["deals"] == 1
    assert by_name["Gewonnen"]["cards"] == []
    assert by_name["Verloren"]["value"] == Decimal("200.00")
    assert [c["name"] for c in columns] == [s["name"] for s in stages.stages()]


def test_neighbour_stage_stops_at_the_ends_of_the_open_stages(db):
    names = [s["name"] for s in stages.stages() if not (s["is_won"] or s["is_lost"])]
    ids = {s["name"]: s["id"] for s in stages.stages()}
    assert board.neighbour_stage(ids[names[0]], 1)["name"] == names[1]
    assert board.neighbour_stage(ids[names[1]], -1)["name"] == names[0]
    assert board.neighbour_stage(ids[names[0]], -1) is None
    assert board.neighbour_stage(ids[names[-1]], 1) is None
    assert board.neighbour_stage(stages.won_stage()["id"], -1) is None


def test_activity_by_month_counts_each_kind_per_local_month(db):
    person = contacts.add_contact("Jürgen Müller")
    at = [
        ("call", datetime(2026, 1, 10, 9, tzinfo=UTC)),
        ("call", datetime(2026, 1, 31, 23, 30, tzinfo=UTC)),  # 1 February in Berlin
        ("email", datetime(2026, 2, 3, 9, tzinfo=UTC)),
        ("call", datetime(2026, 3, 3, 9, tzinfo=UTC)),
        ("meeting", datetime(2026, 4, 1, 9, tzinfo=UTC)),
    ]
    for kind, when in at:
        activities.log_activity(kind, contact_id=person["id"], occurred_at=when, now=when)
    report = activity_report.activity_by_month()
    assert report["months"] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert report["kinds"] == {"call": [1, 1, 1, 0], "email": [0, 1, 0, 0], "meeting": [0, 0, 0, 1]}
    assert report["totals"] == {"call": 3, "email": 1, "meeting": 1}
    # a period: from 1 February (local) until 1 April (local), exclusive
    since = datetime(2026, 1, 31, 23, tzinfo=UTC)
    until = datetime(2026, 3, 31, 22, tzinfo=UTC)
    part = activity_report.activity_by_month(since, until)
    assert part["months"] == ["2026-02", "2026-03"]
    assert part["kinds"] == {"call": [1, 1], "email": [1, 0]}


def test_activity_by_month_on_an_empty_database(db):
    report = activity_report.activity_by_month()
    assert report["months"] == [] and report["kinds"] == {}


def test_activity_by_month_agrees_with_the_rows(db):
    import random

    from crmcli.models import Activity
    from crmcli.values import local_tz

    rng = random.Random(17)
    person = contacts.add_contact("Erika Schäfer")
    start = datetime(2025, 11, 1, tzinfo=UTC)
    for _ in range(200):
        when = start + timedelta(minutes=rng.randrange(60 * 24 * 400))
        kind = rng.choice(["call", "email", "note", "meeting"])
        activities.log_activity(
            kind, contact_id=person["id"], occurred_at=when, now=when, body="gesprochen"
        )
    since = datetime(2026, 1, 1, tzinfo=local_tz())
    report = activity_report.activity_by_month(since)
    expected: dict[tuple[str, str], int] = {}
    for kind, when in Activity.select(Activity.kind, Activity.occurred_at).tuples():
        if when >= since:
            local = when.astimezone(local_tz())
            key = (kind, f"{local.year:04d}-{local.month:02d}")
            expected[key] = expected.get(key, 0) + 1
    got = {
        (kind, month): n
        for kind, counts in report["kinds"].items()
        for month, n in zip(report["months"], counts, strict=True)
        if n
    }
    assert got == expected
    assert report["months"][0] == "2026-01"
