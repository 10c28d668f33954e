"""Duplicates: contacts (or companies) that are probably the same, in candidate groups.

Two records meet by a shared key: the same email (case, surrounding blanks and Gmail's
spellings aside), the same phone (E.164), a name that sounds alike in German (Kölner
Phonetik, stored as `name_sound` on every write and indexed). Each key is grouped in SQL
(GROUP BY key HAVING more than one record), so no pair of records is ever compared at query
time; the pairs that share a key are joined into groups (connected components: A and B by
email, B and C by phone make one group of three). rapidfuzz scores how alike the names are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from peewee import JOIN, fn

from crmcli.errors import Invalid
from crmcli.models import Company, Contact, database_proxy
from crmcli.values import sound_key

CONTACT_KEYS = ("email", "phone", "name")
COMPANY_KEYS = ("name", "domain", "phone")
# What joined records, in the order reasons are listed: the firmer evidence first.
REASONS = {
    "email": "same email",
    "domain": "same domain",
    "phone": "same phone",
    "name": "sounds alike",
}
CHUNK = 500  # ids per statement
# Gmail ignores dots and anything after + in the local part; googlemail.com is gmail.com.
_GMAIL = ("gmail.com", "googlemail.com")


def check_keys(by: Iterable[str], kind: str = "contact") -> tuple[str, ...]:
    """The match keys a user asked for, checked (Invalid names the ones there are)."""
    allowed = CONTACT_KEYS if kind == "contact" else COMPANY_KEYS
    keys: list[str] = []
    for key in by:
        word = key.strip().lower()
        if not word:
            continue
        if word not in allowed:
            raise Invalid(
                "by", f"cannot match {kind} records by '{key}' (choose {', '.join(allowed)})"
            )
        if word not in keys:
            keys.append(word)
    if not keys:
        raise Invalid("by", f"name at least one of {', '.join(allowed)}")
    return tuple(keys)


def email_key(email: str | None) -> str | None:
    """The form two emails are the same in: blanks and case aside, and for Gmail without
    dots and +suffix in the local part, googlemail.com as gmail.com."""
    text = (email or "").strip().lower()  # not casefold: straße@ and strasse@ differ
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text or None
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def _domain_key(domain: str | None) -> str | None:
    text = (domain or "").strip().lower().rstrip(".")
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.split("/", 1)[0].removeprefix("www.")
    return text or None


class _Components:
    """Union-find over record ids, remembering which keys joined whom."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reasons: dict[int, set[str]] = {}  # record id -> what it shares with others

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def join(self, ids: Sequence[int], reason: str) -> None:
        ids = sorted(set(ids))
        if len(ids) < 2:
            return
        first = self.find(ids[0])
        for other in ids:
            self.reasons.setdefault(other, set()).add(reason)
            root = self.find(other)
            if root != first:
                # the smaller id is the root, so a group's first member is its root
                if root < first:
                    root, first = first, root
                self.parent[root] = first

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return [sorted(ids) for ids in out.values() if len(ids) > 1]


def _shared(rows: Iterable[tuple[int, str | None]]) -> Iterator[list[int]]:
    """From (record id, key) rows: the ids of each key held by more than one record."""
    by_key: dict[str, set[int]] = {}
    for rid, key in rows:
        if key:
            by_key.setdefault(key, set()).add(rid)
    for ids in by_key.values():
        if len(ids) > 1:
            yield sorted(ids)


def _query(sql: str, params: Sequence = ()) -> list[tuple]:
    return database_proxy.obj.execute_sql(sql, params).fetchall()


def _contact_emails() -> Iterator[list[int]]:
    """Contacts sharing an email. Email keys are unique and lower-cased, so only a key
    stored unevenly (blanks, case) or a Gmail spelling can be shared."""
    # contact.email_key is a copy of the primary row's key; reading both keeps a contact
    # whose rows a writer has not made yet in the comparison, and costs one scan.
    from crmcli.db import placeholder

    mark = placeholder()
    union = (
        "SELECT contact_id AS cid, email_key AS k FROM contact_email "
        "UNION SELECT id, email_key FROM contact WHERE email_key IS NOT NULL"
    )
    rows = _query(
        f"SELECT cid, k FROM ({union}) e WHERE LOWER(TRIM(k)) IN ("
        f"SELECT LOWER(TRIM(k)) FROM ({union}) e2 GROUP BY LOWER(TRIM(k)) "
        "HAVING COUNT(DISTINCT cid) > 1) "
        f"OR LOWER(k) LIKE {mark} OR LOWER(k) LIKE {mark}",
        [f"%@{domain}" for domain in _GMAIL],
    )
    yield from _shared((cid, email_key(k)) for cid, k in rows)


def _contact_phones() -> Iterator[list[int]]:
    union = (
        "SELECT contact_id AS cid, phone_e164 AS k FROM contact_phone WHERE phone_e164 IS NOT NULL "
        "UNION SELECT id, phone_e164 FROM contact WHERE phone_e164 IS NOT NULL"
    )
    rows = _query(
        f"SELECT cid, k FROM ({union}) p WHERE k IN ("
        f"SELECT k FROM ({union}) p2 GROUP BY k HAVING COUNT(DISTINCT cid) > 1)"
    )
    yield from _shared(rows)


def _sounds(model, *, company: bool) -> Iterator[list[int]]:
    """Records whose names sound alike: grouped by the indexed name_sound. A record whose key
    was never written (a writer that predates it) is keyed here, in pages, and compared too."""
    column = model.name_sound
    repeated = (
        model.select(column)
        .where(column.is_null(False))
        .group_by(column)
        .having(fn.COUNT(model.id) > 1)
    )
    rows = list(model.select(model.id, column).where(column.in_(repeated)).tuples())
    unkeyed: list[tuple[int, str | None]] = []
    last = 0
    while True:
        page = list(
            model.select(model.id, model.name)
            .where(column.is_null() & (model.id > last))
            .order_by(model.id)
            .limit(1000)
            .tuples()
        )
        if not page:
            break
        unkeyed += [(rid, sound_key(name, company=company)) for rid, name in page]
        last = page[-1][0]
    if unkeyed:
        keys = sorted({k for _, k in unkeyed if k})
        seen = {rid for rid, _ in rows}
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            found = model.select(model.id, column).where(column.in_(part)).tuples()
            rows += [(rid, k) for rid, k in found if rid not in seen]
        rows += unkeyed
    yield from _shared(rows)


def _company_domains() -> Iterator[list[int]]:
    """Companies with the same web domain (case, `www.` and a scheme aside). Domains are few
    per company and companies far fewer than people: read as they stream, keyed here."""
    rows = Company.select(Company.id, Company.domain).where(Company.domain.is_null(False))
    yield from _shared((rid, _domain_key(d)) for rid, d in rows.tuples().iterator())


def _company_phones() -> Iterator[list[int]]:
    repeated = (
        Company.select(Company.phone_e164)
        .where(Company.phone_e164.is_null(False))
        .group_by(Company.phone_e164)
        .having(fn.COUNT(Company.id) > 1)
    )
    rows = Company.select(Company.id, Company.phone_e164).where(Company.phone_e164.in_(repeated))
    yield from _shared(rows.tuples())


def _score(names: Sequence[str]) -> list[int]:
    """How alike each name is to the first (0-100): rapidfuzz's token_sort_ratio on folded
    names, so word order, case and accents do not count (Müller Jürgen = Jürgen Mueller)."""
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    from crmcli.services.search import german_fold

    first = german_fold(names[0])
    return [
        round(fuzz.token_sort_ratio(first, german_fold(n), processor=default_process))
        for n in names
    ]


def find_duplicates(
    by: Sequence[str] | None = None, *, kind: str = "contact", min_score: int = 0
) -> Iterator[dict]:
    """Candidate groups of duplicates, likeliest first: each a dict with `group` (its number),
    `score` (0-100, how alike the names are: the least alike member to the first), `reasons`
    (what joined them: "same email", "same phone", "sounds alike", "same domain") and
    `members` (id, name, email, phone, company or domain, city, `score` against the first,
    `reasons`), oldest first: the first is the natural one to keep. Groups are connected
    components of shared keys. `min_score` leaves out groups whose score is lower."""
    if kind not in ("contact", "company"):
        raise Invalid("kind", f"duplicates are found among contacts and companies, not {kind}")
    keys = check_keys(by or (CONTACT_KEYS if kind == "contact" else COMPANY_KEYS), kind)
    parts = _Components()
    if kind == "contact":
        finders = {"email": _contact_emails, "phone": _contact_phones}
        finders["name"] = lambda: _sounds(Contact, company=False)
    else:
        finders = {"domain": _company_domains, "phone": _company_phones}
        finders["name"] = lambda: _sounds(Company, company=True)
    for key in keys:
        for ids in finders[key]():
            parts.join(ids, REASONS[key])
    groups = parts.groups()
    if not groups:
        return
    details = _details(kind, [rid for ids in groups for rid in ids])
    scored = []
    for ids in groups:
        members = [details[rid] for rid in ids if rid in details]
        if len(members) < 2:
            continue
        for member, score in zip(members, _score([m["name"] for m in members]), strict=True):
            member["score"] = score
            member["reasons"] = [
                r for r in REASONS.values() if r in parts.reasons.get(member["id"], ())
            ]
        score = min(m["score"] for m in members[1:])
        if score < min_score:
            continue
        reasons = [r for r in REASONS.values() if any(r in m["reasons"] for m in members)]
        scored.append({"score": score, "reasons": reasons, "members": members})
    scored.sort(key=lambda g: (-len(g["reasons"]), -g["score"], g["members"][0]["id"]))
    for number, group in enumerate(scored, 1):
        yield {"group": number, "kind": kind, **group}


def _details(kind: str, ids: list[int]) -> dict[int, dict]:
    """What a person needs to tell the members apart, read in chunks."""
    out: dict[int, dict] = {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        if kind == "contact":
            query = (
                Contact.select(
                    Contact.id,
                    Contact.name,
                    Contact.email,
                    Contact.phone,
                    Company.name,
                    Contact.city,
                    Contact.created_at,
                )  # fmt: skip
                .join(Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id))
                .where(Contact.id.in_(part))
                .tuples()
            )
            for rid, name, email, phone, company, city, created in query:
                out[rid] = {
                    "id": rid, "name": name, "email": email, "phone": phone,
                    "company": company, "city": city, "created_at": created,
                }  # fmt: skip
        else:
            query = (
                Company.select(
                    Company.id,
                    Company.name,
                    Company.domain,
                    Company.email,
                    Company.phone,
                    Company.city,
                    Company.created_at,
                )  # fmt: skip
                .where(Company.id.in_(part))
                .tuples()
            )
            for rid, name, domain, email, phone, city, created in query:
                out[rid] = {
                    "id": rid, "name": name, "domain": domain, "email": email, "phone": phone,
                    "city": city, "created_at": created,
                }  # fmt: skip
    return out


def name_score(a: str, b: str) -> int:
    """How alike two names are, 0-100 (the score find_duplicates gives)."""
    return _score([a, b])[1]
