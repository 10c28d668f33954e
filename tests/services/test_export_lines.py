"""The export lines a whole contact export stores (export_csv, export_json, migration 0015)
and reads on the next run: whatever changed in between, the next export writes byte for
byte what the general path (contact_records, flat_contact, write_rows) writes."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Callable

import pytest

from crmcli.models import CampaignKeyword, Company, Contact, ContactPhone, database_proxy
from crmcli.output import write_csv_chunks
from crmcli.services import (
    activities,
    campaigns,
    companies,
    contacts,
    export_lines,
    exports,
    exports_sqlite,
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


def _stored(table: str) -> int:
    return database_proxy.obj.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0]


def _contacts() -> int:
    return Contact.select().count()


def _matches() -> None:
    """Every format of a whole export is the general path's, and so is it again (now read
    from the lines the first run stored)."""
    for _ in range(2):
        keys = exports.contact_field_keys()
        for excel in (False, True):
            assert _whole_csv(keys, excel) == _general_csv(keys, excel)
        for fmt in ("jsonl", "json"):
            assert _whole_json(fmt) == _general_json(fmt)


def _made(kind: str) -> str:
    """The made-here flags of every line of a whole export of `kind` (csv or json)."""
    with exports_sqlite.shared_snapshot(2) as readers:
        if kind == "csv":
            chunks = exports_sqlite.csv_chunks(readers, exports.contact_field_keys())
        else:
            chunks = exports_sqlite.json_chunks(readers)
        return "".join(chunk.made for chunk in chunks)


@pytest.fixture
def people(db):
    _awkward_contacts()
    _more_awkward()
    anna = _person(
        "Anna Stale", email="anna@stale.de", phone="0221 555", company="Firma Stale",
        tags_=["mitte", "zz"], fields=[("kundennr", "K-1")],
    )  # fmt: skip
    bert = _person("Bert Stale", email="bert@stale.de", company="Firma Stale", tags_=["mitte"])
    _matches()  # the lines are stored now
    assert _stored("export_csv") == _stored("export_json") == _contacts()
    return {"anna": anna, "bert": bert}


def test_lines_are_stored_then_read_not_made(people):
    assert set(_made("csv")) == set(_made("json")) == {"0"}
    Contact.update(name="Anna Neu").where(Contact.id == people["anna"]).execute()
    assert _made("csv").count("1") == 1 and _made("json").count("1") == 1
    _matches()


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
        _log_call, _campaign, _another_program,
    ],
)  # fmt: skip
def test_a_change_is_in_the_next_export(people, change: Callable):
    change(people)
    _matches()


def test_a_commit_after_the_snapshot_began_stores_nothing(db):
    """The lines made in a snapshot are stored only while nothing else was committed since:
    a line made before a change would be stale."""
    for i in range(6):
        _person(f"Vorher {i}", email=f"v{i}@x.de")
    with exports_sqlite.shared_snapshot(2) as readers:
        writer = sqlite3.connect(str(db.path))
        with writer:
            writer.execute("UPDATE contact SET name = 'Danach' WHERE id = 2")
        writer.close()
        assert "Danach" not in "".join(
            c.data.decode() for c in exports_sqlite.csv_chunks(readers, [])
        )
    assert _stored("export_csv") == 0
    _matches()


def test_a_writer_at_work_leaves_the_lines_unstored(db):
    for i in range(3):
        _person(f"P {i}")
    writer = sqlite3.connect(str(db.path), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with exports_sqlite.shared_snapshot(2) as readers:
            assert readers == [] and readers.filler is None
            list(exports_sqlite.csv_chunks(readers, []))
        assert _stored("export_csv") == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_without_every_trigger_no_line_is_used_or_stored(people):
    """A table rebuilt without its triggers (by some later migration) would leave stale
    lines: then none is trusted."""
    db = database_proxy.obj
    db.execute_sql("DROP TRIGGER export_company_rename")
    assert not export_lines.kept_lines()
    Company.update(name="Ohne Trigger").execute()
    before = _stored("export_csv")
    _matches()
    assert set(_made("csv")) == {"1"} and _stored("export_csv") == before


def test_a_tag_shared_by_many_is_forgotten_for_each(db):
    ids = [_person(f"P {i}", tags_=["gruppe"]) for i in range(5)]
    other = _person("Ohne")
    _matches()
    tags.edit_tag("gruppe", {"name": "Team"})
    stored = {r[0] for r in db.execute_sql("SELECT contact_id FROM export_csv").fetchall()}
    assert stored == {other}
    assert not set(ids) & stored
    _matches()


def test_a_row_of_a_contact_forgets_its_lines_by_equality(db):
    """The triggers that fire for every row an import writes compare ids with `=`: an
    `IN (...)` list costs a temporary table each time (an import 25x slower per row)."""
    bodies = [
        sql
        for (sql,) in db.execute_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'export_*'"
        ).fetchall()
    ]
    assert len(bodies) == export_lines.TRIGGERS
    assert not [sql for sql in bodies if "IN (NEW." in sql or "IN (OLD." in sql]


def _triggers() -> list[tuple[str, str]]:
    return database_proxy.obj.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).fetchall()


def _rows(count: int, start: int = 0, bad_at: int | None = None):
    for i in range(start, start + count):
        email = "kaputt" if i == bad_at else f"k{i}@beispiel.de"
        yield f"line {i + 2}", {"name": f"Kunde {i}", "email": email, "tags": ["neu"]}


def test_a_big_import_with_no_line_stored_lets_the_triggers_rest(db, monkeypatch):
    """They have nothing to delete; they are made again exactly, also after a rollback."""
    from crmcli.errors import Invalid

    monkeypatch.setattr(imports, "BATCH", 3)
    before = _triggers()
    dropped = []
    real = export_lines.resting

    def resting():
        with real():
            dropped.append(len(_triggers()))
            yield

    monkeypatch.setattr(export_lines, "resting", contextlib.contextmanager(resting))
    assert imports.import_contacts(_rows(10), now=NOW).new == 10
    assert dropped == [len(before) - export_lines.TRIGGERS]
    assert _triggers() == before
    with pytest.raises(Invalid):
        imports.import_contacts(_rows(10, start=20, bad_at=25), now=NOW)
    assert _triggers() == before
    _matches()


def test_a_big_import_with_lines_stored_has_them_forgotten(db, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 3)
    imports.import_contacts(_rows(10), now=NOW)
    _matches()
    before = _triggers()
    rows = [(line, {**row, "city": "Bonn"}) for line, row in _rows(6, start=8)]
    result = imports.import_contacts(rows, now=NOW)
    assert (result.new, result.updated) == (4, 2)
    assert _triggers() == before
    assert _stored("export_csv") == 8
    _matches()


def test_an_export_reading_stored_lines_is_one_snapshot(db):
    """A change committed while an export runs is in none of its lines, stored or made (the
    trigger's delete is that later commit's too), and nothing made then is stored."""
    for i in range(6):
        _person(f"Vorher {i}", email=f"v{i}@x.de")
    _matches()
    keys = exports.contact_field_keys()
    expected = _general_csv(keys, excel=False)
    Contact.update(city="Köln").where(Contact.id == 3).execute()  # one line to make
    expected_made = _general_csv(keys, excel=False)
    assert expected_made != expected
    with exports_sqlite.shared_snapshot(2) as readers:
        writer = sqlite3.connect(str(db.path))
        with writer:
            writer.execute("UPDATE contact SET name = 'Danach' WHERE id IN (2, 3)")
        writer.close()
        header = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
        out = io.StringIO()
        write_csv_chunks(
            exports_sqlite.csv_chunks(readers, keys), out, fields=header, remake=lambda ids: {}
        )
    assert out.getvalue() == expected_made
    assert _stored("export_csv") == 4  # the lines of 2 and 3 were forgotten, none stored
    _matches()
