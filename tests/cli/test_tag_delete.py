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


def _with_deals_tasks_and_notes(crm, deals: int, tasks: int, notes: int) -> None:
    for i in range(deals):
        r = crm("add", "deal", f"Dach {i}", "--contact", "müller", "--amount", "1.000")
        assert r.exit_code == 0, r.stderr
    for i in range(tasks):
        assert crm("add", "task", f"Anrufen {i}", "--contact", "müller").exit_code == 0
    for i in range(notes):
        assert crm("log", "note", "müller", "-m", f"Notiz {i}").exit_code == 0


def test_delete_prompt_names_deals_and_what_happens_to_them(crm, mueller):
    _with_deals_tasks_and_notes(crm, deals=2, tasks=1, notes=3)
    r = crm("delete", "müller")
    assert r.exit_code == 1
    assert (
        "delete contact #1 Jürgen Müller with 3 activities and 1 task "
        "(its 2 deals stay, without contact)" in r.stderr
    )
    r = crm("delete", "müller", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "with 3 activities and 1 task (its 2 deals stay, without contact)" in r.stderr
    deals = crm("list", "deals", "-o", "json").json()
    assert [(d["title"], d["contact_id"]) for d in deals] == [("Dach 1", None), ("Dach 0", None)]


def test_delete_prompt_in_the_singular(crm, mueller):
    _with_deals_tasks_and_notes(crm, deals=1, tasks=2, notes=1)
    r = crm("delete", "müller", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "with 1 activity and 2 tasks (its deal stays, without contact)." in r.stderr


def test_delete_company_counts_in_words(crm, mueller):
    r = crm("delete", "company", "müller", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "1 contact kept without company" in r.stderr
    assert "(s)" not in r.stderr


def test_a_word_that_only_looks_like_a_kind_is_a_ref(crm, mueller):
    """Only contact/company (and the kinds without tags) are kind words: `crm tag person vip`
    tags the contact found as "person"."""
    assert crm("add", "contact", "Anna Person").exit_code == 0
    r = crm("tag", "person", "stammkunde")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "person", "-o", "json").json()["tags"] == ["stammkunde"]


def test_a_missing_tag_is_said_in_crms_words(crm, mueller):
    r = crm("tag", "--where", "--city", "köln")
    assert r.exit_code == 2 and "give at least one TAG" in r.stderr
    r = crm("tag", "müller")
    assert r.exit_code == 2 and "give REF and at least one TAG" in r.stderr
