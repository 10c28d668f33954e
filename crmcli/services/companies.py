"""Companies: the organisations contacts belong to. One company per folded name."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from peewee import JOIN, fn

from crmcli.db import insert_unless_taken
from crmcli.errors import Ambiguous, Candidate, Conflict, Invalid, NotFound
from crmcli.models import Company, CompanyTag, Contact, database_proxy, utcnow
from crmcli.services import limits, prepared, refs, search, tags
from crmcli.values import fold, fold_variants, parse_email, parse_phone, sound_key

TEXT_FIELDS = ("domain", "industry", "street", "zip", "city", "country", "notes")
EDITABLE = ("name", "phone", "email", *TEXT_FIELDS)
SORTS = {
    "name": (Company.name_key, Company.id),
    "created": (Company.created_at, Company.id),
    "city": (Company.city_fold, Company.name_key, Company.id),
    "contacts": None,  # by number of people, computed in the query
    "id": (Company.id,),
}


def resolve_company(ref: str) -> int:
    """The id of the company that REF names (id, one merged away naming its survivor, or a
    unique name fragment)."""
    return refs.resolve(Company, ref, kind="company", merged=True)


def clean_fields(values: dict) -> dict:
    """Company values as a user gave them, checked and normalised into column values (name
    folds for REFs and search, email, domain, limits); Invalid on a bad one."""
    out: dict = {}
    for key, value in values.items():
        text = " ".join(str(value).split()) if value is not None else ""
        limits.check(key, str(value).strip() if key == "notes" and value is not None else text)
        if key == "name":
            if not text:
                raise Invalid("name", "a company needs a name")
            out.update(name=text, name_fold=fold(text), name_key=fold_variants(text))
            out["name_sound"] = sound_key(text, company=True)
        elif key == "email":
            out["email"] = parse_email(text) if text else None
        elif key == "phone":
            out["phone"] = text or None
            out["phone_e164"] = parse_phone(text) if text else None
        elif key == "domain":
            out["domain"] = text.lower() or None
        elif key in TEXT_FIELDS:
            out[key] = (str(value).strip() if key == "notes" else text) or None
            if key == "city":
                out["city_fold"] = fold(text) if text else None
        else:
            raise KeyError(key)
    return out


def same_name(name: str, company_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the companies whose name is `name` as names compare (refs.same_name:
    Müller Bau = Mueller Bau = Muller Bau, Weiß = Weiss), but for `company_id`."""
    forms = refs.plain_forms(name)
    query = Company.select(Company.id, Company.name)
    if forms is not None:  # through the unique index on name_fold
        query = query.where(Company.name_fold.in_(sorted(forms)))
    else:
        plain, german = refs.name_forms(name)
        query = query.where(
            (Company.name_fold == plain)
            | (Company.name_key == german)
            | Company.name_key.endswith(f" | {german}")
        )
    if company_id is not None:
        query = query.where(Company.id != company_id)
    rows = query.order_by(Company.id).tuples()
    return [(i, n) for i, n in rows if refs.same_name(n, name)]


def _check_name_free(name: str, company_id: int | None = None) -> None:
    found = same_name(name, company_id)
    if found:
        other_id, other_name = found[0]
        raise Conflict(f"company #{other_id} {other_name} exists already")


def find_company(name: str) -> int | None:
    """The company that `name` names as a REF (id, exact name or unique case- and
    accent-insensitive fragment); None when nothing matches, so naming it creates it.
    Several matches are Ambiguous (with candidates); an id that does not exist, NotFound."""
    row = clean_fields({"name": name})
    exact = same_name(row["name"])  # Müller: a company named Muller and one named Mueller
    if len(exact) == 1:
        return exact[0][0]
    if exact:
        raise Ambiguous("company", row["name"], [Candidate(i, n) for i, n in exact], len(exact))
    try:
        return resolve_company(row["name"])
    except NotFound:
        if refs.is_id(row["name"]):
            raise  # "#12" or "12" names an id; a typo there must not become a company "12"
    return None


def link_company(name: str | None, *, now: datetime | None = None) -> tuple[int | None, bool]:
    """The company a contact's `name` names as a REF (see find_company), and False; or, when
    nothing matches, a new company of that name, and True; (None, False) for no name. Call it
    in the transaction that links the contact, so the look-up and the insert are one step."""
    if name is None or not name.strip():
        return None, False
    with database_proxy.atomic():
        found = find_company(name)
        if found is not None:
            return found, False
        row = clean_fields({"name": name})
        now = now or utcnow()
        query = Company.insert(created_at=now, updated_at=now, **row)
        company_id = insert_unless_taken(query, Company.name_fold)
        if company_id is None:  # another process made it since the look-up: that one it is
            taken = Company.select(Company.id).where(Company.name_fold == row["name_fold"])
            return taken.scalar(), False
        search.reindex_companies([company_id])
    return company_id, True


def add_company(
    name: str, *, tags_: Iterable[str] = (), now: datetime | None = None, **values
) -> dict:
    """Create a company; a second company with the same folded name is a Conflict."""
    now = now or utcnow()
    row = clean_fields({"name": name, **values})
    with database_proxy.atomic():
        _check_name_free(row["name"])
        query = Company.insert(created_at=now, updated_at=now, **row)
        company_id = insert_unless_taken(query, Company.name_fold)
        if company_id is None:  # another process made it since the check
            _check_name_free(row["name"])
            raise Conflict(f"company {row['name']} exists already")
        _add_tags(company_id, tags_)
        search.reindex_companies([company_id])
    return get_company(company_id)


def _add_tags(company_id: int, names: Iterable[str]) -> None:
    ids = tags.ensure_tags(names)
    if ids:
        CompanyTag.insert_many(
            [(company_id, t) for t in ids], fields=[CompanyTag.company, CompanyTag.tag]
        ).on_conflict_ignore().execute()


def check_change(changes: dict, *, many: bool = False) -> dict:
    """A change to companies as a user gave it, checked and turned into column values. With
    `many` it goes to several companies at once, so no name (each one's own). The one check
    of edit_company and bulk.edit."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid("field", f"companies have no field {', '.join(sorted(unknown))}")
    if many and "name" in changes:
        raise Invalid("name", "each company has its own name; change it one by one")
    return clean_fields(changes)


def edit_company(
    company_id: int,
    changes: dict,
    *,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    now: datetime | None = None,
) -> dict:
    """Change fields (None or "" clears one) and tags of a company, all or nothing."""
    now = now or utcnow()
    row = check_change(changes)
    with database_proxy.atomic():
        if "name" in row:
            _check_name_free(row["name"], company_id)
        row["updated_at"] = now
        Company.update(**row).where(Company.id == company_id).execute()
        _add_tags(company_id, add_tags)
        drop = [t for t in tags.tag_ids(remove_tags) if t is not None]
        if drop:
            CompanyTag.delete().where(
                (CompanyTag.company == company_id) & CompanyTag.tag.in_(drop)
            ).execute()
        search.reindex_companies([company_id])
        if "name" in row:
            people = Contact.select(Contact.id).where(Contact.company == company_id)
            search.reindex_contacts([r[0] for r in people.tuples()])
    return get_company(company_id)


def tag_company(company_id: int, names: Iterable[str], *, remove: bool = False) -> dict:
    """Add (or remove) tags on one company. Removing, the card lists the names the company
    did not carry (`not_tagged`)."""
    names = list(names)
    if not remove:
        return edit_company(company_id, {}, add_tags=names)
    with database_proxy.atomic():
        carried = get_company(company_id)["tags"]
        card = edit_company(company_id, {}, remove_tags=names)
    return card | {"not_tagged": tags.not_carried(carried, names)}


def delete_company(company_id: int, *, contacts: str = "keep") -> dict:
    """Delete a company. Its contacts are kept without a company, or deleted with it; see
    bulk.delete_companies, the one delete of one company and of many."""
    from crmcli.services import bulk

    if contacts not in ("keep", "delete"):
        raise Invalid("contacts", f"'{contacts}' must be keep or delete")
    with database_proxy.atomic():
        card = get_company(company_id)
        people = len(card["contacts"])
        bulk.delete_companies([company_id], contacts=contacts)
    card["contacts_deleted" if contacts == "delete" else "contacts_unlinked"] = people
    return card


_COLUMNS = (
    Company.id, Company.name, Company.domain, Company.industry, Company.phone,
    Company.phone_e164, Company.email, Company.street, Company.zip, Company.city,
    Company.country, Company.notes, Company.created_at, Company.updated_at,
)  # fmt: skip
_KEYS = (
    "id", "name", "domain", "industry", "phone", "phone_e164", "email", "street", "zip",
    "city", "country", "notes", "created_at", "updated_at",
)  # fmt: skip


def _people_counts():
    return (
        Contact.select(Contact.company, fn.COUNT(Contact.id).alias("n"))
        .where(Contact.company.is_null(False))
        .group_by(Contact.company)
        .alias("people")
    )


def get_company(company_id: int) -> dict:
    """A company with its tags and its people."""
    found = Company.select(*_COLUMNS).where(Company.id == company_id).tuples().first()
    if found is None:
        raise NotFound(f"no company with id {company_id}")
    card = dict(zip(_KEYS, found, strict=True))
    card["tags"] = tags.tags_by_owner(CompanyTag, CompanyTag.company, [company_id]).get(
        company_id, []
    )
    people = (
        Contact.select(
            Contact.id, Contact.name, Contact.position, Contact.email, Contact.phone, Contact.status
        )
        .where(Contact.company == company_id)
        .order_by(Contact.name_key, Contact.id)
        .dicts()
    )
    card["contacts"] = list(people)
    return card


def filtered_query(
    query,
    *,
    tags_: Sequence[str] = (),
    city: str | None = None,
    industry: str | None = None,
    created_since: datetime | None = None,
):
    """`query` narrowed to companies matching every filter (None: nothing can match)."""
    for tag_id in tags.tag_ids(tags_):
        if tag_id is None:
            return None
        query = query.where(
            fn.EXISTS(
                CompanyTag.select(CompanyTag.company).where(
                    (CompanyTag.company == Company.id) & (CompanyTag.tag == tag_id)
                )
            )
        )
    if city:
        query = query.where(search.text_filter(Company.city_fold, city))
    if industry:
        values = search.matching_values(Company.industry, industry)
        query = query.where(Company.industry.in_(values))
    if created_since:
        query = query.where(Company.created_at >= created_since)
    return query


def count_companies(**filters) -> int:
    query = filtered_query(Company.select(Company.id), **filters)
    return 0 if query is None else query.count()


def list_companies(
    *, sort: str = "name", limit: int | None = None, offset: int = 0, **filters
) -> list[dict]:
    """Companies matching every filter, with how many people each has."""
    return list(iter_companies(sort=sort, limit=limit, offset=offset, **filters))


def iter_companies(
    *, sort: str = "name", limit: int | None = None, offset: int = 0, **filters
) -> Iterator[dict]:
    """list_companies one company at a time, read from one query and given their tags a
    batch of 1000 at a time; the filters are checked at the call, before the first row."""
    key = (sort or "name").strip().lower()
    descending = key.startswith("-")
    key = key.lstrip("-")
    if key not in SORTS:
        raise Invalid("sort", f"cannot sort companies by '{sort}' (choose {', '.join(SORTS)})")
    people = _people_counts()
    count = fn.COALESCE(people.c.n, 0)
    query = filtered_query(
        Company.select(*_COLUMNS, count).join(
            people, JOIN.LEFT_OUTER, on=(people.c.company_id == Company.id)
        ),
        **filters,
    )
    if query is None:
        return iter(())
    order = [count, Company.name_key] if key == "contacts" else list(SORTS[key])
    query = query.order_by(*[o.desc() if descending else o.asc() for o in order])
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return _with_tags(prepared.stream_query(query))


def _with_tags(found) -> Iterator[dict]:
    rows: list[dict] = []
    for values in itertools.chain(found, [None]):
        if values is not None:
            row = dict(zip(_KEYS, values[:-1], strict=True))
            row["contacts"] = values[-1]
            rows.append(row)
        if rows and (values is None or len(rows) == 1000):
            by_company = tags.tags_by_owner(CompanyTag, CompanyTag.company, [r["id"] for r in rows])
            for r in rows:
                r["tags"] = by_company.get(r["id"], [])
            yield from rows
            rows = []
