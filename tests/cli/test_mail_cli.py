"""`crm log email -`: a mail piped in from mutt, neomutt or aerc (bytes on stdin)."""

from __future__ import annotations

from pathlib import Path

import pytest

MAIL = Path(__file__).parent.parent / "fixtures" / "mail"
LATER = {"CRM_NOW": "2026-11-30T12:00:00+00:00", "CRM_MY_EMAILS": ""}


def raw(name: str) -> bytes:
    return (MAIL / name).read_bytes()


@pytest.fixture
def people(crm):
    for args in (
        ("Jürgen Müller", "-e", "jm@mueller-bau.de"),
        ("Anna Weiß", "-e", "anna.weiss@weiss-und-partner.de"),
        ("Peter Koch", "-e", "p.koch@koch-elektro.de"),
    ):
        assert crm("add", "contact", *args).exit_code == 0


def pipe(crm, name_or_bytes, *args, env=None):
    data = raw(name_or_bytes) if isinstance(name_or_bytes, str) else name_or_bytes
    return crm("log", "email", "-", *args, input=data, env={**LATER, **(env or {})})


def test_a_piped_mail_is_logged_on_its_senders_timeline(crm, people):
    r = pipe(crm, "thunderbird-alternative.eml", "-o", "json")
    assert r.exit_code == 0, r.stderr
    a = r.json()
    assert (a["kind"], a["contact"], a["direction"]) == ("email", "Jürgen Müller", "in")
    assert a["subject"] == "Re: Angebot für Ihre Küche"
    assert a["occurred_at"] == "2026-11-23T07:15:42+00:00"
    assert "Arbeitsplatte hätten wir gern in Eiche" in a["body"]
    assert "Logged email #1 from Jürgen Müller." in r.stderr
    card = crm("show", "müller", "-o", "json").json()
    assert [t["subject"] for t in card["timeline"]] == ["Re: Angebot für Ihre Küche"]


def test_the_same_mail_twice_is_logged_once_and_says_so(crm, people):
    assert pipe(crm, "outlook-html-cp1252.eml").exit_code == 0
    r = pipe(crm, "outlook-html-cp1252.eml")
    assert r.exit_code == 0
    assert "already logged as activity #1" in r.stderr.lower()
    assert len(crm("list", "activities", "-o", "json").json()) == 1


def test_an_unknown_sender_is_an_error_naming_the_address(crm, people):
    r = pipe(crm, "rfc2047-encoded.eml")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("crm: error: ")
    assert "bjoern.grosse@example.org" in r.stderr and "--create" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert crm("list", "activities", "-o", "json").json() == []


def test_create_adds_the_sender_as_a_lead(crm, people):
    r = pipe(crm, "rfc2047-encoded.eml", "--create", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "Added contact #4 Björn Große <bjoern.grosse@example.org> as a lead." in r.stderr
    person = crm("show", "bjoern.grosse@example.org", "-o", "json").json()
    assert (person["name"], person["status"]) == ("Björn Große", "lead")
    assert r.json()["subject"] == "Bestellung für München: Spüle und Spülmaschine € 399"


def test_outgoing_by_my_addresses_and_by_direction(crm, people):
    r = pipe(crm, "neomutt-outgoing.eml", "-o", "json",
             env={"CRM_MY_EMAILS": "thomas@schneider-kuechen.de"})  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert (r.json()["contact"], r.json()["direction"]) == ("Jürgen Müller", "out")
    assert "Logged email #1 to Jürgen Müller." in r.stderr
    data = raw("neomutt-outgoing.eml").replace(b"GB4242", b"GB4243")
    r = pipe(crm, data, "--direction", "out", "-o", "json",
             env={"CRM_MY_EMAILS": "someone@else.example"})  # fmt: skip
    assert (r.json()["contact"], r.json()["direction"]) == ("Jürgen Müller", "out")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff\xfe garbage \x89PNG" * 100, (MAIL / "not-a-mail.csv").read_bytes()],
    ids=["empty", "binary", "csv"],
)
def test_what_is_not_a_mail_is_one_line_and_exit_1(crm, people, data):
    r = pipe(crm, data)
    assert r.exit_code == 1 and r.stdout == ""
    # It names where the bytes came from: "crm: error: stdin is not a mail message (...)".
    assert r.stderr.startswith(("crm: error: stdin ", "crm: error: no mail message on stdin"))
    assert "message:" not in r.stderr and len(r.stderr.splitlines()) == 1


def test_options_that_a_mail_brings_itself_are_refused(crm, people):
    r = pipe(crm, "mutt-plain.eml", "-m", "Text")
    assert r.exit_code == 1 and "leave out -m" in r.stderr
    r = crm("log", "call", "müller", "--create")
    assert r.exit_code == 1 and "--create goes with '-'" in r.stderr


def test_kind_subject_and_time_can_be_given(crm, people):
    r = crm("log", "complaint", "-", "--subject", "Reklamation Küche", "--at", "24.11.2026 15:00",
            "-o", "json", input=raw("outlook-html-cp1252.eml"), env=LATER)  # fmt: skip
    a = r.json()
    assert (a["kind"], a["status"], a["subject"]) == ("complaint", "open", "Reklamation Küche")
    assert a["occurred_at"] == "2026-11-24T14:00:00+00:00"


def test_the_usual_log_email_with_a_ref_is_unchanged(crm, people):
    r = crm("log", "email", "müller", "-m", "Angebot geschickt", "-o", "json")
    assert r.exit_code == 0
    assert (r.json()["contact"], r.json()["body"]) == ("Jürgen Müller", "Angebot geschickt")


def test_a_terminal_on_stdin_is_told_to_pipe(crm, people, monkeypatch):
    from crmcli import env

    monkeypatch.setattr(env, "stdin_is_terminal", lambda: True)
    r = crm("log", "email", "-")
    assert r.exit_code == 1 and "pipe one in" in r.stderr


def test_a_mail_piped_through_a_real_process(tmp_path):
    """As mutt's <pipe-message> runs it: a process, bytes on stdin, no traceback."""
    import os
    import subprocess
    import sys

    db = tmp_path / "crm.db"
    env = {**os.environ, **LATER, "CRM_DB": str(db)}
    crm = [sys.executable, "-m", "crmcli"]
    subprocess.run([*crm, "add", "contact", "Peter Koch", "-e", "p.koch@koch-elektro.de"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    run = subprocess.run([*crm, "log", "email", "-"], input=raw("pdf-attachment.eml"),
                         env=env, capture_output=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    run = subprocess.run([*crm, "log", "email", "-"], input=bytes(range(256)) * 20, env=env,
                         capture_output=True)  # fmt: skip
    assert run.returncode == 1 and b"Traceback" not in run.stderr


def test_an_outlook_reply_is_logged_without_the_mail_it_quotes(crm, people):
    r = pipe(crm, "outlook-reply-de.eml", "-o", "json")
    assert r.exit_code == 0, r.stderr
    body = r.json()["body"]
    assert body.startswith("Hallo Herr Schneider,\n\ndanke für das Angebot.")
    assert body.endswith("Weiß & Partner GmbH\n\n[quoted reply left out: 12 lines]")
    assert "Ursprüngliche Nachricht" not in body and "12.480,00" not in body
