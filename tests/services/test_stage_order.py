"""Every open stage comes before every closing (won or lost) stage: the funnel counts a deal
as having reached every stage up to the furthest it was in, so an open stage after Gewonnen
would count an open deal as won."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.services import stages
from tests.conftest import NOW

DEFAULT = ["Lead", "Qualifiziert", "Angebot", "Verhandlung", "Gewonnen", "Verloren"]


def names() -> list[str]:
    return [s["name"] for s in stages.stages()]


@pytest.mark.parametrize("after", ["Gewonnen", "Verloren"])
def test_an_open_stage_cannot_be_added_after_a_closing_one(db, after):
    with pytest.raises(Invalid, match="open stage.*before.*Gewonnen") as caught:
        stages.add_stage("Gewonnen2", after=after, now=NOW)
    assert caught.value.field == "after"
    assert names() == DEFAULT


def test_an_open_stage_can_still_go_after_the_last_open_one(db):
    stages.add_stage("Vertrag", after="Verhandlung", now=NOW)
    assert names() == [*DEFAULT[:4], "Vertrag", *DEFAULT[4:]]


@pytest.mark.parametrize(
    "order",
    [
        ["Lead", "Gewonnen", "Qualifiziert", "Angebot", "Verhandlung", "Verloren"],
        ["Verloren", "Lead", "Qualifiziert", "Angebot", "Verhandlung", "Gewonnen"],
        ["Lead", "Qualifiziert", "Angebot", "Gewonnen", "Verloren", "Verhandlung"],
    ],
)
def test_reorder_refuses_an_open_stage_after_a_closing_one(db, order):
    with pytest.raises(Invalid, match="open stages come before") as caught:
        stages.reorder_stages(order, now=NOW)
    assert caught.value.field == "stages"
    assert names() == DEFAULT


def test_reorder_may_swap_open_stages_and_the_closing_ones(db):
    order = ["Qualifiziert", "Lead", "Angebot", "Verhandlung", "Verloren", "Gewonnen"]
    stages.reorder_stages(order, now=NOW)
    assert names() == order
