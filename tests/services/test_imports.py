"""The import engine (services.imports) called directly, on SQLite and PostgreSQL: validation
like `crm add`, matching that makes a second import change nothing, one transaction."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.models import Activity, Company, Contact, ContactEmail, ContactPhone, Deal, Tag, Task
from crmcli.services import contacts, import_rows, imports, search, tags
from crmcli.values import sound_key
from tests.conftest import NOW


def rec(name=None, *emails, phones=(), **values):
    out = {
        "name": name,
        "emails": [{"email": e, "kind": "work", "primary": i == 0} for i, e in enumerate(emails)],
        "phones": [{"phone": p, "kind": "mobile", "primary": i == 0} for i, p in enumerate(phones)],
    }
    out.update(values)
    return out


def run(*records, **options):
    rows = [(f"line {i + 2}", r) for i, r in enumerate(records)]
    return imports.import_contacts(rows, now=NOW, **options)


def only(name):
    found = [c for c in contacts.list_contacts() if c["name"] == name]
    assert len(found) == 1, found
    return found[0]


def test_new_contacts_get_every_derived_column(db):
    result = run(
        rec("Jürgen Müller", "JM@Example.DE", phones=["030 1234567"], company="Müller Bau GmbH",
            zip="01067", city="Köln", birthday="24.12.1968", tags=["vip"],
            fields={"kundennr": "4711"}, consent="ja"),
    )  # fmt: skip
    assert (result.new, result.updated, result.unchanged) == (1, 0, 0)
    row = Contact.get()
    assert row.email == "JM@example.de" and row.email_key == "jm@example.de"
    assert (row.phone, row.phone_e164) == ("030 1234567", "+49301234567")
    assert row.zip == "01067" and row.city_fold == "koln"
    assert row.name_key == "jurgen muller | juergen mueller"
    assert row.name_sound == sound_key("Jürgen Müller")
    assert str(row.birthday) == "1968-12-24" and row.birthday_md == "12-24"
    assert row.consent and row.consent_at == NOW
    assert row.company.name == "Müller Bau GmbH"
    assert [(e.email, e.is_primary) for e in ContactEmail.select()] == [("JM@example.de", True)]
    assert [(p.phone_e164, p.kind, p.is_primary) for p in ContactPhone.select()] == [
        ("+49301234567", "mobile", True)
    ]
    card = contacts.get_contact(row.id)
    assert card["tags"] == ["vip"] and card["fields"] == {"kundennr": "4711"}
    assert [h["name"] for h in search.search("mueller koeln")] == ["Jürgen Müller"]
    assert list(result.ids) == [row.id]


def test_importing_the_same_rows_twice_changes_nothing(db):
    rows = [
        rec("Anna Weiß", "anna@example.de", phones=["0171 2345678"], company="Bäckerei Weiß",
            tags=["kunde"], fields={"kd": "1"}, birthday="--03-02", consent="yes"),
        rec("Max Muster", "max@example.de", city="Berlin"),
    ]  # fmt: skip
    run(*rows)
    before = list(Contact.select().order_by(Contact.id).dicts())
    later = NOW.replace(day=30)  # a later run: still nothing to write
    again = imports.import_contacts([(f"line {i}", r) for i, r in enumerate(rows)], now=later)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert list(again.ids) == []
    assert list(Contact.select().order_by(Contact.id).dicts()) == before  # not even updated_at


def test_a_row_updates_its_match_and_removes_nothing(db):
    run(rec("Anna Weiß", "anna@example.de", phones=["0171 2345678"], city="Köln", notes="alt",
            tags=["a"], fields={"x": "1"}))  # fmt: skip
    result = run(
        rec("Anna Weiss-Meier", "ANNA@example.de", "anna.privat@example.de",
            phones=["030 999999"], notes="neu", tags=["b"], fields={"y": "2"}),
    )  # fmt: skip
    assert (result.new, result.updated) == (0, 1)
    card = only("Anna Weiss-Meier")
    assert card["city"] == "Köln"  # not given: kept
    assert card["notes"] == "neu"  # given: overwritten
    assert card["email"] == "anna@example.de"  # the primary stays
    assert card["tags"] == ["a", "b"] and card["fields"] == {"x": "1", "y": "2"}
    emails = ContactEmail.select().where(ContactEmail.contact == card["id"])
    assert sorted(e.email_key for e in emails) == ["anna.privat@example.de", "anna@example.de"]
    phones = ContactPhone.select().where(ContactPhone.contact == card["id"])
    assert sorted(p.phone_e164 for p in phones) == ["+491712345678", "+4930999999"]
    assert Contact.get().name_sound == sound_key("Anna Weiss-Meier")
    assert [h["name"] for h in search.search("meier")] == ["Anna Weiss-Meier"]


def test_rows_of_one_file_with_the_same_email_are_one_contact(db, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)  # the second one in a later batch
    result = run(
        rec("Eva Ernst", "eva@example.de"),
        rec("Otto", "otto@example.de"),
        rec("Eva Ernst", "EVA@example.de", phones=["0171 1111111"]),
        rec("Eva Ernst", "eva@example.de", tags=["x"]),
    )
    assert (result.new, result.merged) == (2, 2)
    assert Contact.select().count() == 2
    assert only("Eva Ernst")["tags"] == ["x"]
    assert only("Eva Ernst")["phone_e164"] == "+491711111111"


def test_a_row_matching_two_contacts_is_rejected_with_both(db):
    # B has no email and A's name: the phone says the row is B as much as the email says A.
    contacts.add_contact("A", email="a@example.de")
    contacts.add_contact("A", phone="0171 2222222")
    with pytest.raises(Invalid, match=r"line 2: matches 2 different contacts: contact #1 A"):
        run(rec("A", "a@example.de", phones=["0171 2222222"]))
    result = run(rec("A", "a@example.de", phones=["0171 2222222"]), keep_going=True)
    assert result.rejected_count == 1 and "contact #2 A by phone" in result.rejected[0][2]


def test_a_shared_phone_never_merges_people_whose_emails_or_names_differ(db, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)  # the third row in a later batch
    rows = [
        rec("Hans Huber", "hans@huber.example", phones=["089 12345-0"], company="Huber AG"),
        rec("Eva Huber", "eva@huber.example", phones=["089 12345-0"], company="Huber AG"),
        rec("Otto Ober", "otto@huber.example", phones=["089 12345-0"], company="Huber AG"),
    ]
    result = run(*rows)
    assert (result.new, result.merged, result.possible_duplicates) == (3, 0, 2)
    assert sorted(c["name"] for c in contacts.list_contacts()) == [
        "Eva Huber", "Hans Huber", "Otto Ober"
    ]  # fmt: skip
    assert only("Otto Ober")["email"] == "otto@huber.example"
    assert ContactEmail.select().count() == 3
    assert (
        "line 3: new contact Eva Huber, a possible duplicate of the contact of line 2 Hans "
        "Huber (same phone 089 12345-0, other email)" in result.warnings
    )
    before = list(Contact.select().order_by(Contact.id).dicts())
    again = run(*rows)
    assert (again.new, again.updated, again.unchanged, again.possible_duplicates) == (0, 0, 3, 0)
    assert again.warnings == []
    assert list(Contact.select().order_by(Contact.id).dicts()) == before
    # Without emails the names tell them apart, and say which one a row is.
    result = run(rec("Eva Huber", phones=["089 12345-0"], city="München"),
                 rec("Karl Kurz", phones=["089 12345-0"]))  # fmt: skip
    assert (result.new, result.updated, result.possible_duplicates) == (1, 1, 1)
    assert only("Eva Huber")["city"] == "München" and only("Hans Huber")["city"] is None
    # A name that can be the same person's is that contact.
    result = run(rec("Dr. Hans Huber", phones=["089 12345-0"], notes="Chef"))
    assert (result.new, result.updated) == (0, 1)
    assert only("Dr. Hans Huber")["email"] == "hans@huber.example"
    # A row with only the phone cannot tell which of four: a new contact, said.
    result = run(rec(None, phones=["089 12345-0"], city="Ulm"))
    assert (result.new, result.possible_duplicates) == (1, 1)
    assert "cannot tell which" in result.warnings[0]


def test_a_shared_phone_against_stored_contacts_keeps_each_person(db):
    hans = contacts.add_contact("Hans Huber", email="hans@huber.example", phone="089 12345-0")
    result = run(rec("Eva Huber", "eva@huber.example", phones=["089 12345-0"]))
    assert (result.new, result.updated, result.possible_duplicates) == (1, 0, 1)
    assert contacts.get_contact(hans["id"])["name"] == "Hans Huber"
    assert contacts.get_contact(hans["id"])["email"] == "hans@huber.example"
    again = run(rec("Eva Huber", "eva@huber.example", phones=["089 12345-0"]))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    # His phone and name without an email: Hans, not Eva.
    result = run(rec("Hans Huber", phones=["089 12345-0"], city="München"))
    assert (result.new, result.updated) == (0, 1)
    assert contacts.get_contact(hans["id"])["city"] == "München"
    # Another email than his, even with his name and phone: someone else, said.
    result = run(rec("Hans Huber", "h.huber@privat.example", phones=["089 12345-0"]))
    assert (result.new, result.updated, result.possible_duplicates) == (1, 0, 1)
    assert "other email" in result.warnings[0]


def test_one_name_in_two_cities_is_two_people_and_stays_two(db):
    rows = [rec("Hans Müller", city="Köln", zip="50667"), rec("Hans Müller", city="Berlin")]
    result = run(*rows)
    assert (result.new, result.merged, result.possible_duplicates) == (2, 0, 1)
    assert sorted(c["city"] for c in contacts.list_contacts()) == ["Berlin", "Köln"]
    before = list(Contact.select().order_by(Contact.id).dicts())
    again = run(*rows)
    assert (again.new, again.updated, again.unchanged, again.possible_duplicates) == (0, 0, 2, 0)
    assert list(Contact.select().order_by(Contact.id).dicts()) == before
    # A row without a city cannot tell which: a new contact, said; then it is that one.
    result = run(rec("Hans Müller", notes="?"))
    assert (result.new, result.possible_duplicates) == (1, 1)
    assert "cannot tell which" in result.warnings[0]
    again = run(rec("Hans Müller", notes="?"))
    assert (again.new, again.unchanged) == (0, 1)
    # Other phones, companies and birthdays say the same as other cities.
    run(rec("Eva Klein", phones=["0171 1000000"]), rec("Eva Klein", phones=["0171 2000000"]),
        rec("Tom Tal", company="A GmbH"), rec("Tom Tal", company="B GmbH"),
        rec("Ute Uhl", birthday="1.2.1970"), rec("Ute Uhl", birthday="3.4.1980"),
        rec("Ute Uhl", birthday="--04-03"))  # fmt: skip
    names = [c["name"] for c in contacts.list_contacts()]
    assert names.count("Eva Klein") == 2 and names.count("Tom Tal") == 2
    assert names.count("Ute Uhl") == 2  # no year, the same day: the second one


def test_names_match_only_one_contact_and_never_against_other_emails(db):
    for name in ("Klaus Klein", "Tim Twice", "Tim Twice"):
        contacts.add_contact(name)
    run(rec("Eva Mail", "eva@example.de"))
    result = run(rec("Klaus Klein", city="Bonn"), rec("Tim Twice", city="Ulm"),
                 rec("Eva Mail", "other@example.de"))  # fmt: skip
    assert (result.updated, result.new) == (1, 2)
    assert only("Klaus Klein")["city"] == "Bonn"
    assert Contact.select().where(Contact.name == "Tim Twice").count() == 3
    assert Contact.select().where(Contact.name == "Eva Mail").count() == 2


def test_skip_and_new(db):
    run(rec("A", "a@example.de", city="X"))
    result = run(rec("A", "a@example.de", city="Y"), rec("C", "c@example.de"), on_conflict="skip")
    assert (result.skipped, result.new) == (1, 1)
    assert only("A")["city"] == "X"
    result = run(rec("A2", "a2@example.de", phones=["0171 3333333"]))
    result = run(rec("A2 copy", phones=["0171 3333333"]), on_conflict="new")
    assert result.new == 1 and Contact.select().count() == 4
    with pytest.raises(Invalid, match="belongs to contact"):
        run(rec("A again", "a@example.de"), on_conflict="new")


def test_dry_run_writes_nothing(db):
    result = run(rec("A", "a@example.de", company="Neu GmbH", tags=["neu"]), dry_run=True)
    assert result.new == 1 and list(result.ids) == []
    assert Contact.select().count() == 0
    assert Company.select().count() == 0 and Tag.select().count() == 0


def test_one_bad_row_writes_nothing_unless_keep_going(db):
    rows = (
        rec("Gut", "gut@example.de", company="Firma GmbH", tags=["t"]),
        rec("Datum", birthday="31.02.1980"),
        rec("Mail", "keine-mail"),
        rec(None),
        rec("Zukunft", birthday="01.01.2030"),
        rec("Status", status="vip"),
    )
    with pytest.raises(Invalid) as caught:
        run(*rows)
    message = str(caught.value)
    assert message.startswith("5 bad rows, nothing imported: line 3: birthday")
    assert "line 4: email" in message and "line 5: name" in message
    assert "and 0 more" not in message
    assert Contact.select().count() == 0 and Company.select().count() == 0
    assert Tag.select().count() == 0
    result = run(*rows, keep_going=True)
    assert (result.new, result.rejected_count) == (1, 5)
    assert [w for w, _, _ in result.rejected] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert Contact.select().count() == 1


def test_tags_with_a_cadence_set_the_contacts_due_time(db):
    tags.ensure_tags(["stammkunde"])
    Tag.update(cadence_days=30).execute()
    run(rec("A", "a@example.de", tags=["Stammkunde"]), rec("B", "b@example.de", cadence_days="14"))
    a, b = only("A"), only("B")
    assert a["cadence_effective_days"] == 30 and a["contact_due_at"] is not None
    assert b["cadence_effective_days"] == 14


def test_company_names_resolve_once_like_add_contact(db):
    contacts.add_contact("X", company="Müller Bau GmbH")
    run(rec("A", company="MUELLER bau gmbh"), rec("B", company="Neue Firma"),
        rec("C", company="neue firma"))  # fmt: skip
    assert Company.select().count() == 2
    assert only("A")["company"] == "Müller Bau GmbH"
    assert only("C")["company"] == "Neue Firma"


def test_a_stored_contact_without_email_rows_is_matched_by_its_email_column(db):
    contacts.add_contact("Alt", email="alt@example.de")
    ContactEmail.delete().execute()  # as a writer that only knows the contact columns leaves it
    result = run(rec("Alt", "alt@example.de", city="Bonn"))
    assert (result.new, result.updated) == (0, 1)
    assert Contact.select().count() == 1


def test_an_unknown_match_key_or_conflict_mode_is_invalid(db):
    with pytest.raises(Invalid, match="cannot match on zip"):
        run(rec("A"), match=["zip"])
    with pytest.raises(Invalid, match="on-conflict"):
        run(rec("A"), on_conflict="merge")


# ---------------------------------------------------------------- activities, deals, tasks


def kind_rows(*records):
    return [(f"line {i + 2}", r) for i, r in enumerate(records)]


def test_activities_deals_and_tasks_link_by_email_and_import_once(db):
    contacts.add_contact("Anna", email="anna@example.de")
    acts = kind_rows(
        {"email": "ANNA@example.de", "kind": "Anruf", "occurred_at": "20.11.2026 14:00",
         "subject": "Angebot", "duration": "15 min"},
        {"email": "anna@example.de", "kind": "note", "occurred_at": "21.11.2026",
         "body": "Mag Kaffee"},
    )  # fmt: skip
    result = import_rows.import_rows("activities", acts, now=NOW)
    assert result.new == 2
    assert import_rows.import_rows("activities", acts, now=NOW).unchanged == 2
    assert Activity.select().count() == 2
    deals = kind_rows({"email": "anna@example.de", "title": "Dach", "amount": "1.234,50"})
    assert import_rows.import_rows("deals", deals, now=NOW).new == 1
    assert import_rows.import_rows("deals", deals, now=NOW).unchanged == 1
    assert Deal.get().amount_cents == 123450
    tasks_ = kind_rows({"email": "anna@example.de", "title": "Anrufen", "due": "24.12.2026",
                        "priority": "hoch"})  # fmt: skip
    assert import_rows.import_rows("tasks", tasks_, now=NOW).new == 1
    assert import_rows.import_rows("tasks", tasks_, now=NOW).unchanged == 1
    task = Task.get()
    assert task.priority == 2 and task.contact_id == 1


def test_activity_rows_for_unknown_emails_or_bad_values_are_rejected(db):
    contacts.add_contact("Anna", email="anna@example.de")
    rows = kind_rows(
        {"email": "nobody@example.de", "kind": "call", "occurred_at": "20.11.2026"},
        {"email": "anna@example.de", "kind": "fax", "occurred_at": "20.11.2026"},
        {"kind": "call", "occurred_at": "20.11.2026"},
    )
    with pytest.raises(Invalid, match="3 bad rows"):
        import_rows.import_rows("activities", rows, now=NOW)
    result = import_rows.import_rows("activities", rows, now=NOW, keep_going=True)
    reasons = [r for _, _, r in result.rejected]
    assert "no contact has the email nobody@example.de" in reasons[0]
    assert "unknown kind 'fax'" in reasons[1]
    assert "no contact email" in reasons[2]
    assert Activity.select().count() == 0


def test_rows_in_many_batches_give_the_same_result(db, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)
    rows = [rec(f"P{i}", f"p{i}@example.de", phones=[f"0171 {1000000 + i}"], tags=["t"])
            for i in range(9)]  # fmt: skip
    rows[5] = rec("Bad", birthday="31.02.1980")
    rows[7] = rec("P1", "P1@example.de", city="Köln")  # merges into row 2 (another batch)
    result = run(*rows, keep_going=True)
    assert (result.new, result.merged, result.rejected_count) == (7, 1, 1)
    assert result.rejected[0][0] == "line 7" and result.rejected[0][1]["name"] == "Bad"
    assert only("P1")["city"] == "Köln" and only("P8")["tags"] == ["t"]
    assert run(*rows, keep_going=True).unchanged == 8


def test_spellings_of_one_company_name_are_one_company(db):
    run(rec("A", company="Müller Bau GmbH"), rec("B", company="Mueller Bau GmbH"),
        rec("C", company="MULLER BAU GMBH"), rec("D", company="Bau"))  # fmt: skip
    assert sorted(Company.select(Company.name).tuples()) == [("Bau",), ("Müller Bau GmbH",)]
    assert Company.get(Company.name == "Bau").name_sound == sound_key("Bau", company=True)
    assert [h["name"] for h in search.search("bau", kinds=["company"])]  # indexed
    # Two stored companies of one name (as crm compares names) make the name ambiguous.
    Company.insert(name="Muller Haus", name_fold="muller haus", name_key="muller haus").execute()
    Company.insert(name="Mueller Haus", name_fold="mueller haus", name_key="mueller haus").execute()
    result = run(rec("E", company="Müller Haus"), keep_going=True)
    assert "company: company 'Müller Haus' is ambiguous" in result.rejected[0][2]


def test_queries_do_not_grow_with_the_rows_of_a_batch(db):
    from playhouse.test_utils import count_queries

    def queries(start, n):
        rows = [rec(f"N{i}", f"n{i}@example.de", phones=[f"0171 {2000000 + i}"],
                    company=f"Firma {i % 3}", tags=["t", f"g{i % 2}"], fields={"k": str(i)})
                for i in range(start, start + n)]  # fmt: skip
        with count_queries() as counter:
            run(*rows)
        with count_queries() as again:
            run(*rows)  # every row unchanged
        return counter.count, again.count

    small = queries(0, 20)
    large = queries(1000, 400)
    assert large[0] <= small[0] + 12 and large[1] <= small[1] + 12, (small, large)


def test_consent_at_is_compared_at_the_precision_the_file_gives(db):
    """An export writes consent_at to the second, the database keeps microseconds: reading
    the export back changes nothing; another second (or minute) does."""
    run(rec("Anna Weiß", "anna@example.de", consent="ja"))
    from datetime import timedelta

    stored = (NOW - timedelta(days=1)).replace(second=17, microsecond=654321)
    Contact.update(consent_at=stored).execute()
    given = stored.replace(microsecond=0)
    again = run(rec("Anna Weiß", "anna@example.de", consent="ja", consent_at=given.isoformat()))
    assert (again.updated, again.unchanged) == (0, 1)
    minute = given.replace(second=0).isoformat(timespec="minutes")
    again = run(rec("Anna Weiß", "anna@example.de", consent="ja", consent_at=minute))
    assert (again.updated, again.unchanged) == (0, 1)
    later = given.replace(second=18).isoformat()
    moved = run(rec("Anna Weiß", "anna@example.de", consent="ja", consent_at=later))
    assert (moved.updated, moved.unchanged) == (1, 0)


def test_a_contact_with_only_a_phone_is_named_by_it(db):
    """Phone address books hold numbers without names: the number as typed is the name (as
    an email is for a shop's customer), and a second import finds it by the phone."""
    first = run(rec(None, phones=["0171 2233445", "030 123456"]))
    assert first.new == 1
    assert only("0171 2233445")["phone_e164"] == "+491712233445"
    again = run(rec(None, phones=["+49 171 2233445"]))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    with pytest.raises(Invalid, match="needs a name"):
        run(rec(None, city="Köln"))


def test_new_contacts_search_entries_are_what_contact_entries_reads_back(db):
    """The import builds new contacts' index entries from the values it wrote: the same text
    search.contact_entries makes of the stored rows (companies' names and cities, the
    contact's own city first, custom fields in key order, other emails and phones)."""
    from crmcli.db import placeholder
    from crmcli.models import database_proxy
    from crmcli.services import companies

    companies.add_company("Müller Bau GmbH", city="Köln")
    result = run(
        rec("Jörg Weiß", "b@x.de", "a@x.de", phones=("030 1234567", "+49 171 2345678"),
            company="mueller bau gmbh", notes="Kunde seit 2019",
            fields={"Zeta": "letzte", "alpha": "Erste", "a_b": "Mitte", "ab": "x"}),
        rec("Anna", company="Müller Bau GmbH", city="Berlin"),
        rec(None, "nur@mail.de"),
        rec("Ohne Firma", phones=("0171 9999999",), emails=[
            {"email": "z@y.de", "kind": "home", "primary": False},
            {"email": "y@y.de", "kind": "work", "primary": True},
        ]),
        rec("Neue", company="Neue Firma GmbH", street="Hauptstraße 1"),
    )  # fmt: skip
    ids = sorted(result.ids)
    assert len(ids) == 5
    expected = sorted(search.contact_entries(ids))
    rowids = [rowid for rowid, _ in expected]
    marks = ", ".join([placeholder()] * len(rowids))
    stored = database_proxy.obj.execute_sql(
        f"SELECT rowid, body FROM search_index WHERE rowid IN ({marks}) ORDER BY rowid", rowids
    ).fetchall()
    assert [tuple(r) for r in stored] == expected
    assert any("koln" in body for _, body in expected)  # the company's city


def test_phones_and_names_match_in_bulk_only_where_one_contact_has_them(db):
    """Hundreds of keys found in one batch (the look-up asks for the found ones in parts);
    a phone two contacts share is no key."""
    people = [rec(f"Person {i}", phones=[f"030 5{i:06d}"]) for i in range(450)]
    assert run(*people).new == 450
    twins = [rec("Twin A", phones=["0171 9999999"]), rec("Twin B", phones=["0171 9999999"])]
    assert run(*twins, on_conflict="new").new == 2
    again = [rec(f"Person {i}", phones=[f"030 5{i:06d}"], city="Bonn") for i in range(450)]
    named = [rec(f"Person {i}", city="Ulm") for i in range(450, 460)]
    result = run(*again, rec("Someone", phones=["0171 9999999"]), *named)
    assert (result.updated, result.new) == (450, 11)
    assert only("Person 449")["city"] == "Bonn" and only("Person 459")["city"] == "Ulm"
    assert Contact.select().where(Contact.name == "Person 3").count() == 1
    assert Contact.select().count() == 450 + 2 + 1 + 10
