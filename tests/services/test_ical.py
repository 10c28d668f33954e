"""services.ical: iCalendar files as real tools write them, in as tasks and meetings, and the
calendar export read back by icalendar and by import_ics itself."""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli.errors import Invalid
from crmcli.models import Activity, Contact, Task, database_proxy
from crmcli.services import activities, contacts, deals, ical, ical_export, tasks
from tests.conftest import NOW

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ics"
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def by_title() -> dict[str, dict]:
    return {t["title"]: t for t in tasks.list_tasks(state="all", now=NOW)}


def berlin(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


def counts(result) -> tuple:
    r = result
    return (r.tasks_new, r.tasks_updated, r.tasks_unchanged, r.meetings_new,
            r.meetings_unchanged, len(r.skipped))  # fmt: skip


@pytest.fixture
def people(db):
    anna = contacts.add_contact("Anna Schmidt", email="anna.schmidt@example.de", now=NOW)
    juergen = contacts.add_contact("Jürgen Müller", email="juergen.mueller@example.de", now=NOW)
    return anna["id"], juergen["id"]


# ---------------------------------------------------------------- VTODO -> tasks


def test_thunderbird_tasks_with_their_zone_recurrence_priority_and_done_state(db):
    result = ical.import_ics(fixture("thunderbird_tasks.ics"), now=NOW)
    assert counts(result) == (4, 0, 0, 0, 0, 1)
    found = by_title()
    weekly = found["Wochenbericht an Frau Schäfer"]
    assert berlin(weekly["due_at"]) == "2026-11-30 09:30" and weekly["due_has_time"]
    assert weekly["rrule"] == "FREQ=WEEKLY;BYDAY=MO"
    assert weekly["priority"] == "high" and not weekly["done"]
    # A folded line unfolds, an escaped comma is a comma, categories stay in the note.
    assert weekly["note"] == (
        "Zahlen aus dem Shop, Retouren und offene Reklamationen zusammenfassen.\n\nCategories: Büro"
    )
    monthly = found["Umsatzsteuer-Voranmeldung"]
    assert not monthly["due_has_time"] and berlin(monthly["due_at"]) == "2026-12-10 00:00"
    # UNTIL a date: that whole day, as crm's own --until writes it (local wall time).
    assert monthly["rrule"] == "FREQ=MONTHLY;UNTIL=20271210T235959;BYMONTHDAY=10"
    assert monthly["priority"] == "normal"
    sent = found["Muster an Bäckerei Weiß schicken"]
    assert sent["done"] and sent["priority"] == "low"
    assert sent["done_at"] == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    offer = found["Angebot für Müller & Söhne prüfen"]
    assert offer["due_at"] is None and offer["priority"] == "high"  # RELATED-TO ignored
    # Every 4 hours: crm repeats daily or slower; skipped with the reason, nothing made.
    [(where, why)] = result.skipped
    assert "Server-Backup" in where and "FREQ=HOURLY" in why
    assert "Server-Backup prüfen" not in found
    stored = {t.title: t.external_id for t in Task.select()}
    assert stored["Wochenbericht an Frau Schäfer"] == "ical:6d3c1a52-7f1e-4b7a-9a4e-2f0c8e1b5a11"


def test_imported_tasks_keep_their_reminder_columns(db):
    ical.import_ics(fixture("thunderbird_tasks.ics"), now=NOW)
    rows = {t.title: t for t in Task.select()}
    weekly = rows["Wochenbericht an Frau Schäfer"]
    assert weekly.open_due_at == weekly.due_at and weekly.remind_at is not None
    assert weekly.series_start == weekly.due_at
    done = rows["Muster an Bäckerei Weiß schicken"]
    assert done.open_due_at is None and done.remind_at is None
    from crmcli.services import reminders

    assert reminders.queue_drift() == {"tasks": 0, "activities": 0, "contacts": 0}


def test_apple_reminders_dates_floating_times_and_priority_zero(db):
    result = ical.import_ics(fixture("apple_reminders.ics"), now=NOW)
    assert counts(result) == (5, 0, 0, 0, 0, 0)
    found = by_title()
    milk = found["Milch kaufen"]
    assert not milk["due_has_time"] and berlin(milk["due_at"]) == "2026-11-24 00:00"
    call = found["Herrn Özdemir zurückrufen"]  # DUE without a zone: local time
    assert call["due_has_time"] and berlin(call["due_at"]) == "2026-11-25 18:00"
    assert call["priority"] == "normal"  # PRIORITY:0, undefined
    assert found["Rechnung 2026-118 bezahlen"]["done"]
    assert found["Geschenk für Oma überlegen"]["note"] == "Vielleicht ein Buch?"
    assert found["Geschenk für Oma überlegen"]["priority"] == "low"
    assert found["Kfz-Versicherung kündigen oder verlängern"]["rrule"] == "FREQ=YEARLY"


def test_the_same_file_twice_changes_nothing(db, people):
    for name in ("thunderbird_tasks.ics", "apple_reminders.ics", "google_events.ics"):
        ical.import_ics(fixture(name), now=NOW)
    before = (Task.select().count(), Activity.select().count())
    again = [ical.import_ics(fixture(n), now=NOW) for n in ("thunderbird_tasks.ics",
             "apple_reminders.ics", "google_events.ics")]  # fmt: skip
    assert [counts(r)[:2] + counts(r)[3:4] for r in again] == [(0, 0, 0)] * 3
    assert again[0].tasks_unchanged == 4 and again[2].meetings_unchanged == 10
    assert (Task.select().count(), Activity.select().count()) == before


CHANGED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTODO
UID:task-1@example.de
DTSTAMP:20261120T100000Z
LAST-MODIFIED:{modified}
SEQUENCE:{sequence}
SUMMARY:{summary}
DUE;TZID=Europe/Berlin:{due}
PRIORITY:{priority}
{status}END:VTODO
END:VCALENDAR
"""


def vtodo(**given) -> bytes:
    values = dict(modified="20261120T100000Z", sequence=0, summary="Angebot schreiben",
                  due="20261126T100000", priority=5, status="")  # fmt: skip
    values.update(given)
    return CHANGED.format(**values).replace("\n", "\r\n").encode()


def test_a_changed_vtodo_updates_its_task(db):
    first = ical.import_ics(vtodo(), now=NOW)
    [task_id] = first.task_ids
    newer = vtodo(modified="20261121T100000Z", sequence=1, summary="Angebot schreiben (v2)",
                  due="20261127T140000", priority=1)  # fmt: skip
    result = ical.import_ics(newer, now=NOW)
    assert counts(result) == (0, 1, 0, 0, 0, 0) and result.task_ids == [task_id]
    task = tasks.get_task(task_id, now=NOW)
    assert task["title"] == "Angebot schreiben (v2)" and task["priority"] == "high"
    assert berlin(task["due_at"]) == "2026-11-27 14:00"
    row = Task.get_by_id(task_id)
    assert row.open_due_at == row.due_at  # the reminder follows the new due time
    done = ical.import_ics(newer.replace(b"PRIORITY:1\r\n", b"PRIORITY:1\r\nSTATUS:COMPLETED\r\n"))
    assert done.tasks_updated == 1 and tasks.get_task(task_id)["done"]
    assert Task.get_by_id(task_id).open_due_at is None
    reopened = ical.import_ics(newer, now=NOW)
    assert reopened.tasks_updated == 1 and not tasks.get_task(task_id)["done"]
    assert Task.get_by_id(task_id).open_due_at == Task.get_by_id(task_id).due_at
    assert Task.select().count() == 1


def test_a_series_that_went_on_in_crm_is_not_opened_again(db):
    result = ical.import_ics(fixture("thunderbird_tasks.ics"), now=NOW)
    weekly = next(
        i for i in result.task_ids if tasks.get_task(i)["rrule"] == "FREQ=WEEKLY;BYDAY=MO"
    )
    _, following = tasks.complete_task(weekly, now=NOW)
    again = ical.import_ics(fixture("thunderbird_tasks.ics"), now=NOW)
    assert again.tasks_updated == 0
    open_ones = [t for t in tasks.list_tasks(now=NOW) if t["title"].startswith("Wochenbericht")]
    assert [t["id"] for t in open_ones] == [following["id"]]


def test_dry_run_reports_and_writes_nothing(db, people):
    result = ical.import_ics(fixture("google_events.ics"), dry_run=True, now=NOW)
    assert result.dry_run and result.meetings_new == 10
    assert result.activity_ids == []
    assert Activity.select().count() == 0
    assert Contact.get_by_id(people[0]).last_activity_at is None


# ---------------------------------------------------------------- VEVENT -> meetings


def test_google_events_become_meetings_of_known_contacts(db, people):
    anna, juergen = people
    result = ical.import_ics(fixture("google_events.ics"), now=NOW)
    assert counts(result) == (0, 0, 0, 10, 0, 3)
    reasons = {where.split("'")[1]: why for where, why in result.skipped}
    assert reasons == {
        "Zahnarzt": "no attendee or organizer is a known contact",
        "Jahresgespräch Müller": "in the future: the timeline records what happened",
        "Abgesagt: Vorgespräch": "cancelled",
    }
    rows = {a.subject: a for a in Activity.select()}
    offer = rows["Angebotsbesprechung Müller"]
    # Matched by email whatever its case (Juergen.Mueller@...), organizer me@ unknown.
    assert offer.contact_id == juergen and offer.kind == "meeting"
    assert offer.occurred_at == datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    assert offer.duration_min == 60
    assert (
        offer.body
        == "Angebot durchgehen\nLieferung im Januar\n\nLocation: Hauptstraße 5, 01067 Dresden"
    )
    assert offer.external_id == "ical:4k2j3h4g5f6d7s8a9b0c1d2e3f@google.com"
    # A weekly series: a meeting for each Monday that has been, up to today (23 November,
    # 08:00 < now); the moved one (12 October) is the one of its own, not a second one.
    series = "ical:7n8m9b0v1c2x3z4l5k6j7h8g9f@google.com"
    jours = Activity.select().where(Activity.subject == "Jour fixe").order_by(Activity.occurred_at)
    assert [berlin(a.occurred_at) for a in jours] == [
        f"2026-{day} 08:00" for day in ("10-05", "10-19", "10-26", "11-02", "11-09", "11-16",
                                        "11-23")
    ]  # fmt: skip
    assert all(a.duration_min == 30 and a.contact_id == anna for a in jours)
    assert jours[0].external_id == f"{series}/20261005T080000"
    assert jours[3].external_id == f"{series}/20261102T080000"  # winter time: still 08:00
    moved = rows["Jour fixe (verschoben)"]
    assert moved.external_id == "ical:7n8m9b0v1c2x3z4l5k6j7h8g9f@google.com/20261012T080000"
    assert berlin(moved.occurred_at) == "2026-10-12 10:00"
    fair = rows["Messe Leipzig mit Anna"]  # all day: that day, no duration
    assert berlin(fair.occurred_at) == "2026-11-02 00:00" and fair.duration_min is None
    # The timeline's derived columns: the contact's last interaction, the search index.
    assert Contact.get_by_id(juergen).last_activity_at == offer.occurred_at
    from crmcli.services import search

    hits = search.search("Angebotsbesprechung")
    assert any(h.get("kind") == "activity" for h in hits), hits


def test_an_attendee_known_by_a_second_email(db):
    from crmcli.models import ContactEmail

    anna = contacts.add_contact("Anna Schmidt", email="anna@privat.example", now=NOW)
    ContactEmail.insert(contact=anna["id"], email="anna.schmidt@example.de",
                        email_key="anna.schmidt@example.de", kind="work").execute()  # fmt: skip
    result = ical.import_ics(fixture("outlook_event.ics"), now=NOW)
    assert result.meetings_new == 1
    assert Activity.get().contact_id == anna["id"]


def test_outlook_windows_zone_and_cp1252(db, people):
    result = ical.import_ics(fixture("outlook_event.ics"), now=NOW)
    assert counts(result) == (0, 0, 0, 1, 0, 0)
    meeting = Activity.get()
    assert meeting.contact_id == people[0]  # the attendee; the organizer is unknown
    assert meeting.subject == "Rückruf wegen Größenänderung"
    # "W. Europe Standard Time" is Berlin: 14:00 CET is 13:00 UTC.
    assert meeting.occurred_at == datetime(2026, 11, 5, 13, 0, tzinfo=UTC)
    assert meeting.duration_min == 60
    assert meeting.body == "Reklamation Lieferung KW 44 besprechen.\n\nLocation: Büro Köln"


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nEND:VCARD\r\n", "not an iCalendar file"),
        (b"", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:1\r\nSUMMARY:x\r\nEND:VTODO\r\n", "truncated"),
        (vtodo(due="20261399T100000"), "not readable iCalendar"),
        (vtodo(due="morgen"), "not readable iCalendar"),
    ],
    ids=["binary", "vcard", "empty", "never-closed", "bad-due", "words-due"],
)
def test_malformed_files_are_one_error_and_nothing_is_written(db, data, says):
    good = fixture("thunderbird_tasks.ics")
    with pytest.raises(Invalid, match=says):
        ical.import_ics(data, now=NOW)
    # A good file and a bad one together: still nothing.
    mixed = Path(good).read_bytes().replace(b"END:VCALENDAR\r\n", b"") + data
    with pytest.raises(Invalid):
        ical.import_ics(mixed, now=NOW)
    assert Task.select().count() == 0


def test_the_truncated_fixture(db):
    with pytest.raises(Invalid, match="truncated: BEGIN:VCALENDAR is never closed"):
        ical.import_ics(fixture("truncated.ics"), now=NOW)
    assert Task.select().count() == 0


def test_a_bad_value_late_in_the_file_leaves_nothing_behind(db, people):
    text = Path(fixture("google_events.ics")).read_text(encoding="utf-8")
    broken = text.replace("DTEND:20261116T140000Z", "DTEND:20261116T990000Z")
    with pytest.raises(Invalid):
        ical.import_ics(broken.encode(), now=NOW)
    assert Activity.select().count() == 0


CONTENT_LINES = st.sampled_from([
    "BEGIN:VTODO", "END:VTODO", "BEGIN:VEVENT", "END:VEVENT", "SUMMARY:Ä", "UID:x",
    "DUE:20261201", "DUE:20261201T100000Z", "DUE:2026", "DUE;TZID=Mars/Base:20261201T100000",
    "DTSTART:20261101T100000Z", "DURATION:PT1H", "DURATION:-P1D", "DTEND;VALUE=DATE:20261102",
    "RRULE:FREQ=WEEKLY", "RRULE:FREQ=SECONDLY", "RRULE:FREQ=DAILY;COUNT=0", "RRULE:BYDAY=XX",
    "RRULE:FREQ=MONTHLY;UNTIL=20200101", "PRIORITY:x", "PRIORITY:3", "STATUS:COMPLETED",
    "COMPLETED:nope", "ATTENDEE:mailto:anna.schmidt@example.de", "ORGANIZER:x", "CATEGORIES:a,b",
    "RECURRENCE-ID:20261101T100000Z", " folded", "X-Y;Z=\"q\":v", "BEGIN:VALARM", "END:VALARM",
])  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(st.one_of(CONTENT_LINES, st.text(max_size=30)), max_size=12).map(
            lambda lines: "\r\n".join(["BEGIN:VCALENDAR", *lines, "END:VCALENDAR", ""]).encode(
                "utf-8", "surrogatepass"
            )
        ),
    )
)
def test_random_input_is_imported_or_one_invalid_error(people, data):
    with contextlib.suppress(Invalid):  # anything else fails the test
        ical.import_ics(data, dry_run=True, now=NOW)


# ---------------------------------------------------------------- export


def parse(text: str):
    from icalendar import Calendar

    return Calendar.from_ical(text)


def export(**options) -> tuple[str, int]:
    out = io.StringIO()
    n = ical.export_calendar(out, now=NOW, **options)
    return out.getvalue(), n


@pytest.fixture
def filled(db, people):
    anna, juergen = people

    def task(title, due=None, **values):
        return tasks.add_task(title, due_at=due, now=NOW, **values)

    made = {
        "timed": task("Angebot an Anna", datetime(2026, 11, 26, 9, 30, tzinfo=BERLIN),
                      contact_id=anna, priority=2, note="Preise, 2026", due_has_time=True),
        "day": task("Quartalszahlen", datetime(2026, 12, 1, tzinfo=BERLIN), priority=0),
        "weekly": task("Wochenbericht", datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN),
                       rrule="FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T235959", due_has_time=True),
        "monthly": task("Miete", datetime(2026, 12, 3, tzinfo=BERLIN),
                        rrule="FREQ=MONTHLY;INTERVAL=1"),
        "undated": task("Irgendwann aufräumen"),
        "done": task("Erledigt", datetime(2026, 11, 20, tzinfo=BERLIN)),
    }  # fmt: skip
    tasks.complete_task(made["done"]["id"], now=NOW)
    contacts.edit_contact(anna, {"birthday": date(1968, 12, 24)}, now=NOW)
    contacts.edit_contact(juergen, {"birthday": date(1604, 2, 29)}, now=NOW)  # no year known
    deal = deals.add_deal(
        "Regale Filiale Köln", contact_id=anna, amount_cents=1_234_550,
        expected_close=date(2026, 12, 15), now=NOW,
    )  # fmt: skip
    complaint = activities.log_activity(
        "complaint", contact_id=juergen, subject="Lieferung beschädigt",
        occurred_at=datetime(2026, 11, 20, 11, 0, tzinfo=BERLIN), now=NOW,
    )  # fmt: skip
    return {"tasks": made, "deal": deal, "complaint": complaint, "anna": anna, "juergen": juergen}


def test_export_is_a_calendar_icalendar_reads(filled):
    text, n = export()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmcli//crm//DE\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    cal = parse(text)
    todos = {str(t["SUMMARY"]): t for t in cal.walk("VTODO")}
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert n == len(todos) + len(events) == 5 + 2 + 1 + 1
    assert "Erledigt" not in todos  # open tasks only, by default
    timed = todos["Angebot an Anna"]
    assert timed.decoded("DUE") == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert "DUE:20261126T083000Z" in text
    assert int(timed["PRIORITY"]) == 1 and str(timed["STATUS"]) == "NEEDS-ACTION"
    assert str(timed["DESCRIPTION"]) == "Preise, 2026" and str(timed["CONTACT"]) == "Anna Schmidt"
    assert timed["CONTACT"].params["ALTREP"] == "mailto:anna.schmidt@example.de"
    assert str(timed["UID"]) == f"crmcli-task-{filled['tasks']['timed']['id']}@crmcli"
    assert timed.get("DTSTAMP") is not None
    day = todos["Quartalszahlen"]
    assert day.decoded("DUE") == date(2026, 12, 1) and "DUE;VALUE=DATE:20261201" in text
    assert int(day["PRIORITY"]) == 9
    weekly = todos["Wochenbericht"]
    assert weekly["RRULE"].to_ical() == b"FREQ=WEEKLY;UNTIL=20270301T225959Z;BYDAY=MO"
    assert weekly.decoded("DTSTART") == weekly.decoded("DUE")
    assert todos["Miete"]["RRULE"].to_ical() == b"FREQ=MONTHLY;INTERVAL=1"
    assert "DUE" not in todos["Irgendwann aufräumen"]
    anna_bd = events[f"crmcli-birthday-{filled['anna']}@crmcli"]
    assert anna_bd.decoded("DTSTART") == date(1968, 12, 24)
    assert anna_bd["RRULE"].to_ical() == b"FREQ=YEARLY"
    leap = events[f"crmcli-birthday-{filled['juergen']}@crmcli"]  # yearless 29 February
    assert leap.decoded("DTSTART") == date(2000, 2, 29)
    assert dict(leap["RRULE"]) == {"FREQ": ["YEARLY"], "BYMONTH": [2], "BYMONTHDAY": [-1]}
    close = events[f"crmcli-deal-{filled['deal']['id']}@crmcli"]
    assert close.decoded("DTSTART") == date(2026, 12, 15) and "Regale" in str(close["SUMMARY"])
    assert "12.345,50" in str(close["DESCRIPTION"])
    follow = events[f"crmcli-followup-{filled['complaint']['id']}@crmcli"]
    # The day `crm remind` tells of an open complaint: three days after it came in.
    assert follow.decoded("DTSTART") == date(2026, 11, 23)
    assert "Jürgen Müller" in str(follow["SUMMARY"])


def test_birthday_recurrence_lands_every_year(filled):
    from dateutil.rrule import rrulestr

    cal = parse(export(what=("birthdays",))[0])
    leap = next(e for e in cal.walk("VEVENT") if e.decoded("DTSTART").month == 2)
    rule = rrulestr(leap["RRULE"].to_ical().decode(), dtstart=datetime(2000, 2, 29))
    days = [d.date() for d in rule.between(datetime(2026, 1, 1), datetime(2029, 1, 1))]
    assert days == [date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_export_uids_are_stable_and_done_tasks_come_with_the_flag(filled):
    first, _ = export(what=("tasks",))
    second, _ = export(what=("tasks",))
    assert first == second
    with_done, n = export(what=("tasks",), include_done=True)
    done = next(t for t in parse(with_done).walk("VTODO") if str(t["SUMMARY"]) == "Erledigt")
    assert str(done["STATUS"]) == "COMPLETED" and done.get("COMPLETED") is not None
    assert n == 6


def test_export_of_one_contact_and_unknown_choices(filled):
    text, n = export(contact_id=filled["anna"])
    summaries = {str(c["SUMMARY"]) for c in parse(text).walk() if c.get("SUMMARY")}
    assert summaries == {
        "Angebot an Anna",
        "Birthday: Anna Schmidt",
        "Close deal: Regale Filiale Köln",
    }
    with pytest.raises(Invalid, match="cannot export notes"):
        export(what=("tasks", "notes"))
    with pytest.raises(Invalid, match="no filter tag"):
        export(tag="vip")
    assert export(tag=None)[1] == 9  # a filter left empty is no filter


def test_export_streams_in_batches(filled, monkeypatch):
    from playhouse.test_utils import count_queries

    monkeypatch.setattr(ical_export, "BATCH", 2)
    for i in range(5):
        tasks.add_task(f"Extra {i}", now=NOW)
    with count_queries() as counted:
        text, n = export(what=("tasks",))
    assert n == 10 and len(parse(text).walk("VTODO")) == 10
    assert 5 <= counted.count <= 7  # ten rows, two a page: not a query per row


def test_round_trip_export_then_import_gives_the_same_tasks(filled):
    keys = ("title", "note", "due_at", "due_has_time", "priority", "done", "contact_id")

    def snapshot():
        # A rule's parts may come back in another order (icalendar writes its own): a set.
        rows = tasks.list_tasks(state="all", now=NOW)
        return sorted((*(t[k] for k in keys), sorted((t["rrule"] or "").split(";"))) for t in rows)

    before = snapshot()
    text, _ = export(what=("tasks",), include_done=True)
    Task.delete().execute()
    result = ical.import_ics(text.encode("utf-8"), now=NOW)
    assert result.tasks_new == 6 and not result.skipped
    assert snapshot() == before
    # And once more: the same file is unchanged.
    assert ical.import_ics(text.encode("utf-8"), now=NOW).tasks_unchanged == 6


def test_a_snoozed_task_exports_its_snooze(db):
    task = tasks.add_task("Rückruf", due_at=datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN),
                          due_has_time=True, now=NOW)  # fmt: skip
    tasks.snooze_task(task["id"], datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN), now=NOW)
    todo = parse(export(what=("tasks",))[0]).walk("VTODO")[0]
    assert todo.decoded("DUE") == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def test_followups_after_a_custom_wait(filled):
    text, _ = export(what=("followups",), open_after=timedelta(days=7))
    [event] = parse(text).walk("VEVENT")
    assert event.decoded("DTSTART") == date(2026, 11, 27)


def test_export_escapes_text_and_folds_long_lines_at_75_octets(db):
    note = "Größe; Farbe, Menge\\Preis\nZweite Zeile: " + "äöü" * 40
    tasks.add_task("Über-lange Aufgabe " + "ß" * 60, note=note, now=NOW)
    text, _ = export(what=("tasks",))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\n" not in text.replace("\r\n", "")
    todo = parse(text).walk("VTODO")[0]
    assert str(todo["DESCRIPTION"]) == note
    assert str(todo["SUMMARY"]) == "Über-lange Aufgabe " + "ß" * 60
    assert ical.import_ics(text.encode("utf-8"), now=NOW).tasks_unchanged == 1  # crm's own
    Task.delete().execute()
    result = ical.import_ics(text.encode("utf-8"), now=NOW)
    assert result.tasks_new == 1 and tasks.get_task(result.task_ids[0])["note"] == note


def _pg() -> bool:
    from peewee import PostgresqlDatabase

    return isinstance(database_proxy.obj, PostgresqlDatabase)


def test_export_leaves_out_control_characters_rfc_5545_allows_in_no_text(db):
    """An escape sequence or a bell another program stored in a title or note reaches no
    calendar app; a tab stays, a line break is escaped as before."""
    task = tasks.add_task("Rückruf", note="Zeile\nZwei\tTab", now=NOW)
    # (PostgreSQL stores no NUL at all; SQLite may hold one: left out the same way)
    title = "Es\x1b[2Jc\x07 Anruf" if _pg() else "Es\x1b[2Jc\x07 \x00Anruf"
    Task.update(title=title).where(Task.id == task["id"]).execute()
    text, _ = export(what=("tasks",))
    assert not any(ch in text for ch in "\x1b\x07\x00")
    todo = parse(text).walk("VTODO")[0]
    assert str(todo["SUMMARY"]) == "Es[2Jc Anruf"
    assert str(todo["DESCRIPTION"]) == "Zeile\nZwei\tTab"


def test_a_summary_longer_than_a_title_is_cut_and_kept_whole_in_the_note(db):
    long = "Rückruf " + "sehr " * 60 + "wichtig"
    result = ical.import_ics(vtodo(summary=long), now=NOW)
    task = tasks.get_task(result.task_ids[0])
    assert len(task["title"]) == 200 and task["title"].endswith("...")
    assert task["note"] == long
    [(where, warning)] = result.warnings
    assert where.startswith("VTODO 1") and "cut to 200" in warning


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("DUE:20261201T100000Z\r\nDUE:20261202T100000Z", "VTODO 1 'x': DUE is given 2 times"),
        ("DUE;VALUE=DATE:99991231", "VTODO 1 'x': DUE 9999-12-31 is out of range"),
    ],
)
def test_values_crm_cannot_hold_are_one_clear_error(db, line, says):
    data = (
        f"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n{line}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(Invalid) as caught:
        ical.import_ics(data.encode(), now=NOW)
    assert str(caught.value) == says
    assert Task.select().count() == 0


def test_a_vtodo_about_a_known_contact_is_linked_to_them(db, people):
    anna, juergen = people
    data = vtodo().replace(
        b"PRIORITY:5\r\n",
        b"PRIORITY:5\r\nCONTACT:J\xc3\xbcrgen M\xc3\xbcller\\, juergen.mueller@example.de\r\n",
    )
    [task_id] = ical.import_ics(data, now=NOW).task_ids
    assert tasks.get_task(task_id)["contact_id"] == juergen
    # Linked to someone else in crm: a file that names nobody leaves the link alone.
    tasks.edit_task(task_id, {"contact_id": anna}, now=NOW)
    assert ical.import_ics(vtodo(), now=NOW).tasks_unchanged == 1
    assert tasks.get_task(task_id)["contact_id"] == anna


def test_a_counted_series_exports_what_is_left_of_it(db):
    first = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
    task = tasks.add_task("Fünfmal", rrule="FREQ=DAILY;COUNT=5", due_at=first,
                          due_has_time=True, now=NOW)  # fmt: skip
    for _ in range(2):
        _, task = tasks.complete_task(task["id"], now=NOW)
    todo = parse(export(what=("tasks",))[0]).walk("VTODO")[0]
    assert todo.decoded("DUE") == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert dict(todo["RRULE"]) == {"FREQ": ["DAILY"], "COUNT": [3]}


def test_percent_complete_100_is_done(db):
    result = ical.import_ics(vtodo(status="PERCENT-COMPLETE:100\r\n"), now=NOW)
    assert tasks.get_task(result.task_ids[0])["done"]


def test_export_takes_the_task_list_filters(filled):
    def titles(**filters):
        return {str(t["SUMMARY"]) for t in parse(export(what=("tasks",), **filters)[0]).walk()
                if t.name == "VTODO"}  # fmt: skip

    assert titles(state="done") == {"Erledigt"}
    assert len(titles(state="all")) == 6
    assert titles(priority=2) == {"Angebot an Anna"}
    assert titles(due_before=datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)) == {
        "Angebot an Anna", "Wochenbericht",
    }  # fmt: skip
    with pytest.raises(Invalid, match="must be open, done or all"):
        titles(state="later")


def test_progress_is_told_how_far_the_import_is(db):
    seen: list[int] = []
    ical.import_ics(fixture("apple_reminders.ics"), now=NOW, progress=seen.append)
    assert seen[-1] == 5


ZONE_AFTER = """BEGIN:VCALENDAR\r
PRODID:-//test//EN\r
VERSION:2.0\r
BEGIN:VTODO\r
UID:zone-after@example.de\r
SUMMARY:Anruf Mumbai\r
DUE;TZID=Crm Test Zone +0530:20261201T150000\r
END:VTODO\r
BEGIN:VTIMEZONE\r
TZID:Crm Test Zone +0530\r
BEGIN:STANDARD\r
DTSTART:19700101T000000\r
TZOFFSETFROM:+0530\r
TZOFFSETTO:+0530\r
END:STANDARD\r
END:VTIMEZONE\r
END:VCALENDAR\r
"""


def test_a_zone_the_file_defines_after_its_items(db):
    result = ical.import_ics(ZONE_AFTER.encode(), now=NOW)
    assert tasks.get_task(result.task_ids[0])["due_at"] == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert result.warnings == []


def test_two_calendars_in_one_file(db):
    one = Path(fixture("apple_reminders.ics")).read_bytes()
    two = Path(fixture("thunderbird_tasks.ics")).read_bytes()
    assert ical.import_ics(one + two, now=NOW).tasks_new == 9


@pytest.mark.parametrize(
    ("tail", "says"),
    [
        (b"BEGIN:VCARD\r\nEND:VCARD\r\n", "has BEGIN:VCARD after END:VCALENDAR"),
        (b"SUMMARY:lost\r\n", "line 72 is after END:VCALENDAR"),
    ],
)
def test_content_after_the_calendar_is_an_error(db, tail, says):
    with pytest.raises(Invalid, match=says):
        ical.import_ics(Path(fixture("apple_reminders.ics")).read_bytes() + tail, now=NOW)


def test_an_end_that_closes_nothing(db):
    data = b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    with pytest.raises(Invalid, match="line 4: END:VEVENT closes BEGIN:VTODO"):
        ical.import_ics(data, now=NOW)


# ---------------------------------------------------------------- crm's own calendar back


def test_importing_crms_own_export_changes_nothing_and_makes_no_meetings(filled):
    before = {t["id"]: t["title"] for t in tasks.list_tasks(state="all", now=NOW)}
    text, _ = export(include_done=True)
    result = ical.import_ics(text.encode("utf-8"), now=NOW)
    assert (result.tasks_new, result.meetings_new) == (0, 0)
    assert result.tasks_unchanged == 6
    assert {t["id"]: t["title"] for t in tasks.list_tasks(state="all", now=NOW)} == before
    reasons = sorted(why for _, why in result.skipped)
    assert reasons == [
        "a birthday from crm's own calendar export, not a meeting",
        "a birthday from crm's own calendar export, not a meeting",
        "a deal's close date from crm's own calendar export, not a meeting",
        "a follow-up from crm's own calendar export, not a meeting",
    ]
    assert Activity.select().where(Activity.kind == "meeting").count() == 0


def test_a_task_changed_in_the_calendar_app_updates_the_task_it_came_from(filled):
    timed = filled["tasks"]["timed"]["id"]
    text, _ = export(what=("tasks",))
    text = text.replace("PRIORITY:1\r\n", "PRIORITY:9\r\n", 1)
    result = ical.import_ics(text.encode("utf-8"), now=NOW)
    assert (result.tasks_new, result.tasks_updated) == (0, 1)
    assert Task.get_by_id(timed).priority == 0
    # It stays crm's own task: the next export gives it the same UID.
    assert f"UID:crmcli-task-{timed}@crmcli" in export(what=("tasks",))[0]


def test_a_crm_uid_from_another_database_never_overwrites_an_unrelated_task(db):
    mine = tasks.add_task("Steuererklärung", now=NOW)
    other = vtodo(summary="Messe planen").replace(
        b"UID:task-1@example.de", f"UID:crmcli-task-{mine['id']}@crmcli".encode()
    )
    result = ical.import_ics(other, now=NOW)
    assert result.tasks_new == 1
    assert Task.get_by_id(mine["id"]).title == "Steuererklärung"
    assert set(by_title()) == {"Steuererklärung", "Messe planen"}
    # And a task with an id that does not exist here is simply new.
    gone = vtodo().replace(b"UID:task-1@example.de", b"UID:crmcli-task-999@crmcli")
    assert ical.import_ics(gone, now=NOW).tasks_new == 1


def test_a_task_from_another_calendar_is_exported_with_its_own_uid(db):
    ical.import_ics(fixture("thunderbird_tasks.ics"), now=NOW)
    text, _ = export(what=("tasks",), include_done=True)
    uids = {str(t["UID"]) for t in parse(text).walk("VTODO")}
    stored = {e[5:] for (e,) in Task.select(Task.external_id).tuples()}
    assert uids == stored and not any(u.startswith("crmcli-task-") for u in uids)
    # The app subscribed to the export sees the same items: importing it changes nothing.
    result = ical.import_ics(text.encode("utf-8"), now=NOW)
    assert result.tasks_new == 0 and result.tasks_updated == 0


SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
BEGIN:VEVENT
UID:serie-1@google.com
DTSTAMP:20261122T120000Z
{start}
{rule}
ORGANIZER:mailto:anna.schmidt@example.de
SUMMARY:Schulung
{extra}END:VEVENT
END:VCALENDAR
"""


def series(start="DTSTART;TZID=Europe/Berlin:20260901T140000\nDTEND;TZID=Europe/Berlin:"
           "20260901T153000", rule="RRULE:FREQ=WEEKLY;COUNT=3", extra="") -> bytes:  # fmt: skip
    text = SERIES.format(start=start, rule=rule, extra=extra)
    return text.replace("\n\n", "\n").replace("\n", "\r\n").encode()


def logged() -> list[tuple[str, str]]:
    query = Activity.select().where(Activity.kind == "meeting").order_by(Activity.occurred_at)
    return [(berlin(a.occurred_at), a.external_id.split("/", 1)[1]) for a in query]


def test_a_past_counted_series_logs_each_of_its_meetings(db, people):
    result = ical.import_ics(series(), now=NOW)
    assert result.meetings_new == 3 and not result.warnings
    assert logged() == [
        ("2026-09-01 14:00", "20260901T140000"),
        ("2026-09-08 14:00", "20260908T140000"),
        ("2026-09-15 14:00", "20260915T140000"),
    ]
    assert {a.duration_min for a in Activity.select()} == {90}
    assert ical.import_ics(series(), now=NOW).meetings_unchanged == 3  # once only


def test_a_running_series_logs_what_has_happened_and_more_later(db, people):
    rule = "RRULE:FREQ=WEEKLY;BYDAY=MO,TH"
    start = "DTSTART:20261109T090000Z\nDURATION:PT1H"
    extra = "EXDATE:20261112T090000Z\n"
    result = ical.import_ics(series(start, rule, extra), now=NOW)
    assert [at for at, _ in logged()] == [
        "2026-11-09 10:00",
        "2026-11-16 10:00",
        "2026-11-19 10:00",
        "2026-11-23 10:00",
    ]  # fmt: skip  (12 November is an EXDATE; the 23rd began as now is)
    assert logged()[0][1] == "20261109T090000Z" and result.meetings_new == 4
    later = ical.import_ics(series(start, rule, extra), now=NOW + timedelta(days=7))
    assert (later.meetings_new, later.meetings_unchanged) == (2, 4)


def test_an_all_day_series_until_a_date(db, people):
    start = "DTSTART;VALUE=DATE:20261101\nDTEND;VALUE=DATE:20261102"
    ical.import_ics(series(start, "RRULE:FREQ=DAILY;UNTIL=20261103"), now=NOW)
    assert logged() == [
        ("2026-11-01 00:00", "20261101"), ("2026-11-02 00:00", "20261102"),
        ("2026-11-03 00:00", "20261103"),
    ]  # fmt: skip


def test_a_long_series_logs_its_latest_meetings_only(db, people):
    start = "DTSTART:20200101T080000Z\nDTEND:20200101T081500Z"
    result = ical.import_ics(series(start, "RRULE:FREQ=DAILY"), now=NOW)
    assert result.meetings_new == ical.MAX_OCCURRENCES
    assert logged()[-1][0] == "2026-11-23 09:00"
    assert "the latest 366 logged" in result.warnings[0][1]


def test_an_html_description_from_google_is_stored_as_text(db, people):
    html = (
        'DESCRIPTION:Agenda:<br>1. Preise<br/>2. Lieferung<br><br>Unterlagen: <a href="h'
        'ttps://example.de/a?x=1&amp;y=2">Mappe</a> und <a href="https://example.de/b">'
        "https://example.de/b</a><ul><li>Punkt &amp; Komma</li><li>Zwei</li></ul><b>Ende</b>\n"
    )
    ical.import_ics(series(rule="", extra=html), now=NOW)
    assert Activity.get().body == (
        "Agenda:\n1. Preise\n2. Lieferung\n\nUnterlagen: Mappe (https://example.de/a?x=1&y=2) "
        "und https://example.de/b\n- Punkt & Komma\n- Zwei\nEnde"
    )


def test_plain_text_with_angle_brackets_stays_as_it_is(db, people):
    text = "DESCRIPTION:Preis <5.000 € und a<b: so bleibt es\n"
    ical.import_ics(series(rule="", extra=text), now=NOW)
    assert Activity.get().body == "Preis <5.000 € und a<b: so bleibt es"


def test_a_series_too_dense_to_follow_logs_its_first_meeting(db, people):
    start = "DTSTART:20200101T080000Z\nDTEND:20200101T080100Z"
    result = ical.import_ics(series(start, "RRULE:FREQ=MINUTELY"), now=NOW)
    assert result.meetings_new == 1 and "first occurrence only" in result.warnings[0][1]


def test_a_line_folded_inside_an_umlaut_is_unfolded_before_decoding(db):
    """RFC 5545 3.1: a writer may fold between the two bytes of an ü; the octets are joined
    first, so the text stays UTF-8 (it came out 'RÃ¼ckruf' and the file fell to cp1252)."""
    summary = "SUMMARY:Rückruf bei Jürgen Müller".encode()
    cut = summary.index("ü".encode()) + 1  # inside the two bytes of the first ü
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
        b"UID:fold-1@test\r\n"
        + summary[:cut]
        + b"\r\n "
        + summary[cut:]
        + b"\r\n"
        + "DESCRIPTION:Grü".encode()
        + b"\r\n "
        + "ße an Dörte".encode()
        + b"\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(UnicodeDecodeError):
        (summary[:cut] + b"\r\n").decode()  # the line on its own is not UTF-8
    ical.import_ics(data, now=NOW)
    task = by_title()["Rückruf bei Jürgen Müller"]
    assert task["note"] == "Grüße an Dörte"
