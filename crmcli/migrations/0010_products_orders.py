"""Products and orders: the catalogue, and what each customer bought, line by line.

- product: SKU (unique, case-insensitive through sku_key), name, category (the product
  segment), net price in cents, VAT rate in basis points (1900 = 19 %), unit, active flag.
- sales_order ("order" is an SQL keyword): a contact's order at a time, its status, channel,
  campaign, discount (basis points of the goods' value), note and external id (unique where
  set), and its totals in cents (net, VAT, gross), kept by services.orders so reports sum
  one row per order. An order outlives its contact (contact_id SET NULL): invoices are kept.
- order_line: product, quantity, unit net price and VAT rate at the time of the order, the
  line's share of the discount, and its net, VAT and gross in cents.

Model shapes are frozen here (see 0001).
"""

from datetime import UTC, datetime

from peewee import (
    SQL,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def up(migrator, db):
    class Contact(Model):
        class Meta:
            database = db
            table_name = "contact"

    class Product(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)
        sku = TextField()
        sku_key = TextField(unique=True)
        name = TextField()
        category = TextField(null=True, index=True)
        price_cents = BigIntegerField()
        vat_bp = IntegerField()
        unit = TextField(default="Stück")
        active = BooleanField(default=True)

        class Meta:
            database = db
            table_name = "product"

    class SalesOrder(Model):
        created_at = DateTimeField(default=_now, index=True)
        updated_at = DateTimeField(default=_now)
        contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL", index=False)
        ordered_at = DateTimeField()
        status = CharField(max_length=10, default="open")
        channel = TextField(null=True)
        campaign = TextField(null=True)
        discount_bp = IntegerField(default=0)
        currency = CharField(max_length=3, default="EUR")
        note = TextField(null=True)
        external_id = TextField(null=True)
        net_cents = BigIntegerField(default=0)
        vat_cents = BigIntegerField(default=0)
        gross_cents = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = "sales_order"
            indexes = ((("contact", "ordered_at"), False), (("ordered_at",), False))

    class OrderLine(Model):
        order = ForeignKeyField(SalesOrder, on_delete="CASCADE", index=False)
        position = IntegerField(default=0)
        product = ForeignKeyField(Product, null=True, on_delete="RESTRICT")
        name = TextField()
        qty = IntegerField()
        unit_price_cents = BigIntegerField()
        vat_bp = IntegerField()
        discount_cents = BigIntegerField(default=0)
        net_cents = BigIntegerField()
        vat_cents = BigIntegerField()
        gross_cents = BigIntegerField()

        class Meta:
            database = db
            table_name = "order_line"
            indexes = ((("order", "position"), False),)

    db.create_tables([Product, SalesOrder, OrderLine], safe=False)
    migrator.migrate(
        migrator.add_index(
            "sales_order", ("external_id",), unique=True, where=SQL("external_id IS NOT NULL")
        ),
    )
