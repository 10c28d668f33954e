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
