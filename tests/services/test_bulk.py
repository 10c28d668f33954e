"""Bulk changes by filter (services.bulk), called directly on SQLite and PostgreSQL: the set is
the one `list_contacts` lists, every side effect of the one-record path happens, the write is
set-based and all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playhouse.test_utils import count_queries

from crmcli.errors import Ambiguous, Conflict, Invalid
from crmcli.models import Contact
from crmcli.services import activities, bulk, cadence, companies, contacts, deals, search, tags
from crmcli.services import tasks as task_service
from tests.conftest import NOW

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def people(db):
    """Six contacts in Köln and Bonn, leads and customers, at two companies."""
    made = {}
    for name, city, status, company, tag_ in [
        ("Anna Adler", "Köln", "customer", "Adler GmbH", "vip"),
        ("Bernd Bauer", "Köln", "lead", "Adler GmbH", None),
        ("Cora Christ", "köln", "customer", None, "vip"),
        ("Dirk Dorn", "Bonn", "customer", "Dorn AG", None),
        ("Eva Esser", "Bonn", "lead", None, None),
        ("Frank Fuchs", None, "customer", None, "vip"),
    ]:
        made[name.split()[0]] = contacts.add_contact(
            name, city=city, status=status, company=company, tags_=[tag_] if tag_ else [], now=NOW
        )["id"]
    return made


def index_in_step() -> bool:
    """Every record indexed and no entry left for a record that is gone."""
    from crmcli.models import database_proxy

    entries = (
        search.contact_entries() + search.company_entries() + search.activity_entries()
        + search.deal_entries()
    )  # fmt: skip
    stored = database_proxy.obj.execute_sql("SELECT count(*) FROM search_index").fetchone()[0]
    return stored == len(entries) and not any(search.missing_entries().values())


def listed(**filters) -> set[int]:
    return {r["id"] for r in contacts.list_contacts(**filters)}


@pytest.mark.parametrize(
    "filters",
    [
        {"city": "köln"},
        {"city": "Köln", "status": "customer"},
        {"tags_": ["vip"]},
        {"tags_": ["VIP"], "city": "bonn"},
        {"company": "adler"},
        {"tags_": ["nobody has this"]},
    ],
)
def test_selection_is_what_list_contacts_lists(people, filters):
    assert {i for i, _ in bulk.select("contact", filters)} == listed(**filters)


def test_selection_is_sorted_by_name_with_names(people):
    assert bulk.select("contact", {"city": "köln"}) == [
        (people["Anna"], "Anna Adler"), (people["Bernd"], "Bernd Bauer"),
        (people["Cora"], "Cora Christ"),
    ]  # fmt: skip


def test_an_empty_filter_is_refused_unless_every_record_is_meant(people):
    for empty in ({}, {"city": None, "tags_": []}, {"city": ""}):
        with pytest.raises(Invalid, match="no filter"):
            bulk.select("contact", empty)
        with pytest.raises(Invalid, match="no filter"):
            bulk.tag("contact", empty, ["x"])
    assert len(bulk.select("contact", {}, every=True)) == 6
    assert tags.tag_ids(["x"]) == [None]


def test_only_contacts_and_companies(people):
    with pytest.raises(Invalid, match="contacts and companies"):
        bulk.select("deal", {"city": "köln"})


def test_tag_adds_to_every_selected_contact_and_counts_new_links(people):
    result = bulk.tag("contact", {"city": "köln"}, ["vip", "Newsletter"], now=LATER)
    assert result["records"] == 3
    assert result["changed"] == 4  # Anna and Cora had vip already
    assert listed(tags_=["newsletter"]) == {people["Anna"], people["Bernd"], people["Cora"]}
    assert listed(tags_=["vip"]) == {
        people["Anna"],
        people["Bernd"],
        people["Cora"],
        people["Frank"],
    }
    for cid in (people["Anna"], people["Bernd"], people["Cora"]):
        assert contacts.get_contact(cid)["updated_at"] == LATER
    assert contacts.get_contact(people["Dirk"])["updated_at"] == NOW


def test_untag_removes_only_from_the_selection(people):
    result = bulk.tag("contact", {"city": "köln"}, ["vip", "unknown"], remove=True, now=LATER)
    assert (result["records"], result["changed"]) == (3, 2)
    assert listed(tags_=["vip"]) == {people["Frank"]}
    assert tags.tag_ids(["unknown"]) == [None]  # removing never creates a tag


def test_untag_by_the_tag_it_filters_on(people):
    result = bulk.tag("contact", {"tags_": ["vip"]}, ["vip"], remove=True)
    assert (result["records"], result["changed"]) == (3, 3)
    assert listed(tags_=["vip"]) == set()


def _queue(cid: int) -> tuple:
    return (
        Contact.select(Contact.cadence_eff, Contact.touch_due, Contact.touch_remind)
        .where(Contact.id == cid)
        .tuples()
        .get()
    )


def test_a_tag_with_a_cadence_moves_due_times_as_the_one_record_path_does(people):
    tags.edit_tag("vip", {"cadence_days": 14})
    tags.ensure_tags(["monthly"])
    tags.edit_tag("monthly", {"cadence_days": 30})
    twin = contacts.add_contact("Zwilling", city="Bonn", status="lead", now=NOW)["id"]
    contacts.tag_contact(twin, ["monthly"])
    bulk.tag("contact", {"city": "bonn", "status": "lead"}, ["monthly"])
    assert _queue(people["Eva"]) == _queue(twin)
    assert _queue(people["Eva"])[0] == 30
    assert _queue(people["Dirk"])[0] is None  # a customer in Bonn: not selected
    assert cadence.drift() == 0
    bulk.tag("contact", {"city": "bonn"}, ["monthly"], remove=True)
    contacts.tag_contact(twin, ["monthly"], remove=True)
    assert _queue(people["Eva"]) == _queue(twin) == (None, None, None)
    assert cadence.drift() == 0


def test_the_set_must_still_be_the_one_shown(people):
    shown = [i for i, _ in bulk.select("contact", {"city": "köln"})]
    contacts.add_contact("Neu", city="Köln")
    with pytest.raises(Conflict, match="changed"):
        bulk.tag("contact", {"city": "köln"}, ["x"], expect=shown)
    with pytest.raises(Conflict):
        bulk.delete("contact", {"city": "köln"}, expect=shown)
    assert tags.tag_ids(["x"]) == [None]
    assert len(listed(city="köln")) == 4


def test_a_failure_half_way_writes_nothing(people, monkeypatch):
    tags.edit_tag("vip", {"cadence_days": 14})

    def broken(ids=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cadence, "refresh", broken)
    with pytest.raises(RuntimeError):
        bulk.tag("contact", {"city": "bonn"}, ["vip", "neu"])
    assert listed(tags_=["vip"]) == {people["Anna"], people["Cora"], people["Frank"]}
    assert tags.tag_ids(["neu"]) == [None]


def test_tagging_many_is_a_few_statements_per_500(db):
    Contact.insert_many(
        [
            {"name": f"P{i}", "name_key": f"p{i}", "city": "Köln", "city_fold": "koln",
             "status": "lead", "created_at": NOW, "updated_at": NOW}
            for i in range(1200)
        ]
    ).execute()  # fmt: skip
    with count_queries() as counter:
        result = bulk.tag("contact", {"city": "köln"}, ["a", "b"])
    assert result["changed"] == 2400
    assert counter.count < 25  # 3 chunks of 500: no query per contact
    assert len(listed(tags_=["a"], city="koln")) == 1200


def test_tag_companies(people):
    companies.edit_company(companies.resolve_company("dorn"), {"city": "Bonn"})
    result = bulk.tag("company", {"city": "bonn"}, ["b2b"], now=LATER)
    assert (result["records"], result["changed"]) == (1, 1)
    assert [c["name"] for c in companies.list_companies(tags_=["b2b"])] == ["Dorn AG"]
    assert companies.get_company(companies.resolve_company("dorn"))["updated_at"] == LATER


def test_edit_changes_every_selected_contact_with_its_side_effects(people):
    tags.edit_tag("vip", {"cadence_days": 14})
    result = bulk.edit(
        "contact", {"tags_": ["vip"]}, {"status": "inactive", "city": "Düsseldorf", "owner": "Jo"},
        add_tags=["alt"], remove_tags=["vip"], fields=[("quelle", "messe")], now=LATER,
    )  # fmt: skip
    assert (result["records"], result["tagged"], result["untagged"]) == (3, 3, 3)
    ids = {people["Anna"], people["Cora"], people["Frank"]}
    assert listed(status="inactive") == ids == listed(city="dusseldorf") == listed(tags_=["alt"])
    assert listed(fields=[("quelle", "messe")]) == ids
    for cid in ids:
        card = contacts.get_contact(cid)
        assert (card["owner"], card["updated_at"], card["tags"]) == ("Jo", LATER, ["alt"])
        assert _queue(cid) == (None, None, None)
    hits = {h["id"] for h in search.search("dusseldorf", kinds=["contact"])}
    assert hits == ids
    assert cadence.drift() == 0


def test_edit_moves_people_to_a_company_and_reindexes(people):
    result = bulk.edit("contact", {"city": "bonn"}, {"company": "adler"})
    assert result["company_created"] is False  # a REF fragment names Adler GmbH
    assert listed(company="adler gmbh") == {
        people["Anna"],
        people["Bernd"],
        people["Dirk"],
        people["Eva"],
    }
    with pytest.raises(Ambiguous):
        bulk.edit("contact", {"city": "bonn"}, {"company": "d"})
    result = bulk.edit("contact", {"city": "bonn"}, {"company": "Neue Firma GmbH"})
    assert (result["company_created"], result["company"]) == (True, "Neue Firma GmbH")
    assert listed(company="neue firma") == {people["Dirk"], people["Eva"]}
    assert {h["id"] for h in search.search("neue firma", kinds=["contact"])} == {
        people["Dirk"], people["Eva"],
    }  # fmt: skip


def test_edit_refuses_what_is_each_records_own(people):
    with pytest.raises(Invalid, match="own name"):
        bulk.edit("contact", {"city": "bonn"}, {"name": "Gleich"})
    with pytest.raises(Invalid, match="own email"):
        bulk.edit("contact", {"city": "bonn"}, {"email": "a@example.de"})
    with pytest.raises(Invalid, match="status"):
        bulk.edit("contact", {"city": "bonn"}, {"status": "boss"})
    bulk.edit("contact", {"city": "bonn"}, {"email": None})  # clearing is fine
    assert listed(status="customer") == {
        people["Anna"],
        people["Cora"],
        people["Dirk"],
        people["Frank"],
    }


def test_delete_contacts_takes_timeline_and_tasks_and_keeps_deals(people):
    anna = people["Anna"]
    activities.log_activity("note", contact_id=anna, body="Gerüstbau besprochen", now=NOW)
    task_service.add_task("Anrufen", contact_id=anna, now=NOW)
    deal = deals.add_deal("Dach", contact_id=anna, amount_cents=100_00, now=NOW)
    assert bulk.contact_dependents([anna, people["Bernd"]]) == {
        "activities": 1, "tasks": 1, "deals": 1,
    }  # fmt: skip
    result = bulk.delete("contact", {"company": "adler"})
    assert (result["records"], result["activities"], result["deals"]) == (2, 1, 1)
    assert listed(company="adler") == set()
    assert search.search("gerustbau") == [] and search.search("anna") == []
    assert task_service.list_tasks(state="all", now=NOW) == []
    kept = deals.get_deal(deal["id"])
    assert kept["contact_id"] is None and kept["company_id"] is not None
    assert len(listed()) == 4
    assert index_in_step()


@pytest.mark.parametrize("choice", ["keep", "delete"])
def test_delete_companies_keeps_or_deletes_their_people(people, choice):
    adler = companies.resolve_company("adler")
    activities.log_activity("note", company_id=adler, body="Firmennotiz", now=NOW)
    activities.log_activity("note", contact_id=people["Anna"], body="Personennotiz", now=NOW)
    result = bulk.delete("company", {"tags_": []} | {"created_since": NOW}, contacts=choice)
    assert result["records"] == 2 and result["contacts"] == 3
    assert companies.list_companies() == []
    assert search.search("firmennotiz") == []
    assert index_in_step()
    left = listed()
    if choice == "keep":
        assert len(left) == 6
        assert contacts.get_contact(people["Anna"])["company"] is None
        assert len(search.search("personennotiz")) == 1
        assert search.search("adler gmbh", kinds=["contact"]) == []
    else:
        assert left == {people["Cora"], people["Eva"], people["Frank"]}
        assert search.search("personennotiz") == []


def test_edit_checks_custom_fields_as_the_one_record_path_does(people):
    with pytest.raises(Invalid, match="^field: is 10,001 characters long"):
        bulk.edit("contact", {"city": "bonn"}, {}, fields=[("quelle", "x" * 10_001)])
    with pytest.raises(Invalid, match="is not a field name"):
        bulk.edit("contact", {"city": "bonn"}, {}, fields=[("k" * 65, "messe")])
    assert listed(fields=[("quelle", "x" * 10_001)]) == set()
