"""crm export contacts on SQLite's fast paths (a whole export made by SQLite, several batches
at once; a filtered one with cells and JSON written by SQLite): the same file as the general
path, and a failure part way keeps the old file."""

from __future__ import annotations

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
        for name in ("csv_chunks", "json_chunks"):
            monkeypatch.setattr(exports_sqlite, name, failing(getattr(exports_sqlite, name)))
    else:
        monkeypatch.setattr(exports.ContactRecords, "whole", False)
        monkeypatch.setattr(exports, "_text_batches", failing(exports._text_batches))
    r = people("export", "contacts", "--format", fmt, "-o", str(target))
    assert r.exit_code == 1 and "No space left" in r.stderr
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db", "out.txt"]
