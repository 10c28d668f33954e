"""The timeline: every call, email, letter, meeting, note, inquiry, complaint, return, review
and survey, on the contact (and company) it belongs to."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from peewee import JOIN, IntegrityError, fn

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import (
    ACTIVITY_KINDS,
    TRACKED_KINDS,
    Activity,
    Company,
    Contact,
    SalesOrder,
    database_proxy,
    utcnow,
)
from crmcli.services import cadence, limits, periods, prepared, refs, search
from crmcli.values import fold, unix_seconds

DIRECTIONS = ("in", "out")
EDITABLE = (
    "kind", "occurred_at", "direction", "subject", "body", "duration_min", "outcome", "rating",
    "score", "owner",
)  # fmt: skip
# The kinds as German and English call logs, calendars and other CRMs name them (folded:
# lower case, no accents; "Rücksendung" is "rucksendung", and "ruecksendung" typed without ü).
_KIND_ALIASES = {
    **dict.fromkeys(("anruf", "telefonat", "telefon", "telefonanruf", "ruckruf", "rueckruf",
                     "gesprach", "gespraech", "telefongesprach", "telefongespraech",
                     "phone", "phone call", "phonecall", "call"), "call"),
    **dict.fromkeys(("mail", "e-mail", "e mail", "email", "emails", "e-mails"), "email"),
    **dict.fromkeys(("brief", "schreiben", "post", "anschreiben", "letter"),
                    "letter"),
    **dict.fromkeys(("termin", "besprechung", "treffen", "besuch", "kundenbesuch", "meeting",
                     "appointment", "visit", "videokonferenz", "videocall", "video call",
                     "konferenz"), "meeting"),
    **dict.fromkeys(("notiz", "vermerk", "kommentar", "memo", "note", "comment"), "note"),
    **dict.fromkeys(("anfrage", "frage", "kundenanfrage", "inquiry", "enquiry", "request",
                     "question"), "inquiry"),
    **dict.fromkeys(("beschwerde", "reklamation", "mangelruge", "maengelruege", "complaint",
                     "claim"), "complaint"),
    **dict.fromkeys(("retoure", "rucksendung", "ruecksendung", "ruckgabe", "rueckgabe",
                     "umtausch", "return", "returns", "refund"), "return"),
    **dict.fromkeys(("bewertung", "rezension", "review", "rating"), "review"),
    **dict.fromkeys(("umfrage", "befragung", "survey", "kundenbefragung", "nps"), "survey"),
    **dict.fromkeys(("dokument", "document"), "document"),
}  # fmt: skip


def check_kind(kind: str) -> str:
    """One of ACTIVITY_KINDS, from its name or what German and English tools call it
    (Telefonat, Termin, Reklamation, Retoure, phone call...)."""
    value = (kind or "").strip().lower()
    if value not in ACTIVITY_KINDS:
        value = _KIND_ALIASES.get(fold(value).replace("_", " "), value)
    if value not in ACTIVITY_KINDS:
        raise Invalid("kind", f"unknown kind '{kind}' (choose {', '.join(ACTIVITY_KINDS)})")
    return value


def _clean(values: dict, kind: str) -> dict:
    out: dict = {}
    for key, value in values.items():
        if key in ("subject", "body", "outcome", "owner"):
            text = (value or "").strip()
            out[key] = limits.check(key, text) or None
        elif key == "direction":
            direction = (value or "").strip().lower() or None
            if direction is not None and direction not in DIRECTIONS:
                raise Invalid("direction", f"'{value}' must be in or out")
            out[key] = direction
        elif key == "duration_min":
            if value is not None and value <= 0:
                raise Invalid("duration", "must be longer than zero")
            out[key] = value
        elif key == "rating":
            if value is not None and kind != "review":
                raise Invalid("rating", "only a review carries a rating")
            if value is not None and not 1 <= value <= 5:
                raise Invalid("rating", f"{value} is not from 1 to 5")
            out[key] = value
        elif key == "score":
            if value is not None and kind != "survey":
                raise Invalid("score", "only a survey carries a score")
            if value is not None and not 0 <= value <= 100:
                raise Invalid("score", f"{value} is not from 0 to 100")
            out[key] = value
        elif key in ("occurred_at", "kind"):
            out[key] = value
        else:
            raise KeyError(key)
    return out


def log_activity(
    kind: str,
    *,
    contact_id: int | None = None,
    company_id: int | None = None,
    deal_id: int | None = None,
    order_id: int | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    **values,
) -> dict:
    """Record an interaction (on a contact or company, optionally about a deal; an inquiry,
    complaint or return may be about an order of its contact, who it defaults to).
    Inquiries, complaints and returns start open."""
    now = now or utcnow()
    kind = check_kind(kind)
    if order_id is not None:
        contact_id = _order_party(kind, order_id, contact_id, company_id)
    if contact_id is None and company_id is None:
        raise Invalid("contact", "an activity belongs to a contact or a company")
    row = _clean(values, kind)
    if kind == "note" and not (row.get("body") or row.get("subject")):
        # A note is nothing but its text (a call without text still says a call happened).
        raise Invalid("body", "a note needs text", action="give_text")
    row.update(kind=kind, occurred_at=_not_future(occurred_at or now, now))
    if deal_id is not None:
        from crmcli.services.deals import check_party

        check_party(deal_id, contact_id=contact_id, company_id=company_id)
    at_seconds = unix_seconds(row["occurred_at"])
    if kind in TRACKED_KINDS:
        row.update(status="open", remind_at=at_seconds)
    try:
        with database_proxy.atomic():
            activity_id = prepared.insert(Activity, {
                "contact": contact_id, "company": company_id, "deal": deal_id, "order": order_id,
                "created_at": now, "updated_at": now, **row,
            })  # fmt: skip
            if contact_id is not None:
                # Newest interaction first: one conditional update, no read; the contact's
                # stay-in-touch due time moves with it.
                at = Contact.last_activity_at.db_value(row["occurred_at"])  # stored form
                prepared.run("touch_contact", cadence.touch_update, at, at_seconds, contact_id)
            texts = (row.get("subject"), row.get("body"), row.get("outcome"))
            _index([(activity_id, *texts)], new=True)
    except IntegrityError:
        # Checked only when the insert failed, so logging costs no extra query.
        from crmcli.models import Deal

        for model, given in ((Contact, contact_id), (Company, company_id), (Deal, deal_id)):
            if given is not None and not model.select().where(model.id == given).exists():
                raise NotFound(f"no {model.__name__.lower()} with id {given}") from None
        raise
    return get_activity(activity_id)


def _order_party(kind: str, order_id: int, contact_id: int | None, company_id: int | None):
    """The contact of an activity about an order: the order's, which a contact given must be.
    An inquiry, complaint or return may be about an order, and a document made from it."""
    if kind not in (*TRACKED_KINDS, "document"):
        raise Invalid(
            "order",
            f"only an inquiry, complaint, return or document is about an order, not a {kind}",
        )
    found = SalesOrder.select(SalesOrder.contact).where(SalesOrder.id == order_id).tuples().first()
    if found is None:
        raise NotFound(f"no order with id {order_id}")
    owner = found[0]
    if owner is None:
        raise Invalid("order", f"order #{order_id} has no contact any more")
    if contact_id is None and company_id is None:
        return owner
    if contact_id != owner:
        raise Invalid("order", f"order #{order_id} is not an order of this contact")
    return contact_id


# A clock a few minutes ahead on another machine is no reason to refuse a call just made.
_SLACK = timedelta(minutes=5)


def check_occurred_at(at: datetime, now: datetime) -> datetime:
    """When an activity happened, refused (Invalid) in the future: a form checks it as typed."""
    return _not_future(at, now)


def _not_future(at: datetime, now: datetime) -> datetime:
    """The timeline records what happened: a later time is a plan, i.e. a task. (A future
    time would also become the contact's last interaction and silence its cadence.)"""
    if at > now + _SLACK:
        from crmcli.values import format_datetime

        raise Invalid(
            "at",
            f"{format_datetime(at)} is in the future; the timeline records what happened",
            action="plan_task",
        )
    return at


def _index(rows: Sequence[tuple], *, new: bool = False) -> None:
    rowid, body = search.rowid, search.body
    search.put([(rowid("activity", a), body(*parts)) for a, *parts in rows if any(parts)], new=new)


def _refresh_last_activity(contact_id: int | None) -> None:
    if contact_id is None:
        return
    newest = (
        Activity.select(fn.MAX(Activity.occurred_at)).where(Activity.contact == contact_id).scalar()
    )
    Contact.update(last_activity_at=newest).where(Contact.id == contact_id).execute()
    cadence.refresh([contact_id])


def edit_activity(activity_id: int, changes: dict, *, now: datetime | None = None) -> dict:
    """Change an activity; the contact's last interaction follows a changed time."""
    now = now or utcnow()
    current = get_activity(activity_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid("field", f"activities have no field {', '.join(sorted(unknown))}")
    kind = check_kind(changes["kind"]) if changes.get("kind") else current["kind"]
    changes = {**changes, "kind": kind}
    merged = {"rating": current["rating"], "score": current["score"], **changes}
    row = _clean({k: merged[k] for k in (*changes, "rating", "score")}, kind)
    if row.get("occurred_at") is not None:
        _not_future(row["occurred_at"], now)
    if current["kind"] in TRACKED_KINDS and kind not in TRACKED_KINDS:
        # An inquiry must not vanish from the open list by becoming a note, nor lose who
        # resolved it: it can only become another kind that is tracked.
        raise Invalid(
            "kind",
            f"a {current['kind']} ({current['status']}) can only become an inquiry, complaint "
            "or return; delete it and log anew if it really was something else",
        )
    if kind in TRACKED_KINDS and current["status"] is None:
        row["status"] = "open"
    if row.get("status") == "open" or (current["status"] == "open" and "occurred_at" in row):
        # Open, or open at a new time: `crm remind` tells of it when it has waited long enough
        # (the reminder log keeps it from being told twice).
        at = row.get("occurred_at", current["occurred_at"])
        row["remind_at"] = unix_seconds(at)
    with database_proxy.atomic():
        row["updated_at"] = now
        Activity.update(**row).where(Activity.id == activity_id).execute()
        _refresh_last_activity(current["contact_id"])
        card = get_activity(activity_id)
        search.remove("activity", [activity_id])
        _index([(activity_id, card["subject"], card["body"], card["outcome"])])
    return card


def delete_activity(activity_id: int) -> dict:
    card = get_activity(activity_id)
    with database_proxy.atomic():
        Activity.delete().where(Activity.id == activity_id).execute()
        search.remove("activity", [activity_id])
        _refresh_last_activity(card["contact_id"])
    return card


def resolve_activity(
    activity_id: int, *, note: str | None = None, by: str | None = None, now: datetime | None = None
) -> dict:
    """Mark an inquiry, complaint or return as answered, with who, when and how."""
    now = now or utcnow()
    limits.check("resolution", note)
    limits.check("by", by)
    card = get_activity(activity_id)
    if card["kind"] not in TRACKED_KINDS:
        raise Invalid(
            "activity",
            f"#{activity_id} is {'an' if card['kind'][:1] in 'aeiou' else 'a'} {card['kind']}; "
            "only inquiries, complaints and returns are resolved",
        )
    changed = Activity.update(
        status="resolved", resolved_at=now, resolved_by=by, resolution=(note or "").strip() or None,
        updated_at=now, remind_at=None,
    ).where((Activity.id == activity_id) & (Activity.status == "open")).execute()  # fmt: skip
    if not changed:  # resolved already, maybe a moment ago by someone else
        card = get_activity(activity_id)
        raise Conflict(
            f"{card['kind']} #{activity_id} was resolved already on {card['resolved_at']:%Y-%m-%d}"
        )
    return get_activity(activity_id)


def reopen_activity(activity_id: int, *, now: datetime | None = None) -> dict:
    card = get_activity(activity_id)
    if card["status"] != "resolved":
        raise Conflict(f"activity #{activity_id} is not resolved")
    from crmcli.models import ReminderLog

    with database_proxy.atomic():
        Activity.update(
            status="open",
            resolved_at=None,
            resolved_by=None,
            resolution=None,
            updated_at=now or utcnow(),
            remind_at=unix_seconds(card["occurred_at"]),
        ).where(Activity.id == activity_id).execute()
        # Open again: `crm remind` tells of it again once it has waited long enough.
        ReminderLog.delete().where(ReminderLog.key == f"open:{activity_id}").execute()
    return get_activity(activity_id)


_COLUMNS = (
    Activity.id, Activity.kind, Activity.occurred_at, Activity.contact, Contact.name,
    Activity.company, Company.name, Activity.direction, Activity.subject, Activity.body,
    Activity.duration_min, Activity.outcome, Activity.rating, Activity.score, Activity.status,
    Activity.resolved_at, Activity.resolved_by, Activity.resolution, Activity.owner,
    Activity.deal, Activity.order, SalesOrder.external_id, Activity.created_at,
    Activity.updated_at,
)  # fmt: skip
_KEYS = (
    "id", "kind", "occurred_at", "contact_id", "contact", "company_id", "company", "direction",
    "subject", "body", "duration_min", "outcome", "rating", "score", "status", "resolved_at",
    "resolved_by", "resolution", "owner", "deal_id", "order_id", "order_number", "created_at",
    "updated_at",
)  # fmt: skip


def _select():
    return (
        Activity.select(*_COLUMNS)
        .join(Contact, JOIN.LEFT_OUTER, on=(Activity.contact == Contact.id))
        .join(Company, JOIN.LEFT_OUTER, on=(Activity.company == Company.id))
        # the order's number as the shop gave it (what a user types and knows), beside its id
        .join(SalesOrder, JOIN.LEFT_OUTER, on=(Activity.order == SalesOrder.id))
    )


def _rows(query) -> list[dict]:
    return [dict(zip(_KEYS, r, strict=True)) for r in query.tuples()]


def get_activity(activity_id: int) -> dict:
    rows = prepared.run("activity", lambda i: _select().where(Activity.id == i), activity_id)
    if not rows:
        raise NotFound(f"no activity with id {activity_id}")
    return dict(zip(_KEYS, rows[0], strict=True))


def _timeline(contact, count):
    newest = (Activity.occurred_at.desc(), Activity.id.desc())
    return _select().where(Activity.contact == contact).order_by(*newest).limit(count)


def _count(contact):
    return Activity.select(fn.COUNT(Activity.id)).where(Activity.contact == contact)


def _open_count(contact):
    return Activity.select(fn.COUNT(Activity.id)).where(
        (Activity.contact == contact) & (Activity.status == "open")
    )


def card_queries(contact_id: int, limit: int) -> list[tuple]:
    """The queries of timeline_of, count_of and open_count_of (for prepared.together)."""
    return [
        ("timeline", _timeline, (contact_id, limit)),
        ("activity_count", _count, (contact_id,)),
        ("open_count", _open_count, (contact_id,)),
    ]


def timeline_of(contact_id: int, limit: int) -> list[dict]:
    """A contact's newest `limit` activities (the card's timeline)."""
    rows = prepared.run("timeline", _timeline, contact_id, limit)
    return [dict(zip(_KEYS, r, strict=True)) for r in rows]


def count_of(contact_id: int) -> int:
    return prepared.run("activity_count", _count, contact_id)[0][0]


def open_count_of(contact_id: int) -> int:
    """How many inquiries, complaints and returns of a contact still wait for an answer."""
    return prepared.run("open_count", _open_count, contact_id)[0][0]


def resolve_activity_ref(ref: str) -> int:
    """Activities are named by id (`12` or `#12`)."""
    if not refs.is_id(ref):
        raise Invalid("activity", f"'{ref}' is not an activity id", action="list_activities")
    number = refs.parse_id(ref, kind="activity")
    if not Activity.select(Activity.id).where(Activity.id == number).exists():
        raise NotFound(f"no activity with id {number}")
    return number


def list_activities(**filters) -> list[dict]:
    """Activities, newest first; `open_only` lists unanswered ones oldest first (the filters
    of iter_activities)."""
    return list(iter_activities(**filters))


def iter_activities(*, limit: int | None = None, offset: int = 0, **filters) -> Iterator[dict]:
    """Activities, newest first (`open_only`: the unanswered ones, oldest first), one at a
    time straight from the cursor: an export of a million activities never holds them all.
    The filters (see _filtered) are checked when it is called, before the first row."""
    query = _filtered(_select(), **filters)
    if filters.get("open_only"):
        query = query.order_by(Activity.occurred_at, Activity.id)
    else:
        query = query.order_by(Activity.occurred_at.desc(), Activity.id.desc())
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    # Streamed (a server-side cursor on PostgreSQL, whose driver would fetch it all at once).
    return (dict(zip(_KEYS, r, strict=True)) for r in prepared.stream_query(query))


def count_activities(**filters) -> int:
    """How many activities iter_activities gives for these filters without a limit (what a
    terminal's page of them says it hides)."""
    return _filtered(Activity.select(), **filters).count()


def _filtered(
    query,
    *,
    contact_id: int | None = None,
    company_id: int | None = None,
    kinds: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    open_only: bool = False,
    direction: str | None = None,
):
    """`query` narrowed to the activities of iter_activities's filters: a contact's, a
    company's (its own and its people's), of some kinds, in a period, the open ones, of a
    direction."""
    periods.check_period(since, until)
    if contact_id is not None:
        query = query.where(Activity.contact == contact_id)
    if company_id is not None:
        # A company's timeline: its own entries and those of its people.
        people = Contact.select(Contact.id).where(Contact.company == company_id)
        query = query.where((Activity.company == company_id) | Activity.contact.in_(people))
    if kinds:
        query = query.where(Activity.kind.in_([check_kind(k) for k in kinds]))
    if since is not None:
        query = query.where(Activity.occurred_at >= since)
    if until is not None:
        query = query.where(Activity.occurred_at < until)
    if direction:
        query = query.where(Activity.direction == _clean({"direction": direction}, "")["direction"])
    if open_only:
        query = query.where(Activity.status == "open")
    return query


def open_query(*, until: datetime):
    """Unanswered inquiries, complaints and returns from before `until`, oldest first."""
    return (
        _select()
        .where((Activity.status == "open") & (Activity.occurred_at < until))
        .order_by(Activity.occurred_at, Activity.id)
    )


def rows(query) -> list[dict]:
    return _rows(query)


QUEUE_CHUNK = 500  # ids a query (SQLite builds before 3.32 take at most 999 parameters)


def pending_rows(until: datetime) -> list[tuple[dict, int]]:
    """Inquiries, complaints and returns from before `until` that `crm remind` has not printed
    (the queue in activity.remind_at, which holds open ones only: the caller skips any other
    and takes it off), oldest first, each with its queue value."""

    def queued(limit):
        # No ORDER BY: SQLite would walk the whole timeline by its time index to avoid a sort.
        return Activity.select(Activity.id).where(Activity.remind_at < limit)

    # The queue's ids first, then their rows by id (cron's usual run finds none and stops
    # there). Asked in one query with the joins, PostgreSQL planned for as many queued rows
    # as its statistics last saw (10,000 after a demo, whose first `crm remind` emptied the
    # queue): hash joins reading every company, 40 ms at 1,000,000 contacts for nothing.
    limit = math.ceil(until.timestamp())
    ids = [i for (i,) in prepared.run("activity_queue", queued, limit)]
    found = []
    for start in range(0, len(ids), QUEUE_CHUNK):
        part = ids[start : start + QUEUE_CHUNK]
        # Asked again: a row queued anew for later since the ids were read is not due.
        query = (
            _select()
            .select_extend(Activity.remind_at)
            .where(Activity.id.in_(part) & (Activity.remind_at < limit))
        )
        found += prepared.fetch(query)
    found.sort(key=lambda r: (r[2], r[0]))  # occurred_at, id
    return [(dict(zip(_KEYS, r[:-1], strict=True)), r[-1]) for r in found]


def open_counts(contact_ids: Sequence[int]) -> dict[int, int]:
    """{contact id: open inquiries/complaints/returns} for several contacts in one query."""
    if not contact_ids:
        return {}
    rows = (
        Activity.select(Activity.contact, fn.COUNT(Activity.id))
        .where((Activity.status == "open") & Activity.contact.in_(list(contact_ids)))
        .group_by(Activity.contact)
        .tuples()
    )
    return dict(rows)


def last_activities(contact_ids: Sequence[int]) -> dict[int, dict]:
    """The newest activity of each contact, for cards and reminders, in one query."""
    if not contact_ids:
        return {}
    newest = (
        Activity.select(Activity.contact, fn.MAX(Activity.occurred_at).alias("at"))
        .where(Activity.contact.in_(list(contact_ids)))
        .group_by(Activity.contact)
        .alias("newest")
    )
    query = (
        Activity.select(
            Activity.contact, Activity.id, Activity.kind, Activity.subject, Activity.occurred_at
        )
        .join(
            newest,
            on=((newest.c.contact_id == Activity.contact) & (newest.c.at == Activity.occurred_at)),
        )
        .tuples()
    )
    out: dict[int, dict] = {}
    for cid, aid, kind, subject, at in query:
        out.setdefault(cid, {"id": aid, "kind": kind, "subject": subject, "occurred_at": at})
    return out


def activities_of_order(order_id: int) -> list[dict]:
    """What is recorded about an order, oldest first (the order card): inquiries, complaints
    and returns about it, and the documents made from it."""
    query = _select().where(Activity.order == order_id).order_by(Activity.occurred_at, Activity.id)
    return _rows(query)


def timeline_of_deal(deal_id: int, limit: int | None) -> list[dict]:
    """A deal's activities, newest first (the deal card's timeline)."""
    query = (
        _select()
        .where(Activity.deal == deal_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
    )
    return _rows(query.limit(limit) if limit is not None else query)


def timeline_page(
    *,
    contact_id: int | None = None,
    company_id: int | None = None,
    before: Sequence | None = None,
    limit: int = 50,
) -> list[dict]:
    """One page of a contact's (or a company's, its people's included) timeline, newest
    first: the `limit` activities right after `before`, the (occurred_at, id) of the last
    one a screen holds (None: the newest). Read by key, so the hundredth page of a long
    history costs what the first does."""
    if (contact_id is None) == (company_id is None):
        raise Invalid("timeline", "a timeline is a contact's or a company's")
    query = _select()
    if contact_id is not None:
        query = query.where(Activity.contact == contact_id)
    else:
        people = Contact.select(Contact.id).where(Contact.company == company_id)
        query = query.where((Activity.company == company_id) | Activity.contact.in_(people))
    if before is not None:
        at, last_id = before
        query = query.where(
            (Activity.occurred_at < at) | ((Activity.occurred_at == at) & (Activity.id < last_id))
        )
    query = query.order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit)
    return _rows(query)
