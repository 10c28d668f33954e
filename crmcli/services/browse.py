"""Windows into big lists for a screen that scrolls through them (crm tui's contacts and
companies): how many rows match, and the rows from any position, a page at a time.

A window next to one the screen already holds is read by its sort key (keyset: `WHERE
(name_key, id) > (?, ?)`, an index seek however deep), a window far from both ends by
position counted from the nearer end (the last row is as quick as the first), so a
million contacts scroll in pages of a few dozen rows and never sit in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from peewee import JOIN, Tuple

from crmcli.models import Company, Contact
from crmcli.services import companies, contacts, search
from crmcli.values import fold

# What a row of the contacts window carries (plus `key`, its sort key for the next window).
CONTACT_KEYS = (
    "id", "name", "email", "phone", "phone_e164", "company", "city", "status", "owner",
    "last_activity_at", "created_at",
)  # fmt: skip
COMPANY_KEYS = ("id", "name", "domain", "city", "industry", "phone", "created_at")
# Sorts whose key columns are never NULL can be read by key (a row value compared with NULL
# is neither before nor after it); the others are read by position.
_KEYSET_CONTACTS = {"name", "created", "updated", "id", "status"}
_KEYSET_COMPANIES = {"name", "created", "id"}
LAST_CHAR = chr(0x10FFFF)  # sorts after every character: "b" <= name_key < "b" + LAST_CHAR


def _contact_query(
    ids: Sequence[int] | None,
    owner: str | None,
    filters: dict,
    initial: str | None = None,
    *,
    counting: bool = False,
):
    """The contacts the filters let through: their window's columns, or (`counting`) their
    ids alone, without the join to their companies that a count does not need."""
    if counting:
        select = Contact.select(Contact.id)
    else:
        select = Contact.select(
            Contact.id, Contact.name, Contact.email, Contact.phone, Contact.phone_e164,
            Company.name, Contact.city, Contact.status, Contact.owner, Contact.last_activity_at,
            Contact.created_at,
        ).join(Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id))  # fmt: skip
    query = contacts.filtered_query(select, **filters)
    if query is None:
        return None
    if ids is not None:
        query = query.where(Contact.id.in_(list(ids)))
    if owner:
        query = query.where(Contact.owner.in_(search.matching_values(Contact.owner, owner.strip())))
    if initial:
        # Names that begin so (folded: Ü is u): a range of the sorted name index.
        start = fold(initial)
        query = query.where((Contact.name_key >= start) & (Contact.name_key < start + LAST_CHAR))
    return query


def count_contacts(
    *,
    ids: Sequence[int] | None = None,
    owner: str | None = None,
    initial: str | None = None,
    **filters,
) -> int:
    """How many contacts the window's filters (those of contacts.list_contacts, `ids` from a
    search, `owner`, `initial`: names that begin with it) let through."""
    if ids is not None and not ids:
        return 0
    if ids is not None and not (owner or initial or any(filters.values())):
        # The search's ids name contacts that exist (the index is kept in the writers'
        # transactions): nothing to count.
        return len(set(ids))
    query = _contact_query(ids, owner, filters, initial, counting=True)
    return 0 if query is None else query.count()


def contact_rows(
    *,
    sort: str = "name",
    offset: int = 0,
    limit: int = 100,
    total: int | None = None,
    after: Sequence | None = None,
    before: Sequence | None = None,
    ids: Sequence[int] | None = None,
    owner: str | None = None,
    initial: str | None = None,
    **filters,
) -> list[dict]:
    """Rows `offset` to `offset + limit` of the contacts matching the filters in `sort`'s
    order; or the `limit` rows right after the row whose key is `after` (before `before`).
    `total` (count_contacts) lets a window past the middle be counted from the end."""
    if ids is not None and not ids:
        return []
    query = _contact_query(ids, owner, filters, initial)
    if query is None:
        return []
    name, descending = _sort_name(sort)
    fields = list(contacts._order(sort))  # validates the sort, with its message
    columns = [f.node for f in fields]  # the bare columns of the ORDER BY terms
    keyset = name in _KEYSET_CONTACTS
    keys = _contact_query(ids, owner, filters, initial, counting=True) if keyset else None
    rows = _window(
        query, keys, columns, descending, offset, limit, total,
        after if keyset else None, before if keyset else None,
    )  # fmt: skip
    out = []
    for values in rows:
        row = dict(zip(CONTACT_KEYS, values[: len(CONTACT_KEYS)], strict=True))
        row["key"] = tuple(values[len(CONTACT_KEYS) :])
        out.append(row)
    return out


def count_companies(*, ids: Sequence[int] | None = None, **filters) -> int:
    if ids is not None and not ids:
        return 0
    query = companies.filtered_query(Company.select(Company.id), **filters)
    if query is None:
        return 0
    if ids is not None:
        query = query.where(Company.id.in_(list(ids)))
    return query.count()


def company_rows(
    *,
    sort: str = "name",
    offset: int = 0,
    limit: int = 100,
    total: int | None = None,
    after: Sequence | None = None,
    before: Sequence | None = None,
    ids: Sequence[int] | None = None,
    **filters,
) -> list[dict]:
    """contact_rows for companies (sorts: name, created, id, city; -KEY descending)."""
    if ids is not None and not ids:
        return []
    name, descending = _sort_name(sort)
    # crm list companies' sorts, but for the count of people (computed per query: no
    # index to page by)
    sorts = {k: v for k, v in companies.SORTS.items() if v is not None}
    if name not in sorts:
        from crmcli.errors import Invalid

        raise Invalid("sort", f"cannot sort companies by '{sort}' (choose {', '.join(sorts)})")
    query = companies.filtered_query(
        Company.select(
            Company.id, Company.name, Company.domain, Company.city, Company.industry,
            Company.phone, Company.created_at,
        ),
        **filters,
    )  # fmt: skip
    if query is None:
        return []
    keys = None
    if ids is not None:
        query = query.where(Company.id.in_(list(ids)))
    keyset = name in _KEYSET_COMPANIES
    if keyset:
        keys = companies.filtered_query(Company.select(Company.id), **filters)
        if ids is not None:
            keys = keys.where(Company.id.in_(list(ids)))
    rows = _window(
        query, keys, list(sorts[name]), descending, offset, limit, total,
        after if keyset else None, before if keyset else None,
    )  # fmt: skip
    out = []
    for values in rows:
        row = dict(zip(COMPANY_KEYS, values[: len(COMPANY_KEYS)], strict=True))
        row["key"] = tuple(values[len(COMPANY_KEYS) :])
        out.append(row)
    return out


def _sort_name(sort: str) -> tuple[str, bool]:
    key = (sort or "name").strip().lower()
    return key.lstrip("-"), key.startswith("-")


def _window(query, keys, columns, descending, offset, limit, total, after, before) -> list[tuple]:
    """The rows of `query` (its select, then the sort columns) for one window. `keys`: the
    same rows without joins (a sort read by key), to find the key at a position: stepping
    over rows to an offset costs next to nothing in the sort's index, and a great deal when
    each row stepped over is joined and read whole (half of 100,000 contacts: 0.3 ms against
    ~450 ms on SQLite)."""
    query = query.select_extend(*columns)
    key = Tuple(*columns) if len(columns) > 1 else columns[0]

    def bound(values):
        # As the column stores them (a time as the model writes it): inside a row value
        # peewee would pass them on unconverted.
        values = [c.db_value(v) for c, v in zip(columns, values, strict=True)]
        return Tuple(*values) if len(columns) > 1 else values[0]

    forward = [c.desc() if descending else c.asc() for c in columns]
    backward = [c.asc() if descending else c.desc() for c in columns]
    if after is not None:
        cond = key < bound(after) if descending else key > bound(after)
        return list(query.where(cond).order_by(*forward).limit(limit).tuples())
    if before is not None:
        cond = key > bound(before) if descending else key < bound(before)
        rows = list(query.where(cond).order_by(*backward).limit(limit).tuples())
        rows.reverse()
        return rows
    offset = max(0, offset)
    if total is not None and offset >= total:
        return []
    if keys is not None and offset > 0:
        anchor_query = keys.select(*columns)
        if total is not None and offset > total // 2:  # counted from the end: End is instant
            anchor_query = anchor_query.order_by(*backward).offset(max(0, total - 1 - offset))
        else:
            anchor_query = anchor_query.order_by(*forward).offset(offset)
        anchor = anchor_query.limit(1).tuples().first()
        if anchor is None:
            return []
        cond = key <= bound(anchor) if descending else key >= bound(anchor)
        return list(query.where(cond).order_by(*forward).limit(limit).tuples())
    if total is not None and offset > total // 2:
        # Past the middle: count from the end in the opposite order (End is instant).
        end = min(total, offset + limit)
        from_end = total - end
        rows = list(query.order_by(*backward).limit(max(0, end - offset)).offset(from_end).tuples())
        rows.reverse()
        return rows
    return list(query.order_by(*forward).limit(limit).offset(offset).tuples())
