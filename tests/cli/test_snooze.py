"""`crm snooze TASK WHEN`: a WHEN that names no time of day (fri, 24.12., +3d, in 2 weeks)
keeps the task's own time of day, and a task due on a day stays due on a day. The tests'
clock: Monday 23 November 2026, 10:00 in Berlin."""

from __future__ import annotations

import pytest


def add(crm, *args):
    r = crm("add", "task", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def snooze(crm, when, env=None):
    r = crm("snooze", "1", when, "-o", "json", env=env)
    assert r.exit_code == 0, r.stderr
    return r.json()


@pytest.mark.parametrize(
    ("when", "until"),
    [
        ("in 2 weeks", "2026-12-07T08:00:00+00:00"),  # 09:00 in Berlin, not now's 10:00
        ("+3d", "2026-11-26T08:00:00+00:00"),
        ("fri", "2026-11-27T08:00:00+00:00"),
        ("24.12.", "2026-12-24T08:00:00+00:00"),
        ("1.4.2027", "2027-04-01T07:00:00+00:00"),  # 09:00 summer time
        ("tomorrow 14:00", "2026-11-24T13:00:00+00:00"),  # a time named: that time
        ("+4h", "2026-11-23T13:00:00+00:00"),  # an exact moment
    ],
)
def test_a_timed_task_keeps_its_time_of_day(crm, when, until):
    add(crm, "Rückruf", "--due", "today 9:00")
    t = snooze(crm, when)
    assert t["snoozed_until"] == until
    assert t["due_at"] == "2026-11-23T08:00:00+00:00"


def test_the_time_of_an_earlier_snooze_is_kept(crm):
    add(crm, "Rückruf", "--due", "today")
    snooze(crm, "tomorrow 15:30")
    assert snooze(crm, "fri")["snoozed_until"] == "2026-11-27T14:30:00+00:00"


def test_a_task_due_on_a_day_stays_due_on_a_day(crm):
    add(crm, "Karte schreiben", "--due", "21.11.2026")
    r = crm("snooze", "1", "fri")
    assert r.stderr == "Snoozed task #1 Karte schreiben, due 2026-11-27.\n"
    t = crm("show", "task", "1", "-o", "json").json()
    assert t["snoozed_until"] == "2026-11-26T23:00:00+00:00"  # local midnight of Friday
    assert t["overdue"] is False
    table = crm("list", "tasks").stdout
    assert "2026-11-27" in table and "00:00" not in table
    card = crm("show", "task", "1").stdout
    assert "Snoozed until: 2026-11-27" in card and "00:00" not in card
    friday = {"CRM_NOW": "2026-11-27T18:00:00+01:00"}
    saturday = {"CRM_NOW": "2026-11-28T08:00:00+01:00"}
    overdue = [x["id"] for x in crm("list", "tasks", "--overdue", "-o", "json", env=friday).json()]
    assert overdue == []
    assert crm("show", "task", "1", "-o", "json", env=friday).json()["overdue"] is False
    overdue = [
        x["id"] for x in crm("list", "tasks", "--overdue", "-o", "json", env=saturday).json()
    ]
    assert overdue == [1]
    r = crm("remind", "--all", env=friday)
    assert r.exit_code == 0, r.stderr
    assert "00:00" not in r.stdout


def test_a_task_due_on_a_day_may_be_snoozed_to_today(crm):
    add(crm, "Karte schreiben", "--due", "21.11.2026")
    t = snooze(crm, "today")
    assert t["snoozed_until"] == "2026-11-22T23:00:00+00:00" and t["overdue"] is False


def test_snoozing_does_not_go_back(crm):
    add(crm, "Rückruf", "--due", "fri 9:00")
    r = crm("snooze", "1", "thu")
    assert r.exit_code == 1
    assert "is due 2026-11-27 09:00 already; snooze postpones" in r.stderr
    r = crm("snooze", "1", "yesterday")
    assert r.exit_code == 1 and "in the future" in r.stderr


def edit_due(crm, when):
    r = crm("edit", "task", "1", "--due", when, "-o", "json")
    assert r.exit_code == 0, r.stderr
    t = r.json()
    return t["due_at"], t["due_has_time"]


def test_edit_due_to_a_day_keeps_the_time_of_a_timed_task(crm):
    add(crm, "Rückruf", "--due", "25.11.2026 14:00")
    assert edit_due(crm, "fri") == ("2026-11-27T13:00:00+00:00", True)
    assert edit_due(crm, "in 2 weeks") == ("2026-12-07T13:00:00+00:00", True)
    assert edit_due(crm, "fri 9:00") == ("2026-11-27T08:00:00+00:00", True)


def test_edit_due_of_a_task_due_on_a_day_stays_on_a_day(crm):
    add(crm, "Karte", "--due", "25.11.2026")
    assert edit_due(crm, "+3d") == ("2026-11-25T23:00:00+00:00", False)
    r = crm("edit", "task", "1", "--due", "", "-o", "json")
    assert r.json()["due_at"] is None
    assert edit_due(crm, "24.12.") == ("2026-12-23T23:00:00+00:00", False)
