"""Shared fixtures: a fresh database per test, a pinned clock and timezone, and a CLI runner."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

import pytest

# Monday 23 November 2026, 10:00 in Berlin: every relative date in the tests counts from here.
NOW = datetime.fromisoformat("2026-11-23T10:00:00+01:00")


@pytest.fixture(autouse=True)
def _berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    monkeypatch.setenv("CRM_NOW", NOW.isoformat())
    monkeypatch.delenv("CRM_DB", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    time.tzset()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "crm.db"


@pytest.fixture
def db(db_path):
    """An open, migrated database; services can be called directly."""
    from crmcli.db import open_database

    database = open_database(str(db_path))
    yield database
    database.close()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def crm(db_path):
    """Run `crm --db <tmp> ARGS...` in-process; returns exit code, stdout and stderr."""
    from typer.testing import CliRunner

    from crmcli.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None) -> Result:
        result = runner.invoke(app, ["--db", str(db_path), *args], input=input, env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return run
