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
        "ORDER BY ts_rank(tsv, to_tsquery('simple', %s), 1) DESC, rowid DESC"
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
    # A search inside the caller's transaction leaves the caller's settings as they were
    # (the function's SET clauses); its steps ran without parallel workers.
    setting = (
        "SELECT current_setting('max_parallel_workers_per_gather'), "
        "current_setting('enable_indexscan'), current_setting('enable_bitmapscan'), "
        "current_setting('enable_seqscan')"
    )
    with database.atomic():
        before = database.execute_sql(setting).fetchone()
        assert search._hit_rowids("angebot", limit=10, offset=0, kinds=())
        assert database.execute_sql(setting).fetchone() == before
        assert before[0] != "0"
    plans = _explained(database, "angebot")
    assert plans and all("max_parallel_workers_per_gather = '0'" in p for p in plans)
    database.close()


def _explained(database, query: str, kinds=()) -> list[str]:
    """The statements crm_search_hits runs for `query`, each with its EXPLAIN ANALYZE (the
    NOTICEs of its explain mode, as bench/pg_plans.py shows them)."""
    from crmcli.services import search

    conn = database.connection()
    conn.notices = []
    real = type(database).execute_sql

    def explaining(self, sql, params=None, *args, **kwargs):
        if sql.startswith("SELECT crm_search_hits("):
            sql = sql[: -len(")")] + ", true)"
        return real(self, sql, params, *args, **kwargs)

    type(database).execute_sql = explaining
    try:
        search._hit_rowids(query, limit=10, offset=0, kinds=kinds)
    finally:
        type(database).execute_sql = real
    return [n.strip().removeprefix("NOTICE:").strip() for n in conn.notices]


def test_postgres_search_stretches_of_ids_find_the_newest_matches_like_one_query(
    pg_migrated_url, monkeypatch
):
    """Entries spread over many of the GIN index's stretches (16,384 ids each): fragments
    dense among the newest (walked), sparse everywhere (stretches sized by the density seen,
    then doubled), common only in old rows (looked up, too many, then stretches), rare, and
    absent; with small knobs every path runs, and each gives the one query's answer."""
    import random

    from crmcli.services import search

    database = dbmod.open_database(pg_migrated_url)
    rng = random.Random(20)
    entries = []
    for i, cid in enumerate(sorted(rng.sample(range(1, 400_000), 3000))):
        words = ["kunde"]
        if i >= 2900 and i % 2:
            words.append("frisch")  # dense among the newest contacts only
        if rng.random() < 0.03:
            words.append("selten")  # sparse all along
        if i < 400:
            words.append("altbestand")  # common, but only among the oldest
        if i in (5, 1700, 2999):
            words.append("einzeln")
        entries.append((search.rowid("contact", cid), " ".join(words)))
    for cid in range(1, 40):  # a few companies, none of them sparse or old
        entries.append((search.rowid("company", cid), "kunde frisch firma"))
    with database.atomic():
        search.put(entries, new=True)
    database.execute_sql("ANALYZE search_index")  # as autovacuum would have by now
    monkeypatch.setattr(search, "PROBE", 20)
    monkeypatch.setattr(search, "WALK", 60)
    monkeypatch.setattr(search, "LOOKUP", 25)
    monkeypatch.setattr(search, "CANDIDATES", 40)
    for query in ("kunde", "frisch", "selten", "altbestand", "einzeln", "selt", "nirgends"):
        for kinds in ((), ("contact",), ("company", "deal")):
            want = _newest_in_one_query(database, query, kinds)
            got = search._hit_rowids(query, limit=40, offset=0, kinds=kinds)
            assert got == want, (query, kinds)
    # The stretches are GIN look-ups of the fragment AND some stretches' words, through
    # migration 0019's index of the kind.
    plans = _explained(database, "selten", ("contact",))
    stretches = [p for p in plans if "$4::tsquery" in p.splitlines()[0]]
    assert len(stretches) >= 2
    assert all("Bitmap Index Scan on search_index_words_1" in p for p in stretches)
    assert "'_" in stretches[0].splitlines()[1]  # the stretch words it asked for
    database.close()


def test_postgres_search_walks_on_for_a_common_fragment_the_newest_rows_lack(
    pg_migrated_url, monkeypatch
):
    """A fragment in nearly every row but thin among the newest (a burst of entries without
    it): found among the walked rows too thinly for the walk, it is walked on when it is
    common (the GIN index would read all its matches), looked up in stretches when it is
    not; the one query's answer either way."""
    from crmcli.services import search

    database = dbmod.open_database(pg_migrated_url)
    entries = [
        (search.rowid("contact", cid), "kunde" if cid <= 2900 or cid % 10 == 0 else "anruf")
        for cid in range(1, 3001)
    ]
    with database.atomic():
        search.put(entries, new=True)
    database.execute_sql("ANALYZE search_index")
    for name, value in (("PROBE", 20), ("WALK", 60), ("LOOKUP", 25), ("CANDIDATES", 40)):
        monkeypatch.setattr(search, name, value)
    monkeypatch.setattr(search, "FAR_WALK", 500)
    want = _newest_in_one_query(database, "kunde", ("contact",))
    for common, stretched in ((1, False), (10**9, True)):  # the estimate: common or not
        monkeypatch.setattr(search, "COMMON", common)
        assert search._hit_rowids("kunde", limit=40, offset=0, kinds=("contact",)) == want
        plans = _explained(database, "kunde", ("contact",))
        assert any("$4::tsquery" in p.splitlines()[0] for p in plans) is stretched, common
    database.close()


def test_postgres_0019_replaces_the_kind_indexes_and_keeps_what_search_finds(pg_url):
    """A database of schema 18 (migration 0011's GIN indexes per kind, no function) upgrades:
    the indexes with the stretch words replace the old ones, and search finds the same."""
    from crmcli.services import contacts, search

    database = dbmod.open_database(pg_url)
    contacts.add_contact("Bernd Weiß", email="bw@weiss.de")
    contacts.add_contact("Anna Weisshaupt")
    want = search._hit_rowids("weiss", limit=10, offset=0, kinds=())
    assert len(want) == 2
    from tests.services.test_migration_0020 import undo_0020

    undo_0020(database.execute_sql, sqlite=False)
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0021_search_walks_on'")
    for code in (1, 2, 3, 4):  # back to schema 18
        database.execute_sql(f"DROP INDEX search_index_words_{code}")
        database.execute_sql(
            f"CREATE INDEX search_index_tsv_{code} ON search_index USING gin (tsv) "
            f"WHERE mod(rowid, 8) = {code}"
        )
    database.execute_sql("DROP FUNCTION crm_search_hits")
    database.execute_sql("DROP FUNCTION crm_search_explained")
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0019_search_recent_words'")
    database.close()
    database = dbmod.open_database(pg_url)
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    names = {
        name
        for (name,) in database.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'search_index' "
            "AND schemaname = current_schema()"
        ).fetchall()
    }
    assert {f"search_index_words_{code}" for code in (1, 2, 3, 4)} <= names
    assert not any(name.startswith("search_index_tsv") for name in names)
    assert search._hit_rowids("weiss", limit=10, offset=0, kinds=()) == want
    database.close()


def test_postgres_0021_drops_the_search_function_0019_made(pg_url):
    """A database of schema 20 holds crm_search_hits with 0019's ten arguments: 0021 drops
    it (an overload left behind would be called by no one and confuse whoever reads the
    catalogue) and installs today's, and search finds the same."""
    from crmcli.services import contacts, search

    database = dbmod.open_database(pg_url)
    contacts.add_contact("Bernd Weiß", email="bw@weiss.de")
    want = search._hit_rowids("weiss", limit=10, offset=0, kinds=())
    assert len(want) == 1
    database.execute_sql("DROP FUNCTION crm_search_hits")
    database.execute_sql(  # 0019's argument list (the body does not matter to the drop)
        "CREATE FUNCTION crm_search_hits(q text, codes int[], candidates int, probe int, "
        "walk int, lookup int, margin float8, lim int, skip int, explain boolean DEFAULT false) "
        "RETURNS SETOF bigint LANGUAGE sql AS 'SELECT 1::bigint'"
    )
    database.execute_sql("DELETE FROM schema_migration WHERE name = '0021_search_walks_on'")
    database.close()
    database = dbmod.open_database(pg_url)
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION
    (count,) = database.execute_sql(
        "SELECT count(*) FROM pg_proc WHERE proname = 'crm_search_hits'"
    ).fetchone()
    assert count == 1
    assert search._hit_rowids("weiss", limit=10, offset=0, kinds=()) == want
    database.close()
