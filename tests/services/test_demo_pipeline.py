"""The demo's sales pipeline: deals in every stage, two years of consistent histories, won
and lost with reasons, and reports that show something real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from peewee import fn

from crmcli import demo
from crmcli.models import Deal, DealStageChange, Stage
from crmcli.services import reports, stages
from tests.conftest import NOW


@pytest.fixture
def filled(db):
    return demo.fill_demo(contacts=400, now=NOW)


def test_deals_in_every_stage_with_reasons_for_the_lost(filled):
    assert filled["deals"] == 100 == Deal.select().count()
    held = {s["name"]: s["deals"] for s in stages.list_stages()}
    assert all(held.values()), held
    lost = Deal.select().join(Stage, on=(Deal.stage == Stage.id)).where(Stage.is_lost == True)  # noqa: E712
    assert all(d.lost_reason for d in lost) and all(d.closed_at for d in lost)
    assert len({d.lost_reason for d in lost}) >= 3


def test_histories_are_consistent_and_span_two_years(filled):
    steps: dict[int, list] = {}
    for h in DealStageChange.select().order_by(DealStageChange.changed_at, DealStageChange.id):
        steps.setdefault(h.deal_id, []).append(h)
    for deal in Deal.select():
        path = steps[deal.id]
        assert path[0].from_stage_id is None and path[0].changed_at == deal.created_at
        assert path[-1].to_stage_id == deal.stage_id and path[-1].changed_at == deal.updated_at
        assert all(a.to_stage_id == b.from_stage_id for a, b in zip(path, path[1:], strict=False))
        assert all(h.changed_at <= NOW for h in path)
    oldest = DealStageChange.select(fn.MIN(DealStageChange.changed_at)).scalar()
    assert oldest < NOW - timedelta(days=600)


def test_reports_show_something_real(filled):
    f = reports.funnel()
    assert f["deals"] == 100 and f["lost_reasons"]
    assert all(s["reached"] for s in f["stages"])
    assert reports.pipeline()["total"]["deals"] > 0
    assert reports.sales(by="quarter")[-1]["won"] > 0


def test_force_removes_the_deals_too(filled, db):
    again = demo.fill_demo(contacts=40, force=True, now=NOW)
    assert Deal.select().count() == again["deals"] == 20
