"""Importing contacts in bulk: validated like `add`, matched against what is stored so that
importing a file again changes nothing, in one transaction (activities, deals and tasks:
import_rows.py).

Rows come as (where, CONTACT RECORD) from any reader (CSV, vCard, JSON). They are handled in
batches of BATCH: each batch is validated, looked up with one query per key (email, phone,
name), merged into the stored contacts (or into an earlier row of the same file) and written
with multi-row INSERTs and executemany UPDATEs, before the next batch is read. Memory stays
flat in the size of the file.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

from peewee import fn

from crmcli.db import fresh_statistics
from crmcli.errors import CrmError, Invalid
from crmcli.models import (
    EMAIL_KINDS,
    Company,
    Contact,
    ContactEmail,
    ContactField,
    ContactPhone,
    ContactTag,
    database_proxy,
    utcnow,
)
from crmcli.services import (
    cadence,
    companies,
    contacts,
    import_indexes,
    limits,
    refs,
    search,
    tags,
)
from crmcli.values import (
    NO_YEAR,
    fold,
    fold_variants,
    parse_birthday,
    parse_cadence,
    parse_email,
    parse_phone,
    parse_when,
    sound_key,
)

BATCH = 1000
MATCH_KEYS = ("email", "phone", "name")
ON_CONFLICT = ("update", "skip", "new")
# How many rejected rows an error without a rejects file lists.
SHOWN_REJECTS = 5
# How many an import that streams its rejects to a file keeps for its summary: a file of
# 300,000 bad rows held every one in memory (537 MB).
KEPT_REJECTS = 20
# How many contacts a phone or a name may point to and still be a key (see _Importer._lookup).
OWNERS = 8
# How many possible duplicates an import names in its warnings (all are counted).
SHOWN_DOUBTS = 20

# The contact columns an import writes (besides the primary email/phone copies).
_TEXT = ("position", "street", "zip", "city", "country", "source", "owner", "notes")
_COLUMNS = (
    "name", "name_key", "name_sound", "company", "position", "street", "zip", "city",
    "city_fold", "country", "birthday", "birthday_md", "status", "source", "owner", "notes",
    "consent", "consent_at", "cadence_days", "email", "email_key", "phone", "phone_e164",
    "campaign", "keyword",
)  # fmt: skip
_DEFAULTS = {"status": "lead", "consent": False}
# The contact columns the import looks rows up by: their indexes stay while it writes.
_LOOKUPS = frozenset(("id", "name_key", "email_key", "phone_e164"))


@dataclass
class ImportResult:
    """What an import did (or, dry, would do): counts of rows, the rejected ones with their
    reasons, warnings, and the ids of the contacts created or changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    merged: int = 0  # rows folded into an earlier row of the same file
    # rows imported as new contacts although a phone or name pointed to another one
    possible_duplicates: int = 0
    rejected: list[tuple[str, dict, str]] = field(default_factory=list)
    rejected_count: int = 0
    warnings: list[str] = field(default_factory=list)
    ids: array = field(default_factory=lambda: array("q"))
    dry_run: bool = False
    rows: int = 0
    contacts_new: int = 0  # orders: the contacts their import created
    # utm_campaign and utm_term: the campaigns (name, channel) and the keywords of campaigns
    # that were there before (campaign, keyword) the import created
    campaigns_new: list[tuple[str, str]] = field(default_factory=list)
    keywords_new: list[tuple[str, str]] = field(default_factory=list)

    def reject(
        self,
        where: str,
        record: dict,
        reason: str,
        *,
        keep_going: bool,
        on_reject: Callable[[str, dict, str], None] | None,
    ) -> None:
        """Count a rejected row: streamed to `on_reject` (its file) when given, only the first
        few kept here; else kept, all of them with `keep_going`, the first few to name."""
        self.rejected_count += 1
        if on_reject is not None:
            on_reject(where, record, reason)
            if len(self.rejected) < KEPT_REJECTS:
                self.rejected.append((where, record, reason))
        elif keep_going or len(self.rejected) < SHOWN_REJECTS:
            self.rejected.append((where, record, reason))

    def summary(self) -> dict:
        return {
            "rows": self.rows, "new": self.new, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "merged": self.merged,
            "rejected": self.rejected_count, "possible_duplicates": self.possible_duplicates,
            "dry_run": self.dry_run,
            "rejects": [{"where": w, "reason": r} for w, _, r in self.rejected],
            "warnings": list(self.warnings),
            **({"contacts_new": self.contacts_new} if self.contacts_new else {}),
            **({"campaigns_new": [{"name": n, "channel": c} for n, c in self.campaigns_new]}
               if self.campaigns_new else {}),
            **({"keywords_new": [{"campaign": c, "keyword": k} for c, k in self.keywords_new]}
               if self.keywords_new else {}),
        }  # fmt: skip


class _Rollback(Exception):
    """Leaves the import's transaction without writing (dry run, or rejects without keep_going)."""


@dataclass
class _Row:
    """One row, validated: column values, emails, phones, company, tags and fields."""

    where: str
    record: dict
    cols: dict
    given_consent_at: bool
    emails: list[tuple[str, str, str, bool]]  # email, key, kind, primary
    phones: list[tuple[str, str, str, bool]]  # as typed, e164, kind, primary
    company: str | None
    tags: list[str]
    fields: dict[str, str]
    name_given: bool = True  # False: the name is the email, for a new contact only
    # utm_campaign and utm_term as given; the batch puts their ids into cols (or an error)
    attribution: tuple[str | None, str | None] = (None, None)
    attribution_error: str | None = None
    medium: str | None = None  # utm_medium: the channel of a campaign the import creates


class _State:
    """A contact as the import leaves it: a stored one (with what was stored, to compare) or
    one this import creates (id None until written)."""

    __slots__ = ("id", "cols", "emails", "phones", "tags", "fields", "orig", "new_here", "line")

    def __init__(self, contact_id: int | None, cols: dict, line: str = ""):
        self.id = contact_id
        self.cols = cols
        self.emails: dict[str, list] = {}  # key -> [email, kind, primary, stored]
        self.phones: dict[str, list] = {}  # e164 -> [phone, kind, primary, stored]
        self.tags: dict[int, bool] = {}  # tag id -> stored
        self.fields: dict[str, tuple[str, str | None]] = {}  # key -> (value, stored value)
        self.orig = dict(cols)
        self.new_here = contact_id is None
        self.line = line

    def label(self) -> str:
        if self.id is None:
            return f"the contact of {self.line} {self.cols.get('name') or ''}".rstrip()
        return f"contact #{self.id} {self.cols.get('name') or ''}".rstrip()


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@lru_cache(maxsize=65536)
def _word_codes(word: str) -> tuple[str, ...]:
    from cologne_phonetics import encode

    return tuple(code for _, code in encode(word) if code)


def _sound(name: str) -> str | None:
    """values.sound_key(name), a word at a time with the words' codes cached (Kölner
    Phonetik codes each word on its own): names repeat their words, an import its names."""
    words = _fold(name).replace("&", " ").replace(".", " ").split()
    codes = sorted(code for word in words for code in _word_codes(word))
    return " ".join(codes) or None


# Folds of repeated values (companies, tags, cities) are remembered.
_fold = lru_cache(maxsize=65536)(fold)
_fold_variants = lru_cache(maxsize=16384)(fold_variants)

# email_validator checks a domain the same way every time: a plain local part (dot-atom of
# ASCII and the precomposed Latin letters U+00C0-U+024F: letters and symbols it accepts, all
# NFC already, so kept as typed) with a domain it accepted is valid without asking again.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\u00c0-\u024f"
_PLAIN_EMAIL = re.compile(f"([{_ATEXT}]+(?:\\.[{_ATEXT}]+)*)@(.+)")


@lru_cache(maxsize=16384)
def _domain(domain: str) -> tuple[str, str] | None:
    """The domain as email_validator normalizes it and its IDNA ASCII form; None if refused."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.domain, valid.ascii_domain


@lru_cache(maxsize=1)
def _role_names() -> frozenset[str]:
    """Mailbox names email_validator lowercases (Info@, Postmaster@): not for the fast path."""
    from email_validator.validate_email import CASE_INSENSITIVE_MAILBOX_NAMES

    return frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


_FULL_DATE = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4})|(\d{4})-(\d\d)-(\d\d)|(\d{1,2})/(\d{1,2})/(\d{4})"
)


def _birthday(text: str, now: datetime) -> date:
    """parse_birthday(text), fast for 24.12.1968 and 1968-12-24; 12/24/1968 is month/day/year
    as English Outlook and Google write it (German dates have dots)."""
    m = _FULL_DATE.fullmatch(text)
    if m:
        if m[1]:
            day, month, year = m[1], m[2], m[3]
        elif m[4]:
            day, month, year = m[6], m[5], m[4]
        else:  # month/day, or day/month where the first number cannot be a month
            first, second = int(m[7]), int(m[8])
            day, month, year = (m[7], m[8], m[9]) if first > 12 >= second else (m[8], m[7], m[9])
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            pass  # parse_birthday says what is wrong
    return parse_birthday(text, now)


def _email(text: str) -> str:
    """parse_email(text), fast for plain addresses at a domain seen before: an ASCII dot-atom
    local part is kept as typed by email_validator, but for role names it lowercases
    (Info@, Postmaster@), and the address in each of its forms (as given, normalized, IDNA
    ASCII) must fit 254 octets, as it checks."""
    m = _PLAIN_EMAIL.fullmatch(text)
    if m and len(m[1]) <= 64 and m[1].lower() not in _role_names():
        found = _domain(m[2])
        if found is not None:
            email = f"{m[1]}@{found[0]}"
            local = len(m[1].encode())
            longest = max(len(text.encode()), len(email.encode()), local + 1 + len(found[1]))
            if longest <= 254:
                return email
    return parse_email(text)


# A German number as most people type it: 030 1234567, 0171-2345678, 030/123456,
# +49 30 1234567 (digits, single spaces, dashes or slashes; no extension, no "(0)").
_GERMAN_PHONE = re.compile(r"(?:0|\+49 ?)([1-9](?:[ /-]?[0-9])*)")


def _phone(text: str) -> str:
    """parse_phone(text), fast for a German number as most people type it: the steps of
    phonenumbers.parse for such input, on its own metadata (the trunk 0 is dropped unless
    that leaves a number its pattern refuses where it took the whole; the length must be
    possible), any other case or doubt to parse_phone itself. Equal results on millions of
    numbers in tests/services/test_imports.py's sample and the demo's formats."""
    m = _GERMAN_PHONE.fullmatch(text) if len(text) <= 40 else None
    if m:
        national = m[1].replace(" ", "").replace("-", "").replace("/", "")
        if 5 <= len(national) <= 17 and _possible_german(national, text[0] == "0"):
            return "+49" + national
    return _parse_phone(text)


@lru_cache(maxsize=4096)
def _parse_phone(text: str) -> str:
    return parse_phone(text)


@lru_cache(maxsize=1)
def _german_metadata() -> tuple | None:
    """phonenumbers' DE metadata and the two helpers parse uses on it; None if it ever stops
    being what the fast path assumes (a trunk 0 and nothing else), which turns the path off."""
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import (
        ValidationResult,
        _match_national_number,
        _test_number_length,
    )

    meta = PhoneMetadata.metadata_for_region("DE")
    if meta is None or meta.national_prefix_for_parsing != "0" or meta.country_code != 49:
        return None
    if meta.national_prefix_transform_rule:
        return None
    return meta, _match_national_number, _test_number_length, ValidationResult.IS_POSSIBLE


def _possible_german(national: str, trunk: bool) -> bool:
    found = _german_metadata()
    if found is None:
        return False
    meta, _match_national_number, _test_number_length, possible = found
    general = meta.general_desc
    keeps_trunk = (
        trunk
        and not _match_national_number(national, general, False)  # most numbers match: first
        and _match_national_number("0" + national, general, False)
    )
    if keeps_trunk:
        return False  # parse keeps the 0: the slow path says what happens
    # _test_number_length (of any type) reads nothing of the number but its length.
    size = len(national)
    fits = _FITS.get(size)
    if fits is None:
        fits = _FITS[size] = _test_number_length(national, meta) == possible
    return fits


_FITS: dict[int, bool] = {}  # national number length -> a possible German number


def _listed(rec: dict, key: str, item_key: str) -> list | None:
    """A record's list of emails or phones as JSON may give it: a list of objects or of
    plain strings, or one string; None when it is already objects (the importers' shape)."""
    value = rec.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        for v in value:  # a loop, not all() of a generator: twice for every row
            if not isinstance(v, dict):
                break
        else:
            return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, dict)) for v in value):
        raise Invalid(key, f'must be a list of {item_key}s or of {{"{item_key}": ...}} objects')
    return [{item_key: v} if isinstance(v, str) else v for v in value]


def _shaped(rec: dict) -> dict:
    """A record from a hostile file (crm import json) in the shape the importers make:
    emails and phones as lists of objects, tags a list of names, fields an object."""
    changes: dict = {}
    for key, item_key in (("emails", "email"), ("phones", "phone")):
        listed = _listed(rec, key, item_key)
        if listed is not None:
            changes[key] = listed
    tag_list = rec.get("tags")
    if isinstance(tag_list, str):
        changes["tags"] = [tag_list]
    elif tag_list is not None and (
        not isinstance(tag_list, list)
        or (tag_list and not all(isinstance(t, (str, int)) for t in tag_list))
    ):
        raise Invalid("tags", "must be a list of tag names")
    fields = rec.get("fields")
    if fields is not None and not isinstance(fields, dict):
        raise Invalid("fields", "must be an object of custom fields (key: value)")
    if fields and not all(isinstance(v, (str, int, float, type(None))) for v in fields.values()):
        raise Invalid("fields", "custom field values must be text or numbers")
    return {**rec, **changes} if changes else rec


def _clean_row(where: str, rec: dict, now: datetime, extra_tags: Sequence[str]) -> _Row:
    """Validate a CONTACT RECORD as `crm add contact` validates its options; Invalid on the
    first bad value."""
    rec = _shaped(rec)
    values: dict = {}
    for key in _TEXT:
        value = rec.get(key)
        if value is None:
            continue
        text = value.strip() if type(value) is str else _text(value)  # _text without a call
        if text:
            values[key] = text
    status = _text(rec.get("status"))
    if status is not None:
        values["status"] = contacts.check_status(status)
    birthday = rec.get("birthday")
    if isinstance(birthday, str) and birthday.strip():
        birthday = _birthday(birthday.strip(), now)
    if isinstance(birthday, date):
        values["birthday"] = birthday
    consent = rec.get("consent")
    if isinstance(consent, str):
        from crmcli.services.csvread import yes_no

        consent = yes_no(consent) if consent.strip() else None
    consent_at = rec.get("consent_at")
    if isinstance(consent_at, str):
        consent_at = (
            parse_when(consent_at, now, field="consent-date", prefer="past")
            if consent_at.strip()
            else None
        )
    if consent is not None:
        values["consent"] = bool(consent)
        if consent and consent_at is not None:
            values["consent_at"] = consent_at
    elif consent_at is not None:
        raise Invalid("consent-date", "a date of consent needs the consent itself")
    cadence_days = rec.get("cadence_days")
    if isinstance(cadence_days, str) and cadence_days.strip():
        text = cadence_days.strip()
        cadence_days = int(text) if text.isdigit() else parse_cadence(text)
    if isinstance(cadence_days, int) and not isinstance(cadence_days, bool):
        values["cadence_days"] = cadence_days

    emails: dict[str, tuple[str, str, str, bool]] = {}
    given = list(rec.get("emails") or [])
    if _text(rec.get("email")):
        given.insert(0, {"email": rec["email"], "primary": True})
    for item in given:
        text = limits.check("email", _text(item.get("email")))
        if not text:
            continue
        email = _email(text)
        kind = item.get("kind") if item.get("kind") in EMAIL_KINDS else "other"
        emails.setdefault(email.lower(), (email, email.lower(), kind, bool(item.get("primary"))))
    phones: dict[str, tuple[str, str, str, bool]] = {}
    given = list(rec.get("phones") or [])
    if _text(rec.get("phone")):
        given.insert(0, {"phone": rec["phone"], "primary": True})
    for item in given:
        text = limits.check("phone", _text(item.get("phone")))
        if not text:
            continue
        e164 = _phone(text)
        kind = item.get("kind") if item.get("kind") in EMAIL_KINDS else "other"
        phones.setdefault(e164, (text, e164, kind, bool(item.get("primary"))))

    name = _text(rec.get("name"))
    name_given = name is not None
    if name is None and emails:
        name = next(iter(emails.values()))[0]  # a shop's customer with nothing but an email
    if name is None and phones:  # a phone address book's entry: the number as typed
        name = next((p for p in phones.values() if p[3]), next(iter(phones.values())))[0]
    if name is None:
        raise Invalid("name", "a contact needs a name (or at least an email or a phone)")
    cols = contacts.clean_fields(values, now)
    if cols.get("consent") and "consent_at" not in values:
        cols.pop("consent_at", None)  # "now" only for a contact that had not consented
    # The name's columns as clean_fields would make them (after the other columns, as it
    # checks them), without its uncached fold and sound (sound_key codes the whole name
    # every time: a tenth of a 100,000-row import when clean_fields made them to be thrown
    # away); the sound from the cached word codes.
    name = limits.check("name", " ".join(name.split()))
    if not name:
        raise Invalid("name", "a contact needs a name")
    cols.update(name=name, name_key=_fold_variants(name), name_sound=_sound(name))

    tag_names = [tags.clean_tag(t) for t in (rec.get("tags") or []) if _text(t)]
    tag_names += list(extra_tags)
    fields = {
        str(k).strip().lower(): str(v).strip()
        for k, v in (rec.get("fields") or {}).items()
        if v is not None and str(v).strip()
    }
    contacts.check_fields(list(fields.items()))
    company = _text(rec.get("company"))
    limits.check("company", company)
    campaign = limits.check("campaign", _text(rec.get("campaign")))
    keyword = limits.check("keyword", _text(rec.get("keyword")))
    return _Row(
        where, rec, cols, "consent_at" in values, list(emails.values()), list(phones.values()),
        company, tag_names, fields, name_given, (campaign, keyword),
        medium=_text(rec.get("medium")),
    )  # fmt: skip


def _clean_batch(items: list[tuple[str, dict]], now: datetime, extra_tags: Sequence[str]) -> list:
    """Each row validated (a _Row without its record, which the caller has) or the reason it
    is refused. Pure: no database.

    (It once ran in a forked worker process a few batches ahead. Since validation got its
    fast paths, pickling rows to the worker and back cost the main process as much as the
    validation it took away: 14.5 s CPU there plus 3.9 s in the worker for 100,000 rows,
    against 14.0 s in one process; and forking with an open database connection, a worker
    that dies and Ctrl-C were risks of their own.)"""
    out: list = []
    for where, rec in items:
        if rec.get("_error"):
            out.append(str(rec["_error"]))
            continue
        try:
            row = _clean_row(where, rec, now, extra_tags)
        except CrmError as exc:
            out.append(str(exc))
            continue
        row.record = {}
        out.append(row)
    return out


def _chunks(items: Sequence, size: int = 500) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Importer:
    def __init__(
        self, match, on_conflict, tags_, now, result: ImportResult, keep_going: bool,
        on_reject: Callable[[str, dict, str], None] | None = None,
    ):  # fmt: skip
        unknown = [m for m in match if m not in MATCH_KEYS]
        if unknown:
            raise Invalid(
                "match", f"cannot match on {', '.join(unknown)} (choose email, phone, name)"
            )
        if on_conflict not in ON_CONFLICT:
            raise Invalid("on-conflict", f"'{on_conflict}' is not update, skip or new")
        self.match = tuple(match)
        self.on_conflict = on_conflict
        self.extra_tags = [tags.clean_tag(t) for t in tags_]
        self.now = now
        self.result = result
        self.keep_going = keep_going
        self.on_reject = on_reject
        self.companies: dict[str, int | CrmError] = {}
        self.campaigns: dict[tuple[str, str], tuple | str] = {}  # see _resolve_campaigns
        self.created: set[str] = set()  # the campaigns (folded) this import created
        self.tag_ids: dict[str, int] = {}
        self.cadence_tags: set[int] = set()  # tags that carry a cadence
        self.start_max = Contact.select(fn.MAX(Contact.id)).scalar() or 0

    # ------------------------------------------------------------ rejects

    def reject(self, where: str, record: dict, reason: str) -> None:
        self.result.reject(
            where, record, reason, keep_going=self.keep_going, on_reject=self.on_reject
        )

    # ------------------------------------------------------------ one batch

    def batch(self, items: list[tuple[str, dict]], cleaned: list | None = None) -> None:
        """One batch: validated here, or already (`cleaned`: _clean_batch's result)."""
        if cleaned is None:
            cleaned = _clean_batch(items, self.now, self.extra_tags)
        rows: list[_Row] = []
        for (where, rec), done in zip(items, cleaned, strict=True):
            if isinstance(done, str):
                self.reject(where, rec, done)
            else:
                done.record = rec
                rows.append(done)
        if not rows:
            return
        self._resolve_companies(rows)
        self._resolve_campaigns(rows)
        self._resolve_tags(rows)
        states = self._lookup(rows)
        touched: dict[int, _State] = {}
        pending: list[_State] = []
        for row in rows:
            self._apply_row(row, states, touched, pending)
        self._write(pending, list(touched.values()))

    def _resolve_campaigns(self, rows: list[_Row]) -> None:
        """utm_campaign and utm_term of each row as ids, each pair looked up once per import;
        a campaign name that matches none exactly becomes a campaign, in this transaction."""
        from crmcli.services import campaigns

        for row in rows:
            campaign, keyword = row.attribution
            if campaign is None and keyword is None:
                continue
            key = (_fold(campaign or ""), _fold(keyword or ""))
            if key not in self.campaigns:
                try:
                    created = campaign is not None and campaigns.find_campaign(campaign) is None
                    channel = campaigns.medium_channel(row.medium) if created else None
                    earlier = campaign is not None and _fold(campaign) in self.created
                    news = None if created or earlier else campaigns.new_keyword(campaign, keyword)
                    self.campaigns[key] = campaigns.attribution(
                        campaign, keyword, create=True, channel=channel, now=self.now
                    )
                    if created:
                        self.created.add(_fold(campaign or ""))
                        self.result.campaigns_new.append((campaign or "", channel or "other"))
                    if news:
                        self.result.keywords_new.append(news)
                except CrmError as exc:
                    self.campaigns[key] = str(exc)
            found = self.campaigns[key]
            if isinstance(found, str):
                row.attribution_error = found
            else:
                row.cols["campaign"], row.cols["keyword"] = found

    def _resolve_companies(self, rows: list[_Row]) -> None:
        """Each company name once per import, in bulk: the stored company of the same name
        as crm compares names (refs.same_name: case, accents, Müller = Mueller), else a new
        one, created once (two spellings of one name in a file are one company). A name that
        two stored companies have is refused. One query per batch, one insert for the new."""
        from crmcli.errors import Ambiguous, Candidate

        todo: dict[str, str] = {}
        for row in rows:
            if row.company and _fold(row.company) not in self.companies:
                todo.setdefault(_fold(row.company), row.company)
        if not todo:
            return
        forms: dict[str, list[str]] = {}
        found: dict[str, dict[int, str]] = {key: {} for key in todo}
        for key, name in todo.items():
            spellings = refs.plain_forms(name)
            if spellings is None:  # too many to list: the one query of companies.same_name
                found[key].update(companies.same_name(name))
            for form in spellings or ():
                forms.setdefault(form, []).append(key)
        for part in _chunks(sorted(forms)):
            for cfold, cid, cname in _select_in("company", "name_fold", "id", part, "name"):
                for key in forms[cfold]:
                    if refs.same_name(cname, todo[key]):
                        found[key][cid] = cname
        new: list[tuple[str, dict]] = []
        plain_new: dict[str, int] = {}  # a new name's forms -> its index in `new`
        german_new: dict[str, int] = {}
        later: list[tuple[str, int]] = []  # other spellings of a new name: (key, its index)
        for key, name in todo.items():
            stored = found[key]
            if len(stored) == 1:
                self.companies[key] = next(iter(stored))
                continue
            if stored:
                candidates = [Candidate(i, n) for i, n in sorted(stored.items())]
                self.companies[key] = Ambiguous("company", name, candidates, len(candidates))
                continue
            plain, german = refs.name_forms(name)
            earlier = plain_new.get(plain, german_new.get(german))
            if earlier is not None:
                later.append((key, earlier))
                continue
            try:
                values = companies.clean_fields({"name": name})
            except CrmError as exc:
                self.companies[key] = exc
                continue
            values["name_sound"] = sound_key(values["name"], company=True)
            plain_new[plain], german_new[german] = len(new), len(new)
            new.append((key, values))
        if not new:
            return
        fields = ["name", "name_fold", "name_key", "name_sound", "created_at", "updated_at"]
        stamp = Company.created_at.db_value(self.now)
        data = [tuple(v[f] for f in fields[:4]) + (stamp, stamp) for _, v in new]
        ids = _insert_returning(Company, [Company._meta.fields[f] for f in fields], data)
        for (key, _), cid in zip(new, ids, strict=True):
            self.companies[key] = cid
        for key, index in later:
            self.companies[key] = ids[index]
        search.put(search.company_entries(ids), new=True)

    def _resolve_tags(self, rows: list[_Row]) -> None:
        missing = {_fold(t): t for row in rows for t in row.tags if _fold(t) not in self.tag_ids}
        if missing:
            ids = tags.ensure_tags(list(missing.values()))
            self.tag_ids.update(zip(missing, ids, strict=True))
            from crmcli.models import Tag

            self.cadence_tags |= {
                i for (i,) in Tag.select(Tag.id)
                .where(Tag.id.in_(ids) & Tag.cadence_days.is_null(False)).tuples()
            }  # fmt: skip

    # ------------------------------------------------------------ matching

    def _lookup(self, rows: list[_Row]) -> dict:
        """One query per key for the whole batch; the stored contacts found are loaded. A
        phone or name is a key for up to OWNERS contacts (a household's phone, two people of
        one name: the row picks the one that does not contradict it); one that more share
        (an office's switchboard) is none: OWNERS + 1 of each are read at most."""
        email_keys = sorted({e[1] for r in rows for e in r.emails})
        by_email: dict[str, int] = {}
        for part in _chunks(email_keys):
            by_email.update(_select_in("contact_email", "email_key", "contact_id", part))
            for key, cid in _select_in("contact", "email_key", "id", part):
                by_email.setdefault(key, cid)
        by_phone: dict[str, set[int]] = {}
        if "phone" in self.match:
            e164s = sorted({p[1] for r in rows for p in r.phones})
            for part in _chunks(e164s):
                for table, owner in (("contact_phone", "contact_id"), ("contact", "id")):
                    for e164, cid in _first_few(table, "phone_e164", owner, part):
                        by_phone.setdefault(e164, set()).add(cid)
        by_name: dict[str, set[int]] = {}
        if "name" in self.match:
            # Only rows that no email matched look for their name (a phone may be shared).
            names = sorted({
                r.cols["name_key"] for r in rows if not any(e[1] in by_email for e in r.emails)
            })  # fmt: skip
            for part in _chunks(names):
                for key, cid in _first_few("contact", "name_key", "id", part):
                    by_name.setdefault(key, set()).add(cid)
        wanted = set(by_email.values())
        for owners in (*by_phone.values(), *by_name.values()):
            if len(owners) <= OWNERS:
                wanted |= owners
        loaded = self._load(sorted(wanted))
        emails = {k: loaded[c] for k, c in by_email.items()}
        phones = {
            k: [loaded[c] for c in sorted(s)] if len(s) <= OWNERS else None
            for k, s in by_phone.items()
        }
        named = {
            k: [loaded[c] for c in sorted(s)] if len(s) <= OWNERS else None
            for k, s in by_name.items()
        }
        return {"email": emails, "phone": phones, "name": named}

    def _load(self, ids: list[int]) -> dict[int, _State]:
        """The stored contacts with their emails, phones, tags and fields: five plain queries
        per 500 contacts."""
        out: dict[int, _State] = {}
        db = database_proxy.obj
        columns = ", ".join(f'"{Contact._meta.fields[c].column_name}"' for c in _COLUMNS)
        birthday, consent, consent_at = (
            _COLUMNS.index(c) for c in ("birthday", "consent", "consent_at")
        )
        to_date, to_time = Contact.birthday.python_value, Contact.consent_at.python_value
        for part in _chunks(ids):
            part = list(part)
            marks = ", ".join([_mark()] * len(part))
            sql = f"SELECT id, {columns} FROM contact WHERE id IN ({marks})"
            for values in db.execute_sql(sql, part).fetchall():
                row = list(values[1:])
                row[birthday] = to_date(row[birthday])
                row[consent] = bool(row[consent])
                row[consent_at] = to_time(row[consent_at])
                out[values[0]] = _State(values[0], dict(zip(_COLUMNS, row, strict=True)))
            sql = (
                "SELECT contact_id, email, email_key, kind, is_primary FROM contact_email "
                f"WHERE contact_id IN ({marks}) ORDER BY position, id"
            )
            for cid, email, key, kind, primary in db.execute_sql(sql, part).fetchall():
                out[cid].emails[key] = [email, kind, bool(primary), True]
            sql = (
                "SELECT contact_id, phone, phone_e164, kind, is_primary FROM contact_phone "
                f"WHERE contact_id IN ({marks}) ORDER BY position, id"
            )
            for cid, phone, e164, kind, primary in db.execute_sql(sql, part).fetchall():
                out[cid].phones[e164 or phone] = [phone, kind, bool(primary), True]
            sql = f"SELECT contact_id, tag_id FROM contact_tag WHERE contact_id IN ({marks})"
            for cid, tag in db.execute_sql(sql, part).fetchall():
                out[cid].tags[tag] = True
            sql = (
                f'SELECT contact_id, "key", value FROM contact_field WHERE contact_id IN ({marks})'
            )
            for cid, key, value in db.execute_sql(sql, part).fetchall():
                out[cid].fields[key] = (value, value)
        for state in out.values():  # a contact from before contact_email existed
            cols = state.cols
            if cols["email_key"] and cols["email_key"] not in state.emails:
                state.emails[cols["email_key"]] = [cols["email"], "other", True, False]
            if cols["phone"] and (cols["phone_e164"] or cols["phone"]) not in state.phones:
                state.phones[cols["phone_e164"] or cols["phone"]] = [
                    cols["phone"], "other", True, False
                ]  # fmt: skip
        return out

    def _targets(
        self, row: _Row, found: dict, company: int | None
    ) -> tuple[list[tuple[_State, str]], str | None, list[tuple[_State, str]]]:
        """The contacts a row matches, with how, or a reason to reject it; and the contacts a
        phone or name found but that the row is not (its doubts: possible duplicates).

        An email is a person's: a row is the contact with its email. A phone or a name only
        points to a contact that does not contradict the row (see _contradiction); of several
        that do not, the one that agrees with the row on most (see _agreement), or none when
        two agree as much. The name is tried only when no other key found the row's contact."""
        hits: list[tuple[_State, str]] = []
        doubts: list[tuple[_State, str]] = []
        for key in self.match:
            if key == "email":
                hits += [(found["email"][e[1]], f"email {e[0]}") for e in row.emails
                         if e[1] in found["email"]]  # fmt: skip
            elif key == "phone":
                for p in row.phones:
                    owners = found["phone"].get(p[1])
                    if not owners:
                        continue
                    how = f"phone {p[0]}"
                    if len(owners) == 1 and any(owners[0] is t for t, _ in hits):
                        hits.append((owners[0], how))  # its email's contact (most re-imports)
                        continue
                    chosen = self._choose(row, owners, "phone", company, doubts, how)
                    if chosen:
                        hits.append((chosen, how))
        if not hits and "name" in self.match:
            owners = found["name"].get(row.cols["name_key"])
            if owners:
                chosen = self._choose(row, owners, "name", company, doubts, "name")
                if chosen is not None:
                    hits.append((chosen, f"name {row.cols['name']}"))
        distinct = list({id(s): s for s, _ in hits}.values())
        if len(distinct) > 1:
            how = "; ".join(
                f"{s.label()} by {', '.join(h for t, h in hits if t is s)}" for s in distinct
            )
            return hits, f"matches {len(distinct)} different contacts: {how}", doubts
        return hits, None, doubts

    def _choose(
        self, row: _Row, owners: list[_State], key: str, company: int | None,
        doubts: list[tuple[_State, str]], how: str,
    ) -> _State | None:  # fmt: skip
        """Of the contacts that share the row's phone or name, the one the row is (see
        _targets); the others go to `doubts` with the reason."""
        fits: list[_State] = []
        for owner in owners:
            why = _contradiction(row, owner, key, company)
            if why is None:
                fits.append(owner)
            else:
                doubts.append((owner, f"same {how}, {why}"))
        if len(fits) > 1:
            scores = [_agreement(row, s, company) for s in fits]
            best = max(scores)
            if scores.count(best) == 1:
                fits = [fits[scores.index(best)]]
            else:
                doubts += [(s, f"same {how}, cannot tell which") for s in fits]
                return None
        return fits[0] if fits else None

    def _apply_row(self, row: _Row, found: dict, touched: dict, pending: list) -> None:
        result = self.result
        if row.attribution_error is not None:
            self.reject(row.where, row.record, row.attribution_error)
            return
        company = self.companies.get(_fold(row.company)) if row.company else None
        if isinstance(company, CrmError):
            self.reject(row.where, row.record, f"company: {company}")
            return
        hits, why, doubts = (
            self._targets(row, found, company) if self.on_conflict != "new" else ([], None, [])
        )
        if why:
            self.reject(row.where, row.record, why)
            return
        target = hits[0][0] if hits else None
        ours = target is not None and (target.new_here or (target.id or 0) > self.start_max)
        if target is not None and not ours and self.on_conflict == "skip":
            result.skipped += 1
            return
        # An email of the row that belongs to a contact other than the target: refused.
        for email, key, _, _ in row.emails:
            owner = found["email"].get(key)
            if owner is not None and owner is not target:
                self.reject(row.where, row.record, f"email {email} belongs to {owner.label()}")
                return
        if target is None:
            target = _State(None, {}, row.where)
            pending.append(target)
            result.new += 1
            changed = self._merge(target, row, company)
            if doubts:
                self._possible_duplicate(row, doubts)
        else:
            changed = self._merge(target, row, company)
            if ours:
                result.merged += 1
            elif changed:
                result.updated += 1
            else:
                result.unchanged += 1
            if target.id is not None:
                touched[target.id] = target
        # What this row brought can be matched by the rows after it.
        for _, key, _, _ in row.emails:
            found["email"][key] = target
        for _, e164, _, _ in row.phones:
            _own(found["phone"], e164, target)
        _own(found["name"], target.cols["name_key"], target)

    def _possible_duplicate(self, row: _Row, doubts: list[tuple[_State, str]]) -> None:
        """A row imported as a new contact although a phone or name pointed elsewhere: said
        (the first few) and counted, for crm dedupe to settle."""
        result = self.result
        result.possible_duplicates += 1
        if result.possible_duplicates <= SHOWN_DOUBTS:
            seen: dict[int, str] = {}
            for state, why in doubts:
                seen.setdefault(id(state), f"{state.label()} ({why})")
            result.warnings.append(
                f"{row.where}: new contact {row.cols['name']}, a possible duplicate of "
                f"{'; '.join(seen.values())}"
            )

    def _merge(self, state: _State, row: _Row, company: int | None) -> bool:
        """Fill or overwrite the row's given values into the state; add its emails, phones,
        tags and fields. Whether anything changed."""
        changed = False
        cols = state.cols
        values = dict(row.cols)
        if company is not None:
            values["company"] = company
        if values.get("consent") and not row.given_consent_at:
            if cols.get("consent"):
                values.pop("consent")  # consented already: its date stays
            else:
                values["consent_at"] = self.now
        elif row.given_consent_at and _same_moment(cols.get("consent_at"), values["consent_at"]):
            values.pop("consent_at")  # the file gives it to the second (an export): unchanged
        if not row.name_given and cols.get("name"):
            for key in ("name", "name_key", "name_sound"):
                values.pop(key)  # a row without a name keeps the stored one
        elif cols.get("name") == values["name"]:
            values.pop("name_sound")  # kept as stored: no change on its own
        stored, given = cols.get("birthday"), values.get("birthday")
        if (
            given is not None and stored is not None and given.year == NO_YEAR
            and stored.year != NO_YEAR and (given.month, given.day) == (stored.month, stored.day)
        ):  # fmt: skip
            # A phone that hides the year (Apple's X-APPLE-OMIT-YEAR) says nothing new.
            values.pop("birthday")
            values.pop("birthday_md", None)
        for key, value in values.items():
            if cols.get(key) != value:
                cols[key] = value
                changed = True
        for email, key, kind, _primary in row.emails:
            if key not in state.emails:
                state.emails[key] = [email, kind, False, False]
                changed = True
        for phone, e164, kind, _primary in row.phones:
            if e164 not in state.phones:
                state.phones[e164] = [phone, kind, False, False]
                changed = True
        changed |= self._primary(state, row)
        for name in row.tags:
            tag_id = self.tag_ids[_fold(name)]
            if tag_id not in state.tags:
                state.tags[tag_id] = False
                changed = True
        for key, value in row.fields.items():
            old = state.fields.get(key)
            if old is None or old[0] != value:
                state.fields[key] = (value, old[1] if old else None)
                changed = True
        return changed

    @staticmethod
    def _primary(state: _State, row: _Row) -> bool:
        """Exactly one primary email and phone, copied onto the contact's columns. A stored
        primary stays; a contact without one takes the row's first (or flagged) one."""
        changed = False
        for items, given, col, key_col in (
            (state.emails, row.emails, "email", "email_key"),
            (state.phones, row.phones, "phone", "phone_e164"),
        ):
            if not items:
                continue
            if not any(v[2] for v in items.values()):
                flagged = [g[1] for g in given if g[3] and g[1] in items]
                first = flagged[0] if flagged else next(iter(items))
                items[first][2] = True
            key, value = next((k, v) for k, v in items.items() if v[2])
            stored = (value[0], key)
            if (state.cols.get(col), state.cols.get(key_col)) != stored:
                state.cols[col], state.cols[key_col] = stored
                changed = True
        return changed

    # ------------------------------------------------------------ writing

    def _write(self, pending: list[_State], touched: list[_State]) -> None:
        now = self.now
        db = database_proxy.obj
        if pending:
            ids = _insert_ids(pending, now)
            for s, cid in zip(pending, ids, strict=True):
                s.id = cid
        changed: list[_State] = []
        updates: dict[tuple[str, ...], list[tuple]] = {}
        for s in touched:
            diff = (
                tuple(sorted(c for c in _COLUMNS if s.cols.get(c) != s.orig.get(c)))
                if s.cols != s.orig  # equal dicts (most re-imported rows): no column to compare
                else ()
            )
            extra = _news(s)
            if not diff and not extra:
                continue
            changed.append(s)
            if diff:
                values = [Contact._meta.fields[c].db_value(s.cols[c]) for c in diff]
                updates.setdefault(diff, []).append(
                    (*values, Contact.updated_at.db_value(now), s.id)
                )
            else:
                updates.setdefault((), []).append((Contact.updated_at.db_value(now), s.id))
        mark = _mark()
        for diff, params in updates.items():
            columns = [f'"{Contact._meta.fields[c].column_name}"' for c in diff] + ["updated_at"]
            sets = ", ".join(f"{c} = {mark}" for c in columns)
            _executemany(db, f"UPDATE contact SET {sets} WHERE id = {mark}", params)
        everyone = pending + changed
        emails, phones, links, custom, dropped = [], [], [], [], []
        for s in everyone:
            for position, (key, (email, kind, primary, stored)) in enumerate(s.emails.items()):
                if not stored:
                    emails.append((s.id, email, key, kind, primary, position))
            for position, (e164, (phone, kind, primary, stored)) in enumerate(s.phones.items()):
                if not stored:
                    phones.append((s.id, phone, e164, kind, primary, position))
            links += [(s.id, t) for t, stored in s.tags.items() if not stored]
            for key, (value, stored) in s.fields.items():
                if value != stored:
                    if stored is not None:
                        dropped.append((s.id, key))
                    custom.append((s.id, key, value))
        _insert(ContactEmail, emails, [
            ContactEmail.contact, ContactEmail.email, ContactEmail.email_key, ContactEmail.kind,
            ContactEmail.is_primary, ContactEmail.position,
        ])  # fmt: skip
        _insert(ContactPhone, phones, [
            ContactPhone.contact, ContactPhone.phone, ContactPhone.phone_e164, ContactPhone.kind,
            ContactPhone.is_primary, ContactPhone.position,
        ])  # fmt: skip
        _insert(ContactTag, links, [ContactTag.contact, ContactTag.tag])
        if dropped:
            _executemany(
                db,
                f'DELETE FROM contact_field WHERE contact_id = {mark} AND "key" = {mark}',
                dropped,
            )
        _insert(ContactField, custom, [ContactField.contact, ContactField.key, ContactField.value])
        new_ids = [s.id for s in pending if s.id is not None]
        changed_ids = [s.id for s in changed if s.id is not None]
        if new_ids:
            search.put(_new_entries(pending), new=True)
        if changed_ids:
            search.reindex_contacts(changed_ids)
        refresh = [
            s.id for s in everyone
            if any(not stored and t in self.cadence_tags for t, stored in s.tags.items())
            or s.cols.get("cadence_days") != s.orig.get("cadence_days")
            or s.cols.get("status") != s.orig.get("status")
        ]  # fmt: skip
        if refresh:
            cadence.refresh(refresh)  # type: ignore[arg-type]
        consented = [
            s.id for s in everyone
            if s.cols.get("consent") and (s.new_here or not s.orig.get("consent"))
            or not s.cols.get("consent") and s.orig.get("consent") and not s.new_here
        ]  # fmt: skip
        if consented:
            from crmcli.services import consent

            consent.record_flags(consented, "import", now=now)  # type: ignore[arg-type]
        self.result.ids.extend(new_ids + changed_ids)
        # The states end with their batch: the next one loads what was written (marking
        # them as stored here copied every contact's columns for nothing).


def _own(keys: dict, key: str, state: _State) -> None:
    """`state` has the phone or name `key` now: one more contact it points to (None: too
    many to be a key)."""
    owners = keys.get(key, [])
    if owners is None or any(o is state for o in owners):
        return
    keys[key] = [*owners, state] if len(owners) < OWNERS else None


def _placeholder(state: _State) -> bool:
    """Whether a contact's name is only its email or phone (a row without a name made it)."""
    name = state.cols.get("name")
    return not name or any(v[0] == name for v in (*state.emails.values(), *state.phones.values()))


def _name_words(name_key: str) -> frozenset[str]:
    return frozenset(name_key.split(" | ")[0].replace(",", " ").replace(".", " ").split())


def _same_person_name(row: _Row, state: _State) -> bool:
    """Whether two names can be one person's: the same as crm folds names (Müller =
    Mueller), the same sound (Meier, Maier), or the words of one among the other's
    (Hans Huber, Dr. Hans Huber, Huber)."""
    mine, theirs = row.cols["name_key"], state.cols.get("name_key") or ""
    if mine == theirs or (row.cols.get("name_sound") or "") == state.cols.get("name_sound"):
        return True
    a, b = _name_words(mine), _name_words(theirs)
    return bool(a and b) and (a <= b or b <= a)


def _contradiction(row: _Row, state: _State, key: str, company: int | None) -> str | None:
    """Why a row found by its phone or name is not that contact, or None. Stronger facts than
    the key say no: both have emails and none is shared; for a phone, their names are not one
    person's; for a name, both have phones and none is shared, or different cities,
    companies or birthdays."""
    if row.emails and state.emails and not any(e[1] in state.emails for e in row.emails):
        return "other email"
    if key == "phone":
        if row.name_given and not _placeholder(state) and not _same_person_name(row, state):
            return f"other name {state.cols.get('name')}"
        return None
    if row.phones and state.phones and not any(p[1] in state.phones for p in row.phones):
        return "other phone"
    city, stored_city = row.cols.get("city"), state.cols.get("city")
    if city and stored_city and _fold(city) != _fold(stored_city):
        return f"other city {stored_city}"
    stored_company = state.cols.get("company")
    if company is not None and stored_company is not None and company != stored_company:
        return "other company"
    born, stored_born = row.cols.get("birthday"), state.cols.get("birthday")
    if born is not None and stored_born is not None and born != stored_born:
        same_day = (born.month, born.day) == (stored_born.month, stored_born.day)
        if not same_day or NO_YEAR not in (born.year, stored_born.year):  # --12-24 fits any year
            return "other birthday"
    return None


def _agreement(row: _Row, state: _State, company: int | None) -> tuple[int, bool]:
    """How well a contact that does not contradict a row fits it: the facts both have and
    share, then whether it has just the row's facts (a row without a city is the one of two
    Hans Müller that has none, once the import made it)."""
    mine_e, theirs_e = {e[1] for e in row.emails}, set(state.emails)
    mine_p, theirs_p = {p[1] for p in row.phones}, set(state.phones)
    facts: tuple[tuple[object, object], ...] = (
        (_fold(row.cols.get("city") or ""), _fold(state.cols.get("city") or "")),
        (company, state.cols.get("company")),
        (row.cols.get("birthday"), state.cols.get("birthday")),
        (row.cols["name_key"], state.cols.get("name_key")),
    )
    shared = sum(1 for a, b in facts if a and b and a == b)
    shared += bool(mine_e & theirs_e) + bool(mine_p & theirs_p)
    facts += ((mine_e, theirs_e), (mine_p, theirs_p))
    return shared, all(a == b for a, b in facts)


def _same_moment(stored, given) -> bool:
    """Whether a stored time is the given one at the precision the given one has (an export
    writes consent_at to the second; the database keeps microseconds)."""
    if not isinstance(stored, datetime) or not isinstance(given, datetime):
        return False
    stored, given = (
        t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC) for t in (stored, given)
    )  # the database keeps UTC, naive in SQLite
    if not given.microsecond:
        stored = stored.replace(microsecond=0)
        if not given.second:
            stored = stored.replace(second=0)
    return stored == given


def _new_entries(states: list[_State]) -> list[tuple[int, str]]:
    """search.contact_entries of contacts just inserted, from the values written rather than
    read back: the same text (tests/services/test_import_fast.py compares them). Only the
    companies' names and cities are read. PostgreSQL orders custom fields by its collation,
    which may not be Python's: a contact with several there is read back."""
    from peewee import SqliteDatabase

    db = database_proxy.obj
    if not isinstance(db, SqliteDatabase) and any(len(s.fields) > 1 for s in states):
        return search.contact_entries([s.id for s in states if s.id is not None])
    company_ids = sorted({s.cols["company"] for s in states if s.cols.get("company")})
    firms: dict[int, tuple[str | None, str | None]] = {}
    for part in _chunks(company_ids):
        firms.update((cid, (name, city)) for cid, name, city in _select_in(
            "company", "id", "name", part, "city"
        ))  # fmt: skip
    body, rowid, nobody = search.contact_body, search.rowid, (None, None)
    entries = []
    for s in states:
        cols = s.cols
        firm, firm_city = firms.get(cols.get("company") or 0, nobody)
        values = [s.fields[k][0] for k in sorted(s.fields)] if s.fields else ()
        emails = [v[0] for v in s.emails.values() if not v[2]] if len(s.emails) > 1 else ()
        phones = (
            [(v[0], e164) for e164, v in s.phones.items() if not v[2]] if len(s.phones) > 1 else ()
        )
        entries.append((
            rowid("contact", s.id),  # type: ignore[arg-type]
            body(
                cols.get("name"), cols.get("email"), firm, cols.get("city") or firm_city,
                cols.get("notes"), cols.get("phone"), cols.get("phone_e164"), values, emails,
                phones,
            ),
        ))  # fmt: skip
    return entries


def _news(state: _State) -> bool:
    return (
        any(not v[3] for v in state.emails.values())
        or any(not v[3] for v in state.phones.values())
        or any(not stored for stored in state.tags.values())
        or any(v != stored for v, stored in state.fields.values())
    )


def _select_in(table: str, key: str, value: str, keys: Sequence[str], *more: str) -> list[tuple]:
    """(key, value, *more) of the rows whose `key` is one of `keys`: one query, plain SQL."""
    if not keys:
        return []
    marks = ", ".join([_mark()] * len(keys))
    columns = ", ".join(f'"{c}"' for c in (key, value, *more))
    sql = f'SELECT {columns} FROM "{table}" WHERE "{key}" IN ({marks})'
    return database_proxy.obj.execute_sql(sql, list(keys)).fetchall()


def _first_few(table: str, key: str, value: str, keys: Sequence[str]) -> list[tuple]:
    """(key, value) of at most OWNERS + 1 rows per key (enough to know a few from many): one
    query of LIMIT parts, each an index look-up, however many contacts share a key; only
    for the keys a plain IN query of the index finds (most keys of new rows are nowhere:
    a fifth of the cost of the LIMIT 2 parts)."""
    if not keys:
        return []
    db = database_proxy.obj
    mark = _mark()
    marks = ", ".join([mark] * len(keys))
    sql = f'SELECT DISTINCT "{key}" FROM "{table}" WHERE "{key}" IN ({marks})'
    keys = [k for (k,) in db.execute_sql(sql, list(keys)).fetchall()]
    if not keys:
        return []
    part = (
        f'SELECT * FROM (SELECT "{key}", "{value}" FROM "{table}" WHERE "{key}" = {mark} '
        f"LIMIT {OWNERS + 1}) t"
    )
    out: list[tuple] = []
    for few in _chunks(keys, 200):  # SQLite takes 500 parts of a compound SELECT at most
        sql = " UNION ALL ".join(f"{part}{i}" for i in range(len(few)))
        out += db.execute_sql(sql, list(few)).fetchall()
    return out


def _mark() -> str:
    from crmcli.db import placeholder

    return placeholder()


def _executemany(db, sql: str, params: list[tuple]) -> None:
    if params:
        cursor = db.cursor()
        cursor.executemany(sql, params)


def _values_sql(model, fields: list, count: int, *, returning: bool = False) -> str:
    mark = _mark()
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    row = f"({', '.join([mark] * len(fields))})"
    tail = " RETURNING id" if returning else ""
    rows = ", ".join([row] * count)
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES {rows}{tail}'


def _chunk_rows(fields: list) -> int:
    """Rows per multi-row INSERT: under SQLite's 32,766 parameters, at most 500."""
    return max(1, min(500, 30_000 // len(fields)))


def _insert(model, rows: list[tuple], fields: list) -> None:
    """Multi-row INSERTs of plain values (peewee builds SQL per value: 10x slower here)."""
    db = database_proxy.obj
    size = _chunk_rows(fields)
    for part in _chunks(rows, size):
        params = [v for row in part for v in row]
        db.execute_sql(_values_sql(model, fields, len(part)), params)


_INSERTED = [*_COLUMNS, "birthday_reminded", "created_at", "updated_at"]


def _insert_ids(states: list[_State], now: datetime) -> list[int]:
    """Insert new contacts; their ids in order."""
    fields = [Contact._meta.fields[c] for c in _INSERTED]
    stamp = _adapted(Contact.created_at.db_value(now))
    consent_at = Contact.consent_at
    rows = []
    defaults = _COLUMN_DEFAULTS
    for s in states:
        cols = s.cols
        row = [cols.get(c, d) for c, d in defaults]
        row[_CONSENT_AT] = consent_at.db_value(row[_CONSENT_AT])
        rows.append((*row, 0, stamp, stamp))
    return _insert_returning(Contact, fields, rows)


def _adapted(value):
    """`value` as the driver binds it: on SQLite the text its registered adapter makes (of
    a datetime: once, not for each of 100,000 rows twice); anything else as it is."""
    import sqlite3

    from peewee import SqliteDatabase

    if not isinstance(database_proxy.obj, SqliteDatabase):
        return value
    adapt = sqlite3.adapters.get((type(value), sqlite3.PrepareProtocol))
    return value if adapt is None else adapt(value)


def _insert_returning(model, fields: list, rows: list[tuple]) -> list[int]:
    """Multi-row INSERTs that return the new ids in order: RETURNING on PostgreSQL; on SQLite
    the rowids one statement gives are consecutive, ending at the last one."""
    from peewee import SqliteDatabase

    db = database_proxy.obj
    sqlite = isinstance(db, SqliteDatabase)
    ids: list[int] = []
    for part in _chunks(rows, _chunk_rows(fields)):
        params = [v for row in part for v in row]
        sql = _values_sql(model, fields, len(part), returning=not sqlite)
        cursor = db.execute_sql(sql, params)
        if sqlite:
            last = cursor.lastrowid
            ids += range(last - len(part) + 1, last + 1)
        else:
            ids += [r[0] for r in cursor.fetchall()]
    return ids


_CONSENT_AT = _COLUMNS.index("consent_at")
_COLUMN_DEFAULTS = [(c, _DEFAULTS.get(c)) for c in _COLUMNS]  # one look-up a column, not two


def import_contacts(
    rows: Iterable[tuple[str, dict]],
    *,
    match: Sequence[str] = MATCH_KEYS,
    on_conflict: str = "update",
    dry_run: bool = False,
    tags: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    keep_going: bool = False,
    now: datetime | None = None,
    on_reject: Callable[[str, dict, str], None] | None = None,
) -> ImportResult:
    """Import CONTACT RECORDs (see the module): each row matched on `match` (email: any of
    its emails; phone: its E.164 numbers; name: the folded name, when it names exactly one
    contact) and, by `on_conflict`, merged into the match (update: given values fill or
    overwrite, emails, phones, tags and fields are added, nothing is removed), left alone
    (skip) or imported as a new contact anyway (new). A row that matches an earlier row of
    the same input is merged into it. All in one transaction; `dry_run` writes nothing.
    A rejected row: without `keep_going` Invalid listing the first ones, nothing written;
    with it the good rows land and ImportResult.rejected holds the bad ones, or, given
    `on_reject(where, record, reason)`, each goes there as it is found and only the first
    KEPT_REJECTS are held."""
    import gc

    now = now or utcnow()
    result = ImportResult(dry_run=dry_run)
    done = 0
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])  # ~10% of the time otherwise
    try:
        with database_proxy.atomic(), fresh_statistics():
            importer = _Importer(match, on_conflict, tags, now, result, keep_going, on_reject)
            iterator = iter(rows)
            with contextlib.ExitStack() as bulk:
                while batch := list(itertools.islice(iterator, BATCH)):
                    if done == BATCH:  # a second batch: many rows to come
                        bulk.enter_context(search.bulk_writes())
                        bulk.enter_context(import_indexes.built_after("contact", _LOOKUPS))
                    importer.batch(batch)
                    done += len(batch)
                    if progress is not None:
                        progress(done)
                result.rows = done
                if dry_run or (result.rejected_count and not keep_going):
                    raise _Rollback  # before the indexes are made again: the rollback has them
    except _Rollback:
        pass
    finally:
        gc.set_threshold(*thresholds)
    if result.rejected_count and not keep_going:
        raise rejects_error(result)
    if dry_run:
        result.ids = array("q")
    return result


@contextlib.contextmanager
def all_or_nothing(result: ImportResult, *, dry_run: bool, keep_going: bool) -> Iterator[None]:
    """The one transaction of an import: rolled back for a dry run (which then reports no
    ids), or when rows were rejected without `keep_going` (then Invalid naming them)."""
    try:
        with database_proxy.atomic(), fresh_statistics():
            yield
            if dry_run or (result.rejected_count and not keep_going):
                raise _Rollback
    except _Rollback:
        pass
    if result.rejected_count and not keep_going:
        raise rejects_error(result)
    if dry_run:
        result.ids = array("q")


def rejects_error(result: ImportResult) -> Invalid:
    """The error for rejected rows when no rejects file takes them: the first ones, and how
    many there are."""
    shown = "; ".join(f"{w}: {r}" for w, _, r in result.rejected[:SHOWN_REJECTS])
    more = result.rejected_count - min(SHOWN_REJECTS, len(result.rejected))
    tail = f"; and {more} more" if more > 0 else ""
    rows = "row" if result.rejected_count == 1 else "rows"
    return Invalid(
        None,
        f"{result.rejected_count} bad {rows}, nothing imported: {shown}{tail}",
        action="import_rejects",
        rejected=result.rejected_count,
    )


# Activities, deals and tasks from CSV: services/import_rows.py.
