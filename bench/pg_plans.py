"""The PostgreSQL plans of search's first page, for a rare, a common and a very common fragment
(issue 20): every statement `search(q, limit=20)` runs, each with its EXPLAIN ANALYZE, as
Markdown on stdout (bench/pg_plans.md holds a run).

    .venv/bin/python bench/pg_plans.py postgresql://.../crm_bench [zyx mue an ...]
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    if not argv or not argv[0].startswith(("postgres://", "postgresql://")):
        print(__doc__, file=sys.stderr)
        return 2
    from crmcli.db import describe, open_database
    from crmcli.models import Contact
    from crmcli.services import search

    url, fragments = argv[0], argv[1:] or ["zyx", "mue", "gmbh", "an"]
    db = open_database(url, create=False)
    contacts = Contact.select().count()
    rows = db.execute_sql("SELECT count(*) FROM search_index").fetchone()[0]
    version = db.execute_sql("SHOW server_version").fetchone()[0]
    out = [
        f"# search's first page on PostgreSQL {version}: {contacts:,} contacts, "
        f"{rows:,} search index rows",
        "",
        f"`{describe(url)}`, made by `bench/pg_plans.py`. Each search runs once to warm the "
        "cache, then once more with every statement of the server's crm_search_hits explained "
        "as it runs (EXPLAIN ANALYZE; its Settings line: what the function set), the ranking last.",
    ]
    real = type(db).execute_sql
    conn = db.connection()

    def explaining(self, sql, params=None, *args, **kwargs):
        if sql.startswith("SELECT crm_search_hits("):  # its statements, explained as they run
            sql = sql[: -len(")")] + ", true)"
        return real(self, sql, params, *args, **kwargs)

    for q in fragments:
        search.search(q, limit=20)
        started = time.perf_counter()
        hits = search.search(q, limit=20)
        took = (time.perf_counter() - started) * 1000
        terms = " & ".join(f"{w}:*" for w in search.query_terms(q))
        matches = sum(
            db.execute_sql(
                f"SELECT count(*) FROM search_index WHERE mod(rowid, 8) = {code} "
                f"AND {search.RECENT_WORDS} @@ to_tsquery('simple', %s)",
                (terms,),
            ).fetchone()[0]
            for code in search.KINDS_BY_CODE
        )
        conn.notices = []  # psycopg2 keeps the last 50 in its own list
        type(db).execute_sql = explaining
        try:
            search.search(q, limit=20)
        finally:
            type(db).execute_sql = real
        out += [
            "",
            f"## `{q}`: {matches:,} matching rows, {len(hits)} hits shown, {took:.1f} ms",
            "",
        ]
        for notice in conn.notices:
            text = notice.strip().removeprefix("NOTICE:").strip()
            out += ["```", text, "```", ""]
    db.close()
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
