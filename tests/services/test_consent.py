"""Consent as a history: grants with text, version and double opt-in, withdrawals that win,
the old flag kept in step, and every other way the flag is written leaving an entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcli.errors import Invalid, NotFound
from crmcli.models import ConsentEntry, Contact
from crmcli.services import bulk, consent, contacts, merge
from tests.conftest import NOW

DAY = timedelta(days=1)


@pytest.fixture
def anna(db):
    return contacts.add_contact("Anna Adler", email="anna@example.de", now=NOW - 30 * DAY)["id"]


def _flag(contact_id):
    c = Contact.get_by_id(contact_id)
    return bool(c.consent), c.consent_at


def test_a_grant_needs_its_confirmation_before_mail_may_go(anna):
    g = consent.record(
        anna, "grant", "Newsletter", at=NOW - 2 * DAY, source="web form",
        text="Ja, ich möchte den Newsletter.", version="v3", now=NOW,
    )  # fmt: skip
    assert (g["purpose"], g["action"], g["version"], g["confirmed_at"]) == (
        "newsletter",
        "grant",
        "v3",
        None,
    )
    found = consent.in_force([anna], "newsletter")
    assert consent.state(found[anna]) == consent.UNCONFIRMED
    assert consent.state(found[anna], no_doi=["newsletter"]) is None
    confirmed = consent.confirm(anna, "newsletter", at=NOW - DAY, now=NOW)
    assert confirmed["confirmed_at"] == NOW - DAY
    assert consent.state(consent.in_force([anna], "newsletter")[anna]) is None
    assert _flag(anna) == (True, NOW - 2 * DAY)  # the old flag follows the newsletter


def test_a_withdrawal_blocks_at_once_and_the_history_keeps_both(anna):
    consent.record(anna, "grant", "newsletter", at=NOW - 5 * DAY, confirmed_at=NOW - 4 * DAY,
                   now=NOW)  # fmt: skip
    consent.record(anna, "withdraw", "newsletter", source="phone", now=NOW)
    assert consent.state(consent.in_force([anna], "newsletter")[anna]) == consent.WITHDRAWN
    assert [e["action"] for e in consent.history(anna)] == ["grant", "withdraw"]
    assert _flag(anna) == (False, None)
    # a grant entered late, dated before the withdrawal, does not undo it
    consent.record(anna, "grant", "newsletter", at=NOW - 3 * DAY, confirmed_at=NOW - 3 * DAY,
                   now=NOW)  # fmt: skip
    assert consent.state(consent.in_force([anna], "newsletter")[anna]) == consent.WITHDRAWN
    with pytest.raises(Invalid, match="withdrawn; nothing to confirm"):
        consent.confirm(anna, "newsletter", now=NOW)


def test_purposes_are_separate(anna):
    consent.record(anna, "grant", "offers", confirmed_at=NOW, now=NOW)
    assert consent.in_force([anna], "newsletter") == {}
    assert consent.state(None) == consent.NO_CONSENT
    rows = consent.summary(anna)
    assert [(r["purpose"], r["state"], r["mailable"]) for r in rows] == [
        ("offers", "granted", True)
    ]
    assert _flag(anna) == (False, None)  # only the newsletter is the old flag


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": "grant", "purpose": ""}, "purpose"),
        ({"action": "grant", "purpose": "news;letter"}, "not a purpose"),
        ({"action": "maybe", "purpose": "newsletter"}, "neither grant nor withdraw"),
        ({"action": "grant", "purpose": "newsletter", "at": NOW + DAY}, "in the future"),
        ({"action": "withdraw", "purpose": "newsletter", "text": "x"}, "has no consent text"),
        ({"action": "grant", "purpose": "newsletter", "at": NOW, "confirmed_at": NOW - DAY},
         "after it was given"),
    ],
)  # fmt: skip
def test_bad_entries_are_refused_and_nothing_is_written(anna, kwargs, error):
    kwargs = dict(kwargs)  # the same dict serves each backend
    with pytest.raises(Invalid, match=error):
        consent.record(anna, kwargs.pop("action"), kwargs.pop("purpose"), now=NOW, **kwargs)
    assert ConsentEntry.select().count() == 0


def test_unknown_contact_and_nothing_to_confirm(anna):
    with pytest.raises(NotFound):
        consent.record(anna + 99, "grant", "newsletter", now=NOW)
    with pytest.raises(NotFound, match="no consent to newsletter"):
        consent.confirm(anna, "newsletter", now=NOW)
    consent.record(anna, "grant", "newsletter", confirmed_at=NOW, now=NOW)
    with pytest.raises(Invalid, match="confirmed already"):
        consent.confirm(anna, "newsletter", now=NOW)


def test_the_flag_written_any_other_way_lands_in_the_history(db):
    a = contacts.add_contact("Bernd", consent=True, consent_at=NOW - DAY, now=NOW)["id"]
    b = contacts.add_contact("Clara", now=NOW)["id"]
    assert [(e["action"], e["at"], e["source"]) for e in consent.history(a)] == [
        ("grant", NOW - DAY, "added with the contact")
    ]
    contacts.edit_contact(a, {"consent": False}, now=NOW)
    assert [e["action"] for e in consent.history(a)] == ["grant", "withdraw"]
    bulk.edit("contact", {}, {"consent": True}, every=True, now=NOW)
    assert [e["action"] for e in consent.history(a)] == ["grant", "withdraw", "grant"]
    assert [e["source"] for e in consent.history(b)] == ["edited on many contacts at once"]
    # unchanged flags write nothing
    bulk.edit("contact", {}, {"consent": True}, every=True, now=NOW)
    assert ConsentEntry.select().count() == 4


def test_a_flag_set_with_a_date_before_the_withdrawal_is_consent_given_now(anna):
    """crm edit --consent --consent-date 1.5.2023 after a withdrawal in 2026: the flag says
    yes, so the history must too (a grant dated 2023 would sit behind the withdrawal)."""
    consent.record(anna, "grant", "newsletter", at=NOW - 20 * DAY, now=NOW)
    consent.record(anna, "withdraw", "newsletter", at=NOW - 10 * DAY, now=NOW)
    contacts.edit_contact(anna, {"consent": True, "consent_at": NOW - 400 * DAY}, now=NOW)
    assert _flag(anna)[0] is True
    assert consent.in_force([anna], "newsletter")[anna]["action"] == "grant"
    assert consent.in_force([anna], "newsletter")[anna]["at"] == NOW


def test_an_import_records_the_consent_it_brings(db):
    from crmcli.services import imports

    imports.import_contacts(
        [("line 2", {"name": "Dora", "email": "dora@example.de", "consent": "ja"}),
         ("line 3", {"name": "Emil", "email": "emil@example.de"})], now=NOW,
    )  # fmt: skip
    dora = contacts.resolve_contact("dora@example.de")
    assert [(e["action"], e["source"]) for e in consent.history(dora)] == [("grant", "import")]
    emil = contacts.resolve_contact("emil@example.de")
    assert consent.history(emil) == []


def test_a_merge_takes_the_histories_along_and_the_strictest_wins(db):
    a = contacts.add_contact("Frida Fuchs", now=NOW - 9 * DAY)["id"]
    b = contacts.add_contact("Frida Fuchs", email="ff@example.de", now=NOW - 9 * DAY)["id"]
    consent.record(a, "grant", "offers", confirmed_at=NOW - DAY, at=NOW - 2 * DAY, now=NOW)
    consent.record(b, "grant", "newsletter", confirmed_at=NOW - DAY, at=NOW - 2 * DAY, now=NOW)
    merge.merge_contacts(a, [b], now=NOW)
    kinds = [(e["purpose"], e["action"]) for e in consent.history(a)]
    # b's grant came along; a never consented to the newsletter, so the merged one has not
    assert kinds == [("offers", "grant"), ("newsletter", "grant"), ("newsletter", "withdraw")]
    assert consent.state(consent.in_force([a], "newsletter")[a]) == consent.WITHDRAWN


def test_newsletter_words_say_what_a_mailing_will_do(anna):
    assert consent.newsletter_words(consent.summary(anna)) == "none"
    consent.record(anna, "grant", "newsletter", at=NOW - 2 * DAY, now=NOW)
    assert consent.newsletter_words(consent.summary(anna)) == "granted, unconfirmed"
    rows = consent.summary(anna, no_doi=["newsletter"])
    assert consent.newsletter_words(rows) == "granted (no double opt-in needed)"
    consent.confirm(anna, "newsletter", at=NOW - DAY, now=NOW)
    assert consent.newsletter_words(consent.summary(anna)) == "granted, confirmed"
    consent.record(anna, "withdraw", "newsletter", at=NOW, now=NOW)
    assert consent.newsletter_words(consent.summary(anna)) == "withdrawn"
