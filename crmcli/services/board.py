"""The pipeline as a board: every stage with its tallies, and the first deals of each open
stage by expected close date (a stage can hold thousands: a page of them, never all)."""

from __future__ import annotations

from collections.abc import Mapping

from crmcli.models import Deal
from crmcli.services import deals, stages

PAGE = 50


def board(shown: Mapping[int, int] | None = None, *, page: int = PAGE) -> list[dict]:
    """The stages in process order, each with `deals` (how many it holds), `value` (EUR) and
    `values` (per currency), `status` (open, won, lost); open stages also with `cards`, their
    first deals by expected close date (then id; deals without one last): `shown[stage_id]`
    of them, else `page`."""
    shown = shown or {}
    out = []
    for s in stages.list_stages():
        s["status"] = "won" if s["is_won"] else "lost" if s["is_lost"] else "open"
        if s["status"] == "open":
            limit = max(1, shown.get(s["id"], page))
            s["cards"] = _first_closing(s["id"], limit)
        else:
            s["cards"] = []
        out.append(s)
    return out


def neighbour_stage(stage_id: int, step: int) -> dict | None:
    """The open stage `step` places after (or before, negative) `stage_id`; None past the
    ends of the open stages (won and lost have their own actions)."""
    open_ = [s for s in stages.stages() if not (s["is_won"] or s["is_lost"])]
    ids = [s["id"] for s in open_]
    if stage_id not in ids:
        return None
    i = ids.index(stage_id) + step
    return open_[i] if 0 <= i < len(open_) else None


def _first_closing(stage_id: int, limit: int) -> list[dict]:
    """The first `limit` deals of a stage by expected close date, undated ones last (on
    SQLite as on PostgreSQL, whose NULLs sort differently)."""
    query = (
        deals._select()
        .where(Deal.stage == stage_id)
        .order_by(Deal.expected_close.asc(nulls="LAST"), Deal.id)
        .limit(limit)
    )
    return [deals._row(r) for r in query.tuples()]
