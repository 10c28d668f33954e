"""PostgreSQL: trigram GIN indexes (pg_trgm) on the folded names of contacts, companies and
deals and on contacts' lower-cased emails, so that a REF by part of a name (`crm show
mueller`, `name_key ILIKE '%mueller%'`) is an index look-up instead of a read of every row.

The extension is enabled when this role may (a superuser; from PostgreSQL 13 on, pg_trgm is
a trusted extension the database's owner may enable). When it may not, nothing fails: the
queries work as before, reading every row, and the command says once what an admin should
run (db.TRIGRAM_ADVICE); `crm db check` keeps saying it until `crm db check --repair` has
made the indexes. SQLite: nothing to do (its REF scans are fast at any size crm is used at).
"""

from peewee import SqliteDatabase

from crmcli import db as database


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    if not database.make_trigram_indexes(db):
        database.NOTICES.append(database.TRIGRAM_ADVICE)
