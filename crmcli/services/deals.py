"""Deals: opportunities that move through the stages of the sales process.

Every change of stage writes a DealStageChange row in the same transaction as the change, so
the funnel's conversion and time-in-stage (services.reports) are facts, not guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal

from peewee import JOIN, NodeList

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import (
    Company,
    Contact,
    Deal,
    DealStageChange,
    Stage,
    UTCDateTimeField,
    database_proxy,
    utcnow,
)
from crmcli.services import currencies, limits, prepared, refs, search, stages, tallies
from crmcli.values import fold_variants, money_str

TEXT_FIELDS = ("owner", "source", "lost_reason")
EDITABLE = (
    "title", "contact_id", "company_id", "amount_cents", "currency", "expected_close",
    *TEXT_FIELDS,
)  # fmt: skip
STATES = ("open", "won", "lost")
SORTS = {
    "id": (Deal.id,),
    "created": (Deal.created_at, Deal.id),
    "close": (Deal.expected_close, Deal.id),
    "amount": (Deal.amount_cents, Deal.id),
    "title": (Deal.name_key, Deal.id),
    "stage": (Stage.position, Deal.id),
}
_COLUMNS = (
    Deal.id, Deal.title, Deal.stage, Stage.name, Stage.probability, Stage.is_won, Stage.is_lost,
    Deal.amount_cents, Deal.currency, Deal.contact, Contact.name, Deal.company, Company.name,
    Deal.expected_close, Deal.owner, Deal.source, Deal.lost_reason, Deal.closed_at,
    Deal.created_at, Deal.updated_at,
)  # fmt: skip
# Selected as the driver gives them (a NodeList is no Field, so services.prepared converts
# nothing): ids, text and numbers need nothing, flags are only tested for truth; _row turns
# the close date and the three times into Python values, faster than peewee's formats do.
_RAW = tuple(NodeList((f,)) for f in _COLUMNS)
_TIME = UTCDateTimeField().python_value


def resolve_deal(ref: str) -> int:
    """The id of the deal that REF names (id or unique part of its title)."""
    return refs.resolve(Deal, ref, kind="deal", describe=_candidates)


def _candidates(ids: list[int]):
    from crmcli.errors import Candidate

    rows = (
        Deal.select(Deal.id, Deal.title, Stage.name, Contact.name)
        .join(Stage, on=(Deal.stage == Stage.id))
        .join(Contact, JOIN.LEFT_OUTER, on=(Deal.contact == Contact.id))
        .where(Deal.id.in_(ids))
        .order_by(Deal.name_key, Deal.id)
        .tuples()
    )
    return [Candidate(i, t, " · ".join(p for p in (s, c) if p)) for i, t, s, c in rows]


def _select():
    return (
        Deal.select(*_RAW)
        .join(Stage, on=(Deal.stage == Stage.id))
        .join(Contact, JOIN.LEFT_OUTER, on=(Deal.contact == Contact.id))
        .join(Company, JOIN.LEFT_OUTER, on=(Deal.company == Company.id))
    )


def _row(values: tuple) -> dict:
    (did, title, stage_id, stage, probability, won, lost, cents, currency, contact_id,
     contact, company_id, company, close, owner, source, reason, closed, created,
     updated) = values  # fmt: skip
    if isinstance(close, str):  # SQLite hands dates back as text
        close = date.fromisoformat(close)
    return {
        "id": did, "title": title, "stage_id": stage_id, "stage": stage,
        "probability": probability, "status": "won" if won else "lost" if lost else "open",
        "amount": None if cents is None else Decimal(cents).scaleb(-2),  # exact, to the cent
        "currency": currency, "contact_id": contact_id,
        "contact": contact, "company_id": company_id, "company": company,
        "expected_close": close, "owner": owner, "source": source, "lost_reason": reason,
        "closed_at": closed and _TIME(closed), "created_at": _TIME(created),
        "updated_at": _TIME(updated),
    }  # fmt: skip


def get_deal(deal_id: int) -> dict:
    found = prepared.run("deal", lambda i: _select().where(Deal.id == i), deal_id)
    if not found:
        raise NotFound(f"no deal with id {deal_id}")
    return _row(found[0])


def _text(value) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _clean(values: dict) -> dict:
    out: dict = {}
    for key, value in values.items():
        if key == "title":
            title = limits.check("title", _text(value))
            if not title:
                raise Invalid("title", "a deal needs a title")
            out.update(title=title, name_key=fold_variants(title))
        elif key == "amount_cents":
            if value is None:
                value = 0
            if value < 0:
                raise Invalid(
                    "amount", f"{money_str(value)} is negative; a deal is worth 0 or more"
                )
            out["amount_cents"] = value
        elif key == "currency":
            out["currency"] = currencies.check_currency(value)
        elif key == "expected_close":
            if value is not None and not isinstance(value, date):
                raise TypeError("expected_close must be a date")
            out["expected_close"] = value
        elif key == "contact_id":
            out["contact"] = value
        elif key == "company_id":
            out["company"] = value
        elif key in TEXT_FIELDS:
            out[key] = limits.check(key, _text(value))
        else:
            raise KeyError(key)
    return out


def _check_links(row: dict) -> None:
    for model, key in ((Contact, "contact"), (Company, "company")):
        given = row.get(key)
        if given is not None and not model.select().where(model.id == given).exists():
            raise NotFound(f"no {key} with id {given}")


def _record(deal_id: int, from_id: int | None, to_id: int, now: datetime, by: str | None):
    limits.check("by", by)
    DealStageChange.insert(
        deal=deal_id, from_stage=from_id, to_stage=to_id, changed_at=now, changed_by=by
    ).execute()


def add_deal(
    title: str,
    *,
    contact_id: int | None = None,
    company_id: int | None = None,
    stage: str | None = None,
    now: datetime | None = None,
    by: str | None = None,
    **values,
) -> dict:
    """Open a deal in an open stage (default: the first); the contact's company by default.
    Its first step of history (from nothing to its stage) is written with it. `campaign` (a
    REF) and `keyword`: what brought it; without them the contact's (services.campaigns)."""
    now = now or utcnow()
    campaign, keyword = values.pop("campaign", None), values.pop("keyword", None)
    row = _clean({"title": title, "contact_id": contact_id, "company_id": company_id, **values})
    if contact_id is None and company_id is None:
        raise Invalid("contact", "a deal is with a contact or a company")
    with database_proxy.atomic():
        target = stages.resolve_stage(stage) if stage else _first_open()
        if target["is_won"] or target["is_lost"]:
            raise Invalid("stage", f"a new deal starts in an open stage, not {target['name']}")
        _check_links(row)
        if row.get("contact") is not None and row.get("company") is None:
            row["company"] = (
                Contact.select(Contact.company).where(Contact.id == row["contact"]).scalar()
            )
        from crmcli.services import campaigns

        row["campaign"], row["keyword"] = campaigns.attribution_for(
            row.get("contact"), campaign, keyword, now=now
        )
        deal_id = Deal.insert(stage=target["id"], created_at=now, updated_at=now, **row).execute()
        _record(deal_id, None, target["id"], now, by)
        tallies.added(deal_id)
        search.reindex_deals([deal_id])
    return get_deal(deal_id)


def check_party(deal_id: int, *, contact_id: int | None = None, company_id: int | None = None):
    """Refuse to link something of `contact_id`/`company_id` (an activity, a task) to a deal
    of another customer. A deal's party is its contact and its company, so a colleague at
    the deal's company, or the company of the deal's contact, may be linked too."""
    found = (
        Deal.select(Deal.title, Deal.contact, Deal.company).where(Deal.id == deal_id).tuples()
    ).first()
    if found is None:
        raise NotFound(f"no deal with id {deal_id}")
    title, deal_contact, deal_company = found

    def company_of(cid: int | None) -> int | None:
        if cid is None:
            return None
        return Contact.select(Contact.company).where(Contact.id == cid).scalar()

    name = None
    if contact_id not in (None, deal_contact) and (
        deal_company is None or company_of(contact_id) != deal_company
    ):
        name = Contact.select(Contact.name).where(Contact.id == contact_id).scalar()
    elif company_id not in (None, deal_company) and (
        deal_contact is None or company_of(deal_contact) != company_id
    ):
        name = Company.select(Company.name).where(Company.id == company_id).scalar()
    if name is not None:
        raise Invalid("deal", f"deal #{deal_id} {title} is another customer's, not {name}'s")


def _first_open() -> dict:
    for s in stages.stages():
        if not (s["is_won"] or s["is_lost"]):
            return s
    raise Invalid("stage", "the sales process has no open stage", action="add_stage")


def _open_deal(deal_id: int) -> dict:
    card = get_deal(deal_id)
    if card["status"] != "open":
        raise Conflict(f"deal #{deal_id} is {card['status']}", action="reopen_deal", deal=deal_id)
    return card


def _change(card: dict, target: dict, now: datetime, by: str | None, **extra) -> dict:
    """Move `card` to `target` if nobody moved it meanwhile, recording the step (and, on the
    step before, when and after how long the stay it ends ended; see services.tallies)."""
    with tallies.tracking(card["id"]):
        changed = (
            Deal.update(stage=target["id"], updated_at=now, **extra)
            .where((Deal.id == card["id"]) & (Deal.stage == card["stage_id"]))
            .execute()
        )
        if not changed:
            raise Conflict(
                f"deal #{card['id']} changed meanwhile", action="show_deal", deal=card["id"]
            )
        _record(card["id"], card["stage_id"], target["id"], now, by)
        if target["is_won"] and card.get("contact_id") is not None:
            from crmcli.services.orders import settle_customer_status

            settle_customer_status([card["contact_id"]], now=now)  # a won deal: a customer
    return get_deal(card["id"])


def move_deal(
    deal_id: int, stage: str, *, now: datetime | None = None, by: str | None = None
) -> dict:
    """Move an open deal to another stage; to a won stage it is won. Lost needs lose_deal."""
    now = now or utcnow()
    with database_proxy.atomic():
        card = _open_deal(deal_id)
        target = stages.resolve_stage(stage)
        if target["id"] == card["stage_id"]:
            raise Conflict(f"deal #{deal_id} is in {target['name']} already")
        if target["is_lost"]:
            raise Invalid("stage", "a lost deal needs a reason", action="lose_deal", deal=deal_id)
        extra = {"closed_at": now} if target["is_won"] else {}
        return _change(card, target, now, by, **extra)


def win_deal(deal_id: int, *, now: datetime | None = None, by: str | None = None) -> dict:
    """Mark an open deal as won (the won stage), now."""
    now = now or utcnow()
    with database_proxy.atomic():
        card = _open_deal(deal_id)
        return _change(card, stages.won_stage(), now, by, closed_at=now)


def lose_deal(
    deal_id: int, reason: str, *, now: datetime | None = None, by: str | None = None
) -> dict:
    """Mark an open deal as lost, with the reason (required: the funnel ranks them)."""
    now = now or utcnow()
    why = limits.check("reason", _text(reason))
    if not why:
        raise Invalid("reason", "say why the deal was lost", action="give_reason")
    with database_proxy.atomic():
        card = _open_deal(deal_id)
        return _change(card, stages.lost_stage(), now, by, closed_at=now, lost_reason=why)


def reopen_deal(
    deal_id: int,
    *,
    stage: str | None = None,
    now: datetime | None = None,
    by: str | None = None,
) -> dict:
    """Reopen a won or lost deal, in `stage` or in the stage it was closed from."""
    now = now or utcnow()
    with database_proxy.atomic():
        card = get_deal(deal_id)
        if card["status"] == "open":
            raise Conflict(f"deal #{deal_id} is open")
        if stage:
            target = stages.resolve_stage(stage)
        else:
            before = (
                DealStageChange.select(DealStageChange.from_stage)
                .where(DealStageChange.deal == deal_id)
                .order_by(DealStageChange.changed_at.desc(), DealStageChange.id.desc())
                .scalar()
            )
            open_ids = {s["id"]: s for s in stages.stages() if not (s["is_won"] or s["is_lost"])}
            target = open_ids.get(before) or _first_open()
        if target["is_won"] or target["is_lost"]:
            raise Invalid("stage", f"reopen into an open stage, not {target['name']}")
        return _change(card, target, now, by, closed_at=None, lost_reason=None)


def edit_deal(deal_id: int, changes: dict, *, now: datetime | None = None) -> dict:
    """Change a deal's fields (not its stage: that is move, won, lost and reopen)."""
    now = now or utcnow()
    unknown = set(changes) - set(EDITABLE)
    if "stage" in unknown:
        raise Invalid(
            "stage", "is not edited: a deal moves, is won, lost or reopened", action="move_deal"
        )
    if unknown:
        raise Invalid("field", f"deals have no field {', '.join(sorted(unknown))}")
    row = _clean(changes)
    with database_proxy.atomic():
        card = get_deal(deal_id)
        if row.get("lost_reason") and card["status"] != "lost":
            raise Invalid("lost-reason", f"deal #{deal_id} is {card['status']}, not lost")
        if "lost_reason" in row and not row["lost_reason"] and card["status"] == "lost":
            raise Invalid("lost-reason", "a lost deal keeps a reason")
        _check_links(row)
        with tallies.tracking(deal_id):
            Deal.update(updated_at=now, **row).where(Deal.id == deal_id).execute()
        if "title" in row:
            search.reindex_deals([deal_id])
    return get_deal(deal_id)


def delete_deal(deal_id: int) -> dict:
    """Delete a deal with its history; its activities and tasks stay, without the link."""
    card = get_deal(deal_id)
    with database_proxy.atomic(), tallies.tracking(deal_id):
        Deal.delete().where(Deal.id == deal_id).execute()
        search.remove("deal", [deal_id])
    return card


def _conditions(
    *,
    stage: str | None = None,
    state: str | None = None,
    contact_id: int | None = None,
    company_id: int | None = None,
    owner: str | None = None,
    closing_before: date | None = None,
    min_amount_cents: int | None = None,
) -> list[tuple[str, object, Callable]]:
    """The filters given, checked: each as (tag, value, condition(value)). A value of _NONE
    is part of the tag instead (the ids of a state's stages), so a query built with
    placeholders for the values (services.prepared) is the same for the same tags."""
    out: list[tuple[str, object, Callable]] = []
    if stage:
        out.append(("stage", stages.resolve_stage(stage)["id"], lambda v: Deal.stage == v))
    if state:
        if state not in STATES:
            raise Invalid("state", f"'{state}' must be open, won or lost")
        ids = [s["id"] for s in stages.stages() if _status(s) == state]
        out.append((f"state{ids}", _NONE, lambda _: Deal.stage.in_(ids)))
    if contact_id is not None:
        out.append(("contact", contact_id, lambda v: Deal.contact == v))
    if company_id is not None:
        out.append(("company", company_id, lambda v: Deal.company == v))
    if owner:
        # Folded like search (accents, case, ue/ü): the stored spellings that match, each a
        # value of its own so the prepared query differs only by how many there are.
        names = tuple(search.matching_values(Deal.owner, owner))
        out.append((f"owner{len(names)}", names, lambda v: Deal.owner.in_(list(v))))
    if closing_before is not None:
        value = Deal.expected_close.db_value(closing_before)
        out.append(("close", value, lambda v: Deal.expected_close < v))
    if min_amount_cents is not None:
        if min_amount_cents < 0:
            raise Invalid("min-amount", "must not be negative")
        out.append(("amount", min_amount_cents, lambda v: Deal.amount_cents >= v))
    return out


_NONE = object()


def _filtered(query, conditions: list, values) -> object:
    """`query` with `conditions` applied to `values` (theirs, or placeholders in their place);
    a condition whose value is a tuple takes that many of them."""
    given = iter(values)
    for _, value, condition in conditions:
        if value is _NONE:
            query = query.where(condition(None))
        elif isinstance(value, tuple):
            query = query.where(condition(tuple(next(given) for _ in value)))
        else:
            query = query.where(condition(next(given)))
    return query


def _values(conditions: list) -> list:
    """The values of `conditions` in the order _filtered takes them (tuples flattened)."""
    out: list = []
    for _, value, _ in conditions:
        if isinstance(value, tuple):
            out.extend(value)
        elif value is not _NONE:
            out.append(value)
    return out


def _status(stage: dict) -> str:
    return "won" if stage["is_won"] else "lost" if stage["is_lost"] else "open"


def list_deals(
    *, sort: str = "-id", limit: int | None = None, offset: int = 0, **filters
) -> list[dict]:
    """Deals matching every filter (see _conditions); newest first unless `sort` says otherwise.
    The query is built once per set of filters and sort (services.prepared)."""
    return list(iter_deals(sort=sort, limit=limit, offset=offset, **filters))


def iter_deals(
    *, sort: str = "-id", limit: int | None = None, offset: int = 0, **filters
) -> Iterator[dict]:
    """list_deals one deal at a time, fetched from the cursor in batches (an export of every
    deal never holds them all); the filters are checked at the call, before the first row."""
    name, build, args = _deals_query(sort=sort, limit=limit, offset=offset, **filters)
    return map(_row, prepared.stream(name, build, *args))


def _deals_query(*, sort: str, limit: int | None, offset: int, **filters) -> tuple:
    """iter_deals's query as prepared.run takes it: (name, build, args)."""
    key = (sort or "-id").strip().lower()
    descending = key.startswith("-")
    key = key.lstrip("-")
    if key not in SORTS:
        raise Invalid("sort", f"cannot sort deals by '{sort}' (choose {', '.join(SORTS)})")
    order = [f.desc() if descending else f.asc() for f in SORTS[key]]
    conditions = _conditions(**filters)
    args = _values(conditions)
    if limit is not None:
        args.append(limit)
    if offset:
        args.append(offset)
    paged = (limit is not None, bool(offset))

    def build(*marks):
        query = _filtered(_select(), conditions, marks).order_by(*order)
        rest = iter(marks[len(marks) - sum(paged) :])
        if paged[0]:
            query = query.limit(next(rest))
        if paged[1]:
            query = query.offset(next(rest))
        return query

    name = f"deals:{','.join(tag for tag, _, _ in conditions)}:{'-' * descending}{key}:{paged}"
    return name, build, tuple(args)


def count_deals(**filters) -> int:
    conditions = _conditions(**filters)
    values = _values(conditions)
    return _filtered(Deal.select(Deal.id), conditions, values).count()


def history_of(deal_id: int) -> list[dict]:
    """A deal's steps, oldest first: from, to, when, by whom, and how long it stayed."""
    From = Stage.alias()
    rows = (
        DealStageChange.select(
            DealStageChange.id,
            From.name,
            Stage.name,
            DealStageChange.changed_at,
            DealStageChange.changed_by,
        )  # fmt: skip
        .join(Stage, on=(DealStageChange.to_stage == Stage.id))
        .join(From, JOIN.LEFT_OUTER, on=(DealStageChange.from_stage == From.id))
        .where(DealStageChange.deal == deal_id)
        .order_by(DealStageChange.changed_at, DealStageChange.id)
        .tuples()
    )
    keys = ("id", "from_stage", "to_stage", "changed_at", "changed_by")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def deal_card(deal_id: int, *, timeline_limit: int | None = 50) -> dict:
    """A deal with its stage history and its activities (newest first)."""
    from crmcli.services import activities

    card = get_deal(deal_id)
    from crmcli.services import campaigns

    card.update(campaigns.attribution_of(Deal, deal_id))
    card["history"] = history_of(deal_id)
    card["timeline"] = activities.timeline_of_deal(deal_id, timeline_limit)
    return card


def deals_of(*, contact_id: int | None = None, company_id: int | None = None) -> list[dict]:
    """A contact's or company's deals for its card: open ones first, then the newest."""
    rows = list_deals(contact_id=contact_id, company_id=company_id, sort="-id", limit=200)
    return sorted(rows, key=lambda r: r["status"] != "open")


def deals_of_query(contact_id: int) -> tuple:
    """deals_of(contact_id=...)'s query as prepared.run takes it (name, build, args)."""
    return _deals_query(contact_id=contact_id, company_id=None, sort="-id", limit=200, offset=0)
