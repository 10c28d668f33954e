"""Pilot tests of crm tui: the app on the test's database with the pinned clock, driven as a
user would (keys, clicks), asserting on the database and the screens' state afterwards.

`drive(app, scenario)` runs `scenario(pilot)` inside `app.run_test()` (no async plugin
needed). `settle(pilot)` waits until the database thread and the screens' workers are idle.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import NOW, PG_URL

SIZE = (120, 40)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "both_backends: a pilot test that also runs on PostgreSQL (CRM_TEST_PG)"
    )


def pytest_generate_tests(metafunc):
    """crm tui works on PostgreSQL exactly as on SQLite: the tests marked both_backends run
    on both when CRM_TEST_PG is set."""
    marked = metafunc.definition.get_closest_marker("both_backends")
    if PG_URL and marked and "db_backend" in metafunc.fixturenames:
        metafunc.parametrize("db_backend", ["sqlite", "pg"], indirect=True)


@pytest.fixture
def tui(db):
    """A factory for the app on the test database: tui(start="contacts")."""
    from crmcli.tui.app import make_app

    def make(start: str = "today"):
        return make_app(db, now=lambda: NOW, start=start)

    return make


def drive(app, scenario, *, size=SIZE):
    async def main():
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)
            await settle(pilot)

    asyncio.run(main())


async def settle(pilot, rounds: int = 2) -> None:
    """Wait until the workers (database calls) and the screen updates they cause are done:
    until `rounds` checks in a row find no worker running and nothing queued for the
    database thread (a worker's result can start another worker: a loaded page asks for the
    next). On a loaded machine that can take several rounds; it gives up after 100."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    quiet = 0
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        # A call waiting on the database thread: let it finish and its result land.
        await loop.run_in_executor(app.gateway._pool, lambda: None)
        await pilot.pause()
        busy = any(w.is_running for w in app.workers) or app.gateway._pool._work_queue.qsize()
        quiet = 0 if busy else quiet + 1
        if quiet >= rounds:
            return
