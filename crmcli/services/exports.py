"""Exports: contacts as CONTACT RECORDs (every email, phone, tag and custom field), read in
batches, and the whole database as a dump that `restore_dump` puts back into an empty one.

Everything here streams: rows are read a batch at a time (keyset by id, one query per batch
and related table, never one per row), so an export of a million contacts holds one batch.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import UTC, date, datetime
from typing import Any

from crmcli.db import fresh_statistics
from crmcli.errors import CrmError, Invalid
from crmcli.models import (
    Campaign,
    CampaignKeyword,
    Company,
    Contact,
    ContactField,
    Tag,
    database_proxy,
)

# Contacts read (with their emails, phones, tags and fields) per round of queries.
BATCH = 2000
NO_YEAR = 1604  # values.NO_YEAR: a birthday stored without its year

# ---------------------------------------------------------------- contact records

_RECORD_COLUMNS = (
    Contact.id, Contact.name, Company.name, Contact.position, Contact.street, Contact.zip,
    Contact.city, Contact.country, Contact.notes, Contact.status, Contact.source, Contact.owner,
    Contact.birthday, Contact.consent, Contact.consent_at, Contact.cadence_days,
    Contact.created_at, Contact.updated_at, Contact.last_activity_at, Contact.email,
    Contact.phone, Contact.phone_e164, Contact.campaign, Contact.keyword,
)  # fmt: skip
_MARK = -7_123_456_789  # stands for the last id of the previous batch in the keyset query


def _keyset(query, id_field) -> tuple[str, list, list[int]]:
    """The SQL of `query` continued after a given id (`id_field > ?`, by id, BATCH rows),
    built once: its parameters and where in them the id goes."""
    sql, params = query.where(id_field > _MARK).order_by(id_field).limit(BATCH).sql()
    slots = [i for i, p in enumerate(params) if p == _MARK]
    return sql, list(params), slots


def _batches(query, id_field) -> Iterator[list[tuple]]:
    """The rows of `query` by id, BATCH at a time, each batch its own small query (keyset):
    memory stays flat on PostgreSQL too, whose driver would fetch a whole result at once."""
    yield from _pages(*_keyset(query, id_field))


def _pages(sql: str, params: list, slots: list[int]) -> Iterator[list[tuple]]:
    """Run a keyset query (`slots`: where its last-id parameters are) a BATCH at a time."""
    db = database_proxy.obj
    last = -(2**62)
    while True:
        for i in slots:
            params[i] = last
        rows = db.execute_sql(sql, params).fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < BATCH:
            return
        last = int(rows[-1][0])


def _related(sql: str, ids: list[int]) -> dict[int, list[tuple]]:
    """Rows of a table belonging to the contacts `ids` (the first column their contact id,
    ordered by it), in one query, grouped by contact: by range when the ids are dense (an
    unfiltered export), else by the list of ids. `sql` ends in `WHERE {}` for the condition."""
    mark = "%s" if _is_postgres(database_proxy.obj) else "?"
    if ids[-1] - ids[0] < 4 * len(ids):
        where, params = f"contact_id BETWEEN {mark} AND {mark}", [ids[0], ids[-1]]
    else:
        where, params = f"contact_id IN ({', '.join([mark] * len(ids))})", ids
    rows = database_proxy.obj.execute_sql(sql.format(where), params).fetchall()
    return {k: list(g) for k, g in itertools.groupby(rows, _FIRST)}


_FIRST = operator.itemgetter(0)
_EMAILS = (
    "SELECT contact_id, email, kind, is_primary FROM contact_email WHERE {} "
    "ORDER BY contact_id, position, id"
)
_PHONES = (
    "SELECT contact_id, phone, phone_e164, kind, is_primary FROM contact_phone WHERE {} "
    "ORDER BY contact_id, position, id"
)
_TAGS = "SELECT contact_id, tag_id FROM contact_tag WHERE {} ORDER BY contact_id"
_FIELDS = 'SELECT contact_id, "key", value FROM contact_field WHERE {} ORDER BY contact_id, "key"'


_TIME = Contact.created_at.python_value


def _iso(value) -> str:
    """A stored UTC time as JSON carries it (values.iso: `2026-12-24T13:00:00+00:00`), from
    SQLite's text without making a datetime first (an export has millions)."""
    if type(value) is str and len(value) >= 19 and value[10] == " " and value[19:20] in ("", "."):
        return f"{value[:10]}T{value[11:19]}+00:00"
    moment = _TIME(value)
    # Another program's value that is no time (a number, other text): exported as it is.
    return moment.isoformat(timespec="seconds") if hasattr(moment, "isoformat") else str(value)


def _birthday(value) -> str | None:
    """A stored birthday as records carry it: `1968-12-24`, or `--12-24` without a year."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "--" + text[5:] if text.startswith(str(NO_YEAR)) else text


def contact_records(**filters) -> ContactRecords:
    """Contacts matching the filters of `crm list contacts` (contacts.filtered_query) as
    CONTACT RECORDs, by id: every email, phone, tag and custom field; times as ISO text in
    UTC (`2026-12-24T13:00:00+00:00`), birthdays as `1968-12-24` or `--12-24`. The filters
    are checked at the call, before the first record."""
    from peewee import JOIN

    from crmcli.services import contacts

    query = contacts.filtered_query(
        Contact.select(*_RECORD_COLUMNS).join(
            Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id)
        ),
        **filters,
    )
    return ContactRecords(None if query is None else _records(_batches(query, Contact.id)), filters)


class ContactRecords:
    """The records of contact_records, one at a time; and, on SQLite, the same contacts as
    ready CSV cells or JSON texts (csv_batches, json_batches: see below), which a writer of
    those formats takes instead (~1.4x the rows a CPU second)."""

    def __init__(self, records: Iterator[dict] | None, filters: dict):
        self._records = records if records is not None else iter(())
        self._filters = filters
        self._none = records is None

    def __iter__(self) -> Iterator[dict]:
        return self

    def __next__(self) -> dict:
        return next(self._records)

    @property
    def whole(self) -> bool:
        """Every contact, on SQLite: exports_sqlite makes the lines, several batches at once."""
        from crmcli.services import exports_sqlite

        return not self._none and exports_sqlite.whole_export(self._filters)

    def csv_batches(self, field_keys: Sequence[str]) -> Iterator[list[tuple]] | None:
        """contact_csv_batches of these contacts (None off SQLite)."""
        if self._none:
            return iter(()) if _sqlite() else None
        return contact_csv_batches(field_keys, **self._filters)

    def json_batches(self) -> Iterator[list[str]] | None:
        """contact_json_batches of these contacts (None off SQLite)."""
        if self._none:
            return iter(()) if _sqlite() else None
        return contact_json_batches(**self._filters)


def _records(batches: Iterable[list[tuple]]) -> Iterator[dict]:
    # Tag names by id, in the order lists show them (few: read once, not joined per row).
    order = {
        tag_id: (i, name)
        for i, (tag_id, name) in enumerate(
            Tag.select(Tag.id, Tag.name).order_by(Tag.name_fold).tuples()
        )
    }
    time = _iso
    # Campaign and keyword names by id (few: read once, as the tags).
    campaigns = dict(Campaign.select(Campaign.id, Campaign.name).tuples())
    keywords = dict(CampaignKeyword.select(CampaignKeyword.id, CampaignKeyword.keyword).tuples())
    for batch in batches:
        ids = [r[0] for r in batch]
        emails = _related(_EMAILS, ids)
        phones = _related(_PHONES, ids)
        tags = _related(_TAGS, ids)
        fields = _related(_FIELDS, ids)
        for row in batch:
            (cid, name, company, position, street, zip_, city, country, notes, status, source,
             owner, birthday, consent, consent_at, cadence, created, updated, last, email,
             phone, e164, campaign, keyword) = row  # fmt: skip
            mails = emails.get(cid)
            if mails:
                mail_list = [{"email": e, "kind": k, "primary": bool(p)} for _, e, k, p in mails]
            else:  # a contact written before its emails had rows of their own
                mail_list = [{"email": email, "kind": "other", "primary": True}] if email else []
            numbers = phones.get(cid)
            if numbers:
                phone_list = [
                    {"phone": p, "e164": e, "kind": k, "primary": bool(pr)}
                    for _, p, e, k, pr in numbers
                ]
            else:
                phone_list = (
                    [{"phone": phone, "e164": e164, "kind": "other", "primary": True}]
                    if phone
                    else []
                )
            carried = tags.get(cid)
            yield {
                "id": cid, "name": name, "emails": mail_list, "phones": phone_list,
                "company": company, "position": position, "street": street, "zip": zip_,
                "city": city, "country": country, "notes": notes, "status": status,
                "source": source, "owner": owner,
                "campaign": None if campaign is None else campaigns.get(campaign),
                "keyword": None if keyword is None else keywords.get(keyword),
                "birthday": None if birthday is None else _birthday(birthday),
                "consent": bool(consent), "consent_at": consent_at and time(consent_at),
                "cadence_days": cadence,
                "tags": [n for _, n in sorted(order[t] for _, t in carried)] if carried else [],
                "fields": {k: v for _, k, v in fields[cid]} if cid in fields else {},
                "created_at": time(created), "updated_at": time(updated),
                "last_activity_at": last and time(last),
            }  # fmt: skip


# The flat CSV shape of a contact: what `crm import csv` reads back by its headers. `email`
# and `phone` are the primary ones, `emails` and `phones` all of them, the primary first,
# " ::: " between them (Google Contacts' separator for several values in a cell: a phone as
# typed may hold a comma); `tags` joined with ", " as lists show them; custom fields follow
# as `field:KEY` columns.
MULTI = " ::: "
CONTACT_CSV_KEYS = (
    "id", "name", "email", "phone", "emails", "phones", "email_kinds", "phone_kinds", "company",
    "position", "street", "zip",
    "city", "country", "birthday", "status", "source", "owner", "campaign", "keyword", "notes",
    "consent",
    "consent_at", "cadence_days", "tags", "created_at", "updated_at", "last_activity_at",
)  # fmt: skip
FIELD_PREFIX = "field:"


def contact_field_keys() -> list[str]:
    """Every custom field key in use (over all contacts, so the header of a filtered export
    is the same whether it matches anyone or not)."""
    query = ContactField.select(ContactField.key).distinct().order_by(ContactField.key)
    return [k for (k,) in query.tuples()]


def flat_contact(record: dict, field_keys: Sequence[str]) -> dict:
    """A CONTACT RECORD as one CSV row (see CONTACT_CSV_KEYS)."""
    emails = record["emails"]
    if emails and not emails[0]["primary"]:
        emails = sorted(emails, key=lambda e: not e["primary"])
    phones = record["phones"]
    if phones and not phones[0]["primary"]:
        phones = sorted(phones, key=lambda p: not p["primary"])
    row = record.copy()
    row["email"] = emails[0]["email"] if emails else None
    row["phone"] = phones[0]["phone"] if phones else None
    row["emails"] = MULTI.join([e["email"] for e in emails])
    row["phones"] = MULTI.join([p["phone"] for p in phones])
    row["email_kinds"] = MULTI.join([e["kind"] for e in emails])
    row["phone_kinds"] = MULTI.join([p["kind"] for p in phones])
    row["tags"] = ", ".join(record["tags"])
    row["consent"] = "true" if record["consent"] else "false"
    fields = record["fields"]
    for key in field_keys:
        row[FIELD_PREFIX + key] = fields.get(key)
    return row


# ---------------------------------------------------------------- contacts as text, fast
#
# On SQLite a contact export is written from rows that SQLite itself puts together: one
# query a batch whose columns are already the CSV cells (or the whole JSON line), every
# email, phone, tag and field gathered by correlated subqueries on their (contact_id, ...)
# indexes. Python then only hands batches to the csv module or the file: no dict, list or
# datetime a contact (~1.4x the rows a CPU second: SQLite's own work, ~6 index seeks a
# contact, is most of what is left; see bench/README.md). The text is the same as contact_records +
# flat_contact + the writers give (tests compare both paths); a value SQLite cannot write
# the same way (a time not in the stored form) comes out NULL, and that row is made again
# the slow way (repair_*). PostgreSQL takes the general path.


def _sqlite() -> bool:
    return not _is_postgres(database_proxy.obj)


def _time_sql(col: str, *, json: bool) -> str:
    """A stored UTC time as `_iso` writes it (NULL for a form only Python reads: repaired)."""
    none = "'null'" if json else "''"
    quote = "'\"'" if json else "''"
    return (
        f"CASE WHEN {col} IS NULL THEN {none} WHEN typeof({col}) = 'text' AND length({col}) "
        f">= 19 AND substr({col}, 11, 1) = ' ' AND (length({col}) = 19 OR substr({col}, 20, 1)"
        f" = '.') THEN {quote} || substr({col}, 1, 10) || 'T' || substr({col}, 12, 8) || "
        f"'+00:00' || {quote} END"
    )


_BIRTHDAY_SQL = (
    "CASE WHEN substr(t1.birthday, 1, 4) = '1604' THEN '--' || substr(t1.birthday, 6) "
    "ELSE t1.birthday END"
)
# The names of the contact's campaign and keyword.
CAMPAIGN_SQL = "(SELECT cp.name FROM campaign cp WHERE cp.id = t1.campaign_id)"
KEYWORD_SQL = "(SELECT ck.keyword FROM campaign_keyword ck WHERE ck.id = t1.keyword_id)"
# Emails and phones: the primary first, then by position (flat_contact's order).
_EMAILS_CSV = (
    "(SELECT group_concat(email, ' ::: ') FROM (SELECT email FROM contact_email ce "
    "WHERE ce.contact_id = t1.id ORDER BY is_primary DESC, position, id))"
)
_PHONES_CSV = (
    "(SELECT group_concat(phone, ' ::: ') FROM (SELECT phone FROM contact_phone cp "
    "WHERE cp.contact_id = t1.id ORDER BY is_primary DESC, position, id))"
)
_TAGS_SQL = (
    "(SELECT group_concat({}, '{}') FROM (SELECT tg.name FROM contact_tag ct "
    "JOIN tag tg ON tg.id = ct.tag_id WHERE ct.contact_id = t1.id ORDER BY tg.name_fold))"
)


def kinds_sql(table: str, own: str) -> str:
    """flat_contact's `email_kinds`/`phone_kinds`: the kinds of the emails or phones, in the
    order of their cell; "other" for a contact with only its own column (`own`)."""
    return (
        f"COALESCE((SELECT group_concat(kind, ' ::: ') FROM (SELECT kind FROM {table} x "
        "WHERE x.contact_id = t1.id ORDER BY is_primary DESC, position, id)), "
        f"CASE WHEN t1.{own} <> '' THEN 'other' ELSE '' END)"
    )


def _first(table: str, col: str, fallback: str) -> str:
    """flat_contact's `email`/`phone`: the primary one, else the first by position, else the
    contact's own column (a contact written before its emails had rows of their own)."""
    rows = f"SELECT {col} FROM {table} x WHERE x.contact_id = t1.id"
    return (
        f"COALESCE(({rows} AND x.is_primary ORDER BY x.position, x.id LIMIT 1), "
        f"({rows} ORDER BY x.position, x.id LIMIT 1), {fallback}, '')"
    )


def _plain(col: str) -> str:
    return f"COALESCE({col}, '')"


def _csv_columns(field_keys: Sequence[str]) -> tuple[list[str], list]:
    emails = f"COALESCE({_EMAILS_CSV}, t1.email, '')"
    phones = f"COALESCE({_PHONES_CSV}, t1.phone, '')"
    cols = [
        "CAST(t1.id AS TEXT)", _plain("t1.name"), _first("contact_email", "email", "t1.email"),
        _first("contact_phone", "phone", "t1.phone"), emails,
        phones, kinds_sql("contact_email", "email"), kinds_sql("contact_phone", "phone"),
        _plain("t2.name"), _plain("t1.position"), _plain("t1.street"),
        _plain("t1.zip"), _plain("t1.city"), _plain("t1.country"), _plain(_BIRTHDAY_SQL),
        _plain("t1.status"), _plain("t1.source"), _plain("t1.owner"), _plain(CAMPAIGN_SQL),
        _plain(KEYWORD_SQL), _plain("t1.notes"),
        "CASE WHEN t1.consent THEN 'true' ELSE 'false' END",
        _time_sql("t1.consent_at", json=False), _plain("CAST(t1.cadence_days AS TEXT)"),
        _plain(_TAGS_SQL.format("name", ", ")), _time_sql("t1.created_at", json=False),
        _time_sql("t1.updated_at", json=False), _time_sql("t1.last_activity_at", json=False),
    ]  # fmt: skip
    params: list = []
    for key in field_keys:
        cols.append(
            "COALESCE((SELECT value FROM contact_field cf WHERE cf.contact_id = t1.id "
            "AND cf.key = ?), '')"
        )
        params.append(key)
    return cols, params


def _q(col: str) -> str:
    return f"json_quote({col})"


def _json_line() -> str:
    """The JSON text of a CONTACT RECORD as json_encoder() writes it."""
    mails = (
        "(SELECT '[' || group_concat('{\"email\":' || json_quote(email) || ',\"kind\":' || "
        "json_quote(kind) || ',\"primary\":' || CASE WHEN is_primary THEN 'true' ELSE "
        "'false' END || '}', ',') || ']' FROM (SELECT email, kind, is_primary FROM "
        "contact_email ce WHERE ce.contact_id = t1.id ORDER BY position, id))"
    )
    mails = (
        f"COALESCE({mails}, CASE WHEN t1.email IS NOT NULL AND t1.email <> '' THEN "
        '\'[{"email":\' || json_quote(t1.email) || \',"kind":"other","primary":'
        "true}]' ELSE '[]' END)"
    )
    phones = (
        "(SELECT '[' || group_concat('{\"phone\":' || json_quote(phone) || ',\"e164\":' "
        "|| json_quote(phone_e164) || ',\"kind\":' || json_quote(kind) || ',\"primary\":'"
        " || CASE WHEN is_primary THEN 'true' ELSE 'false' END || '}', ',') || ']' FROM "
        "(SELECT phone, phone_e164, kind, is_primary FROM contact_phone cp "
        "WHERE cp.contact_id = t1.id ORDER BY position, id))"
    )
    phones = (
        f"COALESCE({phones}, CASE WHEN t1.phone IS NOT NULL AND t1.phone <> '' THEN "
        "'[{\"phone\":' || json_quote(t1.phone) || ',\"e164\":' || "
        'json_quote(t1.phone_e164) || \',"kind":"other","primary":true}]\' '
        "ELSE '[]' END)"
    )
    tags = "'[' || COALESCE(" + _TAGS_SQL.format("json_quote(name)", ",") + ", '') || ']'"
    fields = (
        "'{' || COALESCE((SELECT group_concat(json_quote(key) || ':' || json_quote(value), "
        "',') FROM (SELECT key, value FROM contact_field cf WHERE cf.contact_id = t1.id "
        "ORDER BY key)), '') || '}'"
    )
    parts = [
        ("id", "t1.id"), ("name", _q("t1.name")), ("emails", mails), ("phones", phones),
        ("company", _q("t2.name")), ("position", _q("t1.position")),
        ("street", _q("t1.street")), ("zip", _q("t1.zip")), ("city", _q("t1.city")),
        ("country", _q("t1.country")), ("notes", _q("t1.notes")),
        ("status", _q("t1.status")), ("source", _q("t1.source")), ("owner", _q("t1.owner")),
        ("campaign", _q(CAMPAIGN_SQL)), ("keyword", _q(KEYWORD_SQL)),
        ("birthday", _q(_BIRTHDAY_SQL)),
        ("consent", "CASE WHEN t1.consent THEN 'true' ELSE 'false' END"),
        ("consent_at", _time_sql("t1.consent_at", json=True)),
        ("cadence_days", _q("t1.cadence_days")), ("tags", tags), ("fields", fields),
        ("created_at", _time_sql("t1.created_at", json=True)),
        ("updated_at", _time_sql("t1.updated_at", json=True)),
        ("last_activity_at", _time_sql("t1.last_activity_at", json=True)),
    ]  # fmt: skip
    return "'{' || " + " || ',' || ".join(f"'\"{k}\":' || {v}" for k, v in parts) + " || '}'"


def _text_query(columns: list[str], extra: list, filters: dict):
    """SQL (with `?` for the last id) of the contacts matching `filters`, by id, a batch of
    `columns` at a time; None when no contact can match."""
    from peewee import JOIN, SQL

    from crmcli.services import contacts

    query = contacts.filtered_query(
        Contact.select(SQL(", ".join(columns), extra)).join(
            Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id)
        ),
        **filters,
    )
    if query is None:
        return None
    return _keyset(query, Contact.id)


def _text_batches(columns: list[str], extra: list, filters: dict) -> Iterator[list[tuple]]:
    """Rows of `columns` (the first the contact id) for the contacts matching `filters`,
    BATCH at a time. The filters are checked at the call."""
    built = _text_query(columns, extra, filters)
    if built is None:
        return iter(())
    return _pages(*built)


def contact_csv_batches(field_keys: Sequence[str], **filters) -> Iterator[list[tuple]] | None:
    """The CSV rows of contact_records + flat_contact (CONTACT_CSV_KEYS, then the `field_keys`
    columns), every cell text ('' for none), a batch at a time; a cell SQLite could not write
    is None (see repair_csv_rows). None when the database is not SQLite."""
    if not _sqlite():
        return None
    columns, extra = _csv_columns(field_keys)
    return _text_batches(columns, extra, filters)


def repair_csv_rows(rows: list[tuple], field_keys: Sequence[str]) -> list[tuple]:
    """`rows` of contact_csv_batches with every row holding a None made the general way."""
    broken = [int(r[0]) for r in rows if None in r]
    if not broken:
        return rows
    keys = [*CONTACT_CSV_KEYS, *(FIELD_PREFIX + k for k in field_keys)]
    again = {
        str(record["id"]): tuple(flat.get(k) for k in keys)
        for record in _records_of(broken)
        for flat in (flat_contact(record, field_keys),)
    }
    return [again[r[0]] if None in r else r for r in rows]


def contact_json_batches(**filters) -> Iterator[list[str]] | None:
    """The JSON text of each contact record (json.JSONEncoder(ensure_ascii=False) of
    contact_records), a batch at a time; None when the database is not SQLite."""
    if not _sqlite():
        return None
    batches = _text_batches(["t1.id", _json_line()], [], filters)

    def lines() -> Iterator[list[str]]:

        encode = json_encoder().encode
        for rows in batches:
            texts = [text for _, text in rows]
            if None in texts:  # a time SQLite does not write as Python does: the slow way
                again = {r["id"]: encode(r) for r in _records_of([i for i, t in rows if t is None])}
                texts = [again[i] if t is None else t for i, t in rows]
            yield texts

    return lines()


def json_encoder():
    """How an export writes a record as JSON (output.write_rows with compact=True): UTF-8
    text as it is, no spaces (what SQLite's JSON functions write)."""
    import json

    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _records_of(ids: list[int]) -> Iterator[dict]:
    """contact_records of the contacts `ids` (the general path, for a few rows)."""
    from peewee import JOIN

    query = (
        Contact.select(*_RECORD_COLUMNS)
        .join(Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id))
        .where(Contact.id.in_(ids))
        .order_by(Contact.id)
    )
    return _records([query.tuples()[:]])


# ---------------------------------------------------------------- the whole database

DUMP_FORMAT = "crmcli-dump"
DUMP_VERSION = 1
# Tables a dump leaves out: migration bookkeeping (the target is migrated already) and the
# search index, rebuilt from the records after a restore. `export_`: the stored export lines
# of a database of schema 15-17, which a dump of it never held.
_NOT_DUMPED = ("schema_migration", "migratehistory", "sqlite_sequence")
_DERIVED_PREFIX = ("search_index", "export_")
# Settings that describe one database file rather than its data (none so far).
VOLATILE_SETTINGS: frozenset[str] = frozenset()


def dumped_tables(db=None) -> list[str]:
    """The tables a dump holds: every table of the schema but bookkeeping and the search
    index, parents before children (so a restore meets no dangling reference)."""
    db = db or database_proxy.obj
    names = [
        t for t in db.get_tables() if t not in _NOT_DUMPED and not t.startswith(_DERIVED_PREFIX)
    ]
    return _parents_first(db, sorted(names))


def _parents_first(db, names: list[str]) -> list[str]:
    parents = {
        n: {fk.dest_table for fk in db.get_foreign_keys(n) if fk.dest_table != n} for n in names
    }
    done: list[str] = []
    while len(done) < len(names):
        ready = [n for n in names if n not in done and parents[n] <= set(done) | {n}]
        if not ready:  # a cycle: keep the rest in name order
            ready = [n for n in names if n not in done]
        done.extend(ready)
    return done


def _is_postgres(db) -> bool:
    return type(db).__name__.startswith("Postgres")


def _columns(db, table: str) -> list[tuple[str, str]]:
    """(name, kind) of a table's columns in their order; kind is datetime, date, bool, int,
    real or text, from the declared type (SQLite keeps booleans as INTEGER: int there)."""
    out = []
    for col in db.get_columns(table):
        t = col.data_type.lower()
        kind = (
            "datetime" if "timestamp" in t or "datetime" in t
            else "date" if t == "date"
            else "bool" if "bool" in t
            else "int" if "int" in t
            else "real" if any(w in t for w in ("real", "double", "float", "numeric"))
            else "text"
        )  # fmt: skip
        out.append((col.name, kind))
    return out


def _encoder(kind: str) -> Callable[[Any], Any] | None:
    """How a value read from the database is written into a dump (None: as it is). SQLite
    datetimes are text already, in the form PostgreSQL's are written in."""
    # A value another program wrote that is no time or date (a number) goes as it is: the
    # backup is made, and a restore says what it cannot read.
    if kind == "datetime":
        return lambda v: v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v
    if kind == "date":
        return lambda v: v.isoformat() if isinstance(v, date) else v
    if kind == "real":
        return lambda v: v if isinstance(v, int | float) else float(v)
    return None


def _sequences(db) -> dict[str, int]:
    """The id counters (AUTOINCREMENT, serial sequences): the next id a table would hand out
    is after these, even when the newest rows were deleted."""
    if _is_postgres(db):
        found = db.execute_sql(
            "SELECT t.relname, s.relname FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "WHERE s.relkind = 'S' AND t.relnamespace = to_regnamespace(current_schema())"
        ).fetchall()
        out = {}
        for table, seq in found:
            value, called = db.execute_sql(f'SELECT last_value, is_called FROM "{seq}"').fetchone()
            if called:
                out[table] = value
        return out
    if "sqlite_sequence" not in db.get_tables():
        return {}
    return dict(db.execute_sql("SELECT name, seq FROM sqlite_sequence").fetchall())


def dump(write: Callable[[str], Any], *, crm_version: str, now: datetime) -> dict[str, int]:
    """Write the whole database as one JSON object, piece by piece through `write`: a header
    (format, its version, crm's version, the schema version), then each table as its columns
    and its rows (arrays, one per line, by primary key), then the id counters. Read in one
    snapshot. Returns rows written per table."""
    import json

    from crmcli.db import read_snapshot, schema_version

    db = database_proxy.obj
    counts: dict[str, int] = {}
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with read_snapshot(db):
        header = {
            "format": DUMP_FORMAT, "format_version": DUMP_VERSION, "crm_version": crm_version,
            "schema_version": schema_version(db),
            "created_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        write("{\n" + ",\n".join(f"{dumps(k)}: {dumps(v)}" for k, v in header.items()))
        write(',\n"tables": [')
        for n, table in enumerate(dumped_tables(db)):
            columns = _columns(db, table)
            names = [c for c, _ in columns]
            write(("\n" if n == 0 else ",\n") + '{"name": ' + dumps(table))
            write(', "columns": ' + dumps(names) + ', "rows": [')
            counts[table] = _dump_rows(db, table, columns, write, dumps)
            write("\n]}")
        write('\n],\n"sequences": ' + dumps(_sequences(db)) + "\n}\n")
    return counts


def _dump_rows(db, table: str, columns: list[tuple[str, str]], write, dumps) -> int:
    """A table's rows by primary key (keyset batches where it is one integer id)."""
    names = ", ".join(f'"{c}"' for c, _ in columns)
    keys = _primary_key(db, table) or [c for c, _ in columns]
    encoders = [(i, e) for i, (_, kind) in enumerate(columns) if (e := _encoder(kind))]
    order = ", ".join(f'"{k}"' for k in keys)
    if keys == ["id"]:
        mark = "%s" if _is_postgres(db) else "?"
        sql = f'SELECT {names} FROM "{table}" WHERE "id" > {mark} ORDER BY "id" LIMIT {BATCH}'
        id_at = [c for c, _ in columns].index("id")

        def batches():
            last = -(2**62)
            while True:
                rows = db.execute_sql(sql, (last,)).fetchall()
                if rows:
                    yield rows
                if len(rows) < BATCH:
                    return
                last = rows[-1][id_at]

        found: Iterable[list] = batches()
    else:  # a link table or a keyed one (tags of contacts, settings): fetched in pieces
        cursor = db.execute_sql(f'SELECT {names} FROM "{table}" ORDER BY {order}')
        found = iter(lambda: cursor.fetchmany(BATCH), [])
    count = 0
    skip_at = [c for c, _ in columns].index("key") if table == "setting" else None
    for rows in found:
        pieces = []
        for row in rows:
            if skip_at is not None and row[skip_at] in VOLATILE_SETTINGS:
                continue
            if encoders:
                row = list(row)
                for i, encode in encoders:
                    if row[i] is not None:
                        row[i] = encode(row[i])
            pieces.append(dumps(row))
        if pieces:
            write(("\n" if count == 0 else ",\n") + ",\n".join(pieces))
        count += len(pieces)
    return count


def _primary_key(db, table: str) -> list[str]:
    return list(db.get_primary_keys(table))


# ---------------------------------------------------------------- restoring a dump


class _Restore:
    """Rows of one dumped table going into the database, converted for its columns."""

    def __init__(self, db, table: str, names: list[str]):
        target = dict(_columns(db, table))
        unknown = [n for n in names if n not in target]
        if unknown:
            raise Invalid(
                None, f"the dump's table {table} has columns this database lacks: "
                f"{', '.join(unknown)}",
            )  # fmt: skip
        pg = _is_postgres(db)
        mark = "%s" if pg else "?"
        cols = ", ".join(f'"{n}"' for n in names)
        self.sql = f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join([mark] * len(names))})'
        # psycopg2's executemany sends one statement a row (a restore into PostgreSQL over a
        # network would take minutes); execute_values sends a page of rows in one.
        self.values_sql = f'INSERT INTO "{table}" ({cols}) VALUES %s' if pg else None
        self.width = len(names)
        self.table = table
        self.db = db
        self.pending: list[list] = []
        self.count = 0
        self.decoders = [
            (i, d) for i, n in enumerate(names) if (d := _decoder(target[n], pg)) is not None
        ]

    def add(self, row: list) -> None:
        if not isinstance(row, list) or len(row) != self.width:
            raise Invalid(None, f"a row of table {self.table} does not match its columns")
        for i, decode in self.decoders:
            if row[i] is not None:
                row[i] = decode(row[i])
        self.pending.append(row)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            cursor = self.db.cursor()
            try:
                if self.values_sql and type(cursor).__module__.startswith("psycopg2"):
                    from psycopg2.extras import execute_values  # type: ignore[import-untyped]

                    execute_values(cursor, self.values_sql, self.pending, page_size=BATCH)
                else:
                    cursor.executemany(self.sql, self.pending)
            except Exception as exc:  # the driver's own IntegrityError (sqlite3, psycopg2)
                if type(exc).__name__ != "IntegrityError":
                    raise
                # Which table: a dump cut down by hand or by another tool says nothing else.
                why = str(exc).strip().splitlines()[0]
                raise Invalid(
                    None, f"table {self.table} of the dump does not fit the others ({why})"
                ) from None
            self.count += len(self.pending)
            self.pending = []


def _decoder(kind: str, pg: bool) -> Callable[[Any], Any] | None:
    """How a dumped value goes into a column of `kind` (None: as it is)."""
    if kind == "bool":
        return bool if pg else int
    if kind == "int":
        return _int
    if pg and kind == "datetime":
        return _pg_datetime
    if pg and kind == "date":
        return lambda v: date.fromisoformat(str(v))
    if kind == "text":
        return _text
    return None


def _int(value):
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, int):
        raise Invalid(None, f"{value!r} in the dump is not a whole number")
    return value


def _text(value):
    if not isinstance(value, str):
        raise Invalid(None, f"{value!r} in the dump is not text")
    return value


def _pg_datetime(value) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class DumpError(CrmError):
    exit_code = 1


def is_empty(db=None) -> bool:
    """Whether the database holds no records (the rows migrations write do not count)."""
    db = db or database_proxy.obj
    for table in dumped_tables(db):
        if table in ("stage",):  # the default stages every new database gets
            continue
        if db.execute_sql(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
            return False
    return True


def restore_dump(
    events: Iterator[tuple[str, str, Any]], *, crm_version: str, dry_run: bool = False
) -> dict[str, int]:
    """Put a dump (as ijson.parse events) into this database, which must be empty, in one
    transaction: ids kept, id counters advanced, the search index rebuilt. Returns rows
    restored per table. A dump that is not one, from a newer schema, or cut short is Invalid
    and nothing is written; `dry_run` restores it all and rolls it back (the counts stay)."""
    from crmcli.db import schema_version

    db = database_proxy.obj
    if not is_empty(db):
        raise Invalid(
            None, "the database is not empty; restore a dump into a new one",
            action="restore_into_new",
        )  # fmt: skip
    counts: dict[str, int] = {}
    with db.atomic() as txn, nullcontext() if dry_run else fresh_statistics():
        header, sequences = _read_dump(events, db, counts)
        if header.get("format") != DUMP_FORMAT:
            raise _not_a_dump()
        if not header.get("tables"):
            raise Invalid(None, "the dump holds no tables")
        version = header.get("schema_version")
        if not isinstance(version, int):
            raise Invalid(None, "the dump names no schema version")
        if version > schema_version(db):
            raise _newer(version, schema_version(db))
        _set_sequences(db, sequences)
        _rebuild_search(db)
        if dry_run:
            txn.rollback()
    return counts


def _rebuild_search(db) -> None:
    """The search index made anew from the restored records, as search.rebuild does, but a
    batch of records at a time (search.rebuild holds every entry at once)."""
    from crmcli.models import Activity, Deal
    from crmcli.services import search

    db.execute_sql("DELETE FROM search_index")
    kinds = (
        (Contact, search.contact_entries), (Company, search.company_entries),
        (Activity, search.activity_entries), (Deal, search.deal_entries),
    )  # fmt: skip
    for model, entries in kinds:
        for rows in _batches(model.select(model.id), model.id):
            search.put(entries([r[0] for r in rows]), new=True)
    if not _is_postgres(db):  # one segment again, as search.rebuild leaves it
        db.execute_sql("INSERT INTO search_index (search_index) VALUES ('optimize')")


def _not_a_dump() -> Invalid:
    return Invalid(None, "not a dump of a whole database", action="dump_format")


def _newer(version: int, ours: int) -> Invalid:
    return Invalid(
        None, f"the dump is from a newer version (schema {version}, this one has {ours})",
        action="upgrade_to_restore",
    )  # fmt: skip


def _clear_defaults(db) -> None:
    """A new database has the default stages; the dump brings its own."""
    db.execute_sql('DELETE FROM "stage"')


def _read_dump(events, db, counts: dict[str, int]) -> tuple[dict, dict]:
    """Read the events of a dump, inserting each table's rows in batches as they come."""
    header: dict = {}
    sequences: dict = {}
    known = set(dumped_tables(db))
    table = None
    names: list[str] | None = None
    restore: _Restore | None = None
    seen_header = False
    row: list | None = None
    for prefix, event, value in events:
        if not seen_header:
            if (prefix, event) != ("", "start_map"):
                raise _not_a_dump()
            seen_header = True
            continue
        if prefix in ("format", "format_version", "crm_version", "schema_version", "created_at"):
            header[prefix] = value
            if prefix == "format" and value != DUMP_FORMAT:
                raise _not_a_dump()
            if prefix == "format_version" and (type(value) is not int or value != DUMP_VERSION):
                # A newer layout may mean other things by the same names: refused, not guessed.
                newer = type(value) is int and value > DUMP_VERSION
                raise Invalid(
                    None,
                    f"the dump has format version {value} (this version reads {DUMP_VERSION})",
                    action="upgrade_to_restore" if newer else None,
                )  # fmt: skip
            if prefix == "schema_version" and isinstance(value, int):
                from crmcli.db import schema_version

                if value > schema_version(db):
                    raise _newer(value, schema_version(db))
        elif prefix == "tables.item.name":
            if header.get("format") != DUMP_FORMAT:
                raise _not_a_dump()
            if value not in known:
                raise Invalid(None, f"the dump has a table this database does not: {value}")
            table = value
            names = None
        elif prefix == "tables.item.columns" and event == "start_array":
            names = []
        elif prefix == "tables.item.columns.item":
            if names is None or not isinstance(value, str):
                raise Invalid(None, "the dump's columns are not a list of names")
            names.append(value)
        elif prefix == "tables.item.rows" and event == "start_array":
            if table is None or names is None:
                raise Invalid(None, "the dump names a table's rows before its columns")
            restore = _Restore(db, table, names)
            header["tables"] = True
            if table == "stage":
                _clear_defaults(db)
        elif prefix == "tables.item.rows.item":
            if event == "start_array":
                row = []
            elif event == "end_array":
                assert restore is not None and row is not None
                restore.add(row)
                row = None
            else:
                raise Invalid(None, f"a row of table {table} is not a list")
        elif prefix == "tables.item.rows.item.item":
            if row is None or event in ("start_map", "start_array"):
                raise Invalid(None, f"a value in table {table} is not a plain value")
            row.append(value)
        elif prefix == "tables.item.rows" and event == "end_array":
            assert restore is not None and table is not None
            restore.flush()
            counts[table] = restore.count
            restore = None
        elif prefix.startswith("sequences.") and type(value) is int:
            sequences[prefix.split(".", 1)[1]] = value
    if not seen_header:
        raise Invalid(None, "the file is empty")
    return header, sequences


def _set_sequences(db, sequences: dict) -> None:
    """Id counters as the dump had them, and never below the highest id restored."""
    autoincrement = set()
    if not _is_postgres(db):
        autoincrement = {
            name
            for (name,) in db.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
            ).fetchall()
        }
    for table in dumped_tables(db):
        if "id" not in dict(_columns(db, table)) or _primary_key(db, table) != ["id"]:
            continue
        top = db.execute_sql(f'SELECT MAX("id") FROM "{table}"').fetchone()[0] or 0
        value = max(top, int(sequences.get(table, 0) or 0))
        if _is_postgres(db):
            seq = db.execute_sql("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',))
            name = seq.fetchone()[0]
            if name and value:
                db.execute_sql("SELECT setval(%s, %s, true)", (name, value))
        elif value and table in autoincrement:
            db.execute_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            db.execute_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))
