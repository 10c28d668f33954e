"""Campaigns and what brought a contact, a deal or an order.

- campaign: name (unique through name_fold, case- and accent-insensitive), channel, period
  (starts_on, ends_on), note.
- campaign_keyword: a campaign's keywords (search terms, utm_term), unique per campaign by
  their fold.
- campaign_cost: a campaign's cost entries: day, amount in cents, optionally a keyword's, note.
- contact, deal and sales_order get campaign_id and keyword_id (SET NULL when the campaign
  or keyword goes), with partial indexes where set: the ROI report reads only attributed rows.
- sales_order.campaign (free text since 0010) becomes the reference: each distinct name
  becomes a campaign (channel "other"; names equal but for case or accents are one), every
  order keeps its campaign, and the text column goes.

Model shapes are frozen here (see 0001).
"""

from datetime import UTC, datetime

from peewee import (
    SQL,
    BigIntegerField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    Model,
    TextField,
)

from crmcli.values import fold


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def up(migrator, db):
    class Campaign(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)
        name = TextField()
        name_fold = TextField(unique=True)
        channel = TextField(default="other")
        starts_on = DateField(null=True)
        ends_on = DateField(null=True)
        note = TextField(null=True)

        class Meta:
            database = db
            table_name = "campaign"

    class CampaignKeyword(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE", index=False)
        keyword = TextField()
        keyword_fold = TextField()

        class Meta:
            database = db
            table_name = "campaign_keyword"
            indexes = ((("campaign", "keyword_fold"), True),)

    class CampaignCost(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE", index=False)
        spent_on = DateField()
        amount_cents = BigIntegerField()
        keyword = ForeignKeyField(CampaignKeyword, null=True, on_delete="SET NULL")
        note = TextField(null=True)

        class Meta:
            database = db
            table_name = "campaign_cost"
            indexes = ((("campaign", "spent_on"), False),)

    db.create_tables([Campaign, CampaignKeyword, CampaignCost], safe=False)

    def link(model):
        return ForeignKeyField(model, field=model.id, null=True, on_delete="SET NULL", index=False)

    steps = []
    for table in ("contact", "deal", "sales_order"):
        steps += [
            migrator.add_column(table, "campaign_id", link(Campaign)),
            migrator.add_column(table, "keyword_id", link(CampaignKeyword)),
        ]
    migrator.migrate(*steps)

    mark = "?" if "sqlite" in type(db).__name__.lower() else "%s"
    spellings = db.execute_sql(
        "SELECT campaign, COUNT(*), MIN(id) FROM sales_order WHERE campaign IS NOT NULL "
        "GROUP BY campaign"
    ).fetchall()
    # One campaign per folded name, named as most of its orders spell it (ties: the first).
    best: dict[str, tuple] = {}
    for text, count, first in spellings:
        shown = " ".join(text.split())
        if shown:
            key = fold(shown)
            if key not in best or (-count, first) < (-best[key][1], best[key][2]):
                best[key] = (shown, count, first)
    made: dict[str, int] = {}
    now = _now()
    for key, (shown, _, _) in sorted(best.items()):
        made[key] = Campaign.insert(
            name=shown, name_fold=key, channel="other", created_at=now, updated_at=now
        ).execute()
    for text, _, _ in spellings:
        key = fold(" ".join(text.split()))
        if key in made:
            db.execute_sql(
                f"UPDATE sales_order SET campaign_id = {mark} WHERE campaign = {mark}",
                (made[key], text),
            )

    migrator.migrate(
        migrator.drop_column("sales_order", "campaign"),
        # The ROI report groups attributed rows by campaign and day; deleting a campaign or
        # keyword finds the rows to unlink by these too.
        # Covering: the report's leads and revenue are read from the index alone.
        migrator.add_index(
            "contact",
            ("campaign_id", "keyword_id", "created_at"),
            False,
            where=SQL("campaign_id IS NOT NULL"),
        ),  # fmt: skip
        migrator.add_index(
            "deal", ("campaign_id", "closed_at"), False, where=SQL("campaign_id IS NOT NULL")
        ),
        migrator.add_index(
            "sales_order",
            ("campaign_id", "keyword_id", "ordered_at", "status", "currency", "net_cents"),
            False,
            where=SQL("campaign_id IS NOT NULL"),
        ),  # fmt: skip
        *(
            migrator.add_index(table, ("keyword_id",), False, where=SQL("keyword_id IS NOT NULL"))
            for table in ("contact", "deal", "sales_order")
        ),
    )
