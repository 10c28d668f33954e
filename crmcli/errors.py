"""Typed domain errors raised by services and values; the CLI edge turns them into exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class CrmError(Exception):
    """Base of every error a user can cause. The message is one line, meant for people."""

    exit_code = 1


class NotFound(CrmError):
    """No record matches a reference."""


class Invalid(CrmError):
    """A value a user gave cannot be accepted."""

    def __init__(self, field: str | None, why: str):
        self.field = field
        self.why = why
        super().__init__(f"{field}: {why}" if field else why)


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

    def __init__(self, kind: str, ref: str, candidates: Sequence[Candidate], total: int):
        self.kind = kind
        self.ref = ref
        self.candidates = list(candidates)
        self.total = total
        super().__init__(f"{kind} '{ref}' is ambiguous: {total} match")
