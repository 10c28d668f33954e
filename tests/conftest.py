"""Shared fixtures: a fresh database per test, a pinned clock and timezone, and a CLI runner.

A fresh database is a copy of one migrated once per test session (a file copy on SQLite; on
PostgreSQL a database made with CREATE DATABASE ... TEMPLATE): running every migration per
test was half the suite's time. `pg_url` is still an empty database, for tests of migrating.

With CRM_TEST_PG set to a postgresql:// URL of a server (PostgreSQL 13+) where that user may
CREATE DATABASE, the service tests under tests/services/ that use `db` or `crm` also run on
PostgreSQL (test ids end in `[pg]`), each in an empty schema of its own, and
tests/services/test_postgres.py is collected; so do the CLI tests of PG_CLI_MODULES (every CLI
module with CRM_TEST_PG_CLI=all). Without it the suite is SQLite only, exactly as
before. A service test about SQLite itself (pragmas, file modes, backup) asks for `db_path` or
is marked `@pytest.mark.sqlite_only`; test_db.py is that as a whole.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

# Monday 23 November 2026, 10:00 in Berlin: every relative date in the tests counts from here.
NOW = datetime.fromisoformat("2026-11-23T10:00:00+01:00")

PG_URL = os.environ.get("CRM_TEST_PG", "").strip()
SERVICES = Path(__file__).parent / "services"
CLI = Path(__file__).parent / "cli"
# Modules under tests/services/ that test the SQLite database layer itself.
SQLITE_ONLY_MODULES = {"test_db.py"}
# CLI tests (tests/cli/) that also run on PostgreSQL with CRM_TEST_PG: the commands a team
# runs on a shared server, a representative half (all of them would add ~4 minutes to a CI
# run); CRM_TEST_PG_CLI=all runs every CLI module there but those about SQLite files.
PG_CLI_MODULES = {
    "test_contacts.py", "test_companies.py", "test_company_names.py", "test_deals.py",
    "test_tasks.py", "test_timeline.py", "test_snooze.py", "test_list_and_search.py",
    "test_search_finds.py", "test_remind.py", "test_bulk.py", "test_import_csv.py",
    "test_export.py", "test_merge_command.py", "test_emails_phones.py", "test_orders.py",
    "test_reports.py", "test_query_cli.py", "test_dedupe_command.py", "test_hostile_text.py",
    "test_fields.py", "test_tag_delete.py", "test_demo.py", "test_delete_company_people.py",
}  # fmt: skip
SQLITE_ONLY_CLI_MODULES = {
    "test_db_commands.py", "test_db_new_files.py", "test_read_only.py", "test_write_lock.py",
}  # fmt: skip
ALL_CLI_ON_PG = os.environ.get("CRM_TEST_PG_CLI", "").strip() == "all"
PG_ONLY_MODULES = {"test_postgres.py"}

collect_ignore = [] if PG_URL else [f"services/{name}" for name in PG_ONLY_MODULES]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only: run on SQLite only, even when CRM_TEST_PG is set"
    )


def pytest_generate_tests(metafunc):
    """Run tests/services/ and the CLI modules of PG_CLI_MODULES on both backends when
    CRM_TEST_PG is set; otherwise leave ids alone."""
    if "db_backend" not in metafunc.fixturenames or not PG_URL:
        return
    path = Path(str(metafunc.definition.path))
    if path.name in PG_ONLY_MODULES:
        backends = ["pg"]
    elif (
        (
            path.parent == SERVICES
            or path.parent == CLI
            and (path.name in PG_CLI_MODULES or ALL_CLI_ON_PG)
            and path.name not in SQLITE_ONLY_CLI_MODULES
        )
        and path.name not in SQLITE_ONLY_MODULES
        and "db_path" not in metafunc.fixturenames
        and not metafunc.definition.get_closest_marker("sqlite_only")
    ):
        backends = ["sqlite", "pg"]
    else:
        return
    metafunc.parametrize("db_backend", backends, indirect=True)


@pytest.fixture(autouse=True)
def _berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    monkeypatch.setenv("CRM_NOW", NOW.isoformat())
    monkeypatch.delenv("CRM_DB", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    time.tzset()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "crm.db"


@pytest.fixture
def db_backend(request):
    """`sqlite`, unless pytest_generate_tests parametrised the test for PostgreSQL too."""
    return getattr(request, "param", "sqlite")


class PgServer:
    """The CRM_TEST_PG server. A database of our own for the session, and in it a fresh schema
    per test that the test's URL selects (libpq `options=-csearch_path=...`): as empty as a new
    database to crm, and much faster to make than one."""

    def __init__(self, url: str):
        self.url = "postgresql://" + url.split("://", 1)[1]
        self.database = f"crm_test_{os.getpid()}"
        self._names = itertools.count()
        self._template: str | None = None
        self._copy: str | None = None
        self.recopied = 0  # tests after which the copy was made anew (schema changed)
        self._server = self._connect(self.url)
        # FORCE (PostgreSQL 13+): connections a crashed run left must not keep it.
        self._server.execute_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        self._server.execute_sql(f"CREATE DATABASE {self.database}")
        # Test data need not survive a power cut; this makes each commit cheaper.
        self._server.execute_sql(f"ALTER DATABASE {self.database} SET synchronous_commit = off")
        self._admin = self._connect(self._with(path=f"/{self.database}"))
        self._admin.execute_sql("SET lock_timeout = '10s'")  # fail rather than hang

    @staticmethod
    def _connect(url: str):
        from peewee import PostgresqlDatabase  # outside atomic() it autocommits

        database = PostgresqlDatabase(url)
        database.connect()
        return database

    def _with(self, **parts) -> str:
        return urlunsplit(urlsplit(self.url)._replace(**parts))

    def create(self) -> str:
        """A new, empty schema; returns the URL that makes it crm's database."""
        name = f"test_{next(self._names)}"
        self._admin.execute_sql(f"CREATE SCHEMA {name}")
        options = quote(f"-csearch_path={name}", safe="")
        return self._with(path=f"/{self.database}", query=f"options={options}")

    def migrated(self) -> str:
        """The URL of the session's migrated test database, as fresh as a new copy of the
        template: made from the template on first use (CREATE DATABASE ... TEMPLATE), then
        after each test put back by `reset` (DROP DATABASE forces a checkpoint: ~0.3 s here,
        more than migrating; emptying the tables is a few ms)."""
        if self._template is None:
            self._template = f"{self.database}_template"
            self._server.execute_sql(f"DROP DATABASE IF EXISTS {self._template} WITH (FORCE)")
            self._server.execute_sql(f"CREATE DATABASE {self._template}")
            from crmcli.db import open_database

            open_database(self._with(path=f"/{self._template}")).close()
        if self._copy is None:
            name = f"{self.database}_copy"
            self._server.execute_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self._server.execute_sql(f"CREATE DATABASE {name} TEMPLATE {self._template}")
            # Test data need not survive a power cut; this makes each commit cheaper.
            options = quote("-csynchronous_commit=off", safe="")
            self._copy = self._with(path=f"/{name}", query=f"options={options}")
            self._copy_admin = self._connect(self._copy)
            self._copy_admin.execute_sql("SET lock_timeout = '5s'")
            self._pristine = self._snapshot()
        return self._copy

    _FINGERPRINT = (
        "SELECT md5(string_agg(c.relname::text || c.relkind::text || "
        "coalesce(a.attname::text, '') || "
        "coalesce(a.atttypid::text, '') || coalesce(a.attnotnull::text, '') || "
        "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY c.relname, a.attnum)) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        "AND NOT a.attisdropped AND c.relkind = 'r' "
        "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
        "WHERE n.nspname = 'public'"
    )

    def _snapshot(self) -> dict:
        """The copy's schema fingerprint, the rows the migrations wrote, its sequences."""
        db = self._copy_admin
        tables = [r[0] for r in db.execute_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()]  # fmt: skip
        rows = {}
        for table in tables:
            cursor = db.execute_sql(f'SELECT * FROM "{table}"')
            found = cursor.fetchall()
            if found:
                rows[table] = ([c[0] for c in cursor.description], found)
        sequences = {
            name: db.execute_sql(f'SELECT last_value, is_called FROM "{name}"').fetchone()
            for (name,) in db.execute_sql(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        }
        fingerprint = db.execute_sql(self._FINGERPRINT).fetchone()[0]
        return {"tables": tables, "rows": rows, "sequences": sequences, "fp": fingerprint}

    def reset(self) -> None:
        """Put the test database back as the template made it; a test that changed its
        schema (or left a lock) gets a new copy instead."""
        db = self._copy_admin
        pristine = self._pristine
        # A connection a failed test left open (maybe mid-transaction) would hold locks.
        db.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        try:
            if db.execute_sql(self._FINGERPRINT).fetchone()[0] != pristine["fp"]:
                raise LookupError("schema changed")
            with db.atomic():
                tables = ", ".join(f'"{t}"' for t in pristine["tables"])
                db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY")
                for table, (columns, rows) in pristine["rows"].items():
                    names = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join(["%s"] * len(columns))
                    db.cursor().executemany(
                        f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows
                    )
                for name, (value, called) in pristine["sequences"].items():
                    db.execute_sql("SELECT setval(%s, %s, %s)", (f'"{name}"', value, called))
        except Exception:
            self.recopied += 1
            db.close()
            name = urlsplit(self._copy).path.lstrip("/")
            self._server.execute_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self._copy = None

    def drop(self, url: str) -> None:
        name = url.rsplit("%3D", 1)[1]
        # A connection a failed test left open (maybe mid-transaction) would block the drop.
        self._admin.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        self._admin.execute_sql(f"DROP SCHEMA {name} CASCADE")

    def close(self) -> None:
        if self._copy is not None:
            self._copy_admin.close()
            name = urlsplit(self._copy).path.lstrip("/")
            self._server.execute_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if self._template is not None:
            self._server.execute_sql(f"DROP DATABASE IF EXISTS {self._template} WITH (FORCE)")
        self._admin.close()
        self._server.execute_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        self._server.close()


@pytest.fixture(scope="session")
def pg_server():
    if not PG_URL:
        pytest.skip("CRM_TEST_PG is not set")
    server = PgServer(PG_URL)
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server):
    """The URL of a fresh, empty PostgreSQL database (a schema of its own), dropped after."""
    url = pg_server.create()
    yield url
    from crmcli.models import database_proxy

    if database_proxy.obj is not None:
        database_proxy.obj.close()
    pg_server.drop(url)


@pytest.fixture
def pg_migrated_url(pg_server):
    """The URL of a fresh, migrated PostgreSQL database (as the session's template made it)."""
    url = pg_server.migrated()
    yield url
    from crmcli.models import database_proxy

    if database_proxy.obj is not None:
        database_proxy.obj.close()
    pg_server.reset()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated once per session, for tests to copy."""
    from crmcli.db import open_database

    path = tmp_path_factory.mktemp("template") / "crm.db"
    open_database(str(path)).close()  # the last close folds the -wal file in
    return path


@pytest.fixture
def db_target(request, db_backend):
    """What `--db` gets: the SQLite file `db_path` (a copy of the migrated template), or a
    fresh migrated PostgreSQL database's URL."""
    # Looked up, not requested, so that only tests that ask for db_path have it in their
    # closure: pytest_generate_tests reads that as "about the SQLite file".
    if db_backend == "pg":
        return request.getfixturevalue("pg_migrated_url")
    path = request.getfixturevalue("db_path")
    if not path.exists():
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        path.chmod(0o600)
    return str(path)


@pytest.fixture
def db(db_target):
    """An open, migrated database; services can be called directly."""
    from crmcli.db import open_database

    database = open_database(db_target)
    yield database
    database.close()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def crm(db_target):
    """Run `crm --db <tmp> ARGS...` in-process; returns exit code, stdout and stderr."""
    from typer.testing import CliRunner

    from crmcli.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None) -> Result:
        result = runner.invoke(app, ["--db", db_target, *args], input=input, env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return run
