"""PostgreSQL at scale (issue 20): migration 0011's trigram indexes for a REF by part of a name
(and what a role that may not enable pg_trgm is told), search's newest-matches-per-kind path
(the same results as one query over all matches), and one query to open a database."""

from __future__ import annotations

import pytest

from crmcli import db as dbmod


def test_sqlite_upgrade_to_11_makes_nothing(db, db_backend):
    if db_backend != "sqlite":
        pytest.skip("SQLite's side")
    assert dbmod.schema_version(db) == dbmod.SCHEMA_VERSION
    assert dbmod.missing_trigram_indexes(db) == []
    names = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master").fetchall()}
    assert not any(n.endswith("_trgm") for n in names)


def test_postgres_gets_the_trigram_indexes_and_ref_lookups_use_them(pg_migrated_url):
    from crmcli.services import contacts

    database = dbmod.open_database(pg_migrated_url)
    assert dbmod.missing_trigram_indexes(database) == []
    contacts.add_contact("Jürgen Müller", email="jm@mueller-bau.de")
    contacts.add_contact("Anna Schmidt")
    assert contacts.resolve_contact("mueller") == contacts.resolve_contact("jürgen")
    with database.atomic():
        database.execute_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in database.execute_sql(
                "EXPLAIN SELECT id FROM contact WHERE name_key ILIKE %s", ("%muell%",)
            ).fetchall()
        )
    assert "contact_name_key_trgm" in plan
    database.close()


def test_a_role_that_may_not_enable_pg_trgm_gets_a_warning_and_a_working_database(
    pg_url, monkeypatch
):
    """Simulated refusal (the test role owns its database, so it may enable pg_trgm)."""
    from peewee import PostgresqlDatabase, ProgrammingError

    real = PostgresqlDatabase.execute_sql

    def refusing(self, sql, params=None, *args, **kwargs):
        if sql.startswith("CREATE EXTENSION"):
            raise ProgrammingError('permission denied to create extension "pg_trgm"')
        return real(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(PostgresqlDatabase, "execute_sql", refusing)
    monkeypatch.setattr(dbmod, "_trigram_schema", lambda db: None)
    from typer.testing import CliRunner

    from crmcli.cli import app

    runner = CliRunner()
    added = runner.invoke(app, ["--db", pg_url, "add", "contact", "Jürgen Müller"])
    assert added.exit_code == 0, added.stderr
    warnings = [line for line in added.stderr.splitlines() if "pg_trgm" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("crm: warning: ")
    assert "CREATE EXTENSION pg_trgm;" in warnings[0]
    shown = runner.invoke(app, ["--db", pg_url, "show", "mueller"])
    assert shown.exit_code == 0 and "Jürgen Müller" in shown.stdout
    assert "pg_trgm" not in shown.stderr  # said once, by the upgrade
    checked = runner.invoke(app, ["--db", pg_url, "db", "check"])
    assert checked.exit_code == 1
    assert "trigram indexes missing (contact_name_key_trgm" in checked.stdout
    assert "CREATE EXTENSION pg_trgm;" in checked.stdout
    monkeypatch.undo()  # the owner has enabled it now: --repair makes the indexes
    repaired = runner.invoke(app, ["--db", pg_url, "db", "check", "--repair"])
    assert repaired.exit_code == 0, repaired.stdout + repaired.stderr
    assert "Made the trigram indexes" in repaired.stderr + repaired.stdout
    assert runner.invoke(app, ["--db", pg_url, "db", "check"]).exit_code == 0


def test_opening_an_up_to_date_postgres_database_is_one_query(pg_migrated_url, monkeypatch):
    """Every crm command pays for it: the schema check is one round trip after the login."""
    from peewee import PostgresqlDatabase

    statements: list[str] = []
    real = PostgresqlDatabase.execute_sql

    def counting(self, sql, params=None, *args, **kwargs):
        statements.append(sql)
        return real(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(PostgresqlDatabase, "execute_sql", counting)
    database = dbmod.open_database(pg_migrated_url)
    assert statements == ['SELECT name FROM "schema_migration"']
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    database.close()


def _newest_in_one_query(database, query: str, kinds=()) -> list[int]:
    """What search found before issue 20: the newest CANDIDATES matches, ranked (one query
    that PostgreSQL plans badly at scale, but whose answer is the one to give)."""
    from crmcli.services import search

    tsquery = " & ".join(
        "(" + " <-> ".join(w if exact else f"{w}:*" for w, exact in group) + ")"
        for group in search._query_groups(query)
    )
    where = "tsv @@ to_tsquery('simple', %s)"
    if kinds:
        where += f" AND mod(rowid, 8) IN ({', '.join(str(search.KIND_CODES[k]) for k in kinds)})"
    sql = (
        f"SELECT rowid FROM (SELECT rowid, tsv FROM search_index WHERE {where} "
        f"ORDER BY rowid DESC LIMIT {search.CANDIDATES}) AS hits "
        "ORDER BY ts_rank(tsv, to_tsquery('simple', %s), 1) DESC, rowid"
    )
    return [r for (r,) in database.execute_sql(sql, (tsquery, tsquery)).fetchall()]


def test_postgres_search_probes_walks_and_looks_up_like_one_query(pg_migrated_url, monkeypatch):
    """Small PROBE, WALK and CANDIDATES make every path run on a few rows: dense fragments
    (walked), rare ones (through the kind's GIN index), kinds without any match."""
    from crmcli.services import activities, companies, contacts, search

    database = dbmod.open_database(pg_migrated_url)
    made = []
    for i in range(90):
        name = ["Jürgen Müller", "Anna Schmidt", "Bernd Weiß"][i % 3] + f" {i}"
        firm = "Müller Bau GmbH" if i % 30 == 0 else None
        made.append(contacts.add_contact(name, company=firm)["id"])
        if i % 2:
            activities.log_activity("call", contact_id=made[-1], body=f"Angebot besprochen {i}")
    companies.add_company("Zyxel Handel KG")
    for _ in range(6):  # the newest activities lack `angebot`, which older ones are full of
        activities.log_activity("call", contact_id=made[0], body="Rückruf")
    monkeypatch.setattr(search, "PROBE", 4)
    monkeypatch.setattr(search, "LOOKUP", 6)
    monkeypatch.setattr(search, "WALK", 12)
    monkeypatch.setattr(search, "CANDIDATES", 10)
    queries = (
        "mue",
        "müller",
        "schmi",
        "an",
        "angebot",
        "gmbh",
        "zyx",
        "bes",
        "jurgen 8",
        "nichts",
    )
    for query in queries:
        for kinds in ((), ("contact",), ("activity", "company")):
            want = _newest_in_one_query(database, query, kinds)
            got = search._hit_rowids(query, limit=10, offset=0, kinds=kinds)
            assert got == want, (query, kinds)
    assert [h["name"] for h in search.search("zyx")] == ["Zyxel Handel KG"]
    # Its steps run without parallel workers (their start costs more than any step); a
    # search inside the caller's transaction leaves the caller's settings as they were.
    seen = []
    real = type(database).execute_sql

    def watching(self, sql, params=None, *args, **kwargs):
        if sql.startswith("SELECT rowid FROM search_index WHERE mod(rowid"):
            setting = "SELECT current_setting('max_parallel_workers_per_gather')"
            seen.append(real(self, setting).fetchone()[0])
        return real(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(type(database), "execute_sql", watching)
    setting = (
        "SELECT current_setting('max_parallel_workers_per_gather'), "
        "current_setting('enable_indexscan'), current_setting('enable_bitmapscan')"
    )
    with database.atomic():
        before = database.execute_sql(setting).fetchone()
        assert search._hit_rowids("angebot", limit=10, offset=0, kinds=())
        assert database.execute_sql(setting).fetchone() == before
        assert before[0] != "0"
    assert seen and set(seen) == {"0"}
    database.close()
