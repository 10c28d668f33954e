"""Deals through the services: opening, moving with history, won, lost, reopen, lists, cards."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crmcli.errors import Ambiguous, Conflict, Invalid, NotFound
from crmcli.models import Deal, DealStageChange
from crmcli.services import activities, companies, contacts, deals, search
from tests.conftest import NOW


@pytest.fixture
def person(db):
    return contacts.add_contact("Jürgen Müller", company="Müller Bau GmbH", now=NOW)


def add(person, title="Dachsanierung", **kw):
    kw.setdefault("now", NOW)
    return deals.add_deal(title, contact_id=person["id"], **kw)


def steps(deal_id) -> list[tuple]:
    return [(h["from_stage"], h["to_stage"], h["changed_by"]) for h in deals.history_of(deal_id)]


def test_add_deal_starts_in_the_first_stage_with_the_contacts_company(person):
    d = add(person, amount_cents=123450, expected_close=date(2026, 12, 24), owner="Anna")
    assert (d["stage"], d["status"], d["probability"]) == ("Lead", "open", 10)
    assert (d["amount"], d["currency"]) == (Decimal("1234.50"), "EUR")
    assert (d["contact"], d["company"]) == ("Jürgen Müller", "Müller Bau GmbH")
    assert d["expected_close"] == date(2026, 12, 24) and d["created_at"] == NOW
    assert steps(d["id"]) == [(None, "Lead", None)]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"amount_cents": -1}, Invalid, "negative"),
        ({"stage": "nirgends"}, NotFound, "no stage 'nirgends'"),
        ({"stage": "gewonnen"}, Invalid, "open stage"),
        ({"currency": "euro"}, Invalid, "ISO 4217 currency code"),
        ({"company_id": 999}, NotFound, "no company"),
    ],
)
def test_bad_input_writes_nothing(person, kwargs, error, message):
    with pytest.raises(error, match=message):
        add(person, **kwargs)
    assert Deal.select().count() == 0 and DealStageChange.select().count() == 0
    assert search.missing_entries()["deal"] == 0


def test_a_deal_is_with_someone(db):
    with pytest.raises(Invalid, match="contact or a company"):
        deals.add_deal("Niemand", now=NOW)


def test_move_records_every_step_in_order(person):
    d = add(person)
    later = NOW + timedelta(days=3)
    deals.move_deal(d["id"], "angebot", now=later, by="anna")
    moved = deals.move_deal(d["id"], "verhandlung", now=later + timedelta(days=1))
    assert moved["stage"] == "Verhandlung" and moved["updated_at"] == later + timedelta(days=1)
    assert steps(d["id"]) == [
        (None, "Lead", None), ("Lead", "Angebot", "anna"), ("Angebot", "Verhandlung", None),
    ]  # fmt: skip
    assert deals.history_of(d["id"])[1]["changed_at"] == later


def test_moving_wrongly_changes_nothing(person):
    d = add(person)
    with pytest.raises(NotFound, match="no stage"):
        deals.move_deal(d["id"], "Abschluss", now=NOW)
    with pytest.raises(Conflict, match="in Lead already"):
        deals.move_deal(d["id"], "lead", now=NOW)
    with pytest.raises(Invalid, match="needs a reason"):
        deals.move_deal(d["id"], "verloren", now=NOW)
    assert len(steps(d["id"])) == 1 and deals.get_deal(d["id"])["stage"] == "Lead"


def test_won_lost_and_reopen(person):
    d = add(person)
    deals.move_deal(d["id"], "angebot", now=NOW)
    won = deals.win_deal(d["id"], now=NOW + timedelta(days=1))
    assert (won["status"], won["stage"], won["closed_at"]) == (
        "won", "Gewonnen", NOW + timedelta(days=1)
    )  # fmt: skip
    with pytest.raises(Conflict, match="is won") as caught:
        deals.move_deal(d["id"], "lead", now=NOW)
    assert (caught.value.action, caught.value.facts) == ("reopen_deal", {"deal": d["id"]})
    with pytest.raises(Conflict, match="is won"):
        deals.lose_deal(d["id"], "Preis", now=NOW)
    again = deals.reopen_deal(d["id"], now=NOW + timedelta(days=2))
    assert (again["status"], again["stage"], again["closed_at"]) == ("open", "Angebot", None)
    with pytest.raises(Invalid, match="say why"):
        deals.lose_deal(d["id"], "  ", now=NOW)
    lost = deals.lose_deal(d["id"], "Preis zu hoch", now=NOW + timedelta(days=3))
    assert (lost["status"], lost["lost_reason"]) == ("lost", "Preis zu hoch")
    reopened = deals.reopen_deal(d["id"], stage="verhandlung", now=NOW + timedelta(days=4))
    assert (reopened["stage"], reopened["lost_reason"]) == ("Verhandlung", None)
    with pytest.raises(Conflict, match="is open"):
        deals.reopen_deal(d["id"], now=NOW)
    assert [to for _, to, _ in steps(d["id"])] == [
        "Lead", "Angebot", "Gewonnen", "Angebot", "Verloren", "Verhandlung",
    ]  # fmt: skip


def test_moving_to_the_won_stage_wins(person):
    d = add(person)
    assert deals.move_deal(d["id"], "gewonnen", now=NOW)["status"] == "won"


def test_resolve_deal_by_id_and_title(person):
    d = add(person, "Dachsanierung Köln")
    add(person, "Fassade Köln")
    assert deals.resolve_deal(str(d["id"])) == d["id"]
    assert deals.resolve_deal("dachsan") == d["id"]
    with pytest.raises(Ambiguous):
        deals.resolve_deal("koln")


def test_list_filters(person):
    other = contacts.add_contact("Anna Weiß", now=NOW)
    a = add(person, "A", amount_cents=500_00, expected_close=date(2026, 12, 1), owner="Anna")
    b = add(person, "B", amount_cents=5_000_00, stage="angebot", expected_close=date(2027, 2, 1))
    c = deals.add_deal("C", contact_id=other["id"], amount_cents=50_00, now=NOW)
    deals.win_deal(b["id"], now=NOW)
    deals.lose_deal(c["id"], "kein Budget", now=NOW)

    def ids(**filters):
        return [r["id"] for r in deals.list_deals(**filters)]

    assert ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert ids(state="open") == [a["id"]]
    assert ids(state="won") == [b["id"]] and ids(state="lost") == [c["id"]]
    assert ids(stage="lead") == [a["id"]]
    assert ids(contact_id=other["id"]) == [c["id"]]
    assert ids(company_id=companies.resolve_company("müller bau")) == [b["id"], a["id"]]
    assert ids(owner="Anna") == [a["id"]]
    assert ids(closing_before=date(2027, 1, 1)) == [a["id"]]
    assert ids(min_amount_cents=500_00) == [b["id"], a["id"]]
    assert ids(sort="amount") == [c["id"], a["id"], b["id"]]
    assert deals.count_deals(state="open") == 1
    with pytest.raises(Invalid, match="cannot sort"):
        deals.list_deals(sort="colour")


def test_list_combines_filters_and_pages(person):
    """Each set of filters is its own prepared query: values change, the shape is kept."""
    made = [
        add(person, f"D{i}", amount_cents=i * 100_00, owner="Anna" if i % 2 else "Jonas",
            expected_close=date(2026, 12, i + 1), stage="angebot" if i < 6 else None)
        for i in range(10)
    ]  # fmt: skip
    deals.win_deal(made[9]["id"], now=NOW)
    newest = [d["id"] for d in reversed(made)]

    def ids(**kw):
        return [r["id"] for r in deals.list_deals(**kw)]

    assert ids(limit=3) == newest[:3]
    assert ids(limit=3, offset=2) == newest[2:5]
    assert ids(offset=8) == newest[8:]
    angebot = [i for i in newest if i in {d["id"] for d in made[:6]}]
    assert ids(stage="angebot", limit=2) == angebot[:2]
    assert ids(stage="angebot", limit=2, offset=2) == angebot[2:4]
    assert ids(stage="lead", sort="-id", limit=50) == newest[1:4]  # D9 won, D6-D8 in Lead
    assert ids(stage="angebot", owner="Anna", min_amount_cents=300_00, sort="amount") == [
        made[3]["id"], made[5]["id"],
    ]  # fmt: skip
    assert ids(owner="Jonas", closing_before=date(2026, 12, 6), sort="close") == [
        made[0]["id"], made[2]["id"], made[4]["id"],
    ]  # fmt: skip
    assert ids(state="open", owner="Anna", limit=2) == [made[7]["id"], made[5]["id"]]
    assert ids(state="won", contact_id=person["id"]) == [made[9]["id"]]
    assert ids(state="open", company_id=made[0]["company_id"], limit=1, offset=1) == [
        newest[2]
    ]  # fmt: skip
    assert deals.count_deals(state="open", owner="Anna", closing_before=date(2026, 12, 9)) == 4
    # A listed row is the deal's card: same values, same types.
    for row in deals.list_deals(limit=10):
        assert row == deals.get_deal(row["id"])
    row = deals.list_deals(state="won")[0]
    assert row["expected_close"] == date(2026, 12, 10) and row["closed_at"] == NOW
    assert row["created_at"].tzinfo is not None and row["status"] == "won"


def test_edit_and_delete(person):
    d = add(person, amount_cents=100)
    changed = deals.edit_deal(d["id"], {"title": "Neues Dach", "amount_cents": 99_99}, now=NOW)
    assert (changed["title"], changed["amount"]) == ("Neues Dach", Decimal("99.99"))
    assert search.search("neues dach")[0]["kind"] == "deal"
    with pytest.raises(Invalid, match="a deal moves, is won, lost or reopened"):
        deals.edit_deal(d["id"], {"stage": "angebot"}, now=NOW)
    with pytest.raises(Invalid, match="negative"):
        deals.edit_deal(d["id"], {"amount_cents": -5}, now=NOW)
    a = activities.log_activity("call", contact_id=person["id"], subject="Dach", now=NOW)
    from crmcli.models import Activity

    Activity.update(deal=d["id"]).where(Activity.id == a["id"]).execute()
    deals.delete_deal(d["id"])
    assert Deal.select().count() == 0 and DealStageChange.select().count() == 0
    assert Activity.get_by_id(a["id"]).deal_id is None  # the call stays, without the deal
    assert search.search("neues dach") == []


def test_card_has_history_and_activities_and_contacts_see_their_deals(person):
    from crmcli.models import Activity

    d = add(person, amount_cents=10_00)
    deals.move_deal(d["id"], "angebot", now=NOW + timedelta(hours=1))
    a = activities.log_activity("meeting", contact_id=person["id"], subject="Vor Ort", now=NOW)
    Activity.update(deal=d["id"]).where(Activity.id == a["id"]).execute()
    card = deals.deal_card(d["id"])
    assert [h["to_stage"] for h in card["history"]] == ["Lead", "Angebot"]
    assert [t["subject"] for t in card["timeline"]] == ["Vor Ort"]
    contact_card = contacts.contact_card(person["id"], now=NOW)
    assert [x["title"] for x in contact_card["deals"]] == ["Dachsanierung"]


def test_search_finds_deal_titles(person):
    d = add(person, "Photovoltaik Anlage Süd", amount_cents=123450)
    hits = search.search("photovolt sud")
    assert [(h["kind"], h["id"], h["name"]) for h in hits] == [
        ("deal", d["id"], "Photovoltaik Anlage Süd")
    ]
    # data, not words: each front end formats the amount and words the detail
    assert "detail" not in hits[0]
    hit = hits[0]
    assert (hit["stage"], hit["amount"], hit["currency"]) == ("Lead", Decimal("1234.50"), "EUR")
    search.rebuild()
    assert search.search("photovolt")[0]["id"] == d["id"]


def test_owner_filter_folds_like_search(db):
    from crmcli.services import contacts, deals

    who = contacts.add_contact("Jürgen Müller")
    a = deals.add_deal("Dach", contact_id=who["id"], owner="Jürgen")
    b = deals.add_deal("Fassade", contact_id=who["id"], owner="juergen")
    deals.add_deal("Keller", contact_id=who["id"], owner="Anna")
    assert sorted(d["id"] for d in deals.list_deals(owner="JÜRGEN")) == [a["id"], b["id"]]
    # JURGEN drops the umlaut of Jürgen; juergen is another spelling (as Bauer is not Baur).
    assert [d["id"] for d in deals.list_deals(owner="JURGEN")] == [a["id"]]
    assert deals.count_deals(owner="jürgen") == 2
    assert deals.list_deals(owner="Niemand") == []
    assert [d["title"] for d in deals.list_deals(owner="anna", limit=5)] == ["Keller"]


def test_who_changed_a_stage_has_the_one_line_limit(db):
    deal = deals.add_deal("Dach", contact_id=contacts.add_contact("Eva", now=NOW)["id"], now=NOW)
    with pytest.raises(Invalid, match="^by: is 201 characters long"):
        deals.win_deal(deal["id"], now=NOW, by="x" * 201)
    assert deals.get_deal(deal["id"])["status"] == "open"
    assert DealStageChange.select().count() == 1
