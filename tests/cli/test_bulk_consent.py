"""`crm edit --consent-date ... --where` refuses what `crm edit REF --consent-date ...` refuses."""

from __future__ import annotations


def test_a_consent_date_without_consent_is_refused_one_by_one_and_by_filter(crm):
    for name in ("Anna", "Bernd"):
        crm("add", "contact", name)
    one = crm("edit", "anna", "--consent-date", "01.01.2026")
    many = crm("edit", "--consent-date", "01.01.2026", "--where", "--all", "--yes")
    assert one.exit_code == many.exit_code == 1
    assert one.stderr == (
        "crm: error: consent-date: a date of consent needs the consent itself "
        "(it does not grant it)\n"
    )
    assert many.stderr == one.stderr.replace("\n", "; 2 contacts of these gave none\n")
    rows = crm("list", "contacts", "-o", "json").json()
    assert {(r["consent"], r["consent_at"]) for r in rows} == {(False, None)}
    r = crm("edit", "--consent", "--consent-date", "01.01.2026", "--where", "--all", "--yes")
    assert r.exit_code == 0, r.stderr
