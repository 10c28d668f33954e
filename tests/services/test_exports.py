"""services.exports: contact records in batches, and the whole database dumped and restored
identically (every table of the schema compared row by row), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import ijson
import pytest

from crmcli import demo
from crmcli.db import open_database
from crmcli.errors import Invalid
from crmcli.models import (
    Activity,
    ContactEmail,
    ContactPhone,
    MergeAlias,
    ReminderLog,
    Setting,
    database_proxy,
)
from crmcli.services import companies, contacts, deals, exports, tasks
from tests.conftest import NOW, PG_URL

# ---------------------------------------------------------------- contact records


def _person(name: str, **values) -> int:
    return contacts.add_contact(name, now=NOW, **values)["id"]


def test_records_carry_every_email_phone_tag_and_field(db):
    cid = _person(
        "Anna Müller", company="Bäckerei Schmidt", city="Köln", tags_=["vip", "b2b"],
        fields=[("kundennr", "4711"), ("url", "https://a.de")],
    )  # fmt: skip
    ContactEmail.insert_many(
        [
            {
                "contact": cid,
                "email": "anna@firma.de",
                "email_key": "anna@firma.de",
                "kind": "work",
                "is_primary": True,
                "position": 0,
            },
            {
                "contact": cid,
                "email": "Anna@privat.de",
                "email_key": "anna@privat.de",
                "kind": "home",
                "is_primary": False,
                "position": 1,
            },
        ]  # fmt: skip
    ).execute()
    ContactPhone.insert(
        contact=cid, phone="0171 1234567", phone_e164="+491711234567", kind="mobile",
        is_primary=True, position=0,
    ).execute()  # fmt: skip
    [record] = list(exports.contact_records())
    assert record["name"] == "Anna Müller"
    assert record["emails"] == [
        {"email": "anna@firma.de", "kind": "work", "primary": True},
        {"email": "Anna@privat.de", "kind": "home", "primary": False},
    ]
    assert record["phones"] == [
        {"phone": "0171 1234567", "e164": "+491711234567", "kind": "mobile", "primary": True}
    ]
    assert record["company"] == "Bäckerei Schmidt" and record["city"] == "Köln"
    assert record["tags"] == ["b2b", "vip"]
    assert record["fields"] == {"kundennr": "4711", "url": "https://a.de"}
    assert record["created_at"] == NOW.astimezone(UTC).isoformat(timespec="seconds")
    assert record["consent"] is False


def test_a_contact_without_email_rows_exports_its_stored_email(db):
    _person("Bernd Brot", email="bernd@brot.de", phone="0221 123456")
    [record] = exports.contact_records()
    assert [e["email"] for e in record["emails"]] == ["bernd@brot.de"]
    assert record["phones"][0]["e164"] == "+49221123456"


def test_birthday_with_and_without_year(db):
    from crmcli.values import parse_birthday

    _person("Mit Jahr", birthday=date(1968, 12, 24))
    _person("Ohne Jahr", birthday=parse_birthday("24.12.", NOW))
    by_name = {r["name"]: r for r in exports.contact_records()}
    assert by_name["Mit Jahr"]["birthday"] == "1968-12-24"
    assert by_name["Ohne Jahr"]["birthday"] == "--12-24"


def test_records_take_the_list_filters_and_come_in_batches(db, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 3)
    for i in range(10):
        _person(f"P{i:02d}", tags_=["vip"] if i % 2 else [], city="Köln" if i < 5 else "Bonn")
    assert [r["name"] for r in exports.contact_records()] == [f"P{i:02d}" for i in range(10)]
    vip = [r["name"] for r in exports.contact_records(tags_=["vip"])]
    assert vip == ["P01", "P03", "P05", "P07", "P09"]
    assert [r["name"] for r in exports.contact_records(tags_=["vip"], city="koeln")] == [
        "P01", "P03",
    ]  # fmt: skip
    assert list(exports.contact_records(tags_=["no such tag"])) == []


def test_records_read_a_batch_at_a_time(db, monkeypatch):
    """One query per batch and related table, never one per contact."""
    monkeypatch.setattr(exports, "BATCH", 4)
    for i in range(9):
        _person(f"P{i}", email=f"p{i}@x.de", tags_=["t"])
    statements: list[str] = []
    real = database_proxy.obj.execute_sql

    def counting(sql, *args, **kwargs):
        statements.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(database_proxy.obj, "execute_sql", counting)
    assert len(list(exports.contact_records())) == 9
    # 3 batches (4, 4, 1): the contacts and 4 related tables each; once the tags, campaigns
    # and keywords.
    assert len(statements) <= 3 * 5 + 3


def test_a_bad_filter_fails_at_the_call(db):
    with pytest.raises(Invalid):
        exports.contact_records(status="nonsense")


def _awkward_contacts() -> None:
    """Contacts every branch of the text export meets: emails with and without rows, the
    primary not first, none primary, tags in name order, several fields, formulas, control
    characters, bidi overrides, quotes and line breaks, birthdays with and without a year,
    consent given, times in the stored form and not."""
    from crmcli.models import Contact, ContactField
    from crmcli.values import parse_birthday

    a = _person(
        'Anna "Ä" Müller', company="=Bäckerei, Schmidt", city="Köln",
        tags_=["vip", "B2b", "äpfel"],
        fields=[("kundennr", "4711"), ("url", "https://a.de"), ("z", "@SUM(1)")],
        birthday=date(1968, 12, 24), consent=True,
    )  # fmt: skip
    ContactEmail.insert_many(
        [
            {"contact": a, "email": "a2@x.de", "email_key": "a2@x.de", "kind": "home",
             "is_primary": False, "position": 0},
            {"contact": a, "email": "a1@x.de", "email_key": "a1@x.de", "kind": "work",
             "is_primary": True, "position": 1},
        ]
    ).execute()  # fmt: skip
    ContactPhone.insert_many(
        [
            {"contact": a, "phone": "+49 221 1", "phone_e164": "+492211", "kind": "work",
             "is_primary": False, "position": 0},
            {"contact": a, "phone": "0171 2", "phone_e164": None, "kind": "mobile",
             "is_primary": False, "position": 1},
        ]
    ).execute()  # fmt: skip
    _person("Bernd Brot", email="bernd@brot.de", phone="0221 123456", notes="-5")
    _person("Carl\u202eevil", notes="Zeile 1\nZeile 2\r\n\tTab \x1b[31m\x9b", position="+1.5")
    _person("Dora", birthday=parse_birthday("24.12.", NOW), source="Messe", owner="Ida")
    e = _person("Emil", fields=[("kundennr", "")], cadence_days=30)
    Contact.update(
        last_activity_at="2026-11-23 09:00:00.123456", consent_at="2026-11-23T09:00:00"
    ).where(Contact.id == e).execute()
    f = _person("Frida", email="frida@x.de")
    Contact.update(created_at="2026-11-23 09:00:00+01:00").where(Contact.id == f).execute()
    ContactField.update(value=42).where(ContactField.contact == e).execute()
    _person("Gustav \u00a0Nbsp\u2028", street='Weg "1", Hinterhaus')


@pytest.mark.sqlite_only
@pytest.mark.parametrize("batch", [2, 2000])
def test_contact_text_batches_write_what_the_records_give(db, monkeypatch, batch):
    """The SQLite fast path (cells and JSON written by SQLite) is byte for byte what
    contact_records, flat_contact and output.write_rows make, in every format."""
    from crmcli.output import write_csv_batches, write_json_texts, write_rows

    monkeypatch.setattr(exports, "BATCH", batch)
    _awkward_contacts()
    keys = exports.contact_field_keys()
    header = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
    for excel in (False, True):
        slow, fast = io.StringIO(), io.StringIO()
        rows = (exports.flat_contact(r, keys) for r in exports.contact_records())
        write_rows(rows, "csv", slow, fields=header, excel=excel)
        write_csv_batches(
            exports.contact_csv_batches(keys), fast, fields=header, excel=excel,
            repair=lambda rows: exports.repair_csv_rows(rows, keys),
        )  # fmt: skip
        assert fast.getvalue() == slow.getvalue()
    for fmt in ("jsonl", "json"):
        slow, fast = io.StringIO(), io.StringIO()
        write_rows(exports.contact_records(), fmt, slow, fields=(), compact=True)
        write_json_texts(exports.contact_json_batches(), fmt, fast)
        assert fast.getvalue() == slow.getvalue()
    vip = exports.contact_json_batches(tags_=["vip"])
    assert [len(b) for b in vip] == [1]
    assert list(exports.contact_json_batches(tags_=["no such tag"])) == []
    with pytest.raises(Invalid):
        exports.contact_csv_batches(keys, status="nonsense")


def test_contact_text_batches_are_for_sqlite(db):
    if database_proxy.obj.__class__.__name__.startswith("Postgres"):
        assert exports.contact_csv_batches([]) is None
        assert exports.contact_json_batches() is None
    else:
        assert exports.contact_json_batches() is not None


def test_flat_contact_lists_every_email_and_phone_primary_first(db):
    cid = _person("Dora")
    ContactEmail.insert_many(
        [
            {
                "contact": cid,
                "email": "privat@d.de",
                "email_key": "privat@d.de",
                "kind": "home",
                "is_primary": False,
                "position": 0,
            },
            {
                "contact": cid,
                "email": "arbeit@d.de",
                "email_key": "arbeit@d.de",
                "kind": "work",
                "is_primary": True,
                "position": 1,
            },
        ]  # fmt: skip
    ).execute()
    ContactPhone.insert_many(
        [
            {
                "contact": cid,
                "phone": "0221 1,5",
                "kind": "home",
                "is_primary": True,
                "position": 0,
            },
            {
                "contact": cid,
                "phone": "0171 2",
                "kind": "mobile",
                "is_primary": False,
                "position": 1,
            },
        ]  # fmt: skip
    ).execute()
    [record] = exports.contact_records()
    row = exports.flat_contact(record, [])
    assert row["email"] == "arbeit@d.de" and row["emails"] == "arbeit@d.de ::: privat@d.de"
    assert row["phone"] == "0221 1,5" and row["phones"] == "0221 1,5 ::: 0171 2"


def test_flat_contact_is_the_csv_shape(db):
    _person("Carla", email="c@x.de", tags_=["a", "b"], fields=[("kdnr", "7")])
    [record] = exports.contact_records()
    row = exports.flat_contact(record, ["kdnr", "other"])
    assert row["email"] == "c@x.de" and row["emails"] == "c@x.de"
    assert row["tags"] == "a, b"
    assert row["field:kdnr"] == "7" and row["field:other"] is None
    assert set(exports.CONTACT_CSV_KEYS) <= set(row)


# ---------------------------------------------------------------- the streaming lists


def test_iter_functions_stream_and_check_filters_first(db):
    for i in range(3):
        companies.add_company(f"Firma {i}", now=NOW)
    rows = companies.iter_companies(sort="name")
    assert not isinstance(rows, list)
    assert [r["name"] for r in rows] == ["Firma 0", "Firma 1", "Firma 2"]
    with pytest.raises(Invalid):
        companies.iter_companies(sort="nonsense")
    with pytest.raises(Invalid):
        deals.iter_deals(sort="nonsense")
    with pytest.raises(Invalid):
        tasks.iter_tasks(state="nonsense")
    assert not isinstance(tasks.iter_tasks(now=NOW), list)
    assert not isinstance(deals.iter_deals(), list)


def test_streamed_lists_read_in_batches_on_either_database(db, monkeypatch):
    from crmcli.services import prepared

    monkeypatch.setattr(prepared, "BATCH", 2)
    contact = _person("Kunde")
    for i in range(5):
        companies.add_company(f"Firma {i}", now=NOW, tags_=["t"])
        deals.add_deal(f"Deal {i}", contact_id=contact, now=NOW)
        tasks.add_task(f"Aufgabe {i}", contact_id=contact, now=NOW)
    assert [r["name"] for r in companies.iter_companies()] == [f"Firma {i}" for i in range(5)]
    assert all(r["tags"] == ["t"] for r in companies.iter_companies())
    assert [r["title"] for r in deals.iter_deals(sort="id")] == [f"Deal {i}" for i in range(5)]
    assert len(list(tasks.iter_tasks(now=NOW))) == 5
    # A stream left half-read does not keep the next one from running.
    next(iter(deals.iter_deals()))
    assert len(list(deals.iter_deals())) == 5


# ---------------------------------------------------------------- dump and restore


def fill_every_table() -> None:
    """The demo plus rows in the tables it leaves empty, and a deleted newest contact (its id
    counter is ahead of the highest id)."""
    demo.fill_demo(contacts=60, now=NOW)
    first, second = [r["id"] for r in contacts.list_contacts(sort="id", limit=2)]
    ContactEmail.delete().where(ContactEmail.contact.in_([first, second])).execute()
    ContactEmail.insert_many(
        [
            {
                "contact": first,
                "email": "eins@example.de",
                "email_key": "eins@example.de",
                "kind": "work",
                "is_primary": True,
                "position": 0,
            },
            {
                "contact": first,
                "email": "Zwei@Example.de",
                "email_key": "zwei@example.de",
                "kind": "home",
                "is_primary": False,
                "position": 1,
            },
        ]  # fmt: skip
    ).execute()
    ContactPhone.delete().where(ContactPhone.contact == first).execute()
    ContactPhone.insert(
        contact=first, phone="+49 (0)221 / 12 34-5", phone_e164="+492211234",
        kind="mobile", is_primary=True, position=0,
    ).execute()  # fmt: skip
    MergeAlias.insert(kind="contact", old_id=9999, new_id=second, merged_at=NOW).execute()
    ReminderLog.insert(key="task:1:2026-11-23", reminded_at=NOW).execute()
    Setting.delete().where(Setting.key == "export-test").execute()
    Setting.insert(key="export-test", value='{"a": "ü"}', updated_at=NOW).execute()
    Activity.update(external_id="message-id:<1@x>").where(Activity.id == 1).execute()
    from crmcli.services import orders, products

    products.add_product("KAF-500", "Kaffee", price_cents=890, vat_bp=700, cost_cents=410, now=NOW)
    order = orders.add_order(
        first, [orders.Item("KAF-500", 2)], discount_bp=1000, external_id="shop-1",
        cost_cents=490, now=NOW,
    )  # fmt: skip
    orders.edit_order(order["id"], {"status": "paid"}, now=NOW)  # a dated status change
    from datetime import date

    from crmcli.models import MailingRecipient
    from crmcli.services import activities, commissions

    commissions.add_commission("Lukas Köhler", 500, basis="orders", valid_from=date(2026, 1, 1))
    activities.log_activity("return", order_id=order["id"], now=NOW)
    MailingRecipient.insert(
        mailing="newsletter-1", template="newsletter", recipient=f"contact:{first}",
        contact=first, email="eins@example.de", sent_at=NOW, message_id="1@x", activity=1,
    ).execute()  # fmt: skip
    contacts.delete_contact(_person("Zuletzt gelöscht"))


def table_rows(db) -> dict[str, list[tuple]]:
    """Every dumped table's rows, sorted, values normalised so SQLite and PostgreSQL compare:
    booleans as 0/1, datetimes and dates as their ISO text."""
    out = {}
    for table in exports.dumped_tables(db):
        columns = [c for c, _ in exports._columns(db, table)]
        names = ", ".join(f'"{c}"' for c in sorted(columns))
        rows = db.execute_sql(f'SELECT {names} FROM "{table}"').fetchall()
        out[table] = sorted((tuple(_norm(v) for v in r) for r in rows), key=repr)
    return out


def _norm(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def counters(db) -> dict[str, int]:
    return {t: v for t, v in exports._sequences(db).items() if t in ("contact", "deal", "task")}


def dump_text(db) -> str:
    out = io.StringIO()
    exports.dump(out.write, crm_version="test", now=NOW)
    return out.getvalue()


def restore(text: str) -> dict[str, int]:
    return exports.restore_dump(ijson.parse(io.BytesIO(text.encode())), crm_version="test")


def _fresh(kind: str, request, tmp_path):
    if kind == "pg":
        if not PG_URL:
            pytest.skip("CRM_TEST_PG is not set")
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "restored.db")


def round_trip(source_target: str, fresh_target: str):
    source = open_database(source_target)
    fill_every_table()
    before, counts_before = table_rows(source), counters(source)
    text = dump_text(source)
    source.close()
    target = open_database(fresh_target)
    counts = restore(text)
    after, counts_after = table_rows(target), counters(target)
    return before, after, counts, counts_before, counts_after, target


@pytest.mark.parametrize("to", ["same", "sqlite"])
def test_dump_and_restore_keep_every_table_identical(db_target, db, to, request, tmp_path):
    db.close()
    backend = "pg" if db_target.startswith("postgresql") else "sqlite"
    fresh = _fresh(backend if to == "same" else to, request, tmp_path)
    before, after, counts, c_before, c_after, target = round_trip(db_target, fresh)
    empty = [t for t, rows in before.items() if not rows]
    assert empty == [], f"fill_every_table leaves {empty} empty: add rows for them"
    assert set(after) == set(before)
    for table in before:
        assert after[table] == before[table], table
    assert counts == {t: len(rows) for t, rows in before.items()}
    # The id counters: the deleted newest contact's id is not handed out again.
    assert c_after["contact"] >= c_before["contact"]
    assert _person("Neu") > c_before["contact"]
    # The search index was rebuilt from the records: a restored contact is found.
    from crmcli.services import search

    first = contacts.list_contacts(sort="id", limit=1)[0]
    hits = search.search(first["name"], limit=100, kinds=["contact"])
    assert first["id"] in [h["id"] for h in hits]
    target.close()


@pytest.mark.sqlite_only
def test_sqlite_dump_restores_into_postgresql(db_target, db, pg_server, request, tmp_path):
    db.close()
    before, after, counts, *_rest, target = round_trip(db_target, request.getfixturevalue("pg_url"))
    for table in before:
        assert after[table] == before[table], table
    target.close()


def test_restore_refuses_a_database_with_records(db):
    _person("Schon da")
    text = dump_text(db)
    with pytest.raises(Invalid, match="not empty"):
        restore(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"format": "something-else", "tables": []}', "not a dump"),
        ("[]", "not a dump"),
        ('{"format": "crmcli-dump", "schema_version": 999, "tables": []}', "newer version"),
        ('{"format": "crmcli-dump", "schema_version": 9, "tables": [{"name": "nope", ', "nope"),
        ('{"format": "crmcli-dump", "schema_version": 9, "tables": '
         '[{"name": "tag", "columns": ["id", "name"], "rows": [[1]]}]}', "does not match"),
        ('{"format": "crmcli-dump", "schema_version": 9, "tables": '
         '[{"name": "tag", "columns": ["id", "bogus"], "rows": []}]}', "lacks"),
        ('{"format": "crmcli-dump", "schema_version": 9}', "no tables"),
    ],
)  # fmt: skip
def test_hostile_dumps_write_nothing(db, text, says):
    with pytest.raises(Invalid, match=says):
        restore(text)
    assert exports.is_empty(db)
    assert db.execute_sql('SELECT COUNT(*) FROM "stage"').fetchone()[0] > 0  # rolled back


def test_a_truncated_dump_writes_nothing(db):
    _person("Weg")
    text = dump_text(db)
    contacts.delete_contact(contacts.list_contacts()[0]["id"])
    assert exports.is_empty(db)
    with pytest.raises(ijson.JSONError):
        restore(text[: len(text) // 2])
    assert exports.is_empty(db)


def test_a_dry_run_restore_counts_the_rows_and_writes_nothing(db):
    _person("Nur gezählt")
    text = dump_text(db)
    contacts.delete_contact(contacts.list_contacts()[0]["id"])
    assert exports.is_empty(db)
    counts = exports.restore_dump(
        ijson.parse(io.BytesIO(text.encode())), crm_version="test", dry_run=True
    )
    assert counts["contact"] == 1
    assert exports.is_empty(db)
