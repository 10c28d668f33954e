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
        "cache, then once more with every statement explained (EXPLAIN ANALYZE, in the same "
        "transaction, so with the same plan settings).",
    ]
    real = type(db).execute_sql
    plans: list[tuple[str, list, list[str]]] = []

    def explaining(self, sql, params=None, *args, **kwargs):
        if sql.startswith(("SELECT count(*), min(rowid)", "SELECT rowid", "WITH hits")):
            cursor = real(self, "EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
            plans.append((sql, list(params or ()), [r[0] for r in cursor.fetchall()]))
        return real(self, sql, params, *args, **kwargs)

    for q in fragments:
        search.search(q, limit=20)
        started = time.perf_counter()
        hits = search.search(q, limit=20)
        took = (time.perf_counter() - started) * 1000
        matches = db.execute_sql(
            "SELECT count(*) FROM search_index WHERE tsv @@ to_tsquery('simple', %s)",
            (" & ".join(f"{w}:*" for w in search.query_terms(q)),),
        ).fetchone()[0]
        plans.clear()
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
        for sql, params, plan in plans:
            out += ["```", f"{sql}", f"-- {params}", *plan, "```", ""]
    db.close()
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
