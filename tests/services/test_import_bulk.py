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
