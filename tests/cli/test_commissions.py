"""crm add commission, crm list commissions, crm report commissions: output and bad input."""

from __future__ import annotations


def test_commissions_from_the_command_line(crm):
    for args in (
        ("add", "contact", "Bert Kunde", "--owner", "Lukas Köhler"),
        ("add", "deal", "Dach", "--contact", "bert", "--amount", "1.234,56", "--owner",
         "Lukas Köhler"),
        ("won", "dach"),
        ("add", "commission", "Lukas Köhler", "5%", "--on", "deals", "--from", "1.1.2026"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    assert r.stderr == "Added commission #1: Lukas Köhler earns 5 % of deals from 2026-01-01.\n"
    rules = crm("list", "commissions", "-o", "json").json()
    assert [(x["owner"], x["basis"], x["rate"], x["valid_from"]) for x in rules] == [
        ("Lukas Köhler", "deals", "5.00", "2026-01-01"),
    ]
    report = crm("report", "commissions", "--month", "2026-11", "-o", "json").json()
    # 5 % of 1.234,56 = 61,728: 61,73
    assert [(x["owner"], x["count"], x["base"], x["commission"]) for x in report["rows"]] == [
        ("Lukas Köhler", 1, "1234.56", "61.73"),
    ]
    table = crm("report", "commissions", "--month", "2026-11").stdout
    assert "61,73 €" in table and "Dach" in table
    assert crm("report", "commissions", "--month", "2026-10", "-o", "json").json()["rows"] == []
    csv = crm("report", "commissions", "-o", "csv").stdout  # this month (CRM_NOW: November)
    assert csv.splitlines()[1] == "Lukas Köhler,deals,EUR,1,1234.56,61.73"


def test_bad_commissions_write_nothing(crm):
    for args, message in (
        (("add", "commission", "Lukas", "5 Prozent"), "cannot read '5 Prozent' as a percentage"),
        (("add", "commission", "Lukas", "101"), "more than 100 %"),
        (("add", "commission", "Lukas", "5", "--on", "leads"), "not one of deals, orders"),
        (("add", "commission", "Lukas", "5", "--from", "gestern?"), "from"),
        (("report", "commissions", "--month", "2026-13"), "cannot read '2026-13'"),
        (("report", "commissions", "--month", "2026-11", "--year", "2026"), "exclude"),
    ):
        r = crm(*args)
        assert r.exit_code == 1 and r.stderr.startswith("crm: error: ") and message in r.stderr
        assert r.stderr.count("\n") == 1
    crm("add", "contact", "X")
    assert crm("list", "commissions", "-o", "json").json() == []
