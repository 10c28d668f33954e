"""Processes that create the same new tag, company or stage at the same moment: one row each,
and no writer fails (INSERT ... ON CONFLICT DO NOTHING, then the row the other one made).
Runs on SQLite and, with CRM_TEST_PG, on PostgreSQL, where the race used to fail with
"duplicate key value violates unique constraint"."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from crmcli.db import open_database
from crmcli.models import Company, Contact, Stage, Tag

WORKERS, ROUNDS = 4, 12


def _adds(target: str, worker: int, start, queue) -> None:
    from crmcli.services import contacts

    open_database(target)
    failures: Counter = Counter()
    for i in range(ROUNDS):
        start.wait()  # every worker creates round i's company and tags at once
        try:
            contacts.add_contact(
                f"Person {worker}-{i}", company=f"Gleichzeitig {i:02d} GmbH",
                tags_=[f"welle-{i:02d}", f"zusammen-{i:02d}"],
            )  # fmt: skip
        except Exception as exc:  # counted: the test shows them all
            failures[f"{type(exc).__name__}: {exc}"] += 1
    queue.put(dict(failures))


def _stage_adds(target: str, start, queue) -> None:
    from crmcli.errors import Conflict
    from crmcli.services import stages

    open_database(target)
    start.wait()
    try:
        stages.add_stage("Gleichzeitig")
        queue.put("made")
    except Conflict as exc:
        queue.put(f"conflict: {exc}")
    except Exception as exc:
        queue.put(f"{type(exc).__name__}: {exc}")


def _run(target: str, fn, args_of) -> list:
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    start = fork.Barrier(WORKERS)
    procs = [
        fork.Process(target=fn, args=(target, *args_of(w), start, queue)) for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return results


def test_writers_creating_the_same_tags_and_companies_at_once_all_succeed(db_target):
    open_database(db_target).close()
    failures = _run(db_target, _adds, lambda w: (w,))
    assert failures == [{}] * WORKERS
    open_database(db_target)
    assert Contact.select().count() == WORKERS * ROUNDS
    names = [c.name for c in Company.select().order_by(Company.name)]
    assert names == [f"Gleichzeitig {i:02d} GmbH" for i in range(ROUNDS)]
    assert Tag.select().where(Tag.name_fold.startswith("welle-")).count() == ROUNDS
    assert Tag.select().where(Tag.name_fold.startswith("zusammen-")).count() == ROUNDS
    for i in (0, ROUNDS - 1):
        people = Contact.select().join(Company).where(Company.name == f"Gleichzeitig {i:02d} GmbH")
        assert people.count() == WORKERS


def test_processes_adding_the_same_stage_at_once_make_one_and_the_rest_hear_so(db_target):
    open_database(db_target).close()
    said = _run(db_target, _stage_adds, lambda w: ())
    assert said.count("made") == 1, said
    others = [s for s in said if s != "made"]
    assert all(s.startswith("conflict: stage ") and "exists already" in s for s in others), said
    open_database(db_target)
    assert Stage.select().where(Stage.name == "Gleichzeitig").count() == 1
