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
SCHEMA_VERSION = 21
BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 10
# Serialises schema upgrades of one PostgreSQL database between crm processes.
MIGRATION_LOCK = 0x63726D  # "crm"
MIGRATION_TABLE = "schema_migration"  # the names of the applied migrations
EXCLUSIVE_LOCK = MIGRATION_LOCK + 1  # see exclusive_transaction
_APPLIED = f'SELECT name FROM "{MIGRATION_TABLE}"'


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


def import_driver() -> None:
    """Import psycopg2 (which peewee imports with itself) without Python's ssl module: call
    before peewee is imported in a process that opens a postgresql:// database.

    psycopg2 imports ssl only so that Python sets up libcrypto's locking callbacks before
    libpq would (PQinitOpenSSL(1, 0)); when that import fails it leaves OpenSSL's set-up to
    libpq (psycopgmodule.c, libcrypto_threads_init). Those callbacks are for OpenSSL before
    1.1.0, which locks by itself since and which Python 3.10+ no longer builds with (libpq
    14+ sets none up either), and psycopg2-binary links its own libcrypto, not the one
    Python's _ssl loads. The import was 4 % of a short command's instructions on PostgreSQL
    (a second OpenSSL loaded and initialised). Connections with sslmode=require work as
    before (libpq does its TLS itself); a later `import ssl` (mail over TLS) gets the real
    module."""
    import sys

    if "psycopg2" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # None makes `import ssl` raise ImportError
    try:
        import psycopg2  # noqa: F401
    except ImportError:  # no psycopg2 (psycopg 3, or none: _postgres says so)
        pass
    finally:
        if "ssl" in sys.modules and sys.modules["ssl"] is None:
            del sys.modules["ssl"]


def _make_private_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents with mode 0700 whatever the umask."""
    missing = []
    while not directory.exists():
        if directory.is_symlink():
            raise DatabaseError(f"{directory} is a symbolic link to a missing directory")
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise DatabaseError(f"cannot create directory {d}: {exc.strerror}") from exc
        os.chmod(d, 0o700)  # mkdir's mode is masked by the umask


def check_new_file(path: Path, what: str = "database") -> None:
    """Refuse to create `path` where it would not be what its user meant: a dangling symbolic
    link (the file would appear elsewhere), or in a directory that does not exist (a typo in
    --db or CRM_DB must not become an empty database that a cron job reads for ever)."""
    if path.is_symlink() and not path.exists():
        raise DatabaseError(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not exist; "
            f"give the {what} file itself"
        )
    if not path.parent.is_dir():
        if path.parent.exists():
            raise DatabaseError(f"{path.parent} is a file, not a directory for the {what}")
        raise DatabaseError(f"no directory {path.parent} for the {what} {path.name}")


def create_private_file(path: Path) -> None:
    """Create an empty file with mode 0600 whatever the umask, never through a symbolic link."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseError(f"cannot create {path}: {exc.strerror}") from exc
    try:
        os.fchmod(fd, 0o600)  # os.open's mode is masked by the umask
    finally:
        os.close(fd)


def sqlite_file(target: str) -> Path:
    """The SQLite file a target that is not a postgresql:// URL names (it may not exist)."""
    if target.startswith("sqlite:///"):
        target = target[len("sqlite:///") :]
    elif "://" in target:  # mysql://, a typo of postgresql://: no file named like that
        scheme = target.split("://", 1)[0]
        raise DatabaseError(
            f"unsupported database URL '{scheme}://' (use a file path, sqlite:///PATH "
            "or postgresql://)"
        )
    return Path(target).expanduser()


def missing_database(path: Path) -> DatabaseError:
    """What a command that needs records says about a database file that does not exist: a
    mistyped --db or CRM_DB must not become a new empty database that answers "no contact
    matches"."""
    return DatabaseError(
        f"no database at {path} (crm add contact, add company, add task or crm demo create one)"
    )


def new_file(target: str) -> Path | None:
    """The SQLite file opening `target` would create (it does not exist yet), other than the
    default one under the user's data directory, which is made without a word; else None."""
    if is_postgres(target) or "://" in target.removeprefix("sqlite:///"):
        return None
    path = sqlite_file(target)
    if os.path.lexists(path) or path == default_path():
        return None
    return path


def _sqlite_path(target: str, *, create: bool) -> Path:
    """The SQLite file `target` names, created (mode 0600) when it does not exist yet. Only the
    default location under the user's data directory gets its directories made. With
    create=False a missing file is an error (missing_database), except the default one."""
    path = sqlite_file(target)
    if path.is_dir():
        raise DatabaseError(f"database path {path} is a directory")
    if path.exists():
        return path
    if not create and path != default_path():  # the default is made on first use of any kind
        check_new_file(path)  # a missing directory or a dangling link: say that, it is nearer
        raise missing_database(path)
    if path == default_path():
        _make_private_dirs(path.parent)
    check_new_file(path)
    create_private_file(path)
    return path


def _writable(path: Path) -> bool:
    """Whether this process may change the SQLite file (and make its -wal and -shm files)."""
    if not os.access(path, os.W_OK):
        return False
    if os.access(path.parent, os.W_OK):
        return True
    companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    return all(p.exists() and os.access(p, os.W_OK) for p in companions)


_sqlite_class_made = None


def _sqlite_class():
    global _sqlite_class_made
    if _sqlite_class_made is None:
        _sqlite_class_made = _make_sqlite_class()
    return _sqlite_class_made


def _make_sqlite_class():
    from peewee import OperationalError, SqliteDatabase

    class CrmSqliteDatabase(SqliteDatabase):
        """Transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE): a command
        that reads and then writes waits for another writer (busy timeout) instead of failing
        with "database is locked" when that writer commits between its read and its write.
        Reads outside db.atomic() take no lock. A read-only file says so when written to."""

        read_only = False

        def begin(self, lock_type=None):
            if self.read_only:
                raise self.read_only_error()
            return super().begin(lock_type)

        def execute_sql(self, sql, params=None, *args, **kwargs):
            try:
                return super().execute_sql(sql, params, *args, **kwargs)
            except OperationalError as exc:
                if self.read_only and "readonly" in str(exc):
                    raise self.read_only_error() from exc
                raise

        def read_only_error(self) -> DatabaseError:
            return DatabaseError(
                f"the database {self.path} is read-only for you: crm can show it but not "
                "change it (check the file's and its directory's permissions)"
            )

    return CrmSqliteDatabase


def _read_only_uri(path: Path) -> str:
    """A URI that opens `path` read-only. SQLite reads a WAL database through its -shm file;
    in a directory where we cannot make one, the file is read as immutable, but only when no
    -wal or -shm lies beside it: then no writer has it open and nothing waits unmerged in a
    -wal that immutable reading would ignore. (A writer that starts while a read command
    runs is the one case left; such a read is short and changes nothing.)"""
    from urllib.parse import quote

    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    quiet = not any(Path(f"{path}{end}").exists() for end in ("-wal", "-shm"))
    if quiet and not os.access(path.parent, os.W_OK):
        uri += "&immutable=1"
    return uri


def _sqlite(path: Path):
    pragmas = {
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
        "synchronous": 1,  # NORMAL: durable with WAL, much faster than FULL
        "cache_size": -16000,
    }
    read_only = not _writable(path)
    if read_only:  # read commands still work
        name, extra = _read_only_uri(path), {"uri": True}
    else:
        pragmas = {"journal_mode": "wal", **pragmas}
        name, extra = str(path), {}
    db = _sqlite_class()(
        name,
        pragmas=pragmas,
        timeout=BUSY_TIMEOUT_MS / 1000,
        lock_type="IMMEDIATE",
        **extra,
    )
    db.path = path
    db.read_only = read_only
    return db


def open_database(target: str, *, create: bool = True, migrate: bool = True):
    """Open `target` (a path or a postgresql:// URL), bind the models to it, upgrade it."""
    postgres = is_postgres(target)
    if postgres:
        import_driver()
    from peewee import DatabaseError as PeeweeDatabaseError

    from crmcli.models import database_proxy

    db = _postgres(target) if postgres else _sqlite(_sqlite_path(target, create=create))
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


def open_in_memory(path: Path):
    """An empty, migrated database in memory standing in for the file `path`, which does not
    exist yet: a dry run compares against it and no file is made."""
    from crmcli.models import database_proxy

    db = _sqlite_class()(":memory:", pragmas={"foreign_keys": 1})
    db.path = path
    database_proxy.initialize(db)
    db.connect(reuse_if_open=True)
    ensure_schema(db)
    return db


def remove_new_file(path: Path) -> None:
    """Remove a database file this command created (and its -wal and -shm files) after the
    command failed: nothing landed in it, and a failed import must not leave an empty one."""
    from contextlib import suppress

    for one in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with suppress(FileNotFoundError):
            one.unlink()


def is_read_only(db) -> bool:
    """Whether `db` was opened read-only (a SQLite file this process may not change)."""
    return bool(getattr(db, "read_only", False))


def _postgres(target: str):
    """A PostgresqlDatabase; libpq reads the URL itself (sslmode, host=/socket, ...)."""
    # The `postgres` extra installs psycopg2: peewee imports every driver it finds when it is
    # imported, and psycopg 3 adds ~130 ms to each crm command, psycopg2 ~25 ms. peewee uses
    # psycopg 3 when it is the only one installed.
    import importlib.util

    if not (importlib.util.find_spec("psycopg2") or importlib.util.find_spec("psycopg")):
        raise DatabaseError("PostgreSQL needs a driver: pip install 'crmcli[postgres]'")
    url, params = _postgres_login(target)
    return _postgres_class()(url, **params)


def _postgres_login(target: str) -> tuple[str, dict]:
    """The URL and the connection parameters crm gives libpq for a postgresql:// target."""
    from urllib.parse import parse_qsl, urlsplit

    # peewee hands a database name that starts with postgresql:// to libpq as a URI.
    url = "postgresql://" + target.split("://", 1)[1]
    try:
        given = {k for k, _ in parse_qsl(urlsplit(url).query)}
    except ValueError:
        given = set()
    params: dict = {"fallback_application_name": "crm"}
    if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
        # libpq waits for an unreachable server as long as TCP does; a cron job should not.
        params["connect_timeout"] = CONNECT_TIMEOUT_S
    return url, params


_postgres_class_made = None


def _postgres_class():
    global _postgres_class_made
    if _postgres_class_made is None:
        _postgres_class_made = _make_postgres_class()
    return _postgres_class_made


def _make_postgres_class():
    import peewee
    from peewee import Psycopg2Adapter

    # Named as peewee's class: code that tells the databases apart by their class's name
    # (services/exports.py) sees what it saw before.
    class PostgresqlDatabase(peewee.PostgresqlDatabase):
        """Takes the connection connect_early started for the same login, if there is one."""

        def _connect(self):
            if not isinstance(self._adapter, Psycopg2Adapter):
                return super()._connect()
            early = _take_early((self.database, self.connect_params))
            conn = super()._connect() if early is None else self._taken(early)
            _read_aware_datetimes(conn)
            return conn

        def _taken(self, early):
            conn = early()  # the driver's error, as connecting here would raise it
            # What peewee's psycopg2 adapter and _connect do with a connection they make.
            from psycopg2 import extensions

            if self._register_unicode:
                extensions.register_type(extensions.UNICODE, conn)
                extensions.register_type(extensions.UNICODEARRAY, conn)
            if self._encoding:
                conn.set_client_encoding(self._encoding)
            if self._isolation_level:
                conn.set_isolation_level(self._isolation_level)
            conn.autocommit = True
            return conn

    return PostgresqlDatabase


def _read_aware_datetimes(conn) -> None:
    """Have psycopg2 read `timestamp with time zone` values (what as_utc selects) with
    datetime.fromisoformat: 0.1 µs a value against 0.6 µs for its own parser, which makes a
    time zone object for each (a list of 7,000 tasks has 21,000 such values). PostgreSQL
    writes them in ISO 8601 in the default DateStyle; any other text (another DateStyle,
    'infinity', a year BC) fails fromisoformat and goes to psycopg2's parser, as before."""
    from datetime import datetime

    from psycopg2 import extensions

    builtin = extensions.PYDATETIMETZ
    parse = datetime.fromisoformat

    def read(value, cursor):
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError:
            return builtin(value, cursor)

    extensions.register_type(extensions.new_type(builtin.values, "CRM_DATETIMETZ", read), conn)


# The login connect_early started, while nobody has taken it: {"login": (url, params),
# "thread": ..., then "conn" or "error" once the thread is done}.
_early: dict = {}


def connect_early(target: str) -> None:
    """Start logging in to the postgresql:// `target` in a thread, for the command that is
    about to open it (the console script calls this before it imports the command's modules).

    A login is the server starting a process for us, a password check (SCRAM: 4,096 rounds
    of HMAC on our side, ~2 ms) and a few round trips, 5-10 ms in all, during which psycopg2
    lets other threads run: made beside crm's imports, it is (nearly) ready when the command
    asks for it. open_database takes it when its login is the same; a failure is raised
    there, as connecting then would raise it. A connection nobody took is closed when the
    process ends."""
    if _early:
        return
    import_driver()
    try:
        import psycopg2
    except ImportError:  # psycopg 3, or no driver: open_database connects (or says so)
        return
    import atexit
    import threading

    url, params = _postgres_login(target)
    box = _early
    box["login"] = (url, params)

    def login() -> None:
        try:
            conn = box["conn"] = psycopg2.connect(dsn=url, **params)
        except Exception as exc:  # noqa: BLE001 - raised again where the connection is taken
            box["error"] = exc
            return
        # What open_database asks first (schema_version), asked here too: its round trip
        # and the new server process's first statement happen beside the imports as well.
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(_APPLIED)
                box["applied"] = (conn, [name for (name,) in cursor.fetchall()])
        except psycopg2.Error:  # no table yet (a new database): schema_version says so
            pass

    box["thread"] = threading.Thread(target=login, name="crm-connect", daemon=True)
    box["thread"].start()
    atexit.register(_close_early, box)


def _applied_early(db) -> list[str] | None:
    """The applied migrations connect_early read on the connection `db` uses now (once)."""
    found = _early.get("applied")
    if found is None or found[0] is not db.connection():
        return None
    del _early["applied"]
    return found[1]


def _take_early(login: tuple[str, dict]):
    """A function that gives connect_early's connection (waiting for it), if it was started
    for `login` and not taken yet; else None."""
    if _early.get("login") != (login[0], dict(login[1])) or _early.get("taken"):
        return None
    _early["taken"] = True
    box = _early

    def wait():
        box["thread"].join()
        if "error" in box:
            raise box.pop("error")
        return box.pop("conn")

    return wait


def _close_early(box: dict) -> None:
    """At exit: close the early connection if nobody took it (a command that failed first)."""
    if not box.get("taken") and not box["thread"].is_alive() and box.get("conn") is not None:
        box.pop("conn").close()


def _runner(db):
    from playhouse.migrations import Runner

    return Runner(db, directory=str(MIGRATIONS_DIR), table_name=MIGRATION_TABLE)


# Migrations that were applied under another name before they took their place in the
# sequence: the order status changes were 0015 on the branch that wrote them, until the
# export lines and the ROI facts took 0015 and 0016 first. A database that applied the old
# name has what the new one makes (it must not run again: its table exists).
RENAMED = {"0015_order_status_changes": "0017_order_status_changes"}


def _upgrade(db) -> list[str]:
    """Apply the pending migrations (inside the caller's lock), after giving any applied
    under an old name (RENAMED) its own."""
    if MIGRATION_TABLE in db.get_tables():  # a new database has applied nothing
        applied = {name for (name,) in db.execute_sql(f'SELECT name FROM "{MIGRATION_TABLE}"')}
        for old, new in RENAMED.items():
            if old in applied and new not in applied:
                db.execute_sql(
                    f'UPDATE "{MIGRATION_TABLE}" SET name = {db.param} WHERE name = {db.param}',
                    (new, old),
                )
    return _runner(db).up()


def schema_version(db) -> int:
    """The number of the newest migration applied to `db` (0 for an empty database)."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        return db.execute_sql("PRAGMA user_version").fetchone()[0]
    if db.in_transaction():  # a failed statement would end the caller's transaction
        applied = list(_runner(db).applied())
    else:
        # One round trip, what every command pays on an up-to-date database (the runner
        # asks the catalogue first, then reads its table): a new database has no table yet.
        # The console script's early login has read it already (connect_early).
        from peewee import ProgrammingError

        applied = _applied_early(db)
        if applied is None:
            try:
                rows = db.execute_sql(_APPLIED).fetchall()
            except ProgrammingError as exc:
                driver_error = exc.__context__  # peewee raises its own type from the driver's
                code = getattr(driver_error, "pgcode", None) or getattr(
                    driver_error, "sqlstate", None
                )
                if code != "42P01":  # undefined_table: nothing applied yet; else say what
                    raise
                return 0
            applied = [name for (name,) in rows]
    return max((int(name.split("_", 1)[0]) for name in applied), default=0)


def ensure_schema(db) -> list[str]:
    """Apply pending migrations; refuse a database made by a newer crmcli. Returns what ran."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase) and schema_version(db) != SCHEMA_VERSION:
        # Before any version talk: another program's file (which may set user_version too) is
        # not crm's to take, nor "newer than this crm".
        _claim_sqlite_file(db)
    version = _check_version(db)
    if version == SCHEMA_VERSION:
        return []
    if is_read_only(db):
        raise DatabaseError(
            f"the database {db.path} is read-only and has schema version {version}; this crm "
            f"needs {SCHEMA_VERSION}: open it once with write access to upgrade it"
        )
    if isinstance(db, SqliteDatabase):
        return _migrate_sqlite(db)
    # Two crm processes opening a new PostgreSQL database at once must not both create it.
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        if _check_version(db) == SCHEMA_VERSION:
            return []
        return _upgrade(db)
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _claim_sqlite_file(db) -> None:
    """Before crm makes its tables in an existing file: refuse another program's database
    (a mistyped --db must not add crm's tables to it), and make an empty file private."""
    names = [
        name
        for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    ]
    if names and "schema_migration" not in names:
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise DatabaseError(
            f"{db.path} is not a crm database (it holds other tables: {shown}); crm makes its "
            "tables only in a new or empty file"
        )
    if not names:
        from contextlib import suppress

        with suppress(OSError):  # a file made by `touch` or another tool: personal data
            os.chmod(db.path, 0o600)


def _migrate_sqlite(db) -> list[str]:
    # Migrations may rebuild a table (SQLite changes a key only that way): with foreign keys
    # on, dropping the old table would cascade-delete its children. SQLite's own procedure:
    # keys off (only possible outside a transaction), rebuild, check every key, commit.
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        # Two processes opening a new (or older) file at once: the write lock comes first and
        # the version is read again under it, so only one of them migrates.
        with db.atomic(lock_type="IMMEDIATE"):
            if _check_version(db) == SCHEMA_VERSION:
                return []
            ran = _upgrade(db)
            broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                table, rowid, parent, _ = broken[0]
                from crmcli.values import plural

                raise DatabaseError(
                    f"upgrading the database would leave {plural(len(broken), 'broken reference')} "
                    f"({table} row {rowid} points at a missing {parent}); nothing was changed"
                )
            db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return ran
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")


def _check_version(db) -> int:
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database has schema version {version}, newer than this crm understands "
            f"({SCHEMA_VERSION}); upgrade crmcli"
        )
    return version


@contextmanager
def read_snapshot(db) -> Iterator[None]:
    """Several reads that see one state of the database, taking no write lock: SQLite's
    deferred transaction, PostgreSQL's REPEATABLE READ, READ ONLY. A read-only SQLite file
    needs none (it opens no transaction)."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        if getattr(db, "read_only", False):
            yield
            return
        with db.atomic(lock_type="DEFERRED"):
            yield
        return
    with db.atomic():
        db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


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


def sqlite_schema_version(path: Path) -> int | None:
    """The schema version of the crm database in the SQLite file `path` (read only, nothing
    written), or None when the file holds no crm schema (empty, or another program's)."""
    import sqlite3

    if not path.is_file():
        raise DatabaseError(f"no database at {path}")
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not a crm database: {exc}") from exc
    if "schema_migration" not in tables or "contact" not in tables:
        return None
    return version


def require_crm_schema(path: Path) -> int:
    """The schema version of the crm database at `path`; an error for an empty or foreign
    file and for one made by a newer crm."""
    version = sqlite_schema_version(path)
    if version is None:
        raise DatabaseError(f"{path} is not a crm database (it has no crm tables)")
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} has schema version {version}, newer than this crm understands "
            f"({SCHEMA_VERSION}); upgrade crmcli"
        )
    return version


def require_schema(target: str) -> None:
    """An error unless `target` already holds a crm database (opening would make an empty or
    foreign one into one: `crm db check` must not call that sound)."""
    if not is_postgres(target):
        path = sqlite_file(target)
        if not os.path.lexists(path):
            raise missing_database(path)
        require_crm_schema(path)
        return
    db = open_database(target, migrate=False)
    try:
        if schema_version(db) == 0:
            raise DatabaseError(f"{describe(target)} is not a crm database (it has no crm tables)")
    finally:
        db.close()


def _sqlite_only(db, what: str) -> None:
    from peewee import SqliteDatabase

    if not isinstance(db, SqliteDatabase):
        raise DatabaseError(
            f"crm db {what} works on SQLite files; for PostgreSQL use pg_dump and pg_restore"
        )


def _dated_name(directory: Path, stem: str, when) -> Path:
    """A new file in `directory` named after `when` (-2, -3 ... when taken)."""
    base = f"{stem}-{when:%Y-%m-%d-%H%M}"
    for n in range(1, 1000):
        candidate = directory / (f"{base}.db" if n == 1 else f"{base}-{n}.db")
        if not os.path.lexists(candidate):
            return candidate
    raise DatabaseError(f"too many backups named {base}-*.db in {directory}")


def _copy_into_new_file(source_conn, dest: Path) -> None:
    """SQLite's online backup of `source_conn` into a temporary file beside `dest`, renamed to
    `dest` only when complete: a copy killed half-way leaves no file that looks finished.
    Never replaces a file that appeared at `dest` meanwhile."""
    import sqlite3
    import tempfile

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o600)
        os.close(fd)
        target = sqlite3.connect(tmp_name)
        try:
            source_conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        try:
            os.link(tmp, dest)  # fails if dest exists: never overwrites
        except FileExistsError:
            raise DatabaseError(f"{dest} exists; choose a new file name") from None
        except OSError:  # a file system without hard links
            if os.path.lexists(dest):
                raise DatabaseError(f"{dest} exists; choose a new file name") from None
            os.rename(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def backup(db, dest: Path, *, now) -> Path:
    """Copy the live SQLite database to `dest` (mode 0600) while others may be writing; a
    directory gets a new file named after `now` (crm-backup-2026-11-30-1415.db)."""
    _sqlite_only(db, "backup")
    dest = dest.expanduser()
    if dest.is_dir():
        dest = _dated_name(dest, "crm-backup", now)
    elif os.path.lexists(dest):
        if dest.is_symlink() and not dest.exists():
            check_new_file(dest, "backup")  # says where the dangling link points
        raise DatabaseError(f"{dest} exists; choose a new file name")
    check_new_file(dest, "backup")
    _copy_into_new_file(db.connection(), dest)
    return dest


def restore(db, source: Path, *, now) -> tuple[Path, list[str]]:
    """Replace the open SQLite database's content with the crm database `source` (checked
    first), after a safety copy of the current content beside it; then upgrade it. Returns
    the safety copy and the migrations that ran. The replacement is one SQLite transaction:
    other crm processes see the old database or the new one, never a mix."""
    import sqlite3

    _sqlite_only(db, "restore")
    source = source.expanduser()
    require_crm_schema(source)
    if source.resolve() == Path(db.path).resolve():
        raise DatabaseError(f"{source} is the database itself")
    if is_read_only(db):
        raise db.read_only_error()
    safety = _dated_name(Path(db.path).parent, f"{Path(db.path).stem}-before-restore", now)
    _copy_into_new_file(db.connection(), safety)
    src = sqlite3.connect(_read_only_uri(source), uri=True)
    try:
        src.backup(db.connection())
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot restore {source}: {exc} (the database is unchanged)") from exc
    finally:
        src.close()
    db.execute_sql("PRAGMA journal_mode = wal")
    return safety, ensure_schema(db)


def restore_new(path: Path, source: Path) -> list[str]:
    """Restore the crm database `source` (checked first) into `path`, which does not exist
    yet: a copy made beside it and linked into place when complete (never over a file that
    appeared meanwhile), then upgraded. No empty database first, no safety copy of nothing.
    Returns the migrations that ran."""
    import sqlite3

    source = source.expanduser()
    require_crm_schema(source)
    if path == default_path():
        _make_private_dirs(path.parent)
    check_new_file(path)
    src = sqlite3.connect(_read_only_uri(source), uri=True)
    try:
        _copy_into_new_file(src, path)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot restore {source}: {exc}") from exc
    finally:
        src.close()
    db = open_database(str(path), create=False, migrate=False)
    try:
        return ensure_schema(db)
    finally:
        db.close()


# Dialect helpers: where SQL differs between SQLite and PostgreSQL, services ask here.


def _bound_is_sqlite() -> bool:
    from peewee import SqliteDatabase

    from crmcli.models import database_proxy

    return isinstance(database_proxy.obj, SqliteDatabase)


def placeholder() -> str:
    """The parameter mark of the bound database's driver, for hand-written SQL."""
    return "?" if _bound_is_sqlite() else "%s"


def unmerged() -> str:
    """Ends an inner query that SQLite must not merge into the grouping around it (merged, it
    sorts whole rows instead of the few values the inner query makes); PostgreSQL needs none."""
    return " LIMIT -1" if _bound_is_sqlite() else ""


def scanned(table: str) -> str:
    """`table` (with its alias) read as a scan in table order: SQLite without stat4 cannot
    tell how many rows an index range holds and would jump through the index to each;
    PostgreSQL's planner knows from its statistics and needs no hint."""
    return f"{table} NOT INDEXED" if _bound_is_sqlite() else table


def plans_by_statistics() -> bool:
    """Whether the planner picks between an index range and a scan by itself (PostgreSQL)."""
    return not _bound_is_sqlite()


# Names of zones that are UTC at every instant (PostgreSQL's TimeZone setting), upper case.
_UTC_ZONES = frozenset(
    f"{prefix}{name}"
    for prefix in ("", "ETC/")
    for name in ("UTC", "UCT", "UNIVERSAL", "ZULU", "GMT", "GMT0", "GMT+0", "GMT-0", "GREENWICH")
)


# A table whose rows a bulk write changed past this share of what it held (and past
# BULK_ROWS) has its planner statistics made again before the commit (fresh_statistics).
BULK_SHARE = 0.1
BULK_ROWS = 1000
# Rows each table of the schema has had written by this connection and not yet reported to
# the server's statistics (that happens between transactions): within one transaction the
# difference between two readings is what the transaction wrote.
_WRITTEN = (
    "SELECT s.relname, s.n_tup_ins + s.n_tup_upd + s.n_tup_del, greatest(c.reltuples, 0) "
    "FROM pg_stat_xact_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema()"
)


@contextmanager
def fresh_statistics() -> Iterator[list[str]]:
    """Around a bulk write inside its transaction (an import, a restore, crm demo): on
    PostgreSQL, each table it changed by more than a tenth is ANALYZEd before the commit,
    what autovacuum would do minutes later. Until then the planner plans for the table as it
    was: after `crm demo` filled 1,000,000 contacts, a card with its timeline took 224 ms
    instead of 2 (10,000,000 activities planned as the empty table of the migration), crm
    remind 571 ms instead of 2. ANALYZE reads a sample (~1 s for 10,000,000 rows) and sees
    the transaction's rows. Nothing when the block raises, and nothing on SQLite (crm keeps
    no statistics there). Yields the list of tables analyzed, filled at the end."""
    analyzed: list[str] = []
    if _bound_is_sqlite():
        yield analyzed
        return
    from crmcli.models import database_proxy

    db = database_proxy.obj
    before = {name: n for name, n, _ in db.execute_sql(_WRITTEN).fetchall()}
    yield analyzed
    for name, written, held in db.execute_sql(_WRITTEN).fetchall():
        if written - before.get(name, 0) > max(BULK_ROWS, BULK_SHARE * held):
            analyzed.append(name)
    if analyzed:
        db.execute_sql("ANALYZE " + ", ".join(f'"{name}"' for name in sorted(analyzed)))


def utc_session() -> bool:
    """Whether the bound database is PostgreSQL in a session whose TimeZone is UTC (the
    server reports it at login and on every change, so asking costs no round trip). There
    `column AT TIME ZONE 'UTC'` reads a stored naive UTC datetime as the aware UTC datetime
    crm works with, made by psycopg2 in C: no Python call a value, ~0.6 µs each (a list of
    7,000 tasks has 21,000). Elsewhere the zone would show in the values (+01:00)."""
    if _bound_is_sqlite():
        return False
    from crmcli.models import database_proxy

    status = getattr(database_proxy.obj.connection(), "get_parameter_status", None)
    zone = status("TimeZone") if status is not None else None  # psycopg 3 has none: no
    return (zone or "").upper() in _UTC_ZONES


def as_utc(field):
    """`field` (a stored naive UTC datetime) selected as an aware UTC datetime; for a
    utc_session() only."""
    from peewee import SQL, NodeList

    return NodeList((field, SQL("AT TIME ZONE 'UTC'")))


def seconds_between(later: str, earlier: str) -> str:
    """SQL: whole seconds from `earlier` to `later` (stored naive UTC datetimes), truncated
    like int(timedelta.total_seconds())."""
    if not _bound_is_sqlite():
        return f"TRUNC(EXTRACT(EPOCH FROM ({later} - {earlier})))"
    import sqlite3

    # SQLite keeps datetimes as text, 'YYYY-MM-DD HH:MM:SS' and '.ffffff' unless 0: whole
    # seconds from the first 19 characters (the date functions round a fraction to
    # milliseconds), then one less when the fractions make the truncated difference smaller
    # in size (one more for a negative one). Both parts compare as text.
    epoch_of = "unixepoch({})" if sqlite3.sqlite_version_info >= (3, 38) else "strftime('%s', {})"
    late, early = f"substr({later}, 1, 19)", f"substr({earlier}, 1, 19)"
    late_f, early_f = f"substr({later}, 20)", f"substr({earlier}, 20)"
    return (
        f"({epoch_of.format(late)} - {epoch_of.format(early)} - CASE "
        f"WHEN {late_f} < {early_f} THEN {late} > {early} "
        f"WHEN {late_f} > {early_f} THEN -({late} < {early}) ELSE 0 END)"
    )


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


def insert_unless_taken(query, key) -> int | None:
    """Run `query`, an INSERT of one row, as INSERT ... ON CONFLICT (key) DO NOTHING: the new
    row's id, or None when a row with the same unique `key` exists (made by another process
    at the same moment, after this one looked: on PostgreSQL the insert waits for that
    process to commit, and a read after it sees the row). SQLite's lastrowid is the
    connection's last insert even when this one did nothing: the changed-row count decides."""
    from crmcli.models import database_proxy

    cursor = database_proxy.obj.execute(query.on_conflict(conflict_target=[key], action="NOTHING"))
    if _bound_is_sqlite():
        return cursor.lastrowid if cursor.rowcount == 1 else None
    row = cursor.fetchone()
    return row[0] if row else None


# PostgreSQL finds `column ILIKE '%fragment%'` (a REF by part of a name, an email fragment)
# through trigram GIN indexes (the pg_trgm extension) instead of reading every row; SQLite
# scans its small rows fast enough. Made by migration 0011, or by `crm db check --repair`
# once the extension may be made.
TRIGRAM_INDEXES = (
    ("contact", "name_key"),
    ("contact", "email_key"),
    ("company", "name_key"),
    ("deal", "name_key"),
)
# What the migration and `crm db check` tell a user whose role may not enable pg_trgm (before
# PostgreSQL 13 only a superuser may; from 13 on, the database's owner too).
TRIGRAM_ADVICE = (
    "PostgreSQL's pg_trgm extension is not enabled in this database and this role may not "
    "enable it, so finding a record by part of its name reads every row; ask the database's "
    "owner or a superuser to run `CREATE EXTENSION pg_trgm;` in it, then run `crm db check "
    "--repair`"
)
# Said once on stderr by the command that opened the database (env.Env.db): what a
# migration could not do and someone should.
NOTICES: list[str] = []


def _trigram_index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"


def missing_trigram_indexes(db) -> list[str]:
    """The trigram indexes (names) a PostgreSQL database lacks; [] on SQLite."""
    from peewee import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        return []
    wanted = [_trigram_index_name(t, c) for t, c in TRIGRAM_INDEXES]
    found = {
        name
        for (name,) in db.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname = ANY(%s)",
            (wanted,),
        ).fetchall()
    }
    return [name for name in wanted if name not in found]


def make_trigram_indexes(db) -> bool:
    """Enable pg_trgm if this role may (CREATE EXTENSION IF NOT EXISTS: a superuser, or from
    PostgreSQL 13 the database's owner) and make the missing trigram indexes. False when the
    extension is not there and may not be made (nothing changed: the queries still work, by
    reading every row). Call inside a transaction (the extension is tried in a savepoint)."""
    if not missing_trigram_indexes(db):
        return True
    from peewee import DatabaseError as PeeweeDatabaseError

    schema = _trigram_schema(db)
    if schema is None:
        try:
            with db.atomic():  # a savepoint: a refusal must not end the whole transaction
                db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except PeeweeDatabaseError:  # no privilege, or the contrib package is not installed
            return False
        schema = _trigram_schema(db)
    for table, column in TRIGRAM_INDEXES:
        # The operator class is named with its schema: the extension may live in a schema
        # other than the tables' (another application's, or public).
        db.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "{_trigram_index_name(table, column)}" ON "{table}" '
            f'USING gin ("{column}" "{schema}".gin_trgm_ops)'
        )
    return True


def _trigram_schema(db) -> str | None:
    row = db.execute_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).fetchone()
    return row[0] if row else None
