"""services.mailing: planning by consent, rendering, the rate limit, resuming without sending
twice, and the settings (the password never in a repr or message)."""

from __future__ import annotations

import pytest

from crmcli.errors import Invalid
from crmcli.models import MailingRecipient
from crmcli.services import consent, contacts, mailing, mailsettings
from tests.conftest import NOW
from tests.smtpserver import Handler, Server


@pytest.fixture
def setup(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path))
    (tmp_path / "templates" / "mail").mkdir(parents=True)
    for var in ("CRM_SMTP_HOST", "CRM_SMTP_PORT", "CRM_SMTP_FROM", "CRM_SMTP_USER",
                "CRM_SMTP_PASSWORD", "CRM_SMTP_SECURITY", "CRM_UNSUBSCRIBE",
                "CRM_SMTP_RATE", "CRM_CONSENT_NO_DOI"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "templates" / "mail" / "info.jinja").write_text(
        "---\nsubject: Hallo {{ contact.first_name }}\npurpose: offers\n---\n"
        "{{ contact.name }} in {{ contact.city }}\n",
        encoding="utf-8",
    )
    ids = []
    for n in range(4):
        c = contacts.add_contact(f"Kunde Nr{n}", email=f"k{n}@example.de", city="Köln", now=NOW)
        consent.record(c["id"], "grant", "offers", confirmed_at=NOW, now=NOW)
        ids.append(c["id"])
    return tmp_path, ids


def _settings(tmp_path, port):
    (tmp_path / "config.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from = "Shop <shop@example.de>"\n',
        encoding="utf-8",
    )
    return mailsettings.settings()


def test_the_rate_limit_spaces_the_mails(setup):
    tmp_path, ids = setup
    handler, slept, ticks = Handler(), [], iter(range(0, 1000, 1))
    with Server(handler) as port:
        settings = _settings(tmp_path, port)
        plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
        messages = mailing.render(plan, settings, now=NOW)
        result = mailing.send(
            plan, messages, settings, rate=20, sleep=slept.append, clock=lambda: next(ticks),
        )  # fmt: skip
    assert result.sent == 4 and len(handler.arrived) == 4
    assert slept == [2, 2, 2]  # 3 s apart at 20 a minute, 1 s of the clock gone each time
    assert MailingRecipient.select().count() == 4


def test_a_withdrawal_while_the_mailing_runs_stops_that_mail(setup):
    """A long mailing at a rate limit: the third contact withdraws during the first pause,
    and gets nothing (a withdrawal blocks at once), while the others do."""
    tmp_path, ids = setup
    handler, ticks = Handler(), iter(range(0, 1000, 1))

    def pause(seconds):
        consent.record(ids[2], "withdraw", "offers", now=NOW)

    with Server(handler) as port:
        settings = _settings(tmp_path, port)
        plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
        result = mailing.send(
            plan, mailing.render(plan, settings, now=NOW), settings, rate=20, sleep=pause,
            clock=lambda: next(ticks),
        )  # fmt: skip
    assert (result.sent, result.withdrawn) == (3, 1)
    assert "k2@example.de" not in [a.recipients[0] for a in handler.arrived]
    assert MailingRecipient.select().count() == 3


def test_a_mailing_resumes_where_it_stopped(setup):
    tmp_path, ids = setup
    handler = Handler(drop_at=3)
    with Server(handler) as port:
        settings = _settings(tmp_path, port)
        plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
        with pytest.raises(mailing.MailError, match="2 mails sent and recorded before"):
            mailing.send(plan, mailing.render(plan, settings, now=NOW), settings)
        handler.drop_at = None
        again = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
        assert [r.skip for r in again.recipients] == [mailing.SENT_ALREADY] * 2 + [None] * 2
        mailing.send(again, mailing.render(again, settings, now=NOW), settings)
    assert sorted(a.recipients[0] for a in handler.arrived) == [
        f"k{n}@example.de" for n in range(4)
    ]
    # a changed template is a new mailing; --name makes one too
    (tmp_path / "templates" / "mail" / "info.jinja").write_text(
        "---\nsubject: Neu\npurpose: offers\n---\nNeu\n", encoding="utf-8"
    )
    assert mailing.plan_contacts("info", {"city": "köln"}, now=NOW).name != plan.name
    named = mailing.plan_contacts("info", {"city": "köln"}, name="Dezember", now=NOW)
    assert named.name == "Dezember" and len(named.to_send) == 4


def test_rendering_gives_the_template_the_contact(setup):
    tmp_path, ids = setup
    plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
    first, *_ = mailing.render(plan, mailsettings.settings(), now=NOW)
    assert first.message["Subject"] == first.subject == "Hallo Kunde"
    assert first.text.startswith("Kunde Nr0 in Köln\n")
    assert first.message.get_content_type() == "text/plain"


def test_a_footer_fills_its_three_fields_and_leaves_other_braces(setup):
    """`footer:` knows {purpose}, {unsubscribe} and {email}; a stray or unknown brace is
    text, and nothing in it reaches past the sandbox (str.format would run {email.__class__})."""
    tmp_path, ids = setup
    (tmp_path / "templates" / "mail" / "info.jinja").write_text(
        "---\nsubject: Hallo\npurpose: offers\n"
        "footer: Firma {Firma} { an {email} ({purpose}) {email.__class__}\n---\nText\n",
        encoding="utf-8",
    )
    plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
    first, *_ = mailing.render(plan, mailsettings.settings(), now=NOW)
    assert "Firma {Firma} { an k0@example.de (offers) {email.__class__}" in first.text


def test_a_segment_is_needed_and_settings_are_checked(setup, monkeypatch):
    with pytest.raises(Invalid, match="no segment given"):
        mailing.plan_contacts("info", {}, now=NOW)
    assert len(mailing.plan_contacts("info", {}, every=True, now=NOW).to_send) == 4
    monkeypatch.setenv("CRM_SMTP_SECURITY", "tls?")
    with pytest.raises(Invalid, match="not starttls, ssl or none"):
        mailsettings.settings()
    monkeypatch.setenv("CRM_SMTP_SECURITY", "ssl")
    monkeypatch.setenv("CRM_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("CRM_SMTP_RATE", "30")
    settings = mailsettings.settings()
    assert settings.port == 465 and "s3cret" not in repr(settings)
    assert settings.rate == 30.0
    monkeypatch.setenv("CRM_SMTP_RATE", "0")
    with pytest.raises(Invalid, match="above 0"):
        mailsettings.settings()


def test_a_config_that_is_not_toml_is_one_error(setup):
    tmp_path, _ = setup
    (tmp_path / "config.toml").write_text("[smtp\nhost=", encoding="utf-8")
    with pytest.raises(Invalid, match="is not valid TOML"):
        mailsettings.settings()


def test_a_recipient_another_run_reached_meanwhile_is_not_sent_again(setup, monkeypatch):
    tmp_path, ids = setup
    handler = Handler()
    with Server(handler) as port:
        settings = _settings(tmp_path, port)
        plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
        mails = mailing.render(plan, settings, now=NOW)
        # another process sends to the second one after this run planned
        other = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
        mailing.send(other, mailing.render(other, settings, now=NOW)[1:2], settings)
        result = mailing.send(plan, mails, settings)
    assert (result.sent, result.meanwhile) == (3, 1)
    assert len(handler.arrived) == 4 and MailingRecipient.select().count() == 4


def test_a_record_that_collides_rolls_back_its_timeline_entry(setup):
    from crmcli.models import Activity

    tmp_path, ids = setup
    plan = mailing.plan_contacts("info", {"city": "köln"}, now=NOW)
    first, *_ = mailing.render(plan, mailsettings.settings(), now=NOW)
    mailing._record(plan, first, NOW)
    with pytest.raises(mailing.MailError, match="at the same moment"):
        mailing._record(plan, first, NOW)
    assert Activity.select().count() == 1 and MailingRecipient.select().count() == 1
