"""Contact, company and tag services called directly, as the TUI and scripts will."""

from __future__ import annotations

import pytest
from playhouse.test_utils import count_queries

from crmcli.errors import Ambiguous, Conflict, Invalid, NotFound
from crmcli.services import companies, contacts, search, tags
from tests.conftest import NOW


def test_add_and_get_contact_roundtrip(db):
    card = contacts.add_contact(
        "Jürgen Müller", email="jm@example.de", phone="0171 2345678", company="Müller Bau GmbH",
        tags_=["vip"], fields=[("kundennr", "4711")], city="Köln", now=NOW,
    )  # fmt: skip
    again = contacts.get_contact(card["id"])
    assert card.pop("company_created") is True  # what adding it did, not a field
    assert again == card
    assert card["phone_e164"] == "+491712345678"
    assert card["created_at"] == NOW


def test_company_link_never_duplicates(db):
    a = contacts.add_contact("A", company="Café Größe GmbH")
    b = contacts.add_contact("B", company="CAFE GROSSE gmbh")
    assert a["company_id"] == b["company_id"]
    assert companies.count_companies() == 1


def test_failed_add_writes_nothing(db):
    with pytest.raises(Invalid):
        contacts.add_contact("X", company="Neu GmbH", tags_=["ok"], phone="not a phone")
    assert contacts.count_contacts() == 0
    assert companies.count_companies() == 0
    assert tags.list_tags() == []


def test_email_uniqueness_ignores_case(db):
    contacts.add_contact("A", email="a@example.de")
    with pytest.raises(Conflict):
        contacts.add_contact("B", email="A@EXAMPLE.DE")
    other = contacts.add_contact("B", email="b@example.de")
    with pytest.raises(Conflict):
        contacts.edit_contact(other["id"], {"email": "a@example.de"})


def test_resolve_contact_rules(db):
    m = contacts.add_contact("Jürgen Müller", email="jm@example.de")
    s = contacts.add_contact("Jürgen Schmidt")
    assert contacts.resolve_contact(str(m["id"])) == m["id"]
    assert contacts.resolve_contact("JM@example.de") == m["id"]
    assert contacts.resolve_contact("schmidt") == s["id"]
    assert contacts.resolve_contact("Muel") == m["id"]
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("jurgen")
    assert [c.id for c in err.value.candidates] == [m["id"], s["id"]]
    assert err.value.total == 2
    with pytest.raises(NotFound):
        contacts.resolve_contact("999")
    with pytest.raises(NotFound):
        contacts.resolve_contact("x@example.de")
    with pytest.raises(Invalid):
        contacts.resolve_contact("  ")


def test_ambiguous_lists_at_most_ten_candidates(db):
    for i in range(15):
        contacts.add_contact(f"Meier {i:02d}")
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("meier")
    # the first ten by name; how many more is not counted (at a million contacts thousands)
    assert [c.name for c in err.value.candidates] == [f"Meier {i:02d}" for i in range(10)]
    assert err.value.total is None
    assert str(err.value) == "contact 'meier' is ambiguous: more than 10 match"
    for i in range(10, 15):
        contacts.delete_contact(contacts.resolve_contact(f"Meier {i}"))
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("meier")
    assert len(err.value.candidates) == 10 and err.value.total == 10


def test_namesakes_are_the_candidates_of_a_whole_name(db):
    """A REF that is a whole name several records have lists those, not every name that
    contains it; one record of that name (in any umlaut spelling) is named by it."""
    first = contacts.add_contact("Anna Müller", now=NOW)["id"]
    contacts.add_contact("Hanna Müller", now=NOW)
    contacts.add_contact("Anna Müller-Lüdenscheidt", now=NOW)
    for typed in ("anna müller", "Anna Mueller", "ANNA MULLER"):
        assert contacts.resolve_contact(typed) == first
    second = contacts.add_contact("Anna Mueller", now=NOW)["id"]
    third = contacts.add_contact("Anna Muller", now=NOW)["id"]
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("Anna Müller")  # all three spellings are that name
    assert sorted(c.id for c in err.value.candidates) == sorted([first, second, third])
    assert err.value.total == 3
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("anna mueller")  # Müller and Mueller, not Muller
    assert sorted(c.id for c in err.value.candidates) == sorted([first, second])
    # a fragment lists everyone whose name contains it
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("nna mü")
    assert err.value.total == 5  # the five above, Muller and Mueller included


@pytest.mark.parametrize(
    "name", ["Jürgen Müller", "Jurgen Mueller", "Bauer", "Ötzi Überall-Äpfel", "Weiß Straße"]
)
def test_exact_keys_cover_every_spelling_of_a_name(name):
    """exact_keys holds the name_key of every name that is the same (refs.same_name) as the REF,
    for a REF in any of its spellings."""
    from crmcli.services import refs
    from crmcli.values import fold_variants

    plain, german = refs.name_forms(name)
    for typed in {name, plain, german}:
        keys = refs.exact_keys(typed)
        assert keys is not None and fold_variants(name) in keys
        for key in keys:  # every key is of a name the same as the REF
            shown = key.split(" | ")[-1]
            assert refs.same_name(shown, typed) or refs.same_name(key.split(" | ")[0], typed)


def test_percent_and_underscore_in_a_ref_are_literal(db):
    contacts.add_contact("100% Sicher")
    contacts.add_contact("Anna_Bell")
    contacts.add_contact("Annabelle")
    assert contacts.get_contact(contacts.resolve_contact("100%"))["name"] == "100% Sicher"
    assert contacts.get_contact(contacts.resolve_contact("a_b"))["name"] == "Anna_Bell"


def test_list_is_three_queries_whatever_the_page_size(db):
    for i in range(30):
        contacts.add_contact(
            f"Person {i}", company=f"Firma {i % 3}", tags_=["a", "b"], fields=[("k", str(i))]
        )
    with count_queries() as counter:
        rows = contacts.list_contacts(limit=25)
    assert len(rows) == 25 and rows[0]["tags"] == ["a", "b"]
    assert counter.count == 3
    with count_queries() as counter:
        companies.list_companies()
    assert counter.count == 2


def test_delete_contact_removes_tags_fields_and_index(db):
    card = contacts.add_contact("Weg", tags_=["x"], fields=[("a", "1")])
    contacts.delete_contact(card["id"])
    assert search.search("weg") == []
    assert db.execute_sql("SELECT count(*) FROM contact_tag").fetchone()[0] == 0
    assert db.execute_sql("SELECT count(*) FROM contact_field").fetchone()[0] == 0


def test_tags_are_case_insensitive_and_keep_first_spelling(db):
    a = contacts.add_contact("A", tags_=["VIP", "vip", "Vip"])
    assert a["tags"] == ["VIP"]
    contacts.add_contact("B", tags_=["vip"])
    assert [(t["name"], t["contacts"]) for t in tags.list_tags()] == [("VIP", 2)]


def test_company_delete_modes(db):
    c1 = contacts.add_contact("A", company="X GmbH")
    result = companies.delete_company(c1["company_id"], contacts="keep")
    assert result["contacts_unlinked"] == 1
    assert contacts.get_contact(c1["id"])["company"] is None
    c2 = contacts.add_contact("B", company="Y GmbH")
    companies.delete_company(c2["company_id"], contacts="delete")
    with pytest.raises(NotFound):
        contacts.get_contact(c2["id"])
    with pytest.raises(Invalid):
        companies.delete_company(1, contacts="maybe")


def test_search_ranks_name_hits_and_pages(db):
    contacts.add_contact("Petra Schmidt")
    contacts.add_contact("Klaus Berg", notes="kennt Schmidt vom Golf")
    found = search.search("schmidt")
    assert [h["name"] for h in found][0] == "Petra Schmidt"
    assert len(found) == 2
    assert search.search("schmidt", limit=1, offset=1)[0]["name"] == "Klaus Berg"
    assert search.search("") == [] and search.search("!!!") == []


def test_company_named_like_a_ref_links_instead_of_duplicating(db):
    gmbh = companies.add_company("Müller Bau GmbH", now=NOW)
    card = contacts.add_contact("Jürgen Müller", company="Müller Bau", now=NOW)
    assert card["company_id"] == gmbh["id"]
    card = contacts.add_contact("Eva Müller", company="mueller bau", now=NOW)
    assert card["company_id"] == gmbh["id"]
    card = contacts.add_contact("Ida Brandt", company=f"#{gmbh['id']}", now=NOW)
    assert card["company_id"] == gmbh["id"]
    assert companies.count_companies() == 1


def test_company_ambiguous_changes_nothing_and_new_name_creates(db):
    companies.add_company("Müller Bau GmbH", now=NOW)
    companies.add_company("Müller Bau AG", now=NOW)
    with pytest.raises(Ambiguous) as err:
        contacts.add_contact("Jürgen Müller", company="müller bau", now=NOW)
    assert {c.name for c in err.value.candidates} == {"Müller Bau GmbH", "Müller Bau AG"}
    assert contacts.count_contacts() == 0
    contact = contacts.add_contact("Jürgen Müller", now=NOW)
    with pytest.raises(Ambiguous):
        contacts.edit_contact(contact["id"], {"company": "Müller Bau"}, now=NOW)
    assert contacts.get_contact(contact["id"])["company_id"] is None
    assert companies.find_company("Schmidt Dach KG") is None  # would be created
    card = contacts.edit_contact(contact["id"], {"company": "Schmidt Dach KG"}, now=NOW)
    assert card["company"] == "Schmidt Dach KG"
    assert companies.find_company("schmidt dach") == card["company_id"]
    assert companies.count_companies() == 3


def test_company_id_that_does_not_exist_is_not_created(db):
    with pytest.raises(NotFound):
        contacts.add_contact("Jürgen Müller", company="#42", now=NOW)
    with pytest.raises(NotFound):
        contacts.add_contact("Jürgen Müller", company="42", now=NOW)
    assert companies.count_companies() == 0 and contacts.count_contacts() == 0


def test_exact_company_name_wins_over_a_longer_one(db):
    bau = companies.add_company("Bau", now=NOW)
    companies.add_company("Müller Bau GmbH", now=NOW)
    assert contacts.add_contact("A", company="BAU", now=NOW)["company_id"] == bau["id"]


@pytest.mark.parametrize("ref", ["99999999999999999999999", "#99999999999999999999", "²"])
def test_huge_or_odd_ids_are_simply_not_found(db, ref):
    from crmcli.services import activities, deals, stages

    for resolve in (
        contacts.resolve_contact, companies.resolve_company, deals.resolve_deal,
        stages.resolve_stage, tags.resolve_tag,
    ):  # fmt: skip
        with pytest.raises(NotFound):
            resolve(ref)
    with pytest.raises((NotFound, Invalid)):
        activities.resolve_activity_ref(ref)


@pytest.mark.parametrize("typed", ["koeln", "Köln", "KÖLN", "koln", "KOELN"])
def test_city_filter_folds_like_search(db, typed):
    a = contacts.add_contact("A", city="Köln", now=NOW)
    b = contacts.add_contact("B", city="Koeln", now=NOW)
    contacts.add_contact("C", city="Bonn", now=NOW)
    # koln drops Köln's umlaut; it is not Koeln (as Baur is not Bauer): see test_text_filters.
    want = [a["id"]] if typed == "koln" else [a["id"], b["id"]]
    assert [r["id"] for r in contacts.list_contacts(city=typed)] == want
    assert contacts.count_contacts(city=typed) == len(want)
    companies.add_company("Dom GmbH", city="Köln", now=NOW)
    assert [r["name"] for r in companies.list_companies(city=typed)] == ["Dom GmbH"]


def test_city_filter_falls_back_to_the_company_city(db):
    companies.add_company("Müller Bau GmbH", city="Köln", now=NOW)
    at_company = contacts.add_contact("Jürgen Müller", company="müller bau gmbh", now=NOW)
    contacts.add_contact("Eva Berg", company="müller bau gmbh", city="Bonn", now=NOW)
    assert [r["id"] for r in contacts.list_contacts(city="köln")] == [at_company["id"]]
    assert [r["name"] for r in contacts.list_contacts(city="bonn")] == ["Eva Berg"]


def test_source_industry_and_field_filters_fold_like_search(db):
    a = contacts.add_contact(
        "A", source="Empfehlung Müller", fields=[("region", "Süd-West")], now=NOW
    )
    contacts.add_contact("B", source="Messe", fields=[("region", "Nord")], now=NOW)
    assert [r["id"] for r in contacts.list_contacts(source="empfehlung mueller")] == [a["id"]]
    assert [r["id"] for r in contacts.list_contacts(fields=[("region", "SUED-west")])] == [a["id"]]
    assert contacts.list_contacts(source="nowhere") == []
    companies.add_company("Weiß AG", industry="Großhandel", now=NOW)
    assert [r["name"] for r in companies.list_companies(industry="grosshandel")] == ["Weiß AG"]


def test_custom_field_keys_are_checked_by_the_service(db):
    from crmcli.models import Contact

    for key in ("k" * 65, "1st", "a b", ""):
        with pytest.raises(Invalid, match="is not a field name"):
            contacts.add_contact("Eva", fields=[(key, "v")], now=NOW)
    assert Contact.select().count() == 0


def test_contacts_are_read_in_batches_with_their_tags_and_fields(db, monkeypatch):
    """iter_contacts (what -o json/csv stream) gives every contact its own tags and fields
    across batch boundaries, in order."""
    monkeypatch.setattr(contacts, "BATCH", 2)
    for i in range(5):
        contacts.add_contact(f"Person {i}", tags_=[f"t{i}"], fields=[("nr", str(i))])
    rows = list(contacts.iter_contacts(sort="name"))
    assert [r["name"] for r in rows] == [f"Person {i}" for i in range(5)]
    assert [(r["tags"], r["fields"]) for r in rows] == [
        ([f"t{i}"], {"nr": str(i)}) for i in range(5)
    ]
    assert contacts.list_contacts(sort="name", limit=3, offset=1) == rows[1:4]


def test_editing_a_contact_deleted_meanwhile_is_not_found_whatever_changes(db):
    """crm tui's edit form saved after another process deleted the contact: one clear
    error, not a foreign key refused when the new phone or email is written."""
    from crmcli.errors import NotFound

    gone = contacts.add_contact("Gone Away", now=NOW)
    contacts.delete_contact(gone["id"])
    for changes in ({"city": "Köln"}, {"phone": "0171 2345678"}, {"email": "a@b.de"}):
        with pytest.raises(NotFound, match=f"no contact with id {gone['id']}"):
            contacts.edit_contact(gone["id"], changes, now=NOW)
