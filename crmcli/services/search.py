"""Full-text search over contacts, companies, activity text and deal titles.

The index holds folded text (see values.fold_variants), so `muller` and `mueller` find Müller
and `weiss` finds Weiß; each query word is a prefix (`schmi` finds Schmidt). SQLite uses FTS5,
PostgreSQL a GIN-indexed tsvector; this module is the only place that knows the difference.
Entries are written by the services inside the same transaction as the record they describe.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import re
import unicodedata
from collections.abc import Iterable, Iterator

from peewee import JOIN

from crmcli.db import placeholder
from crmcli.models import Activity, Company, Contact, ContactField, Deal, database_proxy
from crmcli.services import prepared
from crmcli.values import fold, fold_variants

KIND_CODES = {"contact": 1, "company": 2, "activity": 3, "deal": 4}
# Ranking scores every match, so an unspecific query ("gmbh", "m") over a big index would cost
# time in proportion to its matches. Ranking looks at the newest CANDIDATES matches only; a
# query with more matches than that wants more words anyway.
CANDIDATES = 500
KINDS_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}
_WORD = re.compile(r"\w+", re.UNICODE)
# A token as FTS5's unicode61 tokenizer sees it: letters and digits ("_" separates).
_PG_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def rowid(kind: str, record_id: int) -> int:
    return record_id * 8 + KIND_CODES[kind]


def _sqlite() -> bool:
    from peewee import SqliteDatabase

    return isinstance(database_proxy.obj, SqliteDatabase)


# Names, companies and cities repeat from record to record (a bulk import's 100,000 contacts
# have a few thousand of each): the folds of non-ASCII ones are remembered (ASCII text folds
# as fast as it is looked up, and unique emails would only fill the cache).
_variants = functools.lru_cache(maxsize=16384)(fold_variants)


def body(*parts: str | None) -> str:
    """The folded text that represents a record in the index."""
    return " ".join(fold(p) if p.isascii() else _variants(p) for p in parts if p)


def put(entries: Iterable[tuple[int, str]], *, new: bool = False) -> None:
    """Insert or replace index entries (rowid, body); call inside the writer's transaction.
    `new`: the records were just inserted (ids are never reused), so nothing to replace."""
    entries = list(entries)
    if not entries:
        return
    db = database_proxy.obj
    if not new:
        remove_rowids([r for r, _ in entries])
    if _sqlite():
        sql, rows = "INSERT INTO search_index (rowid, body) VALUES ", entries
        mark = "(?, ?)"
    else:
        # PostgreSQL's parser keeps `jm@mueller-bau.de` as one token where FTS5 sees jm,
        # mueller, bau and de; the tsvector is made of the words FTS5 would see.
        sql = "INSERT INTO search_index (rowid, body, tsv) VALUES "
        rows = [(r, text, " ".join(_PG_WORD.findall(text))) for r, text in entries]
        mark = "(%s, %s, to_tsvector('simple', %s))"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        params = [v for row in chunk for v in row]
        db.execute_sql(sql + ", ".join([mark] * len(chunk)), params)


# FTS5's own default for automerge (what a table without the setting merges at).
_AUTOMERGE = 4


@contextlib.contextmanager
def bulk_writes() -> Iterator[None]:
    """Many entries in one transaction (a big import): on SQLite, FTS5 does not merge its
    segments as it goes (automerge 0; a third of the cost of 100,000 new entries) but only
    when too many pile up (crisismerge); the setting is put back before the transaction
    ends, so a rollback or a commit leaves it as it was. Call inside the transaction."""
    if not _sqlite():
        yield
        return
    db = database_proxy.obj
    found = db.execute_sql("SELECT v FROM search_index_config WHERE k = 'automerge'").fetchone()
    setting = "INSERT INTO search_index (search_index, rank) VALUES ('automerge', ?)"
    db.execute_sql(setting, (0,))
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # a failed statement may have ended the transaction
            db.execute_sql(setting, (found[0] if found else _AUTOMERGE,))
        raise
    db.execute_sql(setting, (found[0] if found else _AUTOMERGE,))


def remove(kind: str, record_ids: Iterable[int]) -> None:
    remove_rowids([rowid(kind, i) for i in record_ids])


def remove_rowids(ids: list[int]) -> None:
    db = database_proxy.obj
    mark = placeholder()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.execute_sql(
            f"DELETE FROM search_index WHERE rowid IN ({', '.join([mark] * len(chunk))})", chunk
        )


# Phone numbers are indexed as digits: the E.164 number's (494048977063), the national form's
# (04048977063), and the digits backwards behind this mark (zz360779840494), so that a
# query of a number's last digits (48977063) finds it as a prefix.
SUFFIX_MARK = "zz"
# A query is a phone number when it holds only digits, +, spaces, / ( ) . - and this many
# digits at least; a number's last digits find it from this many on.
PHONE_DIGITS, SUFFIX_DIGITS = 5, 6
_PHONE_QUERY = re.compile(r"\+?[\d\s/().-]+")


def phone_words(phone: str | None, e164: str | None) -> str:
    """The words that find a phone number in the index ("" without one): its E.164 digits,
    its national digits (trunk 0 and the national number) and its digits backwards."""
    if e164 and e164.startswith("+") and e164[1:].isdigit():
        digits = e164[1:]
        words = [digits]
        code = _country_code(digits)
        if code:
            words.append("0" + digits[len(code) :])
    else:
        digits = re.sub(r"\D", "", phone or "")
        if len(digits) < PHONE_DIGITS:
            return ""
        words = [digits]
    words.append(SUFFIX_MARK + digits[::-1])
    return " ".join(words)


@functools.cache
def _country_codes() -> frozenset[str]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE)


def _country_code(digits: str) -> str | None:
    """The country calling code an E.164 number's digits begin with (codes are prefix-free)."""
    return _code_of(digits[:3])


@functools.lru_cache(maxsize=2048)
def _code_of(head: str) -> str | None:
    # A code is at most three digits: a number's first three decide it. Cached: every
    # contact's phones are coded again for its index entry (a generator a number cost a
    # twentieth of a 100,000-contact import).
    codes = _country_codes()
    return next((head[:n] for n in (1, 2, 3) if head[:n] in codes), None)


def contact_body(
    name: str | None, email: str | None, company: str | None, city: str | None,
    notes: str | None, phone: str | None, e164: str | None, values: Iterable[str] = (),
    more_emails: Iterable[str] = (), more_phones: Iterable[tuple[str, str | None]] = (),
) -> str:  # fmt: skip
    """A contact's index text: name, primary email, its other emails, company, city (the
    company's when the contact has none: pass that), notes, custom-field values (in key
    order), then the words of its primary phone and of its other phones (phone, e164).
    A contact of one email and one phone has the entry it had before it could have more."""
    text = body(name, email, *more_emails, company, city, notes, *values)
    words = [phone_words(phone, e164), *(phone_words(p, e) for p, e in more_phones)]
    phone_text = " ".join(w for w in words if w)
    return f"{text} {phone_text}" if text and phone_text else text or phone_text


def company_body(
    name: str | None, domain: str | None, email: str | None, city: str | None,
    notes: str | None, phone: str | None, e164: str | None,
) -> str:  # fmt: skip
    """A company's index text: name, domain, email, city, notes, then its phone's words."""
    text = body(name, domain, email, city, notes)
    phone_text = phone_words(phone, e164)
    return f"{text} {phone_text}" if text and phone_text else text or phone_text


def contact_entries(
    contact_ids: Iterable[int] | None = None, *, secondaries: bool = True
) -> list[tuple[int, str]]:
    """Index entries for contacts (all of them when `contact_ids` is None): four queries
    (two when the caller knows they have no more than one email and one phone:
    `secondaries` False)."""
    ids = None if contact_ids is None else list(contact_ids)
    query = (
        Contact.select(
            Contact.id,
            Contact.name,
            Contact.email,
            Company.name,
            Contact.city,
            Company.city,
            Contact.notes,
            Contact.phone,
            Contact.phone_e164,
        )  # fmt: skip
        .join(Company, on=(Contact.company == Company.id), join_type=JOIN.LEFT_OUTER)
        .tuples()
    )
    fields = ContactField.select(ContactField.contact, ContactField.value).order_by(
        ContactField.contact, ContactField.key
    )
    if ids is not None:
        query = query.where(_among(Contact.id, ids))
        fields = fields.where(_among(ContactField.contact, ids))
    values: dict[int, list[str]] = {}
    db = database_proxy.obj
    for cid, value in db.execute(fields):  # the cursor's tuples: no row wrappers
        values.setdefault(cid, []).append(value)
    emails, phones = _secondaries(ids) if secondaries else ({}, {})
    return [
        (
            rowid("contact", cid),
            contact_body(
                name,
                email,
                firm,
                city or firm_city,
                notes,
                phone,
                e164,
                values.get(cid, ()),
                emails.get(cid, ()),
                phones.get(cid, ()),
            ),
        )  # fmt: skip
        for cid, name, email, firm, city, firm_city, notes, phone, e164 in db.execute(query)
    ]


def _among(column, ids: list[int]):
    """`column IN ids`, as BETWEEN when the ids are a run (what a bulk insert just made):
    peewee builds an IN list a value at a time, ~10 µs each."""
    if ids and ids[-1] - ids[0] == len(ids) - 1 and ids == list(range(ids[0], ids[-1] + 1)):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _secondaries(ids: list[int] | None) -> tuple[dict[int, list], dict[int, list]]:
    """The emails and phones of these contacts (all when None) but the primaries, in their
    order: two queries per 500 contacts (one for all), and none of a contact with one of each."""
    from crmcli.models import ContactEmail, ContactPhone

    emails: dict[int, list] = {}
    phones: dict[int, list] = {}
    parts = [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
    for part in parts:
        query = ContactEmail.select(ContactEmail.contact, ContactEmail.email).where(
            ~ContactEmail.is_primary
        )
        if part is not None:
            query = query.where(_among(ContactEmail.contact, part))
        query = query.order_by(ContactEmail.contact, ContactEmail.position)
        for cid, email in database_proxy.obj.execute(query):
            emails.setdefault(cid, []).append(email)
        rows = ContactPhone.select(
            ContactPhone.contact, ContactPhone.phone, ContactPhone.phone_e164
        ).where(~ContactPhone.is_primary)
        if part is not None:
            rows = rows.where(_among(ContactPhone.contact, part))
        rows = rows.order_by(ContactPhone.contact, ContactPhone.position)
        for cid, phone, e164 in database_proxy.obj.execute(rows):
            phones.setdefault(cid, []).append((phone, e164))
    return emails, phones


def company_entries(company_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    query = Company.select(
        Company.id, Company.name, Company.domain, Company.email, Company.city, Company.notes,
        Company.phone, Company.phone_e164,
    ).tuples()  # fmt: skip
    if company_ids is not None:
        query = query.where(Company.id.in_(list(company_ids)))
    return [(rowid("company", cid), company_body(*rest)) for cid, *rest in query]


def activity_entries(activity_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    """Index entries for activities with any text (subject, body, outcome)."""
    query = Activity.select(Activity.id, Activity.subject, Activity.body, Activity.outcome).where(
        Activity.subject.is_null(False)
        | Activity.body.is_null(False)
        | Activity.outcome.is_null(False)
    )
    if activity_ids is not None:
        query = query.where(Activity.id.in_(list(activity_ids)))
    return [(rowid("activity", aid), body(*rest)) for aid, *rest in query.tuples()]


def deal_entries(deal_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    """Index entries for deals: their titles."""
    query = Deal.select(Deal.id, Deal.title).tuples()
    if deal_ids is not None:
        query = query.where(Deal.id.in_(list(deal_ids)))
    return [(rowid("deal", did), body(title)) for did, title in query]


def reindex_deals(deal_ids: Iterable[int]) -> None:
    put(deal_entries(deal_ids))


def reindex_contacts(contact_ids: Iterable[int], *, secondaries: bool = True) -> None:
    """Rewrite these contacts' entries (see contact_entries for `secondaries`)."""
    put(contact_entries(contact_ids, secondaries=secondaries))


def reindex_companies(company_ids: Iterable[int]) -> None:
    """Index entries for companies, and for their people those that changed: a contact's
    entry holds its company's name, and its city when the contact has none."""
    ids = list(company_ids)
    put(company_entries(ids))
    people = []
    for start in range(0, len(ids), 500):
        chunk = Contact.select(Contact.id).where(Contact.company.in_(ids[start : start + 500]))
        people += [cid for (cid,) in chunk.tuples()]
    entries = contact_entries(people) if people else []
    stored = _stored([r for r, _ in entries])
    put([(r, text) for r, text in entries if stored.get(r) != text])


def _stored(ids: list[int]) -> dict[int, str]:
    """The bodies the index holds for these rowids."""
    db = database_proxy.obj
    mark = placeholder()
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join([mark] * len(chunk))
        sql = f"SELECT rowid, body FROM search_index WHERE rowid IN ({marks})"
        out.update(db.execute_sql(sql, chunk).fetchall())
    return out


def rebuild() -> int:
    """Rebuild the whole index from the records (for `crm db check --repair`)."""
    db = database_proxy.obj
    with db.atomic():
        db.execute_sql("DELETE FROM search_index")
        entries = contact_entries() + company_entries() + activity_entries() + deal_entries()
        put(entries)
        if _sqlite():  # one segment again: queries need not merge the rewritten ones
            db.execute_sql("INSERT INTO search_index (search_index) VALUES ('optimize')")
    return len(entries)


def missing_entries() -> dict[str, int]:
    """How many records of each kind have no index entry (0 everywhere when in sync)."""
    db = database_proxy.obj
    out = {}
    texted = "(subject IS NOT NULL OR body IS NOT NULL OR outcome IS NOT NULL)"
    for kind, table, only in (
        ("contact", "contact", "1=1"),
        ("company", "company", "1=1"),
        ("activity", "activity", texted),
        ("deal", "deal", "1=1"),
    ):
        code = KIND_CODES[kind]
        if _sqlite():
            sql = (
                f"SELECT count(*) FROM {table} "
                f"WHERE {only} AND id * 8 + {code} NOT IN (SELECT rowid FROM search_index)"
            )
        else:
            # NOT EXISTS plans as an anti-join; NOT IN re-scans the index per row once the
            # rowids outgrow work_mem. The cast keeps ids above 2**28 from overflowing.
            sql = (
                f"SELECT count(*) FROM {table} t WHERE {only} AND NOT EXISTS (SELECT 1 FROM "
                f"search_index s WHERE s.rowid = CAST(t.id AS BIGINT) * 8 + {code})"
            )
        out[kind] = db.execute_sql(sql).fetchone()[0]
    return out


_TRANSLITERATED = re.compile(r"([aou])e")


def skeleton(text: str) -> str:
    """The form under which filters compare text: search's fold (case, accents, `ß`->`ss`)
    with German transliterations undone (`ae`/`oe`/`ue` -> `a`/`o`/`u`), so that Köln, Koeln,
    KÖLN and koeln are one city and Weiß equals weiss."""
    return _TRANSLITERATED.sub(r"\1", fold(text))


# ---------------------------------------------------------------- text filters

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
# How many contracted spellings a filter looks up at most (2 ** this many ae/oe/ue); beyond
# that a filter reads every distinct value instead.
_MAX_CONTRACTIONS = 10
# The bounded scan of a raw column: at most this many case spellings of the query's start,
# spelled out for at most this many characters.
_MAX_SPELLINGS, _MAX_SPELLED = 4, 10


def german_fold(text: str) -> str:
    """fold() with German umlauts written out first: Köln -> koeln, Müller -> mueller."""
    return fold(unicodedata.normalize("NFC", text).translate(_GERMAN))


def same_text(a: str, b: str) -> bool:
    """Whether two values are the same text as filters compare text: equal folds (case,
    accents, `ß`: Köln = KÖLN = koln, Weiß = weiss) or equal with umlauts written out
    (Köln = Koeln, Müller = mueller). A transliteration is undone only where the other side
    has the umlaut, so Bauer and Baur, Soest and Sost, Michael and Michal stay different."""
    return fold(a) == fold(b) or german_fold(a) == german_fold(b)


def _spellings(text: str) -> set[str] | None:
    """Every fold() a value the same as `text` (see same_text) can have: its own fold and its
    written-out form with any of its ae/oe/ue contracted (koeln: koeln, koln). None when there
    are too many to look up."""
    want = german_fold(text)
    spots = [i for i in range(len(want) - 1) if want[i] in "aou" and want[i + 1] == "e"]
    if len(spots) > _MAX_CONTRACTIONS:
        return None
    out = {fold(text)}
    for mask in range(2 ** len(spots)):
        cut = {spots[j] + 1 for j in range(len(spots)) if mask >> j & 1}
        out.add("".join(c for i, c in enumerate(want) if i not in cut))
    return out


def _raw_column(column):
    """The column a `*_fold` column folds (Contact.city for Contact.city_fold), else None."""
    name = column.name
    if not name.endswith("_fold"):
        return None
    return column.model._meta.fields.get(name[: -len("_fold")])


def text_filter(column, text: str, *, where=None):
    """A condition: rows whose `column` holds the same text as `text` (see same_text), among
    rows matching `where`. A `*_fold` column (city_fold) is looked up through its index by
    every spelling the text can have; the raw value tells the ones that only look alike
    (Baur for Bauer) apart. Any other text column: `column IN (matching_values(...))`."""
    raw = _raw_column(column)
    if raw is None:
        return column.in_(matching_values(column, text, where=where))
    plain = fold(text)
    spellings = _spellings(text)
    query = column.model.select(column, raw).distinct().where(raw.is_null(False))
    if spellings is not None:
        query = query.where(column.in_(sorted(spellings - {plain})))
    if where is not None:
        query = query.where(where)
    found = [(f, v) for f, v in query.tuples() if f != plain and same_text(v, text)]
    cond = column == plain
    if found:
        cond |= column.in_(sorted({f for f, _ in found})) & raw.in_(sorted({v for _, v in found}))
    return cond if where is None else cond & where


def matching_values(column, text: str, *, where=None) -> list:
    """The distinct stored values of `column` (optionally among rows matching `where`) that
    hold the same text as `text` (see same_text), for a `column IN (...)` condition.

    Only values that can fold to the text are read (a bounded scan through the column's
    index: values that begin with a case spelling of the text's first letters, or with a
    character that folds). A `*_fold` column gives the folds of the matching rows; a fold
    may stand for rows that only look alike, so filter such columns with text_filter."""
    raw = _raw_column(column)
    if raw is not None:
        cond = text_filter(column, text, where=where)
        rows = column.model.select(column).distinct().where(cond)
        return [f for (f,) in rows.tuples()]
    base = column.is_null(False) if where is None else column.is_null(False) & where
    ranges = _starts(column, _common_start(text))
    if ranges is None:
        query = column.model.select(column).distinct().where(base)
    else:  # one arm per range, each a walk of the column's index (UNION drops repeats)
        arms = [column.model.select(column).where(base & cond) for cond in ranges]
        query = functools.reduce(operator.or_, arms)
    return [value for (value,) in query.tuples() if same_text(value, text)]


def _common_start(text: str) -> str:
    """What the fold of every value the same as `text` begins with: the written-out form up
    to its first ae/oe/ue's vowel (koeln: ko; k-10849: all of it)."""
    want = german_fold(text)
    for i in range(len(want) - 1):
        if want[i] in "aou" and want[i + 1] == "e":
            return want[: i + 1]
    return want


def _starts(column, start: str) -> list | None:
    """Conditions on a text column, one of which holds for every value whose fold() begins
    with `start` (and for some others): ranges of the column's index. A value's ASCII
    characters fold one to one (letters to lower case); at the first other character
    (accented, full-width, space or control) alignment ends, so each spelled prefix also
    admits whatever continues with such a character. None when `start` is empty."""
    if not start:
        return None
    ranges: list[tuple[str, str | None]] = []
    prefixes = [""]
    for ch in start[:_MAX_SPELLED]:
        for p in prefixes:
            ranges.append((p, p + "!"))  # p, then a space or control character
            ranges.append((p + "\x80", _after(p)))  # p, then a non-ASCII character
        if not ch.isascii():
            prefixes = []
            break
        variants = sorted({ch, ch.upper()})
        if len(prefixes) * len(variants) > _MAX_SPELLINGS:
            break
        prefixes = [p + v for p in prefixes for v in variants]
    ranges += [(p, _after(p)) for p in prefixes]
    return _in_ranges(column, ranges)


def _after(prefix: str) -> str | None:
    """The least string above every string that begins with `prefix` (None: no bound)."""
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _in_ranges(column, ranges: list[tuple[str, str | None]]) -> list:
    """`low <= column < high` for each range, in code point order as SQLite's BINARY
    collation orders the index (PostgreSQL compares with COLLATE "C" for that)."""
    from peewee import SQL, NodeList

    value = column if _sqlite() else NodeList((column, SQL('COLLATE "C"')))
    return [
        (value >= low) & (value < high) if high is not None else value >= low
        for low, high in ranges
    ]


def query_terms(query: str) -> list[str]:
    """The folded words of a query; each is matched as a prefix."""
    return _WORD.findall(fold(query))


def searchable(query: str) -> bool:
    """Whether `query` holds anything to look for (a word, a number): "" and "!!!" do not,
    and search finds nothing for them."""
    return bool(_query_groups(query) or phone_prefixes(query))


def _query_groups(query: str) -> list[list[tuple[str, bool]]]:
    """The query's words as the index holds them, grouped by what the query writes without
    a space (K-10849, jm@mueller-bau.de): a group's words must follow one another in the
    entry. Each word is a prefix, except a single character inside a group (the k of
    K-10849), which is a word of its own: as a prefix it would match every word with k."""
    groups = []
    for chunk in fold(query).split():
        words = _PG_WORD.findall(chunk)
        if words:
            last = len(words) - 1
            groups.append(
                [(w, (len(w) == 1 and i < last) or _marked(w)) for i, w in enumerate(words)]
            )
    return groups


def _marked(word: str) -> bool:
    """A word the index's reversed phone digits could start with (zz, zz36...): typed by a
    person it is a whole word, never a prefix, so `zz` does not list everyone with a phone."""
    return word.startswith(SUFFIX_MARK) and (
        word[len(SUFFIX_MARK) :].isdigit() or word == SUFFIX_MARK
    )


def phone_prefixes(query: str) -> list[str]:
    """The index words a query that is a phone number looks for as prefixes ([] when it is
    not one): its E.164 digits (+49 40 489..., 0049 40 489...), its digits as typed
    (040/489..., 494048...) and, from SUFFIX_DIGITS digits on, its last digits (48977063).
    `(0)` after a country code is the trunk prefix written in brackets: left out."""
    text = query.strip()
    if not _PHONE_QUERY.fullmatch(text):
        return []
    digits = re.sub(r"\D", "", text.replace("(0)", "") if text.startswith("+") else text)
    if len(digits) < PHONE_DIGITS:
        return []
    if digits.startswith("00"):
        digits = digits[2:]
    out = [digits]
    significant = digits.lstrip("0")  # a trunk 0 is not among an E.164 number's digits
    if len(significant) >= SUFFIX_DIGITS:
        out.append(SUFFIX_MARK + significant[::-1])
    return out


def search(
    query: str, *, limit: int = 20, offset: int = 0, kinds: Iterable[str] = ()
) -> list[dict]:
    """Records matching every word of `query` (as prefixes; words written together, as in
    K-10849, one after the other), or its phone number (see phone_prefixes), best first:
    plain data with the HIT_FIELDS of every kind (amounts Decimal, moments datetimes)."""
    return _describe_hits(_hit_rowids(query, limit=limit, offset=offset, kinds=kinds))


def matching_ids(query: str, kind: str, *, limit: int = CANDIDATES) -> list[int]:
    """The ids of the records of one kind that `search` finds for `query`, best first (no
    more than `limit`): what a screen narrows a big list to as its user types."""
    return [h // 8 for h in _hit_rowids(query, limit=limit, offset=0, kinds=(kind,))]


def _hit_rowids(query: str, *, limit: int, offset: int, kinds: Iterable[str]) -> list[int]:
    """The index rows (rowid: id * 8 + kind code) that match `query`, best first."""
    groups = _query_groups(query)
    phone = phone_prefixes(query)
    if not groups:
        return []
    codes = [KIND_CODES[k] for k in kinds]
    db = database_proxy.obj
    if _sqlite():
        match = " AND ".join(
            " + ".join(f'"{w}"' if exact else f'"{w}"*' for w, exact in group) for group in groups
        )
        if phone:
            match = " OR ".join([f"({match})", *(f'"{p}"*' for p in phone)])
        where = "search_index MATCH ?"
        params: list = [match]
        if codes:
            where += f" AND (rowid % 8) IN ({', '.join(str(c) for c in codes)})"
        # The newest CANDIDATES matches (FTS5 walks its doclists by rowid), ranked by bm25,
        # equal ranks newest first (as on PostgreSQL).
        sql = (
            f"SELECT rowid FROM (SELECT rowid, rank FROM search_index WHERE {where} "
            f"ORDER BY rowid DESC LIMIT {CANDIDATES}) ORDER BY rank, rowid DESC LIMIT ? OFFSET ?"
        )
    else:
        tsquery = " & ".join(
            "(" + " <-> ".join(w if exact else f"{w}:*" for w, exact in group) + ")"
            for group in groups
        )
        if phone:
            tsquery = " | ".join([f"({tsquery})", *(f"{p}:*" for p in phone)])
        # One statement (see PG_SEARCH_FUNCTION): the newest CANDIDATES matches of each kind,
        # then those ranked. Normalisation 1 divides by the log of the body's length, as bm25
        # favours short rows: a name hit ranks above the same word deep in someone's notes.
        sql = "SELECT crm_search_hits(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        params = [tsquery, codes or list(KINDS_BY_CODE), CANDIDATES, PROBE, WALK, LOOKUP]
        params += [STRETCH_MARGIN, FAR_WALK, COMMON]
    params += [limit, offset]
    return [r[0] for r in db.execute_sql(sql, params).fetchall()]


# PostgreSQL: the newest CANDIDATES matches of each kind, found without reading every match or
# every row. Its planner, asked for them in one query, either walks the rows backwards
# (fast when matches are dense among the newest rows, a read of millions when they are rare
# there: `gmbh` in no activity) or reads every match from the table (fast when rare, 300,000
# rows for `an`; each match a page of the table read, ~1-4 µs). So each kind (with its own
# rowid and GIN indexes, migrations 0011 and 0019) is probed: its newest PROBE rows are
# read; a fragment dense there is looked for in the next WALK ids of the kind, walked newest
# first and no further than the matches wanted. A sparser one comes from the kind's GIN
# index a stretch of ids at a time, newest first (see RECENT_WORDS): the index finds the
# matches among those ids by itself, and only they are read from the table (`weiss` at a
# million contacts: about a thousand rows of its 14,600 matches). A fragment found
# nowhere among the newest is walked to a little when the planner expects it to be common,
# else looked up whole (rare: a few rows; no more than LOOKUP are read). The steps run in
# the server, as one statement (PG_SEARCH_FUNCTION): under load each round trip to it risks
# a wait for the CPU, and these were a dozen and more.
PROBE = 1000
# Ids walked at most (~2-3 ms), or as many as the kind's matches at the density seen (a
# GIN look-up of a prefix reads every match of it: `schmi`, 58,000 contacts, ~15 ms).
WALK = 8000
LOOKUP = 1000  # matches read at once through the GIN index when none were among the newest
# Walked on, newest first, instead of the GIN index for a fragment found among the walked
# rows too thinly for the WALK but matching at least COMMON rows (the planner's estimate):
# a look-up of such a prefix reads every one of its postings (`an`, 2.7 million: 60 ms
# however few ids it is limited to), walking FAR_WALK ids costs ~10 ms at most and stops at
# the matches wanted (`an` after 4,000 newest activities without it: 85 -> 10 ms).
FAR_WALK = 32000
COMMON = 500_000
# Each kind's GIN index (migration 0019) holds, besides the entry's words, one word per
# stretch of 2 ** (BUCKET_SHIFT - 3) ids (rowid >> BUCKET_SHIFT, as `_12`): a query for a
# fragment AND a few of those finds the fragment's matches among those ids within the index.
# No query word has `_` (_PG_WORD), so they never match one. The expression is the index's,
# as migration 0019 wrote it (the planner matches it to the index).
BUCKET_SHIFT = 17
RECENT_WORDS = "(tsv || array_to_tsvector(ARRAY['_' || (rowid >> 17)::text]))"
# The first stretch holds the matches wanted at the density seen among the newest rows, and
# this much more: a shortfall costs a second look-up, a surplus only the rows read.
STRETCH_MARGIN = 1.25

# The server side of search on PostgreSQL: crm_search_hits(tsquery text, kind codes, then
# CANDIDATES, PROBE, WALK, LOOKUP, STRETCH_MARGIN, FAR_WALK, COMMON, then limit, offset[,
# explain]) gives the page of rowids. Per kind: the probe, the walk (further for a common
# fragment), the look-up, the stretches (see above), each a statement planned for its
# values (EXECUTE) under the plan it needs: the kind's rowid index walked (probe, walk) or
# its GIN index (look-up, stretches); never parallel workers
# (their start cost ~30 ms, more than any step) nor JIT compilation (a forced plan's cost
# can pass its threshold). The function's SET clauses put every setting back when it
# returns, inside a caller's transaction too. With `explain`, each statement is also run
# under EXPLAIN ANALYZE (crm_search_explained) and shown as a NOTICE (bench/pg_plans.py).
# Databases keep the functions they were given: a change here needs a migration that runs
# install_pg_search again (as 0019 and 0021 do).
PG_SEARCH_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_search_explained(
    sql text, last bigint, floor_ bigint, q text, buckets text, need bigint
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    line text;
    shown text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, SETTINGS) ' || sql
        USING last, floor_, q, buckets, need
    LOOP
        shown := shown || E'\n' || line;
    END LOOP;
    RAISE NOTICE E'%\n-- [%]%', sql, concat_ws(', ', last, floor_, q, buckets, need), shown;
END
$fn$;

CREATE OR REPLACE FUNCTION crm_search_hits(
    q text, codes int[], candidates int, probe int, walk int, lookup int, margin float8,
    far_walk int, common float8, lim int, skip int, explain boolean DEFAULT false
) RETURNS SETOF bigint LANGUAGE plpgsql
SET max_parallel_workers_per_gather = 0 SET jit = off SET enable_seqscan = off
SET enable_indexscan = on SET enable_bitmapscan = on
AS $fn$
DECLARE
    words constant text := '@WORDS@';
    kind text;
    sql text;
    code int;
    walked bigint;
    last bigint;
    floor_ bigint;
    need bigint;
    looked bigint;
    budget bigint;
    stretch bigint;
    top bigint;
    low bigint;
    buckets text;
    density float8;
    plan json;
    found bigint[];
    got bigint[];
    newest bigint[] := '{}';
    done boolean;
    far boolean;
BEGIN
    FOREACH code IN ARRAY codes LOOP
        kind := format('mod(rowid, 8) = %s', code);
        last := NULL;
        floor_ := NULL;
        buckets := NULL;
        need := NULL;
        -- Every statement takes the same values: $1 last, $2 floor_, $3 q, $4 buckets, $5 need.
        -- The probe and the walk: the kind's rowid index, newest first.
        PERFORM set_config('enable_indexscan', 'on', true),
            set_config('enable_bitmapscan', 'off', true);
        sql := format(
            'SELECT count(*), min(rowid), array_agg(rowid ORDER BY rowid DESC) '
            'FILTER (WHERE tsv @@ to_tsquery(''simple'', $3)) FROM (SELECT rowid, tsv '
            'FROM search_index WHERE %s ORDER BY rowid DESC LIMIT %s) AS newest', kind, probe);
        IF explain THEN
            PERFORM crm_search_explained(sql, last, floor_, q, buckets, need);
        END IF;
        EXECUTE sql INTO walked, last, found USING last, floor_, q, buckets, need;
        found := coalesce(found, '{}');
        need := candidates - cardinality(found);
        IF walked < probe OR need <= 0 THEN  -- no more rows of the kind, or enough found
            newest := newest || found[1:candidates];
            CONTINUE;
        END IF;
        -- Walk on while the matches seen say the rest are near enough: each stretch twice as
        -- long as the density seen predicts. Rowids are id * 8 + kind and ids only grow, so
        -- a stretch of rowids holds at most that many of the kind's rows. Near enough: no
        -- more ids than `walk`, or than the matches the kind holds at that density (the GIN
        -- index reads all of those for a fragment: a prefix is looked up whole). None among
        -- the newest: `walk` ids at the density the planner expects, when that is more than
        -- `lookup` matches (`an`, missing from the newest activities, common before them);
        -- its statistics are of all kinds (`gmbh`: common, but in no activity).
        looked := probe;
        IF cardinality(found) > 0 THEN
            density := cardinality(found)::float8 / looked;
            budget := greatest(walk, trunc(density * (last / 8))::bigint);
        ELSE
            budget := walk;
            EXECUTE format(
                'EXPLAIN (FORMAT JSON) SELECT rowid FROM search_index WHERE %s '
                'AND tsv @@ to_tsquery(''simple'', $3)', kind)
                INTO plan USING last, floor_, q, buckets, need;
            density := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8 / greatest(1, last / 8);
            IF density * (last / 8) < lookup THEN
                density := 0;
            END IF;
        END IF;
        done := false;
        far := false;
        sql := format(
            'SELECT array_agg(rowid ORDER BY rowid DESC) FROM (SELECT rowid FROM search_index '
            'WHERE %s AND rowid < $1 AND rowid >= $2 AND tsv @@ to_tsquery(''simple'', $3) '
            'ORDER BY rowid DESC LIMIT $5) AS walked', kind);
        LOOP
            WHILE density > 0 AND need <= density * budget LOOP
                stretch := least(budget, greatest(probe, trunc(2 * need / density)::bigint));
                floor_ := last - 8 * stretch;
                IF explain THEN
                    PERFORM crm_search_explained(sql, last, floor_, q, buckets, need);
                END IF;
                EXECUTE sql INTO got USING last, floor_, q, buckets, need;
                found := found || coalesce(got, '{}');
                need := need - coalesce(cardinality(got), 0);
                IF need = 0 OR floor_ <= 0 THEN
                    done := true;
                    EXIT;
                END IF;
                last := floor_;
                looked := looked + stretch;
                budget := budget - stretch;
                -- The density seen (half the expected one while none is seen).
                density := CASE WHEN cardinality(found) > 0
                    THEN cardinality(found)::float8 / looked ELSE density / 2 END;
            END LOOP;
            -- Found among the walked rows, too thinly to find the rest within the walk (the
            -- newest rows lack it: a burst of calls, an import): a fragment of `common`
            -- matches and more is walked on, up to `far_walk` ids more, as long as the
            -- density seen says they hold the rest; the GIN index would read all its matches.
            EXIT WHEN done OR far OR cardinality(found) = 0;
            EXECUTE format(
                'EXPLAIN (FORMAT JSON) SELECT rowid FROM search_index WHERE %s '
                'AND tsv @@ to_tsquery(''simple'', $3)', kind)
                INTO plan USING last, floor_, q, buckets, need;
            EXIT WHEN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8 < common;
            far := true;
            budget := far_walk;
        END LOOP;
        IF done THEN
            newest := newest || found;
            CONTINUE;
        END IF;
        -- Sparse among the newest: the older matches through the kind's GIN index.
        -- `rowid + 0`: no B-tree range to AND with the GIN index's rows (it would read them).
        PERFORM set_config('enable_indexscan', 'off', true),
            set_config('enable_bitmapscan', 'on', true);
        IF cardinality(found) = 0 THEN
            -- None among the newest: all older matches at once when they are few (no more
            -- than `lookup` are read; more are common in older rows, found by stretches).
            sql := format(
                'SELECT array_agg(rowid ORDER BY rowid DESC), count(*) FROM (SELECT rowid '
                'FROM search_index WHERE %s AND rowid + 0 < $1 '
                'AND %s @@ to_tsquery(''simple'', $3) LIMIT %s) AS looked',
                kind, words, lookup);
            IF explain THEN
                PERFORM crm_search_explained(sql, last, floor_, q, buckets, need);
            END IF;
            EXECUTE sql INTO got, walked USING last, floor_, q, buckets, need;
            IF walked < lookup THEN
                newest := newest || coalesce(got[1:need], '{}');
                CONTINUE;
            END IF;
        END IF;
        -- Stretches of buckets, newest first: the first holds the matches still wanted at
        -- the density seen, with a margin (four buckets when none was seen), each next one
        -- twice as long.
        top := (last - 1) >> @SHIFT@;
        low := (last - 8 * trunc(CASE WHEN cardinality(found) > 0
            THEN need::float8 * looked / cardinality(found) * margin
            ELSE 4 << (@SHIFT@ - 3) END)::bigint) >> @SHIFT@;
        stretch := greatest(1, top - low + 1);
        sql := format(
            'SELECT array_agg(rowid ORDER BY rowid DESC) FROM (SELECT rowid FROM search_index '
            'WHERE %s AND rowid + 0 < $1 AND %s @@ (to_tsquery(''simple'', $3) && $4::tsquery) '
            'ORDER BY rowid DESC LIMIT $5) AS stretch', kind, words);
        WHILE need > 0 AND top >= 0 LOOP
            low := greatest(0, top - stretch + 1);
            SELECT string_agg(format('''_%s''', b), ' | ' ORDER BY b DESC) INTO buckets
                FROM generate_series(low, top) AS b;
            IF explain THEN
                PERFORM crm_search_explained(sql, last, floor_, q, buckets, need);
            END IF;
            EXECUTE sql INTO got USING last, floor_, q, buckets, need;
            found := found || coalesce(got, '{}');
            need := need - coalesce(cardinality(got), 0);
            last := low << @SHIFT@;
            top := low - 1;
            stretch := stretch * 2;
        END LOOP;
        newest := newest || found;
    END LOOP;
    IF cardinality(newest) = 0 THEN
        RETURN;
    END IF;
    -- The newest `candidates` of all kinds, ranked (the rank as search.py's comment says).
    newest := ARRAY(SELECT r FROM unnest(newest) AS r ORDER BY r DESC LIMIT candidates);
    last := NULL;
    floor_ := NULL;
    buckets := NULL;
    need := NULL;
    PERFORM set_config('enable_indexscan', 'on', true);
    sql := format(
        'SELECT rowid FROM search_index WHERE rowid = ANY(%L::bigint[]) ORDER BY '
        'ts_rank(tsv, to_tsquery(''simple'', $3), 1) DESC, rowid DESC LIMIT %s OFFSET %s',
        newest, lim, skip);
    IF explain THEN
        PERFORM crm_search_explained(sql, last, floor_, q, buckets, need);
    END IF;
    RETURN QUERY EXECUTE sql USING last, floor_, q, buckets, need;
END
$fn$;
""".replace("@WORDS@", RECENT_WORDS.replace("'", "''")).replace("@SHIFT@", str(BUCKET_SHIFT))


def install_pg_search(db) -> None:
    """Make (or replace) crm_search_hits and crm_search_explained in a PostgreSQL database
    (migration 0019)."""
    db.execute_sql(PG_SEARCH_FUNCTION.replace("%", "%%"))  # the driver formats even no values


def _describe_hits(hits: list[int]) -> list[dict]:
    by_kind: dict[str, list[int]] = {}
    for h in hits:
        by_kind.setdefault(KINDS_BY_CODE[h % 8], []).append(h // 8)
    found: dict[tuple[str, int], dict] = {}
    if by_kind.get("contact"):
        rows = prepared.by_ids("search_contacts", _contacts_named, by_kind["contact"])
        for cid, name, email, company, city in rows:
            found[("contact", cid)] = _hit(
                "contact", cid, name, contact_id=cid, contact=name, email=email,
                company=company, city=city,
            )  # fmt: skip
    if by_kind.get("company"):
        rows = prepared.by_ids("search_companies", _companies_named, by_kind["company"])
        for cid, name, domain, city in rows:
            found[("company", cid)] = _hit(
                "company", cid, name, company=name, city=city, domain=domain
            )
    if by_kind.get("activity"):
        found.update(_describe_activities(by_kind["activity"]))
    if by_kind.get("deal"):
        found.update(_describe_deals(by_kind["deal"]))
    out = []
    for h in hits:
        item = found.get((KINDS_BY_CODE.get(h % 8), h // 8))
        if item is not None:
            out.append(item)
    return out


# What every hit carries, whatever its kind (None where a kind has no such thing), so a
# front end gets one shape: it words `detail` from these (see commands/search.py).
HIT_FIELDS = (
    "kind", "id", "name", "contact_id", "contact", "email", "company", "city", "domain",
    "activity", "at", "summary", "stage", "amount", "currency",
)  # fmt: skip


def _hit(kind: str, record_id: int, name: str | None, **values) -> dict:
    return {field: None for field in HIT_FIELDS} | {
        "kind": kind,
        "id": record_id,
        "name": name,
        **values,
    }


def _contacts_named(ids: list[int]):
    return (
        Contact.select(Contact.id, Contact.name, Contact.email, Company.name, Contact.city)
        .join(Company, on=(Contact.company == Company.id), join_type=JOIN.LEFT_OUTER)
        .where(Contact.id.in_(ids))
    )


def _companies_named(ids: list[int]):
    return Company.select(Company.id, Company.name, Company.domain, Company.city).where(
        Company.id.in_(ids)
    )


def _activities_named(ids: list[int]):
    return (
        Activity.select(
            Activity.id,
            Activity.kind,
            Activity.occurred_at,
            Activity.subject,
            Activity.body,
            Activity.contact,
            Contact.name,
            Contact.email,
            Company.name,
            Contact.city,
        )  # fmt: skip
        .join(Contact, JOIN.LEFT_OUTER, on=(Activity.contact == Contact.id))
        .join(Company, JOIN.LEFT_OUTER, on=(Activity.company == Company.id))
        .where(Activity.id.in_(ids))
    )


def _describe_activities(ids: list[int]) -> dict[tuple[str, int], dict]:
    """Activity hits, named by the contact (or company) they belong to: its kind (`activity`),
    when (`at`) and its subject, else its text, whitespace folded (`summary`)."""
    rows = prepared.by_ids("search_activities", _activities_named, ids)
    out = {}
    for aid, kind, at, subject, text, cid, name, email, company, city in rows:
        out[("activity", aid)] = _hit(
            "activity", aid, name or company, contact_id=cid, contact=name, email=email,
            company=company, city=city, activity=kind, at=at,
            summary=" ".join((subject or text or "").split()),
        )  # fmt: skip
    return out


def _deals_named(ids: list[int]):
    from crmcli.models import Stage

    return (
        Deal.select(
            Deal.id,
            Deal.title,
            Stage.name,
            Deal.amount_cents,
            Deal.currency,
            Deal.contact,
            Contact.name,
            Contact.email,
            Company.name,
            Contact.city,
        )  # fmt: skip
        .join(Stage, on=(Deal.stage == Stage.id))
        .join(Contact, JOIN.LEFT_OUTER, on=(Deal.contact == Contact.id))
        .join(Company, JOIN.LEFT_OUTER, on=(Deal.company == Company.id))
        .where(Deal.id.in_(ids))
    )


def _describe_deals(ids: list[int]) -> dict[tuple[str, int], dict]:
    """Deal hits: the title, with stage, amount (Decimal) and who it is with."""
    from decimal import Decimal

    rows = prepared.by_ids("search_deals", _deals_named, ids)
    out = {}
    for did, title, stage, cents, currency, cid, name, email, company, city in rows:
        out[("deal", did)] = _hit(
            "deal", did, title, contact_id=cid, contact=name, email=email, company=company,
            city=city, stage=stage, currency=currency,
            amount=None if cents is None else Decimal(cents).scaleb(-2),
        )  # fmt: skip
    return out
