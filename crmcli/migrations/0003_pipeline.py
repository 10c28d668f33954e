"""The sales pipeline: stages, deals, each deal's stage history, and deal links on the timeline.

Model shapes are frozen here; see 0001 for why. A new database gets a default sales process.
"""

from datetime import UTC, datetime

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    SqliteDatabase,
    TextField,
)

# (name, probability %, won, lost): the default process, in order.
DEFAULT_STAGES = (
    ("Lead", 10, False, False),
    ("Qualifiziert", 25, False, False),
    ("Angebot", 50, False, False),
    ("Verhandlung", 75, False, False),
    ("Gewonnen", 100, True, False),
    ("Verloren", 0, False, True),
)


class _NeverReusedId(AutoField):
    """On SQLite a deleted row's id goes to the next insert unless the key says AUTOINCREMENT;
    scripts name deals by id, so a new deal must not inherit a deleted one's."""

    def ddl(self, ctx):
        ddl = super().ddl(ctx)
        if isinstance(self.model._meta.database, SqliteDatabase):
            return NodeList((ddl, SQL("AUTOINCREMENT")))
        return ddl


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def _deal_link(deal, *, index: bool):
    return ForeignKeyField(deal, field=deal.id, null=True, on_delete="SET NULL", index=index)


def up(migrator, db):
    class Base(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)

        class Meta:
            database = db
            legacy_table_names = False

    class Contact(Base):
        pass

    class Company(Base):
        pass

    class Stage(Base):
        name = TextField()
        name_fold = TextField(unique=True)
        position = IntegerField(index=True)
        probability = IntegerField()
        is_won = BooleanField(default=False)
        is_lost = BooleanField(default=False)

    class Deal(Base):
        id = _NeverReusedId()
        title = TextField()
        name_key = TextField(index=True)
        contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
        company = ForeignKeyField(Company, null=True, on_delete="SET NULL")
        amount_cents = BigIntegerField(default=0)
        currency = CharField(max_length=3, default="EUR")
        stage = ForeignKeyField(Stage, index=False)  # indexed with id and expected_close below
        expected_close = DateField(null=True)
        owner = TextField(null=True)
        source = TextField(null=True)
        lost_reason = TextField(null=True)
        closed_at = DateTimeField(null=True)

        class Meta:
            indexes = (
                # a stage's page of deals, newest first (crm list deals --stage X)
                (("stage", "id"), False),
                # open value by stage and close month (report pipeline)
                (("stage", "expected_close"), False),
                # won and lost by period (report sales)
                (("closed_at",), False),
            )

    class DealStageChange(Model):
        deal = ForeignKeyField(Deal, on_delete="CASCADE", index=False)  # see indexes
        from_stage = ForeignKeyField(Stage, null=True)
        to_stage = ForeignKeyField(Stage)
        changed_at = DateTimeField()
        changed_by = TextField(null=True)
        # Written when the deal takes its next step (services.deals): the stay that step ended.
        left_at = DateTimeField(null=True)
        stay_seconds = BigIntegerField(null=True)
        currency = CharField(max_length=3, default="EUR")  # the deal's, for the stays index

        class Meta:
            database = db
            legacy_table_names = False
            indexes = (
                # a deal's history in order
                (("deal", "changed_at"), False),
                # the median stay of a stage: a short walk from a bucket's start (report funnel)
                (("to_stage", "currency", "stay_seconds"), False),
            )

    class PipelineTally(Model):
        """The funnel's counters, kept in the transaction of every change (services.tallies)."""

        kind = CharField(max_length=8)
        currency = CharField(max_length=3)
        stage_id = IntegerField()
        sub = IntegerField()
        label = TextField()
        deals = BigIntegerField()
        cents = BigIntegerField()

        class Meta:
            database = db
            legacy_table_names = False
            indexes = ((("kind", "currency", "stage_id", "sub", "label"), True),)

    db.create_tables([Stage, Deal, DealStageChange, PipelineTally])
    now = _now()
    Stage.insert_many(
        [
            dict(
                name=name,
                name_fold=name.casefold(),
                position=i,
                probability=p,
                is_won=won,
                is_lost=lost,
                created_at=now,
                updated_at=now,
            )
            for i, (name, p, won, lost) in enumerate(DEFAULT_STAGES, start=1)
        ]  # fmt: skip
    ).execute()

    migrator.migrate(
        # A deal's timeline newest first; the task column gets the FK's own index.
        migrator.add_column("activity", "deal_id", _deal_link(Deal, index=False)),
        migrator.add_index("activity", ("deal_id", "occurred_at"), False),
        migrator.add_column("task", "deal_id", _deal_link(Deal, index=True)),
    )
