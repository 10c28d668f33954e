"""A demo sales pipeline: deals over two years that walk the stages step by step, won or lost
(with reasons) or still open in every stage, each step in the stage history. Used by
crmcli.demo.fill_demo."""

from __future__ import annotations

from datetime import timedelta

from crmcli.demo.people import OWNERS
from crmcli.demo.state import Demo
from crmcli.demo.writer import bulk, insert
from crmcli.models import Deal, DealStageChange
from crmcli.services import search, stages, tallies
from crmcli.values import unix_seconds

_PRODUCTS = (
    "Wartungsvertrag", "Dachsanierung", "Softwarelizenzen", "Website-Relaunch", "Schulung",
    "Büroausstattung", "Photovoltaikanlage", "Rahmenvertrag", "Beratungspaket",
    "Fuhrpark-Leasing", "Netzwerk-Erneuerung", "Messestand",
)  # fmt: skip
_BASE_EUROS = (900, 1500, 2500, 4800, 7500, 9900, 12500, 24000, 48000)
# (reason, weight)
_REASONS = (
    ("Preis zu hoch", 35), ("Kein Budget", 20), ("Wettbewerber gewählt", 20),
    ("Projekt verschoben", 15), ("Keine Rückmeldung", 10),
)  # fmt: skip
# Chance to advance from the n-th open stage (else the deal is lost there).
_ADVANCE = (0.8, 0.75, 0.7, 0.7)
DEAL_COLUMNS = (
    "title", "name_key", "contact", "company", "amount_cents", "currency", "stage",
    "expected_close", "owner", "source", "lost_reason", "closed_at", "created_at", "updated_at",
)  # fmt: skip
_CHANGE_FIELDS = (
    DealStageChange.deal, DealStageChange.from_stage, DealStageChange.to_stage,
    DealStageChange.changed_at, DealStageChange.changed_by, DealStageChange.left_at,
    DealStageChange.stay_seconds, DealStageChange.currency,
)  # fmt: skip


def deals(d: Demo, n: int) -> int:
    """`n` deals of random contacts; returns how many (their histories are written too)."""
    rng, now = d.rng, d.now
    d.deal_ids, d.deal_titles = [], []
    if not d.contact_ids or n <= 0:
        tallies.rebuild()
        return 0
    process = stages.stages()
    open_ = [s["id"] for s in process if not (s["is_won"] or s["is_lost"])]
    won = next(s["id"] for s in process if s["is_won"])
    lost = next(s["id"] for s in process if s["is_lost"])
    reasons = [r for r, _ in _REASONS]
    reason_weights = [w for _, w in _REASONS]
    rows, paths = [], []
    for _ in range(n):
        index = rng.randrange(len(d.contact_ids))
        person = d.contacts[index]
        firm = person["company"]
        company_id = None if firm is None else d.company_ids[firm]
        created = d.moment()
        at, level, path, reason = created, 0, [(None, open_[0], created)], None
        stage = open_[0]
        while True:
            step = at + timedelta(days=rng.uniform(2, 45), seconds=rng.randrange(86400))
            if step > now:
                break  # still here today
            if rng.random() < _ADVANCE[min(level, len(_ADVANCE) - 1)]:
                level += 1
                target = open_[level] if level < len(open_) else won
            else:
                target, reason = lost, rng.choices(reasons, reason_weights)[0]
            path.append((stage, target, step))
            at, stage = step, target
            if target in (won, lost):
                break
        closed = at if stage in (won, lost) else None
        close = closed.date() if closed else (now + timedelta(days=rng.randint(7, 150))).date()
        euros = round(rng.choice(_BASE_EUROS) * rng.uniform(0.6, 1.6))
        title = f"{rng.choice(_PRODUCTS)} {person['name'].split()[-1]}"
        rows.append({
            "title": title, "name_key": d.key(title), "contact": d.contact_ids[index],
            "company": company_id, "amount_cents": euros * 100, "currency": "EUR",
            "stage": stage, "expected_close": close, "owner": rng.choice(OWNERS),
            "source": person["source"], "lost_reason": reason, "closed_at": closed,
            "created_at": created, "updated_at": at,
        })  # fmt: skip
        paths.append(path)
    ids = insert(Deal, DEAL_COLUMNS, rows)
    history = (
        (
            deal_id,
            src,
            dst,
            when,
            row["owner"],
            *_stay(when, path[i + 1][2] if i + 1 < len(path) else None),
            "EUR",
        )
        for deal_id, row, path in zip(ids, rows, paths, strict=True)
        for i, (src, dst, when) in enumerate(path)
    )
    bulk(DealStageChange, _CHANGE_FIELDS, history)
    tallies.rebuild()
    d.deal_ids, d.deal_titles = ids, [r["title"] for r in rows]
    return len(rows)


def _stay(start, end) -> tuple:
    """A step's end and its stay in whole seconds, as services.tallies writes them."""
    if end is None:
        return None, None
    return end, unix_seconds(end) - unix_seconds(start)


def deal_entries(d: Demo) -> list[tuple[int, str]]:
    """The search entries search.deal_entries() would make for the demo's deals."""
    folded: dict[str, str] = {}
    out = []
    for deal_id, title in zip(d.deal_ids, d.deal_titles, strict=True):
        text = folded.get(title) or folded.setdefault(title, search.body(title))
        out.append((search.rowid("deal", deal_id), text))
    return out
