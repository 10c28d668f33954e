"""crmcli.demo.fill_demo: German sample data that follows every rule real data follows."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from peewee import fn

from crmcli import demo
from crmcli.demo import fill, people, state
from crmcli.errors import Conflict, Invalid
from crmcli.models import (
    Activity,
    Company,
    CompanyTag,
    Contact,
    ContactField,
    ContactTag,
    Tag,
    Task,
)  # fmt: skip
from crmcli.services import companies, contacts, search
from crmcli.values import fold, fold_variants, parse_email, parse_phone, to_utc
from tests.conftest import NOW

CONTACT_COLUMNS = [getattr(Contact, c) for c in ("id", *people.CONTACT_COLUMNS)]
COMPANY_COLUMNS = [getattr(Company, c) for c in ("id", *people.COMPANY_COLUMNS)]


def dump() -> dict:
    """Every row the demo writes, in a comparable form."""
    return {
        "contacts": list(Contact.select(*CONTACT_COLUMNS).order_by(Contact.id).tuples()),
        "companies": list(Company.select(*COMPANY_COLUMNS).order_by(Company.id).tuples()),
        "tags": list(Tag.select(Tag.id, Tag.name).order_by(Tag.id).tuples()),
        "contact_tags": sorted(ContactTag.select(ContactTag.contact, ContactTag.tag).tuples()),
        "company_tags": sorted(CompanyTag.select(CompanyTag.company, CompanyTag.tag).tuples()),
        "fields": sorted(
            ContactField.select(ContactField.contact, ContactField.key, ContactField.value).tuples()
        ),
        "index": indexed(),
    }


def indexed() -> dict[int, str]:
    from crmcli.models import database_proxy

    rows = database_proxy.obj.execute_sql("SELECT rowid, body FROM search_index").fetchall()
    return dict(rows)


@pytest.fixture
def filled(db):
    counts = demo.fill_demo(contacts=300, now=NOW)
    return counts


def test_counts_match_what_is_stored(filled):
    assert filled["contacts"] == Contact.select().count() == 300
    assert filled["companies"] == Company.select().count() == 300 // 8
    assert filled["tags"] == Tag.select().count()
    assert 6 <= filled["tags"] <= 10
    assert filled["contact_tags"] == ContactTag.select().count() > 0
    assert filled["company_tags"] == CompanyTag.select().count()
    assert filled["custom_fields"] == ContactField.select().count() > 0
    # five a contact, plus the recent calls that keep most stay-in-touch cadences in time
    assert filled["activities"] == Activity.select().count()
    assert 300 * 5 < filled["activities"] < 300 * 6
    assert filled["tasks"] == Task.select().count() == 30
    assert (
        filled["search_entries"]
        == len(indexed())
        == (300 + 300 // 8 + filled["activities"] + filled["deals"])
    )
    assert filled["removed_contacts"] == filled["removed_companies"] == 0


def test_company_count_can_be_chosen_and_is_at_least_one_by_default(db):
    assert demo.fill_demo(contacts=3, now=NOW)["companies"] == 1
    assert demo.fill_demo(contacts=40, companies=7, now=NOW, force=True)["companies"] == 7
    assert Company.select().count() == 7


def test_no_companies_means_private_people_only(db):
    counts = demo.fill_demo(contacts=30, companies=0, now=NOW)
    assert counts["companies"] == 0
    assert Contact.select().where(Contact.company.is_null(False)).count() == 0


def test_the_same_seed_makes_the_same_data(tmp_path):
    """In fresh processes with different hash seeds, so set order cannot leak into the data."""
    code = (
        "import sys; from datetime import datetime; from crmcli.db import open_database;"
        "from crmcli.demo import fill_demo; open_database(sys.argv[1]);"
        "fill_demo(contacts=120, seed=int(sys.argv[2]), now=datetime.fromisoformat(sys.argv[3]))"
    )
    from crmcli.db import open_database

    dumps = []
    for name, seed, hashseed in (("a", 7, "1"), ("b", 7, "2"), ("c", 8, "1")):
        path = str(tmp_path / f"{name}.db")
        env = {"PYTHONHASHSEED": hashseed, "PATH": ""}
        subprocess.run(
            [sys.executable, "-c", code, path, str(seed), NOW.isoformat()], check=True, env=env
        )
        database = open_database(path)
        dumps.append(dump())
        database.close()
    assert dumps[0] == dumps[1]
    assert dumps[0]["contacts"] != dumps[2]["contacts"]


def test_the_same_seed_makes_the_same_data_at_another_time(tmp_path):
    """Run an hour later, the same seed gives the same people the same consents and tags (the
    consents' own generator was seeded by the clock)."""
    from datetime import timedelta

    from crmcli.db import open_database
    from crmcli.demo import fill_demo

    made = []
    for name, now in (("a", NOW), ("b", NOW + timedelta(hours=1, seconds=7))):
        database = open_database(str(tmp_path / f"{name}.db"))
        fill_demo(contacts=300, seed=7, now=now)
        made.append((
            database.execute_sql(
                "SELECT contact_id, purpose, action, source, version, confirmed_at IS NULL "
                "FROM consent_entry ORDER BY id"
            ).fetchall(),
            database.execute_sql("SELECT contact_id, tag_id FROM contact_tag ORDER BY 1, 2")
            .fetchall(),
        ))  # fmt: skip
        database.close()
    assert made[0][0] and made[0] == made[1]


def test_people_look_german(filled):
    names = [n for (n,) in Contact.select(Contact.name).tuples()]
    assert any(re.search("[äöüÄÖÜß]", n) for n in names)
    cities = {c for (c,) in Contact.select(Contact.city).tuples()}
    assert cities & {"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main"}
    countries = dict(
        Contact.select(Contact.country, fn.COUNT(Contact.id)).group_by(Contact.country).tuples()
    )
    assert set(countries) <= {"DE", "AT", "CH"}
    assert countries["DE"] > 0.8 * 300 and len(countries) > 1
    zips = [z for (z,) in Contact.select(Contact.zip).where(Contact.country == "DE").tuples()]
    assert all(re.fullmatch(r"\d{5}", z) for z in zips)


def test_companies_have_german_legal_forms_and_unique_folded_names(db):
    demo.fill_demo(contacts=300, companies=150, now=NOW)
    names = [n for (n,) in Company.select(Company.name).tuples()]
    for form in (" GmbH", " AG", " e.K."):
        assert any(n.endswith(form) for n in names), form
    assert len({fold(n) for n in names}) == len(names)


def test_crowded_company_names_are_made_unique(db):
    """Far more companies than name combinations that come up easily: still no duplicates."""
    counts = demo.fill_demo(contacts=10, companies=4000, now=NOW)
    assert counts["companies"] == Company.select(fn.COUNT(fn.DISTINCT(Company.name_fold))).scalar()
    domains = [d for (d,) in Company.select(Company.domain).tuples()]
    assert len(set(domains)) == len(domains) == 4000


def test_a_name_that_keeps_coming_up_becomes_branches(db, monkeypatch):
    monkeypatch.setattr(people, "_company_name", lambda d, country: ("Müller Bau", "GmbH", "Bau"))
    demo.fill_demo(contacts=10, companies=30, now=NOW)
    names = [n for (n,) in Company.select(Company.name).order_by(Company.id).tuples()]
    assert "Müller Bau GmbH" in names
    assert "Müller Bau Nord GmbH" in names or "Müller Bau Süd GmbH" in names
    assert len({fold(n) for n in names}) == 30
    domains = {d for (d,) in Company.select(Company.domain).tuples()}
    assert len(domains) == 30 and "mueller-bau.example" in domains


def test_columns_are_normalised_as_the_services_do(filled):
    for name, key, city, city_fold in Contact.select(
        Contact.name, Contact.name_key, Contact.city, Contact.city_fold
    ).tuples():
        assert key == fold_variants(name)
        assert city_fold == fold(city)
    for name, name_fold, key in Company.select(
        Company.name, Company.name_fold, Company.name_key
    ).tuples():
        assert (name_fold, key) == (fold(name), fold_variants(name))
        assert name == " ".join(name.split())


def test_emails_are_unique_valid_and_never_real_inboxes(filled):
    rows = list(Contact.select(Contact.email, Contact.email_key).tuples())
    emails = [e for e, _ in rows if e]
    assert len(emails) > 0.9 * len(rows)
    assert len(set(emails)) == len(emails)
    for email, key in rows:
        if email:
            assert parse_email(email) == email and key == email.lower()
            domain = email.split("@")[1]
            assert domain.endswith(".example") or domain in people.PRIVATE_DOMAINS
    assert any(re.search(r"(ae|oe|ue|ss)", e.split("@")[0]) for e in emails)
    for (email,) in Company.select(Company.email).tuples():
        assert parse_email(email) == email


def test_phones_are_stored_as_typed_with_the_e164_parse_phone_gives(filled):
    rows = list(Contact.select(Contact.phone, Contact.phone_e164).tuples())
    rows += list(Company.select(Company.phone, Company.phone_e164).tuples())
    phones = [(p, e) for p, e in rows if p]
    assert len(phones) > 0.8 * len(rows)
    for phone, e164 in phones:
        assert e164.startswith("+")
        assert parse_phone(phone) == e164, phone
    assert {p.split()[0] for p, _ in phones} & {"030", "+49", "040", "089", "0221"}


def test_statuses_sources_owners_and_consent_are_spread(filled):
    statuses = {s for (s,) in Contact.select(Contact.status).tuples()}
    assert statuses == {"lead", "prospect", "customer", "inactive"}
    sources = {s for (s,) in Contact.select(Contact.source).tuples()}
    assert {"Website", "Empfehlung", "Messe", "LinkedIn"} <= sources
    assert len({o for (o,) in Contact.select(Contact.owner).tuples()}) >= 4
    at_company = Contact.select().where(Contact.company.is_null(False)).count()
    assert 0.75 * 300 <= at_company <= 0.95 * 300
    with_birthday = Contact.select().where(Contact.birthday.is_null(False)).count()
    assert 0.45 * 300 <= with_birthday <= 0.75 * 300
    consenting = Contact.select().where(Contact.consent == True).count()  # noqa: E712
    assert 0.25 * 300 <= consenting <= 0.55 * 300
    assert Contact.select().where(Contact.notes.is_null(False)).count() > 0


def test_timestamps_lie_in_the_last_two_years_and_in_order(filled):
    earliest = NOW - timedelta(days=state.HISTORY_DAYS)
    for card in contacts.list_contacts(sort="id"):
        created, updated = card["created_at"], card["updated_at"]
        assert to_utc(earliest) <= created <= updated <= NOW
        if card["consent"]:
            assert created <= card["consent_at"] <= updated
        else:
            assert card["consent_at"] is None
        if card["birthday"]:
            assert card["birthday"] < NOW.date() - timedelta(days=17 * 365)
    ids_by_time = [c["id"] for c in contacts.list_contacts(sort="created")]
    assert ids_by_time == sorted(ids_by_time)
    firms = list(Company.select(Company.id, Company.created_at).order_by(Company.id).tuples())
    assert [c for _, c in firms] == sorted(c for _, c in firms)
    for card in contacts.list_contacts(sort="id"):
        if card["company_id"]:
            assert card["created_at"] >= firms[card["company_id"] - firms[0][0]][1]


def test_tags_and_custom_fields(filled):
    names = {n for (n,) in Tag.select(Tag.name).tuples()}
    assert {"vip", "newsletter", "b2b", "b2c", "stammkunde", f"messe-{NOW.year}"} <= names
    used = ContactTag.select(fn.COUNT(fn.DISTINCT(ContactTag.contact))).scalar()
    assert 0.3 * 300 < used < 300
    fields = list(
        ContactField.select(ContactField.contact, ContactField.key, ContactField.value).tuples()
    )
    numbers = [v for _, k, v in fields if k == "kundennummer"]
    assert numbers and len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"K-\d{5}", v) for v in numbers)
    assert {v for _, k, v in fields if k == "umsatzklasse"} <= {"A", "B", "C"}
    customers = {
        i
        for (i,) in Contact.select(Contact.id)
        .where(Contact.status.in_(["customer", "inactive"]))
        .tuples()
    }
    assert {c for c, k, _ in fields if k == "kundennummer"} == customers
    card = contacts.get_contact(min(customers))
    assert card["fields"]["kundennummer"].startswith("K-")


def test_search_finds_demo_people_by_folded_fragments(filled):
    name = next(
        n for (n,) in Contact.select(Contact.name).order_by(Contact.id).tuples()
        if re.search("[äöü]", n)
    )  # fmt: skip
    plain = " ".join(word[:4] for word in fold(name).split())  # "jurg mull"
    hits = search.search(plain, limit=500, kinds=["contact"])
    assert name in {h["name"] for h in hits}
    german = name.translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"}))  # "Juergen Mueller"
    assert name in {h["name"] for h in search.search(german, limit=500)}


def test_index_holds_exactly_what_the_search_service_writes(filled):
    expected = dict(
        search.contact_entries() + search.company_entries() + search.activity_entries()
        + search.deal_entries()
    )  # fmt: skip
    assert indexed() == expected
    assert not any(search.missing_entries().values())


def everything() -> dict:
    """dump() and the rest a user could lose: deals, their histories, tasks, activities."""
    from crmcli.models import Deal, DealStageChange

    return {
        **dump(),
        "deals": list(Deal.select(Deal.id, Deal.title).order_by(Deal.id).tuples()),
        "changes": DealStageChange.select().count(),
        "tasks": list(Task.select(Task.id, Task.title).order_by(Task.id).tuples()),
        "activities": list(Activity.select(Activity.id).order_by(Activity.id).tuples()),
    }


@pytest.mark.parametrize("force", [False, True])
def test_refuses_a_database_with_somebodys_records_even_with_force(db, force):
    contacts.add_contact(
        "Zyxw Testperson", email="zyxw@example.org", company="Alte Firma GmbH",
        tags_=["alt-tag"], fields=[("altfeld", "1")], now=NOW,
    )  # fmt: skip
    before = everything()
    with pytest.raises(Conflict, match=r"already holds 1 contact, 1 company, 1 tag") as caught:
        demo.fill_demo(contacts=50, force=force, now=NOW)
    assert "that the demo did not make" in str(caught.value)
    assert caught.value.action == "demo_other_database"
    assert everything() == before


def test_refuses_a_database_with_only_a_company(db):
    companies.add_company("Alte Firma GmbH", now=NOW)
    with pytest.raises(Conflict, match="1 company"):
        demo.fill_demo(contacts=50, force=True, now=NOW)
    assert Company.select().count() == 1 and Contact.select().count() == 0


def test_refuses_a_database_that_holds_only_tasks(db):
    from crmcli.services import tasks

    tasks.add_task("Eigene Aufgabe", now=NOW)
    with pytest.raises(Conflict, match=r"already holds 1 task that"):
        demo.fill_demo(contacts=20, force=True, now=NOW)
    assert [t.title for t in Task.select()] == ["Eigene Aufgabe"]


def test_a_tag_left_behind_is_somebodys_too(db):
    card = contacts.add_contact("Weg Damit", tags_=["VIP"], now=NOW)
    contacts.delete_contact(card["id"])  # the tag stays behind, with any cadence set on it
    with pytest.raises(Conflict, match="1 tag that the demo did not make"):
        demo.fill_demo(contacts=50, force=True, now=NOW)
    assert [t.name for t in Tag.select()] == ["VIP"]


def test_an_earlier_demo_is_replaced_only_with_force(db):
    first = demo.fill_demo(contacts=50, now=NOW)
    before = everything()
    with pytest.raises(
        Conflict, match=r"already holds a demo made 2026-11-23 10:00 \(50 contacts"
    ) as caught:
        demo.fill_demo(contacts=50, now=NOW)
    assert caught.value.action == "demo_replace"
    assert everything() == before
    again = demo.fill_demo(contacts=40, force=True, seed=7, now=NOW)
    assert Contact.select().count() == 40
    # Everything removed is reported, kind by kind: what the first demo made.
    for kind in ("contacts", "companies", "deals", "activities", "tasks", "tags",
                 "custom_fields", "contact_tags", "company_tags"):  # fmt: skip
        assert again[f"removed_{kind}"] == first[kind], kind
    assert again["removed_stage_changes"] > first["deals"]
    assert fill.demo_marker()["seed"] == 7


def test_replacing_a_demo_again_and_again_keeps_the_index_whole(db):
    """Ids are never reused (AUTOINCREMENT, sequences): the index must use the ids given."""
    from crmcli.services.maintenance import check

    for force in (False, True, True):
        demo.fill_demo(contacts=60, force=force, now=NOW)
        assert not any(search.missing_entries().values())
        assert indexed() == dict(
            search.contact_entries() + search.company_entries() + search.activity_entries()
            + search.deal_entries()
        )  # fmt: skip
        assert check(db) == []


def _add_contact():
    contacts.add_contact("Eigene Kundin", now=NOW)


def _edit_contact():
    contacts.edit_contact(Contact.select().first().id, {"city": "Bonn"}, now=NOW)


def _set_field():
    contacts.edit_contact(Contact.select().first().id, {}, fields=[("x", "1")], now=NOW)


def _finish_task():
    from crmcli.services import tasks

    tasks.complete_task(Task.select().where(Task.done_at.is_null()).first().id, now=NOW)


def _delete_activity():
    Activity.delete().where(Activity.id == Activity.select().first().id).execute()


def _rename_stage_under_an_old_clock():
    from datetime import datetime

    from crmcli.services import stages

    stages.edit_stage("Lead", name="Anfrage", now=datetime.fromisoformat("2025-01-01T00:00Z"))


@pytest.mark.parametrize(
    "change",
    [_add_contact, _edit_contact, _set_field, _finish_task, _delete_activity,
     _rename_stage_under_an_old_clock],
)  # fmt: skip
def test_a_demo_changed_after_it_was_made_is_somebodys_work(db, change):
    demo.fill_demo(contacts=50, now=NOW)
    change()
    before = everything()
    with pytest.raises(Conflict, match="changed after it was made") as caught:
        demo.fill_demo(contacts=50, force=True, now=NOW)
    assert caught.value.action == "demo_other_database"
    assert everything() == before


def test_reminders_printed_from_a_demo_keep_it_a_demo(db):
    from crmcli.services import reminders

    demo.fill_demo(contacts=50, now=NOW)
    assert reminders.remind(now=NOW)  # marks what it printed, as the cron job does
    assert demo.fill_demo(contacts=50, force=True, now=NOW)["contacts"] == 50


def test_an_emptied_database_takes_a_demo_again(db):
    demo.fill_demo(contacts=30, now=NOW)
    contacts.add_contact("Eigene Kundin", now=NOW)
    fill._clear()  # everything gone, the marker stays behind and no longer fits
    assert demo.fill_demo(contacts=30, now=NOW)["contacts"] == 30


def test_force_on_an_empty_database_just_fills_it(db):
    counts = demo.fill_demo(contacts=20, force=True, now=NOW)
    assert counts["contacts"] == 20
    assert not any(v for k, v in counts.items() if k.startswith("removed_"))


def test_a_failure_half_way_leaves_the_earlier_demo_whole(db, monkeypatch):
    demo.fill_demo(contacts=50, now=NOW)
    before, marker = everything(), fill.demo_marker()

    def broken(d):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(people, "contact_fields", broken)
    with pytest.raises(RuntimeError):
        demo.fill_demo(contacts=30, force=True, now=NOW)
    assert everything() == before
    assert fill.demo_marker() == marker


def test_the_hint_never_shows_a_password(crm, db_target):
    from crmcli.db import describe

    r = crm("demo", "--contacts", "20")
    assert r.exit_code == 0, r.stderr
    assert f"Try: crm --db {describe(db_target)}" in r.stderr or db_target in r.stderr
    from urllib.parse import unquote, urlsplit

    if "://" in db_target:  # PostgreSQL: the URL has a password; no output shows it
        password = urlsplit(db_target).password
        assert password and unquote(password) not in r.stderr + r.stdout
        assert password not in r.stderr + r.stdout


@pytest.mark.parametrize("sizes", [{"contacts": -1}, {"contacts": 5, "companies": -2}])
def test_impossible_sizes_are_invalid(db, sizes):
    with pytest.raises(Invalid):
        demo.fill_demo(now=NOW, **sizes)
    assert Tag.select().count() == 0


def _other_writer(db_target: str):
    """A second connection that gives up at once when it would have to wait for a lock."""
    if "://" in db_target:
        import psycopg2

        conn = psycopg2.connect(db_target)
        conn.cursor().execute("SET lock_timeout = '200ms'")
        return conn, (psycopg2.OperationalError,)
    import sqlite3

    return sqlite3.connect(db_target, timeout=0.05), (sqlite3.OperationalError,)


def test_nobody_writes_between_the_check_and_the_replacement(db, db_target, monkeypatch):
    """A contact added while demo --force decides would be wiped unseen: writers wait."""
    demo.fill_demo(contacts=30, now=NOW)
    other, locked = _other_writer(db_target)
    tried = []
    real_held = fill.held

    def held_while_someone_writes():
        counts = real_held()
        try:
            other.cursor().execute(
                "INSERT INTO tag (name, name_fold, created_at, updated_at) "
                "VALUES ('eigen', 'eigen', '2026-11-23 09:00:00', '2026-11-23 09:00:00')"
            )
            other.commit()
            tried.append("written")
        except locked:
            other.rollback()
            tried.append("waited")
        return counts

    monkeypatch.setattr(fill, "held", held_while_someone_writes)
    try:
        demo.fill_demo(contacts=30, force=True, now=NOW)
    finally:
        other.close()
    assert tried == ["waited"]
    assert not Tag.select().where(Tag.name == "eigen").exists()


def test_counts_are_worded_with_the_shared_plural():
    counts = {"contacts": 1, "contact_tags": 2, "company_tags": 1, "activities": 3}
    assert fill.describe_counts(counts) == (
        "1 contact, 2 contact tags, 1 company tag and 3 activities"
    )
