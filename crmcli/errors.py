"""Typed domain errors raised by services and values; the CLI edge turns them into exit codes.

An error carries facts, not instructions: its message says what is wrong in words any front
end can show, and `action` names what the user can do about it (a code such as
"reopen_deal") with the facts a front end needs to word that (`facts`: deal=12, ...). The CLI
words those as commands and flags (crmcli/commands/hints.py); a screen offers a button. A
service message never names a `crm` command or a `--flag` (a test holds every one to that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class CrmError(Exception):
    """Base of every error a user can cause. The message is one line, meant for people."""

    exit_code = 1

    def __init__(self, *args: object, action: str | None = None, **facts: Any):
        super().__init__(*args)
        self.action = action
        self.facts = facts


class NotFound(CrmError):
    """No record matches a reference."""


class Invalid(CrmError):
    """A value a user gave cannot be accepted."""

    def __init__(self, field: str | None, why: str, *, action: str | None = None, **facts: Any):
        self.field = field
        self.why = why
        super().__init__(f"{field}: {why}" if field else why, action=action, **facts)


class Conflict(CrmError):
    """The change would break a rule of the data (a duplicate, a record still in use)."""


class DatabaseError(CrmError):
    """The database cannot be opened or used (missing, newer than this program, corrupt)."""


class Candidate(NamedTuple):
    id: int
    name: str
    detail: str = ""


class Ambiguous(CrmError):
    """A reference matches more than one record; nothing was changed."""

    def __init__(self, kind: str, ref: str, candidates: Sequence[Candidate], total: int | None):
        """`total`: how many match; None when more match than the candidates (not counted)."""
        self.kind = kind
        self.ref = ref
        self.candidates = list(candidates)
        self.total = total
        many = f"more than {len(self.candidates)}" if total is None else total
        super().__init__(f"{kind} '{ref}' is ambiguous: {many} match")
