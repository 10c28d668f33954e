"""Full-text search over contacts and companies (later: deals, activities).

The index holds folded text (see values.fold_variants), so `muller` and `mueller` find Müller
and `weiss` finds Weiß; each query word is a prefix (`schmi` finds Schmidt). SQLite uses FTS5,
PostgreSQL a GIN-indexed tsvector; this module is the only place that knows the difference.
Entries are written by the services inside the same transaction as the record they describe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from peewee import JOIN

from crmcli.models import Company, Contact, database_proxy
from crmcli.values import fold, fold_variants

KIND_CODES = {"contact": 1, "company": 2}
KINDS_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}
_WORD = re.compile(r"\w+", re.UNICODE)


def rowid(kind: str, record_id: int) -> int:
    return record_id * 8 + KIND_CODES[kind]


def _sqlite() -> bool:
    from peewee import SqliteDatabase

    return isinstance(database_proxy.obj, SqliteDatabase)


def body(*parts: str | None) -> str:
    """The folded text that represents a record in the index."""
    return " ".join(fold_variants(p) for p in parts if p)


def put(entries: Iterable[tuple[int, str]]) -> None:
    """Insert or replace index entries (rowid, body); call inside the writer's transaction."""
    entries = list(entries)
    if not entries:
        return
    db = database_proxy.obj
    ids = [r for r, _ in entries]
    remove_rowids(ids)
    for start in range(0, len(entries), 500):
        chunk = entries[start : start + 500]
        placeholders = ", ".join(["(?, ?)"] * len(chunk)) if _sqlite() else None
        params = [v for pair in chunk for v in pair]
        if placeholders is None:
            placeholders = ", ".join(["(%s, %s)"] * len(chunk))
        db.execute_sql(f"INSERT INTO search_index (rowid, body) VALUES {placeholders}", params)


def remove(kind: str, record_ids: Iterable[int]) -> None:
    remove_rowids([rowid(kind, i) for i in record_ids])


def remove_rowids(ids: list[int]) -> None:
    db = database_proxy.obj
    mark = "?" if _sqlite() else "%s"
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.execute_sql(
            f"DELETE FROM search_index WHERE rowid IN ({', '.join([mark] * len(chunk))})", chunk
        )


def contact_entries(contact_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    """Index entries for contacts (all of them when `contact_ids` is None), built in one query."""
    query = (
        Contact.select(
            Contact.id, Contact.name, Contact.email, Company.name, Contact.city, Contact.notes
        )
        .join(Company, on=(Contact.company == Company.id), join_type=JOIN.LEFT_OUTER)
        .tuples()
    )
    if contact_ids is not None:
        query = query.where(Contact.id.in_(list(contact_ids)))
    return [(rowid("contact", cid), body(*rest)) for cid, *rest in query]


def company_entries(company_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    query = Company.select(
        Company.id, Company.name, Company.domain, Company.email, Company.city, Company.notes
    ).tuples()
    if company_ids is not None:
        query = query.where(Company.id.in_(list(company_ids)))
    return [(rowid("company", cid), body(*rest)) for cid, *rest in query]


def reindex_contacts(contact_ids: Iterable[int]) -> None:
    put(contact_entries(contact_ids))


def reindex_companies(company_ids: Iterable[int]) -> None:
    put(company_entries(company_ids))


def rebuild() -> int:
    """Rebuild the whole index from the records (for `crm db check --repair`)."""
    db = database_proxy.obj
    with db.atomic():
        db.execute_sql("DELETE FROM search_index")
        entries = contact_entries() + company_entries()
        put(entries)
    return len(entries)


def missing_entries() -> dict[str, int]:
    """How many records of each kind have no index entry (0 everywhere when in sync)."""
    db = database_proxy.obj
    out = {}
    for kind, table in (("contact", "contact"), ("company", "company")):
        code = KIND_CODES[kind]
        sql = (
            f"SELECT count(*) FROM {table} WHERE id * 8 + {code} NOT IN (SELECT rowid FROM search_index)"
        )
        out[kind] = db.execute_sql(sql).fetchone()[0]
    return out


def query_terms(query: str) -> list[str]:
    """The folded words of a query; each is matched as a prefix."""
    return _WORD.findall(fold(query))


def search(query: str, *, limit: int = 20, offset: int = 0, kinds: Iterable[str] = ()) -> list[dict]:
    """Records matching every word of `query` (as prefixes), best first."""
    terms = query_terms(query)
    if not terms:
        return []
    codes = [KIND_CODES[k] for k in kinds]
    db = database_proxy.obj
    if _sqlite():
        match = " AND ".join(f'"{t}"*' for t in terms)
        where = "search_index MATCH ?"
        params: list = [match]
        if codes:
            where += f" AND (rowid % 8) IN ({', '.join(str(c) for c in codes)})"
        sql = f"SELECT rowid FROM search_index WHERE {where} ORDER BY rank LIMIT ? OFFSET ?"
    else:
        tsquery = " & ".join(f"{t}:*" for t in terms)
        where = "to_tsvector('simple', body) @@ to_tsquery('simple', %s)"
        if codes:
            where += f" AND mod(rowid, 8) IN ({', '.join(str(c) for c in codes)})"
        sql = (
            f"SELECT rowid FROM search_index WHERE {where} ORDER BY "
            "ts_rank(to_tsvector('simple', body), to_tsquery('simple', %s)) DESC, rowid "
            "LIMIT %s OFFSET %s"
        )
        params = [tsquery, tsquery]
    params += [limit, offset]
    hits = [r[0] for r in db.execute_sql(sql, params).fetchall()]
    return _describe_hits(hits)


def _describe_hits(hits: list[int]) -> list[dict]:
    by_kind: dict[str, list[int]] = {}
    for h in hits:
        by_kind.setdefault(KINDS_BY_CODE[h % 8], []).append(h // 8)
    found: dict[tuple[str, int], dict] = {}
    if by_kind.get("contact"):
        rows = (
            Contact.select(Contact.id, Contact.name, Contact.email, Company.name, Contact.city)
            .join(Company, on=(Contact.company == Company.id), join_type=JOIN.LEFT_OUTER)
            .where(Contact.id.in_(by_kind["contact"]))
            .tuples()
        )
        for cid, name, email, company, city in rows:
            detail = " · ".join(p for p in (email, company, city) if p)
            found[("contact", cid)] = {
                "kind": "contact", "id": cid, "name": name, "detail": detail,
                "email": email, "company": company, "city": city,
            }  # fmt: skip
    if by_kind.get("company"):
        rows = (
            Company.select(Company.id, Company.name, Company.domain, Company.city)
            .where(Company.id.in_(by_kind["company"]))
            .tuples()
        )
        for cid, name, domain, city in rows:
            detail = " · ".join(p for p in (domain, city) if p)
            found[("company", cid)] = {
                "kind": "company", "id": cid, "name": name, "detail": detail,
                "email": None, "company": None, "city": city,
            }  # fmt: skip
    out = []
    for h in hits:
        item = found.get((KINDS_BY_CODE[h % 8], h // 8))
        if item is not None:
            out.append(item)
    return out
