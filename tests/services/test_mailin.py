"""Mails piped in from mail clients, logged on the timeline (services.mailin): the fixtures in
tests/fixtures/mail/ are written the way Thunderbird, Outlook, mutt and neomutt write them."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli.errors import Invalid, NotFound
from crmcli.models import Activity, Contact, ContactEmail
from crmcli.services import activities, contacts, mailin, search

MAIL = Path(__file__).parent.parent / "fixtures" / "mail"
# After every fixture's Date: a mail is logged when it has arrived.
LATER = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def raw(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def parse(name: str) -> mailin.Mail:
    return mailin.parse_message(raw(name))


@pytest.fixture(autouse=True)
def _no_own_addresses(monkeypatch):
    monkeypatch.delenv(mailin.MY_EMAILS_VAR, raising=False)


@pytest.fixture
def people(db):
    """Jürgen (two emails: the primary and a private one), Anna (Outlook), Peter (mutt)."""
    ids = {
        "jürgen": contacts.add_contact("Jürgen Müller", email="jm@mueller-bau.de", now=LATER),
        "anna": contacts.add_contact(
            "Anna Weiß", email="anna.weiss@weiss-und-partner.de", now=LATER
        ),
        "peter": contacts.add_contact("Peter Koch", email="p.koch@koch-elektro.de", now=LATER),
    }
    ids = {k: v["id"] for k, v in ids.items()}
    ContactEmail.insert(
        contact=ids["jürgen"], email="juergen@privat.example", email_key="juergen@privat.example",
        kind="home", is_primary=False, position=1,
    ).execute()  # fmt: skip
    return ids


def log(name: str, **options) -> mailin.Logged:
    return mailin.log_mail(raw(name), now=LATER, **options)


# ---------------------------------------------------------------- reading what clients write


def test_thunderbird_alternative_takes_the_plain_part_with_its_umlauts():
    mail = parse("thunderbird-alternative.eml")
    assert mail.subject == "Re: Angebot für Ihre Küche"
    assert mail.sender == ("Jürgen Müller", "jm@mueller-bau.de")
    assert mail.message_id == "8f3c1a2e-5b7d-4c1e-9a0b-2d6f7e8a9b10@mueller-bau.de"
    assert mail.date == datetime(2026, 11, 23, 7, 15, 42, tzinfo=UTC)
    # format=flowed: the soft line break is joined; the HTML twin is not added
    assert "nur die Arbeitsplatte hätten wir gern in Eiche statt Buche." in mail.body
    assert mail.body.count("Können Sie uns bis Freitag") == 1
    assert "Mit freundlichen Grüßen\nJürgen Müller" in mail.body
    # the quoted mail at the end (after "Am ... schrieb ...:") is left out, and says so
    assert "> Sehr geehrter" not in mail.body and "schrieb Thomas" not in mail.body
    assert mail.body.endswith("[quoted reply left out: 7 lines]")


def test_outlook_html_only_in_windows_1252_becomes_readable_text():
    mail = parse("outlook-html-cp1252.eml")
    # Outlook says iso-8859-1 in the subject and means cp1252: the dash is a dash
    assert mail.subject == "Reklamation Lieferung vom 18.11. – Tür beschädigt"
    assert mail.sender == ("Weiß, Anna", "Anna.Weiss@weiss-und-partner.de")
    assert mail.body.startswith("Sehr geehrter Herr Schneider,\n\nleider ist die Lieferung")
    assert "Ersatz – die Rechnung über 1.234,50 € zahlen" in mail.body
    assert "unser Formular <https://weiss-und-partner.de/reklamation>" in mail.body
    assert mail.body.endswith("Mit freundlichen Grüßen\nAnna Weiß\n„Weiß & Partner“ GmbH")
    for noise in ("<", "MsoNormal", "font-family", "mso", "&nbsp;", "\xa0"):
        assert noise not in mail.body.replace("<https://", ""), noise


def test_mutt_plain_text_keeps_its_signature():
    mail = parse("mutt-plain.eml")
    assert mail.recipients == [
        ("Peter Koch", "p.koch@koch-elektro.de"),
        ("Lisa Schneider", "lisa@schneider-kuechen.de"),
    ]
    assert "Anschlüsse in der Küche\nMüller?" in mail.body
    assert mail.body.endswith("-- \nSchneider Küchen · Hauptstraße 12 · 50667 Köln")


def test_attachments_are_named_at_the_end_not_stored():
    mail = parse("pdf-attachment.eml")
    assert "Elektroarbeiten in der Küche Müller." in mail.body  # ISO-8859-1, quoted-printable
    assert mail.attachments == ["Rechnung_2026-0815.pdf", "Aufmaß Küche.pdf"]  # RFC 2231
    assert mail.body.endswith(
        "[attachment: Rechnung_2026-0815.pdf]\n[attachment: Aufmaß Küche.pdf]"
    )
    assert "PDF-1.4" not in mail.body and "JVBER" not in mail.body


def test_a_forwarded_message_is_unpacked_below_the_note():
    mail = parse("forwarded.eml")
    assert mail.subject == "Fwd: Anfrage Einbauküche"
    note, forwarded = mail.body.split("---------- Forwarded message ----------")
    assert note.strip() == "Thomas, kannst Du Dich darum kümmern?\n\nLisa"
    assert "From: Sabine Özdemir <sabine.oezdemir@web.de>" in forwarded
    assert "Subject: Anfrage Einbauküche" in forwarded
    assert "neue Einbauküche (ca. 12 m²)" in forwarded  # base64 inside the forwarded one
    assert mail.attachments == []


def test_rfc2047_subject_and_name_in_several_charsets():
    mail = parse("rfc2047-encoded.eml")
    assert mail.subject == "Bestellung für München: Spüle und Spülmaschine € 399"
    assert mail.sender == ("Björn Große", "bjoern.grosse@example.org")
    assert mail.date == datetime(2026, 11, 28, 12, 59, 59, tzinfo=UTC)  # -0500 to UTC
    assert "die Spüle „Köln“ und die Spülmaschine für 399 €." in mail.body  # 8-bit cp1252


def test_raw_utf8_in_headers_reads_as_utf8():
    data = (
        "From: Jürgen Müller <jm@mueller-bau.de>\nSubject: Größe der Türen\n"
        "Message-ID: <raw8bit@x>\n\nText\n"
    ).encode()
    mail = mailin.parse_message(data)
    assert mail.sender == ("Jürgen Müller", "jm@mueller-bau.de")
    assert mail.subject == "Größe der Türen"


def test_an_unknown_charset_falls_back_to_utf8_then_cp1252():
    head = b"From: a@b.de\nContent-Type: text/plain; charset=x-klingon\n\n"
    assert mailin.parse_message(head + "Grüße".encode()).body == "Grüße"
    assert mailin.parse_message(head + "Grüße".encode("cp1252")).body == "Grüße"


def test_a_header_in_an_unknown_charset_falls_back_as_the_body_does():
    head = (
        b"From: =?x-klingon?Q?J=FCrgen_M=FCller?= <jm@mueller-bau.de>\n"
        b"Subject: =?x-klingon?Q?Gr=FC=DFe?= aus =?x-klingon?Q?K=C3=B6ln?=\n"
        b"Content-Type: text/plain; charset=x-klingon\n\n"
    )
    mail = mailin.parse_message(head + "Grüße".encode("cp1252"))
    assert (mail.subject, mail.body) == ("Grüße aus Köln", "Grüße")
    assert mail.sender == ("Jürgen Müller", "jm@mueller-bau.de")
    # A replacement character the sender wrote stays as it is.
    data = b"From: a@b.de\nSubject: =?utf-8?Q?x_=EF=BF=BD?= =?x-klingon?Q?=FC?=\n\n."
    assert mailin.parse_message(data).subject == "x �ü"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "no mail message"),
        (b"   \n\n", "no mail message"),
        ((MAIL / "not-a-mail.csv").read_bytes(), "not a mail message"),
        (bytes(range(256)) * 40, "not a mail message"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 500, "not a mail message"),
        (b"From: nobody\nSubject: x\n\nno address anywhere\n", "^stdin is not a mail message \\("),
    ],
    ids=["empty", "blank", "csv", "binary", "png", "no-address"],
)
def test_what_is_not_a_mail_is_one_clear_error(data, says):
    with pytest.raises(Invalid, match=says):
        mailin.parse_message(data)


def test_a_huge_message_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(mailin, "MAX_BYTES", 1000)
    with pytest.raises(Invalid, match="at most 1,000"):
        mailin.parse_message(b"From: a@b.de\n\n" + b"x" * 2000)


def test_html_to_text_lists_links_and_skips_scripts():
    text = mailin.html_to_text(
        "<html><head><title>T</title><style>p{}</style></head><body><script>alert(1)</script>"
        "<h1>Angebot</h1><ul><li>Spüle</li><li>Herd &amp; Ofen</li></ul>"
        "<p>Mehr <a href='https://x.example/a'>hier</a>, "
        "<a href='mailto:info@x.example'>info@x.example</a></p><pre>  a\n  b</pre></body></html>"
    )
    assert text == (
        "Angebot\n\n- Spüle\n- Herd & Ofen\n\n"
        "Mehr hier <https://x.example/a>, info@x.example\n\na\nb"
    )


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Ja, gern.\n\nOn Mon, 1 Dec 2026, Anna wrote:\n> Passt es?\n> Gruss\n", "Ja, gern."),
        ("> Passt es?\nJa.\n> Und Freitag?\nAuch.\n", None),  # interleaved: all kept
        ("> nur ein Zitat\n> ohne eigenen Text\n", None),
        ("Kein Zitat.\n", None),
    ],
)
def test_only_a_quoted_tail_is_left_out(text, kept):
    out = mailin.strip_quoted_tail(text)
    if kept is None:
        assert out == text.strip()
    else:
        assert out.startswith(kept + "\n\n[quoted reply left out:")


@pytest.mark.parametrize(
    ("name", "own_end", "quoted", "lines"),
    [
        ("outlook-reply-de.eml", "Anna Weiß\nWeiß & Partner GmbH", "12.480,00", 12),
        ("outlook-reply-en.eml", "Best regards,\nPeter Koch", "measure the kitchen", 11),
        ("outlook-web-reply-en.eml", "Kind regards,\nPeter Koch", "invoice attached", 11),
        ("outlook-html-spaced-de.eml", "Viele Grüße\nPeter Koch", "zufrieden", 9),
    ],
    ids=["plain-de", "plain-en", "owa-html-en", "word-html-de"],
)
def test_outlooks_quoted_reply_below_its_header_block_is_left_out(name, own_end, quoted, lines):
    body = parse(name).body
    assert body.endswith(f"{own_end}\n\n[quoted reply left out: {lines} lines]")
    for gone in (quoted, "Von:", "From:", "Gesendet:", "Sent:", "-----"):
        assert gone not in body, gone
    assert "\x00" not in body


def test_outlooks_html_reply_header_in_its_bordered_div_is_recognised():
    # The HTML beside the plain text in outlook-reply-de.eml: Word's border-top div.
    html = next(p for p in message_parts("outlook-reply-de.eml") if "html" in p[0])[1]
    text = mailin.strip_quoted_tail(mailin.html_to_text(html, separators=True))
    assert text.startswith("Hallo Herr Schneider,\n\ndanke für das Angebot.")
    assert text.endswith("Weiß & Partner GmbH\n\n[quoted reply left out: 12 lines]")


def message_parts(name: str) -> list[tuple[str, str]]:
    from email import policy
    from email.parser import BytesParser

    msg = BytesParser(policy=policy.default).parsebytes(raw(name))
    return [(p.get_content_type(), p.get_content()) for p in msg.walk() if not p.is_multipart()]


def test_an_old_outlooks_hr_and_bold_labels_head_the_quote():
    html = (
        "<div>Passt, danke.</div><div>Anna</div><hr size=2 width='100%' align=center>"
        "<b>Von:</b> Thomas Schneider [mailto:thomas@schneider-kuechen.de]<br>"
        "<b>Gesendet:</b> Montag, 23. November 2026 09:12<br><b>An:</b> Anna Weiß<br>"
        "<b>Betreff:</b> Termin<br><br>Geht Donnerstag?"
    )
    mail = b"From: a@b.de\nContent-Type: text/html; charset=utf-8\n\n" + html.encode()
    body = mailin.parse_message(mail).body
    assert body.startswith("Passt, danke.\nAnna\n\n[quoted reply left out:")
    assert "Donnerstag" not in body


@pytest.mark.parametrize(
    "text",
    [
        # No header block after the separator: a user's own dashes, kept.
        "Hallo,\n\n-----Original Message-----\nnichts weiter\n",
        # From but no Sent/Gesendet line: not recognised.
        "Hallo,\n\n-----Ursprüngliche Nachricht-----\nVon: Anna\nAn: Thomas\n\nText\n",
        # A forward in the body, as Gmail writes it: the forwarded mail is the content.
        "Siehe unten.\n\n---------- Forwarded message ---------\nFrom: Anna <a@b.de>\n"
        "Date: Mon, 23 Nov 2026\nSubject: X\n\nText\n",
        # Nothing but the quote: it all stays.
        "-----Original Message-----\nFrom: Anna\nSent: Monday\nTo: Thomas\n\nText\n",
        # The header labels alone, without a separator line.
        "Danke.\n\nVon: Anna\nGesendet: Montag\n\nText\n",
    ],
    ids=["dashes-only", "no-sent", "gmail-forward", "only-quote", "no-separator"],
)
def test_an_outlook_header_block_is_recognised_only_when_whole(text):
    assert mailin.strip_quoted_tail(text) == text.strip()


def test_html_without_a_quote_keeps_its_text_and_lines():
    html = "<p>Oben</p><hr><p>Unten</p><div id='divRplyFwdMsg'>kein Kopf</div>"
    mail = b"From: a@b.de\nContent-Type: text/html\n\n" + html.encode()
    assert mailin.parse_message(mail).body == "Oben\n\nUnten\nkein Kopf"
    assert "\x00" not in mailin.html_to_text(html)


def test_outlooks_html_paragraphs_keep_their_blank_lines():
    # Word's style gives paragraphs space after them (no empty paragraph between them);
    # a paragraph whose own style takes that away is a line of the next one.
    assert parse("outlook-html-spaced-de.eml").body.startswith(
        "Guten Tag Herr Schneider,\n\ndie Küche ist gestern eingebaut worden, alles bestens."
        "\n\nDie Schlussrechnung über 3.456,70 € überweisen wir diese Woche.\n\n"
        "Viele Grüße\nPeter Koch\n\n"
    )
    # Outlook on the web writes a div per line and <div><br></div> for the empty one.
    assert parse("outlook-web-reply-en.eml").body.startswith(
        "Hi Thomas,\n\nthe invoice of 1,234.50 € arrived, thanks. We will pay it by Friday."
        "\n\nKind regards,\nPeter Koch\n\n"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_invalid(data):
    try:
        mail = mailin.parse_message(data)
    except Invalid:
        return
    assert "\x00" not in mail.body and isinstance(mail.external_id, str)


_HEADERS = st.sampled_from(
    [
        b"From: ", b"To: ", b"Cc: ", b"Subject: ", b"Date: ", b"Message-ID: ",
        b"Content-Type: multipart/mixed; boundary=x\n", b"Content-Type: text/html; charset=",
        b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n",
        b"=?utf-8?B?", b"=?iso-8859-1?Q?", b"?=", b"<", b">", b"@", b"\n", b"\n\n", b"--x\n",
        b"--x--\n", b"Content-Type: message/rfc822\n\n", b"a@b.de", b"\xc3\xbc", b"\xfc", b"\x00",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_HEADERS, st.binary(max_size=20)), max_size=40))
def test_mail_shaped_garbage_never_raises_anything_but_invalid(chunks):
    with contextlib.suppress(Invalid):
        mailin.parse_message(b"".join(chunks))


# ---------------------------------------------------------------- logging it


def test_an_incoming_mail_lands_on_its_senders_timeline(people):
    logged = log("thunderbird-alternative.eml")
    card = logged.card
    assert not logged.existing and logged.created_contact is None
    assert (card["kind"], card["contact_id"], card["direction"]) == (
        "email",
        people["jürgen"],
        "in",
    )
    assert card["subject"] == "Re: Angebot für Ihre Küche"
    assert card["occurred_at"] == datetime(2026, 11, 23, 7, 15, 42, tzinfo=UTC)
    stored = Activity.get_by_id(card["id"]).external_id
    assert stored == "message-id:8f3c1a2e-5b7d-4c1e-9a0b-2d6f7e8a9b10@mueller-bau.de"
    assert contacts.get_contact(people["jürgen"])["last_activity_at"] == card["occurred_at"]
    hits = search.search("arbeitsplatte eiche", kinds=["activity"])
    assert [h["id"] for h in hits] == [card["id"]]


def test_the_same_message_twice_is_logged_once(people):
    first = log("outlook-html-cp1252.eml")
    again = log("outlook-html-cp1252.eml")
    assert again.existing and again.card["id"] == first.card["id"]
    assert Activity.select().count() == 1


def test_a_message_without_message_id_is_logged_once_too(people):
    data = b"From: jm@mueller-bau.de\nSubject: Kurz\nDate: Mon, 23 Nov 2026 08:00:00 +0100\n\nOk.\n"
    first = mailin.log_mail(data, now=LATER)
    assert mailin.log_mail(data, now=LATER).card["id"] == first.card["id"]
    assert Activity.get_by_id(first.card["id"]).external_id.startswith("message-id:crm-digest-")
    other = mailin.log_mail(data.replace(b"Ok.", b"Doch nicht."), now=LATER)
    assert other.card["id"] != first.card["id"]


def test_any_of_a_contacts_emails_finds_them_case_blind(people):
    data = (MAIL / "thunderbird-alternative.eml").read_bytes()
    data = data.replace(b"<jm@mueller-bau.de>", b"<Juergen@Privat.Example>")
    data = data.replace(b"@mueller-bau.de>\r\nDate", b"@privat>\r\nDate")
    assert mailin.log_mail(data, now=LATER).card["contact_id"] == people["jürgen"]


def test_the_contacts_own_email_column_is_the_fallback(db):
    # A contact whose email has no contact_email row (written before the rows existed).
    cid = contacts.add_contact("Peter Koch", email="p.koch@koch-elektro.de", now=LATER)["id"]
    ContactEmail.delete().execute()
    assert log("pdf-attachment.eml").card["contact_id"] == cid


def test_an_unknown_sender_is_an_error_naming_the_address(people):
    with pytest.raises(NotFound, match="sender's address bjoern.grosse@example.org"):
        log("rfc2047-encoded.eml")
    assert Activity.select().count() == 0


def test_create_makes_the_unknown_sender_a_lead(people):
    logged = log("outlook-html-cp1252.eml")  # Anna is known
    assert logged.created_contact is None
    logged = log("rfc2047-encoded.eml", create=True)
    new = logged.created_contact
    assert (new["name"], new["email"], new["status"]) == (
        "Björn Große", "bjoern.grosse@example.org", "lead",
    )  # fmt: skip
    assert logged.card["contact_id"] == new["id"]
    assert Contact.select().count() == 4


def test_create_turns_last_first_display_names_around(db):
    new = log("outlook-html-cp1252.eml", create=True).created_contact
    assert new["name"] == "Anna Weiß"


def test_create_without_a_display_name_names_them_by_the_address(db):
    data = b"From: sabine.oezdemir@web.de\nTo: me@x.de\nMessage-ID: <n@x>\n\nHallo\n"
    new = mailin.log_mail(data, create=True, now=LATER).created_contact
    assert (new["name"], new["email"]) == ("Sabine Oezdemir", "sabine.oezdemir@web.de")


# ---------------------------------------------------------------- direction


def test_from_one_of_my_addresses_is_outgoing_to_the_first_known_recipient(people, monkeypatch):
    monkeypatch.setenv(
        mailin.MY_EMAILS_VAR, "info@schneider-kuechen.de, Thomas@Schneider-Kuechen.de"
    )
    logged = log("neomutt-outgoing.eml")  # To: JM@Mueller-Bau.de (case differs), Cc: Lisa
    assert (logged.card["contact_id"], logged.card["direction"]) == (people["jürgen"], "out")


def test_outgoing_goes_to_a_known_cc_when_no_to_is_known(people, monkeypatch):
    monkeypatch.setenv(mailin.MY_EMAILS_VAR, "thomas@schneider-kuechen.de")
    data = raw("mutt-plain.eml").replace(b"p.koch@koch-elektro.de", b"unknown@elsewhere.de")
    lisa = contacts.add_contact("Lisa Schneider", email="lisa@schneider-kuechen.de", now=LATER)
    logged = mailin.log_mail(data, now=LATER)
    assert (logged.card["contact_id"], logged.direction) == (lisa["id"], "out")


def test_without_my_addresses_a_mail_to_a_contact_from_a_stranger_is_outgoing(people):
    logged = log("mutt-plain.eml")  # From thomas@ (no contact), To Peter (a contact)
    assert (logged.card["contact_id"], logged.card["direction"]) == (people["peter"], "out")


def test_with_my_addresses_set_a_strangers_mail_is_not_guessed_outgoing(people, monkeypatch):
    monkeypatch.setenv(mailin.MY_EMAILS_VAR, "info@schneider-kuechen.de")
    with pytest.raises(NotFound, match="sender's address thomas@schneider-kuechen.de"):
        log("mutt-plain.eml")


def test_direction_given_wins(people):
    logged = log("neomutt-outgoing.eml", direction="out")
    assert (logged.card["contact_id"], logged.direction) == (people["jürgen"], "out")
    with pytest.raises(NotFound, match="sender's address thomas@"):
        log("mutt-plain.eml", direction="in")
    with pytest.raises(Invalid, match="in or out"):
        log("mutt-plain.eml", direction="sideways")


def test_my_own_address_among_recipients_is_skipped(people, monkeypatch):
    monkeypatch.setenv(mailin.MY_EMAILS_VAR, "thomas@schneider-kuechen.de")
    data = raw("neomutt-outgoing.eml").replace(
        b"To: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <JM@Mueller-Bau.de>",
        b"To: thomas@schneider-kuechen.de, jm@mueller-bau.de",
    )
    assert mailin.log_mail(data, now=LATER).card["contact_id"] == people["jürgen"]


def test_outgoing_create_makes_the_recipient_a_lead(db, monkeypatch):
    monkeypatch.setenv(mailin.MY_EMAILS_VAR, "thomas@schneider-kuechen.de")
    logged = log("neomutt-outgoing.eml", create=True)
    assert logged.created_contact["name"] == "Jürgen Müller"
    assert logged.created_contact["email"].lower() == "jm@mueller-bau.de"
    assert logged.direction == "out"


# ---------------------------------------------------------------- dates, sizes, options


def test_no_date_means_now_and_a_future_date_means_now(people):
    data = b"From: jm@mueller-bau.de\nMessage-ID: <a@x>\n\nHallo\n"
    assert log_data(data).card["occurred_at"] == LATER
    data = b"From: jm@mueller-bau.de\nMessage-ID: <b@x>\nDate: Fri, 1 Jan 2027 10:00 +0100\n\nx\n"
    assert log_data(data).card["occurred_at"] == LATER
    data = b"From: jm@mueller-bau.de\nMessage-ID: <c@x>\nDate: gestern irgendwann\n\nx\n"
    assert log_data(data).card["occurred_at"] == LATER


def log_data(data: bytes, **options) -> mailin.Logged:
    return mailin.log_mail(data, now=LATER, **options)


def test_a_huge_body_is_logged_cut_with_a_note(people):
    data = b"From: jm@mueller-bau.de\nMessage-ID: <big@x>\n\n" + b"Zeile voller Text\n" * 20_000
    body = log_data(data).card["body"]
    assert len(body) <= 100_000 and body.endswith("more characters left out]")


def test_the_kind_and_other_values_can_be_given(people):
    card = log_data(raw("outlook-html-cp1252.eml"), kind="complaint", owner="Lisa").card
    assert (card["kind"], card["status"], card["owner"]) == ("complaint", "open", "Lisa")
    assert activities.get_activity(card["id"])["contact_id"] == people["anna"]


def test_mutts_pipe_message_with_its_mbox_from_line_and_decoded_headers(people):
    # mutt's <pipe-message> writes the mbox "From " line first; with pipe_decode set it
    # writes the headers decoded, as raw UTF-8.
    data = (
        "From jm@mueller-bau.de Mon Nov 23 08:15:42 2026\n"
        "From: Jürgen Müller <jm@mueller-bau.de>\n"
        "Subject: Re: Angebot für Ihre Küche\n"
        "Date: Mon, 23 Nov 2026 08:15:42 +0100\n"
        "Message-ID: <decoded@mueller-bau.de>\n\n"
        "Passt so.\n"
    ).encode()
    card = mailin.log_mail(data, now=LATER).card
    assert (card["contact_id"], card["subject"], card["body"]) == (
        people["jürgen"], "Re: Angebot für Ihre Küche", "Passt so.",
    )  # fmt: skip


def test_a_multipart_inside_a_multipart_gives_its_text_once():
    data = (
        b"From: a@b.de\nContent-Type: multipart/mixed; boundary=o\n\n--o\n"
        b"Content-Type: multipart/mixed; boundary=i\n\n--i\nContent-Type: text/plain\n\nInnen\n"
        b"--i\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n\n"
        b"xx\n--i--\n--o\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename=b.pdf\n\nyy\n--o--\n"
    )
    assert mailin.parse_message(data).body == "Innen\n\n[attachment: a.pdf]\n[attachment: b.pdf]"


def test_deeply_nested_multiparts_are_no_error():
    data = (
        b"From: a@b.de\nContent-Type: multipart/mixed; boundary=b0\n\n"
        + b"".join(
            b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1)
            for i in range(300)
        )
        + b"--b300\nContent-Type: text/plain\n\nhallo\n"
    )
    assert mailin.parse_message(data).body == "hallo"


# `crm` with a pause after each look-up of the contacts a mail's addresses are: the moment in
# which another process may write them, made long enough to be sure to happen in a test.
SLOW_LOOKUP = """
import sys, time
from crmcli.services import mailin
lookup = mailin._contacts_by_email
def slow(*args, **kwargs):
    found = lookup(*args, **kwargs)
    time.sleep(0.3)
    return found
mailin._contacts_by_email = slow
from crmcli.launch import main
sys.argv[0] = "crm"
main()
"""


def _crm_at_once(db_target: str, mails: list[bytes], *args: str) -> list:
    """`crm log email - ARGS` in as many real processes as there are mails, all at once
    (each reads its mail from a file of its own: a pipe would be fed one after the other)."""
    import os
    import subprocess
    import sys
    import tempfile

    env = {**os.environ, "CRM_NOW": LATER.isoformat(), mailin.MY_EMAILS_VAR: ""}
    command = [sys.executable, "-c", SLOW_LOOKUP, "--db", db_target, "log", "email", "-", *args]
    with contextlib.ExitStack() as stack:
        inputs = []
        for mail in mails:
            file = stack.enter_context(tempfile.TemporaryFile())
            file.write(mail)
            file.seek(0)
            inputs.append(file)
        runs = [
            subprocess.Popen(command, env=env, stdin=file, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
            for file in inputs
        ]  # fmt: skip
        return [
            (run.returncode, err.decode())
            for run in runs
            for _, err in [run.communicate(timeout=120)]
        ]


def test_the_same_mail_from_a_new_sender_piped_six_times_at_once(db, db_target):
    # Each process looked the sender up before its write: the losers found the contact the
    # winner had made a moment later and failed with "already belongs to contact".
    runs = _crm_at_once(db_target, [raw("rfc2047-encoded.eml")] * 6, "--create")
    assert [code for code, _ in runs] == [0] * 6, runs
    assert sum("already logged" in err.lower() for _, err in runs) == 5
    db.close()
    db.connect()
    assert Contact.select().count() == 1 and Activity.select().count() == 1


def test_several_mails_from_a_new_sender_at_once_make_one_contact(db, db_target):
    mail = raw("rfc2047-encoded.eml")
    mails = [mail.replace(b"<rfc2047-subject@", f"<m{i}@".encode()) for i in range(5)]
    runs = _crm_at_once(db_target, mails, "--create")
    assert [code for code, _ in runs] == [0] * 5, runs
    db.close()
    db.connect()
    assert Contact.select().count() == 1 and Activity.select().count() == 5
