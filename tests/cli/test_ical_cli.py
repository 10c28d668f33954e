"""`crm import ics`: the summary on stderr, JSON for scripts, one error line for a bad file."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ics"


def ics(name: str) -> str:
    return str(FIXTURES / name)


def test_import_tasks_then_list_them(crm):
    r = crm("import", "ics", ics("thunderbird_tasks.ics"))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""  # stdout stays for data
    assert "tasks 4 new, 0 updated, 0 unchanged" in r.stderr
    assert "skipped VTODO 4 'Server-Backup prüfen': recurrence crm cannot represent" in r.stderr
    listed = crm("list", "tasks", "-o", "json").json()
    weekly = next(t for t in listed if t["title"] == "Wochenbericht an Frau Schäfer")
    assert weekly["due_at"] == "2026-11-30T08:30:00+00:00"
    assert weekly["rrule"] == "FREQ=WEEKLY;BYDAY=MO" and weekly["priority"] == "high"
    again = crm("import", "ics", ics("thunderbird_tasks.ics"), "-o", "json")
    assert again.json()["tasks_unchanged"] == 4 and again.json()["tasks_new"] == 0


def test_meetings_for_known_contacts_as_json(crm):
    crm("add", "contact", "Anna Schmidt", "-e", "anna.schmidt@example.de")
    r = crm("import", "ics", ics("google_events.ics"), "-o", "json")
    assert r.exit_code == 0, r.stderr
    result = r.json()
    assert result["meetings_new"] == 9 and result["skipped"] == 4  # 7 Mondays of a series
    assert {s["reason"] for s in result["skipped_items"]} >= {
        "cancelled", "no attendee or organizer is a known contact",
    }  # fmt: skip
    timeline = crm("list", "activities", "-o", "json").json()
    assert {a["subject"] for a in timeline} == {
        "Jour fixe", "Jour fixe (verschoben)", "Messe Leipzig mit Anna",
    }  # fmt: skip
    assert {a["kind"] for a in timeline} == {"meeting"}


def test_dry_run_writes_nothing(crm):
    r = crm("import", "ics", ics("apple_reminders.ics"), "--dry-run")
    assert r.exit_code == 0
    assert r.stderr.startswith("Dry run, nothing written:")
    assert "would give tasks 5 new" in r.stderr
    assert crm("list", "tasks", "-o", "json").json() == []


def test_from_stdin(crm):
    data = (FIXTURES / "apple_reminders.ics").read_text(encoding="utf-8")
    r = crm("import", "ics", "-", input=data)
    assert r.exit_code == 0, r.stderr
    assert "Imported stdin: tasks 5 new" in r.stderr


def test_a_truncated_file_is_one_error_line(crm):
    r = crm("import", "ics", ics("truncated.ics"))
    assert r.exit_code == 1
    assert r.stderr == (
        f"crm: error: {ics('truncated.ics')} is truncated: BEGIN:VCALENDAR is never closed\n"
    )
    assert crm("list", "tasks", "-o", "json").json() == []


def test_a_binary_file_is_one_error_line(crm, tmp_path):
    path = tmp_path / "photo.ics"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + bytes(range(256)))
    r = crm("import", "ics", str(path))
    assert r.exit_code == 1
    assert r.stderr == f"crm: error: {path} is a binary file, not iCalendar\n"


def test_a_missing_file(crm, tmp_path):
    r = crm("import", "ics", str(tmp_path / "nope.ics"))
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: ") and "nope.ics" in r.stderr
    assert "Traceback" not in r.stderr


def test_help_has_an_example(crm):
    r = crm("import", "ics", "--help")
    assert r.exit_code == 0
    assert "crm import ics ~/Downloads/tasks.ics --dry-run" in r.stdout


def test_crms_own_calendar_imported_back_changes_nothing(crm, tmp_path):
    crm("add", "contact", "Anna Schmidt", "-e", "anna.schmidt@example.de", "--birthday",
        "24.12.1968")  # fmt: skip
    crm("add", "task", "Angebot schicken", "--due", "2026-11-30")
    crm("add", "task", "Rückruf Anna", "--due", "2026-12-01")
    out = tmp_path / "t.ics"
    assert crm("export", "all", "--format", "ics", "-o", str(out)).exit_code == 0
    r = crm("import", "ics", str(out), "-o", "json")
    assert r.exit_code == 0, r.stderr
    result = r.json()
    assert (result["tasks_new"], result["tasks_unchanged"], result["meetings_new"]) == (0, 2, 0)
    assert "a birthday from crm's own calendar export, not a meeting" in r.stderr
    assert len(crm("list", "tasks", "-o", "json").json()) == 2
