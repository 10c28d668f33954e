"""crm export contacts on SQLite's fast paths (a whole export merged from one stream a table;
a filtered one with cells and JSON written by SQLite): the same file as the general path, and
a failure part way keeps the old file."""

from __future__ import annotations

import os

import pytest

from tests.cli.test_export import people  # noqa: F401  (the fixture)


@pytest.mark.parametrize("excel", [False, True])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_fast_and_general_path_write_the_same_file(people, tmp_path, monkeypatch, fmt, excel):  # noqa: F811
    from crmcli.services import exports

    if excel and fmt != "csv":
        pytest.skip("--excel is for CSV")
    more = ["--excel"] if excel else []
    whole, batches, general = (tmp_path / f"{n}.{fmt}" for n in ("whole", "batches", "general"))
    assert people("export", "contacts", "--format", fmt, *more, "-o", str(whole)).exit_code == 0
    monkeypatch.setattr(exports.ContactRecords, "whole", False)
    assert people("export", "contacts", "--format", fmt, *more, "-o", str(batches)).exit_code == 0
    monkeypatch.setattr(exports.ContactRecords, "csv_batches", lambda self, keys: None)
    monkeypatch.setattr(exports.ContactRecords, "json_batches", lambda self: None)
    assert people("export", "contacts", "--format", fmt, *more, "-o", str(general)).exit_code == 0
    assert whole.read_bytes() == general.read_bytes()
    assert batches.read_bytes() == general.read_bytes()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_failed_fast_export_keeps_the_old_file(people, tmp_path, monkeypatch, fmt, whole):  # noqa: F811
    from crmcli.services import exports, exports_sqlite

    target = tmp_path / "out.txt"
    target.write_text("old\n")

    def failing(real):
        def batches(*args):
            yield from real(*args)
            raise OSError(28, "No space left on device")

        return batches

    if whole:
        for name in ("_csv_lines", "_json_lines"):
            monkeypatch.setattr(exports_sqlite, name, failing(getattr(exports_sqlite, name)))
    else:
        monkeypatch.setattr(exports.ContactRecords, "whole", False)
        monkeypatch.setattr(exports, "_text_batches", failing(exports._text_batches))
    r = people("export", "contacts", "--format", fmt, "-o", str(target))
    assert r.exit_code == 1 and "No space left" in r.stderr
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db", "out.txt"]


@pytest.fixture
def in_two_parts(monkeypatch):
    """Every whole export in two processes, however small (the second part forked)."""
    from crmcli.services import exports_sqlite

    monkeypatch.setattr(exports_sqlite, "SPLIT", 1)
    monkeypatch.setattr(exports_sqlite, "_cores", lambda: 2)
    parts = []
    real = exports_sqlite._split_at

    def split_at(out):
        at = real(out)
        parts.append(at)
        return at

    monkeypatch.setattr(exports_sqlite, "_split_at", split_at)
    return parts


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("fmt", "more"), [("csv", []), ("csv", ["--excel"]), ("jsonl", [])])
def test_an_export_in_two_parts_is_the_same_file(people, tmp_path, in_two_parts, fmt, more):  # noqa: F811
    for i in range(5):
        people("add", "contact", f"Person {i}", "-t", "vip", "-t", "b2b")
    one, two = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
    r = people("export", "contacts", "--format", fmt, *more, "-o", str(two))
    assert r.exit_code == 0 and "Exported 8 contacts" in r.stderr, r.stderr
    assert in_two_parts == [4]  # ids 1-4 here, 5-8 in the second process
    from crmcli.services import exports_sqlite

    exports_sqlite.SPLIT = 10**9
    assert people("export", "contacts", "--format", fmt, *more, "-o", str(one)).exit_code == 0
    assert in_two_parts == [4, None]
    assert two.read_bytes() == one.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db", one.name, two.name]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("failing", ["first", "second"])
def test_a_failed_part_fails_the_export_and_keeps_the_old_file(
    people,  # noqa: F811
    tmp_path,
    monkeypatch,
    in_two_parts,
    failing,
):
    from crmcli.services import exports_sqlite

    real = exports_sqlite.csv_lines
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def csv_lines(keys, *, sep, ids=exports_sqlite.EVERYONE):
        part = "first" if ids[0] == exports_sqlite.EVERYONE[0] else "second"

        def lines():
            yield from real(keys, sep=sep, ids=ids)
            if part == failing:
                raise OSError(28, "No space left on device")

        return lines()

    monkeypatch.setattr(exports_sqlite, "csv_lines", csv_lines)
    r = people("export", "contacts", "-o", str(target))
    assert r.exit_code == 1 and "No space left" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and in_two_parts == [2]
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db", "out.csv"]
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no second process left behind
