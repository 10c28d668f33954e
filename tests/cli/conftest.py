"""CLI output for people depends on the locale (CRM_LOCALE, LC_ALL, LC_TIME, LANG): tests start
without one (ISO dates) whatever the machine running them uses."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_locale(monkeypatch):
    for var in ("CRM_LOCALE", "LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(var, raising=False)
