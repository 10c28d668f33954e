"""What the ROI report sums, on the order itself, so it reads one index instead of a join.

- sales_order.source: the lead source of the order's contact (NULL without contact or
  source). `crm report roi --by source` counts an order under its contact's source of
  today; a join of every order with its contact and a sort of the result took 3.5 s at
  1,000,000 orders. Kept by triggers, whatever writes (an edit, an import, a merge, a
  delete that unlinks the orders, plain SQL): a new order and an order given another
  contact take that contact's source, a contact's new source goes to all its orders.
- sales_order.goods_cost_cents: the sum of its lines' known purchase costs (what `--margin`
  takes off besides the order's own cost_cents), kept by triggers on order_line; it was a
  sum over the lines for every order.
- SQLite: two covering indexes whose entries come in the order the report groups them, by
  campaign and keyword or by source, then by UTC day (an index on substr(ordered_at, 1, 10)),
  so the sums per group and day need no sort; they replace 0012's index on attributed
  orders (the new one leads with the same columns, for unlinking a deleted campaign).
  PostgreSQL groups with a hash and keeps its indexes.

Existing orders are filled in. Model shapes are frozen here (see 0001).
"""

from peewee import SqliteDatabase

OLD_CAMPAIGN_INDEX = "sales_order_campaign_id_keyword_id_ordered_at_status_cur_361a6e1"
SUMMED = "ordered_at, status, currency, net_cents, cost_cents, goods_cost_cents"


def _summed(row: str) -> str:
    """The order of a line (`row`: NEW or OLD) takes its lines' summed known costs again: a
    sum, not a step, so that rows written with their sum already (a restored dump) stay
    right."""
    return (
        "UPDATE sales_order SET goods_cost_cents = (SELECT COALESCE(SUM(l.cost_cents), 0) "
        f"FROM order_line l WHERE l.order_id = {row}.order_id) WHERE id = {row}.order_id;"
    )


SQLITE = (
    f"DROP INDEX IF EXISTS {OLD_CAMPAIGN_INDEX}",
    "CREATE INDEX sales_order_roi_campaign ON sales_order (campaign_id, keyword_id, "
    f"substr(ordered_at, 1, 10), {SUMMED}) WHERE campaign_id IS NOT NULL",
    "CREATE INDEX sales_order_roi_source ON sales_order (source, substr(ordered_at, 1, 10), "
    f"{SUMMED}, contact_id) WHERE contact_id IS NOT NULL",
    """CREATE TRIGGER sales_order_source_new AFTER INSERT ON sales_order
       WHEN NEW.contact_id IS NOT NULL BEGIN
         UPDATE sales_order SET source = (SELECT source FROM contact WHERE id = NEW.contact_id)
         WHERE id = NEW.id;
       END""",
    """CREATE TRIGGER sales_order_source_moved AFTER UPDATE OF contact_id ON sales_order
       WHEN NEW.contact_id IS NOT OLD.contact_id BEGIN
         UPDATE sales_order SET source = (SELECT source FROM contact WHERE id = NEW.contact_id)
         WHERE id = NEW.id;
       END""",
    """CREATE TRIGGER contact_source_orders AFTER UPDATE OF source ON contact
       WHEN NEW.source IS NOT OLD.source BEGIN
         UPDATE sales_order SET source = NEW.source WHERE contact_id = NEW.id;
       END""",
    f"""CREATE TRIGGER order_line_cost_new AFTER INSERT ON order_line
       WHEN NEW.cost_cents IS NOT NULL BEGIN {_summed("NEW")} END""",
    f"""CREATE TRIGGER order_line_cost_gone AFTER DELETE ON order_line
       WHEN OLD.cost_cents IS NOT NULL BEGIN {_summed("OLD")} END""",
    f"""CREATE TRIGGER order_line_cost_changed AFTER UPDATE OF cost_cents, order_id ON order_line
       BEGIN {_summed("OLD")} {_summed("NEW")} END""",
)

POSTGRES = (
    """CREATE OR REPLACE FUNCTION crm_order_source() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         NEW.source := (SELECT c.source FROM contact c WHERE c.id = NEW.contact_id);
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER sales_order_source BEFORE INSERT OR UPDATE OF contact_id ON sales_order
       FOR EACH ROW EXECUTE FUNCTION crm_order_source()""",
    """CREATE OR REPLACE FUNCTION crm_contact_source() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE sales_order SET source = NEW.source WHERE contact_id = NEW.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER contact_source_orders AFTER UPDATE OF source ON contact FOR EACH ROW
       WHEN (NEW.source IS DISTINCT FROM OLD.source) EXECUTE FUNCTION crm_contact_source()""",
    f"""CREATE OR REPLACE FUNCTION crm_line_cost() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' AND NEW.cost_cents IS NULL THEN RETURN NULL; END IF;
         IF TG_OP IN ('UPDATE', 'DELETE') THEN {_summed("OLD")} END IF;
         IF TG_OP IN ('UPDATE', 'INSERT') THEN {_summed("NEW")} END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER order_line_cost AFTER INSERT OR DELETE OR UPDATE OF cost_cents, order_id
       ON order_line FOR EACH ROW EXECUTE FUNCTION crm_line_cost()""",
)


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    db.execute_sql("ALTER TABLE sales_order ADD COLUMN source TEXT")
    db.execute_sql("ALTER TABLE sales_order ADD COLUMN goods_cost_cents BIGINT NOT NULL DEFAULT 0")
    db.execute_sql(
        "UPDATE sales_order SET source = (SELECT c.source FROM contact c "
        "WHERE c.id = sales_order.contact_id) WHERE contact_id IS NOT NULL"
    )
    db.execute_sql(
        "UPDATE sales_order SET goods_cost_cents = (SELECT SUM(l.cost_cents) FROM order_line l "
        "WHERE l.order_id = sales_order.id) "
        "WHERE id IN (SELECT order_id FROM order_line WHERE cost_cents IS NOT NULL)"
    )
    for statement in SQLITE if sqlite else POSTGRES:
        db.execute_sql(statement)
