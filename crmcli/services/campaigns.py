"""Campaigns: a channel, a period, keywords and cost entries; and the attribution of contacts,
deals and orders to the campaign (and keyword) that brought them.

A campaign's name is unique by its fold (case and accents ignored). Keywords belong to a
campaign and are unique in it by their fold; naming a keyword a campaign does not have yet
(an attribution, a cost, an imported utm_term) adds it to the campaign. Costs are entries:
a day, an amount in cents (more than 0), optionally a keyword, a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from peewee import JOIN, fn

from crmcli.errors import Ambiguous, Candidate, Conflict, CrmError, Invalid, NotFound
from crmcli.models import (
    CAMPAIGN_CHANNELS,
    Campaign,
    CampaignCost,
    CampaignKeyword,
    Contact,
    Deal,
    SalesOrder,
    database_proxy,
    utcnow,
)
from crmcli.services import limits, refs
from crmcli.values import cents_money, fold

EDITABLE = ("name", "channel", "starts_on", "ends_on", "note")
MAX_COST_CENTS = 10**13  # 100 billion euros: more is a typo
# What people call the channels, folded, besides their own names.
_CHANNEL_WORDS = {
    "search": "search ads", "sea": "search ads", "ads": "search ads", "google ads": "search ads",
    "adwords": "search ads", "suchmaschinenwerbung": "search ads", "searchads": "search ads",
    "social media": "social", "socialmedia": "social", "messe": "trade fair",
    "tradefair": "trade fair", "fair": "trade fair", "empfehlung": "referral",
    "druck": "print", "anzeige": "print", "e-mail": "email", "mail": "email",
    "mailing": "email", "sonstiges": "other", "andere": "other", "veranstaltung": "event",
}  # fmt: skip


# utm_medium as shops and ad platforms write it -> the channel of a campaign an import creates.
_MEDIUM_CHANNELS = {  # spaces, _ and - ignored: paid_search, paid-social, e-mail
    "cpc": "search ads", "ppc": "search ads", "paidsearch": "search ads", "sem": "search ads",
    "search": "search ads", "social": "social", "paidsocial": "social", "socialmedia": "social",
    "email": "newsletter", "newsletter": "newsletter", "mail": "newsletter",
    "referral": "referral", "display": "display", "banner": "display", "affiliate": "affiliate",
    "print": "print", "radio": "radio", "tv": "tv", "event": "event",
}  # fmt: skip


def medium_channel(medium: str | None) -> str:
    """The channel of a utm_medium (`cpc`: search ads, `paid_social`: social, `email`:
    newsletter...); "other" for one it does not know."""
    key = "".join((medium or "").replace("_", " ").replace("-", " ").lower().split())
    return _MEDIUM_CHANNELS.get(key, "other")


_money = cents_money  # integer cents as a Decimal amount


def check_channel(text: str | None) -> str:
    """A channel as typed (`Search Ads`, `search-ads`, `Messe`) as one of CAMPAIGN_CHANNELS."""
    key = " ".join((text or "").replace("_", " ").replace("-", " ").lower().split())
    if not key:
        return "other"
    key = _CHANNEL_WORDS.get(key, _CHANNEL_WORDS.get(key.replace(" ", ""), key))
    if key not in CAMPAIGN_CHANNELS:
        raise Invalid("channel", f"'{text}' is not one of {', '.join(CAMPAIGN_CHANNELS)}")
    return key


def _name(text: str | None, field: str = "name") -> str:
    name = limits.check(field, " ".join((text or "").split()))
    if not name:
        raise Invalid(field, "a campaign needs a name")
    return name


def _keyword_text(text: str | None) -> str:
    keyword = limits.check("keyword", " ".join((text or "").split()))
    if not keyword:
        raise Invalid("keyword", "an empty keyword names nothing")
    return keyword


def _period(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise Invalid("until", f"the campaign ends ({ends_on}) before it starts ({starts_on})")


def find_campaign(name: str) -> int | None:
    """The id of the campaign of exactly this name (case and accents ignored), or None."""
    return Campaign.select(Campaign.id).where(Campaign.name_fold == fold(name)).scalar()


def resolve_campaign(ref: str) -> int:
    """The id of the campaign REF names: its id, its name, or a unique part of its name."""
    text = " ".join((ref or "").split())
    if not text:
        raise Invalid("campaign", "an empty campaign name names nothing")
    found = find_campaign(text)
    if found is not None:
        return found
    if refs.is_id(text):
        number = refs.parse_id(text, kind="campaign")
        if Campaign.select().where(Campaign.id == number).exists():
            return number
        raise NotFound(f"no campaign with id {number}")
    key = fold(text)
    rows = list(
        Campaign.select(Campaign.id, Campaign.name)
        .where(Campaign.name_fold.contains(key))
        .order_by(Campaign.name_fold)
        .limit(refs.MAX_CANDIDATES + 1)
        .tuples()
    )
    if not rows:
        raise NotFound(f"no campaign matches '{text}'", action="add_campaign")
    if len(rows) > 1:
        raise Ambiguous("campaign", text, [Candidate(i, n) for i, n in rows], len(rows))
    return rows[0][0]


def ensure_keywords(campaign_id: int, keywords: Iterable[str]) -> list[int]:
    """The ids of these keywords of the campaign, adding the ones it does not have yet."""
    ids = []
    for text in keywords:
        keyword = _keyword_text(text)
        key = fold(keyword)
        found = (
            CampaignKeyword.select(CampaignKeyword.id)
            .where(
                (CampaignKeyword.campaign == campaign_id) & (CampaignKeyword.keyword_fold == key)
            )
            .scalar()
        )
        if found is None:
            found = CampaignKeyword.insert(
                campaign=campaign_id, keyword=keyword, keyword_fold=key
            ).execute()
        ids.append(found)
    return ids


def _keyword_anywhere(keyword: str) -> tuple[int, int]:
    """(campaign id, keyword id) of the one campaign that has this keyword."""
    key = fold(_keyword_text(keyword))
    rows = list(
        CampaignKeyword.select(CampaignKeyword.campaign, CampaignKeyword.id, Campaign.name)
        .join(Campaign)
        .where(CampaignKeyword.keyword_fold == key)
        .limit(refs.MAX_CANDIDATES + 1)
        .tuples()
    )
    if not rows:
        raise Invalid("keyword", f"no campaign has the keyword '{keyword}'", action="name_campaign")
    if len(rows) > 1:
        names = ", ".join(r[2] for r in rows)
        raise Invalid(
            "keyword", f"'{keyword}' is a keyword of several campaigns ({names})",
            action="name_campaign",
        )  # fmt: skip
    return rows[0][0], rows[0][1]


def attribution(
    campaign: str | None,
    keyword: str | None,
    *,
    create: bool = False,
    channel: str | None = None,
    now: datetime | None = None,
) -> tuple[int | None, int | None]:
    """(campaign id, keyword id) for a campaign REF and a keyword as given ("" or None: none).
    A keyword alone names the one campaign that has it. With `create` (imports) a campaign
    name that matches nothing exactly becomes a new campaign (of `channel`); a keyword the
    campaign lacks is added to it. Call it inside the transaction that stores the
    attribution."""
    campaign = " ".join((campaign or "").split()) or None
    keyword = " ".join((keyword or "").split()) or None
    if campaign is None:
        return (None, None) if keyword is None else _keyword_anywhere(keyword)
    if create:
        campaign_id = find_campaign(campaign)
        if campaign_id is None:
            campaign_id = add_campaign(campaign, channel=channel, now=now)["id"]
    else:
        campaign_id = resolve_campaign(campaign)
    keyword_id = ensure_keywords(campaign_id, [keyword])[0] if keyword else None
    return campaign_id, keyword_id


def new_keyword(campaign: str | None, keyword: str | None) -> tuple[str, str] | None:
    """(campaign name, keyword) when giving this keyword with this campaign REF would add the
    keyword to the campaign (a typo would otherwise go unnoticed), else None (also when the
    REF names no campaign: the attribution itself says so)."""
    keyword = " ".join((keyword or "").split())
    if not keyword or not " ".join((campaign or "").split()):
        return None
    try:
        campaign_id = resolve_campaign(campaign or "")
    except CrmError:
        return None
    known = (
        CampaignKeyword.select()
        .where(
            (CampaignKeyword.campaign == campaign_id)
            & (CampaignKeyword.keyword_fold == fold(keyword))
        )
        .exists()
    )
    return None if known else (campaign_card(campaign_id)["name"], keyword)


def names_of(campaign_id: int | None, keyword_id: int | None) -> dict:
    """{"campaign": name, "keyword": keyword} of an attribution (None where unset)."""
    out: dict = {"campaign": None, "keyword": None}
    if campaign_id is not None:
        out["campaign"] = Campaign.select(Campaign.name).where(Campaign.id == campaign_id).scalar()
    if keyword_id is not None:
        out["keyword"] = (
            CampaignKeyword.select(CampaignKeyword.keyword)
            .where(CampaignKeyword.id == keyword_id)
            .scalar()
        )
    return out


def attribution_of(model, record_id: int) -> dict:
    """The campaign and keyword names a contact, deal or order carries."""
    row = model.select(model.campaign, model.keyword).where(model.id == record_id).tuples().first()
    return names_of(*row) if row else {"campaign": None, "keyword": None}


def add_campaign(
    name: str,
    *,
    channel: str | None = None,
    keywords: Iterable[str] = (),
    starts_on: date | None = None,
    ends_on: date | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Create a campaign with its keywords; a name taken (case and accents ignored) is a
    Conflict. Returns its card."""
    now = now or utcnow()
    shown = _name(name)
    _period(starts_on, ends_on)
    row = {
        "name": shown, "name_fold": fold(shown), "channel": check_channel(channel),
        "starts_on": starts_on, "ends_on": ends_on,
        "note": limits.check("note", (note or "").strip() or None),
    }  # fmt: skip
    with database_proxy.atomic():
        taken = find_campaign(shown)
        if taken is not None:
            raise Conflict(f"a campaign named '{shown}' exists already (#{taken})")
        campaign_id = Campaign.insert(created_at=now, updated_at=now, **row).execute()
        ensure_keywords(campaign_id, keywords)
    return campaign_card(campaign_id)


def edit_campaign(
    campaign_id: int,
    changes: dict,
    *,
    add_keywords: Iterable[str] = (),
    remove_keywords: Iterable[str] = (),
    now: datetime | None = None,
) -> dict:
    """Change a campaign's name, channel, period or note ("" or None clears an optional one),
    add keywords and remove keywords (attributions to a removed keyword keep the campaign)."""
    now = now or utcnow()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    add_keywords, remove_keywords = list(add_keywords), list(remove_keywords)
    with database_proxy.atomic():
        current = campaign_card(campaign_id)
        row: dict = {}
        if "name" in changes:
            shown = _name(changes["name"])
            taken = find_campaign(shown)
            if taken is not None and taken != campaign_id:
                raise Conflict(f"a campaign named '{shown}' exists already (#{taken})")
            row.update(name=shown, name_fold=fold(shown))
        if "channel" in changes:
            row["channel"] = check_channel(changes["channel"])
        for key in ("starts_on", "ends_on"):
            if key in changes:
                row[key] = changes[key] or None
        if "note" in changes:
            row["note"] = limits.check("note", (changes["note"] or "").strip() or None)
        _period(row.get("starts_on", current["starts_on"]), row.get("ends_on", current["ends_on"]))
        if not (row or add_keywords or remove_keywords):
            raise Invalid(None, "nothing to change")
        for text in remove_keywords:
            key = fold(_keyword_text(text))
            gone = (
                CampaignKeyword.delete()
                .where(
                    (CampaignKeyword.campaign == campaign_id)
                    & (CampaignKeyword.keyword_fold == key)
                )
                .execute()
            )
            if not gone:
                raise NotFound(f"campaign '{current['name']}' has no keyword '{text}'")
        ensure_keywords(campaign_id, add_keywords)
        Campaign.update(**row, updated_at=now).where(Campaign.id == campaign_id).execute()
    return campaign_card(campaign_id)


def keyword_uses(campaign_id: int, keywords: Iterable[str]) -> list[dict]:
    """What removing these keywords of the campaign touches, per keyword that has any: its
    cost entries (count, cents; they stay the campaign's, without keyword) and the contacts,
    deals and orders attributed to it (they keep the campaign). A keyword the campaign lacks
    is a NotFound."""
    name = campaign_card(campaign_id)["name"]
    out = []
    for text in keywords:
        row = (
            CampaignKeyword.select(CampaignKeyword.id, CampaignKeyword.keyword)
            .where(
                (CampaignKeyword.campaign == campaign_id)
                & (CampaignKeyword.keyword_fold == fold(_keyword_text(text)))
            )
            .tuples()
            .first()
        )
        if row is None:
            raise NotFound(f"campaign '{name}' has no keyword '{text}'")
        keyword_id, keyword = row
        costs = (
            CampaignCost.select(fn.COUNT(CampaignCost.id), fn.SUM(CampaignCost.amount_cents))
            .where(CampaignCost.keyword == keyword_id)
            .tuples()
            .first()
        )
        attributed = (("contacts", Contact), ("deals", Deal), ("orders", SalesOrder))
        uses = {
            "keyword": keyword, "costs": costs[0] or 0, "cost_cents": int(costs[1] or 0),
            **{label: model.select().where(model.keyword == keyword_id).count()
               for label, model in attributed},
        }  # fmt: skip
        if any(uses[k] for k in ("costs", "contacts", "deals", "orders")):
            out.append(uses)
    return out


def delete_campaign(campaign_id: int) -> dict:
    """Delete a campaign with its keywords and costs; contacts, deals and orders it brought
    stay, without a campaign. Returns the card it had."""
    with database_proxy.atomic():
        card = campaign_card(campaign_id)
        for model in (Contact, Deal, SalesOrder):  # one statement each, not a cascade per row
            model.update(campaign=None, keyword=None).where(model.campaign == campaign_id).execute()
        Campaign.delete().where(Campaign.id == campaign_id).execute()
    return card


def add_cost(
    campaign_id: int,
    amount_cents: int,
    *,
    spent_on: date,
    keyword: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Record a cost of a campaign on a day, optionally a keyword's (added to the campaign
    when new). Returns the entry."""
    now = now or utcnow()
    if amount_cents <= 0:
        raise Invalid("amount", "a cost is more than 0")
    if amount_cents > MAX_COST_CENTS:
        raise Invalid("amount", "a cost is at most 100.000.000.000,00 €")
    note = limits.check("note", (note or "").strip() or None)
    with database_proxy.atomic():
        campaign_card(campaign_id)
        keyword_id = ensure_keywords(campaign_id, [keyword])[0] if keyword else None
        cost_id = CampaignCost.insert(
            campaign=campaign_id, spent_on=spent_on, amount_cents=amount_cents,
            keyword=keyword_id, note=note, created_at=now, updated_at=now,
        ).execute()  # fmt: skip
    return next(c for c in costs_of(campaign_id) if c["id"] == cost_id)


def delete_cost(cost_id: int) -> dict:
    """Delete one cost entry; returns it."""
    campaign_id = CampaignCost.select(CampaignCost.campaign).where(CampaignCost.id == cost_id)
    found = campaign_id.scalar()
    if found is None:
        raise NotFound(f"no cost entry with id {cost_id}")
    entry = next(c for c in costs_of(found) if c["id"] == cost_id)
    CampaignCost.delete().where(CampaignCost.id == cost_id).execute()
    return entry


def costs_outside_period(campaign_id: int, *, cost_id: int | None = None) -> dict | None:
    """The campaign's cost entries (or the one `cost_id`) dated outside its period (a
    plausibility check, not a rule: a period gets extended): {"count", "first", "last",
    "starts_on", "ends_on"}, or None when all are inside."""
    starts_on, ends_on = (
        Campaign.select(Campaign.starts_on, Campaign.ends_on)
        .where(Campaign.id == campaign_id)
        .tuples()
        .first()
    ) or (None, None)
    outside = []
    if starts_on is not None:
        outside.append(CampaignCost.spent_on < starts_on)
    if ends_on is not None:
        outside.append(CampaignCost.spent_on > ends_on)
    if not outside:
        return None
    where = (CampaignCost.campaign == campaign_id) & (
        outside[0] if len(outside) == 1 else outside[0] | outside[1]
    )
    if cost_id is not None:
        where &= CampaignCost.id == cost_id
    count, first, last = (
        CampaignCost.select(
            fn.COUNT(CampaignCost.id), fn.MIN(CampaignCost.spent_on), fn.MAX(CampaignCost.spent_on)
        )
        .where(where)
        .tuples()
        .first()
    )
    if not count:
        return None
    return {
        "count": count, "first": first, "last": last, "starts_on": starts_on, "ends_on": ends_on,
    }  # fmt: skip


def costs_of(campaign_id: int) -> list[dict]:
    """A campaign's cost entries, oldest first."""
    rows = (
        CampaignCost.select(
            CampaignCost.id,
            CampaignCost.spent_on,
            CampaignCost.amount_cents,
            CampaignKeyword.keyword,
            CampaignCost.note,
        )  # fmt: skip
        .join(
            CampaignKeyword,
            on=(CampaignCost.keyword == CampaignKeyword.id),
            join_type=JOIN.LEFT_OUTER,
        )
        .where(CampaignCost.campaign == campaign_id)
        .order_by(CampaignCost.spent_on, CampaignCost.id)
        .tuples()
    )
    return [
        {"id": i, "spent_on": on, "amount": _money(cents), "keyword": kw, "note": note}
        for i, on, cents, kw, note in rows
    ]


def _campaign_row(values: tuple) -> dict:
    cid, name, channel, starts, ends, note, created, updated = values
    return {
        "id": cid, "name": name, "channel": channel, "starts_on": starts, "ends_on": ends,
        "note": note, "created_at": created, "updated_at": updated,
    }  # fmt: skip


_COLUMNS = (
    Campaign.id, Campaign.name, Campaign.channel, Campaign.starts_on, Campaign.ends_on,
    Campaign.note, Campaign.created_at, Campaign.updated_at,
)  # fmt: skip


def keywords_of(campaign_ids: list[int]) -> dict[int, list[str]]:
    """Each campaign's keywords in alphabetical order (one query)."""
    out: dict[int, list[str]] = {i: [] for i in campaign_ids}
    if not campaign_ids:
        return out
    rows = (
        CampaignKeyword.select(CampaignKeyword.campaign, CampaignKeyword.keyword)
        .where(CampaignKeyword.campaign.in_(campaign_ids))
        .order_by(CampaignKeyword.keyword_fold)
        .tuples()
    )
    for cid, keyword in rows:
        out[cid].append(keyword)
    return out


def campaign_card(campaign_id: int) -> dict:
    """A campaign with its keywords, cost entries and figures (see roi.figures: all time)."""
    found = Campaign.select(*_COLUMNS).where(Campaign.id == campaign_id).tuples().first()
    if found is None:
        raise NotFound(f"no campaign with id {campaign_id}")
    card = _campaign_row(found)
    card["keywords"] = keywords_of([campaign_id])[campaign_id]
    card["costs"] = costs_of(campaign_id)
    from crmcli.services import roi

    figures = roi.figures(campaign_ids=[campaign_id]).get(campaign_id) or roi.empty_figures()
    card.update(figures)
    card["by_keyword"] = [
        r for r in roi.roi_report(by="keyword", campaign_ids=[campaign_id])["groups"]
    ]
    return card


def list_campaigns(*, channel: str | None = None) -> list[dict]:
    """Every campaign (newest period first, then by name) with its keywords and all-time
    figures: cost, leads, customers, revenue, ROI (see services.roi)."""
    query = Campaign.select(*_COLUMNS)
    if channel is not None:
        query = query.where(Campaign.channel == check_channel(channel))
    query = query.order_by(Campaign.name_fold)
    rows = [_campaign_row(r) for r in query.tuples()]
    ids = [r["id"] for r in rows]
    from crmcli.services import roi

    keywords = keywords_of(ids)
    figures = roi.figures(campaign_ids=ids)
    for r in rows:
        r["keywords"] = keywords[r["id"]]
        r.update(figures.get(r["id"]) or roi.empty_figures())
    return rows


def attribution_for(
    contact_id: int | None,
    campaign: str | None,
    keyword: str | None,
    *,
    now: datetime | None = None,
) -> tuple[int | None, int | None]:
    """The attribution of a new deal or order of a contact: the campaign and keyword given,
    else the contact's own (what brought the customer brought the purchase)."""
    if (campaign or "").strip() or (keyword or "").strip() or contact_id is None:
        return attribution(campaign, keyword, now=now)
    row = (
        Contact.select(Contact.campaign, Contact.keyword)
        .where(Contact.id == contact_id)
        .tuples()
        .first()
    )
    return (row[0], row[1]) if row else (None, None)
