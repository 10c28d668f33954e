"""`crm add task`, `crm list tasks`, `crm done/snooze/reopen`, edit and delete of tasks."""

from __future__ import annotations

import pytest


def add(crm, *args):
    r = crm("add", "task", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def titles(crm, *args):
    r = crm("list", "tasks", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return [t["title"] for t in r.json()]


def test_add_task_with_contact_due_priority(crm):
    crm("add", "contact", "Jürgen Müller")
    t = add(
        crm,
        "Rückruf",
        "-C",
        "müller",
        "--due",
        "tomorrow 9:00",
        "--priority",
        "high",
        "--note",
        "wegen Angebot",
    )
    assert t["contact"] == "Jürgen Müller"
    assert t["due_at"] == "2026-11-24T08:00:00+00:00" and t["due_has_time"] is True
    assert (t["priority"], t["note"], t["done"]) == ("high", "wegen Angebot", False)


def test_date_only_due_is_a_day(crm):
    t = add(crm, "Angebot schicken", "--due", "fri")
    assert t["due_at"] == "2026-11-26T23:00:00+00:00" and t["due_has_time"] is False


def test_list_open_sorted_by_due_with_overdue_marked(crm):
    add(crm, "später", "--due", "+3d")
    add(crm, "ohne Datum")
    add(crm, "überfällig", "--due", "-2d")
    add(crm, "heute 8 Uhr", "--due", "today 8:00")
    add(crm, "heute", "--due", "today")
    rows = crm("list", "tasks", "-o", "json").json()
    assert [t["title"] for t in rows] == [
        "überfällig",
        "heute",
        "heute 8 Uhr",
        "später",
        "ohne Datum",
    ]
    assert {t["title"]: t["overdue"] for t in rows} == {
        "überfällig": True, "heute": False, "heute 8 Uhr": True, "später": False,
        "ohne Datum": False,
    }  # fmt: skip
    assert titles(crm, "--overdue") == ["überfällig", "heute 8 Uhr"]
    assert titles(crm, "--today") == ["überfällig", "heute", "heute 8 Uhr"]
    assert titles(crm, "--week") == ["überfällig", "heute", "heute 8 Uhr", "später"]
    plain = crm("list", "tasks").stdout
    assert "overdue" in plain and "\x1b[" not in plain


def test_filters_by_contact_and_priority(crm):
    crm("add", "contact", "Anna Weiß")
    add(crm, "a", "-C", "weiß", "--priority", "low")
    add(crm, "b", "--priority", "hoch")
    assert titles(crm, "--contact", "weiss") == ["a"]
    assert titles(crm, "--priority", "high") == ["b"]
    r = crm("list", "tasks", "--priority", "urgent")
    assert r.exit_code == 1 and "unknown priority" in r.stderr


def test_done_and_reopen(crm):
    t = add(crm, "Rechnung prüfen", "--due", "today")
    r = crm("done", "rechnung")
    assert r.exit_code == 0 and "Done: task #1" in r.stderr
    assert titles(crm) == []
    assert titles(crm, "--done") == ["Rechnung prüfen"]
    assert titles(crm, "--all") == ["Rechnung prüfen"]
    r = crm("done", str(t["id"]))
    assert r.exit_code == 1 and "done already" in r.stderr
    assert crm("reopen", str(t["id"])).exit_code == 0
    assert titles(crm) == ["Rechnung prüfen"]
    assert crm("reopen", str(t["id"])).exit_code == 1


def test_reopen_by_title_takes_the_done_task_not_its_next_occurrence(crm):
    """A recurring task done leaves its next occurrence open under the same title: `crm
    reopen TITLE` means the done one (`crm done TITLE` the open one)."""
    add(crm, "Täglicher Bericht", "--due", "today 9:00", "--every", "daily")
    assert crm("done", "Bericht").exit_code == 0
    r = crm("reopen", "Bericht", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["id"] == 1 and r.json()["done"] is False
    assert "Removed task #2" in r.stderr  # the occurrence its done had spawned
    assert titles(crm) == ["Täglicher Bericht"]


def test_reopen_by_title_of_a_task_done_day_after_day_takes_the_last_done(crm):
    """A daily task done twice: #1 and #2 done, #3 open. The one `crm reopen` can take back
    is #2 (#1's next occurrence is done): not 'ambiguous'. Two series of one title are."""
    add(crm, "Täglicher Bericht", "--due", "today 9:00", "--every", "daily")
    assert crm("done", "Bericht").exit_code == 0
    assert crm("done", "Bericht").exit_code == 0
    r = crm("reopen", "Bericht", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["id"] == 2 and "Removed task #3" in r.stderr
    assert crm("done", "2").exit_code == 0
    add(crm, "Wöchentlicher Bericht", "--due", "today 9:00", "--every", "weekly")
    assert crm("done", "Wöchentlicher").exit_code == 0
    r = crm("reopen", "Bericht")
    assert r.exit_code == 1 and "ambiguous" in r.stderr


def test_show_task_names_its_deal(crm):
    crm("add", "contact", "Eva Weiß")
    crm("add", "deal", "Dachsanierung", "-C", "eva", "--amount", "12000")
    add(crm, "Angebot schicken", "--deal", "Dach", "-C", "eva")
    r = crm("show", "task", "1")
    assert r.exit_code == 0, r.stderr
    assert "Dachsanierung (#1)" in r.stdout
    assert crm("show", "task", "1", "-o", "json").json()["deal_id"] == 1


def test_recurring_done_spawns_exactly_one_next_from_due_date(crm):
    add(crm, "Wochenbericht", "--due", "-9d 9:00", "--every", "weekly")
    r = crm("done", "wochenbericht", "-o", "json")
    assert r.exit_code == 0, r.stderr
    nxt = r.json()
    # Due 14.11. 09:00 (Saturday) -> next 21.11. 09:00: from the due date, not from now.
    assert nxt["due_at"] == "2026-11-21T08:00:00+00:00"
    assert "Next: task #2" in r.stderr
    assert crm("done", "1").exit_code == 1  # twice: an error, no second spawn
    r = crm("reopen", "1")
    assert r.stderr.splitlines()[-1] == (
        "Removed task #2 Wochenbericht, due 2026-11-21 09:00: the next occurrence, "
        "not yet worked on."
    )
    assert [t["id"] for t in crm("list", "tasks", "-o", "json").json()] == [1]
    crm("done", "1")
    assert [t["id"] for t in crm("list", "tasks", "--all", "-o", "json").json()] == [1, 3]


def test_reopen_refuses_when_the_next_occurrence_was_worked_on(crm):
    add(crm, "Wochenbericht", "--due", "today 9:00", "--every", "weekly")
    crm("done", "1")
    crm("snooze", "2", "+8d")
    r = crm("reopen", "1")
    assert r.exit_code == 1
    assert r.stderr == (
        "crm: error: task #1 has a next occurrence, task #2, that was changed since; "
        "reopening #1 would leave two open: finish or delete #2 first\n"
    )
    assert [t["id"] for t in crm("list", "tasks", "-o", "json").json()] == [2]


def test_recurring_with_count_ends(crm):
    add(crm, "Zweimal", "--due", "today 9:00", "--every", "daily", "--count", "2")
    crm("done", "1")
    r = crm("done", "2")
    assert r.exit_code == 0 and "series has ended" in r.stderr
    assert titles(crm) == []


def test_bad_task_input_writes_nothing(crm):
    cases = [
        (["x", "--every", "weekly"], "needs --due"),
        (["x", "--due", "today", "--every", "fortnightly-ish"], "recurrence"),
        (["x", "--due", "today", "--every", "daily", "--until", "yesterday"], "before --due"),
        (["x", "--due", "today", "--until", "+3d"], "need --every"),
        (["x", "--due", "31.02."], "31.02."),
        (["x", "-C", "niemand"], "no contact"),
        (["  "], "needs a title"),
    ]
    for args, message in cases:
        r = crm("add", "task", *args)
        assert r.exit_code == 1, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    assert titles(crm, "--all") == []


def test_snooze_moves_effective_due_but_not_the_series(crm):
    add(crm, "Monatsabschluss", "--due", "-1d 9:00", "--every", "monthly")
    r = crm("snooze", "monats", "+2d", "-o", "json")
    assert r.exit_code == 0, r.stderr
    t = r.json()
    # +2d names no time of day: the task keeps its 09:00 (local; 08:00 UTC)
    assert t["snoozed_until"] == "2026-11-25T08:00:00+00:00" and t["overdue"] is False
    assert titles(crm, "--overdue") == []
    nxt = crm("done", "1", "-o", "json").json()
    assert nxt["due_at"] == "2026-12-22T08:00:00+00:00"
    r = crm("snooze", "1", "yesterday")
    assert r.exit_code == 1


def test_edit_and_delete_task(crm):
    add(crm, "Alt", "--due", "today")
    r = crm(
        "edit",
        "task",
        "1",
        "--title",
        "Neu",
        "--due",
        "fri 10:00",
        "--priority",
        "low",
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    t = r.json()
    assert (t["title"], t["priority"], t["due_has_time"]) == ("Neu", "low", True)
    r = crm("edit", "task", "1", "--email", "x@example.de")
    assert r.exit_code == 1 and "does not apply to a task" in r.stderr
    assert crm("delete", "task", "neu").exit_code == 1  # no terminal, no --yes
    assert crm("delete", "task", "neu", "--yes").exit_code == 0
    assert titles(crm, "--all") == []


def test_show_contact_lists_open_tasks(crm):
    crm("add", "contact", "Jürgen Müller")
    add(crm, "Rückruf", "-C", "müller", "--due", "today")
    card = crm("show", "müller", "-o", "json").json()
    assert [t["title"] for t in card["open_tasks"]] == ["Rückruf"]
    assert "Open tasks" in crm("show", "müller").stdout


@pytest.mark.parametrize("ref", ["1", "rückruf"])
def test_show_task(crm, ref):
    add(crm, "Rückruf", "--due", "today", "--every", "2 weeks")
    r = crm("show", "task", ref)
    assert r.exit_code == 0 and "every 2 weeks" in r.stdout
