"""services.merge: one contact or company takes over its duplicates, in one transaction."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crmcli.errors import Invalid, NotFound
from crmcli.models import (
    Activity,
    Company,
    Contact,
    ContactEmail,
    ContactField,
    ContactPhone,
    ContactTag,
    Deal,
    MergeAlias,
    ReminderLog,
    Task,
)
from crmcli.services import activities, companies, contacts, deals, merge, search, tasks
from crmcli.values import sound_key
from tests.conftest import NOW


def add(name: str, **values) -> int:
    return contacts.add_contact(name, now=NOW, **values)["id"]


def snapshot() -> dict:
    """Every row a merge could touch, to show that nothing changed."""
    tables = (Contact, ContactEmail, ContactPhone, ContactTag, ContactField, Activity, Task,
              Deal, MergeAlias, Company)  # fmt: skip
    out = {t.__name__: sorted(map(repr, t.select().tuples())) for t in tables}
    out["search"] = [h["id"] for h in search.search("Maier", kinds=["contact"])]
    return out


@pytest.fixture
def pair(db):
    """Jan Meier (the survivor) and Jan Maier with a timeline, a task, a deal, tags, fields."""
    keep = add(
        "Jan Meier", email="jan@meier.de", phone="030 1234567", city="Köln", tags_=["vip"],
        fields=[("kundennr", "1"), ("shop", "a")], consent=True,
        consent_at=NOW - timedelta(days=30),
    )  # fmt: skip
    other = add(
        "Jan Maier", email="JM@maier.de", phone="+49 30 1234567", city="Bonn",
        company="Maier GmbH", position="Chef", tags_=["neu", "vip"],
        fields=[("kundennr", "2"), ("ustid", "DE1")], notes="mag Tee", consent=True,
        consent_at=NOW - timedelta(days=3),
    )  # fmt: skip
    ContactPhone.insert(contact=other, phone="0171 555", phone_e164="+49171555").execute()
    call = activities.log_activity(
        "call", contact_id=other, subject="Rückruf Angebot", occurred_at=NOW - timedelta(days=1),
        now=NOW,
    )["id"]  # fmt: skip
    task = tasks.add_task("Angebot schicken", contact_id=other, due_at=NOW + timedelta(days=2))
    deal = deals.add_deal("Dach Köln", contact_id=other, now=NOW)
    return {"keep": keep, "other": other, "call": call, "task": task["id"], "deal": deal["id"]}


def test_merge_moves_everything_to_the_survivor(pair):
    keep, other = pair["keep"], pair["other"]
    result = merge.merge_contacts(keep, [other], now=NOW)
    assert result["dry_run"] is False
    card = contacts.get_contact(keep)
    assert card["name"] == "Jan Meier"  # the survivor's values stay
    assert card["city"] == "Köln"
    assert card["company"] == "Maier GmbH" and card["position"] == "Chef"  # filled
    assert card["notes"] == "mag Tee"
    assert card["tags"] == ["neu", "vip"]
    assert card["fields"] == {"kundennr": "1", "shop": "a", "ustid": "DE1"}
    assert card["email"] == "jan@meier.de"  # the survivor's primary stays primary
    emails = ContactEmail.select(ContactEmail.email_key, ContactEmail.is_primary).where(
        ContactEmail.contact == keep
    )
    assert sorted(emails.tuples()) == [("jan@meier.de", True), ("jm@maier.de", False)]
    phones = ContactPhone.select(ContactPhone.phone_e164, ContactPhone.is_primary).where(
        ContactPhone.contact == keep
    )
    # the same number written differently is kept once; the mobile moves
    assert sorted(phones.tuples()) == [("+49171555", False), ("+49301234567", True)]
    assert Activity.get_by_id(pair["call"]).contact_id == keep
    assert Task.get_by_id(pair["task"]).contact_id == keep
    assert Deal.get_by_id(pair["deal"]).contact_id == keep
    assert card["last_activity_at"] == NOW - timedelta(days=1)
    with pytest.raises(NotFound):
        contacts.get_contact(other)
    assert MergeAlias.get(kind="contact", old_id=other).new_id == keep
    assert merge.alias_of("contact", other) == keep
    hits = search.search("maier", kinds=["contact"])
    assert [h["id"] for h in hits] == [keep]  # the survivor, found by the moved email's words
    assert Contact.get_by_id(keep).name_sound == sound_key("Jan Meier")


def test_conflicts_are_reported_and_the_survivor_wins(pair):
    result = merge.merge_contacts(pair["keep"], [pair["other"]], dry_run=True, now=NOW)
    conflicts = {c["field"]: c for c in result["conflicts"]}
    assert set(conflicts) == {"name", "city", "fields.kundennr"}
    assert conflicts["city"] == {
        "field": "city", "kept": "Köln", "kept_from": pair["keep"],
        "others": [{"id": pair["other"], "value": "Bonn"}], "filled": False,
    }  # fmt: skip
    filled = {f["field"]: f for f in result["filled"]}
    assert filled["company"]["value"] == "Maier GmbH"
    assert filled["company"]["from"] == pair["other"]
    assert result["moves"] == {
        "emails": 1, "phones": 1, "activities": 1, "tasks": 1, "deals": 1, "tags": 1,
    }  # fmt: skip


def test_dry_run_writes_nothing(pair):
    before = snapshot()
    result = merge.merge_contacts(pair["keep"], [pair["other"]], dry_run=True, now=NOW)
    assert result["dry_run"] is True
    assert snapshot() == before


def test_an_error_half_way_leaves_nothing_changed(pair, monkeypatch):
    before = snapshot()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # after emails, phones, timeline, tasks, deals and tags have moved
    monkeypatch.setattr(merge, "_aliases", broken)
    with pytest.raises(RuntimeError):
        merge.merge_contacts(pair["keep"], [pair["other"]], now=NOW)
    assert snapshot() == before


def test_the_caller_chooses_per_field(pair):
    keep, other = pair["keep"], pair["other"]
    result = merge.merge_contacts(
        keep, [other], choose={"city": other, "fields.kundennr": other, "name": "Jan Meyer",
                               "email": other},
        now=NOW,
    )  # fmt: skip
    card = contacts.get_contact(keep)
    assert card["city"] == "Bonn"
    assert card["fields"]["kundennr"] == "2"
    assert card["name"] == "Jan Meyer"
    assert card["email"] == "JM@maier.de"  # the chosen record's primary is primary now
    primaries = ContactEmail.select().where(
        (ContactEmail.contact == keep) & ContactEmail.is_primary
    )
    assert primaries.count() == 1
    assert {c["field"] for c in result["conflicts"]} == set()
    assert contacts.resolve_contact("jan meyer") == keep


def test_bad_choices_and_ids_are_refused(pair):
    keep, other = pair["keep"], pair["other"]
    with pytest.raises(Invalid, match="no field 'colour'"):
        merge.merge_contacts(keep, [other], choose={"colour": other})
    with pytest.raises(Invalid, match="not one of the records merged"):
        merge.merge_contacts(keep, [other], choose={"city": 999})
    with pytest.raises(Invalid, match="has no birthday"):
        merge.merge_contacts(keep, [other], choose={"birthday": other})
    with pytest.raises(Invalid, match="into itself"):
        merge.merge_contacts(keep, [keep])
    with pytest.raises(NotFound, match="999"):
        merge.merge_contacts(keep, [999])
    assert Contact.select().count() == 2


@pytest.mark.parametrize(
    ("consents", "expected"),
    [((True, True), True), ((True, False), False), ((False, True), False)],
)
def test_the_most_restrictive_consent_wins(db, consents, expected):
    def given(name: str, consent: bool, days: int) -> int:
        return add(
            name, consent=consent, consent_at=NOW - timedelta(days=days) if consent else None
        )

    a, b = given("A Meier", consents[0], 9), given("A Maier", consents[1], 2)
    result = merge.merge_contacts(a, [b], now=NOW)
    card = contacts.get_contact(a)
    assert card["consent"] is expected
    # consent holds from when every one of them had agreed: the latest date
    assert card["consent_at"] == (NOW - timedelta(days=2) if expected else None)
    assert result["consent"]["consent"] is expected


def test_aliases_follow_a_chain_of_merges(db):
    a, b, c = add("Eva Müller"), add("Eva Mueller"), add("Eva Muller")
    merge.merge_contacts(b, [c], now=NOW)
    merge.merge_contacts(a, [b], now=NOW)
    aliases = dict(
        MergeAlias.select(MergeAlias.old_id, MergeAlias.new_id)
        .where(MergeAlias.kind == "contact")
        .tuples()
    )
    assert aliases == {b: a, c: a}  # c pointed at b, which is merged away too


def test_survivor_without_email_takes_the_others_primary(db):
    a = add("Jan Meier")
    b = add("Jan Maier", email="jm@maier.de", phone="030 1234567")
    merge.merge_contacts(a, [b], now=NOW)
    card = contacts.get_contact(a)
    assert (card["email"], card["phone_e164"]) == ("jm@maier.de", "+49301234567")
    assert ContactEmail.get(ContactEmail.contact == a).is_primary


def test_cadence_and_reminder_state_carry_over(db):
    a = add("Jan Meier", cadence_days=30)
    b = add("Jan Maier", birthday=NOW.date().replace(year=1980) + timedelta(days=1))
    Contact.update(birthday_reminded=2026).where(Contact.id == b).execute()
    ReminderLog.insert(key=f"birthday:{b}:2026").execute()
    activities.log_activity("call", contact_id=b, occurred_at=NOW - timedelta(days=5), now=NOW)
    merge.merge_contacts(a, [b], now=NOW)
    row = Contact.get_by_id(a)
    assert row.birthday_reminded == 2026  # not reminded of again this year
    assert ReminderLog.select().where(ReminderLog.key == f"birthday:{a}:2026").exists()
    assert row.last_activity_at == NOW - timedelta(days=5)
    # due 30 days after the last call the survivor now has
    assert row.touch_due == int((NOW - timedelta(days=5) + timedelta(days=30)).timestamp())


def test_merge_several_at_once(db):
    a, b, c = add("Hans Meier"), add("Hans Maier", city="Bonn"), add("Hans Meyer", city="Ulm")
    result = merge.merge_contacts(a, [b, c, b], now=NOW)
    assert [m["id"] for m in result["merged"]] == [b, c]
    assert contacts.get_contact(a)["city"] == "Bonn"  # filled from the first that has one
    assert result["conflicts"] == [
        {"field": "name", "kept": "Hans Meier", "kept_from": a,
         "others": [{"id": b, "value": "Hans Maier"}, {"id": c, "value": "Hans Meyer"}],
         "filled": False},
        {"field": "city", "kept": "Bonn", "kept_from": b, "others": [{"id": c, "value": "Ulm"}],
         "filled": True},
    ]  # fmt: skip
    # the city is one entry, a conflict that fills: not a fill and a conflict besides
    assert [f["field"] for f in result["filled"]] == []
    assert Contact.select().count() == 1


def test_merge_companies(db):
    keep = companies.add_company("Müller Bau GmbH", city="Köln", tags_=["bau"])["id"]
    other = companies.add_company(
        "Mueller Bau", domain="mueller-bau.de", city="Koeln", phone="0221 1234", tags_=["neu"]
    )["id"]
    person = add("Jürgen Müller", company="Mueller Bau")
    deal = deals.add_deal("Dach", company_id=other, now=NOW)["id"]
    note = activities.log_activity("note", company_id=other, body="Rahmenvertrag", now=NOW)["id"]
    dry = merge.merge_companies(keep, [other], dry_run=True, now=NOW)
    assert dry["moves"] == {"contacts": 1, "deals": 1, "activities": 1, "tags": 1}
    assert Company.select().count() == 2
    result = merge.merge_companies(keep, [other], now=NOW)
    # Köln and Koeln fold alike, but the user may prefer one spelling: it is a choice
    assert {c["field"] for c in result["conflicts"]} == {"name", "city"}
    assert companies.get_company(keep)["city"] == "Köln"
    card = companies.get_company(keep)
    assert card["domain"] == "mueller-bau.de" and card["phone"] == "0221 1234"
    assert card["tags"] == ["bau", "neu"]
    assert [p["id"] for p in card["contacts"]] == [person]
    assert Deal.get_by_id(deal).company_id == keep
    assert Activity.get_by_id(note).company_id == keep
    assert MergeAlias.get(kind="company", old_id=other).new_id == keep
    assert contacts.get_contact(person)["company"] == "Müller Bau GmbH"
    assert [h["id"] for h in search.search("mueller-bau", kinds=["company"])] == [keep]
    # the person's index entry names the survivor now
    assert [h["id"] for h in search.search("muller bau gmbh", kinds=["contact"])] == [person]
    assert Company.get_by_id(keep).name_sound == sound_key("Müller Bau GmbH", company=True)


def test_company_survivor_can_take_the_others_name(db):
    keep = companies.add_company("Mueller Bau")["id"]
    other = companies.add_company("Müller Bau GmbH", phone="0221 1234")["id"]
    merge.merge_companies(keep, [other], choose={"name": other, "phone": other}, now=NOW)
    card = companies.get_company(keep)
    assert (card["name"], card["phone_e164"]) == ("Müller Bau GmbH", "+492211234")
    assert companies.resolve_company("müller bau gmbh") == keep
    assert Company.select().count() == 1


def test_dry_run_reads_only(pair, monkeypatch):
    """A dry run opens no write transaction (it works where the user may only read)."""
    from crmcli.models import database_proxy

    def refuse():
        raise AssertionError("a dry run must not open a transaction")

    monkeypatch.setattr(database_proxy.obj, "atomic", refuse)
    plan = merge.merge_contacts(pair["keep"], [pair["other"]], dry_run=True, now=NOW)
    assert plan["moves"]["activities"] == 1


def test_a_spelling_that_folds_alike_is_still_a_conflict(db):
    keep = add("Juergen Mueller", city="Koeln")
    other = add("Jürgen Müller", city="Köln")
    plan = merge.merge_contacts(keep, [other], dry_run=True, now=NOW)
    conflicts = {c["field"]: c for c in plan["conflicts"]}
    assert conflicts["name"]["others"] == [{"id": other, "value": "Jürgen Müller"}]
    assert conflicts["city"]["kept"] == "Koeln"
    assert conflicts["city"]["others"] == [{"id": other, "value": "Köln"}]
    merge.merge_contacts(keep, [other], choose={"name": other, "city": other}, now=NOW)
    card = contacts.get_contact(keep)
    assert (card["name"], card["city"]) == ("Jürgen Müller", "Köln")


def test_a_birthday_with_its_year_beats_the_same_day_without(db):
    from crmcli.values import NO_YEAR, YearlessDate

    XMAS = YearlessDate(NO_YEAR, 12, 24)  # noqa: N806 - as `24.12.` is read
    keep = add("Yb One")
    yearless = add("Yb Two", birthday=XMAS)
    full = add("Yb Three", birthday=date(1980, 12, 24))
    plan = merge.merge_contacts(keep, [yearless, full], dry_run=True, now=NOW)
    assert [c["field"] for c in plan["conflicts"]] == ["name"]
    [filled] = [f for f in plan["filled"] if f["field"] == "birthday"]
    assert (str(filled["value"]), filled["from"]) == ("1980-12-24", full)
    # the survivor's own yearless birthday is completed too, and no conflict is reported
    keep2 = add("Zc One", birthday=XMAS)
    other = add("Zc Two", birthday=date(1980, 12, 24))
    plan = merge.merge_contacts(keep2, [other], now=NOW, force=True)
    assert "birthday" not in {c["field"] for c in plan["conflicts"]}
    assert str(contacts.get_contact(keep2)["birthday"]) == "1980-12-24"
    # a different day stays a conflict the survivor wins
    keep3 = add("Xd One", birthday=XMAS)
    other = add("Xd Two", birthday=date(1980, 12, 23))
    plan = merge.merge_contacts(keep3, [other], dry_run=True, now=NOW)
    assert "birthday" in {c["field"] for c in plan["conflicts"]}


def test_unrelated_records_merge_only_when_forced(db):
    keep = add("Anna Berg", email="anna@berg.de")
    stranger = add("Xaver Yilmaz", phone="030 1234567")
    other = add("Tom Koch", phone="+49 30 1234567")  # tied to the stranger, not to Anna
    plan = merge.merge_contacts(keep, [stranger, other], dry_run=True, now=NOW)
    assert plan["unrelated"] == [stranger, other]
    with pytest.raises(Invalid, match="no sign that contact #2 Xaver Yilmaz, #3 Tom Koch"):
        merge.merge_contacts(keep, [stranger, other], now=NOW)
    assert Contact.select().count() == 3
    # a second email of the stranger's that is Anna's (Gmail spelling aside) ties them all
    ContactEmail.insert(contact=other, email="x@y.de", email_key="anna@berg.de ").execute()
    assert merge.merge_contacts(keep, [stranger, other], dry_run=True)["unrelated"] == []
    merge.merge_contacts(keep, [stranger], now=NOW, force=True)
    assert Contact.select().count() == 2


def test_a_shared_phone_or_a_similar_name_is_enough(db):
    keep = add("Anna Berg", phone="030 1234567")
    other = add("Xaver Yilmaz", phone="+49 30 1234567")
    alike = add("Anne Berg")
    plan = merge.merge_contacts(keep, [other, alike], dry_run=True, now=NOW)
    assert plan["unrelated"] == []
