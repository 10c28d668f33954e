"""SQLite's memory statistics off for a process with much work for SQLite (an export, an
import): each allocation SQLite makes then takes no global lock.

SQLite counts the memory it allocates (SQLITE_CONFIG_MEMSTATUS, on by default) under one
mutex that every connection of the process shares, and the library Debian ships allocates
without a lookaside buffer: a line of a whole export takes dozens of allocations, so the
counting was 18 % of SQLite's time making export lines in one thread, and two threads
making them side by side wait for each other at that lock (services/exports_sqlite.py).
SQLite's own list of recommended options turns it off; crm cannot choose how the library
was built, so it sets it through the C interface, which allows that only while SQLite is
not initialised: shut down first, which is allowed only with nothing of SQLite's in use.
So it is done only when SQLite holds no memory at all (sqlite3_memory_used(): no
connection open, none left unclosed), and only with the very library the sqlite3 module
uses (found in the process's memory map; elsewhere, or when anything fails, nothing
changes and crm works as before). Nothing in crm reads the statistics."""

from __future__ import annotations

_done: bool | None = None  # whether the statistics are off (None: not tried yet)
_CONFIG_MEMSTATUS = 9  # SQLITE_CONFIG_MEMSTATUS


def _library() -> str | None:
    """The path of the SQLite library the sqlite3 module is linked with, when it is a shared
    library this process has loaded (Linux)."""
    import sqlite3  # noqa: F401  (loads the library)

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").partition("/")[2]
                if path and "libsqlite3" in path.rsplit("/", 1)[-1]:
                    return "/" + path
    except OSError:
        return None
    return None


def without_memory_statistics() -> bool:
    """Turn SQLite's memory statistics off for this process when that is safe (see above);
    whether they are off. Call it before the command opens its database."""
    global _done
    if _done is not None:
        return _done
    _done = False
    path = _library()
    if path is None:
        return False
    try:
        import ctypes

        lib = ctypes.CDLL(path)
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        if lib.sqlite3_memory_used() != 0:  # a connection is open: leave SQLite as it is
            return False
        if lib.sqlite3_shutdown() != 0:
            return False
        configured = lib.sqlite3_config(_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0
        if lib.sqlite3_initialize() != 0:
            return False
    except (OSError, AttributeError):
        return False
    _done = configured
    return configured
