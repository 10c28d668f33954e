"""Tasks called directly: recurrence maths through complete_task, overdue rules, ordering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import Task
from crmcli.services import contacts, tasks
from crmcli.values import parse_every
from tests.conftest import NOW

BERLIN = ZoneInfo("Europe/Berlin")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def wall(dt: datetime) -> str:
    """A stored UTC time as Berlin wall time, with its weekday."""
    return dt.astimezone(BERLIN).strftime("%a %Y-%m-%d %H:%M")


def series(rule: str, due: datetime, *, has_time: bool = True, steps: int = 4) -> list:
    """Due dates of a series, completing each occurrence in turn; None once it has ended."""
    task = tasks.add_task("Serie", due_at=due, due_has_time=has_time, rrule=rule, now=NOW)
    out = [wall(task["due_at"])]
    for _ in range(steps):
        _, task = tasks.complete_task(task["id"], now=NOW)
        if task is None:
            return [*out, None]
        out.append(wall(task["due_at"]))
    return out


# ---------------------------------------------------------------- recurrence


def test_weekly_nine_oclock_stays_nine_across_october_dst(db):
    first = tasks.add_task(
        "Wochenbericht", due_at=local(2026, 10, 19, 9), due_has_time=True,
        rrule=parse_every("weekly"), now=NOW,
    )  # fmt: skip
    _, nxt = tasks.complete_task(first["id"], now=NOW)
    assert first["due_at"] == datetime(2026, 10, 19, 7, tzinfo=UTC)  # CEST, UTC+2
    assert nxt["due_at"] == datetime(2026, 10, 26, 8, tzinfo=UTC)  # CET, UTC+1
    assert wall(nxt["due_at"]) == "Mon 2026-10-26 09:00"
    assert nxt["due_has_time"] is True and nxt["rrule"] == "FREQ=WEEKLY;INTERVAL=1"


def test_weekly_nine_oclock_stays_nine_across_march_dst(db):
    assert series(parse_every("weekly"), local(2027, 3, 22, 9), steps=2) == [
        "Mon 2027-03-22 09:00", "Mon 2027-03-29 09:00", "Mon 2027-04-05 09:00",
    ]  # fmt: skip
    due = [t.due_at for t in Task.select().order_by(Task.id)]
    assert due[:2] == [datetime(2027, 3, 22, 8, tzinfo=UTC), datetime(2027, 3, 29, 7, tzinfo=UTC)]


def test_daily_time_skipped_by_spring_forward_moves_forward_for_that_day_only(db):
    # 28 March 2027 has no 02:30 in Berlin: that occurrence is at 03:30, the next at 02:30 again.
    assert series(parse_every("daily"), local(2027, 3, 27, 2, 30), steps=3) == [
        "Sat 2027-03-27 02:30", "Sun 2027-03-28 03:30", "Mon 2027-03-29 02:30",
        "Tue 2027-03-30 02:30",
    ]  # fmt: skip


def test_date_only_weekly_task_stays_a_local_day_across_dst(db):
    assert series(parse_every("weekly"), local(2026, 10, 18), has_time=False, steps=2) == [
        "Sun 2026-10-18 00:00", "Sun 2026-10-25 00:00", "Sun 2026-11-01 00:00",
    ]  # fmt: skip
    assert [t.due_has_time for t in Task.select()] == [False, False, False]


def test_monthly_from_the_31st_falls_on_the_last_day_of_shorter_months(db):
    # Not RFC 5545's plain reading (which skips February, April, June, ...): the month's last
    # day, then back to the 31st; 09:00 stays 09:00 across the March DST change.
    assert series(parse_every("monthly"), local(2027, 1, 31, 9), steps=5) == [
        "Sun 2027-01-31 09:00", "Sun 2027-02-28 09:00", "Wed 2027-03-31 09:00",
        "Fri 2027-04-30 09:00", "Mon 2027-05-31 09:00", "Wed 2027-06-30 09:00",
    ]  # fmt: skip


def test_a_moved_occurrence_does_not_move_the_month_end_series(db):
    task = tasks.add_task(
        "Monatsabschluss", due_at=local(2027, 1, 31, 9), due_has_time=True,
        rrule=parse_every("monatlich"), now=NOW,
    )  # fmt: skip
    _, feb = tasks.complete_task(task["id"], now=NOW)
    tasks.edit_task(feb["id"], {"due_at": local(2027, 3, 1, 9)}, now=NOW)  # late this time
    _, march = tasks.complete_task(feb["id"], now=NOW)
    assert wall(march["due_at"]) == "Wed 2027-03-31 09:00"


def test_yearly_from_29_february_falls_on_the_28th_in_other_years(db):
    assert series(parse_every("yearly"), local(2028, 2, 29), has_time=False, steps=4) == [
        "Tue 2028-02-29 00:00", "Wed 2029-02-28 00:00", "Thu 2030-02-28 00:00",
        "Fri 2031-02-28 00:00", "Sun 2032-02-29 00:00",
    ]  # fmt: skip


def test_monthly_byday_gives_first_mondays(db):
    rule = parse_every("FREQ=MONTHLY;BYDAY=1MO")
    # Due on the fourth Monday of November: the series goes on with the first Mondays.
    assert series(rule, local(2026, 11, 23, 9), steps=3) == [
        "Mon 2026-11-23 09:00", "Mon 2026-12-07 09:00", "Mon 2027-01-04 09:00",
        "Mon 2027-02-01 09:00",
    ]  # fmt: skip


def test_weekdays_skip_the_weekend(db):
    assert series(parse_every("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"), local(2026, 11, 26, 9)) == [
        "Thu 2026-11-26 09:00", "Fri 2026-11-27 09:00", "Mon 2026-11-30 09:00",
        "Tue 2026-12-01 09:00", "Wed 2026-12-02 09:00",
    ]  # fmt: skip


def test_count_ends_the_series(db):
    rule = tasks.with_end(parse_every("daily"), count=3)
    assert rule == "FREQ=DAILY;INTERVAL=1;COUNT=3"
    assert series(rule, local(2026, 11, 23, 9)) == [
        "Mon 2026-11-23 09:00", "Tue 2026-11-24 09:00", "Wed 2026-11-25 09:00", None,
    ]  # fmt: skip
    assert Task.select().count() == 3
    assert tasks.list_tasks(now=NOW) == []


def test_count_counts_from_the_series_start_after_editing_an_occurrence(db):
    rule = tasks.with_end(parse_every("daily"), count=3)
    first = tasks.add_task("Serie", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule=rule)
    _, second = tasks.complete_task(first["id"], now=NOW)
    # Moving one occurrence and renaming it does not restart the count.
    tasks.edit_task(
        second["id"], {"title": "Serie (verschoben)", "due_at": local(2026, 11, 24, 15)}
    )
    _, third = tasks.complete_task(second["id"], now=NOW)
    assert (wall(third["due_at"]), third["title"]) == ("Wed 2026-11-25 09:00", "Serie (verschoben)")
    assert tasks.complete_task(third["id"], now=NOW)[1] is None
    assert Task.get_by_id(third["id"]).series_start == local(2026, 11, 23, 9)


def test_moving_the_first_occurrence_moves_the_series(db):
    rule = tasks.with_end(parse_every("daily"), count=2)
    first = tasks.add_task("Serie", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule=rule)
    tasks.edit_task(first["id"], {"due_at": local(2026, 11, 25, 9)})
    _, second = tasks.complete_task(first["id"], now=NOW)
    assert wall(second["due_at"]) == "Thu 2026-11-26 09:00"  # two occurrences from the new start
    assert tasks.complete_task(second["id"], now=NOW)[1] is None

    weekly = tasks.add_task(
        "Jour fixe", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    tasks.edit_task(weekly["id"], {"due_at": local(2026, 11, 24, 9)})  # Monday -> Tuesday
    assert wall(tasks.complete_task(weekly["id"], now=NOW)[1]["due_at"]) == "Tue 2026-12-01 09:00"


def test_until_ends_the_series_and_is_inclusive(db):
    rule = tasks.with_end(parse_every("daily"), until=local(2026, 11, 25, 9))
    assert rule == "FREQ=DAILY;INTERVAL=1;UNTIL=20261125T090000"
    assert series(rule, local(2026, 11, 23, 9)) == [
        "Mon 2026-11-23 09:00", "Tue 2026-11-24 09:00", "Wed 2026-11-25 09:00", None,
    ]  # fmt: skip


def test_until_a_day_includes_that_whole_day(db):
    # --until fri (a date, so local midnight) on a 09:00 task: Friday's occurrence is the last.
    rule = tasks.with_end(parse_every("daily"), until=local(2026, 11, 27))
    assert rule == "FREQ=DAILY;INTERVAL=1;UNTIL=20261127T235959"
    assert series(rule, local(2026, 11, 26, 9)) == [
        "Thu 2026-11-26 09:00", "Fri 2026-11-27 09:00", None,
    ]  # fmt: skip
    # --due "today 9:00" --until today: one occurrence, not "until is before due".
    today = tasks.with_end(parse_every("daily"), until=local(2026, 11, 23))
    assert series(today, local(2026, 11, 23, 9)) == ["Mon 2026-11-23 09:00", None]


def test_until_as_a_date_in_a_raw_rule(db):
    # RFC 5545 allows UNTIL=<date>; dateutil reads it as that day's 00:00 (local here).
    rule = parse_every("FREQ=DAILY;UNTIL=20261126")
    assert series(rule, local(2026, 11, 23, 9)) == [
        "Mon 2026-11-23 09:00", "Tue 2026-11-24 09:00", "Wed 2026-11-25 09:00", None,
    ]  # fmt: skip
    with pytest.raises(Invalid) as err:
        tasks.add_task("Zu spät", due_at=local(2026, 11, 27, 9), due_has_time=True, rrule=rule)
    assert err.value.field == "until"


def test_until_before_due_and_recurrence_without_due_write_nothing(db):
    rule = tasks.with_end(parse_every("weekly"), until=local(2026, 11, 20))
    with pytest.raises(Invalid) as err:
        tasks.add_task("x", due_at=local(2026, 11, 23, 9), rrule=rule)
    assert err.value.field == "until"
    with pytest.raises(Invalid) as err:
        tasks.add_task("x", rrule="FREQ=WEEKLY")
    assert err.value.field == "every"
    with pytest.raises(Invalid):
        tasks.with_end("FREQ=DAILY", until=local(2026, 12, 1), count=2)
    assert Task.select().count() == 0


def test_an_endless_series_that_never_comes_again_is_refused(db):
    monday = local(2026, 11, 23, 9)
    with pytest.raises(Invalid) as err:
        tasks.add_task("x", due_at=monday, rrule="FREQ=DAILY;INTERVAL=7;BYDAY=TU")
    assert err.value.field == "every" and "2026-11-23" in str(err.value)
    task = tasks.add_task(
        "x", due_at=monday + timedelta(days=1), rrule="FREQ=DAILY;INTERVAL=7;BYDAY=TU"
    )
    with pytest.raises(Invalid):
        tasks.edit_task(task["id"], {"due_at": monday})
    assert tasks.get_task(task["id"])["due_at"] == monday + timedelta(days=1)
    assert Task.select().count() == 1


def test_completing_twice_is_a_conflict_and_never_spawns_twice(db):
    first = tasks.add_task(
        "Wochenbericht", due_at=local(2026, 11, 16, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    done, nxt = tasks.complete_task(first["id"], now=NOW)
    assert done["done_at"] == NOW and done["done"] is True
    assert (nxt["previous_id"], wall(nxt["due_at"])) == (first["id"], "Mon 2026-11-23 09:00")
    later = NOW + timedelta(hours=1)
    with pytest.raises(Conflict):
        tasks.complete_task(first["id"], now=later)
    assert tasks.get_task(first["id"])["done_at"] == NOW  # the failed call changed nothing
    assert Task.select().count() == 2

    tasks.reopen_task(first["id"], now=later)
    assert Task.select().count() == 1  # the untouched next occurrence went with the undo
    again, spawned = tasks.complete_task(first["id"], now=later)
    assert again == tasks.get_task(first["id"])
    assert wall(spawned["due_at"]) == "Mon 2026-11-23 09:00"
    assert Task.select().count() == 2
    assert [t["id"] for t in tasks.list_tasks(now=NOW)] == [spawned["id"]]


def open_ids() -> list[int]:
    return [t["id"] for t in tasks.list_tasks(now=NOW)]


def test_reopen_undoes_done_leaving_one_open_occurrence(db):
    first = tasks.add_task(
        "Jour fixe", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    _, nxt = tasks.complete_task(first["id"], now=NOW)
    card, removed = tasks.reopen_task(first["id"], now=NOW + timedelta(minutes=5))
    assert card["done"] is False and card["id"] == first["id"]
    assert removed["id"] == nxt["id"] and removed["due_at"] == local(2026, 11, 30, 9)
    assert open_ids() == [first["id"]]
    assert Task.select().count() == 1


def test_reopen_keeps_a_next_occurrence_that_was_changed_or_done(db):
    """The next occurrence was worked on (edited, snoozed or done): deleting it would lose
    that, keeping it would leave two open. Reopen refuses and changes nothing."""
    for change in ("edit", "snooze", "done"):
        Task.delete().execute()
        first = tasks.add_task(
            "Jour fixe", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=WEEKLY"
        )
        _, nxt = tasks.complete_task(first["id"], now=NOW)
        later = NOW + timedelta(hours=1)
        if change == "edit":
            tasks.edit_task(nxt["id"], {"note": "Agenda schicken"}, now=later)
        elif change == "snooze":
            tasks.snooze_task(nxt["id"], local(2026, 12, 1, 9), now=later)
        else:
            tasks.complete_task(nxt["id"], now=later)
        before = sorted(Task.select().tuples())
        with pytest.raises(Conflict) as err:
            tasks.reopen_task(first["id"], now=later)
        assert f"task #{nxt['id']}" in str(err.value), change
        assert sorted(Task.select().tuples()) == before, change


def test_reopen_of_a_series_whose_next_was_deleted_or_that_ended(db):
    first = tasks.add_task(
        "Zweimal", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=DAILY;COUNT=2"
    )
    _, nxt = tasks.complete_task(first["id"], now=NOW)
    _, none = tasks.complete_task(nxt["id"], now=NOW)
    assert none is None  # the series has ended
    card, removed = tasks.reopen_task(nxt["id"], now=NOW)
    assert (card["done"], removed) == (False, None)
    tasks.delete_task(nxt["id"])
    _, removed = tasks.reopen_task(first["id"], now=NOW)
    assert removed is None and open_ids() == [first["id"]]


def test_next_occurrence_counts_from_the_due_date_not_from_now(db):
    late = tasks.add_task(
        "Spät", due_at=local(2026, 11, 2, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    _, nxt = tasks.complete_task(late["id"], now=NOW)  # three weeks late
    assert wall(nxt["due_at"]) == "Mon 2026-11-09 09:00" and nxt["overdue"] is True
    early = tasks.add_task(
        "Früh", due_at=local(2026, 12, 7, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    _, nxt = tasks.complete_task(early["id"], now=NOW)  # two weeks early
    assert wall(nxt["due_at"]) == "Mon 2026-12-14 09:00" and nxt["overdue"] is False


def test_snoozing_does_not_move_the_series(db):
    task = tasks.add_task(
        "Jour fixe", due_at=local(2026, 11, 23, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    snoozed = tasks.snooze_task(task["id"], local(2026, 11, 26, 12), now=NOW)
    assert (snoozed["effective_due"], snoozed["due_at"]) == (
        local(2026, 11, 26, 12),
        task["due_at"],
    )
    _, nxt = tasks.complete_task(task["id"], now=NOW)
    assert wall(nxt["due_at"]) == "Mon 2026-11-30 09:00"
    assert nxt["snoozed_until"] is None and nxt["effective_due"] == nxt["due_at"]


def test_snooze_rules(db):
    task = tasks.add_task("x", due_at=local(2026, 11, 23, 9), due_has_time=True)
    with pytest.raises(Invalid):
        tasks.snooze_task(task["id"], NOW - timedelta(minutes=1), now=NOW)
    tasks.snooze_task(task["id"], NOW + timedelta(days=1), now=NOW)
    # A new due date clears the snooze.
    edited = tasks.edit_task(task["id"], {"due_at": local(2026, 11, 30, 9)}, now=NOW)
    assert edited["snoozed_until"] is None and edited["effective_due"] == local(2026, 11, 30, 9)
    tasks.complete_task(task["id"], now=NOW)
    with pytest.raises(Conflict):
        tasks.snooze_task(task["id"], NOW + timedelta(days=1), now=NOW)
    with pytest.raises(NotFound):
        tasks.snooze_task(999, NOW + timedelta(days=1), now=NOW)


def test_reopen_rules(db):
    task = tasks.add_task("x")
    with pytest.raises(Conflict):
        tasks.reopen_task(task["id"])
    with pytest.raises(NotFound):
        tasks.reopen_task(999)
    with pytest.raises(NotFound):
        tasks.complete_task(999)


def test_a_series_title_resolves_to_its_open_occurrence(db):
    first = tasks.add_task(
        "Wochenbericht", due_at=local(2026, 11, 16, 9), due_has_time=True, rrule="FREQ=WEEKLY"
    )
    _, nxt = tasks.complete_task(first["id"], now=NOW)
    assert tasks.resolve_task("wochenbericht") == nxt["id"]
    assert tasks.resolve_task(f"#{first['id']}") == first["id"]


def test_a_task_for_an_unknown_contact_is_not_found_and_writes_nothing(db):
    with pytest.raises(NotFound):
        tasks.add_task("x", contact_id=999)
    task = tasks.add_task("y")
    with pytest.raises(NotFound):
        tasks.edit_task(task["id"], {"contact_id": 999, "title": "z"})
    assert [(t.title, t.contact_id) for t in Task.select()] == [("y", None)]


# ---------------------------------------------------------------- overdue and ordering


def overdue_at(task_id: int, now: datetime) -> tuple[bool, bool]:
    """(the card's overdue flag, whether list_tasks(overdue=True) has it): always equal."""
    flag = tasks.get_task(task_id, now=now)["overdue"]
    listed = task_id in [t["id"] for t in tasks.list_tasks(overdue=True, now=now)]
    return flag, listed


def test_a_date_only_task_is_overdue_from_the_next_local_day(db):
    task = tasks.add_task("Angebot", due_at=local(2026, 11, 23), due_has_time=False)
    assert overdue_at(task["id"], NOW) == (False, False)
    assert overdue_at(task["id"], local(2026, 11, 23, 23, 59)) == (False, False)
    # 00:30 in Berlin is still the 23rd in UTC: the local day decides.
    assert overdue_at(task["id"], local(2026, 11, 24, 0, 30)) == (True, True)


def test_a_timed_task_is_overdue_from_its_time(db):
    task = tasks.add_task("Anruf", due_at=local(2026, 11, 23, 10, 30), due_has_time=True)
    assert overdue_at(task["id"], local(2026, 11, 23, 10, 29)) == (False, False)
    assert overdue_at(task["id"], local(2026, 11, 23, 10, 31)) == (True, True)
    tasks.complete_task(task["id"], now=NOW)
    assert overdue_at(task["id"], local(2026, 11, 30)) == (False, False)


def test_a_snoozed_task_is_overdue_from_its_snooze_time(db):
    task = tasks.add_task("Alt", due_at=local(2026, 11, 20), due_has_time=False)
    assert overdue_at(task["id"], NOW) == (True, True)
    tasks.snooze_task(task["id"], local(2026, 11, 23, 15), now=NOW)
    assert overdue_at(task["id"], NOW) == (False, False)
    assert overdue_at(task["id"], local(2026, 11, 23, 15, 1)) == (True, True)


def test_list_orders_by_effective_due_then_priority_undated_last(db):
    def add(title, due=None, priority="normal"):
        return tasks.add_task(
            title, due_at=due, due_has_time=due is not None, priority=tasks.check_priority(priority)
        )["id"]

    add("ohne Datum, hoch", priority="high")
    add("morgen 9, niedrig", local(2026, 11, 24, 9), "low")
    add("morgen 9, hoch", local(2026, 11, 24, 9), "hoch")
    add("morgen 9, normal", local(2026, 11, 24, 9))
    snoozed = add("gestern, geschlummert bis morgen 8", local(2026, 11, 22, 9), "high")
    tasks.snooze_task(snoozed, local(2026, 11, 24, 8), now=NOW)
    add("nächste Woche", local(2026, 11, 30, 9))
    add("überfällig", local(2026, 11, 20, 9), "low")
    expected = [
        "überfällig", "gestern, geschlummert bis morgen 8", "morgen 9, hoch", "morgen 9, normal",
        "morgen 9, niedrig", "nächste Woche", "ohne Datum, hoch",
    ]  # fmt: skip
    assert [t["title"] for t in tasks.list_tasks(now=NOW)] == expected
    # due_before compares the effective due date and leaves out undated tasks.
    before = tasks.list_tasks(due_before=local(2026, 11, 24, 9), now=NOW)
    assert [t["title"] for t in before] == expected[:2]
    before = tasks.list_tasks(due_before=local(2026, 12, 1), now=NOW)
    assert [t["title"] for t in before] == expected[:6]


def test_list_filters_by_state_contact_and_priority(db):
    anna = contacts.add_contact("Anna Weiß")["id"]
    a = tasks.add_task("a", contact_id=anna, priority=2)["id"]
    b = tasks.add_task("b", priority=2)["id"]
    c = tasks.add_task("c", contact_id=anna)["id"]
    tasks.complete_task(c, now=NOW)
    ids = lambda **kw: [t["id"] for t in tasks.list_tasks(now=NOW, **kw)]  # noqa: E731
    assert ids(contact_id=anna) == [a]
    assert ids(state="all", contact_id=anna) == [a, c]
    assert ids(state="done") == [c]
    assert ids(priority=2) == [a, b]
    assert ids(limit=1, offset=1) == [b]
    with pytest.raises(Invalid):
        tasks.list_tasks(state="later")


def test_snooze_only_postpones(db):
    from crmcli.errors import Invalid

    task = tasks.add_task(
        "Weihnachtskarten", due_at=NOW + 30 * timedelta(days=1), due_has_time=True
    )
    with pytest.raises(Invalid, match="snooze postpones"):
        tasks.snooze_task(task["id"], NOW + timedelta(days=2), now=NOW)
    assert tasks.get_task(task["id"])["snoozed_until"] is None  # nothing written
    later = tasks.snooze_task(task["id"], NOW + timedelta(days=31), now=NOW)
    assert later["effective_due"] == NOW + timedelta(days=31)


# ---------------------------------------------------------------- guards in the service


def test_a_task_about_another_customers_deal_is_refused_by_the_service(db):
    from crmcli.services import deals

    jm = contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)["id"]
    ida = contacts.add_contact("Ida Brandt", company="Brandt KG", now=NOW)["id"]
    dach = deals.add_deal("Dach", contact_id=jm, now=NOW)["id"]
    with pytest.raises(Invalid, match="not Ida Brandt's"):
        tasks.add_task("Angebot", contact_id=ida, deal_id=dach, now=NOW)
    assert Task.select().count() == 0
    mine = tasks.add_task("Angebot", contact_id=jm, deal_id=dach, now=NOW)
    with pytest.raises(Invalid, match="not Ida Brandt's"):
        tasks.edit_task(mine["id"], {"contact_id": ida}, now=NOW)
    assert tasks.get_task(mine["id"])["contact_id"] == jm


@pytest.mark.parametrize("field", ["title", "note"])
def test_task_text_has_a_limit_in_the_service(db, field):
    long = "x" * 200_001
    values = {"title": "Angebot", "note": None, field: long}
    with pytest.raises(Invalid, match=f"^{field}: is 200,001 characters long"):
        tasks.add_task(values["title"], note=values["note"], now=NOW)
    assert Task.select().count() == 0
    task = tasks.add_task("Angebot", now=NOW)
    with pytest.raises(Invalid, match=f"^{field}: is 200,001 characters long"):
        tasks.edit_task(task["id"], {field: long}, now=NOW)
    assert tasks.get_task(task["id"])["title"] == "Angebot"


def test_a_list_read_at_once_is_the_list_streamed(db, monkeypatch):
    """A page of tasks is read in one fetch; a longer list streams them in batches: the same
    tasks in the same order either way."""
    from crmcli.services import prepared

    monkeypatch.setattr(prepared, "BATCH", 3)
    person = contacts.add_contact("Erika Muster", now=NOW)["id"]
    for i in range(8):
        due = NOW + timedelta(hours=i - 4) if i % 3 else None
        tasks.add_task(f"T{i}", contact_id=person, due_at=due, priority=i % 3, now=NOW)
    end = tasks.day_start(NOW, 1)
    for limit in (None, 2, 5):
        for due_before in (None, end):
            whole = tasks.list_tasks(due_before=due_before, now=NOW, limit=limit)
            assert whole == list(tasks.iter_tasks(due_before=due_before, now=NOW, limit=limit))
            assert len(whole) == min(limit or 8, 8 if due_before is None else 5)


# ---------------------------------------------------------------- the rows of a long list


def _typed(value):
    """A value with its type, and a datetime with its zone object: rows must match in both."""
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.tzinfo is UTC)
    return (type(value).__name__, value)


def _lists(now: datetime) -> list:
    return [
        [{k: _typed(v) for k, v in row.items()} for row in found]
        for found in (
            tasks.list_tasks(state="all", now=now),
            tasks.list_tasks(due_before=tasks.day_start(now, 1), now=now),
            tasks.list_tasks(overdue=True, now=now),
            list(tasks.iter_tasks(state="done", now=now, limit=5000)),
        )
    ]


def test_task_lists_give_aware_utc_datetimes_in_any_session_time_zone(db):
    """On PostgreSQL in a UTC session (db.utc_session) the list's datetimes come from the
    server aware (AT TIME ZONE 'UTC'); in a session of another zone, and on SQLite, Python
    converts them: the same rows, values and types either way."""
    from peewee import PostgresqlDatabase

    from crmcli import db as dbmod

    anna = contacts.add_contact("Anna Zeit")
    timed = tasks.add_task("Anruf", contact_id=anna["id"], due_at=NOW - timedelta(hours=3),
                           due_has_time=True, now=NOW)  # fmt: skip
    tasks.add_task("Angebot", due_at=local(2026, 11, 23), priority=2, now=NOW)
    later = tasks.add_task("Später", due_at=local(2026, 11, 20), now=NOW)
    tasks.snooze_task(later["id"], local(2026, 11, 23, 15, 30), now=NOW)
    tasks.add_task("Liegen geblieben", contact_id=anna["id"], due_at=local(2026, 11, 21), now=NOW)
    tasks.add_task("Ohne Datum", now=NOW)
    tasks.complete_task(timed["id"], now=NOW)
    postgres = isinstance(db, PostgresqlDatabase)
    if postgres:
        db.execute_sql("SET TimeZone = 'UTC'")
        assert dbmod.utc_session()
    utc = _lists(NOW)
    assert [len(found) for found in utc] == [5, 3, 1, 1]
    first = tasks.list_tasks(state="all", now=NOW)[0]
    assert first["due_at"].tzinfo is UTC and type(first["due_has_time"]) is bool
    assert all(v[2] for found in utc for row in found for v in row.values() if v[0] == "datetime")
    if postgres:
        db.execute_sql("SET TimeZone = 'Europe/Berlin'")
        assert not dbmod.utc_session()
        assert _lists(NOW) == utc
    else:
        assert not dbmod.utc_session()


def test_booleans_come_back_as_bool_from_prepared_queries(db):
    """prepared reads a BOOLEAN column as the driver gives it on PostgreSQL (a bool) and
    converts SQLite's 0 and 1."""
    from crmcli.models import Stage
    from crmcli.services import prepared

    rows = prepared.run("test:stage_flags", lambda: Stage.select(Stage.is_won, Stage.is_lost))
    assert rows and all(type(v) is bool for row in rows for v in row)
