"""Start-up budget and layering, enforced: services never import the UI libraries, and
`crm --help` imports neither peewee nor rich nor textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmcli.errors import Conflict, Invalid, NotFound

HEAVY = ("textual", "rich", "typer", "peewee", "playhouse", "phonenumbers", "email_validator")


def loaded_after(code: str) -> set[str]:
    probe = f"""
import sys
{code}
print(" ".join(sorted({{m.split('.')[0] for m, mod in sys.modules.items() if mod is not None}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def _modules_of(package: str) -> list[str]:
    """Every module of a crmcli package, found on disk (a new one is checked without a word)."""
    import pkgutil

    base = Path(__file__).resolve().parent.parent / package.replace(".", "/")
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(base)])]


UI = {"textual", "rich", "typer", "click"}


def test_every_service_and_the_data_layer_import_no_ui_library():
    """Each module alone (one process each would be slow; one process with all of them still
    fails when any one pulls a UI library in)."""
    modules = [*_modules_of("crmcli.services"), "crmcli.db", "crmcli.values", "crmcli.models",
               "crmcli.errors", "crmcli.demo", *_modules_of("crmcli.demo")]  # fmt: skip
    assert len(_modules_of("crmcli.services")) >= 15  # all of them, not the 4 of before
    loaded = loaded_after("import importlib\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in modules
    ))  # fmt: skip
    assert "crmcli" in loaded
    assert not loaded & UI


def test_the_layering_contract_holds():
    """pyproject.toml's import-linter contracts (front ends over services over the data layer;
    nothing below the front ends imports one), run the way ./check runs them."""
    import shutil

    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if linter is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [linter], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_help_imports_nothing_heavy_but_typer():
    loaded = loaded_after(
        "sys.argv = ['crm', '--help']\n"
        "from crmcli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert "typer" in loaded
    assert not loaded & (set(HEAVY) - {"typer"})


def test_values_module_is_light():
    loaded = loaded_after("import crmcli.values")
    assert not loaded & {"phonenumbers", "email_validator", "peewee", "rich"}


def test_sqlite_commands_do_not_import_server_drivers(tmp_path):
    code = (
        f"sys.argv = ['crm', '--db', {str(tmp_path / 'x.db')!r}, 'list', 'contacts']\n"
        "from crmcli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = loaded_after(code)
    assert "peewee" in loaded
    assert not loaded & {"psycopg", "psycopg2", "pymysql", "MySQLdb"}


@pytest.mark.parametrize(
    "argv", [["--help"], ["list", "contacts"], ["show", "1"], ["remind"], ["tui", "--help"]]
)
def test_only_crm_tui_imports_textual_or_the_tui_package(tmp_path, argv):
    """`crm tui` loads Textual when it runs; every other command (and its help) never does."""
    probe = f"""
import sys
sys.argv = ['crm', '--db', {str(tmp_path / "x.db")!r}, *{argv!r}]
from crmcli.cli import main
try:
    main()
except SystemExit:
    pass
print("LOADED:" + " ".join(m for m in sys.modules if m == "textual" or m.startswith("crmcli.tui")))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "LOADED:", done.stdout[-300:]


def _gc_state_after(argv: list[str]) -> tuple[str, str]:
    """Run `crm argv` through the console script's entry point; report the collector's state
    after it (enabled?, objects frozen?) and what it printed."""
    probe = f"""
import gc, sys
sys.argv = ['crm', *{argv!r}]
from crmcli.launch import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("GC", gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stderr.strip().splitlines()[-1], done.stdout


def test_console_script_pauses_the_collector_only_while_starting(tmp_path):
    # A command that opens its database works with the collector on again (start-up frozen).
    from crmcli.db import open_database

    open_database(str(tmp_path / "x.db")).close()  # `list` reads: it makes no database
    state, out = _gc_state_after(["--db", str(tmp_path / "x.db"), "list", "contacts", "-o", "json"])
    assert state == "GC True True"
    assert out.strip() == "[]"
    # `crm --help` never opens a database and ends with it still paused: nothing to collect.
    state, out = _gc_state_after(["--help"])
    assert state == "GC False False"
    assert "Usage: crm" in out


def test_console_script_entry_point_is_the_launcher():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["crm"] == "crmcli.launch:main"


# ---------------------------------------------------------------- errors carry facts, not CLI words

ROOT = Path(__file__).resolve().parent.parent
ERROR_CLASSES = {"CrmError", "NotFound", "Invalid", "Conflict", "DatabaseError", "Ambiguous"}


def _front_end_free_sources() -> list[Path]:
    """Modules any front end calls: their messages must not speak in one front end's words."""
    return sorted((ROOT / "crmcli" / "services").glob("*.py")) + sorted(
        (ROOT / "crmcli" / "demo").glob("*.py")
    )


def _error_calls(path: Path):
    """Each `NotFound(...)`, `Invalid(...)`, ... made in `path`: (line, call node)."""
    import ast

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ERROR_CLASSES:
                yield node.lineno, node


def _texts(call) -> list[str]:
    import ast

    parts = [*call.args, *(k.value for k in call.keywords if k.arg != "action")]
    return [
        sub.value
        for arg in parts
        for sub in ast.walk(arg)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
    ]


def test_no_service_message_names_a_command_or_a_flag():
    """A TUI cannot tell its user to "run crm edit": services say what is wrong and name an
    action; crmcli/commands/hints.py words it for the CLI."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in _front_end_free_sources()
        for line, call in _error_calls(path)
        for text in _texts(call)
        if "crm " in text or "--" in text
    ]
    assert found == []


def test_every_action_a_service_names_has_a_cli_hint():
    import ast

    from crmcli.commands.hints import HINTS

    actions = {
        (path.name, keyword.value.value)
        for path in _front_end_free_sources()
        for _, call in _error_calls(path)
        for keyword in call.keywords
        if keyword.arg == "action" and isinstance(keyword.value, ast.Constant)
    }
    assert len(actions) >= 17
    assert {name for _, name in actions} <= set(HINTS), {a for a in actions if a[1] not in HINTS}


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (Conflict("deal #3 is won", action="reopen_deal", deal=3),
         "deal #3 is won; crm reopen deal 3 first"),
        (Invalid("stage", "a lost deal needs a reason", action="lose_deal", deal=7),
         "stage: a lost deal needs a reason: crm lost 7 --reason TEXT"),
        (Invalid("until", "the series ends before it starts", action="until_before_due"),
         "until: --until is before --due"),
        (Conflict("task #4 is done already", action="reopen_task", task=4),
         "task #4 is done already (crm reopen 4 to undo)"),
        (NotFound("no tag 'x'", action="list_tags"), "no tag 'x' (crm list tags shows them)"),
        (NotFound("no contact 'x'"), "no contact 'x'"),  # no action: the message alone
        (Conflict("deal #3 is won", action="reopen_deal"), "deal #3 is won"),  # a fact missing
    ],
)  # fmt: skip
def test_the_cli_words_each_action_as_before(error, line):
    from crmcli.commands.hints import cli_message

    assert cli_message(error) == line


# ---------------------------------------------------------------- no import cycles at the door


def _crmcli_imports(path: Path) -> set[str]:
    """Every crmcli module `path` imports, at the top or inside a function."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crmcli"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("crmcli"))
    return found


def _module_graph() -> dict[str, set[str]]:
    package = ROOT / "crmcli"
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in package.rglob("*.py")
        if "migrations" not in p.parts
    }
    return {name: _crmcli_imports(path) & set(modules) for name, path in modules.items()}


@pytest.mark.parametrize(
    "start", ["crmcli.env", "crmcli.launch", "crmcli.collector", "crmcli.startup"]
)
def test_the_start_up_modules_are_in_no_import_cycle(start):
    """cli -> env -> launch -> cli was one: the collector's pause and resume live apart now."""
    graph = _module_graph()
    seen, todo = set(), list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    assert start not in seen


def test_postgres_driver_is_imported_without_the_ssl_module():
    """db.import_driver: psycopg2 loads without Python's ssl module (4 % of a short command
    on PostgreSQL), and a later `import ssl` (mail over TLS) still gets the real module."""
    pytest.importorskip("psycopg2")
    probe = """
import sys
from crmcli.db import import_driver
import_driver()
print("psycopg2" in sys.modules, "ssl" in sys.modules)
import ssl
print(type(ssl.create_default_context()).__name__)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False", "SSLContext"]


@pytest.mark.parametrize(
    ("args", "opens"),
    [
        (["list", "contacts"], True),
        (["--db", "postgresql://x/y", "show", "1"], True),
        (["--db", "postgresql://x/y"], False),  # no command: help
        ([], False),
        (["--help"], False),
        (["list", "tasks", "--help"], False),
        (["--version"], False),
    ],
)
def test_the_console_script_logs_in_early_only_for_a_command(args, opens):
    from crmcli.startup import _opens_database

    assert _opens_database(args) is opens
