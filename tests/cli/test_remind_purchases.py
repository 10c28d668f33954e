"""crm db setting remind.next_purchase and what crm remind then prints; off, remind reads no
purchase history (the forecast modules are not even imported)."""

from __future__ import annotations

import subprocess
import sys


def test_the_setting_turns_purchase_reminders_on(crm):
    for args in (
        ("add", "contact", "Bernd Bauer", "--tag", "vip"),
        ("add", "product", "KAF", "Kaffee", "--price", "8,90"),
        ("add", "order", "bernd", "--item", "KAF:1", "--at", "3.11.2026", "-s", "paid"),
        ("add", "order", "bernd", "--item", "KAF:1", "--at", "13.11.2026", "-s", "paid"),
    ):
        assert crm(*args).exit_code == 0, args
    assert "purchase" not in crm("remind", "--all").stdout
    r = crm("db", "setting", "remind.next_purchase", "vip")
    assert r.exit_code == 0 and r.stderr == "Set remind.next_purchase to vip.\n"
    assert crm("db", "setting", "-o", "json").json() == [{
        "key": "remind.next_purchase", "value": ["vip"],
        "about": "on, off, or tags (comma-separated): whom crm remind calls to buy again",
    }]  # fmt: skip
    first = crm("remind", "-o", "json").json()
    assert [(i["kind"], i["contact"], i["last_purchase"], i["purchases"]) for i in first] == [
        ("purchase", "Bernd Bauer", "2026-11-13", 2),
    ]
    assert "Bernd Bauer is due to buy again" in crm("remind", "--all").stdout
    assert crm("remind", "-o", "json").json() == []  # once
    for bad, why in ((("foo", "on"), "not a setting"), (("remind.next_purchase", "x,"), "not on")):
        r = crm("db", "setting", *bad)
        assert r.exit_code == 1 and why in r.stderr


def test_remind_without_the_setting_imports_no_forecast(crm, db_path):
    crm("add", "contact", "X")
    code = (
        "import sys\nfrom crmcli.cli import main\n"
        f"sys.argv = ['crm', '--db', {str(db_path)!r}, 'remind']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('crmcli.services.value', 'crmcli.services.clv', "
        "'crmcli.services.forecast') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr


def test_a_value_neither_on_off_nor_a_tag_says_what_is_accepted(crm):
    r = crm("db", "setting", "remind.next_purchase", "maybe")
    assert r.exit_code == 1 and r.stderr == (
        "crm: error: setting: remind.next_purchase is on, off or tags of contacts "
        "(comma-separated), and there is no tag 'maybe'\n"
    )
