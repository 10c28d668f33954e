"""The same code on PostgreSQL: opening and upgrading, services, REFs, search, check and the CLI.

Collected only when CRM_TEST_PG names a server (see tests/conftest.py); each test gets an empty
schema there that crm sees as a database of its own. The `db` and `crm` fixtures point at it.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from crmcli import db as dbmod
from crmcli.errors import Ambiguous, DatabaseError, NotFound
from crmcli.services import companies, contacts, maintenance, search
from tests.conftest import NOW


def other_login(url: str, password: str, database: str) -> str:
    """`url` with another password and database name (and no other parameters)."""
    parts = urlsplit(url)
    netloc = f"{parts.username or 'crm'}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}", query=""))


def shipped_migrations() -> list[str]:
    return sorted(p.stem for p in dbmod.MIGRATIONS_DIR.glob("[0-9]*.py"))


# ---------------------------------------------------------------- opening and upgrading


def test_open_migrates_and_reopening_runs_nothing(pg_url):
    database = dbmod.open_database(pg_url)
    from peewee import PostgresqlDatabase

    assert isinstance(database, PostgresqlDatabase)
    assert type(database).__name__ == "PostgresqlDatabase"  # what services/exports.py asks
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    status = dbmod.migration_status(database)
    assert [name for name, _ in status] == shipped_migrations()
    assert shipped_migrations()[-1].startswith(f"{dbmod.SCHEMA_VERSION:04d}_")
    assert all(applied for _, applied in status)
    assert {"contact", "company", "tag", "search_index"} <= set(database.get_tables())
    database.close()

    again = dbmod.open_database(pg_url)
    assert dbmod.ensure_schema(again) == []
    assert len(dbmod.migration_status(again)) == len(status)
    again.close()


def test_two_processes_opening_a_new_database_migrate_it_once(pg_url):
    results: list = []

    def open_and_migrate():
        database = dbmod._postgres(pg_url)
        try:
            results.append(dbmod.ensure_schema(database))
        except Exception as exc:  # a failure must show up in the assertion below
            results.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=open_and_migrate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shipped = shipped_migrations()
    assert sorted(results, key=len) == [[], shipped]


def test_exclusive_transactions_take_turns(db, db_target):
    events: list[str] = []
    inside = threading.Event()

    def hold(name: str, seconds: float):
        database = dbmod._postgres(db_target)
        try:
            with dbmod.exclusive_transaction(database):
                events.append(f"{name} in")
                inside.set()
                time.sleep(seconds)
                events.append(f"{name} out")
        finally:
            database.close()

    first = threading.Thread(target=hold, args=("a", 0.3))
    first.start()
    assert inside.wait(10)
    hold("b", 0)
    first.join()
    assert events == ["a in", "a out", "b in", "b out"]


# ---------------------------------------------------------------- the login started early


@pytest.fixture
def early(monkeypatch):
    """A clean slate for db.connect_early (one early login per process otherwise)."""
    monkeypatch.setattr(dbmod, "_early", {})
    yield dbmod
    box = dbmod._early
    if box.get("thread") is not None:
        box["thread"].join()
        dbmod._close_early(box)


def test_open_takes_the_connection_started_early(early, pg_url):
    early.connect_early(pg_url)
    box = early._early
    box["thread"].join()
    started = box["conn"]
    database = early.open_database(pg_url)
    assert database.connection() is started
    assert started.autocommit and box["taken"]
    contacts.add_contact("Früh Dran")
    assert [c["name"] for c in contacts.list_contacts()] == ["Früh Dran"]
    database.close()
    assert started.closed
    again = early.open_database(pg_url)  # taken once: a new connection
    assert again.connection() is not started
    again.close()


def test_the_early_login_reads_the_schema_version_too(early, pg_url):
    """open_database does not ask again what the early login read beside the imports."""
    from tests.sqllog import statements_sent

    dbmod.open_database(pg_url).close()  # migrated
    early.connect_early(pg_url)
    early._early["thread"].join()
    assert early._early["applied"][1] == shipped_migrations()
    with statements_sent() as sent:
        database = early.open_database(pg_url)
        assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION  # asked now: read again
    assert [s for s in sent if "schema_migration" in s] == ['SELECT name FROM "schema_migration"']
    assert "applied" not in early._early
    database.close()


def test_an_early_login_that_failed_says_what_connecting_says(early, pg_url):
    target = other_login(pg_url, "n0t-the-Pa$$word", "crm_no_such_database")
    with pytest.raises(DatabaseError) as direct:
        dbmod.open_database(target)
    early.connect_early(target)
    with pytest.raises(DatabaseError) as started:
        early.open_database(target)
    assert str(started.value) == str(direct.value)
    assert "n0t-the" not in str(started.value)


def test_an_early_login_for_another_target_is_left_and_closed(early, pg_url, pg_server):
    other = pg_server.create()
    try:
        early.connect_early(other)
        box = early._early
        database = early.open_database(pg_url)
        box["thread"].join()
        assert database.connection() is not box["conn"] and not box.get("taken")
        database.close()
        unused = box["conn"]
        early._close_early(box)
        assert unused.closed
    finally:
        pg_server.drop(other)


def test_the_console_script_on_postgresql_imports_no_ssl(pg_url):
    """The whole way a command goes on PostgreSQL (crmcli.launch): the login started early,
    psycopg2 without Python's ssl module, the command's output as before."""
    import subprocess
    import sys

    probe = f"""
import sys
sys.argv = ["crm", "--db", {pg_url!r}, "add", "contact", "Anna Früh", "-o", "json"]
from crmcli.launch import main
try:
    main()
except SystemExit:
    pass
print("LOADED", "psycopg2" in sys.modules, "ssl" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert '"name": "Anna Früh"' in done.stdout
    assert done.stdout.splitlines()[-1] == "LOADED True False"


def _idle(db) -> bool:
    from psycopg2 import extensions

    return db.connection().get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE


def test_a_list_read_at_once_runs_in_a_transaction_it_ends(db):
    """prepared.stream(at_once=True) reads through a cursor of a transaction, batch after
    batch: every row in order, and afterwards no transaction is left open (its own), or the
    caller's is still open and usable; an error or a list left half read rolls its own back."""
    import gc

    from peewee import SQL, DatabaseError

    from crmcli.models import Contact
    from crmcli.services import prepared

    ids = [contacts.add_contact(f"Person {n:02}")["id"] for n in range(7)]

    def build():
        return Contact.select(Contact.id).order_by(Contact.id)

    def read():
        return [i for (i,) in prepared.stream("test:at_once", build, batch=3, at_once=True)]

    assert read() == ids and _idle(db)
    with db.atomic():
        assert read() == ids and read() == ids
        assert not _idle(db)
        contacts.add_contact("Person in the transaction")
    assert _idle(db) and len(read()) == 8

    def failing():
        return Contact.select(Contact.id, SQL("1 / (id - id)")).order_by(Contact.id)

    with pytest.raises(DatabaseError):
        list(prepared.stream("test:at_once_fails", failing, at_once=True))
    assert _idle(db) and len(read()) == 8
    half = prepared.stream("test:at_once", build, batch=3, at_once=True)
    assert next(half) == (ids[0],)
    del half
    gc.collect()
    assert _idle(db) and len(read()) == 8
    unread = prepared.stream("test:at_once", build, batch=3, at_once=True)
    del unread
    gc.collect()
    assert _idle(db)
    with db.atomic():  # left half read inside the caller's transaction: its cursor closed
        half = prepared.stream("test:at_once", build, batch=3, at_once=True)
        assert next(half) == (ids[0],)
        del half
        gc.collect()
        (held,) = db.execute_sql("SELECT count(*) FROM pg_cursors").fetchone()
        assert held == 0 and read() == [*ids, ids[-1] + 1]


def test_a_page_of_contacts_needs_no_server_side_cursor(db, monkeypatch):
    """A list with a LIMIT of at most one batch is read at once (the server-side cursor is
    three round trips more); a longer one still streams."""
    for name in ("Anna A", "Bert B", "Cora C"):
        contacts.add_contact(name)
    adapter = db._adapter
    opened = []
    real = adapter.server_side_cursor

    def counting(conn):
        opened.append(conn)
        return real(conn)

    monkeypatch.setattr(adapter, "server_side_cursor", counting)
    assert [c["name"] for c in contacts.list_contacts(limit=2)] == ["Anna A", "Bert B"]
    assert opened == []
    assert len(contacts.list_contacts()) == 3
    assert len(opened) == 1


@pytest.mark.parametrize(
    "settings",
    ["TimeZone = 'UTC'", "TimeZone = 'Asia/Kolkata'", "TimeZone = 'America/St_Johns'",
     "DateStyle = 'German, DMY'", "DateStyle = 'SQL, MDY'", "DateStyle = 'Postgres'"],
)  # fmt: skip
def test_timestamps_with_a_zone_are_read_as_psycopg2_reads_them(db, settings):
    """crm reads `timestamp with time zone` with datetime.fromisoformat (db._read_aware_
    datetimes); any text that is no ISO 8601 goes to psycopg2's own parser: every value is
    what psycopg2 alone makes of it (or the error it raises), in any zone and DateStyle,
    infinite, BC or past year 9999 in the session's zone."""
    from psycopg2 import DataError, extensions

    values = (
        "2026-12-01 10:00:00+00", "2026-12-01 10:00:00.5+00", "2026-03-29 01:59:59.123456+00",
        "0099-01-01 00:00:00+00", "9999-12-31 23:59:59+00", "infinity", "-infinity",
        "0044-03-15 12:00:00+00 BC", "2026-07-01 12:00:00+05:30", None,
    )  # fmt: skip
    db.execute_sql(f"SET {settings}")

    def read(cursor, value):
        cursor.execute("SELECT %s::timestamptz", (value,))
        try:
            found = cursor.fetchone()[0]
        except (ValueError, DataError) as exc:  # psycopg2's: a year past 9999, a DateStyle
            return type(exc).__name__, str(exc)
        return found, getattr(found, "utcoffset", lambda: None)()

    ours = db.connection().cursor()
    theirs = db.connection().cursor()
    extensions.register_type(extensions.PYDATETIMETZ, theirs)  # psycopg2's own, this cursor
    try:
        assert [read(ours, v) for v in values] == [read(theirs, v) for v in values]
    finally:
        db.execute_sql("RESET ALL")


def test_newer_database_is_refused_and_left_alone(pg_url):
    database = dbmod.open_database(pg_url)
    contacts.add_contact("Alt Bestand")
    database.execute_sql(
        "INSERT INTO schema_migration (name, applied) VALUES ('9999_future', now())"
    )
    database.close()
    with pytest.raises(DatabaseError, match="schema version 9999, newer than this crm"):
        dbmod.open_database(pg_url)
    raw = dbmod.open_database(pg_url, migrate=False)
    count = raw.execute_sql("SELECT count(*) FROM schema_migration").fetchone()[0]
    assert count == len(shipped_migrations()) + 1
    assert raw.execute_sql("SELECT name FROM contact").fetchall() == [("Alt Bestand",)]
    raw.close()


def test_missing_driver_is_a_clear_error(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(DatabaseError, match=r"pip install 'crmcli\[postgres\]'"):
        dbmod.open_database("postgresql://crm@localhost/crm")


# ---------------------------------------------------------------- passwords stay secret


def test_wrong_password_is_one_line_without_the_password(pg_url):
    secret = "n0t-the-Pa$$word@%"
    # It fails on the password, or on the database name where the server trusts everyone.
    target = other_login(pg_url, secret, "crm_no_such_database")
    with pytest.raises(DatabaseError) as err:
        dbmod.open_database(target)
    message = str(err.value)
    assert message.startswith(f"cannot open database {dbmod.describe(target)}: ")
    assert secret not in message and quote(secret, safe="") not in message
    assert "\n" not in message


def test_cli_never_prints_the_password(pg_url, monkeypatch):
    from typer.testing import CliRunner

    from crmcli.cli import app

    secret = "n0t-the-Pa$$word"
    target = other_login(pg_url, secret, "crm_no_such_database")
    runner = CliRunner()
    for args in (["--db", target, "list", "contacts"], ["--db", target, "db", "check"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 1
        assert r.stderr.startswith("crm: error: cannot open database postgresql://")
        assert len(r.stderr.splitlines()) == 1
        assert secret not in r.stdout + r.stderr
    monkeypatch.setenv("CRM_DB", target)
    r = runner.invoke(app, ["db", "path"])
    assert r.exit_code == 0 and secret not in r.stdout
    assert r.stdout.strip() == dbmod.describe(target)


# ---------------------------------------------------------------- services


def test_contacts_and_companies_add_list_edit_delete(db):
    card = contacts.add_contact(
        "Jürgen Müller", email="JM@Mueller-Bau.de", phone="0221 123456", company="Müller Bau GmbH",
        tags_=["VIP", "newsletter"], fields=[("kundennummer", "K-10023")], city="Köln",
        consent=True, now=NOW,
    )  # fmt: skip
    assert card["created_at"] == NOW and card["consent_at"] == NOW
    assert card["phone_e164"] == "+49221123456"
    assert card.pop("company_created") is True
    assert contacts.get_contact(card["id"]) == card
    contacts.add_contact("Anna Weiß", company="MÜLLER BAU gmbh", city="Koeln")
    assert companies.count_companies() == 1

    rows = contacts.list_contacts(tags_=["vip"])
    assert [r["name"] for r in rows] == ["Jürgen Müller"]
    assert rows[0]["tags"] == ["newsletter", "VIP"]
    assert rows[0]["fields"] == {"kundennummer": "K-10023"}
    by_name_desc = contacts.list_contacts(sort="-name")
    assert [r["name"] for r in by_name_desc] == ["Jürgen Müller", "Anna Weiß"]
    assert contacts.count_contacts(city="KÖLN") == 2  # Köln and Koeln: one city to filters

    edited = contacts.edit_contact(
        card["id"], {"phone": "", "status": "customer"}, remove_tags=["newsletter"],
        fields=[("kundennummer", "")],
    )  # fmt: skip
    assert edited["phone"] is None and edited["status"] == "customer"
    assert edited["tags"] == ["VIP"] and edited["fields"] == {}

    company = companies.list_companies()[0]
    assert (company["name"], company["contacts"]) == ("Müller Bau GmbH", 2)
    companies.edit_company(company["id"], {"city": "Köln", "domain": "Mueller-Bau.DE"})
    assert companies.get_company(company["id"])["domain"] == "mueller-bau.de"

    contacts.delete_contact(card["id"])
    with pytest.raises(NotFound):
        contacts.get_contact(card["id"])
    result = companies.delete_company(company["id"], contacts="keep")
    assert result["contacts_unlinked"] == 1
    assert contacts.list_contacts()[0]["company"] is None
    assert maintenance.check(db) == []


def test_failed_write_rolls_back(db):
    from crmcli.errors import Invalid

    with pytest.raises(Invalid):
        contacts.add_contact("X", company="Neu GmbH", tags_=["ok"], phone="not a phone")
    assert contacts.count_contacts() == 0 and companies.count_companies() == 0
    assert db.execute_sql("SELECT count(*) FROM search_index").fetchone()[0] == 0


def test_refs_fold_accents_and_case(db):
    m = contacts.add_contact("Jürgen Müller", email="jm@example.de")
    s = contacts.add_contact("Jürgen Schmidt")
    o = contacts.add_contact("Ömer Öztürk")
    for ref in ("muller", "MÜLLER", "mueller", "Müll", "JM@EXAMPLE.DE", f"#{m['id']}"):
        assert contacts.resolve_contact(ref) == m["id"], ref
    assert contacts.resolve_contact("ozturk") == contacts.resolve_contact("OEZTUERK") == o["id"]
    with pytest.raises(Ambiguous) as err:
        contacts.resolve_contact("jurgen")
    assert [c.id for c in err.value.candidates] == [m["id"], s["id"]]
    with pytest.raises(NotFound):
        contacts.resolve_contact("x@example.de")
    contacts.add_contact("100% Sicher")
    assert contacts.get_contact(contacts.resolve_contact("100%"))["name"] == "100% Sicher"
    assert companies.resolve_company(str(companies.link_company("Café Größe GmbH")[0])) > 0
    assert companies.resolve_company("cafe grosse") == companies.resolve_company("CAFÉ GRÖSSE")


# ---------------------------------------------------------------- search


@pytest.fixture
def people(db):
    contacts.add_contact("Jürgen Müller", email="jm@mueller-bau.de", company="Müller Bau GmbH")
    contacts.add_contact("Anna Weiß", city="München")
    contacts.add_contact("Ömer Öztürk", notes="Rückruf wegen Angebot")
    # The notes hit comes first by id, so only ranking can put the name hit above it.
    contacts.add_contact("Klaus Berg", notes="kennt Schmidt vom Golf, sagt Schmidt sei gut")
    contacts.add_contact("Petra Schmidt")


def found(query: str, **kw) -> list[str]:
    return [h["name"] for h in search.search(query, **kw)]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("muller", "Jürgen Müller"),
        ("mueller", "Jürgen Müller"),
        ("MÜLLER", "Jürgen Müller"),
        ("weiss", "Anna Weiß"),
        ("weiß", "Anna Weiß"),
        ("schmi", "Petra Schmidt"),
        ("oeztuerk", "Ömer Öztürk"),
        ("ruckruf", "Ömer Öztürk"),
        ("munch", "Anna Weiß"),
        ("mueller-bau.de", "Jürgen Müller"),  # words of an email
        ("bau jurg", "Jürgen Müller"),
    ],
)
def test_search_folds_and_matches_prefixes(people, query, name):
    assert name in found(query)


def test_search_ranks_the_name_hit_first_and_pages(people):
    assert found("schmidt") == ["Petra Schmidt", "Klaus Berg"]
    assert found("schmidt", limit=1, offset=1) == ["Klaus Berg"]
    assert found("müller", kinds=["company"]) == ["Müller Bau GmbH"]
    assert sorted(found("müller bau")) == ["Jürgen Müller", "Müller Bau GmbH"]
    assert found("nothing") == [] and found("***") == [] and found("a_b:*&!") == []


def test_search_follows_edits_and_deletes(people):
    pid = contacts.resolve_contact("petra")
    contacts.edit_contact(pid, {"name": "Petra Lange"})
    assert found("schmidt") == ["Klaus Berg"] and found("lange") == ["Petra Lange"]
    contacts.delete_contact(pid)
    assert found("petra") == []


# ---------------------------------------------------------------- crm db check


def test_check_skips_sqlite_checks_and_finds_drift(db, people):
    assert maintenance.check(db) == []
    db.execute_sql("DELETE FROM search_index WHERE rowid = %s", (search.rowid("contact", 1),))
    db.execute_sql("DELETE FROM search_index WHERE mod(rowid, 8) = 2")
    assert maintenance.check(db) == [
        "search index: 1 contact not indexed",
        "search index: 1 company not indexed",
    ]
    assert search.rebuild() == 6
    assert maintenance.check(db) == []


def test_backup_points_to_pg_dump(db, tmp_path):
    with pytest.raises(DatabaseError, match="pg_dump"):
        dbmod.backup(db, tmp_path / "copy.db", now=NOW)


# ---------------------------------------------------------------- the CLI


def test_cli_on_postgres(crm, db_target):
    assert db_target.startswith("postgresql://")
    r = crm("add", "contact", "Jürgen Müller", "-e", "jm@mueller-bau.de", "-c", "Müller Bau GmbH",
            "--city", "Köln", "-t", "vip", "--field", "kundennummer=K-1")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert crm("add", "contact", "Anna Weiß", "-c", "müller bau gmbh").exit_code == 0
    rows = crm("list", "contacts", "-o", "json").json()
    assert [(c["name"], c["company"]) for c in rows] == [
        ("Anna Weiß", "Müller Bau GmbH"),
        ("Jürgen Müller", "Müller Bau GmbH"),
    ]
    assert crm("show", "mueller", "-o", "json").json()["fields"] == {"kundennummer": "K-1"}
    assert crm("edit", "weiss", "--city", "Berlin").exit_code == 0
    hits = crm("search", "berl", "-o", "json").json()
    assert [h["name"] for h in hits] == ["Anna Weiß"]
    assert crm("list", "companies", "-o", "json").json()[0]["contacts"] == 2
    r = crm("show", "jurgen")
    assert r.exit_code == 0 and "Jürgen Müller" in r.stdout

    r = crm("db", "check")
    assert r.exit_code == 0 and r.stderr.startswith("ok: postgresql://")
    migrations = crm("db", "migrate", "-o", "json").json()
    assert [m["migration"] for m in migrations][0] == "0001_initial"
    r = crm("db", "backup", "copy.db")
    assert r.exit_code == 1 and "pg_dump" in r.stderr

    assert crm("delete", "weiss", "--yes").exit_code == 0
    assert [c["name"] for c in crm("list", "contacts", "-o", "json").json()] == ["Jürgen Müller"]
    r = crm("show", "weiss")
    assert r.exit_code == 1 and "no contact" in r.stderr


def test_cli_db_check_repairs_drift(crm, db):
    assert crm("add", "contact", "Jürgen Müller").exit_code == 0
    db.execute_sql("DELETE FROM search_index")
    r = crm("db", "check")
    assert r.exit_code == 1 and "1 contact not indexed" in r.stdout
    assert crm("db", "check", "--repair").exit_code == 0
    assert crm("search", "muller", "-o", "json").json()[0]["name"] == "Jürgen Müller"


def _planned_rows(db, table: str) -> float:
    (rows,) = db.execute_sql(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    return rows


def test_a_bulk_write_leaves_statistics_the_planner_can_use(pg_url, monkeypatch):
    """An import, a restore or crm demo that changes a tenth of a table or more ANALYZEs it
    before its commit: the planner does not plan for the empty table of the migration
    (what made a card with its timeline 224 ms after a demo of a million contacts until
    autovacuum came by). A small write analyzes nothing."""
    from crmcli.services import imports

    monkeypatch.setattr(dbmod, "BULK_ROWS", 20)
    database = dbmod.open_database(pg_url)
    assert _planned_rows(database, "contact") <= 0  # analyzed empty, or never
    imports.import_contacts(("row", {"name": f"Person {n}"}) for n in range(30))
    assert _planned_rows(database, "contact") == 30
    imports.import_contacts(("row", {"name": f"Person {n}"}) for n in range(30, 32))
    assert _planned_rows(database, "contact") == 30  # 2 more: not a tenth
    database.close()


def test_crm_demo_leaves_statistics_the_planner_can_use(pg_migrated_url, monkeypatch):
    from crmcli.demo.fill import fill_demo

    monkeypatch.setattr(dbmod, "BULK_ROWS", 20)
    database = dbmod.open_database(pg_migrated_url)
    assert _planned_rows(database, "activity") <= 0
    made = fill_demo(contacts=40)
    assert _planned_rows(database, "contact") == 40
    assert _planned_rows(database, "activity") == made["activities"]
    database.close()
