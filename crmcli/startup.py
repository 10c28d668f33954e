"""What a crm process does first with its command line, before the CLI's imports: pick the
database driver's way in. The console script (crmcli.launch) and crmcli.cli.main call it;
it imports crmcli.db alone (no cycle back to the CLI)."""

from __future__ import annotations

import os


def prepare(args: list[str]) -> None:
    """One process uses one database: when it is SQLite, hide the server drivers peewee would
    import before anything imports peewee; when it is PostgreSQL and the command line names a
    command, start the login now, in a thread (db.connect_early). Idempotent."""
    from crmcli.db import connect_early, hide_server_drivers, is_postgres, resolve_target

    target = resolve_target(_option_value(args, "--db"))
    if not is_postgres(target):
        hide_server_drivers()
    elif _opens_database(args):
        connect_early(target)


def _option_value(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


# Options after which crm prints something and opens no database.
_NO_DATABASE = frozenset({"--help", "-h", "--version", "--install-completion", "--show-completion"})


def _opens_database(args: list[str]) -> bool:
    """Whether a command line names a command (a word that is neither an option nor --db's
    value) and asks for no help; shell completion (_CRM_COMPLETE set) opens none either."""
    if _NO_DATABASE.intersection(args) or os.environ.get("_CRM_COMPLETE"):
        return False
    words = [a for i, a in enumerate(args) if not (i and args[i - 1] == "--db")]
    return any(not a.startswith("-") for a in words)
