"""`crm tui` from a script: it needs a terminal and says so in one line; a bad screen name
lists the screens."""

from __future__ import annotations


def test_crm_tui_without_a_terminal_is_one_clear_error(crm):
    result = crm("tui")
    assert result.exit_code != 0
    assert result.stderr.strip() == (
        "crm: error: crm tui needs a terminal (stdin and stdout); "
        "for scripts use crm list, crm show and crm report"
    )
    assert result.stdout == ""


def test_an_unknown_screen_names_the_screens(crm):
    result = crm("tui", "--screen", "kanban")
    assert result.exit_code != 0
    assert "no screen 'kanban' (choose today, contacts, companies, tasks, pipeline, reports)" in (
        result.stderr
    )
