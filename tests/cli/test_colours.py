"""Overdue tasks and reminders red, today's highlighted: on a terminal only."""

from __future__ import annotations

import re

import pytest

RED = "\x1b[31m"
TODAY = "\x1b[1;33m"


@pytest.fixture
def due(crm):
    crm("add", "contact", "Jürgen Müller")
    for title, when in (("Alt", "-2d"), ("Heute", "today 18:00"), ("Später", "+5d")):
        assert crm("add", "task", title, "--contact", "müller", "--due", when).exit_code == 0
    return crm


def styled_lines(text: str) -> dict[str, str]:
    """Each row's title -> the escape sequence it starts with."""
    out = {}
    for line in text.splitlines():
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
        for title in ("Alt", "Heute", "Später"):
            if f" {title} " in plain or plain.rstrip().endswith(title):
                found = re.search(r"\x1b\[([0-9;]*)m", line)
                out[title] = found.group(0) if found else ""
    return out


@pytest.mark.parametrize("args", [("list", "tasks"), ("show", "müller"), ("remind", "-w", "1w")])
def test_overdue_red_and_today_highlighted_on_a_terminal(due, monkeypatch, args):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    styles = styled_lines(due(*args).stdout)
    assert styles["Alt"] == RED and styles["Heute"] == TODAY, styles
    assert styles["Später"] not in (RED, TODAY)


@pytest.mark.parametrize("args", [("list", "tasks"), ("show", "müller"), ("remind", "-w", "1w")])
def test_no_colour_when_piped_or_no_color(due, monkeypatch, args):
    from crmcli import env

    out = due(*args).stdout
    assert "\x1b[" not in out and "Alt" in out
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("PAGER", "cat")
    out = due(*args, *(["--all"] if args[0] == "remind" else [])).stdout
    assert "\x1b[" not in out and "Alt" in out
