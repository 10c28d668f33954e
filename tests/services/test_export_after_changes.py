"""A whole contact export made by SQLite (exports_sqlite) after every kind of change to what
its lines show writes byte for byte what the general path (contact_records, flat_contact,
write_rows) writes; so does one of data another program wrote in shapes crm never does."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from crmcli.models import CampaignKeyword, ContactEmail, ContactPhone, database_proxy
from crmcli.services import (
    activities,
    campaigns,
    companies,
    contacts,
    exports,
    imports,
    merge,
    tags,
)
from tests.conftest import NOW
from tests.services.test_exports import _awkward_contacts, _person
from tests.services.test_exports_sqlite import (
    _general_csv,
    _general_json,
    _more_awkward,
    _whole_csv,
    _whole_json,
)

pytestmark = pytest.mark.sqlite_only


def _matches() -> None:
    """Every format of a whole export is the general path's."""
    keys = exports.contact_field_keys()
    for excel in (False, True):
        assert _whole_csv(keys, excel) == _general_csv(keys, excel)
    for fmt in ("jsonl", "json"):
        assert _whole_json(fmt) == _general_json(fmt)


@pytest.fixture
def people(db):
    _awkward_contacts()
    _more_awkward()
    anna = _person(
        "Anna Stale", email="anna@stale.de", phone="0221 555", company="Firma Stale",
        tags_=["mitte", "zz"], fields=[("kundennr", "K-1")],
    )  # fmt: skip
    bert = _person("Bert Stale", email="bert@stale.de", company="Firma Stale", tags_=["mitte"])
    _matches()
    return {"anna": anna, "bert": bert}


def _rename_tag(ids):
    tags.edit_tag("mitte", {"name": "Aaa zuerst"})  # also its place among the contact's tags


def _delete_tag(ids):
    tags.delete_tag(tags.resolve_tag("zz"))


def _rename_company(ids):
    companies.edit_company(companies.resolve_company("Firma Stale"), {"name": "Firma Neu"})


def _delete_company(ids):
    companies.delete_company(companies.resolve_company("Firma Stale"))


def _edit_email(ids):
    contacts.edit_contact(ids["anna"], {"email": "neu@stale.de"}, add_emails=["zwei@stale.de"])


def _edit_phone(ids):
    contacts.edit_contact(ids["anna"], {}, add_phones=["0171 99"], remove_phones=["0221 555"])


def _phone_kind(ids):
    ContactPhone.update(kind="mobile").where(ContactPhone.contact == ids["anna"]).execute()


def _tag_untag(ids):
    contacts.edit_contact(ids["bert"], {}, add_tags=["neu"], remove_tags=["mitte"])


def _new_field_key(ids):  # a new CSV column for every contact
    contacts.edit_contact(ids["bert"], {}, fields=[("aaa", "1")])


def _field_key_gone(ids):
    contacts.edit_contact(ids["anna"], {}, fields=[("kundennr", "")])


def _merge(ids):
    merge.merge_contacts(ids["anna"], [ids["bert"]], force=True, now=NOW)


def _delete(ids):
    contacts.delete_contact(ids["bert"])
    _person("Nach Bert")


def _import(ids):
    rows = [
        ("line 2", {"name": "Anna Stale", "emails": [{"email": "anna@stale.de"}],
                    "city": "Bonn", "tags": ["importiert"]}),
        ("line 3", {"name": "Neu Importiert", "emails": [{"email": "neu@import.de"}]}),
    ]  # fmt: skip
    result = imports.import_contacts(rows, now=NOW)
    assert (result.new, result.updated) == (1, 1)


def _log_call(ids):  # the contact's last activity
    activities.log_activity("call", contact_id=ids["anna"], body="Rückruf", now=NOW)


def _campaign(ids):
    ad = campaigns.add_campaign("Herbst", keywords=["kaffee"], now=NOW)["id"]
    contacts.edit_contact(ids["anna"], {"campaign": "Herbst", "keyword": "kaffee"})
    _matches()
    campaigns.edit_campaign(ad, {"name": "Winter"})
    _matches()
    CampaignKeyword.update(keyword="tee").execute()


def _positions_tied(ids):  # rows at one position: by id, as the general path lists them
    contacts.edit_contact(ids["anna"], {}, add_emails=["b@stale.de", "a@stale.de"])
    contacts.edit_contact(ids["anna"], {}, add_phones=["0221 777777", "0221 666666"])
    conn = sqlite3.connect(str(database_proxy.obj.path))
    with conn:
        for table in ("contact_email", "contact_phone"):
            conn.execute(f"UPDATE {table} SET position = 0 WHERE contact_id = ?", (ids["anna"],))
    conn.close()


def _another_program(ids):  # a write by a plain connection, not crm's services
    conn = sqlite3.connect(str(database_proxy.obj.path))
    with conn:
        conn.execute("UPDATE contact SET city = 'Bonn' WHERE id = ?", (ids["bert"],))
        conn.execute("UPDATE company SET name = 'Anders' WHERE name = 'Firma Stale'")
    conn.close()


@pytest.mark.parametrize(
    "change",
    [
        _rename_tag, _delete_tag, _rename_company, _delete_company, _edit_email, _edit_phone,
        _phone_kind, _tag_untag, _new_field_key, _field_key_gone, _merge, _delete, _import,
        _log_call, _campaign, _positions_tied, _another_program,
    ],
)  # fmt: skip
def test_a_change_is_in_the_next_export(people, change: Callable):
    change(people)
    _matches()


def _nul_in(sql: str, *params) -> None:
    conn = sqlite3.connect(str(database_proxy.obj.path))
    with conn:
        conn.execute(sql, params)
    conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE contact SET notes = 'vor' || char(0) || 'nach' WHERE id = ?",
        "UPDATE contact SET name = 'Anna' || char(0) WHERE id = ?",
        "UPDATE contact SET city = char(0) WHERE id = ?",
        "UPDATE contact SET phone = '+49' || char(0) || '1' WHERE id = ?",
        "UPDATE contact SET email = 'b' || char(0) || '@x.de' WHERE id = ?",
        "UPDATE contact_email SET email = email || char(0) WHERE contact_id = ? AND NOT is_primary",
        "UPDATE contact_phone SET kind = 'x' || char(0) WHERE contact_id = ?",
        "UPDATE tag SET name = 'zz' || char(0) || 'zz' WHERE name = 'zz' AND ? > 0",
        "UPDATE contact_field SET value = 'K' || char(0) WHERE contact_id = ?",
        "UPDATE company SET name = 'Firma' || char(0) WHERE id IN "
        "(SELECT company_id FROM contact WHERE id = ?)",
    ],
)
def test_a_nul_another_program_wrote_is_written_as_the_general_path_does(people, sql):
    """printf, which puts a line's cells together, would end a value at a NUL: a line with
    one is made again the general way (crm itself never stores one)."""
    _nul_in(sql, people["anna"])
    if "contact_email" in sql:  # anna has one email: give her a second one first
        contacts.edit_contact(people["anna"], {}, add_emails=["zwei@stale.de"])
        _nul_in(sql, people["anna"])
    _matches()


@pytest.mark.parametrize("column", ["email", "phone"])
def test_a_nul_in_the_own_email_or_phone_of_a_contact_without_rows(people, column):
    """A contact written before emails and phones had rows of their own: its own column is
    the cell, and a NUL in it is caught there too."""
    who = _person("Ohne Zeilen", email="ohne@x.de", phone="0221 123456")
    ContactEmail.delete().where(ContactEmail.contact == who).execute()
    ContactPhone.delete().where(ContactPhone.contact == who).execute()
    _matches()
    _nul_in(f"UPDATE contact SET {column} = {column} || char(0) || 'x' WHERE id = ?", who)
    _matches()


def test_a_nul_in_a_campaign_or_among_several_field_keys_too(people):
    ad = campaigns.add_campaign("Herbst", keywords=["kaffee"], now=NOW)["id"]
    contacts.edit_contact(people["anna"], {"campaign": "Herbst", "keyword": "kaffee"})
    for key in ("a", "b", "c"):  # more than two keys: one look-up reads them all
        contacts.edit_contact(people["bert"], {}, fields=[(key, "1")])
    _nul_in("UPDATE campaign SET name = name || char(0) WHERE id = ?", ad)
    _nul_in("UPDATE campaign_keyword SET keyword = char(0) WHERE campaign_id = ?", ad)
    _nul_in("UPDATE contact_field SET value = char(0) WHERE key = 'b' AND contact_id = ?",
            people["bert"])  # fmt: skip
    _matches()
