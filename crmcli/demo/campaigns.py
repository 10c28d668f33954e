"""The demo's marketing: campaigns with keywords and monthly costs over the demo's two years,
and the contacts, deals and orders they brought: contacts by their lead source (Google Ads
people came through the search campaign and one of its keywords), their deals and orders
after them, and the shop's discount orders through the mailing that carried the code."""

from __future__ import annotations

from datetime import date, timedelta

from crmcli.demo.state import HISTORY_DAYS, Demo
from crmcli.models import Campaign, CampaignCost, CampaignKeyword, database_proxy
from crmcli.values import fold, local_tz

# (name, channel, keywords with weights, monthly cost in cents or None, months of one-off
# costs with their cents, the contact source it brought and the share of those contacts)
CAMPAIGNS = (
    ("Google Ads Kaffee", "search ads",
     (("kaffee online kaufen", 5), ("espresso bohnen", 3), ("siebträgermaschine", 2),
      ("kaffee abo", 2)), 48_000, (), "Google Ads", 1.0),
    ("LinkedIn B2B", "social", (("bürokaffee", 3), ("kaffee für firmen", 2)), 25_000, (),
     "LinkedIn", 0.7),
    ("Messe Internorga", "trade fair", (), None, ((3, 420_000),), "Messe", 0.8),
    ("Newsletter Herbst", "newsletter", (), None, ((9, 15_000), (10, 15_000)), "Newsletter",
     0.5),
    ("Weihnachten", "newsletter", (), None, ((11, 30_000), (12, 45_000)), None, 0.0),
    ("Frühjahrsaktion", "print", (), None, ((3, 90_000),), None, 0.0),
    ("Gutschein-Mail", "email", (), 4_000, (), None, 0.0),
)  # fmt: skip


def _months(first: date, last: date) -> list[date]:
    out, day = [], first.replace(day=1)
    while day <= last:
        if day >= first:
            out.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def campaigns(d: Demo) -> int:
    """Campaigns, keywords and costs; then the attribution of contacts, deals and orders."""
    rng = d.rng
    today = d.now.astimezone(local_tz()).date()
    start = today - timedelta(days=HISTORY_DAYS)
    ids: dict[str, int] = {}
    keyword_ids: dict[str, list[tuple[int, int]]] = {}
    costs = []
    for name, channel, keywords, monthly, once, _, _ in CAMPAIGNS:
        cid = Campaign.insert(
            name=name, name_fold=fold(name), channel=channel, starts_on=start,
            note=None, created_at=d.now - timedelta(days=HISTORY_DAYS), updated_at=d.now,
        ).execute()  # fmt: skip
        ids[name] = cid
        keyword_ids[name] = [
            (CampaignKeyword.insert(campaign=cid, keyword=k, keyword_fold=fold(k)).execute(), w)
            for k, w in keywords
        ]
        for month in _months(start, today):
            if monthly:
                spend = round(monthly * rng.uniform(0.8, 1.2))
                shares = keyword_ids[name] or [(None, 1)]
                weight = sum(w for _, w in shares)
                for kid, w in shares:  # a search campaign's spend is per keyword
                    costs.append((cid, month, spend * w // weight, kid, "Monatsbudget"))
            for when, cents in once:
                if month.month == when:
                    costs.append((cid, month.replace(day=15), cents, None, None))
    CampaignCost.insert_many(
        [
            {
                "campaign": c,
                "spent_on": on,
                "amount_cents": cents,
                "keyword": k,
                "note": note,
                "created_at": d.now,
                "updated_at": d.now,
            }
            for c, on, cents, k, note in costs
        ]  # fmt: skip
    ).execute()
    _attribute(d, ids, keyword_ids)
    return len(CAMPAIGNS)


def _attribute(d: Demo, ids: dict[str, int], keyword_ids: dict[str, list]) -> None:
    rng = d.rng
    by_source = {source: (name, share) for name, *_, source, share in CAMPAIGNS if source}
    links: dict[tuple[int, int | None], list[int]] = {}
    for cid, contact in zip(d.contact_ids, d.contacts, strict=True):
        found = by_source.get(contact["source"])
        if found is None or rng.random() >= found[1]:
            continue
        name = found[0]
        keywords = keyword_ids[name]
        keyword = None
        if keywords and rng.random() < 0.9:
            keyword = rng.choices([k for k, _ in keywords], [w for _, w in keywords])[0]
        links.setdefault((ids[name], keyword), []).append(cid)
    db = database_proxy.obj
    mark = "?" if "sqlite" in type(db).__name__.lower() else "%s"
    for (campaign_id, keyword_id), contacts in sorted(links.items(), key=str):
        for start in range(0, len(contacts), 500):
            part = contacts[start : start + 500]
            db.execute_sql(
                f"UPDATE contact SET campaign_id = {mark}, keyword_id = {mark} "
                f"WHERE id IN ({', '.join(mark for _ in part)})",
                (campaign_id, keyword_id, *part),
            )
    for table in ("deal", "sales_order"):  # what they bought came through the same campaign
        db.execute_sql(
            f"UPDATE {table} SET campaign_id = (SELECT c.campaign_id FROM contact c WHERE "
            f"c.id = {table}.contact_id), keyword_id = (SELECT c.keyword_id FROM contact c "
            f"WHERE c.id = {table}.contact_id) WHERE contact_id IS NOT NULL"
        )
    coded: dict[int, list[int]] = {}
    for order_id, name in d.order_campaigns:
        if name:
            coded.setdefault(ids[name], []).append(order_id)
    for campaign_id, orders in sorted(coded.items()):
        for start in range(0, len(orders), 500):
            part = orders[start : start + 500]
            db.execute_sql(
                f"UPDATE sales_order SET campaign_id = {mark}, keyword_id = NULL "
                f"WHERE id IN ({', '.join(mark for _ in part)})",
                (campaign_id, *part),
            )
