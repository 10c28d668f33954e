"""Repair what shipped: bring a database that claims schema 3 or 4 to the exact shape that
0001-0004 make today.

Those files were edited after they had shipped, so a database made by an earlier build
says "schema 3" without what the later edits added: the stay columns and currency of
deal_stage_change, the pipeline_tally table and its index (early schema 3), AUTOINCREMENT keys
on company, contact, activity and task (schema 1 and 2 of the first builds; a reused id
would look already reminded to the reminder log), the wider FTS prefixes. From now on a
migration that shipped is never edited; this one repairs, idempotently:

- SQLite: the shape 0001-0004 make is built in memory and compared table by table. A missing
  table is created; a table whose definition differs is rebuilt from today's definition,
  keeping every row (foreign keys are off while migrations run, see db._migrate_sqlite, so
  dropping the old table cascades nothing), with AUTOINCREMENT counters set past every id
  used so far, including ids the reminder log still names; indexes are made exactly as
  today's. Tables that later migrations add are left alone.
- PostgreSQL: sequences never reuse ids; the missing columns, table and index are added
  with IF NOT EXISTS.
- Stays and funnel counters are computed from the deals' histories when their columns or
  table were missing (frozen copies of services.tallies.restay and rebuild).
"""

import re
from datetime import UTC, datetime
from pathlib import Path

from peewee import SqliteDatabase

DAY = 86400
REFERENCE_UP_TO = "0004_reminder_queues"
# Rows of the reminder log name records by id: kind of key -> table.
KEYED = {"task": "task", "open": "activity", "birthday": "contact", "cadence": "contact"}
# Values for columns an old table lacks, where NULL would not do.
FILLS = {
    ("deal_stage_change", "currency"): (
        "COALESCE((SELECT d.currency FROM deal d WHERE d.id = deal_id), 'EUR')"
    ),
}


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    repaired = _repair_sqlite(db) if sqlite else _repair_postgres(db)
    if "deal_stage_change" in repaired:
        _restay_all(db)
    if repaired & {"deal_stage_change", "pipeline_tally"}:
        _rebuild_tallies(db)


# SQLite ----------------------------------------------------------------------------------


def _reference() -> dict[str, dict]:
    """Today's shape of 0001-0004: {table: {"sql": ..., "indexes": {name: sql}}}."""
    from playhouse.migrations import Runner

    ref = SqliteDatabase(":memory:")
    ref.connect()
    Runner(ref, directory=str(Path(__file__).parent), table_name="schema_migration").up(
        target=REFERENCE_UP_TO
    )
    shape = _shape(ref)
    ref.close()
    shape.pop("schema_migration", None)
    return shape


def _shape(db) -> dict[str, dict]:
    rows = db.execute_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
    ).fetchall()
    tables = {
        name: {"sql": sql, "indexes": {}}
        for kind, name, _, sql in rows
        if kind == "table" and not _internal(name)
    }
    for kind, name, table, sql in rows:
        if kind == "index" and table in tables:
            tables[table]["indexes"][name] = sql
    return tables


def _internal(name: str) -> bool:
    # sqlite_sequence and the FTS5 index's shadow tables (search_index_data, ...).
    return name.startswith("sqlite_") or re.fullmatch(r"search_index_\w+", name) is not None


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _columns(db, table: str) -> list[str]:
    return [r[1] for r in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()]


def _repair_sqlite(db) -> set[str]:
    reference = _reference()
    actual = _shape(db)
    repaired: set[str] = set()
    for table, want in reference.items():
        have = actual.get(table)
        if have is None:
            db.execute_sql(want["sql"])
            repaired.add(table)
        elif not _same(have["sql"], want["sql"]):
            _rebuild(db, table, want["sql"])
            repaired.add(table)
        have_indexes = {} if table in repaired else have["indexes"]
        for name, sql in want["indexes"].items():
            if name in have_indexes and _same(have_indexes[name], sql):
                continue
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
            db.execute_sql(sql)
        for name in set(have_indexes) - set(want["indexes"]):
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    _seed_sequences(db)
    return repaired


def _rebuild(db, table: str, sql: str) -> None:
    """Replace `table` by one made with today's `sql`, every row kept (SQLite changes a
    column list or a key only this way)."""
    new = f"{table}__repaired"
    if table == "search_index":  # FTS5: made anew under its own name, rowids and bodies kept
        db.execute_sql(f"CREATE TEMP TABLE {new} AS SELECT rowid AS id, body FROM search_index")
        db.execute_sql("DROP TABLE search_index")
        db.execute_sql(sql)
        db.execute_sql(f"INSERT INTO search_index (rowid, body) SELECT id, body FROM temp.{new}")
        db.execute_sql(f"DROP TABLE temp.{new}")
        return
    else:
        db.execute_sql(sql.replace(f'"{table}"', f'"{new}"', 1))
        old_columns = set(_columns(db, table))
        columns, values = [], []
        for column in _columns(db, new):
            if column in old_columns:
                columns.append(f'"{column}"')
                values.append(f'"{column}"')
            elif (table, column) in FILLS:
                columns.append(f'"{column}"')
                values.append(FILLS[table, column])
        db.execute_sql(
            f'INSERT INTO "{new}" ({", ".join(columns)}) SELECT {", ".join(values)} FROM "{table}"'
        )
    db.execute_sql(f'DROP TABLE "{table}"')
    db.execute_sql(f'ALTER TABLE "{new}" RENAME TO "{table}"')


def _seed_sequences(db) -> None:
    """AUTOINCREMENT counters past every id a table ever showed: its rows, its old counter,
    and the ids the reminder log names (a record deleted after it was reminded)."""
    autoincrement = [
        name
        for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
        ).fetchall()
    ]
    used: dict[str, int] = {}
    for (key,) in db.execute_sql("SELECT key FROM reminder_log").fetchall():
        kind, _, rest = key.partition(":")
        ident = rest.split(":", 1)[0]
        if kind in KEYED and ident.isdigit():
            table = KEYED[kind]
            used[table] = max(used.get(table, 0), int(ident))
    for table in autoincrement:
        top = db.execute_sql(f'SELECT MAX(id) FROM "{table}"').fetchone()[0] or 0
        seq = db.execute_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        want = max(top, used.get(table, 0), seq[0] if seq else 0)
        if seq is None:
            db.execute_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, want))
        elif seq[0] != want:
            db.execute_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (want, table))


# PostgreSQL ------------------------------------------------------------------------------


def _repair_postgres(db) -> set[str]:
    def columns(table: str) -> set[str]:
        rows = db.execute_sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
        return {r[0] for r in rows}

    repaired: set[str] = set()
    have = columns("deal_stage_change")
    if not {"left_at", "stay_seconds", "currency"} <= have:
        db.execute_sql(
            "ALTER TABLE deal_stage_change ADD COLUMN IF NOT EXISTS left_at TIMESTAMP, "
            "ADD COLUMN IF NOT EXISTS stay_seconds BIGINT, "
            "ADD COLUMN IF NOT EXISTS currency VARCHAR(3) NOT NULL DEFAULT 'EUR'"
        )
        db.execute_sql(
            "UPDATE deal_stage_change c SET currency = d.currency FROM deal d "
            "WHERE d.id = c.deal_id AND c.currency <> d.currency"
        )
        db.execute_sql("ALTER TABLE deal_stage_change ALTER COLUMN currency DROP DEFAULT")
        repaired.add("deal_stage_change")
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "deal_stage_change_to_stage_id_currency_stay_seconds" '
        'ON "deal_stage_change" ("to_stage_id", "currency", "stay_seconds")'
    )
    if not columns("pipeline_tally"):
        db.execute_sql(
            'CREATE TABLE IF NOT EXISTS "pipeline_tally" ("id" SERIAL NOT NULL PRIMARY KEY, '
            '"kind" VARCHAR(8) NOT NULL, "currency" VARCHAR(3) NOT NULL, '
            '"stage_id" INTEGER NOT NULL, "sub" INTEGER NOT NULL, "label" TEXT NOT NULL, '
            '"deals" BIGINT NOT NULL, "cents" BIGINT NOT NULL)'
        )
        repaired.add("pipeline_tally")
    db.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "pipeline_tally_kind_currency_stage_id_sub_label" '
        'ON "pipeline_tally" ("kind", "currency", "stage_id", "sub", "label")'
    )
    return repaired


# Backfills (frozen copies of services.tallies as of this migration) ---------------------


def _unix_seconds(value) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return int(value.replace(tzinfo=UTC).timestamp())


def _restay_all(db) -> None:
    """Each step's end (the next step's time) and length, per deal in time order."""
    mark = "?" if isinstance(db, SqliteDatabase) else "%s"
    rows = db.execute_sql(
        "SELECT id, deal_id, changed_at FROM deal_stage_change ORDER BY deal_id, changed_at, id"
    ).fetchall()
    updates = []
    for (rid, deal, at), nxt in zip(rows, [*rows[1:], None], strict=False):
        if nxt is not None and nxt[1] == deal:
            updates.append((nxt[2], _unix_seconds(nxt[2]) - _unix_seconds(at), rid))
        else:
            updates.append((None, None, rid))
    sql = f"UPDATE deal_stage_change SET left_at = {mark}, stay_seconds = {mark} WHERE id = {mark}"
    for update in updates:
        db.execute_sql(sql, update)


def _rebuild_tallies(db) -> None:
    won = "CASE WHEN cs.is_won THEN 1 ELSE 0 END"
    db.execute_sql("DELETE FROM pipeline_tally")
    head = "INSERT INTO pipeline_tally (kind, currency, stage_id, sub, label, deals, cents) "
    db.execute_sql(
        head + f"SELECT 'reached', d.currency, ts.id, {won}, '', COUNT(*), "
        "SUM(d.amount_cents) FROM (SELECT c.deal_id AS deal, MAX(s.position) AS top "
        "FROM deal_stage_change c JOIN stage s ON s.id = c.to_stage_id WHERE NOT s.is_lost "
        "GROUP BY c.deal_id) t JOIN deal d ON d.id = t.deal "
        "JOIN stage ts ON ts.position = t.top AND NOT ts.is_lost "
        "JOIN stage cs ON cs.id = d.stage_id "
        f"GROUP BY d.currency, ts.id, {won}"
    )
    db.execute_sql(
        head + "SELECT 'lost', d.currency, x.stage, 0, '', COUNT(*), SUM(d.amount_cents) "
        "FROM (SELECT DISTINCT c.deal_id AS deal, c.to_stage_id AS stage "
        "FROM deal_stage_change c JOIN stage s ON s.id = c.to_stage_id WHERE s.is_lost) x "
        "JOIN deal d ON d.id = x.deal GROUP BY d.currency, x.stage"
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
