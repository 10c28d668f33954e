"""PostgreSQL: search walks on, newest first, for a common fragment that the newest rows lack;
SQLite: nothing.

crm_search_hits (services.search.PG_SEARCH_FUNCTION) takes two more values, FAR_WALK and
COMMON: a fragment found among the rows it walked, but too thinly to find the rest within
its walk, was looked up through the kind's GIN index a stretch of ids at a time, and such a
look-up of a prefix with millions of matches reads every one of them (`an` among 10,000,000
activities after a burst of 4,000 calls without it: 85 ms a search). Now such a fragment is
walked on. The function of migration 0019 (one argument list shorter) is dropped first.
"""

from peewee import SqliteDatabase

OLD_SIGNATURE = "crm_search_hits(text, int[], int, int, int, int, float8, int, int, boolean)"


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    from crmcli.services import search

    db.execute_sql(f"DROP FUNCTION IF EXISTS {OLD_SIGNATURE}")
    search.install_pg_search(db)
