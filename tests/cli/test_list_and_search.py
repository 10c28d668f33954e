"""`crm list contacts` filters and `crm search` folding, through the CLI."""

from __future__ import annotations

import pytest


@pytest.fixture
def people(crm):
    rows = [
        ("Jürgen Müller", ["-c", "Müller Bau GmbH", "--city", "Köln", "-t", "vip",
                           "-s", "customer", "--source", "Messe", "-f", "umsatz=A"]),
        ("Anna Weiß", ["-c", "Weiß & Partner AG", "--city", "München", "-t", "vip", "-t", "b2b",
                       "--source", "Website", "-f", "umsatz=B"]),
        ("Peter Schmidt", ["--city", "Koeln", "-s", "prospect", "-e", "p.schmidt@example.de"]),
        ("Ömer Öztürk", ["--city", "Berlin", "-s", "lead", "--notes", "Rückruf wegen Angebot"]),
    ]  # fmt: skip
    for name, args in rows:
        r = crm("add", "contact", name, *args)
        assert r.exit_code == 0, r.stderr


def names(crm, *args):
    r = crm("list", "contacts", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return [c["name"] for c in r.json()]


def test_list_sorted_by_name_accent_insensitively(crm, people):
    assert names(crm) == ["Anna Weiß", "Jürgen Müller", "Ömer Öztürk", "Peter Schmidt"]
    assert names(crm, "--sort", "-name") == [
        "Peter Schmidt",
        "Ömer Öztürk",
        "Jürgen Müller",
        "Anna Weiß",
    ]
    assert names(crm, "--sort", "-id")[0] == "Ömer Öztürk"


def test_list_filters(crm, people):
    assert names(crm, "--tag", "VIP") == ["Anna Weiß", "Jürgen Müller"]
    assert names(crm, "--tag", "vip", "--tag", "b2b") == ["Anna Weiß"]
    assert names(crm, "--tag", "nobody-has-this") == []
    # Filters fold like search, transliterations both ways: Köln and Koeln are one city.
    assert names(crm, "--city", "KÖLN") == ["Jürgen Müller", "Peter Schmidt"]
    assert names(crm, "--city", "koeln") == ["Jürgen Müller", "Peter Schmidt"]
    assert names(crm, "--status", "prospect") == ["Peter Schmidt"]
    assert names(crm, "--source", "website") == ["Anna Weiß"]
    assert names(crm, "--company", "weiß") == ["Anna Weiß"]
    assert names(crm, "--field", "umsatz=A") == ["Jürgen Müller"]
    assert names(crm, "--field", "umsatz=") == ["Anna Weiß", "Jürgen Müller"]
    assert names(crm, "--created-since", "today") == names(crm)
    assert names(crm, "--created-since", "tomorrow") == []
    assert names(crm, "--limit", "2", "--offset", "1") == ["Jürgen Müller", "Ömer Öztürk"]


def test_list_bad_filter_values(crm, people):
    r = crm("list", "contacts", "--status", "king")
    assert r.exit_code == 1 and "unknown status" in r.stderr
    r = crm("list", "contacts", "--created-since", "someday")
    assert r.exit_code == 1 and "someday" in r.stderr
    r = crm("list", "contacts", "--limit", "-1")
    assert r.exit_code == 2


def test_empty_list_is_success_with_empty_output(crm):
    r = crm("list", "contacts")
    assert (r.exit_code, r.stdout) == (0, "")
    assert crm("list", "contacts", "-o", "json").json() == []


def test_list_formats(crm, people):
    plain = crm("list", "contacts").stdout
    assert plain.splitlines()[0].split() == [
        "ID",
        "NAME",
        "COMPANY",
        "EMAIL",
        "PHONE",
        "CITY",
        "STATUS",
        "TAGS",
    ]
    assert "\x1b[" not in plain and "─" not in plain
    csv = crm("list", "contacts", "-o", "csv").stdout.splitlines()
    assert csv[0].startswith("id,name,email,phone,phone_e164,company_id,company,")
    assert len(csv) == 5
    jsonl = crm("list", "contacts", "-o", "jsonl").stdout.splitlines()
    assert len(jsonl) == 4 and jsonl[0].startswith('{"id": 2, "name": "Anna Weiß"')


def test_json_keys_are_stable(crm, people):
    row = crm("list", "contacts", "-o", "json").json()[0]
    assert list(row) == [
        "id", "name", "email", "phone", "phone_e164", "company_id", "company", "position",
        "street", "zip", "city", "country", "birthday", "status", "source", "owner", "campaign",
        "keyword", "notes", "consent", "consent_at", "cadence_days", "cadence_effective_days",
        "contact_due_at", "last_activity_at", "tags", "fields", "created_at", "updated_at",
    ]  # fmt: skip
    assert isinstance(row["id"], int)


def hits(crm, query, *args):
    r = crm("search", query, *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return [(h["kind"], h["name"]) for h in r.json()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("muller", ("contact", "Jürgen Müller")),
        ("mueller", ("contact", "Jürgen Müller")),
        ("MÜLLER", ("contact", "Jürgen Müller")),
        ("weiss", ("contact", "Anna Weiß")),
        ("weiß", ("contact", "Anna Weiß")),
        ("schmi", ("contact", "Peter Schmidt")),
        ("ozturk", ("contact", "Ömer Öztürk")),
        ("oeztuerk", ("contact", "Ömer Öztürk")),
        ("ruckruf", ("contact", "Ömer Öztürk")),  # notes
        ("p.schmidt@example.de", ("contact", "Peter Schmidt")),  # email
        ("münchen", ("contact", "Anna Weiß")),  # city
        ("partner", ("company", "Weiß & Partner AG")),
    ],
)
def test_search_folds_accents_and_matches_prefixes(crm, people, query, expected):
    assert expected in hits(crm, query)


def test_search_needs_every_word_and_finds_company_people(crm, people):
    assert hits(crm, "jürgen köln") == [("contact", "Jürgen Müller")]
    assert set(hits(crm, "müller bau")) == {
        ("contact", "Jürgen Müller"),
        ("company", "Müller Bau GmbH"),
    }
    assert hits(crm, "müller", "--kind", "company") == [("company", "Müller Bau GmbH")]
    assert hits(crm, "nothing-like-this") == []
    assert crm("search", "***").exit_code == 1  # nothing to search for (see below)


def test_search_limit(crm, people):
    assert len(hits(crm, "a", "--limit", "1")) == 1


@pytest.mark.parametrize("query", ["", "   ", "!!!", "-- ,"])
def test_search_for_nothing_is_an_error_not_an_empty_result(crm, people, query):
    """An empty query (an unset variable in a script) or one of punctuation alone would
    find nothing; it is said, with a non-zero exit, instead of "Nothing matches"."""
    r = crm("search", "--", query)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "give a word, a name, an email or a phone" in r.stderr
    assert crm("search", "+49").exit_code == 0  # a phone prefix is something to look for


def test_a_query_of_quotes_alone_is_named_readably(crm, people):
    r = crm("search", "--", "'")
    assert r.exit_code == 1 and '"\'" has nothing to search for' in r.stderr
    assert "'!?' has nothing to search for" in crm("search", "--", "!?").stderr


@pytest.mark.parametrize(
    "args",
    [
        ("list", "contacts", "--limit", "99999999999999999999"),
        ("list", "contacts", "--offset", "99999999999999999999"),
        ("list", "deals", "-n", "99999999999999999999"),
        ("list", "activities", "--offset", "99999999999999999999"),
        ("search", "x", "--limit", "99999999999999999999"),
        ("show", "1", "--limit", "99999999999999999999"),
    ],
    ids=" ".join,
)
def test_huge_limits_are_a_range_error(crm, args):
    crm("add", "contact", "Jürgen Müller")
    r = crm(*args)
    assert r.exit_code == 2, r.stderr
    assert "is not in the range" in r.stderr and "unexpected" not in r.stderr
    assert r.stderr.count("\n") == 1


def test_invalid_utf8_in_an_argument_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    bad = b"k\xf6ln"
    for argv in ([b"show", bad], [b"list", b"contacts", b"--city", bad]):
        r = subprocess.run(
            [sys.executable.encode(), b"-c", b"from crmcli.cli import main; main()",
             b"--db", str(tmp_path / "crm.db").encode(), *argv],
            capture_output=True, timeout=60,
        )  # fmt: skip
        assert r.returncode == 2
        assert r.stderr.startswith(b"crm: error: argument 'k\\xf6ln' is not valid UTF-8")
        assert r.stderr.count(b"\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list", "contacts", "--city", "Nirgendwo"), "No contacts match.\n"),
        (("list", "companies"), "No companies match.\n"),
        (("list", "deals"), "No deals match.\n"),
        (("list", "tasks"), "No tasks match.\n"),
        (("list", "activities"), "No activities match.\n"),
        (("list", "tags"), "No tags yet.\n"),
        (("search", "nirgendwo"), "Nothing matches.\n"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)
def test_an_empty_result_says_so_on_a_terminal_only(crm, monkeypatch, args, message):
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    r = crm(*args)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", message)
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: False)
    r = crm(*args)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    assert crm(*args, "-o", "json").stderr == ""
