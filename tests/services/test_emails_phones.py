"""A contact's several emails and phones (issue 16): one primary each, copied onto the contact
for lists; REF and search by any of them; bulk edits, the health check and old databases."""

from __future__ import annotations

import sqlite3

import pytest
from playhouse.test_utils import count_queries

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import Contact, ContactEmail, ContactPhone, MergeAlias
from crmcli.services import addresses, bulk, companies, contacts, maintenance, search
from crmcli.values import sound_key
from tests.conftest import NOW


def _anna(**more):
    return contacts.add_contact(
        "Anna Weiß",
        emails=[{"email": "anna@firma.de", "kind": "work"}, {"email": "anna@example.com",
                                                              "kind": "home"}],
        phones=["030 1234567", {"phone": "0171 7654321", "kind": "mobile"}],
        now=NOW, **more,
    )  # fmt: skip


def _copies(contact_id):
    return (
        Contact.select(Contact.email, Contact.email_key, Contact.phone, Contact.phone_e164)
        .where(Contact.id == contact_id)
        .tuples()
        .get()
    )


def test_add_with_several_emails_and_phones_first_is_primary(db):
    card = _anna()
    assert card["email"] == "anna@firma.de" and card["phone"] == "030 1234567"
    assert card["emails"] == [
        {"email": "anna@firma.de", "kind": "work", "primary": True},
        {"email": "anna@example.com", "kind": "home", "primary": False},
    ]
    assert card["phones"] == [
        {"phone": "030 1234567", "e164": "+49301234567", "kind": "other", "primary": True},
        {"phone": "0171 7654321", "e164": "+491717654321", "kind": "mobile", "primary": False},
    ]
    assert _copies(card["id"]) == ("anna@firma.de", "anna@firma.de", "030 1234567", "+49301234567")


def test_old_single_value_arguments_still_mean_the_primary(db):
    card = contacts.add_contact("Bob", email="Bob@Example.de", phone="040 123456",
                                emails=["b2@example.de"])  # fmt: skip
    assert card["email"] == "Bob@example.de"
    assert [e["email"] for e in card["emails"]] == ["Bob@example.de", "b2@example.de"]
    assert card["phones"][0]["primary"] and card["phones"][0]["e164"] == "+4940123456"


def test_a_marked_primary_wins_and_duplicates_are_kept_once(db):
    card = contacts.add_contact(
        "C", emails=["c@x.de", {"email": "C@X.DE"}, {"email": "p@x.de", "primary": True}],
        phones=["030 1234567", "+49 30 1234567"],
    )  # fmt: skip
    assert [(e["email"], e["primary"]) for e in card["emails"]] == [
        ("p@x.de", True),
        ("c@x.de", False),
    ]
    assert len(card["phones"]) == 1
    assert card["email"] == "p@x.de"


def test_an_email_of_another_contact_is_a_conflict_naming_it(db):
    anna = _anna()
    with pytest.raises(Conflict, match=rf"#{anna['id']} Anna Weiß"):
        contacts.add_contact("Bert", emails=["x@y.de", "ANNA@example.com"])
    assert contacts.count_contacts() == 1
    bert = contacts.add_contact("Bert")
    with pytest.raises(Conflict, match="Anna"):
        contacts.edit_contact(bert["id"], {}, add_emails=["anna@example.com"])
    with pytest.raises(Conflict, match="Anna"):
        contacts.edit_contact(bert["id"], {"email": "anna@firma.de"})
    assert contacts.get_contact(bert["id"])["emails"] == []


def test_bad_values_and_kinds_are_refused_and_nothing_is_written(db):
    with pytest.raises(Invalid):
        contacts.add_contact("D", emails=["ok@x.de", "not-an-email"])
    with pytest.raises(Invalid):
        contacts.add_contact("D", phones=[{"phone": "030 1234567", "kind": "fax machine"}])
    assert contacts.count_contacts() == 0
    assert ContactEmail.select().count() == 0


def test_edit_adds_removes_and_sets_primary(db):
    cid = _anna()["id"]
    card = contacts.edit_contact(
        cid, {}, add_emails=[{"email": "a3@x.de", "kind": "other"}], primary_email="a3@x.de",
        remove_phones=["+49 30 1234567"], add_phones=["089 123456"],
    )  # fmt: skip
    assert card["email"] == "a3@x.de"
    assert [e["email"] for e in card["emails"]] == ["a3@x.de", "anna@firma.de", "anna@example.com"]
    # the primary phone went: the next in order became primary
    assert card["phone"] == "0171 7654321"
    assert [(p["phone"], p["primary"]) for p in card["phones"]] == [
        ("0171 7654321", True),
        ("089 123456", False),
    ]
    assert _copies(cid)[2:] == ("0171 7654321", "+491717654321")


def test_adding_an_email_the_contact_has_adds_nothing_but_may_retype_it(db):
    cid = _anna()["id"]
    card = contacts.edit_contact(cid, {}, add_emails=[{"email": "ANNA@example.com",
                                                       "kind": "work"}])  # fmt: skip
    assert len(card["emails"]) == 2
    assert card["emails"][1] == {"email": "anna@example.com", "kind": "work", "primary": False}


def test_removing_the_primary_promotes_the_next(db):
    cid = _anna()["id"]
    card = contacts.edit_contact(cid, {}, remove_emails=["anna@firma.de"])
    assert card["email"] == "anna@example.com"
    assert card["emails"] == [{"email": "anna@example.com", "kind": "home", "primary": True}]
    card = contacts.edit_contact(cid, {}, remove_emails=["anna@example.com"])
    assert card["email"] is None and card["emails"] == []
    assert _copies(cid)[:2] == (None, None)


def test_email_change_replaces_the_primary_taking_the_kind_given(db):
    cid = _anna()["id"]
    card = contacts.edit_contact(cid, {"email": "neu@firma.de"})
    # Another address is no copy of the old one: the kind a new one gets, not the old one's.
    assert card["emails"][0] == {"email": "neu@firma.de", "kind": "other", "primary": True}
    card = contacts.edit_contact(cid, {"email": {"email": "neu@firma.de", "kind": "work"}})
    assert card["emails"][0] == {"email": "neu@firma.de", "kind": "work", "primary": True}
    card = contacts.edit_contact(cid, {"email": "neu@firma.de"})  # the same again: kept
    assert card["emails"][0]["kind"] == "work"
    assert [e["email"] for e in card["emails"]] == ["neu@firma.de", "anna@example.com"]
    # a secondary given as the new primary moves up (with its own kind), not added twice
    card = contacts.edit_contact(cid, {"email": "anna@example.com"})
    assert card["emails"] == [{"email": "anna@example.com", "kind": "home", "primary": True}]
    card = contacts.edit_contact(cid, {"email": ""})
    assert card["emails"] == [] and card["email"] is None
    card = contacts.edit_contact(cid, {"phone": None})
    assert [p["phone"] for p in card["phones"]] == ["0171 7654321"]


def test_removing_or_choosing_an_address_the_contact_lacks_is_refused_unchanged(db):
    cid = _anna()["id"]
    before = contacts.get_contact(cid)
    with pytest.raises(Invalid, match="no email nope@x.de"):
        contacts.edit_contact(cid, {"city": "Köln"}, remove_emails=["nope@x.de"])
    with pytest.raises(Invalid, match="no phone"):
        contacts.edit_contact(cid, {}, primary_phone="040 999999")
    assert contacts.get_contact(cid) == before


def test_ref_by_any_email_case_insensitive(db):
    cid = _anna()["id"]
    assert contacts.resolve_contact("anna@firma.de") == cid
    assert contacts.resolve_contact("ANNA@EXAMPLE.COM") == cid
    with pytest.raises(NotFound):
        contacts.resolve_contact("nobody@example.com")


def test_a_merged_away_id_resolves_to_the_survivor(db):
    keep = contacts.add_contact("Keep Me")["id"]
    gone = contacts.add_contact("Gone Soon")["id"]
    firm = companies.add_company("Alt GmbH")["id"]
    new_firm = companies.add_company("Neu GmbH")["id"]
    contacts.delete_contact(gone)
    companies.delete_company(firm)
    MergeAlias.insert(kind="contact", old_id=gone, new_id=keep).execute()
    MergeAlias.insert(kind="company", old_id=firm, new_id=new_firm).execute()
    assert contacts.resolve_contact(str(gone)) == keep
    assert contacts.resolve_contact(f"#{gone}") == keep
    assert companies.resolve_company(str(firm)) == new_firm
    MergeAlias.insert(kind="contact", old_id=99, new_id=keep).execute()
    assert contacts.resolve_contact("99") == keep
    with pytest.raises(NotFound):  # an alias of another kind is not followed
        companies.resolve_company("99")
    contacts.delete_contact(keep)  # the survivor gone too: nothing to resolve to
    with pytest.raises(NotFound):
        contacts.resolve_contact(str(gone))


def test_search_finds_a_contact_by_a_secondary_email_or_phone(db):
    cid = _anna()["id"]
    for query in ("anna@example.com", "example", "0171 7654321", "+491717654321", "7654321"):
        hits = search.search(query)
        assert [h["id"] for h in hits if h["kind"] == "contact"] == [cid], query
        assert hits[0]["email"] == "anna@firma.de"  # lists show the primary
    contacts.edit_contact(cid, {}, remove_emails=["anna@example.com"])
    assert search.search("anna@example.com") == []


def test_entry_of_a_contact_with_one_email_and_phone_is_unchanged(db):
    card = contacts.add_contact("Eva Solo", email="eva@x.de", phone="030 1234567")
    ((_, text),) = search.contact_entries([card["id"]])
    assert text == search.contact_body(
        "Eva Solo", "eva@x.de", None, None, None, "030 1234567", "+49301234567"
    )


def test_lists_show_the_primary_without_a_query_per_row(db):
    for n in range(30):
        contacts.add_contact(f"P{n}", emails=[f"p{n}@x.de", f"q{n}@x.de"], phones=["030 1234567"])
    with count_queries() as counted:
        rows = contacts.list_contacts()
    assert len(counted.get_queries()) <= 4
    assert {r["email"] for r in rows} == {f"p{n}@x.de" for n in range(30)}
    assert "emails" not in rows[0]


def test_emails_of_and_phones_of_are_batched(db):
    ids = [contacts.add_contact(f"P{n}", emails=[f"p{n}@x.de"])["id"] for n in range(5)]
    with count_queries() as counted:
        got = addresses.emails_of(ids)
        addresses.phones_of(ids)
    assert len(counted.get_queries()) == 2
    assert got[ids[3]] == [{"email": "p3@x.de", "kind": "other", "primary": True}]


def test_set_contact_addresses_replaces_and_keeps_the_copies(db):
    cid = _anna()["id"]
    out = addresses.set_contact_addresses(
        cid, [{"email": "z@x.de", "kind": "home"}, {"email": "y@x.de", "primary": True}], None
    )
    assert [(e["email"], e["primary"]) for e in out["emails"]] == [("y@x.de", True),
                                                                   ("z@x.de", False)]  # fmt: skip
    assert len(out["phones"]) == 2  # None: kept
    assert _copies(cid)[:2] == ("y@x.de", "y@x.de")
    assert [h["id"] for h in search.search("z@x.de")] == [cid]
    assert maintenance.check() == []


def test_name_sound_is_kept_on_every_name_write(db):
    cid = contacts.add_contact("Hans Meier")["id"]
    sound = Contact.select(Contact.name_sound).where(Contact.id == cid).scalar
    assert sound() == sound_key("Hans Meier") == sound_key("Hans Meyer")
    contacts.edit_contact(cid, {"name": "Hans Schulz"})
    assert sound() == sound_key("Hans Schulz")
    from crmcli.models import Company

    fid = companies.add_company("Müller Bau GmbH")["id"]
    firm = Company.select(Company.name_sound).where(Company.id == fid).scalar
    assert firm() == sound_key("Mueller Bau", company=True)
    companies.edit_company(fid, {"name": "Schmidt Bau AG"})
    assert firm() == sound_key("Schmidt Bau", company=True)
    linked = contacts.add_contact("X", company="Neue Firma KG")["company_id"]
    assert Company.select(Company.name_sound).where(Company.id == linked).scalar() == sound_key(
        "Neue Firma", company=True
    )


def test_bulk_clear_email_and_set_phone_work_on_the_rows(db):
    a = _anna(status="lead")["id"]
    b = contacts.add_contact("Bo", emails=["bo@x.de"], phones=["089 123456", "0171 5555555"],
                             status="lead")["id"]  # fmt: skip
    bulk.edit("contact", {"status": "lead"}, {"email": "", "phone": "040 7777777"})
    anna, bo = contacts.get_contact(a), contacts.get_contact(b)
    assert anna["email"] == "anna@example.com" and anna["emails"][0]["primary"]
    assert bo["email"] is None and bo["emails"] == []
    assert anna["phone"] == bo["phone"] == "040 7777777"
    assert [p["phone"] for p in bo["phones"]] == ["040 7777777", "0171 5555555"]
    assert maintenance.check() == []
    assert search.search("anna@firma.de") == []
    assert {h["id"] for h in search.search("040 7777777")} == {a, b}


def test_bulk_refuses_one_email_for_many(db):
    _anna(status="lead")
    with pytest.raises(Invalid, match="its own email"):
        bulk.edit("contact", {"status": "lead"}, {"email": "all@x.de"})


def test_check_finds_drifted_copies_and_repair_mends_them(db):
    a = _anna()["id"]
    b = contacts.add_contact("Bo", emails=["bo@x.de"], phones=["089 123456"])["id"]
    Contact.update(email="wrong@x.de", email_key="wrong@x.de").where(Contact.id == a).execute()
    ContactPhone.delete().where(ContactPhone.contact == b).execute()
    problems = maintenance.check()
    assert any("primary email of 1 contact" in p for p in problems)
    assert any("primary phone of 1 contact" in p for p in problems)
    assert maintenance.repairable(problems)
    maintenance.repair(problems)
    assert maintenance.check() == []
    anna = contacts.get_contact(a)
    assert anna["email"] == "anna@firma.de"  # the rows decide; the stray copy is kept too
    assert "wrong@x.de" in [e["email"] for e in anna["emails"]]
    assert contacts.get_contact(b)["phones"][0]["phone"] == "089 123456"  # copy became a row


def test_delete_takes_the_rows_along(db):
    cid = _anna()["id"]
    contacts.delete_contact(cid)
    assert ContactEmail.select().count() == ContactPhone.select().count() == 0
    assert contacts.add_contact("Again", emails=["anna@firma.de"])["email"] == "anna@firma.de"


def test_contacts_of_phone(db):
    cid = _anna()["id"]
    assert addresses.contacts_of_phone("+49 171 7654321") == [cid]
    assert addresses.contact_of_email("ANNA@example.com") == cid


# ------------------------------------------------------------------ old databases


@pytest.fixture(params=["schema2-cfd3c35", "schema4-c0180a0"])
def old_db(request, tmp_path):
    from tests.fixtures import sqldump

    return sqldump.load(request.param, tmp_path / f"{request.param}.db")


def test_an_old_database_upgrades_with_each_email_and_phone_as_the_primary(old_db):
    conn = sqlite3.connect(old_db)
    before = conn.execute("SELECT id, name, email, phone FROM contact ORDER BY id").fetchall()
    conn.close()
    assert any(e for _, _, e, _ in before) and any(p for *_, p in before)
    from crmcli import db as dbmod

    database = dbmod.open_database(str(old_db))
    try:
        assert maintenance.check(database) == []
        emails = addresses.emails_of([i for i, *_ in before])
        phones = addresses.phones_of([i for i, *_ in before])
        for cid, name, email, phone in before:
            card = contacts.get_contact(cid)
            assert (card["name"], card["email"], card["phone"]) == (name, email, phone)
            assert emails.get(cid, []) == (
                [{"email": email, "kind": "other", "primary": True}] if email else []
            )
            assert [p["phone"] for p in phones.get(cid, [])] == ([phone] if phone else [])
            assert Contact.get_by_id(cid).name_sound == sound_key(name)
            if email:
                assert contacts.resolve_contact(email.upper()) == cid
                assert cid in [h["id"] for h in search.search(email) if h["kind"] == "contact"]
        # the upgraded entries are the ones the code writes: a rebuild changes none
        stored = dict(search.contact_entries())
        search.rebuild()
        assert dict(search.contact_entries()) == stored
        assert maintenance.check(database) == []
        # and the contacts take a second email at once
        first = next(i for i, _, e, _ in before if e)
        card = contacts.edit_contact(first, {}, add_emails=["zweite@example.org"])
        assert len(card["emails"]) == 2 and maintenance.check(database) == []
    finally:
        database.close()


def test_a_postgres_database_from_before_0009_upgrades_without_loss(pg_url):
    """On PostgreSQL: contacts written before 0009 (one email and phone on the contact alone)
    get them as primary rows, a name_sound, and search and REF still find them."""
    from crmcli import db as dbmod
    from tests.services.test_old_databases import _undo_0009

    database = dbmod.open_database(pg_url)
    a = contacts.add_contact("Jürgen Müller", email="JM@Mueller-Bau.de", phone="0221 123456")
    b = contacts.add_contact("Eva Meier", phone="+49 171 2345678")
    c = contacts.add_contact("Ohne Alles")
    _undo_0009(database)
    database.close()
    database = dbmod.open_database(pg_url)
    try:
        assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
        assert maintenance.check(database) == []
        ids = [a["id"], b["id"], c["id"]]
        assert addresses.emails_of(ids) == {
            a["id"]: [{"email": "JM@mueller-bau.de", "kind": "other", "primary": True}]
        }
        assert {cid: [p["e164"] for p in ps] for cid, ps in addresses.phones_of(ids).items()} == {
            a["id"]: ["+49221123456"],
            b["id"]: ["+491712345678"],
        }
        for card in (a, b, c):
            assert Contact.get_by_id(card["id"]).name_sound == sound_key(card["name"])
        assert contacts.resolve_contact("jm@mueller-bau.de") == a["id"]
        assert [h["id"] for h in search.search("2345678")] == [b["id"]]
        card = contacts.edit_contact(b["id"], {}, add_emails=["eva@example.com"])
        assert card["email"] == "eva@example.com" and maintenance.check(database) == []
    finally:
        database.close()


def test_a_stored_phone_that_no_longer_parses_can_still_be_removed(db):
    cid = contacts.add_contact("Alt", phones=["030 1234567"])["id"]
    ContactPhone.insert(contact=cid, phone="Zentrale 12", phone_e164=None, position=1).execute()
    card = contacts.edit_contact(cid, {}, remove_phones=["Zentrale 12"])
    assert [p["phone"] for p in card["phones"]] == ["030 1234567"]
    with pytest.raises(Invalid, match="no phone Zentrale 13"):
        contacts.edit_contact(cid, {}, remove_phones=["Zentrale 13"])


def test_an_idn_email_is_found_in_either_spelling(db):
    card = contacts.add_contact("Ümit", emails=[{"email": "umit@xn--mller-kva.de", "kind": "home"}])
    assert card["email"] == "umit@müller.de"
    for ref in ("umit@xn--mller-kva.de", "UMIT@Müller.de", "umit@müller.de"):
        assert contacts.resolve_contact(ref) == card["id"], ref
    with pytest.raises(Conflict):
        contacts.add_contact("Zweiter", email="umit@müller.de")


def test_a_stored_punycode_email_is_found_by_its_unicode_spelling(db):
    card = contacts.add_contact("Alt", email="alt@example.de")
    # Data written before emails were normalised (or by another program): punycode stored.
    ContactEmail.update(email="alt@xn--mller-kva.de", email_key="alt@xn--mller-kva.de").execute()
    Contact.update(email="alt@xn--mller-kva.de", email_key="alt@xn--mller-kva.de").execute()
    assert contacts.resolve_contact("alt@müller.de") == card["id"]
    assert contacts.resolve_contact("ALT@xn--mller-kva.de") == card["id"]
    with pytest.raises(Conflict):
        contacts.add_contact("Neu", email="alt@müller.de")
    # It can be removed in the Unicode spelling too.
    edited = contacts.edit_contact(card["id"], {}, remove_emails=["alt@müller.de"])
    assert edited["emails"] == []


def test_an_address_edit_that_changes_nothing_writes_nothing(db):
    card = _anna()
    later = NOW.replace(year=NOW.year + 1)
    same = contacts.edit_contact(
        card["id"], {}, add_emails=["ANNA@example.com"], add_phones=["+49 30 1234567"], now=later
    )
    assert same["unchanged"] and same["updated_at"] == card["updated_at"]
    assert same["already_has"] == ["anna@example.com", "030 1234567"]
    # A kind given with it is a change.
    changed = contacts.edit_contact(
        card["id"], {}, add_emails=[{"email": "anna@example.com", "kind": "other"}], now=later
    )
    assert not changed["unchanged"] and changed["already_has"] == []
    assert changed["emails"][1]["kind"] == "other" and changed["updated_at"] != card["updated_at"]


def test_bulk_phone_replaces_the_primary_with_the_kind_a_new_one_gets(db):
    a = contacts.add_contact("Mo", phones=[{"phone": "0171 5555555", "kind": "mobile"}],
                             status="lead")["id"]  # fmt: skip
    b = contacts.add_contact("Li", phones=[{"phone": "+49 40 7777777", "kind": "work"}],
                             status="lead")["id"]  # fmt: skip
    bulk.edit("contact", {"status": "lead"}, {"phone": "040 7777777"})
    # Another number is no mobile because the old one was; the same number keeps its kind.
    assert contacts.get_contact(a)["phones"][0]["kind"] == "other"
    assert contacts.get_contact(b)["phones"][0] == {
        "phone": "040 7777777", "e164": "+49407777777", "kind": "work", "primary": True
    }  # fmt: skip
    assert maintenance.check() == []
