"""crm mail through a real SMTP server on 127.0.0.1: who receives it, what arrives, what the
timeline keeps, and every way it can fail with one error and nothing sent twice."""

from __future__ import annotations

import mailbox

import pytest

from tests.smtpserver import Handler, Server

FROM = "Beispiel GmbH <info@beispiel.de>"


@pytest.fixture
def env(tmp_path, monkeypatch):
    templates = tmp_path / "config" / "templates" / "mail"
    templates.mkdir(parents=True)
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CRM_SMTP_FROM", FROM)
    monkeypatch.setenv("CRM_SMTP_SECURITY", "none")
    monkeypatch.setenv("CRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CRM_UNSUBSCRIBE", "abmelden@beispiel.de")
    for var in ("CRM_SMTP_USER", "CRM_SMTP_PASSWORD", "CRM_CONSENT_NO_DOI", "CRM_SMTP_RATE"):
        monkeypatch.delenv(var, raising=False)
    return templates


@pytest.fixture
def people(crm, env):
    """Anna (confirmed), Bernd (withdrew), Clara (unconfirmed), Dora (no consent), Emil (no
    email, consented), Frida (confirmed): all tagged kunde."""
    for name, email in (
        ("Anna Adler", "anna@example.de"), ("Bernd Bauer", "bernd@example.de"),
        ("Clara Corn", "clara@example.de"), ("Dora Dahl", "dora@example.de"),
        ("Emil Engel", None), ("Frida Fuchs", "frida@example.de"),
    ):  # fmt: skip
        r = crm("add", "contact", name, *(("-e", email) if email else ()), "-t", "kunde")
        assert r.exit_code == 0, r.stderr
    for ref in ("anna", "bernd", "emil", "frida"):
        assert crm("consent", ref, "grant", "--purpose", "newsletter", "--confirmed").exit_code == 0
    assert crm("consent", "clara", "grant", "--purpose", "newsletter", "--at", "-1d").exit_code == 0
    assert crm("consent", "bernd", "withdraw", "--purpose", "newsletter").exit_code == 0
    return crm


def _template(env, name="info", body="Hallo {{ contact.first_name }}!\n", **front):
    front = {"subject": "Neu bei uns, {{ contact.name }}", "purpose": "newsletter", **front}
    head = "".join(f"{k}: {v}\n" for k, v in front.items())
    (env / f"{name}.jinja").write_text(f"---\n{head}---\n{body}", encoding="utf-8")


def test_dry_run_lists_who_gets_it_and_why_the_others_do_not(people, env):
    _template(env)
    r = people("mail", "info", "--to", "tag:kunde", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    why = {row["name"]: row["skipped_because"] for row in r.json()}
    assert why == {
        "Anna Adler": None, "Bernd Bauer": "withdrawn", "Clara Corn": "unconfirmed",
        "Dora Dahl": "no consent", "Emil Engel": "no email", "Frida Fuchs": None,
    }  # fmt: skip
    assert r.stderr == (
        "Would send info to 2 recipients; skipped 4 (1 no consent, 1 no email, 1 unconfirmed, "
        "1 withdrawn); nothing sent.\n"
    )


def test_send_delivers_to_the_consented_only_with_headers_footer_and_timeline(people, env):
    _template(env, body="Hallo {{ contact.first_name }}!\n--- html ---\n<p>Hallo "
              "{{ contact.first_name }} &amp; {{ contact.name }}</p>\n")  # fmt: skip
    handler = Handler()
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert r.stderr.startswith("Sent info to 2 recipients (mailing info-")
    assert sorted(a.recipients[0] for a in handler.arrived) == [
        "anna@example.de",
        "frida@example.de",
    ]
    msg = next(a.message for a in handler.arrived if a.recipients == ["anna@example.de"])
    assert msg["Subject"] == "Neu bei uns, Anna Adler"
    assert msg["From"] == FROM and msg["To"] == "Anna Adler <anna@example.de>"
    assert msg["List-Unsubscribe"] == "<mailto:abmelden@beispiel.de?subject=Abmelden>"
    assert msg["Message-ID"].endswith("@beispiel.de>") and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Hallo Anna!\n\n-- \n") and "abmelden@beispiel.de" in text
    assert "<p>Hallo Anna &amp; Anna Adler</p>" in msg.get_body(("html",)).get_content()
    card = people("show", "anna", "-o", "json").json()
    (mail,) = [a for a in card["timeline"] if a["kind"] == "email"]
    assert (mail["direction"], mail["subject"]) == ("out", "Neu bei uns, Anna Adler")
    assert mail["body"].startswith("Hallo Anna!")
    assert not [a for a in people("show", "dora", "-o", "json").json()["timeline"]]
    # run again: nobody twice
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 0 and len(handler.arrived) == 2
    assert "Sent info to 0 recipients" in r.stderr and "2 sent already" in r.stderr


def test_a_withdrawal_blocks_the_next_run_at_once(people, env):
    _template(env)
    people("consent", "anna", "withdraw", "--purpose", "newsletter", "--source", "phone")
    r = people("mail", "info", "--to", "tag:kunde", "--dry-run", "-o", "json")
    assert [row["name"] for row in r.json() if row["send"]] == ["Frida Fuchs"]


def test_a_refused_recipient_is_not_logged_and_the_rest_go_out(people, env):
    _template(env)
    handler = Handler(refuse={"anna@example.de"})
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == (
        "crm: error: the SMTP server refused 1 recipient: anna@example.de (550 5.1.1 mailbox "
        "unavailable); not sent, not recorded"
    )
    assert [a.recipients for a in handler.arrived] == [["frida@example.de"]]
    assert not people("show", "anna", "-o", "json").json()["timeline"]
    assert len(people("show", "frida", "-o", "json").json()["timeline"]) == 1


def test_a_server_that_drops_the_connection_halfway_sends_nothing_twice(people, env):
    _template(env)
    people(
        "consent", "clara", "confirm", "--purpose", "newsletter"
    )  # three to send: Anna, Clara, Frida
    handler = Handler(drop_at=2)
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 1
    (line,) = r.stderr.splitlines()
    assert line.startswith("crm: error: the SMTP server failed while sending to clara@example.de")
    assert line.endswith("1 mail sent and recorded before (a run again sends the rest, none twice)")
    assert [a.recipients for a in handler.arrived] == [["anna@example.de"]]
    assert not people("show", "clara", "-o", "json").json()["timeline"]
    handler.drop_at = None
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert [a.recipients[0] for a in handler.arrived] == [
        "anna@example.de",
        "clara@example.de",
        "frida@example.de",
    ]
    emails = [a for a in people("list", "activities", "-k", "email", "-o", "json").json()]
    assert len(emails) == 3


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{{ ''.__class__ }}", "not allowed in a template"),
        ("{{ cycler.__init__.__globals__ }}", "not allowed in a template"),
        ("Hallo {{ contact.nickname }}", "has no attribute 'nickname'"),
        ("{{ nobody }}", "'nobody' is undefined"),
        ("{% if %}", "line 5"),
    ],
)
def test_a_template_error_is_one_error_before_anything_is_sent(people, env, body, error):
    _template(env, body=body + "\n")
    handler = Handler()
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 1
    (line,) = r.stderr.splitlines()
    assert line.startswith("crm: error: template info") and error in line, line
    assert handler.arrived == [] and handler.datas == 0
    assert people("list", "activities", "-o", "json").json() == []


def test_a_broken_html_part_is_an_error_even_when_nobody_is_selected(people, env, tmp_path):
    _template(env, body="Hallo\n--- html ---\n<p>{% if %}</p>\n")
    r = people("mail", "info", "--to", "tag:niemand", "--mbox", str(tmp_path / "out.mbox"))
    assert r.exit_code == 1
    (line,) = r.stderr.splitlines()
    assert line.startswith("crm: error: template info: line 7"), line
    assert not (tmp_path / "out.mbox").exists()


def test_a_template_without_purpose_or_subject_is_refused(people, env):
    (env / "plain.jinja").write_text("---\nsubject: Hallo\n---\nText\n", encoding="utf-8")
    r = people("mail", "plain", "--to", "tag:kunde", "--dry-run")
    assert r.exit_code == 1 and "names no consent purpose" in r.stderr
    (env / "nosub.jinja").write_text("---\npurpose: newsletter\n---\nText\n", encoding="utf-8")
    r = people("mail", "nosub", "--to", "tag:kunde", "--dry-run")
    assert r.exit_code == 1 and "names no subject" in r.stderr


def test_a_login_refused_says_so_without_the_password(people, env):
    _template(env)
    handler = Handler()
    secret = "geh3im-Passwort"
    with Server(handler, login=("crm", "richtig")) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes", env={
            "CRM_SMTP_PORT": str(port), "CRM_SMTP_USER": "crm", "CRM_SMTP_PASSWORD": secret,
        })  # fmt: skip
    assert r.exit_code == 1
    assert "refused the login of crm" in r.stderr and "nothing was sent" in r.stderr
    assert secret not in r.stderr + r.stdout
    with Server(handler, login=("crm", secret)) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes", env={
            "CRM_SMTP_PORT": str(port), "CRM_SMTP_USER": "crm", "CRM_SMTP_PASSWORD": secret,
        })  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert len(handler.arrived) == 2


def test_a_server_without_login_says_so_not_starttls(people, env):
    _template(env)
    handler = Handler()
    with Server(handler) as port:  # no AUTH offered
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes", env={
            "CRM_SMTP_PORT": str(port), "CRM_SMTP_USER": "me", "CRM_SMTP_PASSWORD": "x",
        })  # fmt: skip
    assert r.exit_code == 1
    (line,) = r.stderr.splitlines()
    assert line == (
        f"crm: error: the SMTP server 127.0.0.1:{port} offers no login (AUTH) without STARTTLS, "
        "yet a user (me) is set: choose security starttls, or leave out CRM_SMTP_USER for a "
        "server that needs no login; nothing was sent"
    )
    assert handler.arrived == []
    assert people("list", "activities", "-o", "json").json() == []


@pytest.mark.parametrize(
    ("variable", "value", "error"),
    [
        ("CRM_SMTP_FROM", "kaputt", "crm: error: CRM_SMTP_FROM or [smtp] from: 'kaputt' is not "
         "a valid email address: An email address must have an @-sign."),
        ("CRM_SMTP_FROM", "Firma <kaputt@>", "crm: error: CRM_SMTP_FROM or [smtp] from: "
         "'Firma <kaputt@>' is not one valid email address (or Name <address>)"),
        ("CRM_SMTP_FROM", "a@example.de, b@example.de", "crm: error: CRM_SMTP_FROM or [smtp] "
         "from: 'a@example.de, b@example.de' is not one valid email address (or Name <address>)"),
        ("CRM_UNSUBSCRIBE", "abmelden", "crm: error: CRM_UNSUBSCRIBE or [smtp] unsubscribe: "
         "'abmelden' is not a valid email address: An email address must have an @-sign."),
    ],
)  # fmt: skip
def test_an_invalid_sender_address_is_one_error_before_anything(
    people, env, tmp_path, variable, value, error
):
    _template(env)
    handler = Handler()
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                   env={"CRM_SMTP_PORT": str(port), variable: value})  # fmt: skip
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [error]
    assert handler.arrived == []
    r = people("mail", "info", "--to", "tag:kunde", "--mbox", str(tmp_path / "x.mbox"),
               env={variable: value})  # fmt: skip
    assert r.exit_code == 1 and not (tmp_path / "x.mbox").exists()
    assert people("list", "activities", "-o", "json").json() == []


def test_a_sender_with_a_name_is_kept(people, env):
    _template(env)
    handler = Handler()
    with Server(handler) as port:
        r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes", env={
            "CRM_SMTP_PORT": str(port), "CRM_SMTP_FROM": '"Müller, Anna" <Anna@Beispiel.DE>',
        })  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert str(handler.arrived[0].message["From"]) == '"Müller, Anna" <Anna@beispiel.de>'
    assert handler.arrived[0].sender == "Anna@beispiel.de"


def test_no_server_is_one_error(people, env):
    _template(env)
    from tests.smtpserver import free_port

    r = people("mail", "info", "--to", "tag:kunde", "--send", "--yes",
               env={"CRM_SMTP_PORT": str(free_port())})  # fmt: skip
    assert r.exit_code == 1
    (line,) = r.stderr.splitlines()
    assert line.startswith("crm: error: cannot reach the SMTP server 127.0.0.1:")


def test_mbox_and_eml_files_hold_the_mails_and_record_nothing(people, env, tmp_path):
    _template(env)
    box = tmp_path / "out.mbox"
    r = people("mail", "info", "--to", "tag:kunde", "--mbox", str(box))
    assert r.exit_code == 0, r.stderr
    assert sorted(m["To"] for m in mailbox.mbox(str(box))) == [
        "Anna Adler <anna@example.de>",
        "Frida Fuchs <frida@example.de>",
    ]
    r = people("mail", "info", "--to", "tag:kunde", "--to", "city:nirgendwo", "--eml-dir",
               str(tmp_path / "eml"))  # fmt: skip
    assert r.exit_code == 0 and list((tmp_path / "eml").iterdir()) == []
    r = people("mail", "info", "--to", "tag:kunde", "--eml-dir", str(tmp_path / "eml"))
    assert len(list((tmp_path / "eml").glob("*.eml"))) == 2
    assert people("list", "activities", "-o", "json").json() == []


def test_no_doi_purposes_count_unconfirmed_grants(people, env):
    _template(env)
    r = people("mail", "info", "--to", "tag:kunde", "--dry-run", "-o", "json",
               env={"CRM_CONSENT_NO_DOI": "newsletter"})  # fmt: skip
    assert [row["name"] for row in r.json() if row["send"]] == [
        "Anna Adler",
        "Clara Corn",
        "Frida Fuchs",
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--to", "colour:blau"), "'colour:blau' is not a segment"),
        (("--to", "city:a", "--to", "city:b"), "city: is given twice"),
        (("--to", "all", "--to", "tag:x"), "exclude each other"),
        ((), "give the segment (--to) or colleagues (--to-user)"),
        (("--to", "all", "--send", "--mbox", "x"), "choose one of"),
        (("--to", "all", "--send", "--dry-run"), "--dry-run sends and writes nothing"),
    ],
)
def test_bad_options_are_one_error(people, env, args, error):
    _template(env)
    r = people("mail", "info", *args)
    assert r.exit_code == 1 and error in r.stderr, r.stderr


def test_staff_get_the_task_digest_once_a_day(crm, env):
    crm("add", "task", "Angebot schicken", "--due", "today")
    crm("add", "task", "Später", "--due", "+5d")
    handler = Handler()
    with Server(handler) as port:
        for _ in range(2):
            r = crm("mail", "task-digest", "--to-user", "chefin@beispiel.de", "--send", "--yes",
                    env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
            assert r.exit_code == 0, r.stderr
    (arrived,) = handler.arrived
    assert arrived.recipients == ["chefin@beispiel.de"]
    text = arrived.message.get_body(("plain",)).get_content()
    assert "- Angebot schicken" in text and "Später" not in text
    assert arrived.message["List-Unsubscribe"] is None


def test_the_demo_has_consents_to_sort_out(crm, monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("CRM_CONSENT_NO_DOI", raising=False)
    assert crm("demo").exit_code == 0
    r = crm("mail", "newsletter", "--to", "tag:newsletter", "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    why = {row["skipped_because"] for row in r.json()}
    assert {None, "withdrawn", "unconfirmed"} <= why
    r = crm("mail", "newsletter", "--to", "tag:newsletter", "--eml-dir", str(tmp_path / "eml"))
    assert r.exit_code == 0, r.stderr
    assert len(list((tmp_path / "eml").glob("*.eml"))) == sum(
        1
        for row in crm("mail", "newsletter", "--to", "tag:newsletter", "-o", "json").json()
        if row["send"]
    )


def test_umlauts_in_names_subject_and_text_arrive_intact(crm, env):
    crm("add", "contact", "Jürgen Müller", "-e", "jm@example.de", "-t", "kunde")
    crm("consent", "müller", "grant", "--purpose", "newsletter", "--confirmed")
    _template(env, subject="Grüße an {{ contact.name }} – {{ 1234.5 | money }}",
              body="Straße: {{ contact.name }} ✓\n")  # fmt: skip
    handler = Handler()
    with Server(handler) as port:
        r = crm("mail", "info", "--to", "tag:kunde", "--send", "--yes",
                env={"CRM_SMTP_PORT": str(port)})  # fmt: skip
    assert r.exit_code == 0, r.stderr
    (arrived,) = handler.arrived
    msg = arrived.message
    assert msg["Subject"] == "Grüße an Jürgen Müller – 1.234,50 €"
    assert msg["To"] == "Jürgen Müller <jm@example.de>"
    assert msg.get_body(("plain",)).get_content().startswith("Straße: Jürgen Müller ✓")
    (mail,) = crm("show", "müller", "-o", "json").json()["timeline"]
    assert mail["subject"] == "Grüße an Jürgen Müller – 1.234,50 €"


def test_templates_lists_built_in_and_own_mail_templates(crm, env):
    _template(env, name="herbst", title="Herbstaktion")
    r = crm("mail", "--templates", "-o", "json")
    assert r.exit_code == 0, r.stderr
    rows = {t["name"]: t for t in r.json()}
    assert sorted(rows) == ["herbst", "newsletter", "task-digest"]
    assert (rows["herbst"]["origin"], rows["newsletter"]["origin"]) == ("yours", "built-in")
    assert rows["herbst"]["title"] == "Herbstaktion"
    assert (rows["herbst"]["purpose"], rows["task-digest"]["purpose"]) == ("newsletter", None)
    assert rows["herbst"]["path"] == str(env / "herbst.jinja")
    r = crm("mail", "--templates")
    assert "herbst" in r.stdout and f"Your own go into {env}" in r.stderr
    r = crm("mail")
    assert r.exit_code == 2 and "crm mail --templates lists them" in r.stderr


def test_an_unknown_tag_in_the_segment_is_named_as_list_names_it(people, env):
    _template(env)
    warning = (
        "crm: warning: no tag 'kundee' exists, so nobody has it (crm list tags shows the tags)\n"
    )
    r = people("mail", "info", "--to", "tag:kundee", "--dry-run")
    assert r.exit_code == 0
    assert r.stderr == warning + "Would send info to 0 recipients; nothing sent.\n"
    r = people("list", "contacts", "--tag", "kundee", "--tag", "KUNDE", "-o", "json")
    assert r.exit_code == 0 and r.json() == [] and r.stderr == warning
    r = people("list", "companies", "--tag", "kundee", "-o", "json")
    assert r.exit_code == 0 and r.stderr == warning
    r = people("tag", "--where", "--tag", "kundee", "neu")
    assert r.exit_code == 0 and r.stderr == warning + "No contacts match.\n"
    # A tag that exists says nothing more, even in another spelling.
    r = people("mail", "info", "--to", "tag:KUNDE", "--dry-run")
    assert "warning" not in r.stderr
