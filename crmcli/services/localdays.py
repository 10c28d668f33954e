"""The user's local calendar day of stored moments (naive UTC datetimes), in SQL.

Two ways to the same days:
- local_day_sql: the local day of each row, computed row by row (the offset as a CASE over
  the zone's changes). Grouping by it sorts every row.
- utc_day_cuts and cut_sql: group by the UTC day, which an index can hold in order
  (SQLite: an index on substr(column, 1, 10)), and sum apart the part of the day after the
  local midnight that falls in it. Each UTC day is then at most two local days: the one of
  its start and, from the cut on, the next. For zones where a UTC day is more than that
  (a change of offset at local midnight that turns the day back), utc_day_cuts says None
  and the caller takes local_day_sql.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from crmcli.values import local_tz

# Per UTC day: (local day of its start, local day from the cut on, UTC time of the cut or
# None when the whole UTC day is one local day).
Cuts = dict[date, tuple[date, date, time | None]]


def is_sqlite() -> bool:
    from crmcli.db import plans_by_statistics

    return not plans_by_statistics()


def offset_minutes(moment: datetime) -> int:
    offset = moment.astimezone(local_tz()).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def transitions(first: date, last: date) -> list[tuple[datetime, int]]:
    """The moments (UTC) from which the local offset changes, between the two days, with the
    new offset in minutes: DST twice a year. Found per day, then to the minute."""
    out: list[tuple[datetime, int]] = []
    start = datetime.combine(first - timedelta(days=1), time(), UTC)
    before = offset_minutes(start)
    for n in range((last - first).days + 3):
        moment = start + timedelta(days=n + 1)
        now = offset_minutes(moment)
        if now != before:
            lo, hi = moment - timedelta(days=1), moment  # offset(lo) = before, offset(hi) = now
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    mid = lo + timedelta(minutes=1)
                if offset_minutes(mid) == before:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, now))
            before = now
    return out


def local_day_sql(column: str, first: date, last: date) -> str:
    """SQL: the local calendar day of a stored (naive UTC) datetime `column`, exact for moments
    between the days `first` and `last` (the offset is taken from the user's zone, DST and all).
    SQLite gives 'YYYY-MM-DD' text, PostgreSQL a date."""
    start = datetime.combine(first - timedelta(days=1), time(), UTC)
    changes = transitions(first, last)
    sqlite = is_sqlite()

    def value(minutes: int) -> str:
        return f"'{minutes:+d} minutes'" if sqlite else str(minutes)

    # Each offset up to the moment the next one starts; the last one from then on.
    offsets = [offset_minutes(start), *(minutes for _, minutes in changes)]
    whens = " ".join(
        f"WHEN {column} < '{at.replace(tzinfo=None).isoformat(sep=' ')}' THEN {value(before)}"
        for (at, _), before in zip(changes, offsets, strict=False)
    )
    shift = f"CASE {whens} ELSE {value(offsets[-1])} END" if whens else value(offsets[0])
    if sqlite:
        return f"date({column}, {shift})"
    return f"CAST({column} + ({shift}) * INTERVAL '1 minute' AS DATE)"


def utc_day_sql(column: str) -> str:
    """SQL: the UTC day of a stored datetime (SQLite: the text an expression index holds)."""
    return f"substr({column}, 1, 10)" if is_sqlite() else f"CAST({column} AS DATE)"


def utc_day_cuts(first: date, last: date) -> Cuts | None:
    """Each UTC day from `first` to `last` as local days (see Cuts), with the offsets that
    local_day_sql uses; None when some UTC day there is more than two local days in a row."""
    day = timedelta(days=1)
    changes = [at for at, _ in transitions(first, last)]
    out: Cuts = {}
    for n in range((last - first).days + 1):
        utc_day = first + n * day
        start = datetime.combine(utc_day, time(), UTC)
        points = [start, *(at for at in changes if start < at < start + day), start + day]
        pieces: list[tuple[datetime, date]] = []  # (from when, which local day)
        for begin, end in zip(points, points[1:], strict=False):
            shift = timedelta(minutes=offset_minutes(begin))
            local, local_end = begin + shift, end + shift
            pieces.append((begin, local.date()))
            midnight = datetime.combine(local.date() + day, time(), UTC)
            while midnight < local_end:
                pieces.append((midnight - shift, midnight.date()))
                midnight += day
        days = [pieces[0]]
        for piece in pieces[1:]:
            if piece[1] != days[-1][1]:
                days.append(piece)
        if len(days) > 2 or (len(days) == 2 and days[1][1] < days[0][1]):
            return None
        if len(days) == 1:
            out[utc_day] = (days[0][1], days[0][1], None)
        else:
            out[utc_day] = (days[0][1], days[1][1], (days[1][0] - start + datetime.min).time())
    return out


def cut_sql(day: str, cuts: Cuts) -> str | None:
    """SQL: the time of day (UTC) of the local midnight in the UTC day of `day` (a stored
    datetime, or a UTC day as utc_day_sql gives it), NULL on days without one (see
    utc_day_cuts): a CASE over runs of days with the same cut. None when no day has one."""
    if all(cut is None for _, _, cut in cuts.values()):
        return None
    sqlite = is_sqlite()

    def literal(cut: time | None) -> str:
        if cut is None:
            return "NULL"
        return f"'{cut.isoformat()}'" if sqlite else f"TIME '{cut.isoformat()}'"

    runs: list[tuple[date, time | None]] = []  # (first UTC day of a run, its cut)
    for utc_day in sorted(cuts):
        cut = cuts[utc_day][2]
        if not runs or runs[-1][1] != cut:
            runs.append((utc_day, cut))
    whens = " ".join(
        f"WHEN {day} < '{following.isoformat()}' THEN {literal(cut)}"
        for (_, cut), (following, _) in zip(runs, runs[1:], strict=False)
    )
    return f"CASE {whens} ELSE {literal(runs[-1][1])} END" if whens else literal(runs[0][1])
