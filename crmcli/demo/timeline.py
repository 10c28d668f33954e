"""Demo timelines: activities of every kind over two years, tasks (some recurring, some
overdue), open complaints and stay-in-touch cadences. Used by crmcli.demo.fill_demo."""

from __future__ import annotations

import itertools
from datetime import timedelta

from crmcli.demo.people import OWNERS
from crmcli.demo.state import Demo
from crmcli.demo.writer import bulk, bulk_ids
from crmcli.models import Activity, Contact, Tag, Task, database_proxy
from crmcli.services import search

# kind: (weight, directions, subjects)
_KINDS = {
    "call": (26, ("out", "in"), (
        "Rückruf wegen Angebot", "Terminabstimmung", "Nachfrage zum Auftrag", "Erstgespräch",
        "Kurz gesprochen", "Zahlungserinnerung", "Reklamation besprochen", "Preisverhandlung",
    )),
    "email": (30, ("out", "in"), (
        "Angebot {n}", "Auftragsbestätigung", "Rechnung {n}", "Rückfrage Lieferung",
        "Unterlagen wie besprochen", "Terminbestätigung", "Newsletter-Anmeldung", "Produktinfo",
    )),
    "letter": (3, ("out",), ("Vertrag zur Unterschrift", "Mahnung", "Weihnachtsgruß", "Kündigung")),
    "meeting": (8, (None,), (
        "Jahresgespräch", "Vorführung vor Ort", "Messegespräch", "Projekt-Kickoff", "Workshop",
    )),
    "note": (10, (None,), (
        "Entscheider ist der Geschäftsführer", "Budget erst im neuen Jahr",
        "Mag keine Anrufe vor 10",
        "Wettbewerber im Haus", "Zahlt zuverlässig", "Interesse an Wartungsvertrag",
    )),
    "inquiry": (5, ("in",), (
        "Preisanfrage", "Frage zur Lieferzeit", "Anfrage Sonderanfertigung", "Verfügbarkeit?",
        "Anfrage Rahmenvertrag",
    )),
    "complaint": (2, ("in",), (
        "Lieferung beschädigt", "Rechnung falsch", "Termin nicht eingehalten", "Gerät defekt",
        "Falsche Menge geliefert",
    )),
    "return": (1.5, ("in",), ("Rücksendung {n}", "Umtausch Größe", "Retoure wegen Defekt")),
    "review": (5, ("in",), ("Bewertung auf Google", "Bewertung im Shop", "Feedback per Mail")),
    "survey": (3, ("in",), ("Kundenzufriedenheit {y}", "NPS-Umfrage", "Umfrage nach Projekt")),
}  # fmt: skip
_BODIES = (
    "Bitte bis Freitag melden.", "Angebot folgt per Mail.", "Sehr zufrieden mit dem Service.",
    "Wünscht Rückruf am Nachmittag.", "Unterlagen sind angekommen.", "Will noch intern abstimmen.",
    "Hat nach Rabatt gefragt.", "Ansprechpartner ist im Urlaub bis Monatsende.",
)  # fmt: skip
_OUTCOMES = ("Angebot erstellen", "Termin vereinbart", "kein Interesse", "Rückruf nächste Woche")
_TASKS = (
    "Rückruf {name}", "Angebot an {name} schicken", "Nachfassen bei {name}",
    "Rechnung prüfen", "Vertrag vorbereiten", "Termin mit {name} bestätigen",
    "Geburtstagskarte für {name}", "Reklamation {name} klären", "Muster an {name} senden",
)  # fmt: skip
_RULES = ("FREQ=WEEKLY;INTERVAL=1", "FREQ=WEEKLY;INTERVAL=2", "FREQ=MONTHLY;INTERVAL=1",
          "FREQ=MONTHLY;BYDAY=1MO")  # fmt: skip
_TRACKED = ("inquiry", "complaint", "return")
_ACTIVITY_FIELDS = (
    Activity.kind, Activity.contact, Activity.occurred_at, Activity.direction, Activity.subject,
    Activity.body, Activity.duration_min, Activity.outcome, Activity.rating, Activity.score,
    Activity.status, Activity.resolved_at, Activity.resolved_by, Activity.resolution,
    Activity.owner, Activity.created_at, Activity.updated_at,
)  # fmt: skip
_TASK_FIELDS = (
    Task.title, Task.name_key, Task.contact, Task.due_at, Task.due_has_time, Task.rrule,
    Task.series_start, Task.priority, Task.note, Task.done_at, Task.created_at, Task.updated_at,
)  # fmt: skip
TAG_CADENCES = {"key-account": 30, "vip": 14}


def activities(d: Demo, n: int) -> int:
    """`n` activities spread over the contacts' lifetimes; complaints mostly resolved."""
    rng, now = d.rng, d.now
    kinds = list(_KINDS)
    weights = [_KINDS[k][0] for k in kinds]
    if not d.contact_ids:
        return 0
    rows = []
    # A contact known for two years has had more to do with us than one added last week:
    # picking contacts by how long we have known them keeps recent weeks from crowding.
    ages = itertools.accumulate(
        max(1.0, (now - c["created_at"]).total_seconds()) for c in d.contacts
    )
    picks = rng.choices(range(len(d.contacts)), cum_weights=list(ages), k=n)
    for kind, index in zip(rng.choices(kinds, weights=weights, k=n), picks, strict=True):
        contact = d.contacts[index]
        at = d.moment(after=contact["created_at"])
        _, directions, subjects = _KINDS[kind]
        subject = rng.choice(subjects).format(n=rng.randint(1000, 9999), y=at.year)
        body = rng.choice(_BODIES) if rng.random() < 0.35 else None
        duration = (
            rng.randint(2, 45)
            if kind == "call"
            else rng.randint(30, 120)
            if kind == "meeting"
            else None
        )
        outcome = (
            rng.choice(_OUTCOMES) if kind in ("call", "meeting") and rng.random() < 0.4 else None
        )
        rating = (
            rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 5, 8))[0] if kind == "review" else None
        )
        score = rng.randint(0, 10) if kind == "survey" else None
        status = resolved_at = resolved_by = resolution = None
        owner = contact["owner"] or rng.choice(OWNERS)
        if kind in _TRACKED:
            # Most are answered within days; a few old ones were forgotten (remind finds them).
            recent = (now - at) < timedelta(days=10)
            if rng.random() < (0.65 if recent else 0.998):
                status, resolution = "resolved", "erledigt"
                resolved_at = min(now, at + timedelta(hours=rng.randint(2, 240)))
                resolved_by = owner
            else:
                status = "open"
        rows.append((
            kind, d.contact_ids[index], at, rng.choice(directions), subject, body, duration,
            outcome, rating, score, status, resolved_at, resolved_by, resolution, owner, at, at,
        ))  # fmt: skip
    rows.sort(key=lambda r: r[2])  # ids grow with time
    ids = bulk_ids(Activity, _ACTIVITY_FIELDS, rows)
    d.activity_rows = [(i, r[4], r[5], r[7]) for i, r in zip(ids, rows, strict=True)]
    database_proxy.obj.execute_sql(
        "UPDATE contact SET last_activity_at = (SELECT MAX(a.occurred_at) FROM activity a "
        "WHERE a.contact_id = contact.id)"
    )
    return len(rows)


def activity_entries(d: Demo) -> list[tuple[int, str]]:
    """What search would index for the demo activities, each distinct text folded once."""
    cache: dict[tuple, str] = {}
    out = []
    for activity_id, *parts in getattr(d, "activity_rows", ()):
        key = tuple(parts)
        text = cache.get(key)
        if text is None:
            text = cache[key] = search.body(*parts)
        out.append((search.rowid("activity", activity_id), text))
    return out


def tasks(d: Demo, n: int) -> int:
    """Tasks: most for a contact, due from a month ago to two months ahead; some recurring,
    some done, some overdue."""
    from crmcli.values import fold_variants, local_tz

    rng, now, rows = d.rng, d.now, []
    zone = local_tz()
    for _ in range(n):
        index = rng.randrange(len(d.contact_ids)) if d.contact_ids and rng.random() < 0.8 else None
        name = d.contacts[index]["name"] if index is not None else "Kunde"
        title = rng.choice(_TASKS).format(name=name)
        # The first three are forgotten ones, so `crm list tasks --overdue` has something.
        days = rng.randint(-10, -2) if len(rows) < 3 else rng.randint(-30, 60)
        local = (now + timedelta(days=days)).astimezone(zone)
        timed = rng.random() < 0.5
        if timed:
            local = local.replace(hour=rng.choice((9, 10, 11, 14, 15, 16)), minute=0, second=0)
        else:
            local = local.replace(hour=0, minute=0, second=0)
        due = local.astimezone(now.tzinfo)
        rule = rng.choice(_RULES) if rng.random() < 0.12 else None
        done = None
        if len(rows) >= 3 and due < now and rng.random() < 0.8:  # most done in time
            done = min(now, due + timedelta(hours=rng.randint(1, 72)))
        created = min(due, now) - timedelta(days=rng.randint(1, 20))
        rows.append((
            title, fold_variants(title), d.contact_ids[index] if index is not None else None, due,
            timed, rule, due if rule else None, rng.choices((0, 1, 2), weights=(2, 6, 2))[0],
            None, done, created, done or created,
        ))  # fmt: skip
    return bulk(Task, _TASK_FIELDS, rows)


def cadences(d: Demo) -> int:
    """Stay-in-touch cadences on two tags and a few contacts; most of those contacts were
    called in time, so `crm remind` finds the few that slipped, as in a real office."""
    from crmcli.models import ContactTag

    for name, days in TAG_CADENCES.items():
        Tag.update(cadence_days=days).where(Tag.id == d.tag_ids[name]).execute()
    every: dict[int, int] = {}
    tag_ids = {d.tag_ids[name]: days for name, days in TAG_CADENCES.items()}
    for cid, tag in (
        ContactTag.select(ContactTag.contact, ContactTag.tag)
        .where(ContactTag.tag.in_(list(tag_ids)))
        .tuples()
    ):
        every[cid] = min(every.get(cid, 9999), tag_ids[tag])
    own = [cid for cid in d.contact_ids if d.rng.random() < 0.02]
    for i, cid in enumerate(own):
        days = (30, 60, 90)[i % 3]
        every[cid] = min(every.get(cid, 9999), days)
    for days in (30, 60, 90):
        chosen = [cid for i, cid in enumerate(own) if (30, 60, 90)[i % 3] == days]
        for start in range(0, len(chosen), 5000):
            part = chosen[start : start + 5000]
            Contact.update(cadence_days=days).where(Contact.id.in_(part)).execute()
    _touch(d, every)
    return len(own) + len(TAG_CADENCES)


def _touch(d: Demo, every: dict[int, int]) -> None:
    """A recent call or email for nine in ten contacts with a cadence, within their cadence."""
    rng, now = d.rng, d.now
    rows, last = [], {}
    for cid in sorted(every):
        if rng.random() < 0.9:
            at = now - timedelta(seconds=int(rng.random() * every[cid] * 0.9 * 86400))
            kind = rng.choice(("call", "email"))
            subject = rng.choice(_KINDS[kind][2]).format(n=rng.randint(1000, 9999), y=at.year)
            rows.append((
                kind, cid, at, "out", subject, None, 10 if kind == "call" else None, None, None,
                None, None, None, None, None, None, at, at,
            ))  # fmt: skip
            last[cid] = max(at, last.get(cid, at))
    d.touched = len(rows)
    if not rows:
        return
    ids = bulk_ids(Activity, _ACTIVITY_FIELDS, rows)
    d.activity_rows = [*getattr(d, "activity_rows", []), *(
        (i, r[4], r[5], r[7]) for i, r in zip(ids, rows, strict=True)
    )]  # fmt: skip
    field = Contact.last_activity_at
    for cid, at in last.items():
        Contact.update(last_activity_at=at).where(
            (Contact.id == cid) & (field.is_null() | (field < at))
        ).execute()
