"""crm consent: record grants, confirmations and withdrawals, show the history and the card."""

from __future__ import annotations

import re


def test_grant_confirm_withdraw_and_the_history(crm):
    crm("add", "contact", "Jürgen Müller", "-e", "jm@example.de")
    r = crm(
        "consent", "müller", "grant", "--purpose", "Newsletter", "--source", "web form",
        "--text", "Ja, ich möchte den Newsletter.", "--version", "3", "--at", "-2d",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert r.stderr == (
        "Recorded the consent of #1 Jürgen Müller to newsletter (unconfirmed until its double "
        "opt-in).\n"
    )
    r = crm("consent", "müller", "confirm", "--purpose", "newsletter", "--at", "-1d")
    assert r.stderr == "Confirmed the consent of #1 Jürgen Müller to newsletter.\n"
    card = crm("show", "müller", "-o", "json").json()
    assert card["consent"] is True
    assert [(c["purpose"], c["state"], c["version"]) for c in card["consents"]] == [
        ("newsletter", "granted", "3"),
    ]
    r = crm("consent", "müller", "withdraw", "--purpose", "newsletter", "--source", "phone")
    assert r.stderr == "Recorded the withdrawal of #1 Jürgen Müller from newsletter.\n"
    rows = crm("consent", "müller", "-o", "json").json()
    assert [(e["action"], e["source"]) for e in rows] == [
        ("grant", "web form"),
        ("withdraw", "phone"),
    ]
    assert rows[0]["text"] == "Ja, ich möchte den Newsletter." and rows[0]["confirmed_at"]
    card = crm("show", "müller", "-o", "json").json()
    assert card["consent"] is False and card["consents"][0]["state"] == "withdrawn"
    shown = crm("show", "müller").stdout
    assert "Consent to mailings" in shown and "withdrawn" in shown


def test_the_old_consent_options_write_history(crm):
    crm("add", "contact", "Anna", "--consent")
    crm("add", "contact", "Bernd")
    crm("edit", "--consent", "--where", "--all", "--yes")
    crm("edit", "anna", "--no-consent")
    assert [e["action"] for e in crm("consent", "anna", "-o", "json").json()] == [
        "grant",
        "withdraw",
    ]
    (entry,) = crm("consent", "bernd", "-o", "json").json()
    assert (entry["action"], entry["source"]) == ("grant", "edited on many contacts at once")


def test_mistakes_are_one_error_and_write_nothing(crm):
    crm("add", "contact", "Anna")
    for args, error in (
        (("frob",), "'frob' is not grant, withdraw or confirm"),
        (("grant",), "purpose: name the purpose (--purpose newsletter)"),
        (("grant", "--purpose", "x", "--at", "+2d"), "is in the future"),
        (("withdraw", "--purpose", "x", "--confirmed"), "--confirmed goes with grant"),
        (("confirm", "--purpose", "x"), "error: #1 Anna gave no consent to x to confirm\n"),
        (("--source", "x"), "--source goes with grant, withdraw or confirm"),
    ):
        r = crm("consent", "anna", *args)
        assert r.exit_code in (1, 2) and error in r.stderr, (args, r.stderr)
    assert crm("consent", "anna", "-o", "json").json() == []
    assert crm("consent", "nobody").exit_code == 1


def test_the_card_says_what_a_mailing_will_do(crm, monkeypatch):
    crm("add", "contact", "Eva Roth", "-e", "eva@example.de", "--consent")
    crm("add", "contact", "Otto Ohne", "-e", "otto@example.de")
    assert "Consent:       granted, unconfirmed\n" in crm("show", "eva").stdout
    assert re.search(r"^Consent: +none$", crm("show", "otto").stdout, re.M)
    r = crm("consent", "eva", "confirm", "--purpose", "newsletter")
    assert r.exit_code == 0, r.stderr
    assert crm("show", "eva", "-o", "json").json()["consent"] is True  # scripts keep the flag
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("PAGER", "cat")
    crm("consent", "eva", "grant", "--purpose", "offers", "--source", "a very long source text")
    shown = re.sub(r"\x1b\[[0-9;]*m", "", crm("show", "eva").stdout)
    assert "granted, confirmed" in shown.split("Consent to mailings")[0]
    section = shown.split("Consent to mailings")[1]
    assert "granted, confirmed 23.11.2026" in section or "granted, confirmed 2026-11-23" in section
    assert "granted, unconfirmed" in section
    assert max(len(line) for line in shown.splitlines()) <= 80
    crm("consent", "eva", "withdraw", "--purpose", "newsletter")
    assert "withdrawn" in crm("show", "eva").stdout.split("Consent to mailings")[0]
