"""Start-up budget and layering, enforced: services never import the UI libraries, and
`crm --help` imports neither peewee nor rich nor textual."""

from __future__ import annotations

import subprocess
import sys

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


def test_services_and_db_do_not_import_ui_libraries():
    loaded = loaded_after(
        "import crmcli.db, crmcli.services.contacts, crmcli.services.companies, "
        "crmcli.services.search, crmcli.services.tags, crmcli.values"
    )
    assert not loaded & {"textual", "rich", "typer"}


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
