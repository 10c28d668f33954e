"""The one thread that talks to the database for crm tui.

Every service call of a screen runs here, never on the thread that draws: the interface does
not freeze on a slow query, and the calls share one connection (peewee keeps a connection per
thread; SQLite's and PostgreSQL's alike), opened on the first call. Errors a user can cause
come back as `Failed` with one line to show, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Failed(Exception):
    """A database call that did not work; `str()` is the line to show the user."""


class Gateway:
    def __init__(self, db) -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-db")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the database thread; raises Failed with a message."""
        loop = asyncio.get_running_loop()
        job = functools.partial(self._run, fn, args, kwargs)
        return await loop.run_in_executor(self._pool, job)

    def _run(self, fn, args, kwargs):
        try:
            self._connected()
            return fn(*args, **kwargs)
        except Exception as exc:  # every error becomes one line for a notification
            raise Failed(describe(exc)) from exc

    def _connected(self) -> None:
        """Open the connection, or open it again when the server dropped it while the app
        sat idle (a restart, an idle timeout, a pooler recycling its connections): a
        PostgreSQL connection says it was dropped only when it is used, so it is asked a
        `SELECT 1` first (one round trip a call), and a dead one is replaced before the call
        runs. A call is never run twice: one cut off midway fails, and the next call finds a
        new connection."""
        from peewee import PostgresqlDatabase

        db = self.db
        db.connect(reuse_if_open=True)
        if not isinstance(db, PostgresqlDatabase):
            return
        try:
            with db.connection().cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # the driver's: the connection is gone
            with contextlib.suppress(Exception):
                db.close()
            db.connect()

    def close(self) -> None:
        def shut() -> None:
            if not self.db.is_closed():
                self.db.close()

        with contextlib.suppress(Exception):  # best effort: the process ends anyway
            self._pool.submit(shut).result(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)


def describe(exc: BaseException) -> str:
    """One line for a user about an error from a service or the database."""
    from peewee import IntegrityError, InterfaceError, OperationalError

    from crmcli.errors import Ambiguous, CrmError

    if isinstance(exc, Ambiguous):
        names = ", ".join(c.name for c in exc.candidates[:5])
        more = exc.total is None or exc.total > 5
        return f"{exc} ({names}{', ...' if more else ''})"
    if isinstance(exc, CrmError):
        return str(exc)
    text = " ".join(str(exc).split())
    if isinstance(exc, OperationalError) and "locked" in text:
        return "the database is busy (another crm is writing): try again in a moment"
    if isinstance(exc, IntegrityError):
        return f"not saved: the change breaks a rule of the data ({text})"
    if isinstance(exc, (OperationalError, InterfaceError)):
        lowered = text.lower()
        if any(part in lowered for part in _UNREACHABLE):
            return "cannot reach the database server (down or restarting?): try again in a moment"
        if any(part in lowered for part in _LOST):
            return (
                "the connection to the database server was lost: a change in progress may "
                "not have been saved, check before you repeat it"
            )
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# What psycopg2 says when a connection cannot be made (the server down, starting or
# stopping) and when one it had went away.
_UNREACHABLE = (
    "connection refused", "could not connect", "could not translate host name",
    "the database system is starting up", "the database system is shutting down",
    "the database system is in recovery mode", "timeout expired",
)  # fmt: skip
_LOST = (
    "server closed the connection", "connection already closed", "terminating connection",
    "could not receive data from server", "could not send data to server",
)  # fmt: skip
