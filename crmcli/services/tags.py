"""Tags: free classification of contacts and companies. `VIP` and `vip` are one tag."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import JOIN, fn

from crmcli.errors import Invalid
from crmcli.models import CompanyTag, ContactTag, Tag
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
    for key, text in wanted.items():
        if key not in existing:
            existing[key] = Tag.insert(name=text, name_fold=key).execute()
    return [existing[key] for key in wanted]


def tag_ids(names: Iterable[str]) -> list[int | None]:
    """Ids of existing tags by name (None for a tag nobody uses), without creating any."""
    keys = [fold(clean_tag(n)) for n in names]
    if not keys:
        return []
    found = dict(Tag.select(Tag.name_fold, Tag.id).where(Tag.name_fold.in_(keys)).tuples())
    return [found.get(k) for k in keys]


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
            Tag.created_at,
        )
        .join(contacts, JOIN.LEFT_OUTER, on=(contacts.c.tag_id == Tag.id))
        .switch(Tag)
        .join(companies, JOIN.LEFT_OUTER, on=(companies.c.tag_id == Tag.id))
        .order_by(Tag.name_fold)
        .tuples()
    )
    return [
        {"id": i, "name": n, "contacts": c, "companies": co, "created_at": created}
        for i, n, c, co, created in rows
    ]
