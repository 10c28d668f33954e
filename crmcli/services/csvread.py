"""Reading CSV files people bring: spreadsheets, web shop and address book exports.

The encoding is decided by fixed rules, never guessed by statistics: a byte order mark says
UTF-8 or UTF-16; else the whole file must be strict UTF-8; else it is cp1252, what German Excel
writes. The delimiter is sniffed among , ; TAB and |. Headers are recognised in English and
German and as Shopify, WooCommerce, Google Contacts and Outlook (English and German) write
them; `--map column=field` names the rest. The file is read as a stream: a row at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from crmcli.errors import Invalid
from crmcli.values import fold

DELIMITERS = ",;\t|"
# One cell may hold a long note, not a whole file: csv refuses anything longer.
FIELD_LIMIT = 1_000_000
SAMPLE = 64 * 1024
ENCODINGS_HINT = "utf-8, cp1252, latin-1, utf-16"

# What a column can be mapped to (`--map column=field`); `field:KEY` is a custom field.
TARGETS = (
    "name", "first_name", "middle_name", "last_name", "email", "phone",
    "mobile", "company", "position", "street", "street2", "zip", "city", "state", "country",
    "birthday", "notes", "status", "source", "owner", "tag", "consent", "consent_at",
    "cadence", "campaign", "keyword", "medium",
)  # fmt: skip
# A kind of email or phone given with the field: email:work, phone:home, phone:mobile.
KINDED = ("email", "phone")
KINDS = ("work", "home", "mobile", "other")


@dataclass(frozen=True)
class Target:
    field: str  # one of TARGETS, or "field" (custom field `key`)
    kind: str | None = None  # work/home/mobile/other for email and phone
    key: str | None = None  # the custom field's name
    # Google writes "E-mail 1 - Type" next to "E-mail 1 - Value": the type column's index.
    kind_column: int | None = None


def _key(header: str) -> str:
    """A header as compared: folded, letters and digits only (E-Mail-Adresse: emailadresse)."""
    return re.sub(r"[^a-z0-9]", "", fold(header.replace("ß", "ss")))


def _t(spec: str) -> Target:  # "ignore": a column known to hold nothing for a CRM
    name, _, kind = spec.partition(":")
    if name == "field":  # "field:url": the custom field url, as the vCard importer fills it
        return Target("field", key=kind)
    return Target(name, kind or None)


# Header (as _key folds it) -> target. English, German, Shopify, WooCommerce, Google, Outlook.
_HEADERS_SPEC = {
    "name": "name", "fullname": "name", "displayname": "name", "kontakt": "name",
    "kontaktname": "name", "vollstandigername": "name", "anzeigename": "name",
    "firstname": "first_name", "givenname": "first_name", "vorname": "first_name",
    "forename": "first_name", "billingfirstname": "first_name", "shippingfirstname": "first_name",
    "lastname": "last_name", "familyname": "last_name", "surname": "last_name",
    "nachname": "last_name", "billinglastname": "last_name", "shippinglastname": "last_name",
    "middlename": "middle_name", "additionalname": "middle_name", "weiterevornamen": "middle_name",
    "title": "ignore", "nameprefix": "ignore", "anrede": "ignore", "titel": "ignore",
    "namesuffix": "ignore", "suffix": "ignore", "namenszusatz": "ignore",
    "regiongeschaftlich": "state", "bundeslandkantonprivat": "state",
    "weiteresrbundeslandkanton": "state", "homestate": "state", "otherstate": "state",
    "landregionprivat": "country", "homecountry": "country",
    # Outlook's private flag (Privat: Aus/Ein), sensitivity and priority: nothing for a CRM.
    "privat": "ignore", "private": "ignore", "sensitivity": "ignore", "priority": "ignore",
    "vertraulichkeit": "ignore", "prioritat": "ignore",
    # What the vCard importer keeps as custom fields: url, department, nickname.
    "webseite": "field:url", "webpage": "field:url", "website": "field:url",
    "homepage": "field:url", "url": "field:url", "website1value": "field:url",
    "abteilung": "field:department", "department": "field:department",
    "organizationdepartment": "field:department", "organization1department": "field:department",
    "nickname": "field:nickname", "spitzname": "field:nickname",
    # What `crm export contacts` writes: emails and phones are all of them (the primary
    # first, " ::: " between), as the email and phone columns are the primary.
    "emails": "email", "phones": "phone", "cadencedays": "cadence",
    # ... and the kinds of those, in the same order: read with them (_recognise)
    "emailkinds": "ignore", "phonekinds": "ignore",
    "primaryphone": "phone", "hauptnummerfirma": "phone:work",
    "telefonfirma2": "phone:work", "telefonweitere": "phone:other", "autotelefon": "phone:other",
    "carphone": "phone:other",
    "email": "email", "emailaddress": "email", "mail": "email", "emailadresse": "email",
    "billingemail": "email", "customeremail": "email", "eMail": "email",
    "email2address": "email:other", "email3address": "email:other",
    "email2adresse": "email:other", "email3adresse": "email:other",
    "emailhome": "email:home", "homeemail": "email:home", "emailprivat": "email:home",
    "emailwork": "email:work", "workemail": "email:work", "emailgeschaftlich": "email:work",
    "emailbusiness": "email:work", "businessemail": "email:work",
    "phone": "phone", "telephone": "phone", "telefon": "phone", "tel": "phone",
    "telefonnummer": "phone", "phonenumber": "phone", "billingphone": "phone",
    "defaultaddressphone": "phone", "shippingphone": "phone",
    "businessphone": "phone:work", "telefongeschaftlich": "phone:work",
    "businessphone2": "phone:work", "telefongeschaftlich2": "phone:work",
    "companymainphone": "phone:work", "workphone": "phone:work", "telefonfirma": "phone:work",
    "homephone": "phone:home", "telefonprivat": "phone:home", "homephone2": "phone:home",
    "telefonprivat2": "phone:home",
    "mobile": "mobile", "mobilephone": "mobile", "mobil": "mobile", "handy": "mobile",
    "mobiltelefon": "mobile", "cellphone": "mobile", "cell": "mobile", "mobilnummer": "mobile",
    "handynummer": "mobile", "otherphone": "phone:other", "weiteretelefon": "phone:other",
    "company": "company", "firma": "company", "unternehmen": "company",
    "organization": "company", "organisation": "company", "organizationname": "company",
    "organization1name": "company", "billingcompany": "company", "defaultaddresscompany": "company",
    "arbeitgeber": "company",
    "position": "position", "jobtitle": "position", "funktion": "position",
    "organizationtitle": "position", "organization1title": "position", "beruf": "position",
    "rolle": "position", "role": "position", "positiontitel": "position",
    "street": "street", "strasse": "street", "address": "street", "address1": "street",
    "adresse": "street", "anschrift": "street", "streetaddress": "street",
    "billingaddress1": "street", "defaultaddressaddress1": "street", "useremail": "email",
    "businessstreet": "street", "strassegeschaftlich": "street", "homestreet": "street",
    "strasseprivat": "street", "address1street": "street", "addressline1": "street",
    "address2": "street2", "billingaddress2": "street2", "defaultaddressaddress2": "street2",
    "addressline2": "street2", "adresszusatz": "street2", "businessstreet2": "street2",
    "strassegeschaftlich2": "street2",
    "zip": "zip", "plz": "zip", "postleitzahl": "zip", "postcode": "zip", "postalcode": "zip",
    "zipcode": "zip", "billingpostcode": "zip", "defaultaddresszip": "zip",
    "businesspostalcode": "zip", "postleitzahlgeschaftlich": "zip", "homepostalcode": "zip",
    "postleitzahlprivat": "zip", "address1postalcode": "zip",
    "city": "city", "ort": "city", "stadt": "city", "town": "city", "wohnort": "city",
    "billingcity": "city", "defaultaddresscity": "city", "businesscity": "city",
    "ortgeschaftlich": "city", "homecity": "city", "ortprivat": "city", "address1city": "city",
    "state": "state", "province": "state", "bundesland": "state", "region": "state",
    "billingstate": "state", "defaultaddressprovincecode": "state", "provincecode": "state",
    "businessstate": "state", "bundeslandgeschaftlich": "state", "address1region": "state",
    "country": "country", "land": "country", "countrycode": "country",
    "billingcountry": "country", "defaultaddresscountrycode": "country",
    "businesscountryregion": "country", "landregiongeschaftlich": "country",
    "homecountryregion": "country", "address1country": "country",
    "birthday": "birthday", "geburtstag": "birthday", "geburtsdatum": "birthday",
    "dateofbirth": "birthday", "dob": "birthday", "birthdate": "birthday",
    "notes": "notes", "note": "notes", "notiz": "notes", "notizen": "notes",
    "bemerkung": "notes", "bemerkungen": "notes", "kommentar": "notes", "comment": "notes",
    "comments": "notes", "anmerkung": "notes", "anmerkungen": "notes", "beschreibung": "notes",
    "status": "status", "quelle": "source", "source": "source", "leadsource": "source",
    "herkunft": "source", "utmsource": "source", "utmcampaign": "campaign",
    "campaign": "campaign", "kampagne": "campaign", "utmterm": "keyword", "keyword": "keyword",
    "utmmedium": "medium", "medium": "medium",
    "suchbegriff": "keyword", "owner": "owner", "betreuer": "owner",
    "zustandig": "owner",
    "tags": "tag", "tag": "tag", "schlagworte": "tag", "schlagwort": "tag", "labels": "tag",
    "groupmembership": "tag", "categories": "tag", "kategorien": "tag", "kategorie": "tag",
    "category": "tag", "gruppen": "tag", "groups": "tag",
    "acceptsemailmarketing": "consent", "acceptsmarketing": "consent",
    "einwilligung": "consent", "consent": "consent", "newsletter": "consent",
    "consentdate": "consent_at", "consentat": "consent_at", "einwilligungam": "consent_at",
    "acceptsemailmarketingupdatedat": "consent_at",
}  # fmt: skip
HEADERS = {_key(k): _t(v) for k, v in _HEADERS_SPEC.items()}
# Numbered columns from Google Contacts: "E-mail 2 - Value", "Phone 1 - Value", "Address 1 - City".
_GOOGLE = re.compile(r"(email|phone|address|organization|website)(\d+)(type|value|label|.*)")
_GOOGLE_ADDRESS = {
    "street": "street", "city": "city", "postalcode": "zip", "region": "state",
    "country": "country", "formatted": None, "pobox": None, "extendedaddress": "street2",
    "type": None, "label": None,
}  # fmt: skip
# Columns a shop or address book writes that hold nothing for a CRM: ignored without a warning.
QUIET = frozenset(
    _key(h)
    for h in (
        "Customer ID", "ID", "Total Spent", "Total Orders", "Tax Exempt", "Accepts SMS Marketing",
        # WooCommerce's customer exports: order statistics, like Shopify's Total Spent.
        "order_count", "orders_count", "avg_order_value", "date_last_active", "date_registered",
        "date_last_order", "is_paying_customer",
        "Default Address Province Code", "Yomi Name", "Given Name Yomi", "Family Name Yomi",
        "Additional Name Yomi", "Nickname", "Short Name", "Maiden Name", "Initials", "Photo",
        "File As", "Priority", "Sensitivity", "Private", "Gender", "Language",
        "Billing Information",
        "Directory Server", "Mileage", "Hobby", "Location", "Office Location", "Page",
        "Organization 1 - Type", "Organization 1 - Yomi Name", "Organization 1 - Symbol",
        "Organization 1 - Location", "Organization 1 - Job Description",
        "Organization 1 - Department",
        "Website 1 - Type", "Username", "Last Order ID", "Last Order Date", "Date created",
        "Date modified", "Orders", "Paying customer", "Role", "reason", "shipping_company",
        "shipping_address_1", "shipping_address_2", "shipping_city", "shipping_postcode",
        "shipping_country", "shipping_state", "Customer note", "Avatar URL", "Phonetic First Name",
        "Phonetic Middle Name", "Phonetic Last Name", "Organization Department", "E-Mail-Typ",
        "E-Mail: angezeigter Name", "E-Mail 2: Typ", "E-Mail 2: angezeigter Name",
        "E-Mail 3: Typ", "E-Mail 3: angezeigter Name", "E-mail Type", "E-mail Display Name",
        "E-mail 2 Type", "E-mail 2 Display Name", "E-mail 3 Type", "E-mail 3 Display Name",
        "Abteilung", "Department", "Anniversary", "Jahrestag", "Given Yomi", "Surname Yomi",
        "Company Yomi", "Profession", "Beruf", "Spouse", "Partner", "Children", "Kinder",
        "Account", "Konto", "User 1", "User 2", "User 3", "User 4", "Benutzer 1", "Benutzer 2",
        "Benutzer 3", "Benutzer 4", "Keywords", "Stichwörter", "Vertraulichkeit", "Priorität",
        "Privat", "Geschlecht", "Büro", "Reisekilometer", "Verzeichnisserver",
        "Abrechnungsinformationen",
        "Internet Frei/Gebucht", "Internet Free Busy", "Initialen", "Notes (Intern)",
        # `crm export contacts`: bookkeeping of the database it came from (an id is no key
        # across databases; times are set by the database that stores the contact).
        "created_at", "updated_at", "last_activity_at", "cadence_effective_days",
        "contact_due_at", "company_id",
    )
)  # fmt: skip
_KIND_WORDS = {
    "work": "work", "business": "work", "arbeit": "work", "geschaftlich": "work", "buro": "work",
    "home": "home", "private": "home", "privat": "home", "mobile": "mobile", "cell": "mobile",
    "mobil": "mobile", "handy": "mobile", "other": "other",
}  # fmt: skip


def kind_word(text: str | None) -> str | None:
    """A type as Google writes it ("* Work", "Mobile", "Home Fax") as one of KINDS, or None."""
    words = re.findall(r"[a-z]+", fold(text or ""))
    for word in words:
        if word in _KIND_WORDS:
            return _KIND_WORDS[word]
    return "other" if words else None


def _recognise(header: str, headers: list[str]) -> Target | None:
    if header[:6].lower() == "field:" and header[6:].strip():  # `crm export`'s custom fields
        return Target("field", key=header[6:].strip())
    key = _key(header)
    if key in ("emails", "phones"):  # `crm export contacts`: the kinds are a column of theirs
        partner = f"{key[:-1]}kinds"
        kind_column = next((i for i, h in enumerate(headers) if _key(h) == partner), None)
        return Target(key[:-1], None, kind_column=kind_column)
    if key in HEADERS:
        return HEADERS[key]
    m = _GOOGLE.fullmatch(key)
    if m:
        what, number, rest = m.groups()
        if rest == "value" or (what == "email" and rest == ""):
            # The type: "E-mail 1 - Type" (older exports) or "E-mail 1 - Label" (newer).
            partners = (f"{what}{number}type", f"{what}{number}label")
            kind_column = next((i for i, h in enumerate(headers) if _key(h) in partners), None)
            if what in ("email", "phone"):
                return Target(what, None, kind_column=kind_column)
            if what == "website":
                return Target("field", key="url")
        if what == "address" and rest in _GOOGLE_ADDRESS:
            target = _GOOGLE_ADDRESS[rest]
            return Target(target) if target else Target("ignore")
        if what == "organization" and rest == "name":
            return Target("company")
        if what == "organization" and rest == "title":
            return Target("position")
        if rest in ("type", "label"):
            return Target("ignore")
    return None


def parse_target(text: str, *, column: str = "", allowed: Sequence[str] | None = None) -> Target:
    """`--map` field words: name, email, email:work, phone:mobile, tag, field:KEY, or empty
    (ignore the column). `allowed`: the fields of another kind of record (activities...)."""
    spec = text.strip().lower()
    if not spec:
        return Target("ignore")
    if allowed is not None:
        if spec not in allowed:
            raise Invalid(
                "map", f"'{text}' for column '{column}' is no field (choose {', '.join(allowed)})"
            )
        return Target(spec)
    if spec.startswith("field:"):
        key = text.strip()[6:].strip().lower()
        if not re.fullmatch(r"[^\W\d_][\w-]{0,63}", key):
            raise Invalid(
                "map", f"'{key}' is not a field name (a letter, then letters, digits, _ or -)"
            )
        return Target("field", key=key)
    name, _, kind = spec.partition(":")
    name = {"tags": "tag", "note": "notes", "zip_code": "zip", "plz": "zip", "region": "state"}.get(
        name, name
    )
    if name not in TARGETS:
        raise Invalid(
            "map",
            f"'{text}' for column '{column}' is no field (choose {', '.join(TARGETS)}, "
            "field:KEY, or nothing to ignore the column)",
        )
    if kind and (name not in KINDED or kind not in KINDS):
        raise Invalid("map", f"'{text}': only email and phone take a kind ({', '.join(KINDS)})")
    return Target(name, kind or None)


def parse_maps(items: Sequence[str], allowed: Sequence[str] | None = None) -> dict[str, Target]:
    """`--map column=field` options as {column as folded: Target}."""
    out: dict[str, Target] = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip():
            raise Invalid("map", f"'{item}' is not COLUMN=FIELD (COLUMN= ignores a column)")
        out[_key(column) or column.strip()] = parse_target(
            target, column=column.strip(), allowed=allowed
        )
    return out


# ---------------------------------------------------------------- bytes to text


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def file_error(name: str, why: str, *, action: str | None = None) -> Invalid:
    """An error about the file as a whole, naming it: "kunden.csv is empty: ..."."""
    err = Invalid(None, f"{name} {why}", action=action)
    err.field = "file"
    return err


def _source_name(source: str | BinaryIO) -> str:
    if isinstance(source, str):
        return "stdin" if source == "-" else source
    return str(getattr(source, "name", None) or "the file")


def check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise Invalid("encoding", f"unknown encoding '{name}' (try {ENCODINGS_HINT})") from None


def _is_utf8(raw: BinaryIO) -> bool:
    """Whether the whole stream decodes as strict UTF-8 (read in chunks; memory stays flat)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := raw.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        raw.seek(0)
    return True


def detect_encoding(raw: BinaryIO, given: str | None = None) -> str:
    """The encoding by fixed rules: `given`, else a BOM, else strict UTF-8, else cp1252."""
    if given:
        return check_encoding(given)
    head = raw.read(4)
    raw.seek(0)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return "utf-8" if _is_utf8(raw) else "cp1252"


def _looks_binary(sample: bytes, encoding: str) -> bool:
    if encoding.startswith(("utf-16", "utf-32")):
        return False
    if b"\x00" in sample:
        return True
    # Control characters other than tab, newlines and form feed: not a text file.
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(8, len(sample) // 100)


def _utf16_without_bom(sample: bytes) -> bool:
    """Every other byte 0 and the others not: ASCII text as UTF-16, written without a BOM."""
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 4:
        return False
    for zeros, text in ((odd, even), (even, odd)):
        if zeros.count(0) >= 0.9 * len(zeros) and text.count(0) <= 0.1 * len(text):
            return True
    return False


def _seekable(source: str | BinaryIO) -> tuple[BinaryIO, bool]:
    """A seekable binary stream of `source` (a path, "-" for stdin, or a binary stream), and
    whether it is ours to close. Stdin is spooled to a temporary file (in memory while small)."""
    if isinstance(source, str):
        if source == "-":
            import sys

            source = sys.stdin.buffer
        else:
            try:
                return open(source, "rb"), True  # noqa: SIM115 - closed by the reader
            except IsADirectoryError:
                raise file_error(source, "is a directory, not a CSV file") from None
    if source.seekable():
        return source, False
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return spool, True  # type: ignore[return-value]


# ---------------------------------------------------------------- the reader


@dataclass
class CsvFile:
    """A CSV file opened for reading: its dialect, header and column targets."""

    encoding: str
    delimiter: str
    header: list[str]
    targets: list[Target | None]  # None: not recognised (warned about)
    unrecognised: list[str] = field(default_factory=list)
    _text: IO[str] | None = None
    _raw: BinaryIO | None = None
    _close_raw: bool = False
    _header_lines: int = 1
    # Unrecognised columns (index) that held a value in some row: what the warning names.
    unused_with_data: set[int] = field(default_factory=set)
    name: str = "the file"  # as errors name it: the path as given, or stdin

    def close(self) -> None:
        if self._close_raw and self._raw is not None:
            self._raw.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the row starts, cells) for every data row; blank lines skipped.
        Ragged rows come as they are: the caller decides."""
        assert self._text is not None
        reader = csv.reader(self._text, delimiter=self.delimiter, strict=False)
        before = 0
        try:
            for cells in reader:
                start, before = self._header_lines + before + 1, reader.line_num
                if not cells or not "".join(cells).strip():  # blank or only whitespace
                    continue
                yield start, cells
        except csv.Error as exc:
            where = self._header_lines + before + 1
            raise file_error(self.name, f"line {where}: {exc}") from None
        except UnicodeError as exc:  # a UnicodeDecodeError, or UTF-16 without its BOM
            where = self._header_lines + before + 1
            reason = getattr(exc, "reason", None) or str(exc)
            raise file_error(
                self.name,
                f"near line {where}: is not {self.encoding} ({reason})",
                action="give_encoding",
            ) from None

    def records(self) -> Iterator[tuple[str, dict]]:
        """("line N", CONTACT RECORD) per row; the row's cells ride along under "_raw" (for a
        rejects file), and a row that cannot be read carries its reason under "_error"."""
        watch = [i for i, t in enumerate(self.targets) if t is None]
        for line, cells in self.rows():
            for i in watch:
                if i < len(cells) and cells[i].strip():
                    self.unused_with_data.add(i)
            try:
                rec = to_record(self, cells)
            except Invalid as exc:
                rec = {"_error": str(exc)}
            rec["_raw"] = cells
            yield f"line {line}", rec

    def unused_columns(self) -> list[str]:
        """Unrecognised columns that held data (read after records())."""
        return [self.header[i] for i in sorted(self.unused_with_data)]


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS)
        if dialect.delimiter in DELIMITERS:
            return dialect.delimiter
    except csv.Error:
        pass
    header = lines[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def check_delimiter(text: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(text.lower(), text)
    if len(value) != 1 or value in '"\r\n' or value.isalnum():
        raise Invalid(
            "delimiter", f"'{text}' is not a delimiter (one character such as , ; | or tab)"
        )
    return value


def open_csv(
    source: str | BinaryIO,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    maps: dict[str, Target] | None = None,
    recognise: bool = True,
) -> CsvFile:
    """Open a CSV file (path, "-" for stdin, or a binary stream) and read its header. Invalid
    for a file that is empty, binary, not in the encoding, or has no header."""
    csv.field_size_limit(FIELD_LIMIT)
    name = _source_name(source)
    raw, ours = _seekable(source)
    try:
        enc = detect_encoding(raw, encoding)
        sample = raw.read(SAMPLE)
        raw.seek(0)
        if not sample.strip():
            raise file_error(name, "is empty: no header and no rows")
        if _looks_binary(sample, enc):
            if _utf16_without_bom(sample):
                raise file_error(
                    name,
                    "looks like UTF-16 without a byte order mark (every other byte is 0)",
                    action="give_encoding",
                )
            raise file_error(name, "is not a CSV file (binary data: NUL or control bytes)")
        try:
            head = codecs.getincrementaldecoder(enc)("strict").decode(sample)
        except UnicodeDecodeError as exc:
            raise file_error(
                name, f"is not {enc} ({exc.reason} at byte {exc.start})", action="give_encoding"
            ) from None
        except UnicodeError as exc:  # UTF-16 or UTF-32 named, but the file has no BOM
            raise file_error(name, f"is not {enc} ({exc})", action="give_encoding") from None
        delim = check_delimiter(delimiter) if delimiter else _sniff_delimiter(head.lstrip("\ufeff"))
        text = io.TextIOWrapper(raw, encoding=enc, errors="strict", newline="")
        csvfile = CsvFile(enc, delim, [], [], _text=text, _raw=raw, _close_raw=ours, name=name)
        reader = csv.reader(text, delimiter=delim, strict=False)
        header: list[str] | None = None
        try:
            for cells in reader:
                if cells and any(c.strip() for c in cells):
                    header = cells
                    break
        except csv.Error as exc:
            raise file_error(name, f"has a header that cannot be read: {exc}") from None
        except UnicodeError as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            raise file_error(name, f"is not {enc} ({reason})", action="give_encoding") from None
        if header is None:
            raise file_error(name, "is empty: no header and no rows")
        csvfile._header_lines = reader.line_num
        header = [unicodedata.normalize("NFC", h.lstrip("\ufeff").strip()) for h in header]
        if any("\x00" in h for h in header):
            raise file_error(name, "is not a CSV file (NUL bytes in its header)")
        csvfile.header = header
        _assign(csvfile, maps or {}, recognise)
        # Continue with the same reader state: rows() makes its own reader on the same stream.
        return csvfile
    except BaseException:
        if ours:
            raw.close()
        raise


def _assign(csvfile: CsvFile, maps: dict[str, Target], recognise: bool) -> None:
    header = csvfile.header
    used: set[str] = set()
    targets: list[Target | None] = []
    for h in header:
        key = _key(h) or h
        if key in maps:
            used.add(key)
            targets.append(maps[key])
            continue
        target = _recognise(h, header) if recognise else None
        if target is None and recognise and key in QUIET:
            target = Target("ignore")
        targets.append(target)
    missing = [k for k in maps if k not in used]
    if missing:
        raise Invalid(
            "map",
            f"the file has no column {', '.join(missing)} (its columns: {', '.join(header)})",
        )
    csvfile.targets = targets
    csvfile.unrecognised = [h for h, t in zip(header, targets, strict=True) if t is None]


# ---------------------------------------------------------------- cells to a contact record

_SPLIT_MULTI = re.compile(r"\s*:::\s*")
_SPLIT_TAGS = re.compile(r"\s*(?:,|;|:::)\s*")
_YES = {"yes", "ja", "true", "1", "y", "j", "x", "wahr", "subscribed", "opt-in", "optin"}
_NO = {"no", "nein", "false", "0", "n", "falsch", "unsubscribed", "not_subscribed", ""}
# What Outlook writes for a date it does not have.
_NO_DATE = re.compile(r"0?0[./]0?0[./](00|0000)|0000-00-00")
# A spreadsheet-safe export puts ' before a cell that would run as a formula: taken off again.
_DEFUSED = re.compile(r"'(?=[=+\-@\t\r])")


def cell(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    if text.startswith("'") and _DEFUSED.match(text):
        text = text[1:]
    return text


def yes_no(text: str, field_name: str = "consent") -> bool | None:
    value = fold(text)
    if value in _YES:
        return True
    if value in _NO:
        return None if value == "" else False
    raise Invalid(field_name, f"'{text}' is neither yes nor no")


def to_record(csvfile: CsvFile, cells: list[str]) -> dict:
    """A CONTACT RECORD from one row's cells (values as text; the engine validates them).
    Ragged rows: missing cells are empty; extra non-empty cells are an error."""
    header = csvfile.header
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
        raise Invalid(
            "row", f"has {len(cells)} cells, the header {len(header)} (a delimiter in a value?)"
        )
    rec: dict = {"emails": [], "phones": [], "tags": [], "fields": {}}
    parts: dict[str, str] = {}
    street2: list[str] = []
    count = len(cells)
    for index, name, target in _plan(csvfile):
        if index >= count:
            continue
        value = cells[index].strip()  # what cell() gives, which most cells need no more of
        if "\r" in value or value[:1] == "'":
            value = cell(value)
        if not value:
            continue
        if name in _PLAIN:
            rec.setdefault(name, value)
            continue
        if name in ("email", "phone", "mobile"):
            kind = target.kind or ("mobile" if name == "mobile" else None)
            kinds: list[str] = []
            if target.kind_column is not None and target.kind_column < len(cells):
                # One kind for every value (Google's "* Home"), or one each (crm's export).
                kinds = _SPLIT_MULTI.split(cells[target.kind_column].strip())
                kind = kind_word(kinds[0]) or kind
            key = "emails" if name == "email" else "phones"
            value_key = "email" if name == "email" else "phone"
            for i, one in enumerate(_SPLIT_MULTI.split(value)):
                if one:
                    each = (kind_word(kinds[i]) if 0 < i < len(kinds) else None) or kind
                    rec[key].append({value_key: one, "kind": each or "other", "primary": False})
        elif name == "tag":
            for tag in _SPLIT_TAGS.split(value):
                tag = tag.strip().lstrip("*").strip()
                if tag and fold(tag) not in ("mycontacts", "starred"):
                    rec["tags"].append(tag)
        elif name == "field":
            assert target.key is not None
            rec["fields"][target.key] = value
        elif name in ("first_name", "middle_name", "last_name", "prefix", "suffix"):
            parts.setdefault(name, value)
        elif name == "street2":
            street2.append(value)
        elif name == "birthday" and _NO_DATE.fullmatch(value):
            continue  # Outlook's empty date
        elif name == "consent":
            rec["consent"] = yes_no(value)
        elif name == "cadence":
            rec["cadence_days"] = value
        elif name == "zip":
            rec.setdefault("zip", value.lstrip("'"))  # Shopify writes '01067 to keep the 0
        elif name == "state":  # fields["region"], as the vCard importer keeps ADR's region
            rec["fields"].setdefault("region", value)
        else:
            if name == "notes" and rec.get("notes"):
                rec["notes"] += "\n" + value
            else:
                rec.setdefault(name, value)
    if street2 and rec.get("street"):
        rec["street"] = ", ".join([rec["street"], street2[0]])
    if not rec.get("name"):
        given = " ".join(parts[p] for p in ("first_name", "middle_name", "last_name") if p in parts)
        if given:
            rec["name"] = given
    _kinds_of_duplicates(rec)
    return rec


# Targets to_record sets as they are (the last branch of its loop): looked up once.
_PLAIN = frozenset(
    ("name", "company", "position", "street", "city", "country", "source", "owner", "status",
     "consent_at", "campaign", "keyword", "medium")
)  # fmt: skip


def _plan(csvfile: CsvFile) -> list[tuple[int, str, Target]]:
    """(index, field, target) of the columns to_record reads, made once per header."""
    targets = csvfile.targets
    cached = csvfile.__dict__.get("_plan")
    if cached is None or cached[0] is not targets:
        plan = [
            (i, t.field, t) for i, t in enumerate(targets) if t is not None and t.field != "ignore"
        ]
        cached = csvfile.__dict__["_plan"] = (targets, plan)
    return cached[1]


def _kinds_of_duplicates(rec: dict) -> None:
    """The same email or phone in two columns (Shopify's Phone and Default Address Phone)
    once, of the kind a column gives it (crm's export: the primary's column has none, the
    column of all of them has); the first email and phone are the primary ones."""
    for key, value_key in (("emails", "email"), ("phones", "phone")):
        items = rec[key]
        if len(items) > 1:  # one is its own
            seen: dict[str, dict] = {}
            for item in items:
                value = item[value_key]
                kept = seen.setdefault(
                    value.lower() if key == "emails" else _NOT_DIGIT.sub("", value), item
                )
                if kept["kind"] == "other":
                    kept["kind"] = item["kind"]
            rec[key] = items = list(seen.values())
        if items:
            items[0]["primary"] = True


_NOT_DIGIT = re.compile(r"\D")
