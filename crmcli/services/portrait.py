"""Who the customers are: how many and how much they bought, by city, industry (of their
company), lead source, age band (from birthdays) and company size (people recorded there).
Revenue is the net of their purchase orders (PURCHASE_STATUSES), of all time."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from peewee import JOIN, fn

from crmcli.errors import Invalid
from crmcli.models import CONTACT_STATUSES, PURCHASE_STATUSES, Company, Contact, SalesOrder
from crmcli.values import NO_YEAR

AGE_BANDS = ((0, "under 25"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"),
             (65, "65+"))  # fmt: skip
SIZE_BANDS = ((1, "1"), (2, "2-9"), (10, "10-49"), (50, "50+"))
DIMENSIONS = ("city", "industry", "source", "age", "company_size")


def _band(value: int | None, bands) -> str | None:
    if value is None:
        return None
    found = None
    for start, name in bands:
        if value >= start:
            found = name
    return found


def age_on(birthday: date | None, today: date) -> int | None:
    """Whole years on `today`; None without a birthday or with one stored without a year."""
    if birthday is None or birthday.year == NO_YEAR:  # a day and month only
        return None
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def portrait(*, today: date, status: str | None = "customer") -> dict:
    """Per dimension: groups with their contacts, buyers and net revenue, largest first."""
    if status is not None and status not in CONTACT_STATUSES:
        raise Invalid("status", f"'{status}' is not one of {', '.join(CONTACT_STATUSES)}")
    sizes = dict(
        Contact.select(Contact.company, fn.COUNT(Contact.id))
        .where(Contact.company.is_null(False))
        .group_by(Contact.company)
        .tuples()
    )
    spent = dict(
        SalesOrder.select(SalesOrder.contact, fn.SUM(SalesOrder.net_cents))
        .where(SalesOrder.status.in_(PURCHASE_STATUSES) & SalesOrder.contact.is_null(False))
        .group_by(SalesOrder.contact)
        .tuples()
    )
    query = Contact.select(
        Contact.id, Contact.city, Company.industry, Contact.source, Contact.birthday,
        Contact.company,
    ).join(Company, JOIN.LEFT_OUTER, on=(Contact.company == Company.id))  # fmt: skip
    if status is not None:
        query = query.where(Contact.status == status)
    groups: dict[str, dict] = {d: defaultdict(lambda: [0, 0, 0]) for d in DIMENSIONS}
    total = [0, 0, 0]
    for cid, city, industry, source, birthday, company in query.tuples():
        if isinstance(birthday, str):
            birthday = date.fromisoformat(birthday)
        cents = int(spent.get(cid, 0))
        keys = {
            "city": city, "industry": industry, "source": source,
            "age": _band(age_on(birthday, today), AGE_BANDS),
            "company_size": _band(sizes.get(company), SIZE_BANDS),
        }  # fmt: skip
        for target in [*(groups[d][k] for d, k in keys.items()), total]:
            target[0] += 1
            target[1] += cid in spent
            target[2] += cents
    out: dict = {"status": status, "contacts": total[0], "buyers": total[1],
                 "revenue": Decimal(total[2]).scaleb(-2)}  # fmt: skip
    for dimension in DIMENSIONS:
        rows = [
            {"group": name, "contacts": n, "buyers": buyers,
             "revenue": Decimal(cents).scaleb(-2)}
            for name, (n, buyers, cents) in groups[dimension].items()
        ]  # fmt: skip
        out[dimension] = sorted(
            rows, key=lambda r: (-r["contacts"], -r["revenue"], str(r["group"]))
        )
    return out
