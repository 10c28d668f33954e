"""What a big import does to the database beyond its rows: search index settings and
indexes come back exactly as they were, after a commit and after a rollback."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.models import Contact, database_proxy
from crmcli.services import imports, search
from tests.conftest import NOW

pytestmark = pytest.mark.sqlite_only


def _automerge():
    row = database_proxy.obj.execute_sql(
        "SELECT v FROM search_index_config WHERE k = 'automerge'"
    ).fetchone()
    return row and row[0]


def _rows(count, start=0, bad_at=None):
    for i in range(start, start + count):
        email = "kaputt" if i == bad_at else f"k{i}@beispiel.de"
        yield f"line {i + 2}", {"name": f"Kunde {i}", "email": email, "city": "Köln"}


def test_bulk_writes_turn_automerge_off_inside_and_put_it_back(db):
    setting = "INSERT INTO search_index (search_index, rank) VALUES ('automerge', ?)"
    with database_proxy.atomic():
        database_proxy.obj.execute_sql(setting, (8,))
        with search.bulk_writes():
            assert _automerge() == 0
        assert _automerge() == 8
    with database_proxy.atomic() as txn:  # no setting before: FTS5's default after
        database_proxy.obj.execute_sql("DELETE FROM search_index_config WHERE k = 'automerge'")
        with search.bulk_writes():
            assert _automerge() == 0
        assert _automerge() == 4
        txn.rollback()
    assert _automerge() == 8


def test_a_big_import_leaves_the_search_settings_and_finds_everyone(db):
    before = _automerge()
    result = imports.import_contacts(_rows(2_500), now=NOW)
    assert result.new == 2_500
    assert _automerge() == (before if before is not None else 4)
    assert [h["name"] for h in search.search("kunde 2499")] == ["Kunde 2499"]
    db = database_proxy.obj
    db.execute_sql("INSERT INTO search_index (search_index) VALUES ('integrity-check')")
    stored = db.execute_sql("SELECT rowid, body FROM search_index WHERE rowid % 8 = 1").fetchall()
    assert sorted(stored) == sorted(search.contact_entries())


def test_a_failed_big_import_leaves_the_search_settings(db):
    before = _automerge()
    with pytest.raises(Invalid):
        imports.import_contacts(_rows(2_500, bad_at=2_400), now=NOW)
    assert _automerge() == before
    assert Contact.select().count() == 0


def _schema():
    return sorted(
        database_proxy.obj.execute_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    )


def _indexes_while_importing(monkeypatch):
    """The contact indexes there are as each batch starts."""
    seen: list[set[str]] = []
    batch = imports._Importer.batch

    def watched(self, items, cleaned=None):
        seen.append({
            name for (name,) in database_proxy.obj.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact'"
            )
        })  # fmt: skip
        return batch(self, items, cleaned)

    monkeypatch.setattr(imports._Importer, "batch", watched)
    return seen


def test_a_big_import_builds_the_indexes_it_does_not_read_afterwards(db, monkeypatch):
    database_proxy.obj.execute_sql("ANALYZE")
    stats = sorted(database_proxy.obj.execute_sql("SELECT * FROM sqlite_stat1").fetchall())
    before = _schema()
    seen = _indexes_while_importing(monkeypatch)
    result = imports.import_contacts(_rows(2_500), now=NOW)
    assert result.new == 2_500
    assert _schema() == before
    assert sorted(database_proxy.obj.execute_sql("SELECT * FROM sqlite_stat1").fetchall()) == (
        stats
    )
    assert database_proxy.obj.execute_sql("PRAGMA integrity_check").fetchone() == ("ok",)
    full, *later = seen
    assert all(s == seen[1] for s in later)
    # Dropped while it wrote: not unique, on no column it looks contacts up by.
    assert {"contact_status", "contact_company_id", "contact_name_sound"} <= full - seen[1]
    assert {"contact_email_key", "contact_name_key", "contact_phone_e164"} <= seen[1]
    # ... and made again: the new rows are in them.
    (count,) = database_proxy.obj.execute_sql(
        "SELECT COUNT(*) FROM contact INDEXED BY contact_city_fold WHERE city_fold = 'koln'"
    ).fetchone()
    assert count == 2_500


@pytest.mark.parametrize("how", ["rejects", "dry run"])
def test_an_import_that_writes_nothing_leaves_the_indexes(db, monkeypatch, how):
    before = _schema()
    seen = _indexes_while_importing(monkeypatch)
    if how == "rejects":
        with pytest.raises(Invalid):
            imports.import_contacts(_rows(2_500, bad_at=2_400), now=NOW)
    else:
        assert imports.import_contacts(_rows(2_500), now=NOW, dry_run=True).new == 2_500
    assert len(seen[0]) > len(seen[1])  # they were dropped
    assert _schema() == before
    assert Contact.select().count() == 0


def test_an_import_into_a_big_table_keeps_its_indexes(db, monkeypatch):
    from crmcli.services import import_indexes

    imports.import_contacts(_rows(1_500), now=NOW)
    monkeypatch.setattr(import_indexes, "SMALL", 1_000)
    seen = _indexes_while_importing(monkeypatch)
    assert imports.import_contacts(_rows(1_500, start=1_500), now=NOW).new == 1_500
    assert seen[0] == seen[1]


def test_new_contacts_times_are_stored_as_a_bound_datetime_would_be(db):
    """The import binds the adapted text of its clock once: the text SQLite stored when
    each row bound the datetime itself."""
    imports.import_contacts(_rows(3), now=NOW)
    db = database_proxy.obj
    stamp = Contact.created_at.db_value(NOW)
    (expected,) = db.execute_sql("SELECT ?", (stamp,)).fetchone()
    stored = db.execute_sql("SELECT DISTINCT created_at, updated_at FROM contact").fetchall()
    assert stored == [(expected, expected)]
