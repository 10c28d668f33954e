"""Stay in touch: when each contact is next due for a call, stored so reminders read an index.

A contact's cadence is the shorter of its own and its tags' (`cadence_eff`). It is due that
many days after its last interaction, or after it was added (`touch_due`, whole seconds since
1970, UTC; NULL without a cadence and for inactive contacts). `touch_remind` is `touch_due`
until `crm remind` has printed that occurrence, then NULL; a change of the due time arms it
again (and the reminder log still keeps one occurrence from being printed twice).

Every write that changes a cadence, a tag link, the status or the last interaction calls
`refresh` in its own transaction; logging an activity updates the columns in its one UPDATE
(`touch`). A day is 86,400 seconds here, as in timedelta(days=n) on UTC times.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from peewee import SQL, Case, Value, fn

from crmcli.models import Contact, ContactTag, Tag
from crmcli.values import unix_seconds

DAY = 86_400


def _due(since):
    """SQL: when a contact with its current cadence_eff and status is due, counted from
    `since` (an SQL expression or a parameter in seconds)."""
    return Case(
        None,
        [((Contact.cadence_eff.is_null()) | (Contact.status == "inactive"), SQL("NULL"))],
        since + Contact.cadence_eff * DAY,
    )


def _arm(due):
    """SQL for the new touch_remind when touch_due becomes `due`: unchanged while the due time
    stays (printed stays printed), armed again when it moves."""
    return Case(None, [(Contact.touch_due == due, Contact.touch_remind)], due)


def refresh(contact_ids: Iterable[int] | None = None) -> None:
    """Recompute cadence_eff, touch_due and touch_remind of these contacts (None: all)."""
    if contact_ids is None:
        _refresh(Value(True))
        return
    ids = sorted(set(contact_ids))
    for start in range(0, len(ids), 500):
        _refresh(Contact.id.in_(ids[start : start + 500]))


def _shorter():
    """SQL: the shorter of a contact's own cadence and its tags' (either may be missing)."""
    tags = (
        ContactTag.select(fn.MIN(Tag.cadence_days))
        .join(Tag, on=(ContactTag.tag == Tag.id))
        .where(ContactTag.contact == Contact.id)
    )
    own = Contact.cadence_days
    return fn.COALESCE(Case(None, [(own < tags, own)], tags), own)  # same on both databases


def _due_from_last():
    from crmcli.db import epoch

    return _due(epoch(fn.COALESCE(Contact.last_activity_at, Contact.created_at)))


def _refresh(where) -> None:
    Contact.update(cadence_eff=_shorter()).where(where).execute()
    due = _due_from_last()
    Contact.update(touch_due=due, touch_remind=_arm(due)).where(where).execute()


def drift() -> int:
    """How many contacts' stored cadence or due time is not what their records say
    (0 when in step; `crm db check` reports it, `--repair` runs refresh())."""
    from crmcli.db import differs

    stale = differs(Contact.cadence_eff, _shorter()) | differs(Contact.touch_due, _due_from_last())
    return Contact.select().where(stale).count()


def members(tag_id: int) -> list[int]:
    """The contacts carrying a tag (whose cadence follows the tag's)."""
    query = ContactTag.select(ContactTag.contact).where(ContactTag.tag == tag_id)
    return [cid for (cid,) in query.tuples()]


def touch_update(at, at_seconds, contact_id):
    """The UPDATE behind a newly logged interaction at `at` (stored form; `at_seconds` the same
    moment in seconds): the last interaction moves forward, and the due time with it."""
    last = Contact.last_activity_at
    due = _due(at_seconds)
    return Contact.update(last_activity_at=at, touch_due=due, touch_remind=_arm(due)).where(
        (Contact.id == contact_id) & (last.is_null() | (last < at))
    )


def due_before(horizon: datetime):
    """SQL condition: contacts due for a call by `horizon`."""
    return Contact.touch_due <= unix_seconds(horizon)


def pending_before(limit: int):
    """SQL condition: contacts due by `limit` (seconds since 1970) whose occurrence
    `crm remind` has not printed."""
    return Contact.touch_remind <= limit
