"""The funnel's facts, stored when they happen: each stay's end and length on its history row,
and counters per currency (table pipeline_tally) that `crm report funnel` reads instead of
walking every deal's history.

A deal contributes to the counters (see `contribution`):
  reached  stage_id = the furthest stage it entered, open or the won stage it is in now,
           sub = 1 if it is won now
  lost     stage_id = the lost stage it is in now
(a closed stage it was reopened from is a step back, not a stage it reached)
  reason   label = its lost reason, while it is lost
  stay     stage_id = the stage of a completed stay, sub = its whole days (cents: its seconds)
with `deals` 1 and `cents` its amount. A change of one deal takes its contribution before and
after and adds the difference, in the change's transaction (`tracking`); a change of the stages
that moves many deals at once (reorder, merge) or a bulk load rebuilds them all (`rebuild`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from peewee import EXCLUDED, BigIntegerField, CharField, IntegerField, Model, TextField

from crmcli.models import Deal, DealStageChange, Stage, database_proxy
from crmcli.values import unix_seconds

DAY = 86400


class PipelineTally(Model):
    kind = CharField(max_length=8)
    currency = CharField(max_length=3)
    stage_id = IntegerField()
    sub = IntegerField()
    label = TextField()
    deals = BigIntegerField()
    cents = BigIntegerField()

    class Meta:
        database = database_proxy
        legacy_table_names = False
        indexes = ((("kind", "currency", "stage_id", "sub", "label"), True),)


Key = tuple[str, str, int, int, str]


def restay(deal_id: int) -> None:
    """Write each step's end (the next step's time) and length on the deal's history rows,
    with the deal's currency; only rows that differ are written."""
    currency = Deal.select(Deal.currency).where(Deal.id == deal_id).scalar()
    rows = list(
        DealStageChange.select(
            DealStageChange.id,
            DealStageChange.changed_at,
            DealStageChange.left_at,
            DealStageChange.stay_seconds,
            DealStageChange.currency,
        )
        .where(DealStageChange.deal == deal_id)
        .order_by(DealStageChange.changed_at, DealStageChange.id)
        .tuples()
    )
    for (rid, at, left, stay, cur), nxt in zip(rows, [*rows[1:], None], strict=False):
        want_left = nxt[1] if nxt else None
        want_stay = unix_seconds(nxt[1]) - unix_seconds(at) if nxt else None
        if (left, stay, cur) != (want_left, want_stay, currency):
            DealStageChange.update(
                left_at=want_left, stay_seconds=want_stay, currency=currency
            ).where(DealStageChange.id == rid).execute()


def contribution(deal_id: int) -> Counter:
    """What one deal adds to the counters: {key: (deals, cents)} flattened into a Counter of
    (key, "deals"|"cents"). Empty for a deal that does not exist."""
    found = (
        Deal.select(Deal.currency, Deal.amount_cents, Deal.stage, Deal.lost_reason)
        .where(Deal.id == deal_id)
        .tuples()
        .first()
    )
    out: Counter = Counter()
    if found is None:
        return out
    currency, cents, current, reason = found
    info = {
        sid: (pos, bool(won), bool(lost))
        for sid, pos, won, lost in Stage.select(
            Stage.id, Stage.position, Stage.is_won, Stage.is_lost
        ).tuples()
    }
    steps = DealStageChange.select(DealStageChange.to_stage, DealStageChange.stay_seconds).where(
        DealStageChange.deal == deal_id
    )
    top = None
    for sid, stay in steps.tuples():
        _, won, lost = info[sid]
        # A won or lost stage counts only while the deal is in it: reopened, it was undone.
        if not (lost or (won and sid != current)) and (top is None or info[sid][0] > info[top][0]):
            top = sid
        if stay is not None:
            _add(out, ("stay", currency, sid, stay // DAY, ""), 1, stay)
    if top is not None:
        _add(out, ("reached", currency, top, int(info[current][1]), ""), 1, cents)
    if info[current][2]:
        _add(out, ("lost", currency, current, 0, ""), 1, cents)
        _add(out, ("reason", currency, 0, 0, reason or ""), 1, cents)
    return out


def _add(out: Counter, key: Key, deals: int, cents: int) -> None:
    out[key, "deals"] += deals
    out[key, "cents"] += cents


def apply(before: Counter, after: Counter) -> None:
    """Add after − before to the counters (keys in a fixed order: no deadlock between writers)."""
    delta: dict[Key, list[int]] = {}
    for (key, what), n in after.items():
        delta.setdefault(key, [0, 0])[what == "cents"] += n
    for (key, what), n in before.items():
        delta.setdefault(key, [0, 0])[what == "cents"] -= n
    emptied = False
    for key in sorted(delta):
        deals, cents = delta[key]
        if not (deals or cents):
            continue
        kind, currency, stage_id, sub, label = key
        PipelineTally.insert(
            kind=kind, currency=currency, stage_id=stage_id, sub=sub, label=label,
            deals=deals, cents=cents,
        ).on_conflict(
            conflict_target=[
                PipelineTally.kind, PipelineTally.currency, PipelineTally.stage_id,
                PipelineTally.sub, PipelineTally.label,
            ],
            update={
                PipelineTally.deals: PipelineTally.deals + EXCLUDED.deals,
                PipelineTally.cents: PipelineTally.cents + EXCLUDED.cents,
            },
        ).execute()  # fmt: skip
        emptied = emptied or deals < 0
    if emptied:
        PipelineTally.delete().where(PipelineTally.deals == 0).execute()


@contextmanager
def tracking(deal_id: int) -> Iterator[None]:
    """Around a change of one deal (inside its transaction): its stays rewritten and the
    counters moved by the difference its change made."""
    before = contribution(deal_id)
    yield
    restay(deal_id)
    apply(before, contribution(deal_id))


def added(deal_id: int) -> None:
    """A new deal (its first step written): its stays and counters."""
    restay(deal_id)
    apply(Counter(), contribution(deal_id))


def _won() -> str:
    return "CASE WHEN cs.is_won THEN 1 ELSE 0 END"


def _recounts(stay_currency: str) -> list[str]:
    """The SELECTs that count every counter from the deals and their history, each giving
    (kind, currency, stage_id, sub, label, deals, cents) like the pipeline_tally row.
    `stay_currency` is the SQL for a stay's currency (its own column, or its deal's)."""
    return [
        f"SELECT 'reached', d.currency, ts.id, {_won()}, '', COUNT(*), "
        "SUM(d.amount_cents) FROM (SELECT c.deal_id AS deal, MAX(s.position) AS top "
        "FROM deal_stage_change c JOIN stage s ON s.id = c.to_stage_id "
        "JOIN deal cd ON cd.id = c.deal_id "
        "WHERE NOT s.is_lost AND (NOT s.is_won OR cd.stage_id = s.id) "
        "GROUP BY c.deal_id) t JOIN deal d ON d.id = t.deal "
        "JOIN stage ts ON ts.position = t.top AND NOT ts.is_lost "
        "JOIN stage cs ON cs.id = d.stage_id "
        f"GROUP BY d.currency, ts.id, {_won()}",
        "SELECT 'lost', d.currency, d.stage_id, 0, '', COUNT(*), SUM(d.amount_cents) "
        "FROM deal d JOIN stage s ON s.id = d.stage_id WHERE s.is_lost "
        "GROUP BY d.currency, d.stage_id",
        "SELECT 'reason', d.currency, 0, 0, COALESCE(d.lost_reason, ''), COUNT(*), "
        "SUM(d.amount_cents) FROM deal d JOIN stage s ON s.id = d.stage_id WHERE s.is_lost "
        "GROUP BY d.currency, COALESCE(d.lost_reason, '')",
        f"SELECT 'stay', {stay_currency}, c.to_stage_id, c.stay_seconds / {DAY}, '', "
        "COUNT(*), SUM(c.stay_seconds) FROM deal_stage_change c JOIN deal d ON d.id = c.deal_id "
        f"WHERE c.stay_seconds IS NOT NULL "
        f"GROUP BY {stay_currency}, c.to_stage_id, c.stay_seconds / {DAY}",
    ]


def rebuild() -> None:
    """Recompute every counter from the deals and their history (stays as stored)."""
    db = database_proxy.obj
    PipelineTally.delete().execute()
    db.execute_sql(
        "UPDATE deal_stage_change SET currency = "
        "(SELECT d.currency FROM deal d WHERE d.id = deal_stage_change.deal_id) "
        "WHERE currency <> (SELECT d.currency FROM deal d WHERE d.id = deal_stage_change.deal_id)"
    )
    head = "INSERT INTO pipeline_tally (kind, currency, stage_id, sub, label, deals, cents) "
    for select in _recounts("c.currency"):
        db.execute_sql(head + select)


def _normal(rows) -> list[tuple]:
    """Counter rows comparable across drivers (PostgreSQL sums are Decimal), empty ones out."""
    from decimal import Decimal

    out = [tuple(int(v) if isinstance(v, int | Decimal) else v for v in r) for r in rows]
    return sorted(r for r in out if r[5] or r[6])


def rows() -> list[tuple]:
    """Every counter, sorted (for tests: maintained counters equal rebuilt ones)."""
    query = PipelineTally.select(
        PipelineTally.kind, PipelineTally.currency, PipelineTally.stage_id, PipelineTally.sub,
        PipelineTally.label, PipelineTally.deals, PipelineTally.cents,
    ).tuples()  # fmt: skip
    return sorted(tuple(int(v) if isinstance(v, int) else v for v in r) for r in query)


def drifted() -> bool:
    """Whether the stored counters differ from a recount of the deals (for `crm db check`;
    `rebuild` repairs). Only reads, in one snapshot: a writer committing meanwhile is not
    drift, and the check takes no write lock. Counters written before reopened deals
    stopped counting in the stage they were closed in differ for every such deal."""
    from crmcli.db import read_snapshot

    db = database_proxy.obj
    with read_snapshot(db):
        kept = _normal(rows())
        fresh = _normal(
            row for select in _recounts("d.currency") for row in db.execute_sql(select).fetchall()
        )
    return kept != fresh
