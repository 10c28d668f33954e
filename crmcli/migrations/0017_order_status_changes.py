"""When an order's status changed: the dated history a VAT return's corrections need.

- order_status_change: per order each change of its status (from, to, when). A filed VAT
  period stays as it was: an order returned or cancelled later is corrected, negatively, in
  the period of the change (§ 17 UStG), which needs the change's time. Indexed by order
  (an order's history) and by time (a period's corrections).

Existing data: orders changed before this version have no recorded change; they stay what
they were to the VAT report (a cancelled or returned order counts in no period).

Model shapes are frozen here (see 0001).
"""

from peewee import CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    class SalesOrder(Model):
        class Meta:
            database = db
            table_name = "sales_order"

    class OrderStatusChange(Model):
        order = ForeignKeyField(SalesOrder, on_delete="CASCADE", index=False)
        at = DateTimeField()
        old_status = CharField(max_length=10)
        new_status = CharField(max_length=10)

        class Meta:
            database = db
            table_name = "order_status_change"
            indexes = ((("order", "at"), False), (("at",), False))

    db.create_tables([OrderStatusChange], safe=False)
