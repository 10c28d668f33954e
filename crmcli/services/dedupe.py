"""Duplicates: contacts (or companies) that are probably the same, in candidate groups.

Two records meet by a shared key: the same email (case, surrounding blanks and Gmail's
spellings aside), the same phone (E.164), a name that sounds alike in German (Kölner
Phonetik, stored as `name_sound` on every write and indexed). Each key is grouped in SQL
(GROUP BY key HAVING more than one record), so no pair of records is ever compared at query
time. A shared email or phone makes a pair; names that sound alike make a pair only when
rapidfuzz finds them written alike too (NAME_MIN). Pairs are joined into groups (connected
components: A and B by email, B and C by phone make one group of three).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence

from peewee import fn

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
    """Union-find over record ids, remembering which keys joined whom (a bit per reason)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reasons: dict[int, int] = {}  # record id -> bits of what it shares with others

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def join(self, ids: Sequence[int], bit: int) -> None:
        parent, reasons = self.parent, self.reasons
        for other in ids:
            reasons[other] = reasons.get(other, 0) | bit
        if not any(i in parent for i in ids):  # the usual case: records not met before
            first = min(ids)
            for other in ids:
                parent[other] = first
            return
        first = self.find(min(ids))
        for other in ids:
            root = self.find(other)
            if root != first:
                # the smaller id is the root, so a group's first member is its root
                if root < first:
                    root, first = first, root
                parent[root] = first

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        find = self.find
        for x in self.parent:
            out.setdefault(find(x), []).append(x)
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
    """Contacts sharing an email. Email keys are unique and lower-cased, so only a Gmail
    spelling, or a key an older writer stored unevenly (blanks, case), can be shared: those
    are found by one scan each, then what they would equal is looked up by the unique index."""
    from crmcli.db import placeholder

    mark = placeholder()
    odd = (
        f"LOWER(email_key) LIKE {mark} OR LOWER(email_key) LIKE {mark} "
        "OR email_key <> LOWER(TRIM(email_key))"
    )
    patterns = [f"%@{domain}" for domain in _GMAIL]
    rows = _query(
        f"SELECT contact_id, email_key FROM contact_email WHERE {odd} "
        f"UNION SELECT id, email_key FROM contact WHERE email_key IS NOT NULL AND ({odd})",
        patterns * 2,
    )
    even = sorted({k.strip().lower() for _, k in rows} - {k for _, k in rows})
    for start in range(0, len(even), CHUNK):
        part = even[start : start + CHUNK]
        marks = ", ".join([mark] * len(part))
        rows += _query(
            f"SELECT contact_id, email_key FROM contact_email WHERE email_key IN ({marks}) "
            f"UNION SELECT id, email_key FROM contact WHERE email_key IN ({marks})",
            part * 2,
        )
    yield from _shared((cid, email_key(k)) for cid, k in rows)


def _contact_phones() -> Iterator[list[int]]:
    """Contacts sharing a phone number (E.164). Each table is grouped by its index; a
    contact's copy of its primary meeting another's row is joined by the index too."""
    repeated = (
        "SELECT {col} FROM {table} WHERE {col} IS NOT NULL GROUP BY {col} "
        "HAVING COUNT(DISTINCT {owner}) > 1"
    )
    rows: list[tuple[int, str]] = []
    for table, owner in (("contact_phone", "contact_id"), ("contact", "id")):
        inner = repeated.format(col="phone_e164", table=table, owner=owner)
        rows += _query(f"SELECT {owner}, phone_e164 FROM {table} WHERE phone_e164 IN ({inner})")
    for cid, other, key in _query(
        "SELECT c.id, p.contact_id, c.phone_e164 FROM contact c "
        "JOIN contact_phone p ON p.phone_e164 = c.phone_e164 WHERE p.contact_id <> c.id"
    ):
        rows += [(cid, key), (other, key)]
    yield from _shared(rows)


def _sounds(model, names: dict[int, str], *, company: bool) -> Iterator[list[int]]:
    """Records whose names sound alike: grouped by the indexed name_sound. A record whose key
    was never written (a writer that predates it) is keyed here, in pages, and compared too.
    The names read on the way are kept in `names` (for the scores)."""
    from crmcli.db import placeholder

    table = model._meta.table_name
    rows = []
    for rid, key, name in _query(
        f"SELECT id, name_sound, name FROM {table} WHERE name_sound IN (SELECT name_sound FROM "
        f"{table} WHERE name_sound IS NOT NULL GROUP BY name_sound HAVING COUNT(*) > 1)"
    ):
        rows.append((rid, key))
        names[rid] = name
    mark = placeholder()
    unkeyed: list[tuple[int, str | None]] = []
    last = 0
    while True:
        page = _query(
            f"SELECT id, name FROM {table} WHERE name_sound IS NULL AND id > {mark} "
            "ORDER BY id LIMIT 1000",
            (last,),
        )
        if not page:
            break
        for rid, name in page:
            unkeyed.append((rid, sound_key(name, company=company)))
            names[rid] = name
        last = page[-1][0]
    if unkeyed:
        keys = sorted({k for _, k in unkeyed if k})
        seen = {rid for rid, _ in rows}
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            marks = ", ".join([mark] * len(part))
            found = _query(
                f"SELECT id, name_sound FROM {table} WHERE name_sound IN ({marks})", part
            )
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


_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)

# How alike two names that sound alike must also be written (0-100) to count as a pair. The
# Kölner Phonetik codes each word and sorts the codes, so it brings together names no person
# would take for the same ("Uschi Stein" and "Cetin Haas" are both 08 826): the score decides
# inside a block of equal sound keys. Variants of one name score 80 or more (Meier/Maier 90,
# Schmidt/Schmitt 91, Christoph/Christof Meier/Meyer 83, Ute Roth/Uta Rot 80), names that only
# share codes score far less (Stein/Haas 48, Jan Meier/Johann Meyer 76).
NAME_MIN = 80
# A long surname alone would carry a pair over NAME_MIN (Ella Schmidt, Ilja Schmidt: 83):
# each word must also be like its counterpart (Meier/Maier 80, Anna/Anne 75, Ute/Uta 67,
# Kai/Kay 67) where different first names are not (Ella/Ilja 50, Ilka/Elke 50, Uli/Ole 33).
WORD_MIN = 60


@functools.lru_cache(maxsize=65536)  # namesakes are common: fold each name once
def _folded(name: str) -> str:
    """A name as it is scored: umlauts written out (Müller = Mueller), other accents dropped;
    rapidfuzz's processor then ignores case and punctuation. Cheap for plain ASCII names."""
    text = name.translate(_GERMAN)
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _text(name: str, company: bool = False) -> str:
    """A name as rapidfuzz compares it: folded, lower case, no punctuation; a company's legal
    form left out (Müller Bau GmbH = Mueller Bau)."""
    from rapidfuzz.utils import default_process

    text = default_process(_folded(name))
    if company:
        from crmcli.values import _LEGAL_FORMS

        text = " ".join(w for w in text.split() if w not in _LEGAL_FORMS) or text
    return text


def _ratio(a: str, b: str) -> int:
    """How alike two processed names are: the better of rapidfuzz's ratio and its
    token_sort_ratio, so neither word order (Meier Hans) nor a changed first letter that
    sorts the words differently (Lena Vogel, Lene Fogel) makes them unlike."""
    from rapidfuzz import fuzz

    if a == b:
        return 100
    return round(max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)))


def _words_alike(a: str, b: str) -> bool:
    """Whether each word of one processed name is like a word of the other (WORD_MIN), the
    words taken in their order or in alphabetical order (Meier Hans = Hans Maier). Names of
    different lengths (a middle name, a double name) are left to the whole-name score."""
    from rapidfuzz import fuzz

    wa, wb = a.split(), b.split()
    if len(wa) != len(wb) or len(wa) < 2:
        return True
    return any(
        all(fuzz.ratio(x, y) >= WORD_MIN for x, y in zip(one, two, strict=True))
        for one, two in ((wa, wb), (sorted(wa), sorted(wb)), (wa, wb[::-1]))
    )


def _alike(a: str, b: str, score: int) -> bool:
    return score >= NAME_MIN and (score == 100 or _words_alike(a, b))


def name_score(a: str, b: str, *, company: bool = False) -> int:
    """How alike two names are, 0-100 (the score find_duplicates gives a pair)."""
    return _ratio(_text(a, company), _text(b, company))


def similar_names(a: str, b: str, *, company: bool = False) -> bool:
    """Whether two names are alike enough to be one person's (or firm's) written twice:
    NAME_MIN as a whole and each word like its counterpart."""
    ta, tb = _text(a, company), _text(b, company)
    return _alike(ta, tb, _ratio(ta, tb))


def _sound_pairs(
    blocks: Iterable[list[int]], names: dict[int, str], company: bool, bit: int
) -> Iterator[tuple[int, int, int, int, bool]]:
    """Inside each block of names that sound alike, the pairs whose names are also written
    alike (NAME_MIN), as (id, id, bit, score, True): records with the same written name pair at
    once, the distinct spellings of a block are compared with each other."""
    for ids in blocks:
        spellings: dict[str, list[int]] = {}
        for rid in ids:
            if rid in names:
                spellings.setdefault(_text(names[rid], company), []).append(rid)
        for same in spellings.values():
            for rid in same[1:]:
                yield same[0], rid, bit, 100, True
        texts = list(spellings)
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                score = _ratio(a, b)
                if _alike(a, b, score):
                    yield spellings[a][0], spellings[b][0], bit, score, True


def _grouped(edges: list[tuple[int, int, int, int, bool]]) -> list[tuple[list[int], list]]:
    """Groups from pairs (id, id, bit, score, names alike), each with the pairs inside it.
    Pairs whose names are alike (by sound, or an email or phone shared by names written alike)
    make groups. An email or phone shared by names not alike (an office line, a family's
    address, a typo) is evidence about those two records only: inside a group it adds its
    reason, between records of different groups (or none) it makes a group of its own, so
    it never pulls a stranger into a group of namesakes (nor chains two groups into one)."""
    strong, weak = _Components(), _Components()
    for a, b, bit, _, alike in edges:
        if alike:
            strong.join((a, b), bit)

    def together(a: int, b: int) -> bool:
        return a in strong.parent and b in strong.parent and strong.find(a) == strong.find(b)

    inside: dict[tuple[int, int], list] = {}  # (which, root) -> its pairs
    apart = []
    for edge in edges:
        if edge[4] or together(edge[0], edge[1]):
            inside.setdefault((0, strong.find(edge[0])), []).append(edge)
        else:
            weak.join(edge[:2], edge[2])
            apart.append(edge)
    for edge in apart:
        inside.setdefault((1, weak.find(edge[0])), []).append(edge)
    out = []
    for group_edges in inside.values():
        ids = sorted({rid for edge in group_edges for rid in edge[:2]})
        out.append((ids, group_edges))
    return out


def find_duplicates(
    by: Sequence[str] | None = None,
    *,
    kind: str = "contact",
    min_score: int = 0,
    limit: int | None = None,
) -> Iterator[dict]:
    """Candidate groups of duplicates, likeliest first: each a dict with `group` (its number),
    `score` (0-100: how alike the names of its likeliest pair are), `reasons` (what joined
    them: "same email", "same domain", "same phone", "sounds alike"), `ids` (the members' ids,
    for a merge) and `members` (id, name, email, phone, company or domain, city, `score`: its
    best pair's in the group, `reasons`), oldest first: the first is the natural one to keep.

    A pair is two records with the same email, domain or phone (firm evidence), or names
    that sound alike (the same indexed sound key: a block) and are written alike too
    (rapidfuzz score NAME_MIN or more: the score decides inside a block). Groups are built
    from pairs (see _grouped), so a record joins a group only through a pair of its own and
    two groups are not chained by one shared number between unlike names. `min_score` leaves
    out groups whose best pair is less alike; `limit` stops after that many groups. Members'
    details are read as the groups are yielded."""
    if kind not in ("contact", "company"):
        raise Invalid("kind", f"duplicates are found among contacts and companies, not {kind}")
    keys = check_keys(by or (CONTACT_KEYS if kind == "contact" else COMPANY_KEYS), kind)
    company = kind == "company"
    names: dict[int, str] = {}
    model = Contact if kind == "contact" else Company
    finders: dict[str, Callable[[], Iterator[list[int]]]] = (
        {"email": _contact_emails, "phone": _contact_phones}
        if kind == "contact"
        else {"domain": _company_domains, "phone": _company_phones}
    )
    bits = {key: 1 << n for n, key in enumerate(REASONS)}
    edges: list[tuple[int, int, int, int, bool]] = []
    firm: list[tuple[int, int, int]] = []
    for key in keys:
        if key == "name":
            blocks = _sounds(model, names, company=company)
            edges += _sound_pairs(blocks, names, company, bits[key])
            continue
        for ids in finders[key]():
            firm += [(ids[0], other, bits[key]) for other in ids[1:]]
    if firm:
        _read_names(model, names, sorted({r for a, b, _ in firm for r in (a, b)} - names.keys()))
        texts: dict[int, str] = {}
        for a, b, bit in firm:
            if a in names and b in names:  # one deleted meanwhile is left out
                for rid in (a, b):
                    if rid not in texts:
                        texts[rid] = _text(names[rid], company)
                score = _ratio(texts[a], texts[b])
                alike = _alike(texts[a], texts[b], score)
                edges.append((a, b, bit, score, alike))
    scored = []
    for ids, group_edges in _grouped(edges):
        reasons: dict[int, int] = {}
        best: dict[int, int] = {}
        for a, b, bit, score, _ in group_edges:
            for rid in (a, b):
                reasons[rid] = reasons.get(rid, 0) | bit
                if score > best.get(rid, -1):
                    best[rid] = score
        score = max(best.values())
        if score < min_score:
            continue
        mask = 0
        for bit in reasons.values():
            mask |= bit
        scored.append((-bin(mask).count("1"), -score, ids[0], ids, mask, reasons, best))
    scored.sort(key=lambda g: g[:3])
    if limit is not None:
        scored = scored[:limit]
    words: dict[int, list[str]] = {}  # the words for each combination of reasons, made once

    def said(mask: int) -> list[str]:
        if mask not in words:
            words[mask] = [REASONS[k] for k in REASONS if mask & bits[k]]
        return words[mask]

    number = 0
    for start in range(0, len(scored), _PAGE):
        page = scored[start : start + _PAGE]
        details = _details(kind, [rid for g in page for rid in g[3]])
        for _, _, _, ids, mask, reasons, best in page:
            members = []
            for rid in ids:
                member = details.get(rid)
                if member is not None:
                    member = dict(member)  # a record may be in two groups
                    member["score"] = best[rid]
                    member["reasons"] = said(reasons[rid])
                    members.append(member)
            if len(members) < 2:
                continue
            number += 1
            yield {
                "group": number, "kind": kind, "score": max(m["score"] for m in members),
                "reasons": said(mask), "ids": [m["id"] for m in members], "members": members,
            }  # fmt: skip


# Groups whose members' details are read at a time, as find_duplicates yields them.
_PAGE = 200


def _read_names(model, names: dict[int, str], ids: list[int]) -> None:
    from crmcli.db import placeholder

    table = model._meta.table_name
    mark = placeholder()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        marks = ", ".join([mark] * len(part))
        names.update(_query(f"SELECT id, name FROM {table} WHERE id IN ({marks})", part))


_DETAILS = {
    "contact": (
        ("id", "name", "email", "phone", "company", "city"),
        "SELECT c.id, c.name, c.email, c.phone, f.name, c.city FROM contact c "
        "LEFT JOIN company f ON f.id = c.company_id WHERE c.id IN ({marks})",
    ),
    "company": (
        ("id", "name", "domain", "email", "phone", "city"),
        "SELECT id, name, domain, email, phone, city FROM company WHERE id IN ({marks})",
    ),
}


def _details(kind: str, ids: list[int]) -> dict[int, dict]:
    """What a person needs to tell the members apart, read in chunks by primary key."""
    from crmcli.db import placeholder

    keys, sql = _DETAILS[kind]
    mark = placeholder()
    out: dict[int, dict] = {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        for row in _query(sql.format(marks=", ".join([mark] * len(part))), part):
            out[row[0]] = dict(zip(keys, row, strict=True))
    return out
