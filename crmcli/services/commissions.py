"""Commissions: per owner a percentage of the amounts of their won deals, or of the net of
their customers' orders, valid from a day until a later rule of the same owner and basis.

- basis deals: a won deal counts on the local day it was closed, for its owner.
- basis orders: an order in PURCHASE_STATUSES counts on its local order day, for the owner
  of its contact (orders have no owner of their own).
- The rule that applies is the owner's (names compared as fold() compares them) of that
  basis with the latest valid_from on or before that day; 0 % ends a commission.
- Each deal's or order's commission is its amount × the rate, rounded half up to the cent
  (values.half_up); an owner's commission is the sum of these, so it is exact to the cent
  and every line of the detail adds up to it. Money stays in its currency.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from peewee import IntegrityError

from crmcli.errors import Conflict, Invalid
from crmcli.models import (
    COMMISSION_BASES,
    PURCHASE_STATUSES,
    Commission,
    Contact,
    Deal,
    SalesOrder,
    Stage,
    database_proxy,
    utcnow,
)
from crmcli.services import limits
from crmcli.values import at_local, cents_money, fold, half_up, local_tz

MAX_RATE_BP = 10_000


_money = cents_money  # integer cents as a Decimal amount


def _basis(text: str) -> str:
    basis = text.strip().lower()
    if basis not in COMMISSION_BASES:
        raise Invalid("on", f"'{text}' is not one of {', '.join(COMMISSION_BASES)}")
    return basis


def _row(rule: tuple) -> dict:
    rid, owner, basis, bp, valid_from, created = rule
    return {
        "id": rid, "owner": owner, "basis": basis, "rate": Decimal(bp).scaleb(-2),
        "valid_from": valid_from, "created_at": created,
    }  # fmt: skip


_COLUMNS = (
    Commission.id, Commission.owner, Commission.basis, Commission.rate_bp,
    Commission.valid_from, Commission.created_at,
)  # fmt: skip


def add_commission(
    owner: str, rate_bp: int, *, basis: str, valid_from: date, now: datetime | None = None
) -> dict:
    """A commission rule: `owner` earns `rate_bp` (basis points) of `basis` from
    `valid_from` on. One rule per owner, basis and day (Conflict); an owner's rules keep the
    spelling of the first."""
    now = now or utcnow()
    name = limits.check("owner", " ".join((owner or "").split()))
    if not name:
        raise Invalid("owner", "a commission belongs to an owner (a name)")
    if not 0 <= rate_bp <= MAX_RATE_BP:
        raise Invalid("rate", "a commission is from 0 to 100 %")
    basis = _basis(basis)
    # One spelling per owner: a rule for "lukas köhler" joins Lukas Köhler's.
    name = (
        Commission.select(Commission.owner).where(Commission.owner_key == fold(name)).scalar()
        or name
    )
    try:
        with database_proxy.atomic():
            rid = Commission.insert(
                owner=name, owner_key=fold(name), basis=basis, rate_bp=rate_bp,
                valid_from=valid_from, created_at=now, updated_at=now,
            ).execute()  # fmt: skip
    except IntegrityError:
        raise Conflict(
            f"{name} has a commission on {basis} from {valid_from.isoformat()} already"
        ) from None
    found = Commission.select(*_COLUMNS).where(Commission.id == rid).tuples().first()
    return _row(found)


def list_commissions(owner: str | None = None) -> list[dict]:
    """The rules by owner, basis and day."""
    query = Commission.select(*_COLUMNS)
    if owner is not None:
        query = query.where(Commission.owner_key == fold(" ".join(owner.split())))
    query = query.order_by(Commission.owner_key, Commission.basis, Commission.valid_from)
    return [_row(r) for r in query.tuples()]


def _rules() -> dict[tuple[str, str], tuple[list[date], list[int]]]:
    """{(owner_key, basis): (valid_from days ascending, rates)}."""
    out: dict = defaultdict(lambda: ([], []))
    query = Commission.select(
        Commission.owner_key, Commission.basis, Commission.valid_from, Commission.rate_bp
    ).order_by(Commission.owner_key, Commission.basis, Commission.valid_from)
    for key, basis, day, bp in query.tuples():
        days, rates = out[(key, basis)]
        days.append(day)
        rates.append(bp)
    return dict(out)


def _rate(rules: dict, owner: str, basis: str, day: date) -> int | None:
    found = rules.get((fold(owner), basis))
    if found is None:
        return None
    at = bisect_right(found[0], day)
    return found[1][at - 1] if at else None


def commission_report(start: date, end: date) -> dict:
    """The commissions earned from `start` to before `end` (local days): per owner, basis
    and currency the count, base amount and commission, in total per currency, and each
    deal and order with its rate and commission (`items`)."""
    since, until = at_local(start, time()), at_local(end, time())
    rules = _rules()
    zone = local_tz()
    items: list[dict] = []
    deals = (
        Deal.select(Deal.id, Deal.title, Deal.owner, Deal.amount_cents, Deal.currency,
                    Deal.closed_at)
        .join(Stage, on=(Deal.stage == Stage.id))
        .where(Stage.is_won & Deal.owner.is_null(False) & (Deal.closed_at >= since)
               & (Deal.closed_at < until))
        .tuples()
    )  # fmt: skip
    for did, title, owner, cents, currency, at in deals:
        items.append({"basis": "deals", "id": did, "what": title, "owner": owner,
                      "at": at, "base_cents": cents, "currency": currency})  # fmt: skip
    orders = (
        SalesOrder.select(SalesOrder.id, Contact.name, Contact.owner, SalesOrder.net_cents,
                          SalesOrder.currency, SalesOrder.ordered_at)
        .join(Contact, on=(SalesOrder.contact == Contact.id))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & Contact.owner.is_null(False)
               & (SalesOrder.ordered_at >= since) & (SalesOrder.ordered_at < until))
        .tuples()
    )  # fmt: skip
    for oid, contact, owner, cents, currency, at in orders:
        items.append({"basis": "orders", "id": oid, "what": contact, "owner": owner,
                      "at": at, "base_cents": cents, "currency": currency})  # fmt: skip
    owners: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    shown: list[dict] = []
    names: dict[str, str] = {}
    for item in sorted(items, key=lambda i: (fold(i["owner"]), i["basis"], i["at"], i["id"])):
        bp = _rate(rules, item["owner"], item["basis"], item["at"].astimezone(zone).date())
        if not bp:
            continue
        earned = half_up(item["base_cents"] * bp, 10_000)
        owner = names.setdefault(fold(item["owner"]), item["owner"])
        key = (owner, item["basis"], item["currency"])
        owners[key][0] += 1
        owners[key][1] += item["base_cents"]
        owners[key][2] += earned
        totals[item["currency"]][0] += item["base_cents"]
        totals[item["currency"]][1] += earned
        shown.append({
            "owner": owner, "basis": item["basis"], "id": item["id"], "what": item["what"],
            "at": item["at"], "base": _money(item["base_cents"]), "rate": Decimal(bp).scaleb(-2),
            "commission": _money(earned), "currency": item["currency"],
        })  # fmt: skip
    rows = [
        {"owner": owner, "basis": basis, "currency": cur, "count": n, "base": _money(base),
         "commission": _money(earned)}
        for (owner, basis, cur), (n, base, earned) in owners.items()
    ]  # fmt: skip
    return {
        "from": start, "until": end, "rows": rows,
        "total": [
            {"currency": cur, "base": _money(b), "commission": _money(e)}
            for cur, (b, e) in sorted(totals.items())
        ],
        "items": shown,
    }  # fmt: skip
