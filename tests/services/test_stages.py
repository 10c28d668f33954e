"""The sales process: the default stages, adding, renaming, reordering and removing them."""

from __future__ import annotations

import pytest

from crmcli.errors import Ambiguous, Conflict, Invalid, NotFound
from crmcli.models import DealStageChange
from crmcli.services import contacts, deals, stages
from tests.conftest import NOW


def names() -> list[str]:
    return [s["name"] for s in stages.stages()]


def test_a_new_database_has_the_default_process(db):
    rows = stages.list_stages()
    assert [(s["name"], s["probability"], s["is_won"], s["is_lost"]) for s in rows] == [
        ("Lead", 10, False, False), ("Qualifiziert", 25, False, False),
        ("Angebot", 50, False, False), ("Verhandlung", 75, False, False),
        ("Gewonnen", 100, True, False), ("Verloren", 0, False, True),
    ]  # fmt: skip
    assert [s["position"] for s in rows] == [1, 2, 3, 4, 5, 6]
    assert {s["deals"] for s in rows} == {0}


def test_resolve_by_id_name_and_fragment(db):
    assert stages.resolve_stage("angebot")["name"] == "Angebot"
    assert stages.resolve_stage("VERHANDL")["name"] == "Verhandlung"
    assert stages.resolve_stage("1")["name"] == "Lead"
    with pytest.raises(NotFound, match="no stage 'Abschluss'"):
        stages.resolve_stage("Abschluss")
    with pytest.raises(Ambiguous):
        stages.resolve_stage("e")


def test_add_after_a_stage_and_by_default_before_the_closed_ones(db):
    added = stages.add_stage("Demo", after="qualifiziert", probability=40, now=NOW)
    assert (added["position"], added["probability"]) == (3, 40)
    stages.add_stage("Vertrag", now=NOW)  # probability of the stage before it
    assert names() == [
        "Lead", "Qualifiziert", "Demo", "Angebot", "Verhandlung", "Vertrag", "Gewonnen",
        "Verloren",
    ]  # fmt: skip
    assert stages.resolve_stage("vertrag")["probability"] == 75


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "message"),
    [
        ("lead", {}, Conflict, "exists already"),
        ("  ", {}, Invalid, "needs a name"),
        ("12", {}, Invalid, "read as an id"),
        ("X", {"probability": 101}, Invalid, "0 to 100"),
        ("X", {"probability": -1}, Invalid, "0 to 100"),
        ("X", {"after": "nirgends"}, NotFound, "no stage"),
    ],
)
def test_bad_stages_are_refused_and_nothing_changes(db, name, kwargs, error, message):
    with pytest.raises(error, match=message):
        stages.add_stage(name, now=NOW, **kwargs)
    assert len(names()) == 6


def test_rename_and_change_probability(db):
    stages.edit_stage("angebot", name="Angebot verschickt", probability=60, now=NOW)
    assert stages.resolve_stage("verschickt")["probability"] == 60
    with pytest.raises(Conflict):
        stages.edit_stage("lead", name="verhandlung", now=NOW)


def test_reorder_needs_every_stage_once(db):
    order = ["Qualifiziert", "Lead", "Angebot", "Verhandlung", "Gewonnen", "Verloren"]
    stages.reorder_stages(order, now=NOW)
    assert names() == order
    with pytest.raises(Invalid, match="missing: Verloren"):
        stages.reorder_stages(order[:-1], now=NOW)
    with pytest.raises(Invalid, match="twice"):
        stages.reorder_stages([*order, "lead"], now=NOW)
    assert names() == order


def test_remove_an_unused_stage(db):
    stages.add_stage("Demo", now=NOW)
    stages.remove_stage("demo", now=NOW)
    assert "Demo" not in names()
    assert [s["position"] for s in stages.stages()] == [1, 2, 3, 4, 5, 6]


def test_a_stage_with_deals_is_removed_only_by_merging(db):
    person = contacts.add_contact("Jürgen Müller")
    deal = deals.add_deal("Dach", contact_id=person["id"], stage="qualifiziert", now=NOW)
    with pytest.raises(Conflict, match="holds 1 deal$"):
        stages.remove_stage("qualifiziert", now=NOW)
    other = deals.add_deal("Zaun", contact_id=person["id"], stage="qualifiziert", now=NOW)
    with pytest.raises(Conflict, match="holds 2 deals$"):
        stages.remove_stage("qualifiziert", now=NOW)
    deals.delete_deal(other["id"])
    with pytest.raises(Invalid, match="merge open stages"):
        stages.remove_stage("qualifiziert", move_to="gewonnen", now=NOW)
    removed = stages.remove_stage("qualifiziert", move_to="lead", now=NOW)
    assert (removed["moved_deals"], removed["moved_to"]) == (1, "Lead")
    assert deals.get_deal(deal["id"])["stage"] == "Lead"
    lead = stages.resolve_stage("lead")["id"]
    assert [h.to_stage_id for h in DealStageChange.select()] == [lead]


def test_the_only_won_or_lost_stage_stays(db):
    with pytest.raises(Conflict, match="only won stage"):
        stages.remove_stage("gewonnen", now=NOW)
    with pytest.raises(Conflict, match="only lost stage"):
        stages.remove_stage("verloren", now=NOW)
