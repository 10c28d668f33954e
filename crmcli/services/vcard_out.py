"""Writing CONTACT RECORDs as vCard 3.0 (phones, Apple, Google, khard) or 4.0 (RFC 6350).

Written by hand, not through vobject's serializer: a card is a few escaped lines, and an export
of 100,000 contacts should not build 100,000 component trees. Tests read the output back with
vobject and with crmcli's own reader. Lines end in CRLF and fold at 75 octets, never inside a
UTF-8 character.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, TextIO

from crmcli.errors import Invalid

VERSIONS = ("3.0", "4.0")
PRODID = "-//crmcli//crmcli//EN"

# Name words that come before the given name and those that belong to the family name.
_PREFIXES = {
    "dr.", "dr", "prof.", "prof", "herr", "frau", "mr.", "mr", "mrs.", "mrs", "ms.", "ms",
    "dipl.-ing.", "dr.-ing.", "dr.med.", "dr. med.", "mag.", "ing.", "sir", "dame",
}  # fmt: skip
_SUFFIXES = {"jr.", "jr", "sr.", "sr", "ii", "iii", "iv", "phd", "ph.d.", "mba", "md", "m.a."}
_PARTICLES = {
    "von", "van", "vom", "zu", "zum", "zur", "de", "der", "den", "del", "della", "di", "da",
    "du", "le", "la", "ten", "ter", "op", "dos", "das", "y",
}  # fmt: skip

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})

_PHONE_TYPES = {
    "3.0": {"mobile": "CELL", "work": "WORK,VOICE", "home": "HOME,VOICE", "other": "VOICE"},
    "4.0": {"mobile": "cell", "work": '"work,voice"', "home": '"home,voice"', "other": "voice"},
}
_EMAIL_TYPES = {
    "3.0": {"work": "INTERNET,WORK", "home": "INTERNET,HOME", "mobile": "INTERNET,X-MOBILE",
            "other": "INTERNET"},
    "4.0": {"work": "work", "home": "home", "mobile": "x-mobile", "other": ""},
}  # fmt: skip


def _text(value: Any) -> str:
    """A value as vCard text: CR/LF as \\n, the separators escaped, control characters gone."""
    text = str(value)
    if text.isprintable() and "\\" not in text and ";" not in text and "," not in text:
        return text  # most values: nothing to escape
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).translate(_TEXT_ESCAPES)


def escape_text(value: Any) -> str:
    """A value as vCard text (see _text): for lines written outside a card of ours."""
    return _text(value)


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 6350 3.2), never inside a UTF-8 character."""
    if len(line) <= 18 or len(line.encode("utf-8")) <= 75:
        return line
    pieces: list[str] = []
    start, size, limit = 0, 0, 75
    for i, ch in enumerate(line):
        width = 1 if ch < "\x80" else len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(line[start:i])
            start, size, limit = i, 0, 74  # a continuation line starts with one space
        size += width
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def split_name(name: str) -> tuple[str, str, str, str, str]:
    """(family, given, additional, prefix, suffix) for N: the last word is the family name
    (with its `von`/`van der`), titles such as `Dr.` are prefixes."""
    words = name.split()
    prefix: list[str] = []
    suffix: list[str] = []
    while len(words) > 1 and (words[0].lower() in _PREFIXES or words[0].lower().endswith(".")):
        prefix.append(words.pop(0))
    while len(words) > 1 and words[-1].lower().rstrip(",") in _SUFFIXES:
        suffix.insert(0, words.pop().rstrip(","))
    if words and words[-1].endswith(","):
        words[-1] = words[-1].rstrip(",")
    if len(words) == 1:
        return words[0], "", "", " ".join(prefix), " ".join(suffix)
    family = [words.pop()] if words else []
    while len(words) > 1 and words[-1].lower() in _PARTICLES:
        family.insert(0, words.pop())
    given = words[0] if words else ""
    additional = " ".join(words[1:])
    return " ".join(family), given, additional, " ".join(prefix), " ".join(suffix)


def _birthday(value: Any, version: str) -> str | None:
    """BDAY's value: `1968-12-24` (4.0: `19681224`); without a year `--12-24` (as Google
    writes it in 3.0) or `--1224` (4.0). None when it is no date."""
    from crmcli.values import NO_YEAR

    year: int | None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        year, month, day = value.year, value.month, value.day
        if year == NO_YEAR:
            year = None
    else:
        text = str(value or "").strip()
        if m := re.fullmatch(r"(\d{4})-?(\d\d)-?(\d\d)", text):
            year, month, day = int(m[1]), int(m[2]), int(m[3])
        elif m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})?", text):
            year, month, day = (int(m[3]) if m[3] else None), int(m[2]), int(m[1])
        elif m := re.fullmatch(r"--(\d\d)-?(\d\d)", text):
            year, month, day = None, int(m[1]), int(m[2])
        else:
            return None
        if year == NO_YEAR:
            year = None
    try:
        date(year or 2000, month, day)
    except ValueError:
        return None
    if version == "4.0":
        return f"{year:04d}{month:02d}{day:02d}" if year else f"--{month:02d}{day:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _rev(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y%m%dT%H%M%SZ")


def _uid(record: dict, domain: str) -> str:
    if record.get("id") is not None:
        return f"crmcli-contact-{record['id']}@{domain}"
    # No id (a record not from the database): stable for the same name and first address.
    first = next((e.get("email", "") for e in record.get("emails") or []), "")
    key = f"{record.get('name', '')}\n{first}".lower()
    return f"crmcli-{uuid.uuid5(uuid.NAMESPACE_URL, 'crmcli:' + key)}@{domain}"


def _items(record: dict, plural: str, singular: str) -> list[dict]:
    items = [
        i if i.get(singular) else {**i, singular: i["e164"]}  # a phone known only as E.164
        for i in record.get(plural) or []
        if i and (i.get(singular) or i.get("e164"))
    ]
    if not items and record.get(singular):  # a flat row (email/phone columns) is fine too
        items = [{singular: record[singular], "kind": "other", "primary": True}]
    return items


# Where a region is kept: "region" (a vCard's ADR), "state" (a CSV's State/Bundesland/
# Province column, as services.csvread maps it).
_REGION_KEYS = ("region", "state")


def _region(fields: dict) -> str:
    """The region (state, Bundesland) of the address, from the field it was imported into."""
    by_key = {str(k).strip().lower(): v for k, v in fields.items() if v not in (None, "")}
    return next((str(by_key[k]) for k in _REGION_KEYS if k in by_key), "")


def _card(record: dict, version: str, domain: str) -> list[str]:
    v4 = version == "4.0"
    name = " ".join(str(record.get("name") or "").split())
    company = " ".join(str(record.get("company") or "").split())
    fields = record.get("fields") or {}
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"PRODID:{PRODID}"]
    lines.append(f"UID:{_text(_uid(record, domain))}")
    lines.append(f"FN:{_text(name or company)}")
    if company and name.casefold() == company.casefold():
        lines.append("N:;;;;")
        lines.append("X-ABShowAs:COMPANY")  # Apple and khard show it as a company
        if v4:
            lines.append("KIND:org")
    else:
        lines.append("N:" + ";".join(_text(part) for part in split_name(name)))
    if company:
        department = str(fields.get("department") or "").strip()
        lines.append(f"ORG:{_text(company)}" + (f";{_text(department)}" if department else ""))
    if record.get("position"):
        lines.append(f"TITLE:{_text(record['position'])}")
    if fields.get("nickname"):
        lines.append(f"NICKNAME:{_text(fields['nickname'])}")
    for item in _items(record, "emails", "email"):
        kind = str(item.get("kind") or "other")
        types = _EMAIL_TYPES[version].get(kind, _EMAIL_TYPES[version]["other"])
        if v4:
            params = f";TYPE={types}" if types else ""
            params += ";PREF=1" if item.get("primary") else ""
        else:
            params = f";TYPE={types}" + (",PREF" if item.get("primary") else "")
        lines.append(f"EMAIL{params}:{_text(item['email'])}")
    for item in _items(record, "phones", "phone"):
        kind = str(item.get("kind") or "other")
        params = f";TYPE={_PHONE_TYPES[version].get(kind, _PHONE_TYPES[version]['other'])}"
        if item.get("primary"):
            params += ";PREF=1" if v4 else ",PREF"
        lines.append(f"TEL{params}:{_text(item['phone'])}")
    address = [record.get(k) or "" for k in ("street", "city")]
    address += [_region(fields), record.get("zip") or "", record.get("country") or ""]
    if any(str(part).strip() for part in address):
        street, city, region, zip_code, country = (_text(str(p).strip()) for p in address)
        adr_type = "work" if v4 else "WORK"
        lines.append(f"ADR;TYPE={adr_type}:;;{street};{city};{region};{zip_code};{country}")
    birthday = _birthday(record.get("birthday"), version) if record.get("birthday") else None
    if birthday:
        lines.append(f"BDAY:{birthday}")
    if record.get("notes"):
        lines.append(f"NOTE:{_text(record['notes'])}")
    tags = [str(t) for t in record.get("tags") or [] if str(t).strip()]
    if tags:
        lines.append("CATEGORIES:" + ",".join(_text(t) for t in tags))
    urls = [fields.get("url")] + [fields.get(f"url{i}") for i in range(2, 10)]
    lines.extend(f"URL:{_text(url)}" for url in urls if url)
    rev = _rev(record.get("updated_at"))
    if rev:
        lines.append(f"REV:{rev}")
    lines.append("END:VCARD")
    return lines


def write_cards(
    records: Iterable[dict], out: TextIO, *, version: str = "3.0", uid_domain: str = "crmcli"
) -> int:
    """Write CONTACT RECORDs to `out` as vCard 3.0 or 4.0, one card each, as they come;
    returns how many cards were written. UIDs are crmcli-contact-<id>@<uid_domain>."""
    version = {"3": "3.0", "4": "4.0"}.get(str(version), str(version))
    if version not in VERSIONS:
        raise Invalid("version", f"vCard {version} cannot be written; choose 3.0 or 4.0")
    count = 0
    for record in records:
        out.write("".join(fold(line) + "\r\n" for line in _card(record, version, uid_domain)))
        count += 1
    return count
