"""services.exports_sqlite: a whole contact export whose lines SQLite makes, a batch at a
time by several connections in one snapshot, writes byte for byte what contact_records,
flat_contact and output.write_rows write."""

from __future__ import annotations

import io

import pytest

from crmcli.models import Contact, ContactEmail, ContactPhone, ContactTag, Tag
from crmcli.output import write_csv_chunks, write_json_chunks, write_rows
from crmcli.services import exports, exports_sqlite
from tests.conftest import NOW
from tests.services.test_exports import _awkward_contacts, _person

pytestmark = pytest.mark.sqlite_only


def _more_awkward() -> None:
    """Shapes the merge meets beyond _awkward_contacts: two primary emails with another
    between them, none primary, one not primary, tags with separators, quotes and formulas
    in their names, a risky phone, a comma or a semicolon in a cell, a contact whose email
    is only its own column, one with nothing related, several tags (a quoted cell in a plain
    batch)."""
    two = _person("Zwei Primär", email="z1@x.de")
    ContactEmail.insert_many(
        [
            {"contact": two, "email": f"{name}@x.de", "email_key": f"{name}@x.de",
             "kind": "home", "is_primary": primary, "position": i}
            for i, name, primary in ((1, "z3", False), (2, "z2", True))
        ]
    ).execute()  # fmt: skip
    none = _person("Keiner")
    ContactEmail.insert_many(
        [
            {"contact": none, "email": f"k{i}@x.de", "email_key": f"k{i}@x.de",
             "kind": "work", "is_primary": False, "position": i}
            for i in (1, 0)
        ]
    ).execute()  # fmt: skip
    one = _person("Einer")
    ContactPhone.insert(
        contact=one, phone="0221 5", phone_e164=None, kind="work", is_primary=False,
        position=0,
    ).execute()  # fmt: skip
    odd = _person("Tags", tags_=['c"d', "e;f"], phone="+49 221 999", notes="x, y; z")
    # a comma in a tag's name: crm refuses one, another program writing the file may not
    comma = Tag.insert(name="a,b", name_fold="a,b", created_at=NOW, updated_at=NOW).execute()
    ContactTag.insert(contact=odd, tag=comma).execute()
    # the character the fast path puts between cells, inside a value: that line is remade
    unit = _person("Einheit", notes="a\x1fb")
    assert unit
    _person("Formel", tags_=["-minus"], position="@home")
    _person("Mehr Tags", tags_=["vip", "b2b"], notes="plain")
    own = _person("Alt", email="alt@x.de", phone="0221 7654321")
    ContactEmail.delete().where(ContactEmail.contact == own).execute()
    ContactPhone.delete().where(ContactPhone.contact == own).execute()
    _person("Nichts")
    # phone numbers as another program may have stored them: a plain number stays, one
    # with more after its sign gets a ', digits of another script are digits to Python
    for i, phone in enumerate(("+4922199", "+1,5", "+1.2.3", "=1+1", "+\u0661\u0662", "-")):
        who = _person(f"Nummer {i}")
        ContactPhone.insert(
            contact=who, phone=phone, phone_e164=None, kind="work", is_primary=True, position=0
        ).execute()
        Contact.update(phone=phone).where(Contact.id == who).execute()
    drift = _person("Abweichung", email="richtig@x.de")
    Contact.update(email="alt@x.de").where(Contact.id == drift).execute()
    for i in range(5):
        _person(f"Plain {i}", email=f"p{i}@x.de", tags_=["vip", "b2b"])
    # what brought a contact: a campaign with a keyword, one without, a formula and a quote
    from crmcli.services import campaigns

    ads = campaigns.add_campaign('=Ads, "Herbst"', keywords=["kaffee; bohnen"], now=NOW)["id"]
    kaffee = campaigns.ensure_keywords(ads, ["kaffee; bohnen"])[0]
    Contact.update(campaign=ads, keyword=kaffee).where(Contact.name == "Plain 0").execute()
    Contact.update(campaign=ads).where(Contact.name == "Plain 1").execute()


def _general_csv(keys, excel: bool) -> str:
    header = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
    out = io.StringIO()
    rows = (exports.flat_contact(r, keys) for r in exports.contact_records())
    write_rows(rows, "csv", out, fields=header, excel=excel)
    return out.getvalue()


def _whole_csv(keys, excel: bool, extra: int = 2) -> str:
    header = [*exports.CONTACT_CSV_KEYS, *(exports.FIELD_PREFIX + k for k in keys)]
    out = io.StringIO()
    with exports_sqlite.shared_snapshot(extra) as readers:
        assert len(readers) == extra
        write_csv_chunks(
            exports_sqlite.csv_chunks(readers, keys), out, fields=header,
            excel=excel, remake=lambda ids: exports_sqlite.remake_csv_rows(ids, keys),
        )  # fmt: skip
    return out.getvalue()


def _whole_json(fmt: str, extra: int = 2) -> str:
    out = io.StringIO()
    with exports_sqlite.shared_snapshot(extra) as readers:
        write_json_chunks(
            exports_sqlite.json_chunks(readers), fmt, out, remake=exports_sqlite.remake_json
        )
    return out.getvalue()


@pytest.mark.parametrize("extra", [0, 2])
@pytest.mark.parametrize("lines", [1, 3, 2000])
def test_whole_export_writes_what_the_records_give(db, monkeypatch, lines, extra):
    monkeypatch.setattr(exports_sqlite, "LINES", lines)
    _awkward_contacts()
    _more_awkward()
    keys = exports.contact_field_keys()
    assert exports.contact_records().whole
    for excel in (False, True):
        assert _whole_csv(keys, excel, extra) == _general_csv(keys, excel)
    for fmt in ("jsonl", "json"):
        slow = io.StringIO()
        write_rows(exports.contact_records(), fmt, slow, fields=(), compact=True)
        assert _whole_json(fmt, extra) == slow.getvalue()


def test_phone_numbers_are_defused_as_python_does(db):
    _more_awkward()
    text = _whole_csv([], excel=False)
    assert ",+4922199,,+4922199," in text and ',"+1,5",,"+1,5",' in text
    assert ",'+1.2.3,,'+1.2.3," in text and ",'=1+1,,'=1+1," in text and ",'-,,'-," in text
    assert ",+\u0661\u0662,,+\u0661\u0662," in text
    assert text == _general_csv([], excel=False)


def test_the_readers_share_one_snapshot(db, monkeypatch):
    """A write committed while the export runs is in none of its batches, whichever
    connection makes them."""
    import sqlite3

    monkeypatch.setattr(exports_sqlite, "LINES", 2)
    for i in range(9):
        _person(f"Vorher {i}", email=f"v{i}@x.de")
    header = [*exports.CONTACT_CSV_KEYS]
    out = io.StringIO()
    with exports_sqlite.shared_snapshot(3) as readers:
        assert len(readers) == 3
        writer = sqlite3.connect(str(db.path), timeout=5)
        with writer:  # the lock that lined the readers up is let go: a write gets through
            writer.execute("UPDATE contact SET name = 'Danach' WHERE id % 2 = 0")
            writer.execute("DELETE FROM contact WHERE id = 3")
        writer.close()
        count = write_csv_chunks(
            exports_sqlite.csv_chunks(readers, []), out, fields=header, remake=lambda ids: {}
        )
    assert count == 9
    assert "Danach" not in out.getvalue() and ",Vorher 2," in out.getvalue()


def test_a_writer_at_work_leaves_one_reader(db):
    """While another connection holds the write lock the readers cannot be lined up: the
    batches are made one after the other on the caller's connection, the same file."""
    import sqlite3

    _awkward_contacts()
    keys = exports.contact_field_keys()
    writer = sqlite3.connect(str(db.path), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with exports_sqlite.shared_snapshot(2) as readers:
            assert readers == []
        assert _whole_csv(keys, excel=False, extra=0) == _general_csv(keys, excel=False)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_failing_batch_stops_the_readers(db, monkeypatch):
    """An error in a reader's thread reaches the one writing the batches, and no thread
    is left running."""
    import threading

    monkeypatch.setattr(exports_sqlite, "LINES", 1)
    for i in range(6):
        _person(f"P {i}")
    before = threading.active_count()
    with exports_sqlite.shared_snapshot(2) as readers:
        chunks = exports_sqlite._chunks(readers, "SELECT no_such_column", ())
        with pytest.raises(Exception, match="no_such_column"):
            list(chunks)
    assert threading.active_count() == before

    class Full(io.StringIO):
        def write(self, text):
            if self.tell() > 200:
                raise OSError(28, "No space left on device")
            return super().write(text)

    with pytest.raises(OSError), exports_sqlite.shared_snapshot(2) as readers:
        chunks = exports_sqlite.csv_chunks(readers, [])
        write_csv_chunks(chunks, Full(), fields=exports.CONTACT_CSV_KEYS, remake=dict)
    assert threading.active_count() == before  # stopped before their connections closed


def test_lines_are_quoted_and_defused_from_their_cells_without_remaking_them(db, monkeypatch):
    """A batch with lines that need quoting (several tags) or defusing (a note like a
    formula) has those lines' cells quoted and defused as the general path does, without
    reading the rows again: only a line SQLite could not make (a NUL) is remade."""
    for i in range(6):
        _person(f"Plain {i}", email=f"p{i}@x.de", tags_=["vip", "b2b"], fields=[("k", "v")])
    _person("Risky", notes="=1+1")
    remade: list[list[int]] = []
    keys = exports.contact_field_keys()
    monkeypatch.setattr(exports_sqlite, "LINES", 3)
    real = exports_sqlite.remake_csv_rows

    def remake(ids, keys):
        remade.append(ids)
        return real(ids, keys)

    monkeypatch.setattr(exports_sqlite, "remake_csv_rows", remake)
    text = _whole_csv(keys, excel=False)
    assert remade == []
    assert text == _general_csv(keys, excel=False)
    assert '"b2b, vip"' in text and "'=1+1" in text


def _general_json(fmt: str) -> str:
    out = io.StringIO()
    write_rows(exports.contact_records(), fmt, out, fields=(), compact=True)
    return out.getvalue()


@pytest.mark.parametrize("keys", [1, 2, 3])
def test_related_tables_may_be_empty(db, keys):
    """And one custom field key in use (looked up), two, or more (aggregated)."""
    _person("Nur Name")
    _person("Mit Feld", fields=[(f"k{i}", f"v{i}") for i in range(keys)])
    _person("Ein Feld", fields=[("k0", "w")])
    ContactTag.delete().execute()
    keys_ = exports.contact_field_keys()
    assert len(keys_) == keys
    assert _whole_csv(keys_, excel=False) == _general_csv(keys_, excel=False)
    assert _whole_json("jsonl") == _general_json("jsonl")
    Contact.delete().execute()
    assert _whole_csv(keys_, excel=False) == _general_csv(keys_, excel=False)
    for fmt in ("jsonl", "json"):
        assert _whole_json(fmt) == _general_json(fmt)


def test_a_filtered_export_is_not_whole(db):
    _person("Anna", tags_=["vip"])
    assert exports.contact_records().whole
    assert not exports.contact_records(tags_=["vip"]).whole
    assert not exports.contact_records(tags_=["no such tag"]).whole
