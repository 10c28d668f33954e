"""`crm log`, `crm resolve`, `crm list activities` and the timeline on cards."""

from __future__ import annotations

import pytest


@pytest.fixture
def mueller(crm):
    assert (
        crm(
            "add", "contact", "Jürgen Müller", "-e", "jm@example.de", "-c", "Müller Bau GmbH"
        ).exit_code
        == 0
    )
    assert crm("add", "contact", "Anna Weiß", "-c", "Müller Bau GmbH").exit_code == 0


def log(crm, *args, input=None):
    r = crm("log", *args, "-o", "json", input=input)
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_log_a_call_with_everything(crm, mueller):
    a = log(
        crm, "call", "müller", "-m", "Angebot besprochen", "--subject", "Angebot",
        "--at", "gestern 14:30", "--direction", "out", "--duration", "1:30",
        "--outcome", "Rückruf Freitag",
    )  # fmt: skip
    assert a["kind"] == "call" and a["contact"] == "Jürgen Müller"
    assert a["occurred_at"] == "2026-11-22T13:30:00+00:00"
    assert (a["direction"], a["duration_min"], a["outcome"]) == ("out", 90, "Rückruf Freitag")
    assert a["status"] is None
    card = crm("show", "müller", "-o", "json").json()
    assert card["last_activity_at"] == "2026-11-22T13:30:00+00:00"
    assert [t["id"] for t in card["timeline"]] == [a["id"]]


@pytest.mark.parametrize(
    "kind",
    [
        "call",
        "email",
        "letter",
        "meeting",
        "note",
        "inquiry",
        "complaint",
        "return",
        "review",
        "survey",
    ],
)
def test_every_kind_can_be_logged(crm, mueller, kind):
    a = log(crm, kind, "müller", "-m", f"ein {kind}")
    assert a["kind"] == kind
    assert a["status"] == ("open" if kind in ("inquiry", "complaint", "return") else None)


def test_message_from_stdin(crm, mueller):
    a = log(crm, "note", "müller", "-m", "-", input="Zeile eins\nZeile zwei\n")
    assert a["body"] == "Zeile eins\nZeile zwei"


def test_no_message_when_piped_logs_without_text(crm, mueller):
    a = log(crm, "call", "müller")
    assert a["body"] is None


def test_editor_opens_on_a_terminal(crm, mueller, monkeypatch, tmp_path):
    from crmcli import env

    script = tmp_path / "fake-editor"
    script.write_text("#!/bin/sh\nprintf 'Im Editor geschrieben\\n# Kommentar\\n' > \"$1\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    r = crm("log", "note", "müller")
    assert r.exit_code == 0, r.stderr
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: False)
    assert (
        crm("show", "müller", "-o", "json").json()["timeline"][0]["body"] == "Im Editor geschrieben"
    )


def test_review_rating_and_survey_score(crm, mueller):
    assert log(crm, "review", "müller", "--rating", "5")["rating"] == 5
    assert log(crm, "survey", "müller", "--score", "9")["score"] == 9
    r = crm("log", "call", "müller", "--rating", "3")
    assert r.exit_code == 1 and "only a review" in r.stderr
    r = crm("log", "review", "müller", "--rating", "6")
    assert r.exit_code == 1 and "1 to 5" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["telegram", "müller"], "unknown kind 'telegram'"),
        (["call", "niemand"], "no contact matches 'niemand'"),
        (["call", "müller", "--direction", "sideways"], "in or out"),
        (["call", "müller", "--duration", "lang"], "duration"),
        (["call", "müller", "--at", "irgendwann"], "irgendwann"),
        (["call"], "name a contact"),
    ],
)
def test_bad_log_input_writes_nothing(crm, mueller, args, message):
    r = crm("log", *args)
    assert r.exit_code == 1, r.stderr
    assert message in r.stderr and len(r.stderr.splitlines()) == 1
    assert crm("list", "activities", "-o", "json").json() == []


def test_activity_on_a_company(crm, mueller):
    a = log(crm, "meeting", "--company", "müller bau", "--subject", "Jahresgespräch")
    assert a["company"] == "Müller Bau GmbH" and a["contact"] is None
    log(crm, "call", "weiß", "-m", "kurz")
    timeline = crm("show", "company", "müller", "-o", "json").json()["timeline"]
    assert [t["kind"] for t in timeline] == ["call", "meeting"]


def test_open_complaints_are_listed_oldest_first_until_resolved(crm, mueller):
    old = log(crm, "complaint", "müller", "--subject", "Lieferung beschädigt", "--at", "-10d")
    new = log(crm, "inquiry", "weiß", "--subject", "Preis?", "--at", "-2d")
    log(crm, "call", "müller")
    r = crm("list", "activities", "--open", "-o", "json")
    rows = r.json()
    assert [a["id"] for a in rows] == [old["id"], new["id"]]
    assert rows[0]["age_days"] == 10
    plain = crm("list", "activities", "--open").stdout
    assert "Lieferung beschädigt" in plain and "10" in plain

    r = crm("resolve", str(old["id"]), "-m", "Ersatz geliefert", "--by", "anna", "-o", "json")
    assert r.exit_code == 0, r.stderr
    done = r.json()
    assert (done["status"], done["resolved_by"], done["resolution"]) == (
        "resolved",
        "anna",
        "Ersatz geliefert",
    )
    assert done["resolved_at"] == "2026-11-23T09:00:00+00:00"
    assert [a["id"] for a in crm("list", "activities", "--open", "-o", "json").json()] == [
        new["id"]
    ]
    r = crm("resolve", str(old["id"]))
    assert r.exit_code == 1 and "resolved already" in r.stderr
    r = crm("reopen", "activity", str(old["id"]))
    assert r.exit_code == 0
    assert len(crm("list", "activities", "--open", "-o", "json").json()) == 2


def test_resolve_only_tracked_kinds(crm, mueller):
    call = log(crm, "call", "müller")
    r = crm("resolve", str(call["id"]))
    assert r.exit_code == 1 and "only inquiries, complaints and returns" in r.stderr
    r = crm("resolve", "abc")
    assert r.exit_code == 1 and "not an activity id" in r.stderr


def test_list_activities_filters(crm, mueller):
    log(crm, "call", "müller", "--at", "-40d", "--direction", "in")
    log(crm, "email", "müller", "--at", "-5d", "--direction", "out")
    log(crm, "complaint", "weiß", "--at", "-1d")
    kinds = lambda *a: [x["kind"] for x in crm("list", "activities", *a, "-o", "json").json()]  # noqa: E731
    assert kinds() == ["complaint", "email", "call"]
    assert kinds("--contact", "müller") == ["email", "call"]
    assert kinds("--company", "müller bau") == ["complaint", "email", "call"]
    assert kinds("--kind", "call", "--kind", "complaint") == ["complaint", "call"]
    assert kinds("--since", "-30d") == ["complaint", "email"]
    assert kinds("--until", "-30d") == ["call"]
    assert kinds("--direction", "out") == ["email"]
    assert kinds("--limit", "1", "--offset", "1") == ["email"]


def test_show_prints_timeline_newest_first_with_limit(crm, mueller):
    for i in range(5):
        log(crm, "note", "müller", "--subject", f"Notiz {i}", "--at", f"-{5 - i}d")
    card = crm("show", "müller", "--limit", "3", "-o", "json").json()
    assert [a["subject"] for a in card["timeline"]] == ["Notiz 4", "Notiz 3", "Notiz 2"]
    assert card["timeline_total"] == 5
    assert card["last_activity"]["subject"] == "Notiz 4"
    text = crm("show", "müller", "--limit", "3").stdout
    assert "Timeline (3 of 5" in text and "Last contact:" in text


def test_edit_and_delete_activity(crm, mueller):
    a = log(crm, "call", "müller", "--at", "-1d")
    r = crm(
        "edit",
        "activity",
        str(a["id"]),
        "--kind",
        "complaint",
        "--subject",
        "Ärger",
        "--at",
        "-3d",
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    edited = r.json()
    assert (edited["kind"], edited["status"], edited["subject"]) == ("complaint", "open", "Ärger")
    assert crm("show", "müller", "-o", "json").json()["last_activity_at"] == edited["occurred_at"]
    assert crm("search", "arger", "-o", "json").json()[0]["kind"] == "activity"
    r = crm("delete", "activity", str(a["id"]), "--yes")
    assert r.exit_code == 0
    assert crm("show", "müller", "-o", "json").json()["last_activity_at"] is None
    assert crm("search", "arger", "-o", "json").json() == []


def test_search_finds_activity_text_with_its_contact(crm, mueller):
    log(crm, "email", "müller", "--subject", "Gerüstbau Angebot", "-m", "Bitte um Rückmeldung")
    hits = crm("search", "gerustbau", "-o", "json").json()
    assert hits[0]["kind"] == "activity" and hits[0]["name"] == "Jürgen Müller"
    assert "Gerüstbau" in hits[0]["detail"]


def test_deleting_a_contact_takes_its_timeline(crm, mueller):
    log(crm, "note", "müller", "--subject", "Einmalig")
    r = crm("delete", "müller", "--yes")
    assert r.exit_code == 0 and "with 1 activity." in r.stderr
    assert crm("list", "activities", "-o", "json").json() == []
    assert crm("search", "einmalig", "-o", "json").json() == []


def test_an_empty_text_in_the_editor_aborts(crm, mueller, monkeypatch, tmp_path):
    from crmcli import env

    script = tmp_path / "empty-editor"
    script.write_text('#!/bin/sh\n: > "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    r = crm("log", "note", "müller")
    assert r.exit_code == 1 and "nothing logged" in r.stderr
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: False)
    assert crm("list", "activities", "-o", "json").json() == []


def test_search_can_be_limited_to_activities(crm, mueller):
    log(crm, "note", "müller", "--subject", "Müllabfuhr")
    hits = crm("search", "mull", "--kind", "activity", "-o", "json").json()
    assert [h["kind"] for h in hits] == ["activity"]


def test_empty_stdin_or_a_note_without_text_logs_nothing(crm):
    assert crm("add", "contact", "Jürgen Müller").exit_code == 0
    for args, stdin in (
        (["note", "müller", "-m", "-"], ""),
        (["note", "müller", "-m", "-"], "  \n\n"),
        (["call", "müller", "-m", "-"], ""),
        (["note", "müller"], None),  # a script: no editor to ask
        (["note", "müller", "-m", ""], None),
    ):
        r = crm("log", *args, input=stdin)
        assert r.exit_code == 1, (args, r.stderr)
        assert r.stderr.startswith("crm: error:") and "text" in r.stderr
    assert crm("list", "activities", "-o", "json").json() == []
    r = crm("log", "call", "müller", "--duration", "15m")  # a call happened, text or not
    assert r.exit_code == 0, r.stderr
    r = crm("log", "note", "müller", "--subject", "Kaffee")
    assert r.exit_code == 0, r.stderr


def test_log_and_task_refuse_another_customers_deal(crm):
    for args in (["Jürgen Müller"], ["Ida Brandt"]):
        assert crm("add", "contact", *args).exit_code == 0
    assert crm("add", "deal", "Dach", "--contact", "ida").exit_code == 0
    r = crm("log", "call", "müller", "-m", "x", "--deal", "1")
    assert r.exit_code == 1 and "another customer's" in r.stderr
    r = crm("add", "task", "Nachfassen", "--contact", "müller", "--deal", "1")
    assert r.exit_code == 1 and "another customer's" in r.stderr
    assert crm("list", "activities", "-o", "json").json() == []
    assert crm("list", "tasks", "-o", "json").json() == []
    assert crm("log", "call", "ida", "-m", "x", "--deal", "1").exit_code == 0
    assert crm("add", "task", "Nachfassen", "--contact", "ida", "--deal", "dach").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["list", "activities", "--since", "1.12.2026", "--until", "1.11.2026"],
        ["report", "funnel", "--since", "1.12.2026", "--until", "1.11.2026"],
        ["report", "sales", "--since", "today", "--until", "yesterday"],
    ],
)
def test_since_after_until_is_an_error(crm, args):
    r = crm(*args)
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: until:") and "period would be empty" in r.stderr


def test_at_without_a_year_is_the_last_such_day(crm):
    """What is logged happened: `--at fri` on a Monday is last Friday, not next (which the
    timeline would refuse as the future); the same for `24.12.` and edit --at."""
    assert crm("add", "contact", "Anna Weiß").exit_code == 0
    r = crm("log", "call", "anna", "--at", "fri 14:00", "-o", "json")  # NOW: Mon 23.11.2026
    assert r.exit_code == 0, r.stderr
    assert r.json()["occurred_at"].startswith("2026-11-20T13:00")
    r = crm("log", "note", "anna", "-m", "Weihnachtsgruß", "--at", "24.12.", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["occurred_at"].startswith("2025-12-2")
    r = crm("edit", "activity", "1", "--at", "thu 9:00", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["occurred_at"].startswith("2026-11-19T08:00")
