"""A mail message piped in from a mail client (mutt, neomutt, aerc) logged on the timeline.

The message is read with the standard library's `email` package (policy.default): subject
and names decoded (RFC 2047), the text/plain part as the body (else the HTML part as text),
the Date in UTC, and the Message-ID as the activity's external id, so the same message piped
twice is logged once. Attachments are not stored; their names close the body.

Direction: a mail from one of your own addresses (MY_EMAILS_VAR, a comma- or space-separated
list) is outgoing and belongs to the first recipient (To, then Cc) who is a contact; any other
mail is incoming and belongs to its sender. Without MY_EMAILS_VAR a mail whose sender is no
contact but one of whose recipients is, is taken as one you sent. The caller may also say.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.values import plural

MY_EMAILS_VAR = "CRM_MY_EMAILS"
# The most a message may be: a mail with a few attachments fits; a disk image does not.
MAX_BYTES = 64 * 1024 * 1024
# How deep forwarded messages inside forwarded messages are unpacked.
MAX_DEPTH = 3
# How deep multiparts inside multiparts are read (real mail nests 3 or 4 deep).
MAX_NESTING = 20
EXTERNAL_PREFIX = "message-id:"
MAX_PART_CHARS = 2_000_000


@dataclass
class Mail:
    """What crm takes from a message: addresses lower-cased in `*_keys` for matching."""

    message_id: str | None
    subject: str | None
    sender: tuple[str, str] | None  # (display name, address)
    recipients: list[tuple[str, str]] = field(default_factory=list)  # To, then Cc
    date: datetime | None = None
    body: str = ""
    attachments: list[str] = field(default_factory=list)

    @property
    def external_id(self) -> str:
        """ "message-id:<id>" (without the angle brackets); a message without a Message-ID
        gets a digest of its sender, date, subject and text instead, so it too is logged once."""
        if self.message_id:
            return EXTERNAL_PREFIX + self.message_id
        parts = (
            self.sender[1] if self.sender else "",
            self.date.isoformat() if self.date else "",
            self.subject or "",
            self.body,
        )
        digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()
        return f"{EXTERNAL_PREFIX}crm-digest-{digest[:32]}"


# ---------------------------------------------------------------- reading the message


def parse_message(data: bytes) -> Mail:
    """Read an RFC 822 message. Invalid with one line when it is empty, too big, or not a
    mail at all (no From or To header with an address)."""
    if not data.strip():
        raise Invalid(None, "no mail message on stdin (it is empty)")
    if len(data) > MAX_BYTES:
        raise Invalid(
            None,
            f"stdin is too big for a mail message: {len(data):,} bytes or more; at most "
            f"{MAX_BYTES:,} (attachments included)",
        )
    from email import policy
    from email.parser import BytesParser

    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
        sender = _addresses(msg, "from")
        recipients = _addresses(msg, "to") + _addresses(msg, "cc")
        if not sender and not recipients:
            raise Invalid(
                None, "stdin is not a mail message (it has no From or To header with an address)"
            )
        subject = _one_line(_header(msg, "subject"))
        message_id = _message_id(_header(msg, "message-id"))
        date = _date(msg)
        parts: list[str] = []
        attachments: list[str] = []
        _collect(msg, parts, attachments, 0, set())
    except Invalid:
        raise
    except Exception as exc:  # the email package's own failures on hostile input
        raise Invalid(
            None, f"stdin cannot be read as a mail message ({type(exc).__name__})"
        ) from None
    body = "\n\n".join(p for p in parts if p.strip())
    if attachments:
        body += "\n\n" + "\n".join(f"[attachment: {name}]" for name in attachments)
    return Mail(
        message_id=message_id,
        subject=subject or None,
        sender=sender[0] if sender else None,
        recipients=recipients,
        date=date,
        body=body.strip(),
        attachments=attachments,
    )


def _text(value: str) -> str:
    """Header or body text as clean str: raw 8-bit bytes the parser kept as surrogates are
    read as UTF-8, else cp1252; NUL characters go."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        from crmcli.values import decode_text

        value = decode_text(value.encode("utf-8", "surrogateescape"))
    if _C1.search(value):  # Latin-1 declared, cp1252 meant (Outlook): – „ “ € are C1 codes
        value = _C1.sub(lambda m: bytes([ord(m.group())]).decode("cp1252", "replace"), value)
    return value.replace("\x00", "")


_C1 = re.compile("[\x80-\x9f]")


def _header(msg, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the registry cannot parse: its raw text still reads
        value = _raw_header(msg, name)
    if value is None:
        return ""
    text = str(value)
    if "\ufffd" in text:  # encoded words in a charset Python does not know
        text = _redecoded(_raw_header(msg, name)) or text
    return _text(text)


def _raw_header(msg, name: str) -> str | None:
    return next((v for k, v in msg.raw_items() if k.lower() == name), None)


def _redecoded(raw: str | None) -> str | None:
    """A header's encoded words (RFC 2047) read as a body in that charset is: a charset
    Python does not know (or that does not fit) as UTF-8, else cp1252, where the email package
    puts replacement characters. None when the raw header has those itself or cannot be read."""
    if raw is None or "\ufffd" in raw:
        return None
    from email.header import decode_header

    from crmcli.values import decode_text

    try:
        chunks = decode_header(re.sub(r"\r?\n(?=[ \t])", "", raw))
    except Exception:
        return None
    out = []
    for data, charset in chunks:
        if isinstance(data, str):
            out.append(data)
            continue
        label = (charset or "ascii").lower()
        try:
            out.append(data.decode("cp1252" if label in _CP1252_LABELS else label))
        except (LookupError, UnicodeDecodeError):
            out.append(decode_text(data))
    return "".join(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _addresses(msg, name: str) -> list[tuple[str, str]]:
    """(display name, address) of every address in the headers called `name`."""
    out: list[tuple[str, str]] = []
    try:
        headers = msg.get_all(name) or []
    except Exception:
        headers = []
    for header in headers:
        try:
            found = [(a.display_name, a.addr_spec) for a in header.addresses]
        except Exception:  # unparsable as an address list: the plain reading
            from email.utils import getaddresses

            found = getaddresses([str(header)])
        for display, address in found:
            address = _text(address).strip().strip("<>")
            if "@" in address and not any(ch.isspace() for ch in address):
                out.append((_one_line(_text(display)).strip("'\" "), address))
    return out


def _message_id(text: str) -> str | None:
    text = "".join(text.split())
    match = re.search(r"<([^<>]+)>", text)
    value = match.group(1) if match else text.strip("<>")
    return value[:900] or None  # a Message-ID is one header line (998 octets at most)


def _date(msg) -> datetime | None:
    """The Date header in UTC; None when absent or unreadable. A date without a zone
    (-0000) is taken as UTC."""
    try:
        header = msg.get("date")
        moment = getattr(header, "datetime", None) if header is not None else None
    except Exception:
        moment = None
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _collect(msg, parts: list[str], attachments: list[str], depth: int, seen: set[int]) -> None:
    """The readable text of `msg` into `parts`, its attachments' names into `attachments`;
    a forwarded message (message/rfc822) is unpacked in place, headers first. `seen`: the
    parts already read (a nested multipart's body is also its parent's)."""
    if msg.get_content_maintype() == "multipart":
        body = msg.get_body(preferencelist=("plain", "html"))
        if body is not None and id(body) not in seen:
            seen.add(id(body))
            parts.append(_part_text(body))
        for part in msg.iter_attachments():
            if id(part) not in seen:
                _attachment(part, parts, attachments, depth, seen)
    elif msg.get_content_type() in ("text/plain", "text/html") or msg.get_content_maintype() in (
        "text",
    ):
        parts.append(_part_text(msg))
    elif msg.get_content_type() == "message/rfc822":
        _attachment(msg, parts, attachments, depth, seen)
    else:
        attachments.append(_filename(msg))


def _attachment(part, parts: list[str], attachments: list[str], depth: int, seen: set[int]) -> None:
    if part.get_content_type() == "message/rfc822" and depth < MAX_DEPTH:
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if hasattr(inner, "get_content_maintype"):
            parts.append(_forwarded_header(inner))
            _collect(inner, parts, attachments, depth + 1, seen)
            return
    if part.get_content_maintype() == "multipart":
        if depth < MAX_NESTING:  # e.g. multipart/related beside the body
            _collect(part, parts, attachments, depth + 1, seen)
        return
    attachments.append(_filename(part))


def _filename(part) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    name = _one_line(_text(name or ""))
    return name or f"unnamed {part.get_content_type()}"


def _forwarded_header(inner) -> str:
    lines = ["---------- Forwarded message ----------"]
    for label, name in (("From", "from"), ("Date", "date"), ("Subject", "subject"), ("To", "to")):
        value = _one_line(_header(inner, name))
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


# Labels that name Windows-1252 in practice: mail that says Latin-1 or ASCII and carries a
# euro sign or typographic quotes is cp1252 (as browsers read it, WHATWG encoding standard).
_CP1252_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii", "l1"}


def _part_text(part) -> str:
    """A text part's content as text: its charset (transfer encoding undone), a wrong or
    unknown one read as UTF-8, else cp1252; HTML turned into readable text."""
    payload = part.get_payload(decode=True) or b""
    if not isinstance(payload, bytes):
        payload = str(payload).encode("utf-8", "surrogateescape")
    charset = (part.get_content_charset() or "").lower()
    if charset in _CP1252_LABELS:
        charset = "cp1252"
    try:
        text = payload.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        from crmcli.values import decode_text

        text = decode_text(payload)
    # What is stored is at most limits.LONG characters: a part far beyond that is cut before
    # it is read as HTML or unquoted (a 20 MB HTML part would take seconds).
    text = _text(text[:MAX_PART_CHARS]).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        return strip_quoted_tail(html_to_text(text, separators=True))
    if (part.get_param("format") or "").lower() == "flowed":
        text = _unflow(text, (part.get_param("delsp") or "").lower() == "yes")
    return strip_quoted_tail(text)


def _unflow(text: str, delsp: bool) -> str:
    """format=flowed (RFC 3676): a line ending in a space continues on the next."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


_ATTRIBUTION = re.compile(
    r"^(on .{0,200} wrote:|am .{0,200} schrieb .{0,200}:|.{0,200} (wrote|schrieb):)\s*$",
    re.IGNORECASE,
)


def strip_quoted_tail(text: str) -> str:
    """Text without the quoted mail at its end: after the first Outlook header block (a
    separator line such as "-----Original Message-----" / "-----Ursprüngliche Nachricht-----"
    or Outlook's line of underscores, then From/Von and Sent/Gesendet lines), or when
    everything after the last own line is `>`-quoted (with the "On ... wrote:" line before
    it), that tail goes. Quotes between own lines (an interleaved reply) stay, as does a mail
    that is nothing but a quote."""
    lines = text.rstrip().split("\n")
    cut = _outlook_header(lines)
    if cut is not None:
        own = _without_separators(lines[:cut])
        left = sum(1 for ln in lines[cut:] if ln != _SEPARATOR)
        return f"{own}\n\n[quoted reply left out: {plural(left, 'line')}]"
    if _SEPARATOR in lines:  # HTML's separators that head no quoted mail
        text = _without_separators(lines)
        lines = text.split("\n")
    end = len(lines)
    while end and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    if end == len(lines) or not any(ln.startswith(">") for ln in lines[end:]):
        return text.strip()
    cut = end
    if cut and _ATTRIBUTION.match(lines[cut - 1].strip()):
        cut -= 1
    elif cut >= 2 and _ATTRIBUTION.match(" ".join(lines[cut - 2 : cut]).strip()):
        cut -= 2  # an attribution wrapped onto two lines
    own = "\n".join(lines[:cut]).strip()
    if not own:
        return text.strip()
    return f"{own}\n\n[quoted reply left out: {plural(len(lines) - cut, 'line')}]"


# A line html_to_text(separators=True) puts where HTML mail draws the line above a quoted
# mail's header (<hr>, Outlook's divRplyFwdMsg and its bordered div): no text holds NUL.
_SEPARATOR = "\x00"
_OUTLOOK_SEPARATOR = re.compile(
    r"^(-{3,} ?(original message|ursprüngliche nachricht|originalnachricht) ?-{3,}|_{10,})$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^\*?(from|von) ?:\*? *\S", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\*?(sent|gesendet|date|datum) ?:\*? *\S", re.IGNORECASE)


def _without_separators(lines: list[str]) -> str:
    text = "\n".join(ln for ln in lines if ln != _SEPARATOR)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _outlook_header(lines: list[str]) -> int | None:
    """Where the first Outlook header block of a quoted mail begins (its separator line),
    when there is own text before it; None when there is none."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped != _SEPARATOR and not _OUTLOOK_SEPARATOR.match(stripped):
            continue
        after = [ln.strip() for ln in lines[i + 1 : i + 12]]
        after = [ln for ln in after if ln and ln != _SEPARATOR and not _OUTLOOK_SEPARATOR.match(ln)]
        if not after or not _FROM_LINE.match(after[0]):
            continue
        if not any(_SENT_LINE.match(ln) for ln in after[1:4]):
            continue
        if any(ln.strip() and ln != _SEPARATOR for ln in lines[:i]):
            return i
        return None  # nothing but the quote: it all stays
    return None


# ---------------------------------------------------------------- HTML as text

_BLOCKS = {
    "p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "address", "dl", "dt",
    "dd",
}  # fmt: skip
_SKIP = {"script", "style", "head", "title", "template", "noscript", "xml"}


def html_to_text(html: str, *, separators: bool = False) -> str:
    """Readable text of an HTML mail: paragraphs and line breaks kept, lists as "- ", links
    with their address, scripts, styles and Outlook's conditional comments left out. With
    `separators`, a line of its own (_SEPARATOR) marks each line HTML draws above a quoted
    mail's header (<hr>, Outlook's divRplyFwdMsg and bordered div), for strip_quoted_tail."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.out: list[str] = []
            self.skip = 0
            self.pre = 0
            self.href: list[str | None] = []
            self.link_text: list[int] = []
            self.spaced: list[bool] = []

        def handle_starttag(self, tag, attrs):
            if separators and _separates(tag, attrs):
                self.line_end()
                self.out.append(f"{_SEPARATOR}\n")
            if tag == "p" and word:
                style = dict(attrs).get("style") or ""
                own = _space_after(style)
                self.spaced.append(spaced if own is None else own)
            if tag in _SKIP:
                self.skip += 1
            elif tag == "pre":
                self.pre += 1
            if tag == "div":
                self.line_end()
            elif tag in _BLOCKS:
                self.out.append(paragraph if tag in ("p", "table", "h1", "h2", "h3") else "\n")
            if tag == "li":
                self.out.append("- ")
            if tag == "a":
                self.href.append(dict(attrs).get("href"))
                self.link_text.append(len(self.out))
            if tag == "img":
                alt = (dict(attrs).get("alt") or "").strip()
                if alt and not self.skip:
                    self.out.append(f"[{alt}]")
            if tag == "td" and self.out and not self.out[-1].endswith("\n"):
                self.out.append("  ")

        def handle_startendtag(self, tag, attrs):
            self.handle_starttag(tag, attrs)
            if tag in _SKIP:
                self.skip -= 1
            if tag == "a":
                self.handle_endtag(tag)

        def handle_endtag(self, tag):
            if tag in _SKIP:
                self.skip = max(0, self.skip - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            if (
                tag in _BLOCKS
                and tag not in ("li", "tr", "br", "dt", "dd")
                and not (word and tag == "p")
            ):
                if tag == "div":
                    self.line_end()
                else:
                    self.out.append("\n")
            if tag == "p" and word and self.spaced and self.spaced.pop():
                self.out.append("\n\n")  # a paragraph with space after it (Word's margin)
            if tag == "a" and self.href:
                href = (self.href.pop() or "").strip()
                start = self.link_text.pop()
                shown = "".join(self.out[start:]).strip()
                target = href[7:] if href.lower().startswith("mailto:") else href
                web = target.lower().startswith(("http:", "https:")) or "@" in target
                if web and target not in shown:
                    self.out.append(f" <{target}>")

        def line_end(self):
            """A div is a line (mail clients write one per line, and <div><br></div> for an
            empty one): it ends the line it follows, if that is not ended yet."""
            for chunk in reversed(self.out):
                if chunk.strip(" "):
                    if not chunk.endswith("\n"):
                        self.out.append("\n")
                    return

        def handle_data(self, data):
            if self.skip:
                return
            if self.pre:
                self.out.append(data)
            else:
                self.out.append(re.sub(r"[ \t\r\n\f]+", " ", data))

    # Outlook (Word) writes each line as a paragraph without margins, and an empty one
    # between paragraphs: there a paragraph is a line.
    word = re.search(r"class=[\"']?MsoNormal", html) is not None
    paragraph = "\n" if word else "\n\n"
    # Unless Word's style for them gives its paragraphs space after them: then there is no
    # empty paragraph between them, and each is a paragraph.
    normal = re.search(r"p\.MsoNormal\b[^{]*\{([^}]*)\}", html) if word else None
    spaced = bool(normal and _space_after(normal.group(1)))
    reader = Reader()
    reader.feed(html)
    reader.close()
    text = "".join(reader.out).replace("\xa0", " ")
    lines = [ln.strip() for ln in text.split("\n")]
    text = "\n".join(lines)
    if not separators:
        text = text.replace(_SEPARATOR, "")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _separates(tag: str, attrs: list) -> bool:
    """Whether this element is the line above a quoted mail's header in Outlook's HTML."""
    if tag == "hr":
        return True
    if tag != "div":
        return False
    found = dict(attrs)
    style = (found.get("style") or "").lower()
    return found.get("id") == "divRplyFwdMsg" or re.search(r"border-top: *solid", style) is not None


_LENGTH = re.compile(r"^(-?[\d.]+)(pt|px|cm|mm|in|em)?$")
_POINTS = {"pt": 1.0, "px": 0.75, "cm": 28.35, "mm": 2.835, "in": 72.0, "em": 11.0, None: 0.75}


def _space_after(style: str) -> bool | None:
    """Whether a CSS declaration list gives a paragraph space below it (margin-bottom, or the
    margin shorthand, at least 1pt or auto); None when it says nothing about it."""
    bottom = None
    for declaration in style.lower().split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name == "margin":
            values = value.split()
            if values:
                bottom = values[2] if len(values) >= 3 else values[0]
        elif name == "margin-bottom":
            bottom = value
    if bottom is None:
        return None
    if bottom == "auto":
        return True
    match = _LENGTH.match(bottom.replace("!important", "").strip())
    if not match:
        return None
    try:
        return float(match.group(1)) * _POINTS[match.group(2)] >= 1.0
    except ValueError:
        return None


# ---------------------------------------------------------------- logging it


def my_emails(extra: Iterable[str] = ()) -> set[str]:
    """Your own addresses, lower-cased: MY_EMAILS_VAR (comma- or space-separated) and `extra`."""
    text = os.environ.get(MY_EMAILS_VAR, "")
    found = {a.strip().lower() for a in re.split(r"[,;\s]+", text) if "@" in a}
    return found | {a.strip().lower() for a in extra if a.strip()}


def _contacts_by_email(addresses: Sequence[str]) -> dict[str, int]:
    """Lower-cased address -> contact id, for those addresses that are a contact's (any of
    its emails; the contact's own email column as well, for rows written before 0009)."""
    from crmcli.models import Contact, ContactEmail

    keys = sorted({a.lower() for a in addresses})
    if not keys:
        return {}
    found: dict[str, int] = {}
    query = Contact.select(Contact.email_key, Contact.id).where(Contact.email_key.in_(keys))
    found.update(dict(query.tuples()))
    rows = ContactEmail.select(ContactEmail.email_key, ContactEmail.contact).where(
        ContactEmail.email_key.in_(keys)
    )
    found.update(dict(rows.tuples()))
    return found


def logged_activity(external_id: str) -> int | None:
    from crmcli.models import Activity

    return Activity.select(Activity.id).where(Activity.external_id == external_id).scalar()


@dataclass
class Logged:
    """The result of log_mail: the activity's card, and whether it was there already
    (`existing`), and the contact created for it (`created_contact`), if any."""

    card: dict
    existing: bool = False
    created_contact: dict | None = None
    direction: str = "in"


def _contact_name(display: str, address: str) -> str:
    """A new contact's name from a mail's display name ("Müller, Jürgen" is Jürgen Müller),
    else the address's local part (juergen.mueller -> Juergen Mueller)."""
    display = display.strip()
    if display.count(",") == 1:
        last, first = (s.strip() for s in display.split(","))
        if last and first and " " not in last and " " not in first:
            display = f"{first} {last}"
    if display and "@" not in display:
        return display
    local = address.split("@", 1)[0]
    words = [w for w in re.split(r"[._+-]+", local) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or address


def log_mail(
    data: bytes,
    *,
    kind: str = "email",
    direction: str | None = None,
    me: Iterable[str] = (),
    create: bool = False,
    now: datetime | None = None,
    **values,
) -> Logged:
    """Log a mail message (raw bytes) on its contact's timeline, once per Message-ID.

    `direction` "in"/"out" overrides the rules in the module docstring; `me` adds to your
    own addresses; `create` makes an unknown sender (or recipient) a new lead. `values` go to
    activities.log_activity (subject overrides the mail's; occurred_at its Date)."""
    from peewee import IntegrityError

    from crmcli.models import Activity, database_proxy, utcnow
    from crmcli.services import activities

    now = now or utcnow()
    if direction is not None:
        direction = direction.strip().lower()
        if direction not in ("in", "out"):
            raise Invalid("direction", f"'{direction}' must be in or out")
    mail = parse_message(data)
    external = mail.external_id
    existing = logged_activity(external)  # the common repeat, without taking the write lock
    if existing is not None:
        return Logged(activities.get_activity(existing), existing=True)
    occurred = values.pop("occurred_at", None) or mail.date or now
    if occurred > now:  # a sender's clock ahead: the mail arrived, so it happened by now
        occurred = now
    from crmcli.services import limits

    subject = _fit(values.pop("subject", None) or mail.subject, limits.SUBJECT)
    body = _fit(values.pop("body", None) or mail.body or None, limits.LONG)
    mine = my_emails(me)
    # The Message-ID check, the look-up of the contact and its creation are one write
    # transaction: on SQLite it takes the write lock when it begins (BEGIN IMMEDIATE), so the
    # same mail piped twice at once waits and then finds the other's work. PostgreSQL reads
    # what others commit meanwhile: a unique email or Message-ID written a moment ago by
    # another process fails this one, which then reads again (a few tries, then it says so).
    for attempt in range(1, RACE_TRIES + 1):
        creating = False
        try:
            with database_proxy.atomic():
                existing = logged_activity(external)
                if existing is not None:
                    return Logged(activities.get_activity(existing), existing=True)
                way, contact_id, target = _whose(mail, mine, direction)
                created = None
                if contact_id is None:
                    if not create:
                        who = "recipient" if way == "out" else "sender"
                        addresses = ", ".join(a for _, a in target[:3])
                        raise NotFound(
                            f"no contact has the {who}'s address {addresses}",
                            action="create_from_mail",
                        )
                    from crmcli.services import contacts

                    creating = True
                    name, address = target[0]
                    created = contacts.add_contact(
                        _contact_name(name, address), email=address, status="lead",
                        source="email", now=now,
                    )  # fmt: skip
                    contact_id = created["id"]
                card = activities.log_activity(
                    kind, contact_id=contact_id, occurred_at=occurred, now=now,
                    subject=subject, body=body, direction=way, **values,
                )  # fmt: skip
                Activity.update(external_id=external).where(Activity.id == card["id"]).execute()
            return Logged(card, created_contact=created, direction=way)
        except (IntegrityError, Conflict) as exc:
            # Another process logged this mail, or made its sender a contact, a moment ago.
            raced = isinstance(exc, IntegrityError) or creating
            if not raced or attempt == RACE_TRIES:
                existing = logged_activity(external)
                if existing is not None:
                    return Logged(activities.get_activity(existing), existing=True)
                if isinstance(exc, Conflict):
                    raise
                raise Conflict("the mail could not be logged (a constraint refused it)") from None
    raise AssertionError("unreachable")  # pragma: no cover


# How often a mail is tried again when another process wrote its contact meanwhile.
RACE_TRIES = 3


def _whose(
    mail: Mail, mine: set[str], direction: str | None
) -> tuple[str, int | None, list[tuple[str, str]]]:
    """(direction, contact id or None, the candidate addresses): whose timeline the mail
    goes on, by the rules in the module docstring (`direction` given wins)."""
    sender = mail.sender[1].lower() if mail.sender else None
    others = [(n, a) for n, a in mail.recipients if a.lower() not in mine]
    known = _contacts_by_email([a for _, a in mail.recipients] + ([sender] if sender else []))
    if direction is None:
        if sender is not None and sender in mine:
            direction = "out"
        elif sender is not None and sender in known:
            direction = "in"
        elif not mine and any(a.lower() in known for _, a in others):
            direction = "out"  # nobody said which addresses are yours: it went to a contact
        else:
            direction = "in"
    if direction == "out":
        candidates = others
        if not candidates:
            raise Invalid(None, "an outgoing mail without a recipient (To or Cc)")
    else:
        if mail.sender is None:
            raise Invalid(None, "the mail has no sender (From)")
        candidates = [mail.sender]
    contact_id = next((known[a.lower()] for _, a in candidates if a.lower() in known), None)
    return direction, contact_id, candidates


def _fit(text: str | None, limit: int) -> str | None:
    """Text cut to `limit` characters, saying so at its end (a mail is logged, not refused,
    for a long quote or a pasted log)."""
    if text is None or len(text) <= limit:
        return text
    note = f"\n[… {len(text) - limit + 60:,} more characters left out]"
    return text[: limit - 60].rstrip() + note
