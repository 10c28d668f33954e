"""Docs that tests enforce: every command is in the README and has help with an example."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command

from crmcli.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def leaf_commands():
    from typer._click import Context

    root = get_command(app)
    ctx = Context(root)
    for name in root.list_commands(ctx):
        cmd = root.get_command(ctx, name)
        if hasattr(cmd, "list_commands"):
            sub_ctx = Context(cmd, parent=ctx)
            for subname in cmd.list_commands(sub_ctx):
                yield f"{name} {subname}", cmd.get_command(sub_ctx, subname)
        else:
            yield name, cmd


@pytest.mark.parametrize(("path", "cmd"), list(leaf_commands()), ids=lambda v: str(v))
def test_command_is_documented(path, cmd):
    assert f"`crm {path}" in README, f"crm {path} is missing from the README command reference"
    assert cmd.help and "Example" in cmd.help, f"crm {path} --help needs an example"


def groups():
    from typer._click import Context

    root = get_command(app)
    ctx = Context(root)
    for name in root.list_commands(ctx):
        cmd = root.get_command(ctx, name)
        if hasattr(cmd, "list_commands"):
            yield name, cmd, Context(cmd, parent=ctx)


@pytest.mark.parametrize(("name", "group", "ctx"), list(groups()), ids=lambda v: str(v))
def test_group_help_lists_every_command_with_a_whole_sentence(name, group, ctx):
    from typer.testing import CliRunner

    from crmcli.cli import short_help

    out = CliRunner().invoke(app, [name, "--help"]).stdout
    for box in "│╭╮╰╯─":  # typer may draw boxes in-process (the crm script never does)
        out = out.replace(box, " ")
    listing = " ".join(out.split("Commands")[-1].split())
    for sub in group.list_commands(ctx):
        sentence = short_help(group.get_command(ctx, sub).help)
        assert sentence.endswith((".", "?", "!")), (name, sub, sentence)  # never cut
        assert f"{sub} {sentence}" in listing, (name, sub, listing)


@pytest.mark.parametrize("name", ["add", "list"])
def test_group_summary_names_every_kind(name):
    from typer.testing import CliRunner

    from crmcli.cli import COMMANDS

    out = CliRunner().invoke(app, [name, "--help"]).stdout
    summary = out.split("Options:")[0]
    root = CliRunner().invoke(app, ["--help"]).stdout
    line = next(ln for ln in root.splitlines() if ln.strip().startswith(name + " "))
    for kind in ("contact", "compan", "deal", "task"):
        assert kind in summary, (name, kind)
        assert kind in line or kind in COMMANDS[name][2], (name, kind)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["ls"], "list"), (["rm", "3"], "delete"), (["new", "contact"], "add"),
        (["lsit"], "list"), (["shwo", "1"], "show"), (["list", "contact"], "contacts"),
        (["add", "deals", "x"], "deal"), (["report", "funel"], "funnel"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)  # fmt: skip
def test_a_mistyped_command_suggests_what_was_meant(typed, meant):
    from typer.testing import CliRunner

    r = CliRunner().invoke(app, typed)
    assert r.exit_code == 2
    assert f"Did you mean '{meant}'?" in r.stderr, r.stderr


def test_root_help_entries_are_whole_sentences():
    from crmcli.cli import COMMANDS

    for name, (_, _, text) in COMMANDS.items():
        assert text.endswith(".") and not text.endswith("..."), (name, text)
