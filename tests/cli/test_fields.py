"""One machine field set per command: the CSV header is the same with rows and without, and
it names exactly the keys of the JSON objects."""

from __future__ import annotations

import csv
import io

import pytest

from crmcli.commands import cards, deals, remind, report


@pytest.fixture
def filled(crm):
    for args in (
        ("add", "company", "Müller Bau GmbH", "--city", "Köln"),
        ("add", "contact", "Jürgen Müller", "--company", "Müller Bau GmbH", "-t", "vip"),
        ("add", "deal", "Dach", "--contact", "müller", "--amount", "1.234,50"),
        ("add", "task", "Rückruf", "--contact", "müller", "--due", "tomorrow"),
        ("log", "complaint", "müller", "-m", "Dach undicht"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


LISTS = [
    (("list", "contacts"), cards.CONTACT_KEYS),
    (("list", "companies"), cards.COMPANY_KEYS),
    (("list", "tags"), cards.TAG_KEYS),
    (("list", "activities"), cards.ACTIVITY_KEYS),
    (("list", "activities", "--open"), cards.OPEN_ACTIVITY_KEYS),
    (("list", "tasks"), cards.TASK_KEYS),
    (("list", "deals"), cards.DEAL_KEYS),
    (("search", "muller"), cards.SEARCH_KEYS),
    (("stages",), deals.STAGE_KEYS),
    (("report", "sales", "--by", "owner"), report.SALES_KEYS),
]
CARDS = [
    (("show", "1"), cards.CONTACT_CARD_KEYS),
    (("show", "company", "1"), cards.COMPANY_CARD_KEYS),
    (("show", "deal", "1"), cards.DEAL_CARD_KEYS),
    (("show", "task", "1"), cards.TASK_KEYS),
    (("show", "activity", "1"), cards.ACTIVITY_KEYS),
]


def header(crm, *args) -> list[str]:
    r = crm(*args, "-o", "csv")
    assert r.exit_code == 0, r.stderr
    return next(csv.reader(io.StringIO(r.stdout)))


@pytest.mark.parametrize(("args", "keys"), LISTS, ids=lambda v: " ".join(v))
def test_csv_header_is_the_json_keys_with_rows(filled, args, keys):
    rows = filled(*args, "-o", "json").json()
    assert rows, "the fixture should give every list a row"
    assert [list(r) for r in rows] == [list(keys)] * len(rows)
    assert header(filled, *args) == list(keys)


@pytest.mark.parametrize(("args", "keys"), LISTS, ids=lambda v: " ".join(v))
def test_csv_header_is_printed_for_an_empty_result(crm, args, keys):
    if args[0] == "stages":
        pytest.skip("the stages are never empty")
    r = crm(*args, "-o", "csv")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ",".join(keys)
    assert len(lines) == (2 if args[0] == "report" else 1)  # sales always has its total


@pytest.mark.parametrize(("args", "keys"), CARDS, ids=lambda v: " ".join(v))
def test_card_csv_is_one_row_of_its_field_set(filled, args, keys):
    assert list(filled(*args, "-o", "json").json()) == list(keys)
    rows = list(csv.reader(io.StringIO(filled(*args, "-o", "csv").stdout)))
    assert rows[0] == list(keys) and len(rows) == 2


def test_report_csv_headers(crm):
    assert header(crm, "report", "funnel") == list(report.FUNNEL_KEYS)
    assert header(crm, "report", "pipeline") == list(report.PIPELINE_KEYS)
    assert header(crm, "report", "sales") == list(report.SALES_KEYS)


def test_remind_csv_header_covers_every_kind(filled):
    rows = filled("remind", "--within", "2d", "--all", "-o", "json").json()
    assert rows and all(set(r) <= set(remind.ITEM_KEYS) for r in rows)
    assert header(filled, "remind", "--within", "2d", "--all") == list(remind.ITEM_KEYS)


def test_card_csv_cells_hold_json_not_python_reprs(filled):
    r = filled("show", "1", "-o", "csv")
    row = next(csv.DictReader(io.StringIO(r.stdout)))
    assert "{'" not in r.stdout and "None" not in r.stdout
    import json

    timeline = json.loads(row["timeline"])
    assert timeline[0]["kind"] == "complaint" and timeline[0]["body"] == "Dach undicht"
    assert json.loads(row["deals"])[0]["amount"] == "1234.50"
    assert json.loads(row["open_tasks"])[0]["title"] == "Rückruf"
    assert json.loads(row["fields"]) == {}
    assert row["tags"] == "vip"
