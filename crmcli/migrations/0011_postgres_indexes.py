"""PostgreSQL indexes for a team's database at a million contacts; SQLite: nothing.

- Trigram GIN indexes (pg_trgm) on the folded names of contacts, companies and deals and on
  contacts' lower-cased emails, so that a REF by part of a name (`crm show mueller`,
  `name_key ILIKE '%mueller%'`) is an index look-up instead of a read of every row. The
  extension is enabled when this role may (a superuser; from PostgreSQL 13 on, pg_trgm is a
  trusted extension the database's owner may enable). When it may not, nothing fails: the
  queries work as before, reading every row, and the command says once what an admin should
  run (db.TRIGRAM_ADVICE); `crm db check` says it until `crm db check --repair` has made them.
- The search index by kind: a (kind, rowid) index and one GIN index of the words per kind in
  place of one for all, so that search finds the newest matches of each kind either by
  walking that kind's newest rows or through its own GIN index (services.search._pg_newest),
  never by walking millions of activities to find companies.
"""

from peewee import SqliteDatabase

from crmcli import db as database

SEARCH_KINDS = (1, 2, 3, 4)  # contact, company, activity, deal (rowid % 8)


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS search_index_kind ON search_index (mod(rowid, 8), rowid)"
    )
    for code in SEARCH_KINDS:
        db.execute_sql(
            f"CREATE INDEX IF NOT EXISTS search_index_tsv_{code} ON search_index "
            f"USING gin (tsv) WHERE mod(rowid, 8) = {code}"
        )
    db.execute_sql("DROP INDEX IF EXISTS search_index_tsv")
    db.execute_sql("ANALYZE search_index")
    if not database.make_trigram_indexes(db):
        database.NOTICES.append(database.TRIGRAM_ADVICE)
