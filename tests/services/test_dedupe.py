"""services.dedupe: candidate groups of duplicate contacts and companies."""

from __future__ import annotations

import pytest
from playhouse.test_utils import count_queries

from crmcli.errors import Invalid
from crmcli.models import Company, Contact, ContactEmail, ContactPhone
from crmcli.services import companies, contacts, dedupe
from crmcli.values import sound_key


def keyed() -> None:
    """Write name_sound as every writer does (the contacts service keeps it on each write):
    find_duplicates then groups by the indexed column alone."""
    for cid, name in Contact.select(Contact.id, Contact.name).tuples():
        Contact.update(name_sound=sound_key(name)).where(Contact.id == cid).execute()
    for cid, name in Company.select(Company.id, Company.name).tuples():
        Company.update(name_sound=sound_key(name, company=True)).where(Company.id == cid).execute()


def groups(**kwargs) -> list[list[str]]:
    return [[m["name"] for m in g["members"]] for g in dedupe.find_duplicates(**kwargs)]


def add(name: str, **values) -> int:
    return contacts.add_contact(name, **values)["id"]


@pytest.mark.parametrize("keys_written", [True, False], ids=["keyed", "unkeyed"])
def test_names_that_sound_alike_meet(db, keys_written):
    for name in ("Hans Meier", "Hans Maier", "Hans Meyer", "Eva Müller", "Eva Mueller", "Ute Roth"):
        add(name)
    if keys_written:
        keyed()
    found = list(dedupe.find_duplicates(["name"]))
    assert [[m["name"] for m in g["members"]] for g in found] == [
        ["Eva Müller", "Eva Mueller"],
        ["Hans Meier", "Hans Maier", "Hans Meyer"],
    ]
    assert all(g["reasons"] == ["sounds alike"] for g in found)
    assert found[0]["score"] == 100  # Müller = Mueller once folded
    assert 80 <= found[1]["score"] < 100
    assert [g["group"] for g in found] == [1, 2]


def test_same_email_in_another_case_or_gmail_spelling(db):
    a = add("Jan Kowalski", email="jan.kowalski@gmail.com")
    b = add("J. K.", email="x@example.de")
    ContactEmail.insert(
        contact=b,
        email="JanKowalski+crm@GoogleMail.com",
        email_key="jankowalski+crm@googlemail.com",
    ).execute()
    c = add("Someone Else", email="info@example.de")
    # stored unevenly by an older writer: blanks and case are no difference
    Contact.update(email_key=" X@Example.DE").where(Contact.id == b).execute()
    d = add("Other Person")
    ContactEmail.insert(contact=d, email="x@example.de ", email_key="x@example.de ").execute()
    found = list(dedupe.find_duplicates(["email"]))
    assert [[m["id"] for m in g["members"]] for g in found] == [[a, b, d]]
    assert found[0]["reasons"] == ["same email"]
    assert c not in [m["id"] for m in found[0]["members"]]


def test_a_contacts_email_equal_to_a_companys_is_no_duplicate(db):
    companies.add_company("Acme GmbH", email="info@acme.de")
    add("Anna", email="info@acme.de")
    add("Berta", email="berta@acme.de")
    assert groups(by=["email"]) == []


def test_same_phone_written_differently(db):
    add("Anna Schulz", phone="030 1234567")
    add("Berta Klein", phone="+49 (30) 123 45 67")
    b = add("Carla Groß", phone="0171 9999999")
    ContactPhone.insert(contact=b, phone="030/1234567", phone_e164="+49301234567").execute()
    found = list(dedupe.find_duplicates(["phone"]))
    assert [[m["name"] for m in g["members"]] for g in found] == [
        ["Anna Schulz", "Berta Klein", "Carla Groß"]
    ]
    assert found[0]["reasons"] == ["same phone"]


def test_groups_are_connected_components(db):
    a = add("Anna Schulz", email="a@example.de")
    b = add("Xaver Y", phone="030 1234567")
    ContactEmail.insert(contact=b, email="A@example.de ", email_key="a@example.de ").execute()
    c = add("Zora Z", phone="+49301234567")
    add("Nobody", phone="040 111111")
    keyed()
    found = list(dedupe.find_duplicates())
    assert len(found) == 1
    group = found[0]
    assert [m["id"] for m in group["members"]] == [a, b, c]  # a~b by email, b~c by phone
    assert group["reasons"] == ["same email", "same phone"]
    by_id = {m["id"]: m for m in group["members"]}
    assert by_id[a]["reasons"] == ["same email"]
    assert by_id[b]["reasons"] == ["same email", "same phone"]
    # a member's score is its best pair's: names alike or not, the email and phone join them
    assert by_id[a]["score"] == dedupe.name_score("Anna Schulz", "Xaver Y") < 50
    assert group["score"] == max(m["score"] for m in group["members"])


def test_by_chooses_the_keys(db):
    add("Hans Meier", phone="030 1234567")
    add("Hans Maier", phone="030 7654321")
    keyed()
    assert groups(by=["phone"]) == []
    assert groups(by=["name", "phone"]) == [["Hans Meier", "Hans Maier"]]


def test_min_score_leaves_out_groups_less_alike(db):
    add("Anna Schulz", phone="030 1234567")
    add("Xaver Yilmaz", phone="030 1234567")
    assert groups(by=["phone"], min_score=50) == []
    assert len(groups(by=["phone"])) == 1


def test_unknown_key_is_invalid(db):
    with pytest.raises(Invalid, match="choose email, phone, name"):
        list(dedupe.find_duplicates(["fax"]))
    with pytest.raises(Invalid, match="choose name, domain, phone"):
        list(dedupe.find_duplicates(["email"], kind="company"))


def test_companies_by_sound_domain_and_phone(db):
    a = companies.add_company("Müller Bau GmbH", domain="www.mueller-bau.de")["id"]
    b = companies.add_company("Mueller Bau")["id"]
    c = companies.add_company("MB Holding", domain="Mueller-Bau.de")["id"]
    d = companies.add_company("Schmidt & Co. KG", phone="0221 123456")["id"]
    e = companies.add_company("Schmitt AG", phone="+49 221 123456")["id"]
    companies.add_company("Weber GmbH")
    keyed()
    found = list(dedupe.find_duplicates(kind="company"))
    members = [[m["id"] for m in g["members"]] for g in found]
    # MB Holding shares the domain but not the name: a group of its own with Müller Bau
    assert sorted(members) == sorted([[a, b], [a, c], [d, e]])
    first = next(g for g in found if g["ids"] == [a, b])
    assert first["reasons"] == ["sounds alike"]
    assert next(g for g in found if g["ids"] == [a, c])["reasons"] == ["same domain"]
    assert first["kind"] == "company"
    assert {m["id"]: m["score"] for m in first["members"]}[b] >= 80  # legal form aside
    assert groups(kind="company", by=["domain"]) == [["Müller Bau GmbH", "MB Holding"]]
    assert groups(kind="company", by=["domain", "name"])[0] == ["Müller Bau GmbH", "Mueller Bau"]


def test_no_duplicates_is_an_empty_result(db):
    add("Anna")
    assert groups() == []
    assert groups(kind="company") == []


def test_queries_do_not_grow_with_the_records(db):
    """Grouping happens in SQL: the number of queries stays the same however many records
    there are (a query per record or per pair would show here)."""

    def run(n: int) -> int:
        for i in range(n):
            add(f"Hans Meier {i % 3}", phone=f"030 12345{i % 5:02d}")
        keyed()
        with count_queries() as counter:
            list(dedupe.find_duplicates())
        return counter.count

    few = run(10)
    Contact.delete().execute()
    assert run(60) == few


def test_names_that_only_share_sound_codes_are_no_pair(db):
    """The sound key is a bag of word codes: Uschi Stein and Cetin Haas are both 08 826.
    Inside a block of equal keys only names written alike too (NAME_MIN) pair up."""
    assert sound_key("Uschi Stein") == sound_key("Cetin Haas")
    add("Uschi Stein")
    add("Cetin Haas")
    add("Cetin Haas")
    add("Lena Vogel")
    add("Lene Fogel")  # a changed first letter does not sort the words apart
    keyed()
    assert groups(by=["name"]) == [["Cetin Haas", "Cetin Haas"], ["Lena Vogel", "Lene Fogel"]]
    assert dedupe.similar_names("Christoph Meier", "Christof Meyer")
    assert dedupe.similar_names("Ute Roth", "Uta Rot")
    assert not dedupe.similar_names("Jan Meier", "Johann Meyer")
    assert not dedupe.similar_names("Uschi Stein", "Cetin Haas")


def test_groups_do_not_chain_through_a_weak_link(db):
    """Groups are built from pairs that pass, not from blocks, and one number shared by two
    unlike names (an office line) does not chain two groups into one: Jürgen/Jurgen Müller
    and Hans Meier/Maier stay two groups, the shared phone is a group of its own."""
    j1 = add("Jürgen Müller", phone="030 1234567")
    j2 = add("Jurgen Müller")
    h1 = add("Hans Meier", phone="0171 2222222")
    h2 = add("Hans Maier")
    keyed()
    assert sorted(g["ids"] for g in dedupe.find_duplicates()) == [[j1, j2], [h1, h2]]
    ContactPhone.insert(contact=h1, phone="030 1234567", phone_e164="+49301234567").execute()
    found = {tuple(g["ids"]): g for g in dedupe.find_duplicates()}
    assert sorted(found) == [(j1, j2), (j1, h1), (h1, h2)]
    assert found[(j1, h1)]["reasons"] == ["same phone"]
    assert found[(j1, j2)]["reasons"] == ["sounds alike"]
    # nor is a stranger pulled into a group of namesakes by a number: the numbers shared by
    # unlike names are a group of their own, to be looked at apart
    loner = add("Xaver Yilmaz", phone="0171 2222222")
    found = {tuple(g["ids"]): g for g in dedupe.find_duplicates()}
    assert sorted(found) == [(j1, j2), (j1, h1, loner), (h1, h2)]
    assert found[(j1, h1, loner)]["reasons"] == ["same phone"]


def test_min_score_looks_at_the_best_pair_not_the_weakest_member(db):
    add("Katharina Schmidt", phone="030 1234567")
    add("Katarina Schmitt")
    add("Xaver Yilmaz", phone="030 1234567")  # same phone, a name nothing like hers
    keyed()
    [group] = dedupe.find_duplicates(min_score=90)
    assert group["score"] == dedupe.name_score("Katharina Schmidt", "Katarina Schmitt") >= 90
    assert [m["score"] for m in group["members"]][:2] == [group["score"]] * 2


def test_a_long_surname_does_not_carry_unlike_first_names(db):
    """Ella Schmidt and Ilja Schmidt score 83 as a whole (the surname), but Ella and Ilja
    are not one name: each word must be like its counterpart too."""
    assert dedupe.name_score("Ella Schmidt", "Ilja Schmidt") >= dedupe.NAME_MIN
    assert not dedupe.similar_names("Ella Schmidt", "Ilja Schmidt")
    assert dedupe.similar_names("Schmidt, Anna", "Anne Schmitt")  # word order aside
    add("Ella Schmidt")
    add("Ilja Schmidt")
    add("Elli Schmidt")
    add("Ella Schmid")
    keyed()
    assert groups(by=["name"]) == [["Ella Schmidt", "Elli Schmidt", "Ella Schmid"]]
