"""Recount the funnel counters under today's rule, on every database.

Counters kept before reopening was an undo (and the ones 0006 backfilled, a frozen copy of
that older rule) count a deal that was won or lost and then reopened as having reached the
won stage, or as lost, although it is open again; `crm report funnel` showed those deals.
The counters are recomputed from the deals and their histories with SQL alone: a frozen
copy of services.tallies.rebuild as of this migration (the stays on the history rows are
already right and are kept).
"""

DAY = 86400


def up(migrator, db):
    won = "CASE WHEN cs.is_won THEN 1 ELSE 0 END"
    db.execute_sql(
        "UPDATE deal_stage_change SET currency = "
        "(SELECT d.currency FROM deal d WHERE d.id = deal_stage_change.deal_id) "
        "WHERE currency <> (SELECT d.currency FROM deal d WHERE d.id = deal_stage_change.deal_id)"
    )
    db.execute_sql("DELETE FROM pipeline_tally")
    head = "INSERT INTO pipeline_tally (kind, currency, stage_id, sub, label, deals, cents) "
    # A won or lost stage counts only while the deal is in it: reopened, it was undone.
    db.execute_sql(
        head + f"SELECT 'reached', d.currency, ts.id, {won}, '', COUNT(*), "
        "SUM(d.amount_cents) FROM (SELECT c.deal_id AS deal, MAX(s.position) AS top "
        "FROM deal_stage_change c JOIN stage s ON s.id = c.to_stage_id "
        "JOIN deal cd ON cd.id = c.deal_id "
        "WHERE NOT s.is_lost AND (NOT s.is_won OR cd.stage_id = s.id) "
        "GROUP BY c.deal_id) t JOIN deal d ON d.id = t.deal "
        "JOIN stage ts ON ts.position = t.top AND NOT ts.is_lost "
        "JOIN stage cs ON cs.id = d.stage_id "
        f"GROUP BY d.currency, ts.id, {won}"
    )
    db.execute_sql(
        head + "SELECT 'lost', d.currency, d.stage_id, 0, '', COUNT(*), SUM(d.amount_cents) "
        "FROM deal d JOIN stage s ON s.id = d.stage_id WHERE s.is_lost "
        "GROUP BY d.currency, d.stage_id"
    )
    db.execute_sql(
        head + "SELECT 'reason', d.currency, 0, 0, COALESCE(d.lost_reason, ''), COUNT(*), "
        "SUM(d.amount_cents) FROM deal d JOIN stage s ON s.id = d.stage_id WHERE s.is_lost "
        "GROUP BY d.currency, COALESCE(d.lost_reason, '')"
    )
    db.execute_sql(
        head + f"SELECT 'stay', currency, to_stage_id, stay_seconds / {DAY}, '', COUNT(*), "
        "SUM(stay_seconds) FROM deal_stage_change WHERE stay_seconds IS NOT NULL "
        f"GROUP BY currency, to_stage_id, stay_seconds / {DAY}"
    )
