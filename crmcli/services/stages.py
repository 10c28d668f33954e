"""The sales process: ordered stages with a probability; won and lost stages close a deal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from peewee import fn

from crmcli.db import insert_unless_taken
from crmcli.errors import Ambiguous, Candidate, Conflict, Invalid, NotFound
from crmcli.models import Deal, DealStageChange, Stage, database_proxy, utcnow
from crmcli.services import limits, prepared, refs
from crmcli.values import fold, plural

_KEYS = ("id", "name", "position", "probability", "is_won", "is_lost")


def _all() -> list[dict]:
    # Read before most deal commands and lists: built once per process (services.prepared).
    def build():
        return Stage.select(
            Stage.id, Stage.name, Stage.position, Stage.probability, Stage.is_won, Stage.is_lost
        ).order_by(Stage.position, Stage.id)

    rows = [dict(zip(_KEYS, r, strict=True)) for r in prepared.run("stages", build)]
    for r in rows:
        r["is_won"], r["is_lost"] = bool(r["is_won"]), bool(r["is_lost"])
    return rows


def stages() -> list[dict]:
    """Every stage in process order (id, name, position, probability, is_won, is_lost)."""
    return _all()


def list_stages() -> list[dict]:
    """The stages in order, each with how many deals it holds (`deals`), their value in EUR
    (`value`, as before) and per currency (`values`: {"CHF": ..., "EUR": ...}, by code);
    amounts in different currencies are never added together."""
    from decimal import Decimal

    rows = _all()
    held: dict[int, dict] = {}
    for sid, currency, n, total in (
        Deal.select(
            Deal.stage, Deal.currency, fn.COUNT(Deal.id), fn.COALESCE(fn.SUM(Deal.amount_cents), 0)
        )
        .group_by(Deal.stage, Deal.currency)
        .tuples()
    ):
        entry = held.setdefault(sid, {"deals": 0, "values": {}})
        entry["deals"] += n
        entry["values"][currency] = Decimal(int(total)).scaleb(-2)
    for r in rows:
        entry = held.get(r["id"], {"deals": 0, "values": {}})
        r["deals"] = entry["deals"]
        values = dict(sorted(entry["values"].items()))
        r["value"], r["values"] = values.get("EUR", Decimal("0.00")), values
    return rows


def resolve_stage(ref: str) -> dict:
    """The stage that REF names: an id, a name (accents and case ignored) or a unique part."""
    text = " ".join((ref or "").split())
    if not text:
        raise Invalid("stage", "an empty stage name names nothing")
    rows = _all()
    if refs.is_id(text):
        number = refs.parse_id(text, kind="stage")
        found = [r for r in rows if r["id"] == number]
    else:
        key = fold(text)
        found = [r for r in rows if fold(r["name"]) == key]
        if not found:
            found = [r for r in rows if key in fold(r["name"])]
    if not found:
        names = ", ".join(r["name"] for r in rows)
        raise NotFound(f"no stage '{text}' (stages: {names})")
    if len(found) > 1:
        raise Ambiguous("stage", text, [Candidate(r["id"], r["name"]) for r in found], len(found))
    return found[0]


def won_stage() -> dict:
    return next(r for r in _all() if r["is_won"])


def lost_stage() -> dict:
    return next(r for r in _all() if r["is_lost"])


def _closes(stage: dict) -> bool:
    return bool(stage["is_won"] or stage["is_lost"])


def _closing_names(rows: Sequence[dict]) -> str:
    return " and ".join(r["name"] for r in rows if _closes(r))


def _check_order(rows: Sequence[dict]) -> None:
    """Every open stage before every closing one: a deal counts as having reached each stage
    up to the furthest it was in, so an open stage after Gewonnen would count it as won."""
    first_closing = next((i for i, r in enumerate(rows) if _closes(r)), len(rows))
    late = [r["name"] for r in rows[first_closing:] if not _closes(r)]
    if late:
        raise Invalid(
            "stages",
            f"open stages come before the closing ones ({_closing_names(rows)}): "
            f"{', '.join(late)} would come after {rows[first_closing]['name']}",
        )


def check_probability(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 100:
        raise Invalid("probability", f"{value} is not a percentage from 0 to 100")
    return value


def _clean_name(name: str, stage_id: int | None = None) -> tuple[str, str]:
    text = " ".join((name or "").split())
    if not text:
        raise Invalid("name", "a stage needs a name")
    limits.check("stage", text)
    if refs.is_id(text):
        raise Invalid("name", f"'{text}' would read as an id; give the stage a name")
    key = fold(text)
    other = Stage.select(Stage.id, Stage.name).where(Stage.name_fold == key)
    if stage_id is not None:
        other = other.where(Stage.id != stage_id)
    clash = other.first()
    if clash is not None:
        raise Conflict(f"stage #{clash.id} {clash.name} exists already")
    return text, key


def _renumber(ids: Sequence[int], now: datetime) -> None:
    for position, sid in enumerate(ids, start=1):
        Stage.update(position=position, updated_at=now).where(Stage.id == sid).execute()


def add_stage(
    name: str,
    *,
    after: str | None = None,
    probability: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Add an open stage after `after` (default: after the last open stage), which must be an
    open stage: closing stages come last. Its probability defaults to that of the stage before
    it."""
    now = now or utcnow()
    check_probability(probability)
    with database_proxy.atomic():
        text, key = _clean_name(name)
        rows = _all()
        if after is not None:
            before = resolve_stage(after)
            if _closes(before):
                raise Invalid(
                    "after",
                    f"a new open stage goes before the closing stages ({_closing_names(rows)}); "
                    f"{before['name']} closes a deal",
                )
        else:
            open_ = [r for r in rows if not (r["is_won"] or r["is_lost"])]
            before = open_[-1] if open_ else None
        index = 0 if before is None else [r["id"] for r in rows].index(before["id"]) + 1
        if probability is None:
            probability = before["probability"] if before else 0
        new_id = insert_unless_taken(Stage.insert(
            name=text, name_fold=key, position=0, probability=probability, is_won=False,
            is_lost=False, created_at=now, updated_at=now,
        ), Stage.name_fold)  # fmt: skip
        if new_id is None:  # another process added it since the check: say so
            _clean_name(text)
            raise Conflict(f"stage {text} exists already")
        ids = [r["id"] for r in rows]
        ids.insert(index, new_id)
        _renumber(ids, now)
    return resolve_stage(str(new_id))


def edit_stage(
    ref: str,
    *,
    name: str | None = None,
    probability: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Rename a stage and/or change its probability."""
    now = now or utcnow()
    check_probability(probability)
    with database_proxy.atomic():
        stage = resolve_stage(ref)
        row: dict = {"updated_at": now}
        if name is not None:
            row["name"], row["name_fold"] = _clean_name(name, stage["id"])
        if probability is not None:
            row["probability"] = probability
        Stage.update(**row).where(Stage.id == stage["id"]).execute()
    return resolve_stage(str(stage["id"]))


def reorder_stages(refs: Sequence[str], *, now: datetime | None = None) -> list[dict]:
    """Put the stages in the order given; every stage must be named exactly once, and every
    open stage must come before every closing (won or lost) one."""
    now = now or utcnow()
    with database_proxy.atomic():
        named = [resolve_stage(r)["id"] for r in refs]
        rows = _all()
        if len(set(named)) != len(named):
            raise Invalid("stages", "a stage is named twice")
        missing = [r["name"] for r in rows if r["id"] not in named]
        if missing:
            raise Invalid("stages", f"name every stage; missing: {', '.join(missing)}")
        by_id = {r["id"]: r for r in rows}
        _check_order([by_id[i] for i in named])
        _renumber(named, now)
        if named != [r["id"] for r in rows]:  # the furthest stage a deal reached may change
            from crmcli.services import tallies

            tallies.rebuild()
    return list_stages()


def remove_stage(ref: str, *, move_to: str | None = None, now: datetime | None = None) -> dict:
    """Remove a stage. With `move_to` it is merged into that stage: its deals and the steps of
    history that passed through it move there. Without, only a stage no deal was ever in goes."""
    now = now or utcnow()
    with database_proxy.atomic():
        stage = resolve_stage(ref)
        sid = stage["id"]
        rows = _all()
        for flag, word in (("is_won", "won"), ("is_lost", "lost")):
            if stage[flag] and sum(1 for r in rows if r[flag]) == 1:
                raise Conflict(f"{stage['name']} is the only {word} stage; it cannot be removed")
        held = Deal.select().where(Deal.stage == sid).count()
        in_history = (
            DealStageChange.select()
            .where((DealStageChange.to_stage == sid) | (DealStageChange.from_stage == sid))
            .count()
        )
        if move_to is None:
            if held or in_history:
                why = f"holds {plural(held, 'deal')}" if held else "is in the history of deals"
                raise Conflict(f"stage {stage['name']} {why}", action="move_deals_first")
            target = None
        else:
            target = resolve_stage(move_to)
            if target["id"] == sid:
                raise Invalid("move-to", "move the deals to another stage")
            kind = lambda r: (r["is_won"], r["is_lost"])  # noqa: E731
            if kind(target) != kind(stage):
                raise Invalid(
                    "move-to", "merge open stages with open ones, won with won, lost with lost"
                )
            # Merged: its deals, and the steps of history that passed through it, now
            # belong to the target, as if the two had always been one stage.
            Deal.update(stage=target["id"], updated_at=now).where(Deal.stage == sid).execute()
            DealStageChange.update(to_stage=target["id"]).where(
                DealStageChange.to_stage == sid
            ).execute()
            DealStageChange.update(from_stage=target["id"]).where(
                DealStageChange.from_stage == sid
            ).execute()
        Stage.delete().where(Stage.id == sid).execute()
        _renumber([r["id"] for r in rows if r["id"] != sid], now)
        if target is not None:
            from crmcli.services import tallies

            tallies.rebuild()
    stage["moved_deals"] = held
    stage["moved_to"] = target["name"] if target else None
    return stage
