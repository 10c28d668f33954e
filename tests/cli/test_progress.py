"""The progress line every import shows (commands.common.Progress): on a terminal only, and
only for work that takes more than a second."""

from __future__ import annotations

import io
import sys

from crmcli.commands import common as c


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_when_stderr_is_not_a_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress = c.Progress("Importing vCards", unit="cards")
    progress.start -= 5
    progress(1000)
    progress.stop()
    assert err.getvalue() == ""


def test_a_terminal_sees_it_after_a_second_and_in_its_unit(monkeypatch):
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    progress = c.Progress("Importing vCards", unit="cards")
    progress(10)  # a quick import draws nothing
    assert err.getvalue() == ""
    progress.start -= 5
    progress(1000)
    progress.stop()
    assert "Importing vCards" in err.getvalue() and "1,000 cards" in err.getvalue()
