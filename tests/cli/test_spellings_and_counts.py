"""Small walkthrough findings (issue 19): counts in the right number, both spellings of
--company/--companies on dedupe and merge, and `crm merge company 1 3` pointing to --company."""

from __future__ import annotations

import pytest


@pytest.fixture
def firms(crm):
    for args in (
        ("add", "company", "Müller Bau GmbH", "--domain", "mueller-bau.de"),
        ("add", "company", "Mueller Bau", "--domain", "mueller-bau.de"),
        ("add", "contact", "Anna Weiß", "--company", "Müller Bau GmbH"),
        ("add", "product", "KAF", "Kaffee", "--price", "10"),
        ("add", "order", "anna", "--item", "KAF:3"),
        ("add", "order", "anna", "--item", "KAF:1", "--item", "KAF:2:9"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def test_an_order_on_the_timeline_counts_its_items_in_the_right_number(firms):
    card = firms("show", "anna").stdout
    assert "Order #1: 1 item," in card
    assert "Order #2: 2 items," in card
    assert "1 items" not in card


@pytest.mark.parametrize("flag", ["--companies", "--company"])
def test_dedupe_takes_both_spellings(firms, flag):
    r = firms("dedupe", flag, "-o", "json")
    assert r.exit_code == 0, r.stderr
    [group] = r.json()
    assert sorted(m["name"] for m in group["members"]) == ["Mueller Bau", "Müller Bau GmbH"]


@pytest.mark.parametrize("flag", ["--company", "--companies"])
def test_merge_takes_both_spellings(firms, flag):
    r = firms("merge", flag, "1", "2", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "Nothing changed (--dry-run)." in r.stderr


def test_merge_with_the_kind_first_says_did_you_mean(firms):
    r = firms("merge", "company", "1", "2")
    assert r.exit_code == 1
    assert r.stderr == (
        "crm: error: no contact matches 'company'; did you mean --company (crm merge --company "
        "KEEP OTHER...)?\n"
    )
    r = firms("merge", "contact", "1", "2")
    assert r.exit_code == 1 and "merge takes no kind first" in r.stderr
    # A contact that is called so is still merged as asked.
    assert firms("add", "contact", "Company Schmidt").exit_code == 0
    r = firms("merge", "company", "anna", "--dry-run", "--force")
    assert r.exit_code == 0, r.stderr


def test_rfm_tags_count_customers_in_the_right_number(crm):
    for args in (
        ("add", "contact", "Anna Weiß"),
        ("add", "product", "KAF", "Kaffee", "--price", "10"),
        ("add", "order", "anna", "--item", "KAF:1", "--at", "1.11.2026", "-s", "paid"),
    ):
        assert crm(*args).exit_code == 0
    r = crm("report", "rfm", "--apply-tags", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "Tagged 1 customer with their rfm: segment" in r.stderr
