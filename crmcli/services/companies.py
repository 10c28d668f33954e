"""Companies: the organisations contacts belong to. One company per folded name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from peewee import JOIN, fn

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import Company, CompanyTag, Contact, database_proxy, utcnow
from crmcli.services import limits, refs, search, tags
from crmcli.values import fold, fold_variants, parse_email, parse_phone

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
    """The id of the company that REF names (id or unique name fragment)."""
    return refs.resolve(Company, ref, kind="company")


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


def _check_name_free(name_fold: str, company_id: int | None = None) -> None:
    query = Company.select(Company.id, Company.name).where(Company.name_fold == name_fold)
    if company_id is not None:
        query = query.where(Company.id != company_id)
    other = query.first()
    if other is not None:
        raise Conflict(f"company #{other.id} {other.name} exists already")


def find_company(name: str) -> int | None:
    """The company that `name` names as a REF (id, exact name or unique case- and
    accent-insensitive fragment); None when nothing matches, so naming it creates it.
    Several matches are Ambiguous (with candidates); an id that does not exist, NotFound."""
    row = clean_fields({"name": name})
    found = Company.select(Company.id).where(Company.name_fold == row["name_fold"]).scalar()
    if found is not None:
        return found
    try:
        return resolve_company(row["name"])
    except NotFound:
        if refs.is_id(row["name"]):
            raise  # "#12" or "12" names an id; a typo there must not become a company "12"
    return None


def link_company(name: str, *, now: datetime | None = None) -> tuple[int, bool]:
    """The company `name` names (see find_company), and False; or, when nothing matches, a
    new company of that name, and True."""
    found = find_company(name)
    if found is not None:
        return found, False
    row = clean_fields({"name": name})
    now = now or utcnow()
    company_id = Company.insert(created_at=now, updated_at=now, **row).execute()
    search.reindex_companies([company_id])
    return company_id, True


def link_or_create(name: str, *, now: datetime | None = None) -> int:
    """The id of the company `name` names, created when nothing matches (see link_company)."""
    return link_company(name, now=now)[0]


def add_company(
    name: str, *, tags_: Iterable[str] = (), now: datetime | None = None, **values
) -> dict:
    """Create a company; a second company with the same folded name is a Conflict."""
    now = now or utcnow()
    row = clean_fields({"name": name, **values})
    with database_proxy.atomic():
        _check_name_free(row["name_fold"])
        company_id = Company.insert(created_at=now, updated_at=now, **row).execute()
        _add_tags(company_id, tags_)
        search.reindex_companies([company_id])
    return get_company(company_id)


def _add_tags(company_id: int, names: Iterable[str]) -> None:
    ids = tags.ensure_tags(names)
    if ids:
        CompanyTag.insert_many(
            [(company_id, t) for t in ids], fields=[CompanyTag.company, CompanyTag.tag]
        ).on_conflict_ignore().execute()


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
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid("field", f"companies have no field {', '.join(sorted(unknown))}")
    row = clean_fields(changes)
    with database_proxy.atomic():
        if "name_fold" in row:
            _check_name_free(row["name_fold"], company_id)
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
    if remove:
        return edit_company(company_id, {}, remove_tags=names)
    return edit_company(company_id, {}, add_tags=names)


def delete_company(company_id: int, *, contacts: str = "keep") -> dict:
    """Delete a company. Its contacts are kept without a company, or deleted with it."""
    if contacts not in ("keep", "delete"):
        raise Invalid("contacts", f"'{contacts}' must be keep or delete")
    card = get_company(company_id)
    with database_proxy.atomic():
        people = [
            r[0] for r in Contact.select(Contact.id).where(Contact.company == company_id).tuples()
        ]
        from crmcli.models import Activity

        # The company's own entries go with it; its people's entries stay with people who stay.
        gone = (Activity.company == company_id) & Activity.contact.is_null()
        if contacts == "delete":
            gone = (Activity.company == company_id) | Activity.contact.in_(people)
        else:
            Activity.update(company=None).where(
                (Activity.company == company_id) & Activity.contact.is_null(False)
            ).execute()
        search.remove("activity", [r[0] for r in Activity.select(Activity.id).where(gone).tuples()])
        if contacts == "delete":
            Contact.delete().where(Contact.id.in_(people)).execute()
            search.remove("contact", people)
        else:
            Contact.update(company=None).where(Contact.id.in_(people)).execute()
            search.reindex_contacts(people)
        Company.delete().where(Company.id == company_id).execute()
        search.remove("company", [company_id])
    card["contacts_deleted" if contacts == "delete" else "contacts_unlinked"] = len(people)
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
        return []
    order = [count, Company.name_key] if key == "contacts" else list(SORTS[key])
    query = query.order_by(*[o.desc() if descending else o.asc() for o in order])
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    rows = []
    for values in query.tuples():
        row = dict(zip(_KEYS, values[:-1], strict=True))
        row["contacts"] = values[-1]
        rows.append(row)
    by_company = tags.tags_by_owner(CompanyTag, CompanyTag.company, [r["id"] for r in rows])
    for r in rows:
        r["tags"] = by_company.get(r["id"], [])
    return rows
