"""PostgreSQL: search's GIN index per kind also holds a word per stretch of ids, and search's
steps run in the server as one function; SQLite: nothing.

- Each kind's GIN index (migration 0011's search_index_tsv_1 ... _4) is replaced by one of
  the entry's words plus `_N`, N = rowid >> 17 (a stretch of 16,384 ids of the kind): a query
  for a fragment AND a few stretches finds the newest matches of a fragment too rare among
  the newest rows to walk to, reading from the table only the matches in those stretches
  instead of every match (thousands of contacts for `weiss` at a million). The expression
  is frozen here; services.search.RECENT_WORDS queries by the same one. No extension is
  needed. Building the indexes reads the whole search index (minutes at ten million rows).
- crm_search_hits (services.search.PG_SEARCH_FUNCTION): the probe, walk and look-ups of
  every kind and the ranking in one statement instead of a dozen round trips and more.
"""

from peewee import SqliteDatabase

SEARCH_KINDS = (1, 2, 3, 4)  # contact, company, activity, deal (rowid % 8)
WORDS = "(tsv || array_to_tsvector(ARRAY['_' || (rowid >> 17)::text]))"


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    from crmcli.services import search

    for code in SEARCH_KINDS:
        db.execute_sql(
            f"CREATE INDEX IF NOT EXISTS search_index_words_{code} ON search_index "
            f"USING gin ({WORDS}) WHERE mod(rowid, 8) = {code}"
        )
        db.execute_sql(f"DROP INDEX IF EXISTS search_index_tsv_{code}")
    search.install_pg_search(db)
    db.execute_sql("ANALYZE search_index")
