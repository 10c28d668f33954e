"""Docs that tests enforce: every command is in the README with every option, has help with an
example, and every option the README names exists where it is named."""

from __future__ import annotations

import re
import shlex
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


def _named(value) -> str:
    """A test id that is the same in every process (pytest-xdist's workers must collect the
    same ids): the text, or the object's type, never its address."""
    return value if isinstance(value, str) else type(value).__name__


@pytest.mark.parametrize(("path", "cmd"), list(leaf_commands()), ids=_named)
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


@pytest.mark.parametrize(("name", "group", "ctx"), list(groups()), ids=_named)
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


# The README names options; each one it names must exist, on the command it names it for.


def _commands():
    """'path' -> click command for every command and group ('' is the root)."""
    from typer._click import Context

    root = get_command(app)
    found = {"": root}

    def walk(cmd, prefix, ctx):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            path = f"{prefix} {name}".strip()
            found[path] = sub
            if hasattr(sub, "list_commands"):
                walk(sub, path, Context(sub, parent=ctx))

    walk(root, "", Context(root))
    return found


COMMANDS = _commands()
ROOT_VALUE_OPTIONS = {"--db"}


def _options(cmd) -> dict[str, bool]:
    """Each option string of `cmd` -> whether it takes a value."""
    opts = {"--help": False, "-h": False}
    for p in cmd.params:
        if getattr(p, "param_type_name", "") != "option":
            continue
        takes = not (p.is_flag or p.count)
        for o in [*p.opts, *p.secondary_opts]:
            opts[o] = takes
    return opts


def _where_filters() -> dict[str, bool]:
    filters = {**_options(COMMANDS["list contacts"]), **_options(COMMANDS["list companies"])}
    filters["--all"] = False
    return filters


def _resolve(words: list[str]):
    """The longest command path at the start of `words` (after global options), and the rest."""
    while words and words[0].startswith("--"):
        words = words[2:] if words[0] in ROOT_VALUE_OPTIONS else words[1:]
    path = ""
    for i in range(len(words), 0, -1):
        if " ".join(words[:i]) in COMMANDS:
            path = " ".join(words[:i])
            return path, words[i:]
    return "", words


CRM_AT = re.compile(r"(?:^|[\s/`])crm\s+(.*)")


def _readme_invocations():
    """(where, text after 'crm') for every `crm ...` code span and code-block line."""
    found = []
    in_block = False
    for n, line in enumerate(README.splitlines(), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:  # a shell line may run crm more than once: a && b | c
            for part in re.split(r"\s(?:&&|\|\|?|;)\s", line.split(" # ")[0]):
                m = CRM_AT.search(part)
                if m:
                    found.append((n, m.group(1)))
            continue
        for span in re.findall(r"`([^`]+)`", line):
            if span.startswith("crm "):
                found.append((n, span[4:]))
    return found


@pytest.mark.parametrize(("line", "text"), _readme_invocations(), ids=lambda v: str(v))
def test_every_option_the_readme_names_exists(line, text):
    text = text.replace("\\|", "|")
    if "[" in text:  # a reference synopsis: options listed without their values
        words = text.split()
        path, _ = _resolve(words[:3])
        opts = _options(COMMANDS[path])
        if "--where" in words:
            opts = {**opts, **_where_filters()}
        named = re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[A-Za-z])\b", text)
        missing = [o for o in named if o not in opts]
        assert not missing, f"README line {line}: crm {path} has no {missing}"
        return
    command = re.split(r"\s(?:&&|\|\|?|#|>|<|;)\s", " " + text + " ")[0]
    words = shlex.split(command)
    path, rest = _resolve(words)
    if not path and rest and not rest[0].startswith("-"):
        return  # a placeholder such as `crm COMMAND --help`
    opts = _options(COMMANDS[path])
    if not path:
        opts.update({"--db": True, "--debug": False, "--version": False})
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--where":
            opts = {**_where_filters(), "--yes": False, "-y": False, "--dry-run": False}
        elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            name = word.split("=", 1)[0]
            assert name in opts, f"README line {line}: crm {path} has no {name}: crm {text}"
            i += opts[name]  # skip its value
        i += 1


def test_the_short_option_list_is_every_short_option():
    paragraph = README[README.index("A short option means the same") :].split("\n\n")[0]
    documented = dict(re.findall(r"`(-[A-Za-z])`(?: is)? `(--[a-z-]+)`", paragraph))
    actual = {}
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            longs = [o for o in p.opts if o.startswith("--")]
            for o in p.opts:
                if re.fullmatch(r"-[A-Za-z]", o):
                    assert documented.get(o) == longs[0], f"crm {path}: {o} is {longs[0]}"
                    actual[o] = longs[0]
    actual["-h"] = "--help"
    assert documented == actual


def _reference_rows() -> dict[str, str]:
    """'path' -> the synopsis cell(s) of its row in the command reference."""
    table = README[README.index("## Command reference") : README.index("## Conventions")]
    rows: dict[str, str] = {}
    for line in table.splitlines():
        if not line.startswith("| `crm "):
            continue
        cell = re.split(r"(?<!\\)\|", line)[1]
        for span in re.findall(r"`crm ([^`]+)`", cell):
            path, _ = _resolve(span.split()[:3])
            rows[path] = rows.get(path, "") + " " + span.replace("\\|", "|")
    return rows


# edit's `--FIELD VALUE` stands for its many fields; these are the ones its row must name.
EDIT_NAMED = {"--clear", "--tag", "--untag", "--field", "--where", "--yes", "--dry-run"}


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=str)
def test_the_reference_names_every_option(path):
    rows = _reference_rows()
    if path not in rows:
        assert hasattr(COMMANDS[path], "list_commands"), f"crm {path} has no row"
        return  # a group whose commands have rows (crm stages has its own)
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[A-Za-z])\b", rows[path]))
    missing = []
    for param in COMMANDS[path].params:
        opts = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
        long = next((o for o in opts if o.startswith("--")), None)
        if getattr(param, "param_type_name", "") != "option" or long in {"--help", "--output"}:
            continue
        if path == "edit" and long not in EDIT_NAMED:
            continue
        if not named & set(opts):
            missing.append(long)
    assert not missing, f"crm {path}'s row misses {missing}"
