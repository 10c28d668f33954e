"""The command context: which database, whether stdout is a terminal, and the clock.

Built once per `crm` call by the root callback; tests replace pieces of it (the clock,
the terminal flag) to make "tomorrow 9:00" and table output deterministic.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime


def _system_now() -> datetime:
    # CRM_NOW pins the clock for reproducible scripts and tests (an ISO datetime with offset).
    pinned = os.environ.get("CRM_NOW")
    if pinned:
        try:
            value = datetime.fromisoformat(pinned)
        except ValueError:
            from crmcli.errors import Invalid

            raise Invalid("CRM_NOW", f"'{pinned}' is not an ISO datetime") from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)


LOCALES = ("de", "en")


def check_settings() -> None:
    """Refuse settings from the environment that crm would otherwise ignore without a word.
    CRM_LOCALE is de or en (de_DE.UTF-8 and the like too); empty means unset, so that the
    LC_ALL, LC_TIME and LANG rule of output.locale() applies. (TZ is checked when a command
    opens the database: see commands.common.db.)"""
    chosen = os.environ.get("CRM_LOCALE")
    if chosen is None:
        return
    if not chosen.strip():
        del os.environ["CRM_LOCALE"]
        return
    code = chosen.strip().lower()
    for separator in "._@-":  # de_DE.UTF-8, de_AT@euro, de-CH
        code = code.split(separator)[0]
    if code not in LOCALES:
        from crmcli.errors import Invalid

        shown = chosen if len(chosen) <= 40 else chosen[:37] + "..."
        raise Invalid(
            "CRM_LOCALE",
            f"{shown!r} is not a locale crm has (choose de or en, or unset it for ISO dates)",
        )


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


class Env:
    """One `crm` call's context (a plain class: a dataclass would cost start-up time)."""

    def __init__(
        self,
        db_option: str | None = None,
        debug: bool = False,
        now: Callable[[], datetime] = _system_now,
        stdout_isatty: bool | None = None,
        stdin_isatty: bool | None = None,
    ):
        self.db_option = db_option
        self.debug = debug
        self.now = now
        self.stdout_isatty = stdout_is_terminal() if stdout_isatty is None else stdout_isatty
        self.stdin_isatty = stdin_is_terminal() if stdin_isatty is None else stdin_isatty
        self._db: object | None = None
        # A SQLite file this call created, and whether to say so when the call succeeds (a
        # call that fails removes it again: see close).
        self._made: tuple[object, bool] | None = None

    @property
    def color(self) -> bool:
        """Colour and box drawing only for a person at a terminal who has not asked for NO_COLOR."""
        return (
            self.stdout_isatty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        )

    @property
    def target(self) -> str:
        from crmcli.db import resolve_target

        return resolve_target(self.db_option)

    def db(self, *, create: bool = True, announce: bool = True):
        """The open database, opened (and migrated) on first use. A SQLite file that does not
        exist is created only with `create` (a command that writes), and said once on stderr
        when the command succeeds (unless not `announce`: the caller says it); a command that
        only reads refuses it (db.missing_database). The default file under the user's data
        directory is made silently by any command."""
        if self._db is None:
            from crmcli.collector import resume
            from crmcli.db import NOTICES, new_file, open_database

            made = new_file(self.target) if create else None  # a stat, no import
            self._db = open_database(self.target, create=create)  # imports peewee and models
            if made is not None:
                self._made = (made, announce)
            while NOTICES:  # what an upgrade could not do and someone should
                sys.stderr.write(f"crm: warning: {NOTICES.pop(0)}\n")
            resume()  # start-up is over: the command's own work runs with the collector on
        return self._db

    @property
    def opened(self) -> bool:
        """Whether this command's database is open already."""
        return self._db is not None

    def db_in_memory(self, path) -> object:
        """An empty database in memory for `path`, a file that does not exist (a dry run)."""
        if self._db is None:
            from crmcli.collector import resume
            from crmcli.db import open_in_memory

            self._db = open_in_memory(path)
            resume()
        return self._db

    def say_made(self) -> None:
        """Say now that this call created its database file (once), ahead of the command's own
        report of success; the file is still removed if the call fails after all."""
        if self._made is not None and self._made[1]:
            path = self._made[0]
            self._made = (path, False)
            sys.stderr.write(f"crm: created a new database at {path}\n")

    def close(self, *, failed: bool = False) -> None:
        """Close the database. A file this call created is said when the call succeeded, and
        removed when it `failed`: nothing landed in it (a typo in --db, a refused first
        command) and an empty database must not be left behind."""
        if self._db is not None:
            self._db.close()
            self._db = None
        made, self._made = self._made, None
        if made is None:
            return
        path, announce = made
        if failed:
            from crmcli.db import remove_new_file

            remove_new_file(path)  # type: ignore[arg-type]
        elif announce:
            sys.stderr.write(f"crm: created a new database at {path}\n")


_current = Env()


def current() -> Env:
    return _current


def install(env: Env) -> Env:
    global _current
    _current.close()
    _current = env
    return env
