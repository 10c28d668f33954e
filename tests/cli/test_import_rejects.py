"""`crm import csv --rejects FILE`: checked before anything lands, private, safe to open in a
spreadsheet, and written as the bad rows are found."""

from __future__ import annotations

import csv
import io
import os
import stat


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return str(path)


ROWS = (
    "Name;E-Mail;Geburtstag\r\n"
    "Dora Gut;dora@example.de;01.02.1980\r\n"
    '=HYPERLINK("http://evil");keine-mail;31.02.1980\r\n'
)


def names(crm) -> list[str]:
    return [p["name"] for p in crm("list", "contacts", "-o", "json").json()]


def test_a_rejects_file_in_a_missing_directory_is_refused_before_anything_lands(crm, tmp_path):
    source = write(tmp_path / "in.csv", ROWS)
    r = crm("import", "csv", source, "--rejects", str(tmp_path / "nodir" / "r.csv"))
    assert r.exit_code == 1
    assert "no such directory" in r.stderr
    assert "Dora Gut" not in names(crm)


def test_the_input_file_is_never_its_own_rejects_file(crm, tmp_path):
    source = write(tmp_path / "in.csv", ROWS)
    r = crm("import", "csv", source, "--rejects", source)
    assert r.exit_code == 1 and "is the file being imported" in r.stderr
    assert (tmp_path / "in.csv").read_bytes() == ROWS.encode("utf-8")  # not overwritten
    assert "Dora Gut" not in names(crm)


def test_the_rejects_file_is_private_and_spreadsheet_safe(crm, tmp_path):
    source = write(tmp_path / "in.csv", ROWS)
    rejects = tmp_path / "r.csv"
    r = crm("import", "csv", source, "--rejects", str(rejects))
    assert r.exit_code == 0, r.stderr
    assert stat.S_IMODE(os.stat(rejects).st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8")), delimiter=";"))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
    assert "Dora Gut" in names(crm)


def test_no_rejects_file_without_bad_rows_and_none_on_a_dry_run(crm, tmp_path):
    good = write(tmp_path / "good.csv", "Name;E-Mail\r\nEva Gut;eva@example.de\r\n")
    assert crm("import", "csv", good, "--rejects", str(tmp_path / "r1.csv")).exit_code == 0
    source = write(tmp_path / "in.csv", ROWS)
    dry = crm("import", "csv", source, "--rejects", str(tmp_path / "r2.csv"), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert not [f for f in os.listdir(tmp_path) if f.startswith(("r1", "r2", ".r"))]
