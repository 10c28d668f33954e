"""Returns about an order, costs and margin, commissions.

- activity.order_id: the order a return (or another activity) is about; SET NULL when the
  order goes. Partial index where set, so an order's returns are found at once.
- product.cost_cents: the net purchase price (NULL: unknown).
- sales_order.cost_cents: what an order cost besides its goods (shipping...), default 0.
- order_line.cost_cents: the line's purchase cost when it was ordered (NULL: unknown);
  existing lines take their product's cost, which is NULL for every product so far.
- commission: per owner and basis (deals or orders) a rate in basis points valid from a day.
- sales_order (contact_id, ordered_at, status, net_cents): covers what the customer value
  reports read of every order (RFM, the purchase histories of CLV and next purchases), so
  they group 1,000,000 orders by customer along one index instead of looking up each row.

Model shapes are frozen here (see 0001).
"""

from datetime import UTC, datetime

from peewee import (
    SQL,
    BigIntegerField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def up(migrator, db):
    class SalesOrder(Model):
        class Meta:
            database = db
            table_name = "sales_order"

    class Commission(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)
        owner = TextField()
        owner_key = TextField()
        basis = CharField(max_length=8)
        rate_bp = IntegerField()
        valid_from = DateField()

        class Meta:
            database = db
            table_name = "commission"
            indexes = ((("owner_key", "basis", "valid_from"), True),)

    order = ForeignKeyField(
        SalesOrder, null=True, on_delete="SET NULL", field=SalesOrder.id, index=False
    )
    migrator.migrate(
        migrator.add_column("activity", "order_id", order),
        migrator.add_column("product", "cost_cents", BigIntegerField(null=True)),
        migrator.add_column("sales_order", "cost_cents", BigIntegerField(default=0)),
        migrator.add_column("order_line", "cost_cents", BigIntegerField(null=True)),
        migrator.add_index("activity", ("order_id",), where=SQL("order_id IS NOT NULL")),
        migrator.add_index("sales_order", ("contact_id", "ordered_at", "status", "net_cents")),
    )
    db.create_tables([Commission], safe=False)
