"""Migration 0008 rebuilds contact and company entries with the company's city, phones and
custom fields, on a database made before it; activity and deal entries are kept."""

from __future__ import annotations

import importlib

from crmcli.models import database_proxy
from crmcli.services import activities, companies, contacts, search


def test_0008_rebuilds_what_search_writes_today(db):
    companies.add_company("Müller Bau GmbH", city="Köln", phone="0221 1234567")
    who = contacts.add_contact(
        "Jürgen Müller", company="müller bau", phone="040/48977063",
        fields=[("kundennummer", "K-10849")], notes="Rückruf",
    )  # fmt: skip
    contacts.add_contact("Ohne Firma", phone="+41 44 1234567")
    activities.log_activity("call", contact_id=who["id"], subject="Angebot Dach")
    today = dict(search.contact_entries() + search.company_entries())
    kept = search._stored([search.rowid("activity", 1)])
    # The entries as the version before 0008 wrote them: name, email, company, city, notes.
    old = {r: search.body(*text.split(" zz")[0].split()[:1]) for r, text in today.items()}
    search.put(list(old.items()))
    assert search.search("jürgen köln") == []
    migration = importlib.import_module("crmcli.migrations.0008_search_phones_fields")
    with database_proxy.atomic():
        migration.up(None, database_proxy.obj)
    assert search._stored(list(today)) == today
    assert search._stored([search.rowid("activity", 1)]) == kept
    assert [h["name"] for h in search.search("jürgen köln")] == ["Jürgen Müller"]
    assert [h["name"] for h in search.search("+41441234567")] == ["Ohne Firma"]
    assert not any(search.missing_entries().values())
