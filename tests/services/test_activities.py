"""The timeline called directly: last interaction, open issues, validation, search entries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import Activity
from crmcli.services import activities, companies, contacts, search
from tests.conftest import NOW

DAY = timedelta(days=1)


@pytest.fixture
def people(db):
    """Jürgen and Anna at Müller Bau, Peter elsewhere: {first name: contact id}."""
    return {
        "jürgen": contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)["id"],
        "anna": contacts.add_contact("Anna Weiß", company="Müller Bau GmbH", now=NOW)["id"],
        "peter": contacts.add_contact("Peter Schmidt", company="Schmidt AG", now=NOW)["id"],
    }


def last_at(contact_id: int):
    return contacts.get_contact(contact_id)["last_activity_at"]


def log(kind: str, contact_id: int | None, at, **values) -> dict:
    return activities.log_activity(kind, contact_id=contact_id, occurred_at=at, now=NOW, **values)


def search_index_size(db) -> int:
    return db.execute_sql("SELECT count(*) FROM search_index").fetchone()[0]


# ---------------------------------------------------------------- last interaction


def test_logging_moves_the_last_interaction_only_forward(people):
    jm = people["jürgen"]
    assert last_at(jm) is None
    log("call", jm, NOW - DAY)
    assert last_at(jm) == NOW - DAY
    log("letter", jm, NOW - 10 * DAY)  # entered late: an older letter
    assert last_at(jm) == NOW - DAY
    log("note", jm, None, body="Notiz")  # no time: now
    assert last_at(jm) == NOW
    assert last_at(people["anna"]) is None


def test_edit_and_delete_recompute_the_last_interaction(people):
    jm = people["jürgen"]
    old = log("call", jm, NOW - 5 * DAY)
    new = log("email", jm, NOW - DAY)
    activities.edit_activity(new["id"], {"occurred_at": NOW - 9 * DAY}, now=NOW)
    assert last_at(jm) == NOW - 5 * DAY
    activities.edit_activity(new["id"], {"subject": "nur Text"}, now=NOW)
    assert last_at(jm) == NOW - 5 * DAY
    activities.delete_activity(old["id"])
    assert last_at(jm) == NOW - 9 * DAY
    activities.delete_activity(new["id"])
    assert last_at(jm) is None


def test_newest_activity_and_open_issues_for_many_contacts(people):
    jm, anna = people["jürgen"], people["anna"]
    log("call", jm, NOW - 3 * DAY, subject="Angebot")
    newest = log("complaint", jm, NOW - DAY, subject="Lieferung")
    log("inquiry", jm, NOW - 2 * DAY)
    log("inquiry", anna, NOW - 2 * DAY)
    resolved = log("return", anna, NOW - 4 * DAY)
    activities.resolve_activity(resolved["id"], now=NOW)
    ids = [jm, anna, people["peter"]]
    assert activities.open_counts(ids) == {jm: 2, anna: 1}
    last = activities.last_activities(ids)
    assert last[jm] == {
        "id": newest["id"], "kind": "complaint", "subject": "Lieferung", "occurred_at": NOW - DAY,
    }  # fmt: skip
    assert sorted(last) == [jm, anna]
    assert activities.open_counts([]) == {} and activities.last_activities([]) == {}


# ---------------------------------------------------------------- open and resolved


@pytest.mark.parametrize("kind", ["inquiry", "complaint", "return"])
def test_tracked_kinds_start_open_and_resolve_once(people, kind):
    issue = log(kind, people["jürgen"], NOW - 3 * DAY, subject="Ärger")
    assert (issue["status"], issue["resolved_at"], issue["resolved_by"]) == ("open", None, None)
    later = NOW + timedelta(hours=2)
    done = activities.resolve_activity(
        issue["id"], note="  Ersatz geliefert ", by="anna", now=later
    )
    assert (done["status"], done["resolved_at"], done["resolved_by"], done["resolution"]) == (
        "resolved", later, "anna", "Ersatz geliefert",
    )  # fmt: skip
    assert done["updated_at"] == later
    assert activities.list_activities(open_only=True) == []
    with pytest.raises(Conflict):
        activities.resolve_activity(issue["id"], note="nochmal", by="jürgen", now=later + DAY)
    assert activities.get_activity(issue["id"]) == done  # the second resolve changed nothing


def test_only_tracked_kinds_are_resolved(people):
    call = log("call", people["jürgen"], NOW)
    assert call["status"] is None
    with pytest.raises(Invalid) as err:
        activities.resolve_activity(call["id"], now=NOW)
    assert err.value.field == "activity"
    assert activities.get_activity(call["id"])["status"] is None
    with pytest.raises(NotFound):
        activities.resolve_activity(999)


def test_reopen_clears_the_resolution(people):
    issue = log("complaint", people["jürgen"], NOW - DAY)
    with pytest.raises(Conflict):
        activities.reopen_activity(issue["id"])
    activities.resolve_activity(issue["id"], note="erledigt", by="anna", now=NOW)
    again = activities.reopen_activity(issue["id"], now=NOW + DAY)
    assert (again["status"], again["resolved_at"], again["resolved_by"], again["resolution"]) == (
        "open", None, None, None,
    )  # fmt: skip
    assert [a["id"] for a in activities.list_activities(open_only=True)] == [issue["id"]]


def test_changing_the_kind_opens_or_keeps_the_status_but_never_drops_it(people):
    issue = log("complaint", people["jürgen"], NOW - DAY)
    with pytest.raises(Invalid, match="can only become an inquiry, complaint or return"):
        activities.edit_activity(issue["id"], {"kind": "call"}, now=NOW)
    assert activities.get_activity(issue["id"])["status"] == "open"
    activities.resolve_activity(issue["id"], note="erledigt", by="anna", now=NOW)
    kept = activities.edit_activity(issue["id"], {"kind": "return"}, now=NOW)
    assert (kept["status"], kept["resolved_by"], kept["resolution"]) == (
        "resolved",
        "anna",
        "erledigt",
    )
    with pytest.raises(Invalid):
        activities.edit_activity(issue["id"], {"kind": "note"}, now=NOW)
    call = log("call", people["jürgen"], NOW - DAY)
    assert activities.edit_activity(call["id"], {"kind": "inquiry"})["status"] == "open"


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("review", {"rating": 0}, "rating"),
        ("review", {"rating": 6}, "rating"),
        ("call", {"rating": 3}, "rating"),
        ("review", {"score": 5}, "score"),
        ("survey", {"score": -1}, "score"),
        ("survey", {"score": 101}, "score"),
        ("call", {"direction": "sideways"}, "direction"),
        ("call", {"duration_min": 0}, "duration"),
        ("telegram", {}, "kind"),
    ],
)
def test_bad_values_are_invalid_and_write_nothing(db, people, kind, values, field):
    before = search_index_size(db)
    with pytest.raises(Invalid) as err:
        log(kind, people["jürgen"], NOW, subject="Nicht gespeichert", **values)
    assert err.value.field == field
    assert Activity.select().count() == 0
    assert last_at(people["jürgen"]) is None
    assert search_index_size(db) == before


def test_ratings_and_scores_at_their_limits(people):
    jm = people["jürgen"]
    assert [log("review", jm, NOW, rating=r)["rating"] for r in (1, 5)] == [1, 5]
    assert [log("survey", jm, NOW, score=s)["score"] for s in (0, 100)] == [0, 100]


def test_an_activity_needs_an_existing_contact_or_company(db, people):
    with pytest.raises(Invalid) as err:
        activities.log_activity("call", now=NOW)
    assert err.value.field == "contact"
    with pytest.raises(NotFound):
        activities.log_activity("call", contact_id=999, subject="verloren", now=NOW)
    with pytest.raises(NotFound):
        activities.log_activity("call", company_id=999, subject="verloren", now=NOW)
    assert Activity.select().count() == 0
    assert search.missing_entries()["activity"] == 0
    assert search.search("verloren") == []


def test_a_bad_edit_changes_nothing(people):
    review = log("review", people["jürgen"], NOW - DAY, rating=4, subject="Gut")
    with pytest.raises(Invalid):  # a call carries no rating: clear it in the same edit
        activities.edit_activity(review["id"], {"kind": "call", "subject": "Anruf"}, now=NOW)
    with pytest.raises(Invalid):
        activities.edit_activity(review["id"], {"direction": "up", "subject": "x"}, now=NOW)
    with pytest.raises(Invalid):
        activities.edit_activity(review["id"], {"contact_id": people["anna"]}, now=NOW)
    assert activities.get_activity(review["id"]) == review
    call = activities.edit_activity(review["id"], {"kind": "call", "rating": None}, now=NOW)
    assert (call["kind"], call["rating"], call["subject"]) == ("call", None, "Gut")


# ---------------------------------------------------------------- lists and timelines


def test_a_company_timeline_has_its_own_and_its_peoples_activities(people):
    firm = contacts.get_contact(people["jürgen"])["company_id"]
    own = activities.log_activity("meeting", company_id=firm, occurred_at=NOW - 2 * DAY, now=NOW)
    jm = log("call", people["jürgen"], NOW - DAY)
    anna = log("email", people["anna"], NOW - 3 * DAY)
    log("call", people["peter"], NOW)
    timeline = activities.list_activities(company_id=firm)
    assert [a["id"] for a in timeline] == [jm["id"], own["id"], anna["id"]]
    assert (own["company"], own["contact"]) == ("Müller Bau GmbH", None)
    assert activities.list_activities(contact_id=people["jürgen"])[0]["company"] is None


def test_list_filters_and_bounds(people):
    jm, anna = people["jürgen"], people["anna"]
    old = log("call", jm, NOW - 40 * DAY, direction="in")
    mail = log("email", jm, NOW - 5 * DAY, direction="OUT")
    complaint = log("complaint", anna, NOW - DAY)
    ids = lambda **kw: [a["id"] for a in activities.list_activities(**kw)]  # noqa: E731
    assert mail["direction"] == "out"
    assert ids() == [complaint["id"], mail["id"], old["id"]]
    assert ids(kinds=["anruf", "mail"]) == [mail["id"], old["id"]]  # German and short names
    assert ids(since=NOW - 5 * DAY) == [complaint["id"], mail["id"]]  # since is inclusive
    assert ids(until=NOW - 5 * DAY) == [old["id"]]  # until is exclusive
    assert ids(direction="in") == [old["id"]]
    assert ids(contact_id=jm, open_only=True) == []
    assert ids(limit=2, offset=1) == [mail["id"], old["id"]]
    with pytest.raises(Invalid):
        activities.list_activities(kinds=["fax"])
    with pytest.raises(Invalid):
        activities.list_activities(direction="both")


def test_open_ones_are_listed_oldest_first(people):
    jm = people["jürgen"]
    newer = log("inquiry", jm, NOW - DAY)
    older = log("return", jm, NOW - 8 * DAY)
    log("note", jm, NOW - 9 * DAY, body="Notiz")
    done = log("complaint", jm, NOW - 10 * DAY)
    activities.resolve_activity(done["id"], now=NOW)
    assert [a["id"] for a in activities.list_activities(open_only=True)] == [
        older["id"], newer["id"],
    ]  # fmt: skip


def test_activity_refs(people):
    a = log("call", people["jürgen"], NOW)
    assert activities.resolve_activity_ref(f"#{a['id']}") == a["id"]
    with pytest.raises(Invalid):
        activities.resolve_activity_ref("müller")
    with pytest.raises(NotFound):
        activities.resolve_activity_ref("999")


# ---------------------------------------------------------------- search entries


def test_search_entries_follow_log_edit_and_delete(db, people):
    a = log("email", people["jürgen"], NOW, subject="Gerüstbau Angebot", body="Bitte prüfen")
    hits = search.search("gerustbau")
    assert [(h["kind"], h["id"], h["name"]) for h in hits] == [
        ("activity", a["id"], "Jürgen Müller")
    ]
    assert search.missing_entries() == {"contact": 0, "company": 0, "activity": 0, "deal": 0}

    activities.edit_activity(a["id"], {"subject": "Dachsanierung"}, now=NOW)
    assert search.search("gerustbau") == []
    assert [h["id"] for h in search.search("dachsanierung", kinds=["activity"])] == [a["id"]]
    assert [h["id"] for h in search.search("prufen", kinds=["activity"])] == [a["id"]]

    # Without any text an activity needs no entry, and leaves none behind.
    size = search_index_size(db)
    activities.edit_activity(a["id"], {"subject": None, "body": " "}, now=NOW)
    assert search_index_size(db) == size - 1
    assert search.missing_entries()["activity"] == 0
    activities.edit_activity(a["id"], {"outcome": "Zusage"}, now=NOW)
    assert [h["id"] for h in search.search("zusage")] == [a["id"]]

    activities.delete_activity(a["id"])
    assert search.search("zusage") == []
    assert search_index_size(db) == size - 1


def test_an_activity_without_text_has_no_entry(db, people):
    size = search_index_size(db)
    log("call", people["jürgen"], NOW)
    assert search_index_size(db) == size
    assert search.missing_entries()["activity"] == 0


def test_deleting_a_contact_removes_its_activities_entries(db, people):
    for i in range(3):
        log("note", people["jürgen"], NOW - i * DAY, subject=f"Baustelle {i}")
    log("note", people["anna"], NOW, subject="Baustelle Anna")
    size = search_index_size(db)
    contacts.delete_contact(people["jürgen"])
    assert search_index_size(db) == size - 4  # the contact's own entry and its three notes
    assert [h["name"] for h in search.search("baustelle")] == ["Anna Weiß"]
    assert search.missing_entries() == {"contact": 0, "company": 0, "activity": 0, "deal": 0}


def test_deleting_a_company_removes_its_activities_entries(db, people):
    firm = contacts.get_contact(people["jürgen"])["company_id"]
    activities.log_activity("meeting", company_id=firm, subject="Jahresgespräch", now=NOW)
    log("note", people["jürgen"], NOW, subject="Jahresgespräch vorbereiten")
    size = search_index_size(db)
    companies.delete_company(firm, contacts="keep")
    assert search_index_size(db) == size - 2  # the company and its meeting
    assert [h["kind"] for h in search.search("jahresgesprach")] == ["activity"]
    assert search.missing_entries() == {"contact": 0, "company": 0, "activity": 0, "deal": 0}


def test_deleting_a_company_keeps_the_timeline_of_people_who_stay(db):
    from crmcli.services import companies, contacts

    person = contacts.add_contact("Eva Kern", company="Kern GmbH", now=NOW)
    firm = person["company_id"]
    shared = activities.log_activity(
        "meeting", contact_id=person["id"], company_id=firm, subject="Jahresgespräch", now=NOW
    )
    alone = activities.log_activity("note", company_id=firm, subject="Firmennotiz", now=NOW)
    companies.delete_company(firm, contacts="keep")
    kept = activities.get_activity(shared["id"])
    assert (kept["contact_id"], kept["company_id"]) == (person["id"], None)
    assert contacts.get_contact(person["id"])["last_activity_at"] == NOW
    with pytest.raises(NotFound):
        activities.get_activity(alone["id"])
    assert [h["id"] for h in search.search("jahresgesprach")] == [shared["id"]]
    assert search.search("firmennotiz") == []


def test_last_interaction_is_stored_in_utc_like_every_other_time(db):
    from crmcli.models import Contact

    person = contacts.add_contact("Zeitzone", now=NOW)
    activities.log_activity("call", contact_id=person["id"], occurred_at=NOW, now=NOW)
    stored = Contact.select(Contact.last_activity_at).where(Contact.id == person["id"]).tuples()
    raw = db.execute_sql(*stored.sql()).fetchone()[0]
    assert str(raw).startswith("2026-11-23 09:00:00")  # naive UTC, as UTCDateTimeField writes


def test_the_timeline_refuses_the_future(db):
    from crmcli.errors import Invalid
    from crmcli.models import Activity

    cid = contacts.add_contact("Zukunft", cadence_days=30)["id"]
    with pytest.raises(Invalid, match="in the future"):
        activities.log_activity(
            "call", contact_id=cid, occurred_at=NOW + timedelta(days=1), now=NOW
        )
    assert Activity.select().count() == 0
    assert contacts.get_contact(cid)["last_activity_at"] is None  # the cadence clock unmoved
    # A clock a minute ahead is not the future.
    call = activities.log_activity(
        "call", contact_id=cid, occurred_at=NOW + timedelta(minutes=1), now=NOW
    )
    with pytest.raises(Invalid, match="in the future"):
        activities.edit_activity(call["id"], {"occurred_at": NOW + timedelta(days=2)}, now=NOW)


def test_a_deal_of_another_customer_is_not_linked(db):
    from crmcli.services import companies, contacts, deals

    bau = companies.add_company("Müller Bau GmbH", now=NOW)["id"]
    jm = contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)["id"]
    eva = contacts.add_contact("Eva Müller", company="Müller Bau GmbH", now=NOW)["id"]
    ida = contacts.add_contact("Ida Brandt", company="Brandt KG", now=NOW)["id"]
    brandt = companies.resolve_company("Brandt KG")
    dach = deals.add_deal("Dach", contact_id=jm, now=NOW)["id"]  # with Müller Bau too
    with pytest.raises(Invalid, match="another customer's, not Ida Brandt's"):
        activities.log_activity("call", contact_id=ida, deal_id=dach, now=NOW)
    with pytest.raises(Invalid, match="not Brandt KG's"):
        activities.log_activity("call", company_id=brandt, deal_id=dach, now=NOW)
    assert activities.list_activities() == []
    # the deal's contact, a colleague at its company, and the company itself are its party
    for who in ({"contact_id": jm}, {"contact_id": eva}, {"company_id": bau}):
        assert activities.log_activity("call", deal_id=dach, now=NOW, **who)["deal_id"] == dach
    alone = deals.add_deal("Keller", company_id=brandt, now=NOW)["id"]
    assert activities.log_activity("call", contact_id=ida, deal_id=alone, now=NOW)


def test_a_note_without_text_is_refused_by_the_service(db):
    """The rule lives in the service, so every front end keeps it (a call may be textless)."""
    from crmcli.errors import Invalid

    person = contacts.add_contact("Nora Notiz")
    with pytest.raises(Invalid) as refused:
        activities.log_activity("note", contact_id=person["id"], body="  ")
    assert refused.value.field == "body" and refused.value.action == "give_text"
    assert activities.log_activity("call", contact_id=person["id"])["kind"] == "call"


def test_activities_stream_in_order_and_check_the_period_first(db):
    """iter_activities (what -o json/csv stream) refuses a bad period when called, before
    any row, and gives what list_activities gives."""
    person = contacts.add_contact("Sven Strom")
    for i in range(3):
        log("call", person["id"], NOW - (i + 1) * DAY, body=f"Anruf {i}")
    with pytest.raises(Invalid):
        activities.iter_activities(since=NOW, until=NOW - DAY)
    streamed = activities.iter_activities(contact_id=person["id"])
    assert not isinstance(streamed, list)
    assert list(streamed) == activities.list_activities(contact_id=person["id"])
