"""Who is acting: the name written into histories (a deal's stage changes, a resolved complaint)."""

from __future__ import annotations


def acting_user() -> str | None:
    """$CRM_USER, else the login name; None when the system knows no name for this process."""
    import getpass
    import os

    try:
        return os.environ.get("CRM_USER") or getpass.getuser()
    except (KeyError, OSError):
        return None
