"""Choose, open and upgrade the database. The only module that knows SQLite from PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crmcli.errors import DatabaseError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The number of the newest migration shipped in crmcli/migrations (a test keeps them equal).
# SQLite stores it in PRAGMA user_version, so opening an up-to-date database costs one pragma.
SCHEMA_VERSION = 5
BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 10
# Serialises schema upgrades of one PostgreSQL database between crm processes.
MIGRATION_LOCK = 0x63726D  # "crm"
EXCLUSIVE_LOCK = MIGRATION_LOCK + 1  # see exclusive_transaction


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("crmcli", appauthor=False) / "crm.db"


def resolve_target(option: str | None) -> str:
    """`--db` wins over `CRM_DB`, which wins over the file in the user's data directory."""
    return option or os.environ.get("CRM_DB") or str(default_path())


def is_postgres(target: str) -> bool:
    return target.startswith(("postgres://", "postgresql://"))


def describe(target: str) -> str:
    """The target without any password, for messages."""
    if is_postgres(target):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(target)
            host = parts.hostname or "localhost"
            if ":" in host:  # an IPv6 address
                host = f"[{host}]"
            port = f":{parts.port}" if parts.port else ""
            user = f"{parts.username}@" if parts.username else ""
        except ValueError:  # libpq's multi-host form (h1:5432,h2:5432) or a typo
            return f"{target.split('://', 1)[0]}://…"
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"
    return target


def _without_secrets(message: str, target: str) -> str:
    """`message` on one line and with no password from `target` in it (libpq may echo input)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    secrets = set()
    try:
        parts = urlsplit(target)
        if parts.password:
            secrets.update({parts.password, unquote(parts.password)})
        secrets.update(v for k, v in parse_qsl(parts.query) if k == "password")
    except ValueError:
        secrets.add(target)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            message = message.replace(secret, "***")
    return " ".join(message.split())


# Database drivers peewee imports as soon as it is imported, whether or not they are used.
SERVER_DRIVERS = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")


def hide_server_drivers() -> None:
    """For a process that only uses SQLite: keep peewee from importing PostgreSQL and MySQL
    drivers (psycopg2 costs ~25 ms, psycopg 3 ~130 ms of every command). Call before peewee
    is imported; a process that did this cannot open a postgresql:// database afterwards."""
    import sys

    if "peewee" in sys.modules:
        return
    for name in SERVER_DRIVERS:
        sys.modules.setdefault(name, None)  # None makes `import name` raise ImportError


def _create_private_file(path: Path) -> None:
    """Create the SQLite file with mode 0600 before SQLite touches it: never world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseError(f"cannot create database {path}: {exc.strerror}") from exc
    os.close(fd)


def open_database(target: str, *, create: bool = True, migrate: bool = True):
    """Open `target` (a path or a postgresql:// URL), bind the models to it, upgrade it."""
    from peewee import DatabaseError as PeeweeDatabaseError

    from crmcli.models import database_proxy

    if is_postgres(target):
        db = _postgres(target)
    else:
        if target.startswith("sqlite:///"):
            target = target[len("sqlite:///") :]
        elif "://" in target:  # mysql://, a typo of postgresql://: no file named like that
            scheme = target.split("://", 1)[0]
            raise DatabaseError(
                f"unsupported database URL '{scheme}://' (use a file path, sqlite:///PATH "
                "or postgresql://)"
            )
        path = Path(target).expanduser()
        if path.is_dir():
            raise DatabaseError(f"database path {path} is a directory")
        if not path.exists():
            if not create:
                raise DatabaseError(f"no database at {path}")
            _create_private_file(path)
        from peewee import SqliteDatabase

        db = SqliteDatabase(
            str(path),
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": BUSY_TIMEOUT_MS,
                "synchronous": 1,  # NORMAL: durable with WAL, much faster than FULL
                "cache_size": -16000,
            },
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    database_proxy.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        if migrate:
            ensure_schema(db)
    except PeeweeDatabaseError as exc:
        db.close()
        why = _without_secrets(str(exc), target)
        error = DatabaseError(f"cannot open database {describe(target)}: {why}")
        # A driver's own message is not shown with --debug either, in case it echoes the URL.
        raise error from (None if is_postgres(target) else exc)
    except Exception:
        db.close()
        raise
    return db


def _postgres(target: str):
    """A PostgresqlDatabase; libpq reads the URL itself (sslmode, host=/socket, ...)."""
    # The `postgres` extra installs psycopg2: peewee imports every driver it finds when it is
    # imported, and psycopg 3 adds ~130 ms to each crm command, psycopg2 ~25 ms. peewee uses
    # psycopg 3 when it is the only one installed.
    import importlib.util

    if not (importlib.util.find_spec("psycopg2") or importlib.util.find_spec("psycopg")):
        raise DatabaseError("PostgreSQL needs a driver: pip install 'crmcli[postgres]'")
    from urllib.parse import parse_qsl, urlsplit

    from peewee import PostgresqlDatabase

    # peewee hands a database name that starts with postgresql:// to libpq as a URI.
    url = "postgresql://" + target.split("://", 1)[1]
    try:
        given = {k for k, _ in parse_qsl(urlsplit(url).query)}
    except ValueError:
        given = set()
    params = {"fallback_application_name": "crm"}
    if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
        # libpq waits for an unreachable server as long as TCP does; a cron job should not.
        params["connect_timeout"] = CONNECT_TIMEOUT_S
    return PostgresqlDatabase(url, **params)


def _runner(db):
    from playhouse.migrations import Runner

    return Runner(db, directory=str(MIGRATIONS_DIR), table_name="schema_migration")


def schema_version(db) -> int:
    """The number of the newest migration applied to `db` (0 for an empty database)."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        return db.execute_sql("PRAGMA user_version").fetchone()[0]
    applied = _runner(db).applied()
    return max((int(name.split("_", 1)[0]) for name in applied), default=0)


def ensure_schema(db) -> list[str]:
    """Apply pending migrations; refuse a database made by a newer crmcli. Returns what ran."""
    from peewee import SqliteDatabase

    version = _check_version(db)
    if version == SCHEMA_VERSION:
        return []
    if isinstance(db, SqliteDatabase):
        # Two processes opening a new (or older) file at once: the write lock comes first and
        # the version is read again under it, so only one of them migrates.
        with db.atomic(lock_type="IMMEDIATE"):
            if _check_version(db) == SCHEMA_VERSION:
                return []
            ran = _runner(db).up()
            db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return ran
    # Two crm processes opening a new PostgreSQL database at once must not both create it.
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        if _check_version(db) == SCHEMA_VERSION:
            return []
        return _runner(db).up()
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _check_version(db) -> int:
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database has schema version {version}, newer than this crm understands "
            f"({SCHEMA_VERSION}); upgrade crmcli"
        )
    return version


@contextmanager
def exclusive_transaction(db) -> Iterator[None]:
    """A transaction that one crm process at a time holds, from its first read to its commit:
    for check-then-mark work that two cron runs must not both do."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        with db.atomic(lock_type="IMMEDIATE"):  # takes SQLite's write lock before any read
            yield
        return
    with db.atomic():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (EXCLUSIVE_LOCK,))
        yield


def migration_status(db) -> list[tuple[str, str | None]]:
    """Each shipped migration with when it was applied (None if pending)."""
    return [
        (m.name, m.applied.isoformat(sep=" ", timespec="seconds") if m.applied else None)
        for m in _runner(db).status()
    ]


def check(db) -> list[str]:
    """Integrity problems found in the database; an empty list means it is sound."""
    from peewee import SqliteDatabase

    problems: list[str] = []
    if isinstance(db, SqliteDatabase):
        rows = [r[0] for r in db.execute_sql("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            problems.extend(f"integrity: {r}" for r in rows)
        for table, rowid, parent, _ in db.execute_sql("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign key: {table} row {rowid} points at a missing {parent}")
        try:
            db.execute_sql("INSERT INTO search_index(search_index) VALUES('integrity-check')")
        except Exception as exc:  # FTS5 reports corruption as an error
            problems.append(f"search index: {exc} (run 'crm db check --repair')")
    problems.extend(search_index_drift(db))
    problems.extend(reminder_queue_drift())
    return problems


def reminder_queue_drift() -> list[str]:
    """Problems of the reminder queues (what `crm remind` reads); [] when in step."""
    from crmcli.services import reminders

    return [
        f"reminder queues: {kind} out of step: {n} (run 'crm db check --repair')"
        for kind, n in reminders.queue_drift().items()
        if n
    ]


def search_index_drift(db) -> list[str]:
    """Records missing from the search index; [] when in step."""
    from crmcli.services import search

    missing = search.missing_entries()
    return [f"search index: {n} {kind} not indexed" for kind, n in missing.items() if n]


def backup(db, dest: Path) -> Path:
    """Copy the live SQLite database to `dest` (mode 0600) while others may be writing."""
    from peewee import SqliteDatabase

    if not isinstance(db, SqliteDatabase):
        raise DatabaseError("crm db backup copies SQLite files; for PostgreSQL use pg_dump")
    dest = dest.expanduser()
    if dest.is_dir():
        dest = dest / "crm-backup.db"
    if dest.exists():
        raise DatabaseError(f"{dest} exists; choose a new file name")
    if not dest.parent.is_dir():
        raise DatabaseError(f"no directory {dest.parent} for the backup")
    _create_private_file(dest)
    import sqlite3

    target = sqlite3.connect(str(dest))
    try:
        db.connection().backup(target)
    except BaseException:
        target.close()
        dest.unlink(missing_ok=True)  # no half-written backup left behind
        raise
    target.close()
    return dest


def plus_days_before(column, days, limit):
    """The condition `column + days days <= limit` in the dialect of the bound database
    (date arithmetic is where SQLite and PostgreSQL differ); `limit` is an aware datetime."""
    from datetime import UTC

    from peewee import SqliteDatabase, fn

    from crmcli.models import database_proxy

    naive = limit.astimezone(UTC).replace(tzinfo=None)
    if isinstance(database_proxy.obj, SqliteDatabase):
        # datetime() gives 'YYYY-MM-DD HH:MM:SS', which sorts like the stored text.
        shifted = fn.datetime(column, fn.printf("+%d days", days))
        return shifted <= naive.strftime("%Y-%m-%d %H:%M:%S")
    return (column + fn.make_interval(0, 0, 0, days)) <= naive


def differs(column, expected):
    """SQL: `column` is not `expected`, NULLs included (IS DISTINCT FROM, on both databases)."""
    return (column.is_null() != expected.is_null()) | (column != expected)


def epoch(column):
    """Whole seconds since 1970 of a stored (naive UTC) datetime, as SQL. Reminder keys are
    built from it in SQL and in Python (int(dt.timestamp())), so both must truncate alike."""
    from peewee import SQL, Cast, NodeList, SqliteDatabase, fn

    from crmcli.models import database_proxy

    if isinstance(database_proxy.obj, SqliteDatabase):
        return Cast(fn.strftime("%s", column), "INTEGER")
    return Cast(fn.FLOOR(fn.EXTRACT(NodeList((SQL("EPOCH FROM"), column)))), "BIGINT")
