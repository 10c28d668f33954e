"""vCard files in and out: `read_cards` turns vCard 2.1, 3.0 and 4.0 (as phones, Apple Contacts,
Google, Outlook and khard write them) into CONTACT RECORDs, `write_cards` writes records as
vCard 3.0 or 4.0.

Reading streams: the file is cut into cards on their BEGIN:VCARD/END:VCARD lines, and each card
is parsed on its own (vobject unfolds its lines, joins quoted-printable soft line breaks and
splits each line into group, name, parameters and value), so a 500 MB address book never sits
in memory whole. Photos, logos, sounds and keys are skipped while cutting, never decoded.
A damaged value (a junk EMAIL, a cut-off PHOTO, a BDAY that is no date) is dropped with a
warning and the person kept; a file that is not vCard, or a card never closed, is Invalid.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from crmcli.errors import Invalid
from crmcli.services.vcard_out import write_cards
from crmcli.services.vcard_split import Card, NeverClosed, cards, decode_line

__all__ = ["read_cards", "write_cards", "SUFFIXES"]

SUFFIXES = (".vcf", ".vcard")  # what a directory (khard's vdir) is read for

# Google's system group that every contact of a Google export is in: no tag for it.
_NOT_TAGS = {"mycontacts", "starred"}

# Apple's X-ABLabel values (`_$!<Work>!$_`) and what people type as their own labels.
_LABEL_KINDS = {
    "work": "work", "arbeit": "work", "büro": "work", "buero": "work", "geschäftlich": "work",
    "dienstlich": "work", "firma": "work", "office": "work", "main": "work", "zentrale": "work",
    "home": "home", "privat": "home", "private": "home", "zuhause": "home", "personal": "home",
    "mobile": "mobile", "mobil": "mobile", "handy": "mobile", "cell": "mobile",
    "iphone": "mobile", "other": "other", "andere": "other", "sonstige": "other",
}  # fmt: skip
_MOBILE_TYPES = {"cell", "mobile", "iphone", "x-mobile", "x-cell"}
_OTHER_ONLY = {"fax", "pager", "x-fax"}


# ---------------------------------------------------------------- values


def _split(value: str, sep: str) -> list[str]:
    """Split on `sep` where it is not escaped by a backslash (escapes kept for _unescape)."""
    if "\\" not in value:
        return value.split(sep)
    parts, current, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPE_21 = re.compile(r"\\([;,])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _unescape(value: str, version: str) -> str:
    if "\\" not in value and value.isprintable():
        return value
    if version == "2.1":  # 2.1 escapes only the separators; a backslash is text (C:\Users)
        out = _ESCAPE_21.sub(r"\1", value)
    else:
        out = _ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value)
    return _CONTROL.sub("", out.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Prop:
    """One content line: name, group, normalised parameters and the decoded value."""

    __slots__ = ("name", "group", "types", "pref", "params", "value")

    def __init__(self, name: str, group: str | None, params: list[list[str]], value: str):
        self.name = name.upper()
        self.group = (group or "").lower()
        self.types: set[str] = set()
        self.pref = 0  # 0: not preferred; else 1 (most) .. 100
        self.params: dict[str, str] = {}
        encoding = ""
        for param in params:
            pname = param[0].upper()
            if len(param) == 1:  # vCard 2.1 bare parameter: TEL;HOME;VOICE, EMAIL;PREF
                bare = pname.lower()
                if bare in ("quoted-printable", "base64", "b", "8bit", "7bit"):
                    encoding = bare
                else:
                    self.types.add(bare)
            elif pname == "TYPE":
                for v in param[1:]:
                    self.types.update(t.strip().lower() for t in v.split(",") if t.strip())
            elif pname == "PREF":
                digits = param[1].strip()
                self.pref = int(digits) if digits.isdigit() and 0 < int(digits) <= 100 else 1
            elif pname == "ENCODING":
                encoding = param[1].strip().lower()
            else:
                self.params[pname] = param[1]
        if "pref" in self.types:
            self.pref = min(self.pref or 1, 1)
        self.value = self._decoded(value, encoding)

    def _decoded(self, value: str, encoding: str) -> str:
        if encoding in ("quoted-printable", "base64", "b"):
            import binascii
            import quopri

            charset = self.params.get("CHARSET", "utf-8")
            try:
                if encoding == "quoted-printable":
                    data = quopri.decodestring(value.encode("utf-8"))
                else:
                    data = binascii.a2b_base64(value.encode("ascii", "replace"))
            except (binascii.Error, ValueError):
                raise ValueError("damaged encoded data") from None
            try:
                return data.decode(charset)
            except (LookupError, UnicodeDecodeError):
                return decode_line(data)
        return value


def _kind(prop: _Prop, labels: dict[str, str], *, phone: bool) -> str:
    types = prop.types
    if phone and types & _MOBILE_TYPES:
        return "mobile"
    if phone and types & _OTHER_ONLY:
        return "other"
    if phone and "main" in types:  # a company's switchboard (Apple's "main")
        return "work"
    for kind in ("work", "home"):
        if kind in types:
            return kind
    label = labels.get(prop.group) if prop.group else None
    if label:
        return label
    if prop.params.get("X-CUSTOM-LABEL"):  # Samsung's own label
        return _label_kind(prop.params["X-CUSTOM-LABEL"])
    if "x-mobile" in types or "mobile" in types:
        return "mobile"
    return "other"


def _label_kind(text: str) -> str:
    word = text.strip()
    if word.startswith("_$!<") and word.endswith(">!$_"):
        word = word[4:-4]
    return _LABEL_KINDS.get(word.lower(), "other")


# An address that is plainly valid: email-validator (0.25 ms an address) is asked only about
# the rest. A subset of what it accepts, so the answer is the same (its normalised form: the
# domain lower-cased).
_PLAIN_EMAIL = re.compile(
    r"(?a)([A-Za-z0-9_%+-]{1,64}(?:\.[A-Za-z0-9_%+-]+)*)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))"
)
_SPECIAL_USE = {"arpa", "invalid", "local", "localhost", "onion", "test"}


def _checked_email(text: str) -> str:
    from crmcli.values import parse_email

    m = _PLAIN_EMAIL.fullmatch(text)
    # A label with "--" (0@00--0.aa) has rules of its own (IDNA): email_validator decides.
    if (
        m
        and "--" not in m[2]
        and len(m[1]) <= 64
        and len(text) <= 254
        and m[3].lower() not in _SPECIAL_USE
    ):
        return f"{m[1]}@{m[2].lower()}"
    return parse_email(text)


def _mobile_number(e164: str) -> bool:
    import phonenumbers

    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    return kind == phonenumbers.PhoneNumberType.MOBILE


_DATE = re.compile(r"(\d{4})-?(\d\d)-?(\d\d)(?:[T ][\d:.]*(?:Z|[+-]\d\d:?\d\d)?)?")
_YEARLESS = re.compile(r"--(\d\d)-?(\d\d)")
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _birthday(prop: _Prop) -> str | None:
    """A BDAY as the record's ISO text (`1968-12-24`, `--12-24` without a year), or None."""
    from datetime import date

    text = prop.value.strip()
    year: int | None
    if m := _DATE.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        omit = prop.params.get("X-APPLE-OMIT-YEAR", "").strip()
        if (omit.isdigit() and int(omit) == year) or year == 0:  # 0000-12-24: no year either
            year = None
    elif m := _YEARLESS.fullmatch(text):
        year, month, day = None, int(m[1]), int(m[2])
    elif m := _GERMAN.fullmatch(text):
        year, month, day = int(m[3]), int(m[2]), int(m[1])
    else:
        return None
    try:
        date(year or 2000, month, day)  # 2000: 29 February is a birthday too
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


# ---------------------------------------------------------------- one card to a record


class _Typed:
    """A card's emails or phones: each once (by its key), the most preferred the primary."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.ranks: list[int] = []  # PREF: 1 most preferred .. 100, 0 not preferred
        self.seen: dict[str, int] = {}

    def add(self, key: str, item: dict, pref: int) -> None:
        if key in self.seen:  # the same one twice: kept once, with the better preference
            i = self.seen[key]
            if pref and (not self.ranks[i] or pref < self.ranks[i]):
                self.ranks[i] = pref
            return
        self.seen[key] = len(self.items)
        self.items.append({**item, "primary": False})
        self.ranks.append(pref)

    def done(self) -> list[dict]:
        if self.items:
            best = min(range(len(self.items)), key=lambda i: (self.ranks[i] or 1000, i))
            self.items[best]["primary"] = True
        return self.items


_HANDLED = {"FN", "N", "ORG", "TITLE", "ROLE", "NICKNAME", "EMAIL", "TEL", "ADR", "BDAY", "NOTE",
            "CATEGORIES", "URL"}  # fmt: skip


class _Record:
    """One card's properties gathered into a CONTACT RECORD, with what had to be dropped."""

    def __init__(self, props: list[_Prop], problems: list[str]):
        self.version = next((p.value.strip() for p in props if p.name == "VERSION"), "3.0")
        self.labels = {
            p.group: _label_kind(p.value) for p in props if p.name == "X-ABLABEL" and p.group
        }
        self.problems = problems
        self.record: dict[str, Any] = {}
        self.fields: dict[str, str] = {}
        self.emails, self.phones = _Typed(), _Typed()
        self.addresses: list[_Prop] = []
        self.notes: list[str] = []
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.fn = self.n_name = self.org = ""
        for p in props:
            if p.name in _HANDLED and p.value.strip():
                getattr(self, "_" + p.name.lower())(p)

    def text(self, p: _Prop) -> str:
        return _unescape(p.value, self.version).strip()

    def parts(self, p: _Prop, sep: str = ";") -> list[str]:
        return [_unescape(s, self.version).strip() for s in _split(p.value, sep)]

    def _fn(self, p: _Prop) -> None:
        self.fn = self.fn or _one_line(self.text(p))

    def _n(self, p: _Prop) -> None:
        family, given, additional, prefix, suffix = (self.parts(p) + [""] * 5)[:5]
        words = [prefix, given, additional, family, suffix]
        self.n_name = self.n_name or _one_line(" ".join(w.replace(",", " ") for w in words if w))

    def _org(self, p: _Prop) -> None:
        if self.org or "department" in self.fields:
            return
        company, *units = (_one_line(s) for s in self.parts(p))
        if company:
            self.org = self.record["company"] = company
        if any(units):  # ORG:Firma;Vertrieb: the department
            self.fields["department"] = ", ".join(u for u in units if u)

    def _title(self, p: _Prop) -> None:
        self.record["position"] = _one_line(self.text(p))

    def _role(self, p: _Prop) -> None:
        self.record.setdefault("position", _one_line(self.text(p)))

    def _nickname(self, p: _Prop) -> None:
        self.fields.setdefault("nickname", _one_line(self.text(p)))

    def _email(self, p: _Prop) -> None:
        raw = self.text(p)
        address = raw[7:] if raw.lower().startswith("mailto:") else raw
        try:
            address = _checked_email(address.strip())
        except Invalid:
            self.problems.append(f"dropped EMAIL '{_one_line(raw)[:80]}' (not an email address)")
            return
        kind = _kind(p, self.labels, phone=False)
        self.emails.add(address.lower(), {"email": address, "kind": kind}, p.pref)

    def _tel(self, p: _Prop) -> None:
        from crmcli.values import parse_phone

        raw = self.text(p)
        typed = raw[4:] if raw.lower().startswith("tel:") else raw
        typed = re.sub(r"(?i);ext=", " ext. ", typed).strip()
        try:
            e164 = parse_phone(typed)
        except Invalid:
            self.problems.append(f"dropped TEL '{_one_line(raw)[:80]}' (not a phone number)")
            return
        kind = _kind(p, self.labels, phone=True)
        if not p.types and not p.group and _mobile_number(e164):
            kind = "mobile"  # a bare `TEL:0171 ...`: the number says what it is
        self.phones.add(e164, {"phone": typed, "e164": e164, "kind": kind}, p.pref)

    def _adr(self, p: _Prop) -> None:
        self.addresses.append(p)

    def _bday(self, p: _Prop) -> None:
        birthday = _birthday(p)
        if birthday is None:
            self.problems.append(f"dropped BDAY '{_one_line(p.value)[:40]}' (not a date)")
        else:
            self.record["birthday"] = birthday

    def _note(self, p: _Prop) -> None:
        if self.text(p):
            self.notes.append(self.text(p))

    def _categories(self, p: _Prop) -> None:
        for tag in map(_one_line, self.parts(p, ",")):
            if tag and tag.lower() not in _NOT_TAGS and tag not in self.tags:
                self.tags.append(tag)

    def _url(self, p: _Prop) -> None:
        self.urls.append(_one_line(self.text(p)))

    def _address(self) -> None:
        """The work address, else the first; a preferred one first among equals."""

        def rank(item: tuple[int, _Prop]) -> tuple[bool, int, int]:
            n, adr = item
            work = "work" in adr.types or self.labels.get(adr.group) == "work"
            return (not work, adr.pref or 1000, n)

        ranked = sorted(enumerate(self.addresses), key=rank)
        pobox, extended, street, city, region, zip_code, country = (
            self.parts(ranked[0][1]) + [""] * 7
        )[:7]
        street_line = ", ".join(s for s in (street, extended) if s) or pobox
        for key, value in (
            ("street", street_line), ("city", city), ("zip", zip_code), ("country", country),
        ):  # fmt: skip
            if value:  # Apple's two-line street: one line, comma between
                lines = (line.strip() for line in value.splitlines())
                self.record[key] = ", ".join(line for line in lines if line)
        if region:
            self.fields["region"] = _one_line(region)

    def done(self, where: str) -> tuple[dict, list[str]]:
        if self.addresses:
            self._address()
        if self.notes:
            self.record["notes"] = "\n\n".join(self.notes)
        for i, url in enumerate(self.urls, 1):
            self.fields["url" if i == 1 else f"url{i}"] = url
        emails, phones = self.emails.done(), self.phones.done()
        name = self.fn or self.n_name or self.org or (emails[0]["email"] if emails else "")
        record = {"name": name, **self.record}
        for key, value in (("emails", emails), ("phones", phones), ("tags", self.tags)):
            if value:
                record[key] = value
        if self.fields:
            record["fields"] = self.fields
        who = f"{where} ({name})" if name else where
        warnings = [f"{who}: {problem}" for problem in self.problems]
        if not name and phones:  # the import names the person by the number
            warnings.append(f"{where}: no name: named by the phone number {phones[0]['phone']}")
        # A card without any name (no FN, N, ORG, EMAIL or TEL) is the import's to refuse,
        # with its reason: no second line about the same card here.
        return record, warnings


# Samsung's Contacts app writes a label of the user's own as a parameter with its own charset
# and encoding in parentheses: TEL;X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,=42=C3=BCro):
# which no vCard parser reads. It becomes X-CUSTOM-LABEL="Büro" (the label says the kind when
# crm knows the word, else the number is "other").
_SAMSUNG = re.compile(r"(?i);X-CUSTOM\(([^()]*)\)")


def _samsung_labels(line: str) -> str:
    head, sep, value = line.partition(":")

    def label(m: re.Match[str]) -> str:
        *params, text = m[1].split(",")
        given = dict(p.split("=", 1) for p in params if "=" in p)
        given = {k.strip().upper(): v.strip() for k, v in given.items()}
        if given.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
            import quopri

            data = quopri.decodestring(text.encode("utf-8", "replace"))
            try:
                text = data.decode(given.get("CHARSET") or "utf-8")
            except (LookupError, UnicodeDecodeError):
                text = decode_line(data)
        text = _one_line(re.sub(r'[";:,\\\x00-\x1f]', " ", text))
        return f';X-CUSTOM-LABEL="{text}"' if text else ";X-CUSTOM"

    return _SAMSUNG.sub(label, head) + sep + value


def _card_record(card: Card, where: str) -> tuple[dict, list[str]]:
    """A card as (CONTACT RECORD, warnings about what was dropped)."""
    from vobject.base import getLogicalLines, parseLine

    problems = [f"dropped {name} (its data is damaged)" for name in card.damaged]
    props: list[_Prop] = []
    for text, _n in getLogicalLines(io.StringIO(card.text()), allowQP=True):
        if not text.strip():
            continue
        if "(" in text.split(":", 1)[0]:
            text = _samsung_labels(text)
        try:
            name, params, value, group = parseLine(text)
            props.append(_Prop(name, group, params, value))
        except Exception:  # vobject's ParseError, a broken encoding
            what = text.split(":", 1)[0].split(";", 1)[0][:30] if ":" in text else ""
            if re.fullmatch(r"[\w.-]+", what):
                problems.append(f"dropped {what.upper()} (its value cannot be decoded)")
            else:
                problems.append(f"dropped unreadable line '{_one_line(text)[:40]}'")
    return _Record(props, problems).done(where)


# ---------------------------------------------------------------- the public reader


def read_cards(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    name: str = "input",
    keep_text: bool = False,
) -> Iterator[tuple[str, dict, list[str]]]:
    """Read contacts from a vCard file, a directory of them (every *.vcf, sorted), bytes or a
    binary stream (called `name` in errors): (where, CONTACT RECORD, warnings) per card, one
    card at a time. A file that is not vCard, or a card never closed, raises Invalid.
    `keep_text`: each record has the card's bytes as they were under "_card" (rejects)."""
    if isinstance(source, bytes | bytearray):
        yield from _some(_read_stream(io.BytesIO(bytes(source)), name, "", keep_text), name)
        return
    if not isinstance(source, str | os.PathLike):
        yield from _some(_read_stream(source, name, "", keep_text), name)
        return
    path = Path(source)
    try:
        if path.is_dir():
            files = sorted(
                f for f in path.iterdir() if f.suffix.lower() in SUFFIXES and f.is_file()
            )
            if not files:
                raise Invalid(None, f"{path} has no .vcf files")
            read = 0
            for file in files:
                with open(file, "rb") as stream:
                    for item in _read_stream(stream, file.name, f" of {file.name}", keep_text):
                        read += 1
                        yield item
            if not read:
                raise Invalid(None, f"{path} has no vCard in its .vcf files")
            return
        with open(path, "rb") as stream:
            cards_ = _read_stream(stream, str(path), f" of {path.name}", keep_text)
            yield from _some(cards_, str(path))
    except OSError as exc:
        raise Invalid(None, f"{exc.filename or path}: {exc.strerror or exc}") from None


def _some(cards: Iterator[tuple[str, dict, list[str]]], label: str) -> Iterator:
    """The cards, or Invalid when there is none (an empty file is no address book)."""
    empty = True
    for item in cards:
        empty = False
        yield item
    if empty:
        raise Invalid(None, f"{label} has no vCard in it")


def _read_stream(
    stream: IO[bytes], label: str, of: str, keep_text: bool = False
) -> Iterator[tuple[str, dict, list[str]]]:
    try:
        for card in cards(stream, label, keep_text=keep_text):
            where = f"card {card.number}{of}"
            record, warnings = _card_record(card, where)
            if keep_text:
                record["_card"] = card.original()
            yield where, record, warnings
    except NeverClosed as exc:
        card = exc.card
        try:
            name = str(_card_record(card, "")[0]["name"])[:60]
        except Exception:  # a message about a broken card must not fail itself
            name = ""
        who = f"card {card.number}" + (f" ({name})" if name else "")
        raise Invalid(
            None, f"{label}: {who}, begun on line {card.line}, is never closed (no END:VCARD)"
        ) from None
