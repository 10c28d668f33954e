"""A database this user may not change (a read-only file, or a file in a read-only
directory) is read by read commands; write commands say it is read-only; `crm db check`
does not blame the search index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

NOBODY = 65534


@pytest.fixture
def shared_dir():
    """A directory outside pytest's private tmp tree, so another user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="crm-ro-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _make(path: Path) -> None:
    from datetime import UTC, datetime

    from crmcli.db import open_database
    from crmcli.services import contacts, tasks

    database = open_database(str(path))
    contacts.add_contact("Anna Weiß", city="Köln")
    # Due: `crm remind` has something to mark, so it must write (and cannot here).
    tasks.add_task("Rückruf", due_at=datetime(2026, 1, 5, 9, tzinfo=UTC), due_has_time=True)
    database.close()  # the last connection removes -wal and -shm
    path.chmod(0o644)


def _reader() -> tuple[list[str], dict, dict]:
    """How to run Python as a user who may read but not write the test's files: root ignores
    file modes, so as root that is nobody, with an interpreter nobody may run (a pyenv
    interpreter under /root is not) and this checkout's packages on its path."""
    if os.geteuid() != 0:
        return [sys.executable], {}, {}
    import sysconfig

    paths = [str(Path(__file__).resolve().parents[2]), sysconfig.get_paths()["purelib"]]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    kwargs = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    for python in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not python:
            continue
        probe = [python, "-c", "import sys; assert sys.version_info[:2] == %r; import crmcli.db"]
        probe[2] %= (tuple(sys.version_info[:2]),)
        env_full = {**os.environ, **env}
        try:
            ok = subprocess.run(probe, env=env_full, capture_output=True, **kwargs).returncode
        except OSError:
            continue
        if ok == 0:
            return [python], env, kwargs
    pytest.skip("no Python interpreter that the user nobody may run")


def crm_as_reader(path: Path, *args: str) -> subprocess.CompletedProcess:
    """`crm --db PATH ARGS` as a user who may read but not write PATH."""
    python, env, kwargs = _reader()
    return subprocess.run(
        [*python, "-m", "crmcli", "--db", str(path), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "HOME": str(path.parent)},
        **kwargs,
    )


def _read_only(shared_dir, path, where: str) -> None:
    """Make the database readable only: its directory (`where` "read-only directory"), or
    the file itself in a directory anyone may write."""
    if where == "read-only directory":
        shared_dir.chmod(0o555)
    else:
        path.chmod(0o444)
        shared_dir.chmod(0o777)


@pytest.mark.parametrize("where", ["read-only directory", "read-only file"])
def test_read_commands_work_and_writes_say_read_only(shared_dir, where):
    path = shared_dir / "crm.db"
    _make(path)
    _read_only(shared_dir, path, where)
    try:
        r = crm_as_reader(path, "list", "contacts", "-o", "json")
        assert r.returncode == 0, r.stderr
        assert "Anna Weiß" in r.stdout
        r = crm_as_reader(path, "search", "weiss", "-o", "json")
        assert r.returncode == 0 and "Anna Weiß" in r.stdout, r.stderr
        r = crm_as_reader(path, "show", "anna")
        assert r.returncode == 0, r.stderr
        r = crm_as_reader(path, "db", "check")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "search index" not in r.stdout
        assert r.stderr.endswith(f"ok: {path}\n")
        r = crm_as_reader(path, "add", "contact", "Bernd")
        assert r.returncode == 1
        assert r.stderr == (
            f"crm: error: the database {path} is read-only for you: crm can show it but not "
            "change it (check the file's and its directory's permissions)\n"
        )
        r = crm_as_reader(path, "remind")
        assert r.returncode == 1 and "read-only" in r.stderr
    finally:
        shared_dir.chmod(0o755)
    if where == "read-only directory":
        assert sorted(p.name for p in shared_dir.iterdir()) == ["crm.db"]


def test_an_old_read_only_database_says_it_needs_an_upgrade(shared_dir):
    from tests.fixtures import sqldump

    sqldump.load("schema4-c0180a0", shared_dir / "old.db")
    (shared_dir / "old.db").chmod(0o444)
    r = crm_as_reader(shared_dir / "old.db", "list", "contacts")
    assert r.returncode == 1
    assert "read-only and has schema version 4" in r.stderr
    assert "open it once with write access" in r.stderr


@pytest.mark.parametrize("where", ["read-only directory", "read-only file"])
def test_a_read_only_database_exports_every_contact(shared_dir, where):
    """A whole export of a file the user may only read: its lines made by SQLite on the one
    connection (no other can be lined up with it), the same text as the general path."""
    from crmcli.db import open_database
    from crmcli.models import Contact
    from crmcli.services import contacts, exports
    from tests.services.test_exports_sqlite import _general_csv, _general_json

    path = shared_dir / "crm.db"
    _make(path)
    database = open_database(str(path))
    for i in range(5):
        contacts.add_contact(f"Person {i}", email=f"p{i}@x.de", tags_=["vip"])
    Contact.update(city="Bonn").where(Contact.name == "Person 3").execute()
    keys = exports.contact_field_keys()
    expected = {"csv": _general_csv(keys, excel=False), "jsonl": _general_json("jsonl")}
    database.close()
    path.chmod(0o644)
    _read_only(shared_dir, path, where)
    try:
        for fmt, text in expected.items():
            r = crm_as_reader(path, "export", "contacts", "--format", fmt)
            assert r.returncode == 0, r.stderr
            assert r.stdout.splitlines() == text.splitlines()
            assert "Bonn" in r.stdout
    finally:
        shared_dir.chmod(0o755)
