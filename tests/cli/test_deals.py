"""`crm add deal`, `move`, `won`, `lost`, `reopen deal`, `list deals`, `show/edit/delete deal`
and `crm stages`: JSON output, exit codes and one-line errors that write nothing."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def crm_m(crm):
    r = crm("add", "contact", "Jürgen Müller", "-c", "Müller Bau GmbH")
    assert r.exit_code == 0, r.stderr
    return crm


def add(crm, *args):
    r = crm("add", "deal", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def deals(crm, *args):
    r = crm("list", "deals", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_add_deal_with_german_amount_and_close_date(crm_m):
    d = add(crm_m, "Dachsanierung Köln", "-C", "müller", "--amount", "12.500,50", "--close",
            "31.12.", "--owner", "Anna", "--source", "Messe")  # fmt: skip
    assert (d["amount"], d["currency"], d["stage"], d["status"]) == (
        "12500.50", "EUR", "Lead", "open"
    )  # fmt: skip
    assert (d["expected_close"], d["company"]) == ("2026-12-31", "Müller Bau GmbH")
    assert [h["to_stage"] for h in d["history"]] == ["Lead"]
    assert add(crm_m, "Fassade", "-C", "1", "--amount", "1234.5")["amount"] == "1234.50"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "-5"], "amount: -5.00 is negative"),
        (["--amount", "12,34,5"], "cannot read '12,34,5' as an amount"),
        (["--amount", "zwölf"], "as an amount"),
        (["--close", "31.02.2027"], "close: cannot read"),
        (["--close", "bald"], "close: cannot read"),
        (["--stage", "Abschluss"], "no stage 'Abschluss'"),
        (["--stage", "gewonnen"], "open stage"),
        (["--currency", "Euro"], "currency"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(crm_m, args, message):
    r = crm_m("add", "deal", "Dach", "-C", "müller", *args)
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith("crm: error: ") and message in r.stderr
    assert r.stderr.count("\n") == 1 and r.stdout == ""
    assert deals(crm_m) == []


def test_a_deal_needs_someone(crm_m):
    r = crm_m("add", "deal", "Dach")
    assert r.exit_code == 1 and "--contact or --company" in r.stderr


def test_move_won_lost_reopen(crm_m):
    d = add(crm_m, "Dach", "-C", "müller")
    r = crm_m("move", "dach", "angebot", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["stage"] == "Angebot" and "Moved deal #1 Dach" in r.stderr
    r = crm_m("move", "dach", "Abschluss")
    assert r.exit_code == 1 and "no stage 'Abschluss'" in r.stderr
    assert crm_m("won", str(d["id"])).exit_code == 0
    r = crm_m("move", "dach", "lead")
    assert r.exit_code == 1 and "is won; crm reopen deal 1 first" in r.stderr
    r = crm_m("reopen", "deal", "dach", "-o", "json")
    assert r.exit_code == 0 and r.json()["stage"] == "Angebot"
    r = crm_m("lost", "dach")
    assert r.exit_code == 2  # --reason is required
    r = crm_m("lost", "dach", "--reason", "Preis zu hoch", "-o", "json")
    card = r.json()
    assert (card["status"], card["lost_reason"]) == ("lost", "Preis zu hoch")
    assert [h["to_stage"] for h in card["history"]] == [
        "Lead", "Angebot", "Gewonnen", "Angebot", "Verloren",
    ]  # fmt: skip
    r = crm_m("reopen", "deal", "dach", "--stage", "gewonnen")
    assert r.exit_code == 1 and "open stage" in r.stderr


def test_list_deals_filters(crm_m):
    crm_m("add", "contact", "Anna Weiß")
    add(crm_m, "A", "-C", "müller", "--amount", "500", "--close", "1.12.2026", "--owner", "Anna")
    add(crm_m, "B", "-C", "müller", "--amount", "5.000", "--stage", "angebot")
    add(crm_m, "C", "-C", "weiß", "--amount", "50")
    crm_m("won", "B")
    crm_m("lost", "C", "--reason", "kein Budget")

    def titles(*args):
        return [d["title"] for d in deals(crm_m, *args)]

    assert titles() == ["C", "B", "A"]
    assert titles("--open") == ["A"] and titles("--won") == ["B"] and titles("--lost") == ["C"]
    assert titles("--stage", "lead") == ["A"]
    assert titles("--contact", "weiss") == ["C"]
    assert titles("--company", "müller bau") == ["B", "A"]
    assert titles("--owner", "Anna") == ["A"]
    assert titles("--closing-before", "1.1.2027") == ["A"]
    assert titles("--min-amount", "1.000") == ["B"]
    assert titles("--sort", "-amount", "--limit", "2") == ["B", "A"]
    r = crm_m("list", "deals", "--open", "--won")
    assert r.exit_code == 1 and "exclude each other" in r.stderr
    r = crm_m("list", "deals", "--stage", "nirgends")
    assert r.exit_code == 1 and "no stage" in r.stderr
    csv = crm_m("list", "deals", "-o", "csv").stdout.splitlines()
    assert csv[0].startswith("id,title,stage_id,stage") and len(csv) == 4


def test_show_edit_delete_and_cards(crm_m):
    add(crm_m, "Dachsanierung", "-C", "müller", "--amount", "100")
    card = crm_m("show", "deal", "dach", "-o", "json").json()
    assert card["title"] == "Dachsanierung" and card["history"][0]["to_stage"] == "Lead"
    plain = crm_m("show", "deal", "1").stdout
    assert "Stage history" in plain and "100,00 €" in plain
    assert [d["title"] for d in crm_m("show", "müller", "-o", "json").json()["deals"]] == [
        "Dachsanierung"
    ]
    company = crm_m("show", "company", "müller bau", "-o", "json").json()
    assert [d["title"] for d in company["deals"]] == ["Dachsanierung"]
    assert "Deals" in crm_m("show", "müller").stdout
    r = crm_m("edit", "deal", "dach", "--amount", "1.000,01", "--close", "+30d", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert (r.json()["amount"], r.json()["expected_close"]) == ("1000.01", "2026-12-23")
    r = crm_m("edit", "deal", "dach", "--amount", "-1")
    assert r.exit_code == 1 and "negative" in r.stderr
    r = crm_m("edit", "deal", "dach", "--email", "x@example.de")
    assert r.exit_code == 1 and "does not apply to a deal" in r.stderr
    assert crm_m("delete", "deal", "dach").exit_code == 1  # no terminal, no --yes
    assert crm_m("delete", "deal", "dach", "--yes").exit_code == 0
    assert deals(crm_m) == []


def test_search_finds_deals(crm_m):
    add(crm_m, "Photovoltaik Süd", "-C", "müller")
    hits = crm_m("search", "photovolt", "-o", "json").json()
    assert [(h["kind"], h["name"]) for h in hits] == [("deal", "Photovoltaik Süd")]
    assert crm_m("search", "sud", "--kind", "deal", "-o", "json").json()[0]["kind"] == "deal"


def test_stages_commands(crm):
    rows = crm("stages", "-o", "json").json()
    assert [s["name"] for s in rows] == [
        "Lead", "Qualifiziert", "Angebot", "Verhandlung", "Gewonnen", "Verloren",
    ]  # fmt: skip
    r = crm("stages", "add", "Demo", "--after", "qualifiziert", "--probability", "40")
    assert r.exit_code == 0 and "position 3" in r.stderr
    r = crm("stages", "add", "X", "--probability", "140")
    assert r.exit_code == 1 and "0 to 100" in r.stderr
    assert crm("stages", "rename", "demo", "Vorführung", "--probability", "45").exit_code == 0
    order = ["Lead", "Vorführung", "Qualifiziert", "Angebot", "Verhandlung", "Gewonnen",
             "Verloren"]  # fmt: skip
    r = crm("stages", "reorder", *order, "-o", "json")
    assert [s["name"] for s in r.json()] == order
    crm("add", "contact", "Anna Weiß")
    crm("add", "deal", "Zaun", "-C", "anna", "--stage", "vorf")
    r = crm("stages", "remove", "vorführung", "--yes")
    assert r.exit_code == 1 and "--move-to" in r.stderr
    r = crm("stages", "remove", "vorführung", "--move-to", "lead", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Removed stage Vorführung; 1 deal now in Lead." in r.stderr
    assert crm("list", "deals", "-o", "json").json()[0]["stage"] == "Lead"
    assert "Vorführung" not in crm("stages").stdout


def test_log_and_task_about_a_deal(crm):
    crm("add", "contact", "Jürgen Müller")
    crm("add", "deal", "Dachsanierung", "--contact", "müller", "--amount", "12.500")
    r = crm(
        "log", "call", "müller", "--deal", "dach", "--subject", "Angebot besprochen", "-o", "json"
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["deal_id"] == 1
    t = crm("add", "task", "Angebot nachfassen", "--deal", "dach", "--due", "fri", "-o", "json")
    assert t.exit_code == 0, t.stderr
    assert t.json()["deal_id"] == 1
    card = crm("show", "deal", "dach", "-o", "json").json()
    assert "Angebot besprochen" in json.dumps(card, ensure_ascii=False)
    r = crm("log", "call", "müller", "--deal", "nichts")
    assert r.exit_code == 1 and "no deal" in r.stderr


def test_stages_never_add_up_different_currencies(crm, monkeypatch):
    assert crm("add", "contact", "Anna Weiß").exit_code == 0
    for title, amount, currency in (("A", "5", "JPY"), ("B", "5,50", "JPY"), ("C", "1.000", "EUR")):
        r = crm("add", "deal", title, "-C", "anna", "--amount", amount, "--currency", currency)
        assert r.exit_code == 0, r.stderr
    lead = crm("stages", "-o", "json").json()[0]
    assert lead["deals"] == 3
    assert lead["values"] == {"EUR": "1000.00", "JPY": "10.50"}
    assert lead["value"] == "1000.00"  # the key scripts read before: EUR alone
    table = crm("stages").stdout
    assert "1.000,00 €" in table and "10,50 JPY" in table and "1.010,50" not in table
    monkeypatch.setenv("CRM_LOCALE", "en")
    assert "€1,000.00" in crm("stages").stdout


def test_moving_a_deal_to_the_won_stage_says_it_is_won(crm):
    assert crm("add", "contact", "Anna Weiß").exit_code == 0
    assert crm("add", "deal", "Dach", "-C", "anna", "--amount", "5").exit_code == 0
    r = crm("move", "dach", "gewonnen")
    assert r.exit_code == 0 and r.stderr.startswith("Won deal #1 Dach"), r.stderr
