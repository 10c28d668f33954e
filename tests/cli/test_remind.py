"""`crm remind` for cron: everything due, each occurrence once, stable plain lines."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from tests.conftest import NOW


def remind(crm, *args):
    r = crm("remind", *args)
    assert r.exit_code in (0, 3), r.stderr
    return r


def test_remind_prints_each_occurrence_once(crm):
    crm("add", "task", "Rückruf Müller", "--due", "today 11:00")
    crm("add", "task", "Überfällig", "--due", "-2d")
    crm("add", "task", "Nächste Woche", "--due", "+7d")
    first = remind(crm).stdout.splitlines()
    assert len(first) == 2
    assert first[0].startswith("2026-11-21 10:00  task  #2  Überfällig")
    assert first[0].endswith("OVERDUE")
    assert first[1].startswith("2026-11-23 11:00  task  #1  Rückruf Müller")
    assert remind(crm).stdout == ""
    assert len(remind(crm, "--all").stdout.splitlines()) == 2
    assert "Nächste Woche" in remind(crm, "--within", "8d").stdout


def test_piped_lines_line_up(crm):
    crm("add", "task", "Tagesaufgabe", "--due", "today")  # a day, no time
    crm("add", "task", "Termin", "--due", "today 11:00")
    crm("add", "contact", "Erika", "--birthday", "24.11.1980")
    lines = remind(crm).stdout.splitlines()
    assert len(lines) == 3
    assert lines[1] == "2026-11-23 11:00  task      #2  Termin"
    # The kind and the ref start in the same column whatever the due text looks like.
    assert len({line.index("#") for line in lines}) == 1
    assert len({line.index("task" if "task" in line else "birthday") for line in lines}) == 1


def test_snoozed_task_reminds_again_at_its_new_time(crm):
    crm("add", "task", "Nachfassen", "--due", "today 9:00")
    assert remind(crm).stdout
    assert remind(crm).stdout == ""
    crm("snooze", "1", "today 15:00")  # a new occurrence: announced once more, at its new time
    assert remind(crm).stdout.startswith("2026-11-23 15:00  task  #1  Nachfassen")
    assert remind(crm).stdout == ""


def test_birthdays_complaints_and_cadence(crm):
    crm("add", "contact", "Jürgen Müller", "--birthday", "24.11.1970")
    crm("add", "contact", "Anna Weiß", "--every", "30 days")
    crm("add", "contact", "Peter Schmidt", "-t", "stammkunde")
    crm("edit", "tag", "stammkunde", "--every", "2 weeks")
    crm("log", "complaint", "müller", "--subject", "Rechnung falsch", "--at", "-5d")
    crm("log", "complaint", "müller", "--subject", "Neu", "--at", "-1d")
    r = crm("remind", "-o", "json")
    kinds = sorted((i["kind"], i["contact"]) for i in r.json())
    # Anna and Peter were created today: their cadence runs out later.
    assert kinds == [("birthday", "Jürgen Müller"), ("complaint", "Jürgen Müller")]
    birthday = next(i for i in r.json() if i["kind"] == "birthday")
    assert birthday["text"] == "Jürgen Müller turns 56"
    later = crm("remind", "--within", "31d", "-o", "json").json()
    assert sorted(i["contact"] for i in later if i["kind"] == "cadence") == [
        "Anna Weiß",
        "Peter Schmidt",
    ]


def test_cadence_restarts_with_each_interaction(crm, monkeypatch):
    crm("add", "contact", "Anna Weiß", "--every", "30 days")
    monkeypatch.setenv("CRM_NOW", "2027-01-10T10:00:00+01:00")
    assert [
        c["name"] for c in crm("list", "contacts", "--overdue-contact", "-o", "json").json()
    ] == ["Anna Weiß"]
    crm("log", "call", "weiß")
    assert crm("list", "contacts", "--overdue-contact", "-o", "json").json() == []
    assert "get in touch" not in crm("remind", "--all").stdout


def test_brief_adds_context(crm):
    crm("add", "contact", "Jürgen Müller")
    crm("log", "call", "müller", "--subject", "Angebot", "--at", "-3d")
    crm("log", "complaint", "müller", "--subject", "Lieferung", "--at", "-1h")
    crm("add", "task", "Nachfassen", "-C", "müller", "--due", "today")
    line = remind(crm, "--brief").stdout.splitlines()[0]
    assert "Nachfassen" in line
    assert 'last: complaint 2026-11-23 09:00 "Lieferung"' in line
    assert "open inquiries/complaints: 1" in line


def test_exit_code_option(crm):
    r = crm("remind", "--exit-code")
    assert r.exit_code == 0
    crm("add", "task", "x", "--due", "today")
    assert crm("remind", "--exit-code").exit_code == 3
    assert crm("remind", "--exit-code").exit_code == 0  # reminded already


def test_a_look_ahead_leaves_the_reminder_for_its_day(crm, monkeypatch):
    crm("add", "task", "Angebot Müller", "--due", "+10d 9:00")
    crm("add", "contact", "Anna Weiß", "--birthday", "5.12.1980")
    ahead = remind(crm, "--within", "30d", "-o", "json").json()
    assert [(i["kind"], i["ahead"]) for i in ahead] == [("task", True), ("birthday", True)]
    assert len(remind(crm, "--within", "30d").stdout.splitlines()) == 2  # a look, again
    assert remind(crm).stdout == ""
    monkeypatch.setenv("CRM_NOW", "2026-12-02T10:00:00+01:00")  # the day before it is due
    assert "Angebot Müller" in remind(crm).stdout
    assert remind(crm).stdout == ""
    monkeypatch.setenv("CRM_NOW", "2026-12-04T08:00:00+01:00")
    assert "Anna Weiß" in remind(crm).stdout
    assert remind(crm, "--within", "30d").stdout == ""


def test_bad_within(crm):
    r = crm("remind", "--within", "soon")
    assert r.exit_code == 1 and "soon" in r.stderr


def test_a_remind_process_waits_for_a_running_one_and_prints_nothing_twice(db_path, monkeypatch):
    """Cron overlapping itself, made deterministic: one run (in this process) holds the lock
    after marking, before committing; a `crm remind` process started meanwhile waits, and
    when the first commits it prints nothing: every item was printed by the first."""
    from crmcli.db import open_database
    from crmcli.services import reminders, tasks

    database = open_database(str(db_path))
    for i in range(20):
        tasks.add_task(f"Aufgabe {i}", due_at=NOW)
    inside, release = threading.Event(), threading.Event()
    drop = reminders._drop_reminded

    def held_drop(items):
        inside.set()
        assert release.wait(30)
        return drop(items)

    monkeypatch.setattr(reminders, "_drop_reminded", held_drop)
    first: list = []
    holder = threading.Thread(target=lambda: first.extend(reminders.remind(NOW)))
    holder.start()
    assert inside.wait(30)
    env = dict(os.environ, CRM_DB=str(db_path))
    # The marker comes once crm is imported: from there it is milliseconds to the lock.
    script = (
        "import sys; import crmcli.cli as cli; sys.argv = ['crm', 'remind']; "
        "print('ready', file=sys.stderr, flush=True); cli.main()"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert other.stderr.readline() == "ready\n"
        time.sleep(0.5)
        assert other.poll() is None  # waiting for the lock, not done and not failed
    finally:
        release.set()
        holder.join(30)
    out, err = other.communicate(timeout=60)
    database.close()
    assert (other.returncode, out, err) == (0, "", "")
    assert len(first) == 20


def test_a_reopened_complaint_is_reminded_again(crm):
    crm("add", "contact", "Karl Kunde")
    crm("log", "complaint", "karl", "--subject", "Kaputt", "--at", "-5d")
    assert "open complaint: Kaputt" in remind(crm).stdout
    crm("resolve", "1")
    crm("reopen", "activity", "1")
    assert "open complaint: Kaputt" in remind(crm).stdout


def test_a_new_record_never_inherits_a_deleted_ones_reminder(crm):
    crm("add", "contact", "Karl Kunde")
    crm("log", "complaint", "karl", "--subject", "Alt", "--at", "-5d")
    assert "Alt" in remind(crm).stdout
    crm("delete", "activity", "1", "--yes")
    r = crm("log", "complaint", "karl", "--subject", "Neu", "--at", "-5d", "-o", "json")
    assert r.json()["id"] == 2  # ids are never reused
    assert "Neu" in remind(crm).stdout
