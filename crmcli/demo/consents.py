"""Consent histories for the demo: what `crm mail newsletter --to tag:newsletter --dry-run`
sorts out. Most consenting contacts confirmed their double opt-in, some never did; some who
consented once withdrew later (and still carry the newsletter tag: the mailing must skip
them anyway); a few customers agreed to offers too."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crmcli.demo.state import Demo
from crmcli.demo.writer import bulk
from crmcli.models import ConsentEntry, ContactTag

SOURCES = ("Webformular", "Webformular", "Webformular", "Messe", "Telefon", "Papierformular")
TEXTS = {
    "newsletter": (
        "Ja, ich möchte den Newsletter per E-Mail erhalten. Die Einwilligung kann ich "
        "jederzeit widerrufen, z. B. über den Abmeldelink in jeder E-Mail."
    ),
    "angebote": "Ja, schicken Sie mir Angebote zu Produkten, die ich gekauft habe, per E-Mail.",
}
_FIELDS = (
    ConsentEntry.contact, ConsentEntry.purpose, ConsentEntry.action, ConsentEntry.at,
    ConsentEntry.source, ConsentEntry.text, ConsentEntry.version, ConsentEntry.confirmed_at,
    ConsentEntry.created_at,
)  # fmt: skip


def consents(d: Demo) -> int:
    """Grants (with text, version, source and mostly a confirmation) for every contact whose
    flag says consent; grants then withdrawals for some without; offers for some customers."""
    rng, rows, tagged = _own_rng(d), [], []
    newsletter = d.tag_ids.get("newsletter")
    for cid, c in zip(d.contact_ids, d.contacts, strict=True):
        if c["consent"]:
            at = c["consent_at"]
            confirmed = at + timedelta(minutes=rng.randint(2, 600)) if rng.random() < 0.85 else None
            confirmed = confirmed if confirmed is None or confirmed <= d.now else None
            rows.append(_grant(rng, d, cid, "newsletter", at, confirmed))
        elif c["email"] and rng.random() < 0.08:
            at = _moment(rng, c["created_at"], d.now)
            gone = at + (d.now - at) * rng.uniform(0.2, 0.9)
            rows.append(_grant(rng, d, cid, "newsletter", at, at + timedelta(minutes=5)))
            rows.append((cid, "newsletter", "withdraw", gone, rng.choice(("E-Mail", "Telefon",
                         "Abmeldelink")), None, None, None, gone))  # fmt: skip
            if newsletter is not None and rng.random() < 0.7:
                tagged.append((cid, newsletter))
        if c["status"] == "customer" and c["email"] and rng.random() < 0.3:
            at = _moment(rng, c["created_at"], d.now)
            rows.append(_grant(rng, d, cid, "angebote", at, at + timedelta(minutes=3)))
    rows = [r for r in rows if r[3] <= d.now]
    if tagged:
        bulk(ContactTag, (ContactTag.contact, ContactTag.tag), tagged)
    d.consent_tagged = len(tagged)  # type: ignore[attr-defined]  # counted as contact tags
    return bulk(ConsentEntry, _FIELDS, rows)


def _own_rng(d: Demo) -> random.Random:
    """A generator of its own, seeded by the state the demo's seed has brought d.rng to (read,
    not drawn from: a draw would change every record the generators after this one make).
    Not by the clock: the same seed gives the same consents whenever it runs."""
    return random.Random(f"consents|{d.rng.getstate()[1][:8]}|{len(d.contacts)}")


def _moment(rng: random.Random, after: datetime, now: datetime) -> datetime:
    return after + timedelta(seconds=int(rng.random() * (now - after).total_seconds()))


def _grant(rng: random.Random, d: Demo, cid: int, purpose: str, at, confirmed) -> tuple:
    version = "2025-1" if at.year >= 2025 else "2023-2"
    if confirmed is not None and confirmed > d.now:
        confirmed = None
    return (cid, purpose, "grant", at, rng.choice(SOURCES), TEXTS[purpose], version, confirmed, at)
