"""One meaning per short option in every command: -c is --company, -C --contact."""

from __future__ import annotations

from typer._click import Context
from typer.main import get_command

from crmcli.cli import app


def every_command():
    root = get_command(app)
    ctx = Context(root)
    for name in root.list_commands(ctx):
        cmd = root.get_command(ctx, name)
        if hasattr(cmd, "list_commands"):
            sub_ctx = Context(cmd, parent=ctx)
            yield from (
                (f"{name} {s}", cmd.get_command(sub_ctx, s)) for s in cmd.list_commands(sub_ctx)
            )
            yield name, cmd
        else:
            yield name, cmd


def test_each_short_option_means_one_long_option_everywhere():
    meanings: dict[str, set[tuple[str, str]]] = {}
    for path, cmd in every_command():
        for param in cmd.params:
            longs = [o for o in param.opts if o.startswith("--")]
            for short in (o for o in param.opts if len(o) == 2 and o.startswith("-")):
                meanings.setdefault(short, set()).add((longs[0] if longs else "", path))
    clashes = {
        short: sorted(uses)
        for short, uses in meanings.items()
        if len({long for long, _ in uses}) > 1
    }
    assert clashes == {}, clashes
    assert {long for long, _ in meanings["-c"]} == {"--company"}
    assert {long for long, _ in meanings["-C"]} == {"--contact"}
    assert {long for long, _ in meanings["-s"]} == {"--status"}
    assert {long for long, _ in meanings["-S"]} == {"--stage"}


def test_contact_and_company_letters_work(crm):
    crm("add", "contact", "Jürgen Müller", "-c", "Müller Bau GmbH")
    assert crm("add", "task", "Rückruf", "-C", "müller").exit_code == 0
    r = crm("add", "deal", "Dach", "-C", "müller", "-c", "müller bau", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert (r.json()["contact"], r.json()["company"]) == ("Jürgen Müller", "Müller Bau GmbH")
    assert [t["title"] for t in crm("list", "tasks", "-C", "müller", "-o", "json").json()] == [
        "Rückruf"
    ]
    assert len(crm("list", "deals", "-c", "müller bau", "-o", "json").json()) == 1
    assert len(crm("list", "activities", "-C", "müller", "-o", "json").json()) == 0
