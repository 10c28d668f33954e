"""Every command's --help as a person sees it at 80 columns (the installed `crm`, plain help):
option names never split at a hyphen, examples one command a line (click's \\b blocks, never
rewrapped into each other), arguments named as the README names them (NAME, [KIND] REF, never
typer's {name}), no internal number ranges, and help that fits what it describes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

RENDER = r"""
import json, sys
from crmcli.cli import app  # first: it makes help plain, as the installed crm does
from typer._click import Context
from typer.main import get_command

root = get_command(app)
paths = {"": root}

def walk(cmd, prefix, ctx):
    for name in cmd.list_commands(ctx):
        sub = cmd.get_command(ctx, name)
        path = f"{prefix} {name}".strip()
        paths[path] = sub
        if hasattr(sub, "list_commands"):
            walk(sub, path, Context(sub, parent=ctx))

walk(root, "", Context(root))
out = {}
for path, cmd in paths.items():
    parent = Context(root, info_name="crm", terminal_width=80, **root.context_settings)
    ctx = parent
    for word in path.split():
        ctx = Context(ctx.command.get_command(ctx, word), parent=ctx, info_name=word)
    out[path] = ctx.get_help()
json.dump(out, sys.stdout)
"""


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("TYPER_USE_RICH", None)
    done = subprocess.run(
        [sys.executable, "-c", RENDER], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def _examples(text: str) -> list[str]:
    """The example lines of a help page: the block after its `Example...:` paragraph."""
    paragraphs = text.split("\n\n")
    for i, para in enumerate(paragraphs):
        if re.match(r"\s*Examples?\b.*:\s*$", para, re.S) and i + 1 < len(paragraphs):
            return paragraphs[i + 1].splitlines()
    return []


CRON = re.compile(r"^(\S+ ){5}\s*\$HOME/\S+/crm ")


def test_every_command_has_help(helps):
    assert len(helps) > 40 and all(helps.values())


def test_help_fits_80_columns_and_never_splits_an_option_name(helps):
    for path, text in helps.items():
        for line in text.splitlines():
            assert len(line) <= 80, (path, line)
            # a line that ends in a letter and a hyphen is a word (--move-to) cut in two
            assert not re.search(r"[A-Za-z]-$", line), (path, line)


def test_examples_are_one_command_a_line(helps):
    for path, text in helps.items():
        if not path or path in {"add", "list", "report", "db"}:  # groups list their commands
            continue
        lines = _examples(text)
        assert lines, f"crm {path} --help has no example block"
        continued = False
        for raw in lines:
            line = raw.strip()
            if continued:
                pass  # the rest of a command broken with a backslash
            elif line.startswith("echo ") and " | " in line:
                pass  # a documented pipe into crm: echo "..." | crm log ...
            elif CRON.match(line):
                pass  # a crontab line, with the full path cron needs
            else:
                line = re.sub(r"^crm --db \S+ ", "crm ", line)  # a global option first
                assert line.startswith(f"crm {path}".rstrip() + " ") or line == f"crm {path}", (
                    path,
                    line,
                )
            continued = line.endswith("\\")
            assert " ; " not in line and not re.search(r"\| crm \w", line.split("echo")[0]), (
                path,
                line,
            )


def test_usage_lines_name_arguments_in_capitals(helps):
    for path, text in helps.items():
        usage = text.splitlines()[0]
        assert usage.startswith("Usage: crm"), usage
        assert "{" not in usage and not re.search(r"\[[a-z]+\]", usage), usage
        for arg in re.findall(r"\b[a-z]+\.\.\.", usage):
            raise AssertionError(f"{path}: {arg} in {usage}")


def test_no_internal_ranges_or_generic_metavars(helps):
    for path, text in helps.items():
        assert "1000000000" not in text, path
        assert "<str>" not in text and "<int" not in text, path
    assert "default:" in helps["show"] and "0<=x" not in helps["show"]
    assert "at most" in helps["add task"] and "1<=x<=" not in helps["add task"]


def test_log_owner_is_about_the_interaction(helps):
    owner = helps["log"].split("--owner", 1)[1].split("\n  -")[0]
    assert "contact" not in owner
    assert "/crm remind" in helps["remind"]  # cron needs the full path


def test_the_command_list_names_what_each_group_does():
    """`crm --help`: the line of add, list and report names each of their subcommands; show,
    edit and delete name each kind they take."""
    from crmcli.cli import COMMANDS
    from crmcli.commands import add, common, edit, listing

    def words(group: str) -> set[str]:
        return set(re.findall(r"[a-z]+", COMMANDS[group][2].lower()))

    for group, module in (("add", add), ("list", listing)):
        names = {i.name for i in module.app.registered_commands}
        assert names <= words(group), (group, names - words(group))
    assert {"roi", "commissions", "vat", "service"} <= words("report")
    assert set(common.SHOWN_KINDS) <= words("show")
    assert set(edit.ALLOWED) <= words("edit")
    assert {*common.KINDS, "campaign"} <= words("delete")
