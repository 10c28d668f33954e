"""crmcli.sqlitelib turns SQLite's memory statistics off only while SQLite holds nothing, in
a process of its own (each test runs a new interpreter: the setting is the process's)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the library is found through /proc"
)

USED = """
import ctypes, sqlite3
from crmcli import sqlitelib
lib = ctypes.CDLL(sqlitelib._library())
lib.sqlite3_memory_used.restype = ctypes.c_int64
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(USED) + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_off_before_the_first_connection_and_sqlite_works_on():
    out = _run(
        """
        print(sqlitelib.without_memory_statistics(), sqlitelib.without_memory_statistics())
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
        print(conn.execute("SELECT sum(x) FROM t").fetchone()[0], lib.sqlite3_memory_used())
        """
    )
    assert out.splitlines() == ["True True", "499500 0"]  # nothing counted any more


def test_left_on_while_a_connection_is_open():
    out = _run(
        """
        conn = sqlite3.connect(":memory:")
        print(sqlitelib.without_memory_statistics())
        print(conn.execute("SELECT 1").fetchone()[0], lib.sqlite3_memory_used() > 0)
        """
    )
    assert out.splitlines() == ["False", "1 True"]


def test_an_export_and_an_import_run_with_it(tmp_path):
    """`crm import` and `crm export` turn it off before they open the database."""
    db = tmp_path / "crm.db"
    (tmp_path / "in.csv").write_text("Name;E-Mail\nAnna Müller;anna@example.de\n", encoding="utf-8")
    out = _run(
        f"""
        import sys
        from crmcli.launch import main
        for args in (["import", "csv", {str(tmp_path / "in.csv")!r}],
                     ["export", "contacts", "--format", "jsonl"]):
            sys.argv = ["crm", "--db", {str(db)!r}, *args]
            try:
                main()
            except SystemExit as exit:
                assert not exit.code, exit.code
        print(sqlitelib._done, lib.sqlite3_memory_used())
        """
    )
    assert '"name":"Anna Müller"' in out
    assert out.splitlines()[-1] == "True 0"
