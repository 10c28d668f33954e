"""Values that used to slip through `crm` wrongly: phone numbers that lost a digit, a TZ
outside the zone database, recurrence rules that never occur."""

from __future__ import annotations


def test_a_phone_number_is_never_stored_with_a_digit_eaten(crm):
    r = crm("add", "contact", "Hans Null", "-p", "+49004390427")
    assert r.exit_code == 1
    assert r.stderr.startswith("crm: error: phone: '+49004390427' would be stored as")
    assert len(r.stderr.splitlines()) == 1
    assert crm("list", "contacts", "-o", "json").json() == []  # nothing written
    r = crm("add", "contact", "Hans Null", "-p", "+49 (0)30 1234567", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "+49301234567" in r.stdout
