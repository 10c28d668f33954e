"""What search finds a contact by (issue 15): its company's city when it has none of its own,
its phone numbers however a caller id writes them, and its custom-field values; the entries
stay in step when the company or the link changes."""

from __future__ import annotations

import pytest

from crmcli.services import bulk, companies, contacts, search


def found(query: str, kind: str | None = None) -> list[str]:
    return [h["name"] for h in search.search(query, kinds=[kind] if kind else [])]


@pytest.fixture
def mueller(db):
    companies.add_company("Müller Bau GmbH", city="Köln", phone="0221 1234567")
    return contacts.add_contact(
        "Jürgen Müller", company="müller bau", phone="040/48977063",
        fields=[("kundennummer", "K-10849"), ("zahlungsziel", "30 Tage")],
    )  # fmt: skip


def test_a_contact_is_found_through_its_companys_city(mueller):
    assert found("jürgen köln") == ["Jürgen Müller"]
    assert set(found("müll koeln")) == {"Jürgen Müller", "Müller Bau GmbH"}
    # Its own city wins: then the company's city is not its.
    contacts.edit_contact(mueller["id"], {"city": "Bonn"})
    assert found("jürgen köln") == []
    assert found("jürgen bonn") == ["Jürgen Müller"]


@pytest.mark.parametrize(
    "query",
    [
        "040/48977063", "040 48977063", "04048977063", "+494048977063", "+49 40 48977063",
        "+49 (0)40 48977063", "0049 40 48977063", "494048977063", "48977063", "977063",
        "040-489", "+49 40 4897",
    ],
)  # fmt: skip
def test_a_caller_id_finds_the_contact(mueller, query):
    assert found(query, "contact") == ["Jürgen Müller"]


def test_short_or_wrong_numbers_find_nothing(mueller):
    assert found("77063", "contact") == []  # fewer than 6 last digits
    assert found("48977064", "contact") == []
    assert found("+43 40 48977063", "contact") == []


def test_a_company_switchboard_number_finds_the_company(mueller):
    assert found("0221 1234567") == ["Müller Bau GmbH"]
    assert found("+492211234567") == ["Müller Bau GmbH"]


def test_phone_words():
    assert search.phone_words("040/48977063", "+494048977063") == (
        "494048977063 04048977063 zz360779840494"
    )
    assert search.phone_words("+43 1 234567", "+431234567") == "431234567 01234567 zz765432134"
    # a number stored without its E.164 form (older rows): its digits as written
    assert search.phone_words("0170 / 1234567", None) == "01701234567 zz76543210710"
    assert search.phone_words("1234", None) == ""
    assert search.phone_words(None, None) == ""


def test_custom_field_values_are_found(mueller):
    assert found("K-10849") == ["Jürgen Müller"]
    assert found("k-10849") == ["Jürgen Müller"]
    assert found("30 tage") == ["Jürgen Müller"]
    contacts.edit_contact(mueller["id"], {}, fields=[("kundennummer", "")])
    assert found("K-10849") == []


def test_entries_follow_the_company_city_and_the_link(mueller):
    firm = mueller["company_id"]
    companies.edit_company(firm, {"city": "Düsseldorf"})
    assert found("jürgen köln") == []
    assert found("jürgen duesseldorf") == ["Jürgen Müller"]
    companies.add_company("Andere GmbH", city="Hamburg")
    contacts.edit_contact(mueller["id"], {"company": "Andere GmbH"})
    assert found("jürgen hamburg") == ["Jürgen Müller"]
    assert found("jürgen düsseldorf") == []
    companies.delete_company(companies.resolve_company("Andere GmbH"), contacts="keep")
    assert found("jürgen hamburg") == []
    assert found("jürgen") == ["Jürgen Müller"]


def test_bulk_edits_keep_entries_in_step(mueller):
    bulk.edit("company", {"city": "köln"}, {"city": "Bremen"})
    assert found("jürgen bremen") == ["Jürgen Müller"]
    bulk.edit("contact", {"city": "bremen"}, {"phone": "0421 555666"})
    assert found("0421555666") == ["Jürgen Müller"]
    assert found("48977063") == []
    bulk.edit("contact", {"city": "bremen"}, {}, fields=[("kundennummer", "K-20000")])
    assert found("K-20000") == ["Jürgen Müller"]


def test_entries_equal_a_rebuild(mueller):
    """However they were written, the entries equal those a rebuild makes."""
    companies.edit_company(mueller["company_id"], {"city": "Bonn", "phone": "0228 987654"})
    before = dict(search._stored([r for r, _ in search.contact_entries()]))
    search.rebuild()
    after = dict(search._stored([r for r, _ in search.contact_entries()]))
    assert before == after
    assert search.missing_entries() == {"contact": 0, "company": 0, "activity": 0, "deal": 0}


def test_the_phone_suffix_mark_is_not_a_search_for_everyone_with_a_phone(db):
    contacts.add_contact("Anna Weiß", phone="040 48977063")
    assert search.search("zz") == []
    assert search.search("zz3607798") == []
    assert [h["name"] for h in search.search("48977063")] == ["Anna Weiß"]
