"""Every writing command takes SQLite's write lock when its transaction begins (BEGIN
IMMEDIATE) and waits for another writer, instead of failing with "database is locked" when
that writer commits between its read and its write; reading commands take no write lock."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest

SETUP = [
    ("add", "contact", "Anna Weiß", "--email", "anna@example.de", "--company", "Acme GmbH"),
    ("add", "deal", "Dach Köln", "-C", "anna", "--amount", "1.000,00"),
    ("add", "deal", "Fenster Bonn", "-C", "anna", "--amount", "500"),
    ("add", "task", "Rückruf", "-C", "anna", "--due", "yesterday 9:00"),
    ("add", "task", "Angebot", "-C", "anna", "--due", "tomorrow 9:00"),
    ("log", "complaint", "anna", "-m", "Lieferung beschädigt"),
    ("tag", "anna", "alt"),
]

WRITES = [
    ("add", "contact", "Bernd Müller", "--email", "bm@example.de", "--company", "Acme GmbH"),
    ("add", "company", "Beta AG"),
    ("add", "deal", "Garage", "-C", "anna", "--amount", "2.000,00"),
    ("add", "task", "Nachfassen", "-C", "anna", "--due", "fri"),
    ("edit", "anna", "--email", "anna.weiss@example.de"),
    ("stages", "add", "Prüfung", "--probability", "40"),
    ("log", "call", "anna", "-m", "Angebot besprochen"),
    ("done", "Rückruf"),
    ("snooze", "Angebot", "+3d"),
    ("tag", "anna", "vip"),
    ("untag", "anna", "alt"),
    ("move", "Dach Köln", "Angebot"),
    ("won", "Dach Köln"),
    ("lost", "Fenster Bonn", "--reason", "Preis"),
    ("resolve", "1", "-m", "Ersatz geschickt"),
    ("delete", "task", "Angebot", "--yes"),
    ("remind",),
]

READS = [
    ("list", "contacts"),
    ("list", "tasks", "--overdue"),
    ("list", "deals"),
    ("show", "anna"),
    ("search", "weiss"),
    ("report", "funnel"),
    ("report", "pipeline"),
    ("report", "sales"),
    ("db", "path"),
]


class Writer(threading.Thread):
    """Another process's writer: takes the write lock, writes, and commits after `hold` s."""

    def __init__(self, path, hold: float):
        super().__init__(daemon=True)
        self.path, self.hold = path, hold
        self.locked = threading.Event()
        self.release = threading.Event()  # commits early when set

    def run(self):
        conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=10)
        conn.execute("BEGIN IMMEDIATE")
        # A real change, so that a reader's snapshot from before the commit is stale.
        conn.execute("INSERT INTO reminder_log (key, reminded_at) VALUES ('x', '2026-01-01')")
        self.locked.set()
        self.release.wait(self.hold)
        conn.execute("COMMIT")
        conn.close()


@pytest.fixture(scope="module")
def setup_template(tmp_path_factory, sqlite_template):
    """The SETUP records, made once for this module's tests to copy."""
    from typer.testing import CliRunner

    from crmcli.cli import app
    from tests.conftest import NOW

    path = tmp_path_factory.mktemp("write-lock") / "crm.db"
    shutil.copyfile(sqlite_template, path)
    runner = CliRunner()
    # The clock and zone the tests run with (conftest's autouse fixture is per test).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "Europe/Berlin")
        time.tzset()
        mp.setenv("CRM_NOW", NOW.isoformat())
        for args in SETUP:
            r = runner.invoke(app, ["--db", str(path), *args])
            assert r.exit_code == 0, (args, r.stderr)
    time.tzset()
    return path


@pytest.fixture
def set_up(setup_template, db_path):
    """db_path holds the SETUP records (requested before `crm`, which then uses the file)."""
    shutil.copyfile(setup_template, db_path)
    db_path.chmod(0o600)


@pytest.mark.parametrize("args", WRITES, ids=lambda a: " ".join(a[:2]))
def test_a_writing_command_waits_for_another_writer_and_succeeds(set_up, crm, db_path, args):
    writer = Writer(db_path, hold=0.3)
    writer.start()
    writer.locked.wait(5)
    started = time.monotonic()
    r = crm(*args)
    waited = time.monotonic() - started
    writer.join()
    assert r.exit_code == 0, r.stderr
    assert waited >= 0.2, f"{args} did not wait for the write lock ({waited:.2f} s)"


def test_reading_commands_take_no_write_lock(set_up, crm, db_path):
    writer = Writer(db_path, hold=10)  # held until every read is done
    writer.start()
    writer.locked.wait(5)
    try:
        for args in READS:
            started = time.monotonic()
            r = crm(*args)
            assert r.exit_code == 0, (args, r.stderr)
            assert time.monotonic() - started < 2, f"{args} waited for the write lock"
    finally:
        writer.release.set()
        writer.join()


def test_a_writer_that_waits_too_long_says_why(set_up, crm, db_path, monkeypatch):
    """Past the busy timeout: one line that names the cause, not a driver's bare words."""
    import crmcli.db

    monkeypatch.setattr(crmcli.db, "BUSY_TIMEOUT_MS", 100)
    writer = Writer(db_path, hold=5)
    writer.start()
    writer.locked.wait(5)
    try:
        r = crm("add", "company", "Gamma AG")
    finally:
        writer.release.set()
        writer.join()
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: database is locked: another process kept it busy")
    assert "nothing was changed" in r.stderr
