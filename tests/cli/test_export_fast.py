"""crm export contacts on SQLite's fast path (cells and JSON written by SQLite): the same
file as the general path, and a failure part way keeps the old file."""

from __future__ import annotations

import pytest

from tests.cli.test_export import people  # noqa: F401  (the fixture)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_fast_and_general_path_write_the_same_file(people, tmp_path, monkeypatch, fmt):  # noqa: F811
    from crmcli.services import exports

    fast, general = tmp_path / f"fast.{fmt}", tmp_path / f"general.{fmt}"
    assert people("export", "contacts", "--format", fmt, "-o", str(fast)).exit_code == 0
    monkeypatch.setattr(exports.ContactRecords, "csv_batches", lambda self, keys: None)
    monkeypatch.setattr(exports.ContactRecords, "json_batches", lambda self: None)
    assert people("export", "contacts", "--format", fmt, "-o", str(general)).exit_code == 0
    assert fast.read_bytes() == general.read_bytes()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_failed_fast_export_keeps_the_old_file(people, tmp_path, monkeypatch, fmt):  # noqa: F811
    from crmcli.services import exports

    target = tmp_path / "out.txt"
    target.write_text("old\n")
    real = exports._text_batches

    def failing(*args):
        def batches():
            yield from real(*args)
            raise OSError(28, "No space left on device")

        return batches()

    monkeypatch.setattr(exports, "_text_batches", failing)
    r = people("export", "contacts", "--format", fmt, "-o", str(target))
    assert r.exit_code == 1 and "No space left" in r.stderr
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db", "out.txt"]
