"""`crm tag/untag` take the kind first; `crm delete` says what goes with a record, in proper
English (one task, two tasks)."""

from __future__ import annotations

import pytest


@pytest.fixture
def mueller(crm):
    r = crm("add", "contact", "Jürgen Müller", "-c", "Müller Bau GmbH", "-t", "vip", "-o", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


@pytest.mark.parametrize(
    ("kind", "says"),
    [("deal", "deals"), ("Deals", "deals"), ("task", "tasks"), ("activity", "activities")],
)
def test_tag_of_an_untaggable_kind_says_so(crm, mueller, kind, says):
    r = crm("tag", kind, "19", "x")
    assert r.exit_code == 1
    assert f"crm: error: {says} have no tags" in r.stderr
    assert "no contact matches" not in r.stderr
    assert crm("untag", kind, "19", "x").exit_code == 1


def test_tag_and_untag_take_the_kind_first(crm, mueller):
    r = crm("tag", "company", "müller", "b2b")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "company", "1", "-o", "json").json()["tags"] == ["b2b"]
    r = crm("tag", "Contact", "müller", "b2b")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "1", "-o", "json").json()["tags"] == ["b2b", "vip"]
    r = crm("untag", "companies", "müller", "b2b")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "company", "1", "-o", "json").json()["tags"] == []


def test_a_kind_without_tags_is_a_usage_error(crm, mueller):
    r = crm("tag", "company", "müller")
    assert r.exit_code == 2
    assert "TAG" in r.stderr
