"""Tags: free classification of contacts and companies. `VIP` and `vip` are one tag."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import JOIN, fn

from crmcli.db import insert_unless_taken
from crmcli.errors import Invalid
from crmcli.models import CompanyTag, ContactTag, Tag, database_proxy
from crmcli.services import cadence, refs
from crmcli.values import fold


def clean_tag(name: str) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise Invalid("tag", "a tag cannot be empty")
    if "," in text:
        raise Invalid("tag", f"'{text}' contains a comma; give each tag separately")
    if len(text) > 64:
        raise Invalid("tag", f"'{text[:20]}…' is longer than 64 characters")
    return text


def not_carried(carried: Iterable[str], names: Iterable[str]) -> list[str]:
    """The names (each once, as given) of tags not among `carried` (tag names on a record):
    what removing `names` from it cannot remove."""
    have = {fold(t) for t in carried}
    out: dict[str, str] = {}
    for name in names:
        key = fold(clean_tag(name))
        if key not in have:
            out.setdefault(key, name)
    return list(out.values())


def ensure_tags(names: Iterable[str]) -> list[int]:
    """Ids of the named tags, creating the missing ones (keeping the first spelling)."""
    wanted: dict[str, str] = {}
    for name in names:
        text = clean_tag(name)
        wanted.setdefault(fold(text), text)
    if not wanted:
        return []
    existing = dict(
        Tag.select(Tag.name_fold, Tag.id).where(Tag.name_fold.in_(list(wanted))).tuples()
    )
    taken = []
    for key, text in sorted(wanted.items()):  # one order: two writers never wait on each other
        if key not in existing:
            made = insert_unless_taken(Tag.insert(name=text, name_fold=key), Tag.name_fold)
            if made is None:  # another process made it since the look-up
                taken.append(key)
            else:
                existing[key] = made
    if taken:
        existing.update(Tag.select(Tag.name_fold, Tag.id).where(Tag.name_fold.in_(taken)).tuples())
    return [existing[key] for key in wanted]


def tag_ids(names: Iterable[str]) -> list[int | None]:
    """Ids of existing tags by name (None for a tag nobody uses), without creating any."""
    keys = [fold(clean_tag(n)) for n in names]
    if not keys:
        return []
    found = dict(Tag.select(Tag.name_fold, Tag.id).where(Tag.name_fold.in_(keys)).tuples())
    return [found.get(k) for k in keys]


def unknown_tags(names: Iterable[str]) -> list[str]:
    """The names (each once, as given) of tags that do not exist: a filter by one of them
    selects nobody, most likely a typo."""
    names = list(names)
    out: dict[str, str] = {}
    for name, found in zip(names, tag_ids(names), strict=True):
        if found is None:
            out.setdefault(fold(name), name)
    return list(out.values())


def tags_by_owner(link_model, owner_field, owner_ids: list[int]) -> dict[int, list[str]]:
    """{owner id: [tag names]} for many owners in one query."""
    out: dict[int, list[str]] = {}
    if not owner_ids:
        return out
    rows = (
        link_model.select(owner_field, Tag.name)
        .join(Tag)
        .where(owner_field.in_(owner_ids))
        .order_by(Tag.name_fold)
        .tuples()
    )
    for owner, name in rows:
        out.setdefault(owner, []).append(name)
    return out


def list_tags() -> list[dict]:
    """Every tag with how many contacts and companies carry it, by name."""
    contacts = (
        ContactTag.select(ContactTag.tag, fn.COUNT(ContactTag.contact).alias("n"))
        .group_by(ContactTag.tag)
        .alias("ct")
    )
    companies = (
        CompanyTag.select(CompanyTag.tag, fn.COUNT(CompanyTag.company).alias("n"))
        .group_by(CompanyTag.tag)
        .alias("cot")
    )
    rows = (
        Tag.select(
            Tag.id,
            Tag.name,
            fn.COALESCE(contacts.c.n, 0),
            fn.COALESCE(companies.c.n, 0),
            Tag.cadence_days,
            Tag.created_at,
        )
        .join(contacts, JOIN.LEFT_OUTER, on=(contacts.c.tag_id == Tag.id))
        .switch(Tag)
        .join(companies, JOIN.LEFT_OUTER, on=(companies.c.tag_id == Tag.id))
        .order_by(Tag.name_fold)
        .tuples()
    )
    return [
        {"id": i, "name": n, "contacts": c, "companies": co, "cadence_days": d, "created_at": at}
        for i, n, c, co, d, at in rows
    ]


def resolve_tag(ref: str) -> int:
    """A tag by its name (any case or accents) or id."""
    from crmcli.errors import NotFound

    text = (ref or "").strip()
    if refs.is_id(text):
        found = Tag.select(Tag.id).where(Tag.id == refs.parse_id(text, kind="tag")).scalar()
    else:
        found = Tag.select(Tag.id).where(Tag.name_fold == fold(text)).scalar()
    if found is None:
        raise NotFound(f"no tag '{text}'", action="list_tags", kind="tag", ref=text)
    return found


def edit_tag(ref: str, changes: dict, *, now=None) -> dict:
    """Rename a tag or give it a stay-in-touch cadence (days; None removes it)."""
    from crmcli.errors import Conflict
    from crmcli.models import utcnow

    tag_id = resolve_tag(ref)
    row: dict = {"updated_at": now or utcnow()}
    if "name" in changes:
        name = clean_tag(changes["name"])
        other = (
            Tag.select(Tag.id).where((Tag.name_fold == fold(name)) & (Tag.id != tag_id)).scalar()
        )
        if other is not None:
            raise Conflict(f"a tag '{name}' exists already")
        row.update(name=name, name_fold=fold(name))
    if "cadence_days" in changes:
        days = changes["cadence_days"]
        if days is not None and not 1 <= days <= 3660:
            raise Invalid("every", "a cadence is from 1 day to 10 years")
        row["cadence_days"] = days
    with database_proxy.atomic():
        Tag.update(**row).where(Tag.id == tag_id).execute()
        if "cadence_days" in row:  # its people's stay-in-touch due times follow
            cadence.refresh(cadence.members(tag_id))
    return Tag.select(Tag.id, Tag.name, Tag.cadence_days).where(Tag.id == tag_id).dicts().get()


def delete_tag(tag_id: int) -> dict:
    """Delete a tag; it disappears from every contact and company that had it."""
    card = Tag.select(Tag.id, Tag.name, Tag.cadence_days).where(Tag.id == tag_id).dicts().get()
    with database_proxy.atomic():
        people = cadence.members(tag_id) if card.pop("cadence_days") is not None else []
        Tag.delete().where(Tag.id == tag_id).execute()
        cadence.refresh(people)  # a cadence they had through the tag is gone
    return card
