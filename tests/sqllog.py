"""The SQL a block of code sends, as peewee logs it: for tests of which statements run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """A list that fills with the text of every statement peewee executes in the block."""
    sent: list[str] = []

    class Seen(logging.Handler):
        def emit(self, record):
            sent.append(record.msg[0])

    log = logging.getLogger("peewee")
    seen, level = Seen(), log.level
    log.addHandler(seen)
    log.setLevel(logging.DEBUG)
    try:
        yield sent
    finally:
        log.removeHandler(seen)
        log.setLevel(level)
