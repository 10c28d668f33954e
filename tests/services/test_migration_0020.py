"""Migration 0020: a task carries its contact's name (kept by triggers, whatever writes), and
a database of schema 19 upgrades to today's exact shape with its tasks' names filled in."""

from __future__ import annotations

import importlib
import sqlite3
import threading
import time
from datetime import timedelta

import pytest

from crmcli import db as dbmod
from tests.conftest import NOW
from tests.services.test_old_databases import _counts, _shape

_0016 = importlib.import_module("crmcli.migrations.0016_roi_order_facts")
OLD_INDEX = (
    'CREATE INDEX "task_open_due_at" ON "task" ("open_due_at") WHERE open_due_at IS NOT NULL'
)


def undo_0020(execute, *, sqlite: bool = True) -> None:
    """Take away what 0020 added (`execute`: a connection's execute or execute_sql), as a
    database of schema 19 was."""
    if sqlite:
        for name in ("task_contact_name_new", "task_contact_name_changed", "contact_name_tasks"):
            execute(f"DROP TRIGGER {name}")
    else:
        execute("DROP TRIGGER task_contact_name ON task")
        execute("DROP TRIGGER contact_name_tasks ON contact")
        execute("DROP FUNCTION crm_task_contact_name()")
        execute("DROP FUNCTION crm_contact_name_tasks()")
        execute(_0016.POSTGRES[0])  # the order source's functions as 0016 made them
        execute(_0016.POSTGRES[2])
    execute("DROP INDEX task_open_due_list")
    execute(OLD_INDEX)
    execute("ALTER TABLE task DROP COLUMN contact_name")
    execute("DELETE FROM schema_migration WHERE name = '0020_task_contact_name'")


def _names(database) -> list[tuple]:
    return list(database.execute_sql("SELECT title, contact_name FROM task ORDER BY id").fetchall())


def test_a_schema_19_database_upgrades_and_its_tasks_carry_their_contacts_names(tmp_path):
    from crmcli.services import contacts, tasks

    path, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    dbmod.open_database(str(fresh)).close()
    database = dbmod.open_database(str(path))
    anna = contacts.add_contact("Anna Müller", now=NOW)["id"]
    bernd = contacts.add_contact("Bernd Weiß", now=NOW)["id"]
    for title, who in (("Anrufen", anna), ("Angebot", bernd), ("Ablage", None), ("Mail", anna)):
        tasks.add_task(title, contact_id=who, due_at=NOW + timedelta(hours=1), now=NOW)
    listed = tasks.list_tasks(state="all", now=NOW)
    database.close()
    conn = sqlite3.connect(path)
    with conn:
        undo_0020(conn.execute)
        conn.execute("PRAGMA user_version = 19")
    conn.close()
    before = _counts(path)
    database = dbmod.open_database(str(path))
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    names = _names(database)
    assert tasks.list_tasks(state="all", now=NOW) == listed
    database.close()
    assert _shape(path) == _shape(fresh)
    after = _counts(path)
    assert after.pop("schema_migration") == before.pop("schema_migration") + 1
    assert after == before
    assert names == [
        ("Anrufen", "Anna Müller"), ("Angebot", "Bernd Weiß"), ("Ablage", None),
        ("Mail", "Anna Müller"),
    ]  # fmt: skip


def test_a_tasks_contact_name_follows_every_write(db):
    """Renames, moves, merges and plain SQL (another program, a careless script): the name a
    task shows is always its contact's."""
    from crmcli.services import contacts, merge, tasks

    anna = contacts.add_contact("Anna Müller", email="anna@example.com", now=NOW)["id"]
    bernd = contacts.add_contact("Bernd Weiß", email="bernd@example.com", now=NOW)["id"]
    due = NOW + timedelta(days=1)
    first = tasks.add_task("Anrufen", contact_id=anna, due_at=due, now=NOW)["id"]
    second = tasks.add_task("Angebot", contact_id=bernd, due_at=due, now=NOW)["id"]
    loose = tasks.add_task("Ablage", due_at=due, now=NOW)["id"]

    def shown(task_id):
        return tasks.get_task(task_id, now=NOW)["contact"]

    assert (shown(first), shown(second), shown(loose)) == ("Anna Müller", "Bernd Weiß", None)
    contacts.edit_contact(anna, {"name": "Anna Schmidt"}, now=NOW)
    assert shown(first) == "Anna Schmidt"
    tasks.edit_task(loose, {"contact_id": bernd}, now=NOW)
    assert shown(loose) == "Bernd Weiß"
    db.execute_sql(f"UPDATE task SET contact_id = {anna} WHERE id = {second}")
    assert shown(second) == "Anna Schmidt"
    db.execute_sql(f"UPDATE task SET contact_name = 'stale' WHERE id = {first}")
    assert shown(first) == "Anna Schmidt"
    db.execute_sql(f"UPDATE task SET contact_id = NULL WHERE id = {first}")
    assert shown(first) is None
    db.execute_sql(f"UPDATE contact SET name = 'Bernd Weiss' WHERE id = {bernd}")
    assert shown(loose) == "Bernd Weiss"
    merge.merge_contacts(anna, [bernd], force=True, now=NOW)  # bernd's tasks go to anna
    assert shown(loose) == "Anna Schmidt"
    contacts.delete_contact(anna)
    assert [t["id"] for t in tasks.list_tasks(state="all", now=NOW)] == [first]


def test_the_list_of_tasks_due_reads_no_contact(db):
    """What made `crm list tasks --today` slow on PostgreSQL: a look-up of each task's
    contact. The list's statement names no other table."""
    from crmcli.services import contacts, tasks
    from tests.sqllog import statements_sent

    anna = contacts.add_contact("Anna Müller", now=NOW)["id"]
    tasks.add_task("Anrufen", contact_id=anna, due_at=NOW, now=NOW)
    with statements_sent() as sent:
        listed = tasks.list_tasks(due_before=NOW + timedelta(days=1), now=NOW)
    assert [t["contact"] for t in listed] == ["Anna Müller"]
    selects = [s for s in sent if "contact_name" in s]
    assert selects and all('"contact"' not in s.split("FROM", 1)[1] for s in selects)


TASK = (
    "INSERT INTO task (title, name_key, contact_id, due_has_time, priority, created_at, "
    "updated_at) VALUES ('Anrufen', 'anrufen', %s, false, 1, now(), now())"
)
ORDER = (
    "INSERT INTO sales_order (contact_id, ordered_at, status, discount_bp, currency, net_cents, "
    "vat_cents, gross_cents, cost_cents, created_at, updated_at) "
    "VALUES (%s, now(), 'paid', 0, 'EUR', 1000, 190, 1190, 0, now(), now())"
)
COPIES = {  # what writes a copy, the change of what it copies, where the copy is read
    "task": (TASK, "UPDATE contact SET name = 'Anna Neu' WHERE id = %s",
             "SELECT contact_name FROM task WHERE contact_id = %s", "Anna Neu"),
    "order": (ORDER, "UPDATE contact SET source = 'Messe' WHERE id = %s",
              "SELECT source FROM sales_order WHERE contact_id = %s", "Messe"),
}  # fmt: skip


@pytest.mark.parametrize("copy", sorted(COPIES))
@pytest.mark.parametrize("first", ["copy", "change"])
def test_postgres_a_change_and_a_copy_written_at_once_end_with_the_new_value(
    pg_migrated_url, first, copy
):
    """Two transactions at once: one writes a task (an order) for a contact, the other
    renames the contact (gives it another source). Whichever comes first, the other waits
    for it and the copy ends with the new value, not the old one for good."""
    import psycopg2

    from crmcli.services import contacts

    write, change, read, new = COPIES[copy]
    database = dbmod.open_database(pg_migrated_url)
    anna = contacts.add_contact("Anna Alt")["id"]
    database.close()
    writer, changer = (psycopg2.connect(pg_migrated_url) for _ in range(2))
    early, late = (writer, changer) if first == "copy" else (changer, writer)
    early.cursor().execute(write if first == "copy" else change, (anna,))
    done = threading.Event()

    def second():
        late.cursor().execute(change if first == "copy" else write, (anna,))
        late.commit()
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    pid = late.get_backend_pid()
    watch = early.cursor()
    waited = False
    for _ in range(500):  # until the second transaction waits for the first (or is done)
        watch.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
        waited = watch.fetchone()[0] == "Lock"
        if done.is_set() or waited:
            break
        time.sleep(0.01)
    early.commit()
    thread.join(10)
    assert waited
    watch.execute(read, (anna,))
    assert watch.fetchall() == [(new,)]
    writer.close()
    changer.close()


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_postgres_a_copy_being_written_holds_up_no_other_write_of_its_contact(
    pg_migrated_url, copy
):
    """While a transaction writes tasks or orders for a contact (an import runs for
    seconds), a logged call's or remind's write of that contact goes through at once; only
    a change of what is copied waits."""
    import psycopg2
    from psycopg2.errors import LockNotAvailable

    from crmcli.services import contacts

    write, change, _, _ = COPIES[copy]
    database = dbmod.open_database(pg_migrated_url)
    anna = contacts.add_contact("Anna Alt")["id"]
    database.close()
    writer, other = (psycopg2.connect(pg_migrated_url) for _ in range(2))
    writer.cursor().execute(write, (anna,))
    cursor = other.cursor()
    cursor.execute("SET lock_timeout = '500ms'")
    cursor.execute(
        "UPDATE contact SET last_activity_at = now(), birthday_reminded = 2026 WHERE id = %s",
        (anna,),
    )
    other.commit()
    with pytest.raises(LockNotAvailable):
        cursor.execute(change, (anna,))
    other.rollback()
    writer.commit()
    writer.close()
    other.close()


def test_postgres_tasks_for_many_contacts_in_one_transaction_take_a_few_locks(pg_migrated_url):
    """An import of tasks for thousands of contacts must not fill PostgreSQL's lock table
    ('out of shared memory'): the copies lock buckets of contacts, not each contact."""
    import psycopg2

    _0020 = importlib.import_module("crmcli.migrations.0020_task_contact_name")
    conn = psycopg2.connect(pg_migrated_url)
    cursor = conn.cursor()
    cursor.execute(
        "INSERT INTO contact (name, name_key, status, birthday_reminded, consent, created_at, "
        "updated_at) SELECT 'K' || n, 'k' || n, 'lead', 0, false, now(), now() "
        "FROM generate_series(1, 3000) n"
    )
    cursor.execute(
        "INSERT INTO task (title, name_key, contact_id, due_has_time, priority, created_at, "
        "updated_at) SELECT 'Anrufen', 'anrufen', id, false, 1, now(), now() FROM contact"
    )
    cursor.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    assert cursor.fetchone()[0] == _0020.BUCKETS
    cursor.execute(
        "SELECT count(*), count(*) FILTER (WHERE contact_name = c.name) "
        "FROM task JOIN contact c ON c.id = task.contact_id"
    )
    assert cursor.fetchone() == (3000, 3000)
    conn.rollback()
    conn.close()
