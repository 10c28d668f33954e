"""RFM: recency, frequency and monetary scores (quintiles, 1-5) and named segments.

Scores: customers are ranked by each measure; a customer's score is 1 + 5 × (how many
customers have a lower value, plus half of those with the same value) ÷ (how many customers
there are), rounded down: each score holds about a fifth, and ties share the score of the
middle of their group (customers who all look alike are 3s, not 1s and "Lost"). Recency
ranks the most recent purchase highest.
Frequency counts purchase orders, monetary sums their net value (PURCHASE_STATUSES).

Segments come from the R and F scores through rules that are data: (R scores, F scores,
segment), first match wins, covering every one of the 25 pairs. SEGMENT_RULES is the usual
mapping; a CSV file with the columns r,f,segment replaces it (read_rules).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from peewee import fn

from crmcli.errors import Invalid
from crmcli.models import (
    PURCHASE_STATUSES,
    Contact,
    ContactTag,
    SalesOrder,
    Tag,
    UTCDateTimeField,
    database_proxy,
    utcnow,
)
from crmcli.values import at_local, fold

TAG_PREFIX = "rfm:"
SEGMENT_RULES: tuple[tuple[str, str, str], ...] = (
    ("5", "4-5", "Champions"),
    ("3-4", "4-5", "Loyal"),
    ("4-5", "2-3", "Potential loyalist"),
    ("5", "1", "New"),
    ("4", "1", "Promising"),
    ("3", "3", "Need attention"),
    ("3", "1-2", "About to sleep"),
    ("1-2", "5", "Can't lose"),
    ("1-2", "3-4", "At risk"),
    ("1", "1", "Lost"),
    ("1-2", "1-2", "Hibernating"),
)
_TIME = UTCDateTimeField().python_value


def _scores(text: str, where: str) -> range:
    lo, _, hi = text.strip().partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        raise Invalid("segments", f"{where}: '{text}' is not a score or range (1-5)") from None
    if not 1 <= first <= last <= 5:
        raise Invalid("segments", f"{where}: '{text}' is not a score or range (1-5)")
    return range(first, last + 1)


def _check_rule(r: str, f: str, segment: str, where: str) -> str:
    """The rule's segment name with its spaces tidied; Invalid saying what is wrong."""
    name = " ".join(segment.split())
    if not name:
        raise Invalid("segments", f"{where}: the segment name is missing")
    if "," in name:
        raise Invalid("segments", f"{where}: a segment name cannot hold a comma ('{name}')")
    _scores(r, where)
    _scores(f, where)
    return name


def segment_table(rules) -> dict[tuple[int, int], str]:
    """(R, F) -> segment for all 25 pairs, from rules (first match wins); Invalid when a
    pair has no rule."""
    table: dict[tuple[int, int], str] = {}
    for row, (r, f, segment) in enumerate(rules, 1):
        name = _check_rule(r, f, segment, f"rule {row}")
        for rs in _scores(r, f"rule {row}"):
            for fs in _scores(f, f"rule {row}"):
                table.setdefault((rs, fs), name)
    missing = [f"{r}{f}" for r in range(1, 6) for f in range(1, 6) if (r, f) not in table]
    if missing:
        raise Invalid("segments", f"no rule for R and F scores {', '.join(missing)}")
    return table


def read_rules(source) -> list[tuple[str, str, str]]:
    """Rules from a CSV file (a path, "-" for stdin, or a binary stream) with the columns r,
    f, segment (a header line); its encoding and delimiter (`,` or a German Excel's `;`) are
    found as imports find them. Invalid naming the file for one that is binary, unreadable or
    lacks a column."""
    from crmcli.services.csvread import file_error, open_csv

    try:
        csvfile = open_csv(source, recognise=False)
    except FileNotFoundError:
        raise file_error(str(source), "does not exist") from None
    except PermissionError:
        raise file_error(str(source), "cannot be read (permission denied)") from None
    with csvfile:
        names = [h.strip().lower() for h in csvfile.header]
        missing = [c for c in ("r", "f", "segment") if c not in names]
        if missing:
            raise file_error(
                csvfile.name,
                f"needs the columns r, f, segment (missing {', '.join(missing)}; its columns: "
                f"{', '.join(csvfile.header)})",
            )
        at = [names.index(c) for c in ("r", "f", "segment")]
        rules = []
        for line, cells in csvfile.rows():
            r, f, segment = (cells[i].strip() if i < len(cells) else "" for i in at)
            _check_rule(r, f, segment, f"line {line}")  # a file's mistakes by its line
            rules.append((r, f, segment))
        return rules


def quintiles(values: list) -> list[int]:
    """The score 1-5 of each value: 1 + 5 × (its middle rank) ÷ len, rounded down, where the
    middle rank is the values lower than it plus half of those equal to it (itself
    included). Distinct values fall a fifth in each score; equal ones share the score of the
    middle of their group, so three customers alike are 3s, not 1s, and the better of two
    is a 4, the other a 2."""
    order = sorted(values)
    lower: dict = {}
    ties: dict = {}
    for i, v in enumerate(order):
        lower.setdefault(v, i)
        ties[v] = ties.get(v, 0) + 1
    n2 = 2 * len(values)
    score = {v: 1 + 5 * (2 * lower[v] + ties[v]) // n2 for v in lower}
    return [score[v] for v in values]


def rfm(*, until: date, rules=SEGMENT_RULES) -> dict:
    """Scores and segment of every customer with a purchase up to the local day `until`,
    and the segments' sizes and revenue."""
    table = segment_table(rules)
    end = at_local(until + timedelta(days=1), datetime.min.time())
    bought = (
        SalesOrder.select(
            SalesOrder.contact.alias("contact_id"), fn.COUNT(SalesOrder.id).alias("orders"),
            fn.SUM(SalesOrder.net_cents).alias("cents"),
            fn.MAX(SalesOrder.ordered_at).alias("last"),
        )
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & (SalesOrder.ordered_at < end))
        .group_by(SalesOrder.contact)
        .alias("bought")
    )  # fmt: skip
    # Grouped first, then joined to the names: SQLite grouped the join itself by a
    # temporary b-tree (0.46 s against 0.26 s at 1,000,000 orders).
    query = Contact.select(
        bought.c.contact_id, Contact.name, bought.c.orders, bought.c.cents, bought.c.last
    ).join(bought, on=(Contact.id == bought.c.contact_id))
    # The raw rows at once (peewee's row by row conversion was half the report at 100,000
    # customers); the one datetime is converted below.
    rows = database_proxy.obj.execute_sql(*query.sql()).fetchall()
    recency = [(end - _TIME(last)).days for *_, last in rows]
    cents = [int(c) for _, _, _, c, _ in rows]  # SUM is numeric on PostgreSQL
    r_scores = quintiles([-d for d in recency])
    f_scores = quintiles([n for _, _, n, _, _ in rows])
    m_scores = quintiles(cents)
    # r, f and m as one number, the digits of the score (each is 1-5)
    codes = [r * 100 + f * 10 + m for r, f, m in zip(r_scores, f_scores, m_scores, strict=True)]
    # Best first: score, then monetary (cents / 100 exactly: the same order), then id; sorts
    # by one integer each are stable, so the last decides first (a key tuple a row cost 3x).
    ranked = sorted(range(len(rows)), key=[row[0] for row in rows].__getitem__)
    ranked.sort(key=[-c for c in cents].__getitem__)
    ranked.sort(key=[-code for code in codes].__getitem__)
    named = [table[pair] for pair in zip(r_scores, f_scores, strict=True)]
    sizes = Counter(named)
    revenue = dict.fromkeys(sizes, 0)
    for segment, amount in zip(named, cents, strict=True):
        revenue[segment] += amount
    customers = [
        {"contact_id": rows[i][0], "contact": rows[i][1], "recency_days": recency[i],
         "frequency": rows[i][2], "monetary": Decimal(cents[i]).scaleb(-2), "r": r_scores[i],
         "f": f_scores[i], "m": m_scores[i], "score": str(codes[i]), "segment": named[i]}
        for i in ranked
    ]  # fmt: skip
    order = list(dict.fromkeys(name for _, _, name in rules))
    segments = [
        {
            "segment": s,
            "customers": sizes.get(s, 0),
            "revenue": Decimal(revenue.get(s, 0)).scaleb(-2),
        }
        for s in order
    ]
    return {"until": until, "customers": customers, "segments": segments}


def apply_tags(customers: list[dict], *, now: datetime | None = None) -> dict:
    """Give each customer the tag `rfm:SEGMENT` and take other rfm: tags away from everyone,
    in one transaction; only contacts whose segment changed are touched. Returns counts."""
    from crmcli.services import cadence, tags

    now = now or utcnow()
    wanted = {c["contact_id"]: TAG_PREFIX + c["segment"] for c in customers}
    with database_proxy.atomic():
        old_tags = dict(
            Tag.select(Tag.id, Tag.name).where(Tag.name_fold.startswith(fold(TAG_PREFIX))).tuples()
        )
        had: dict[int, set[int]] = {}
        if old_tags:
            links = ContactTag.select(ContactTag.contact, ContactTag.tag).where(
                ContactTag.tag.in_(list(old_tags))
            )
            for cid, tid in links.tuples():
                had.setdefault(cid, set()).add(tid)
        names = sorted(set(wanted.values()))
        ids = dict(zip(names, tags.ensure_tags(names), strict=True))
        removed, added, touched = [], [], set()
        for cid in set(had) | set(wanted):
            keep = ids.get(wanted.get(cid, ""))
            for tid in had.get(cid, set()) - {keep}:
                removed.append((cid, tid))
                touched.add(cid)
            if keep is not None and keep not in had.get(cid, set()):
                added.append((cid, keep))
                touched.add(cid)
        for cid, tid in removed:
            ContactTag.delete().where(
                (ContactTag.contact == cid) & (ContactTag.tag == tid)
            ).execute()
        for start in range(0, len(added), 1000):
            ContactTag.insert_many(
                added[start : start + 1000], fields=[ContactTag.contact, ContactTag.tag]
            ).execute()
        changed = sorted(touched)
        for start in range(0, len(changed), 500):
            Contact.update(updated_at=now).where(
                Contact.id.in_(changed[start : start + 500])
            ).execute()
        all_ids = set(old_tags) | set(ids.values())
        if (
            changed
            and Tag.select()
            .where(Tag.id.in_(list(all_ids)) & Tag.cadence_days.is_null(False))
            .exists()
        ):
            cadence.refresh(changed)
    return {"tagged": len(wanted), "changed": len(changed), "added": len(added),
            "removed": len(removed)}  # fmt: skip
