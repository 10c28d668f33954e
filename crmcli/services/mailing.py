"""Mailings: a template (services.templating) to the contacts of a segment who consented to
its purpose (services.consent), or to staff.

A mailing has a name: `--name`, else the template's name and a digest of the template file,
so running the same template again is the same mailing (and a changed template a new one);
a mailing to staff is named by its day too, so a daily digest goes out once a day. Every mail
sent is recorded (mailing_recipient) in the same transaction that puts it on the contact's
timeline, right after the SMTP server took it: run again after an interruption, a mailing
sends to nobody it reached. (The one window left: the process killed between the server's
"250 OK" and that commit.)

Every mail is rendered before the first is sent, so a template error is one error and
nothing has gone out. email and smtplib load with the first mailing, never on import."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crmcli.errors import CrmError, Invalid
from crmcli.models import MailingRecipient, database_proxy, utcnow
from crmcli.services import consent, mailsettings, templating

if TYPE_CHECKING:
    from email.message import Message

SENT_ALREADY, NO_EMAIL = "sent already", "no email"
DEFAULT_FOOTER = (
    "Sie erhalten diese E-Mail, weil Sie dem Empfang ({purpose}) zugestimmt haben. "
    "Abmelden: mailto:{unsubscribe}?subject=Abmelden"
)
STAFF_FOOTER = "Gesendet von crm an {email}."
_FOOTER_FIELD = re.compile(r"\{(purpose|unsubscribe|email)\}")


def fill_footer(source: str, **values: str) -> str:
    """A template's `footer:` line with {purpose}, {unsubscribe} and {email} filled in; any
    other brace stays as it is (not str.format: a stray brace would fail the whole mailing,
    and `{email.__class__}` would reach past the template sandbox)."""
    return _FOOTER_FIELD.sub(lambda m: values[m[1]], source)


PLACEHOLDER_SENDER = "crm@example.invalid"  # a dry run without a configured sender


class MailError(CrmError):
    """The SMTP server could not be reached, refused the login, or failed during a mailing;
    `sent` mails went out (and are recorded) before it."""


@dataclass
class Recipient:
    """One person a mailing selected: sent to unless `skip` says why not."""

    contact_id: int | None
    name: str
    email: str | None
    skip: str | None = None
    data: dict = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        if self.contact_id is not None:
            return f"contact:{self.contact_id}"
        return f"user:{(self.email or '').lower()}"


@dataclass
class Mailing:
    template: Any  # templating.Template
    name: str
    purpose: str | None
    recipients: list[Recipient]

    @property
    def to_send(self) -> list[Recipient]:
        return [r for r in self.recipients if r.skip is None]

    def skipped(self) -> dict[str, int]:
        """How many were skipped, by reason."""
        counts: dict[str, int] = {}
        for r in self.recipients:
            if r.skip is not None:
                counts[r.skip] = counts.get(r.skip, 0) + 1
        return counts

    def rows(self) -> list[dict]:
        """The recipients as a dry run lists them."""
        return [
            {
                "contact_id": r.contact_id, "name": r.name, "email": r.email,
                "send": r.skip is None, "skipped_because": r.skip,
            }
            for r in self.recipients
        ]  # fmt: skip


def _load(template_name: str):
    template = templating.load_template(template_name, "mail")
    if not template.front_matter.get("subject"):
        raise Invalid(
            f"template {template.name}", "names no subject (subject: in its front matter)"
        )
    if template.text is None:
        raise Invalid(f"template {template.name}", "has no text part (a mail needs one)")
    # Each mail renders every part; compiling them here too makes a syntax error in any part
    # an error even when nobody is selected (a dry run of an empty segment).
    templating.compile_parts(template, ("subject",))
    return template


def _default_name(template, *extra: str) -> str:
    files = sorted({template.path, *template.part_paths.values()})
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]
    return "-".join((template.name, digest, *extra))


def plan_contacts(
    template_name: str,
    filters: dict,
    *,
    every: bool = False,
    name: str | None = None,
    now: datetime | None = None,
) -> Mailing:
    """The mailing of a template to the contacts the `crm list contacts` filters select:
    those with an email and a valid consent to the template's purpose receive it, the others
    are listed with why not (no email, no consent, withdrawn, unconfirmed, sent already)."""
    from crmcli.services import contacts

    now = now or utcnow()
    template = _load(template_name)
    purpose_text = template.front_matter.get("purpose")
    if not purpose_text:
        raise Invalid(
            f"template {template.name}",
            "names no consent purpose (purpose: newsletter, in its front matter); a mailing "
            "goes only to contacts who consented to it",
        )
    purpose = consent.check_purpose(purpose_text)
    if not every and not any(v not in (None, "", [], (), False) for v in filters.values()):
        raise Invalid("to", "no segment given: every contact would be selected")
    mailing = Mailing(template, _check_name(name) or _default_name(template), purpose, [])
    people = list(contacts.iter_contacts(sort="name", **filters))
    ids = [p["id"] for p in people]
    found = consent.in_force(ids, purpose)
    no_doi = mailsettings.no_doi()
    sent = _sent(mailing.name, [f"contact:{i}" for i in ids])
    for person in people:
        why = None if person["email"] else NO_EMAIL
        why = why or consent.state(found.get(person["id"]), no_doi=no_doi)
        recipient = Recipient(person["id"], person["name"], person["email"], why, person)
        if why is None and recipient.key in sent:
            recipient.skip = SENT_ALREADY
        mailing.recipients.append(recipient)
    return mailing


def plan_users(
    template_name: str,
    emails: Iterable[str],
    *,
    name: str | None = None,
    now: datetime | None = None,
) -> Mailing:
    """A mail to staff (a task digest, a report): each address gets the template with the open
    tasks due by the end of today. No consent is involved; the mailing is named by the day."""
    from crmcli.services import tasks
    from crmcli.values import local_tz, parse_email

    now = now or utcnow()
    template = _load(template_name)
    day = now.astimezone(local_tz()).date().isoformat()
    mailing = Mailing(template, _check_name(name) or _default_name(template, day), None, [])
    due = tasks.list_tasks(due_before=tasks.day_start(now, 1), now=now)
    addresses = [parse_email(e.strip()) for e in emails]
    if not addresses:
        raise Invalid("to-user", "name at least one address")
    sent = _sent(mailing.name, [f"user:{a.lower()}" for a in addresses])
    for address in dict.fromkeys(addresses):
        data = {"name": address, "email": address, "tasks": due}
        recipient = Recipient(None, address, address, None, data)
        recipient.skip = SENT_ALREADY if recipient.key in sent else None
        mailing.recipients.append(recipient)
    return mailing


def _check_name(name: str | None) -> str | None:
    if name is None:
        return None
    text = " ".join(name.split())
    if not text or len(text) > 200:
        raise Invalid("name", "a mailing's name is one line of at most 200 characters")
    return text


def _sent(mailing: str, keys: list[str]) -> set[str]:
    out: set[str] = set()
    for start in range(0, len(keys), 500):
        query = MailingRecipient.select(MailingRecipient.recipient).where(
            (MailingRecipient.mailing == mailing)
            & MailingRecipient.recipient.in_(keys[start : start + 500])
        )
        out.update(k for (k,) in query.tuples())
    return out


# ---------------------------------------------------------------- rendering


def _first_last(name: str) -> tuple[str, str]:
    parts = name.split()
    return (parts[0], parts[-1]) if len(parts) > 1 else ("", name)


def context(mailing: Mailing, recipient: Recipient, settings, now: datetime) -> dict:
    """What a template sees: `contact` (every field, first_name, last_name), `company`,
    `owner`, or for staff `user` and `tasks`; and `sender`, `unsubscribe`, `today`, `mailing`."""
    from crmcli.values import local_tz

    data: dict[str, Any] = {
        "sender": settings.sender or PLACEHOLDER_SENDER,
        "unsubscribe": settings.unsubscribe_address or PLACEHOLDER_SENDER,
        "today": now.astimezone(local_tz()).date(),
        "mailing": mailing.name,
        "purpose": mailing.purpose,
    }
    if recipient.contact_id is None:
        data["user"] = {"name": recipient.name, "email": recipient.email}
        data["tasks"] = recipient.data.get("tasks", [])
        return data
    person = dict(recipient.data)
    person["first_name"], person["last_name"] = _first_last(person["name"])
    data["contact"] = person
    data["company"] = (
        {"id": person["company_id"], "name": person["company"]} if person["company_id"] else None
    )
    data["owner"] = {"name": person["owner"]} if person["owner"] else None
    return data


@dataclass
class Mail:
    """One rendered mail: the message as it goes out, and its subject and text part (what the
    timeline keeps)."""

    recipient: Recipient
    message: Message
    subject: str
    text: str


def render(
    mailing: Mailing, settings, *, now: datetime | None = None, domain: str | None = None
) -> list[Mail]:
    """Every mail of the mailing, rendered: templating's Invalid (syntax, a missing variable,
    what the sandbox refuses) comes here, before anything is sent. The messages are built
    with the email package's compat32 classes: its newer EmailMessage parses every header it
    is given again and took ~4 ms a mail, a 1,000-mail mailing 4 s."""
    from email.charset import QP, Charset
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.utils import format_datetime, make_msgid, parseaddr
    from secrets import token_hex

    from crmcli.values import local_tz

    now = now or utcnow()
    template = mailing.template
    sender_name, sender_address = parseaddr(settings.sender or PLACEHOLDER_SENDER)
    sender_address = sender_address or PLACEHOLDER_SENDER
    sender = _address(sender_name, sender_address)
    domain = domain or sender_address.rpartition("@")[2] or "crm.invalid"
    unsubscribe = settings.unsubscribe_address or sender_address
    date = format_datetime(now.astimezone(local_tz()))
    footer_source = template.front_matter.get(
        "footer", DEFAULT_FOOTER if mailing.purpose else STAFF_FOOTER
    )
    charset = Charset("utf-8")
    charset.body_encoding = QP  # readable in any mail client's source view, unlike base64
    out = []
    for recipient in mailing.to_send:
        data = context(mailing, recipient, settings, now)
        subject = templating.render_value(template, "subject", data)
        text = templating.render(template, data, "text")
        html = templating.render(template, data, "html") if template.html is not None else None
        footer = fill_footer(
            footer_source, purpose=mailing.purpose or "", unsubscribe=unsubscribe,
            email=recipient.email or "",
        )  # fmt: skip
        body = f"{text.rstrip()}\n\n-- \n{footer}\n"
        # (typeshed knows only a charset's name; a Charset object chooses the encoding)
        msg: Message = MIMEText(body, "plain", charset)  # type: ignore[arg-type]
        if html is not None:
            from html import escape

            # A boundary of our own: "=_" never occurs in quoted-printable parts, so the
            # generator need not search the parts for it (a regex compiled per mail).
            alternative = MIMEMultipart("alternative", boundary=f"=_{token_hex(12)}")
            alternative.attach(msg)
            alternative.attach(MIMEText(
                f"{html.rstrip()}\n<hr>\n<p style=\"font-size:small\">{escape(footer)}</p>\n",
                "html", charset,  # type: ignore[arg-type]
            ))  # fmt: skip
            msg = alternative
        msg["From"] = sender
        msg["To"] = _address(recipient.name, recipient.email or "")
        msg["Subject"] = _header(subject)
        msg["Date"] = date
        msg["Message-ID"] = make_msgid(domain=domain)
        if mailing.purpose:
            msg["List-Unsubscribe"] = f"<mailto:{unsubscribe}?subject=Abmelden>"
            msg["List-Id"] = f"{_list_id(mailing.purpose)} <{_list_id(mailing.purpose)}.{domain}>"
        out.append(Mail(recipient, msg, subject, body))
    return out


def _address(name: str, address: str) -> str:
    """`Name <address>`, the name on one line and RFC 2047-encoded when not ASCII."""
    from email.utils import formataddr

    return formataddr((" ".join(name.split()), address), charset="utf-8")


def _header(value: str) -> str:
    """A header value on one line, RFC 2047-encoded when not ASCII."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    from email.header import Header

    return Header(value, "utf-8").encode()


def as_bytes(message: Message) -> bytes:
    """The mail as it goes on the wire (CRLF). Generated with the SMTP policy, whose folding
    leaves short one-line headers alone (compat32's re-encodes each: most of the time)."""
    from email.policy import SMTP

    return message.as_bytes(policy=SMTP)


def _list_id(purpose: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in purpose.lower()).strip("-") or "list"


# ---------------------------------------------------------------- files


def write_mbox(messages: list[Mail], path: str) -> int:
    """Append the mails to an mbox file (for review, or another mailer); nothing is recorded."""
    import mailbox

    try:
        box = mailbox.mbox(path)
        box.lock()
    except OSError as exc:
        raise Invalid("mbox", f"cannot write {path}: {exc.strerror}") from None
    try:
        for mail in messages:
            box.add(mail.message)
        box.flush()
    finally:
        box.unlock()
        box.close()
    return len(messages)


def write_eml_dir(messages: list[Mail], directory: str) -> int:
    """Each mail as an .eml file in `directory` (made when missing); nothing is recorded."""
    import os
    from pathlib import Path

    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Invalid("eml-dir", f"cannot make {directory}: {exc.strerror}") from None
    for number, mail in enumerate(messages, start=1):
        recipient = mail.recipient
        who = recipient.contact_id if recipient.contact_id is not None else number
        path = target / f"{number:05d}-{who}.eml"
        try:
            with open(path, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as out:
                out.write(as_bytes(mail.message))
        except OSError as exc:
            raise Invalid("eml-dir", f"cannot write {path}: {exc.strerror}") from None
    return len(messages)


# ---------------------------------------------------------------- sending


@dataclass
class Sent:
    sent: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (address, server's reply)
    meanwhile: int = 0  # sent by another run of the same mailing while this one ran
    withdrawn: int = 0  # whose consent ended while the mailing ran (not sent)


def send(
    mailing: Mailing,
    messages: list[Mail],
    settings,
    *,
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> Sent:
    """Send the mails through SMTP, at most `rate` a minute; each one the server took is
    recorded and put on the contact's timeline at once. A recipient the server refuses is
    skipped (nothing recorded) and listed in Sent.refused; a failure of the connection stops
    the mailing with MailError (those sent before are recorded; a run again sends the rest)."""
    import time

    from crmcli.services import smtp

    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    result = Sent()
    if not messages:
        return result
    gap = 60.0 / rate if rate else 0.0
    with smtp.connect(settings) as server:
        last = None
        for mail in messages:
            recipient = mail.recipient
            if last is not None and gap:
                wait = last + gap - clock()
                if wait > 0:
                    sleep(wait)
            last = clock()
            if _sent(mailing.name, [recipient.key]):  # another run of it got there meanwhile
                result.meanwhile += 1
                continue
            if not _still_consents(mailing, recipient):  # a withdrawal blocks at once
                result.withdrawn += 1
                continue
            refused = smtp.deliver(server, mail.message, settings, sent=result.sent)
            if refused is not None:
                result.refused.append((recipient.email or "", refused))
                continue
            _record(mailing, mail, now())
            result.sent += 1
            if progress is not None:
                progress(result.sent)
    return result


def _still_consents(mailing: Mailing, recipient: Recipient) -> bool:
    """Whether a contact's consent to the mailing's purpose is still in force as its mail is
    about to go: a long mailing at a rate limit may meet a withdrawal made meanwhile."""
    if not mailing.purpose or recipient.contact_id is None:
        return True  # mail to staff
    entry = consent.in_force([recipient.contact_id], mailing.purpose).get(recipient.contact_id)
    return consent.state(entry, no_doi=mailsettings.no_doi()) is None


def _record(mailing: Mailing, mail: Mail, at: datetime) -> None:
    """The mail in the mailing's record and on the contact's timeline, in one transaction
    (the record first: a second run of the mailing that got there too stops it here)."""
    from crmcli.models import Activity
    from crmcli.services import activities, limits

    recipient = mail.recipient
    message_id = str(mail.message["Message-ID"]).strip().strip("<>")
    with database_proxy.atomic():
        row_id = _insert_recipient(mailing, recipient, at, message_id)
        if recipient.contact_id is not None:
            card = activities.log_activity(
                "email", contact_id=recipient.contact_id, occurred_at=at, now=at,
                direction="out", subject=mail.subject[: limits.SUBJECT],
                body=mail.text[: limits.LONG],
            )  # fmt: skip
            Activity.update(external_id=f"message-id:{message_id}").where(
                Activity.id == card["id"]
            ).execute()
            MailingRecipient.update(activity=card["id"]).where(
                MailingRecipient.id == row_id
            ).execute()


def _insert_recipient(mailing: Mailing, recipient: Recipient, at: datetime, message_id: str) -> int:
    """The mail in the mailing's record; a second run of the same mailing that reached the
    same person at the same moment is MailError (the caller's transaction rolls back)."""
    from peewee import IntegrityError

    try:
        with database_proxy.atomic():
            return MailingRecipient.insert(
                mailing=mailing.name, template=mailing.template.name,
                recipient=recipient.key, contact=recipient.contact_id, email=recipient.email,
                sent_at=at, message_id=message_id,
            ).execute()  # fmt: skip
    except IntegrityError:
        raise MailError(
            f"another run of mailing {mailing.name} sent to {recipient.email} at the same "
            "moment; stopped (do not run one mailing twice at once)"
        ) from None
