"""crm add/list/show/edit/delete campaign, crm add cost, --campaign and --keyword on contacts,
deals and orders, and crm report roi: output, exit codes, German money and dates."""

from __future__ import annotations

import csv
import io
import re

import pytest


@pytest.fixture
def marketing(crm):
    for args in (
        ("add", "campaign", "Google Ads Kaffee", "--channel", "search-ads", "--keyword", "espresso",
         "--keyword", "Kaffee kaufen", "--from", "1.10.2026", "--note", "Herbst"),
        ("add", "cost", "google", "1.234,50", "--at", "1.10.2026", "--keyword", "espresso"),
        ("add", "cost", "google", "100.50 €", "--at", "1.11.2026"),
        ("add", "contact", "Anna Weiß", "-e", "anna@example.de", "--campaign", "google",
         "--keyword", "espresso", "--source", "google"),
        ("add", "product", "KAF", "Kaffee", "--price", "1.000,00", "--vat", "7"),
        ("add", "order", "anna", "--item", "KAF:1", "--at", "5.11.2026", "--status", "paid"),
        ("add", "order", "anna", "--item", "KAF:1", "--at", "10.11.2026", "--status", "paid"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def test_add_campaign_and_cost_say_what_they_did(crm):
    r = crm("add", "campaign", "Messe", "--channel", "Messe")
    assert (r.exit_code, r.stderr) == (0, "Added campaign #1 Messe (trade fair).\n")
    r = crm("add", "cost", "messe", "3.500,00", "--at", "2.3.2026", "--note", "Stand")
    assert (r.exit_code, r.stderr) == (0, "Added cost #1 of 3.500,00 € on 02.03.2026.\n")
    r = crm("add", "campaign", "MESSE")
    assert r.exit_code == 1 and "exists already" in r.stderr
    r = crm("add", "cost", "messe", "zwölf")
    assert r.exit_code == 1 and r.stderr.startswith("crm: error: amount")
    r = crm("add", "cost", "nirgends", "1")
    assert r.exit_code == 1 and "no campaign matches 'nirgends'" in r.stderr


def test_orders_carry_the_contacts_campaign_and_roi_adds_up(marketing):
    order = marketing("show", "order", "1", "-o", "json").json()
    assert (order["campaign"], order["keyword"]) == ("Google Ads Kaffee", "espresso")
    contact = marketing("show", "anna", "-o", "json").json()
    assert (contact["campaign"], contact["keyword"]) == ("Google Ads Kaffee", "espresso")
    report = marketing("report", "roi", "-o", "json").json()
    [group] = report["groups"]
    assert (group["cost"], group["revenue"], group["roi"]) == ("1335.00", "2000.00", "0.4981")
    assert (group["leads"], group["customers"], group["payback_on"]) == (1, 1, "2026-11-10")
    by_keyword = marketing("report", "roi", "--by", "keyword", "-o", "csv").stdout
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(by_keyword))}
    assert rows["Google Ads Kaffee: espresso"]["cost"] == "1234.50"
    assert rows["Google Ads Kaffee: espresso"]["missing"] == ""
    assert rows["Google Ads Kaffee: (no keyword)"]["cost"] == "100.50"
    early = marketing("report", "roi", "--until", "6.11.2026", "-o", "json").json()
    assert early["groups"][0]["paid_back"] is False
    assert early["groups"][0]["missing"] == "335.00"
    piped = marketing("report", "roi").stdout
    assert "Google Ads Kaffee" in piped and "2026-11-10" in piped and "█" not in piped


def test_roi_on_margin(marketing):
    """Kaffee costs 600,00 to buy: each order earns 400,00, so 800,00 against 1.335,00."""
    assert marketing("edit", "product", "KAF", "--cost", "600").exit_code == 0
    marketing("add", "order", "anna", "--item", "KAF:1", "--at", "12.11.2026", "--status", "paid")
    report = marketing("report", "roi", "--margin", "-o", "json").json()
    assert report["basis"] == "margin"
    [group] = report["groups"]
    # The two orders before the purchase price was known keep their goods at no cost.
    assert (group["revenue"], group["missing"]) == ("2400.00", None)
    assert group["payback_on"] == "2026-11-10"
    piped = marketing("report", "roi", "--margin").stdout
    assert "Margin" in piped and "2.400,00" in piped


def test_list_show_edit_delete_campaign(marketing):
    [row] = marketing("list", "campaigns", "-o", "json").json()
    assert (row["name"], row["channel"], row["keywords"]) == (
        "Google Ads Kaffee", "search ads", ["espresso", "Kaffee kaufen"],
    )  # fmt: skip
    assert (row["cost"], row["leads"], row["customers"], row["revenue"]) == (
        "1335.00", 1, 1, "2000.00",
    )  # fmt: skip
    card = marketing("show", "campaign", "kaffee", "-o", "json").json()
    assert [c["amount"] for c in card["costs"]] == ["1234.50", "100.50"]
    assert card["starts_on"] == "2026-10-01"
    r = marketing("edit", "campaign", "google", "--until", "31.12.2026", "--keyword", "tee",
                  "--remove-keyword", "Kaffee kaufen", "--channel", "social")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    card = marketing("show", "campaign", "google", "-o", "json").json()
    assert (card["ends_on"], card["keywords"], card["channel"]) == (
        "2026-12-31", ["espresso", "tee"], "social",
    )  # fmt: skip
    r = marketing("edit", "campaign", "google", "--until", "1.1.2020")
    assert r.exit_code == 1 and "before it starts" in r.stderr
    r = marketing("delete", "campaign", "google", "--yes")
    assert r.exit_code == 0 and "Deleted campaign #1 Google Ads Kaffee" in r.stderr
    assert marketing("list", "campaigns", "-o", "json").json() == []
    assert marketing("show", "anna", "-o", "json").json()["campaign"] is None
    assert marketing("show", "order", "1", "-o", "json").json()["campaign"] is None


def test_edit_contact_and_order_attribution(marketing):
    marketing("add", "campaign", "Messe", "--channel", "trade fair")
    r = marketing("edit", "anna", "--campaign", "messe")
    assert r.exit_code == 0, r.stderr
    card = marketing("show", "anna", "-o", "json").json()
    assert (card["campaign"], card["keyword"]) == ("Messe", None)
    r = marketing("edit", "order", "2", "--keyword", "Kaffee kaufen")
    assert r.exit_code == 0, r.stderr
    order = marketing("show", "order", "2", "-o", "json").json()
    assert (order["campaign"], order["keyword"]) == ("Google Ads Kaffee", "Kaffee kaufen")
    r = marketing("add", "deal", "Abo", "-C", "anna", "--campaign", "google", "--keyword", "tee")
    assert r.exit_code == 0, r.stderr
    deal = marketing("show", "deal", "abo", "-o", "json").json()
    assert (deal["campaign"], deal["keyword"]) == ("Google Ads Kaffee", "tee")
    r = marketing("add", "contact", "Bob", "--keyword", "nirgends")
    assert r.exit_code == 1 and "give --campaign too" in r.stderr


def test_roi_rejects_an_unknown_grouping(marketing):
    r = marketing("report", "roi", "--by", "wetter")
    assert r.exit_code == 1 and "'wetter' is not one of campaign" in r.stderr


def test_utm_source_is_read_as_the_lead_source(crm, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("name,email,utm_source\nEva Roth,eva@example.de,newsletter\n")
    r = crm("import", "csv", str(path))
    assert r.exit_code == 0, r.stderr
    assert crm("show", "eva@example.de", "-o", "json").json()["source"] == "newsletter"


def test_utm_columns_attribute_imported_contacts(crm, tmp_path):
    crm("add", "campaign", "Herbst", "--keyword", "kaffee")
    path = tmp_path / "shop.csv"
    path.write_text(
        "name,email,utm_source,utm_campaign,utm_term\n"
        "Eva Roth,eva@example.de,google,herbst,Kaffee\n"
        "Max Kern,max@example.de,facebook,Sommer 2026,sonnenbrille\n"
        "Ute Lang,ute@example.de,,,nirgends\n"
    )
    r = crm("import", "csv", str(path), "--rejects", str(tmp_path / "bad.csv"))
    assert r.exit_code == 0, r.stderr
    eva = crm("show", "eva@example.de", "-o", "json").json()
    assert (eva["source"], eva["campaign"], eva["keyword"]) == ("google", "Herbst", "kaffee")
    max_ = crm("show", "max@example.de", "-o", "json").json()
    assert (max_["campaign"], max_["keyword"]) == ("Sommer 2026", "sonnenbrille")
    assert crm("show", "campaign", "sommer", "-o", "json").json()["channel"] == "other"
    assert crm("show", "ute@example.de").exit_code == 1  # a keyword of no campaign: refused
    assert "no campaign has the keyword" in (tmp_path / "bad.csv").read_text()


def test_list_contacts_by_campaign_and_edit_where(marketing):
    marketing("add", "contact", "Bob Bach", "-e", "bob@example.de")
    rows = marketing("list", "contacts", "--campaign", "google", "-o", "json").json()
    assert [r["name"] for r in rows] == ["Anna Weiß"]
    assert (rows[0]["campaign"], rows[0]["keyword"]) == ("Google Ads Kaffee", "espresso")
    assert marketing("list", "contacts", "--campaign", "nirgends", "-o", "json").json() == []
    r = marketing("edit", "--status", "customer", "--where", "--campaign", "google", "--yes")
    assert r.exit_code == 0, r.stderr
    assert marketing("show", "anna", "-o", "json").json()["status"] == "customer"
    assert marketing("show", "bob", "-o", "json").json()["status"] == "lead"


def test_roi_until_includes_its_day_and_one_day_works(marketing):
    """An --until day is included, as in every command; the same day at both ends is that
    day; an --until with a time of day is that moment."""
    one_day = marketing(
        "report", "roi", "--since", "1.11.2026", "--until", "1.11.2026", "-o", "json"
    )
    assert one_day.exit_code == 0, one_day.stderr
    assert one_day.json()["total"]["cost"] == "100.50"
    before = marketing("report", "roi", "--until", "31.10.2026", "-o", "json").json()
    assert before["total"]["cost"] == "1234.50"
    through = marketing("report", "roi", "--until", "1.11.2026", "-o", "json").json()
    assert through["total"]["cost"] == "1335.00"  # the cost of 1 November included
    moment = marketing("report", "roi", "--until", "1.11.2026 00:00", "-o", "json").json()
    assert moment["total"]["cost"] == "1234.50"
    piped = marketing("report", "roi", "--since", "1.10.2026", "--until", "31.10.2026").stdout
    assert "2026-10-01 – 2026-10-31" in piped and "00:00" not in piped
    piped = marketing("report", "roi", "--since", "1.11.2026", "--until", "30.11.2026").stdout
    assert "2026-11-01 – 2026-11-30" in piped
    assert "that one day" in marketing("report", "roi", "--help").stdout


def test_removing_a_keyword_with_costs_and_contacts_asks_and_says_what_moves(marketing):
    r = marketing("edit", "campaign", "google", "--remove-keyword", "espresso")
    assert r.exit_code == 1 and "pass --yes" in r.stderr
    assert "its cost entry of 1.234,50 € becomes" in r.stderr
    assert "1 contact, 2 orders keep the campaign" in r.stderr
    card = marketing("show", "campaign", "google", "-o", "json").json()
    assert "espresso" in card["keywords"]  # nothing changed
    r = marketing("edit", "campaign", "google", "--remove-keyword", "espresso", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Removed keyword 'espresso' (its cost entry of 1.234,50 €" in r.stderr
    assert marketing("show", "anna", "-o", "json").json()["keyword"] is None
    # A keyword nothing uses goes without asking.
    r = marketing("edit", "campaign", "google", "--remove-keyword", "Kaffee kaufen")
    assert r.exit_code == 0 and "Removed" not in r.stderr


def test_one_contact_keeps_the_campaign_in_the_singular(marketing):
    """Walkthrough: '1 contact keep the campaign'."""
    r = marketing("add", "contact", "Bob", "--campaign", "google", "--keyword", "latte")
    assert r.exit_code == 0, r.stderr
    r = marketing("edit", "campaign", "google", "--remove-keyword", "latte", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "(1 contact keeps the campaign without keyword)" in r.stderr


def test_a_new_keyword_given_with_a_record_is_announced(marketing):
    r = marketing("add", "contact", "Bob", "--campaign", "google", "--keyword", "espreso")
    assert r.exit_code == 0, r.stderr
    assert "New keyword 'espreso' of campaign Google Ads Kaffee." in r.stderr
    r = marketing("add", "contact", "Eva", "--campaign", "google", "--keyword", "ESPRESSO")
    assert r.exit_code == 0 and "New keyword" not in r.stderr
    r = marketing("edit", "order", "1", "--keyword", "kaffe kaufen")
    assert r.exit_code == 0, r.stderr
    assert "New keyword 'kaffe kaufen' of campaign Google Ads Kaffee." in r.stderr
    r = marketing("add", "order", "anna", "--item", "KAF:1", "--campaign", "google",
                  "--keyword", "tee")  # fmt: skip
    assert "New keyword 'tee'" in r.stderr
    r = marketing("add", "deal", "Abo", "-C", "anna", "--campaign", "google", "--keyword", "abo")
    assert "New keyword 'abo'" in r.stderr
    r = marketing("edit", "anna", "--campaign", "google", "--keyword", "bohnen")
    assert "New keyword 'bohnen'" in r.stderr


def test_utm_import_says_which_campaigns_it_creates_with_the_mediums_channel(crm, tmp_path):
    crm("add", "campaign", "Herbst", "--channel", "print", "--keyword", "kaffee")
    path = tmp_path / "shop.csv"
    path.write_text(
        "name,email,utm_campaign,utm_term,utm_medium\n"
        "Eva Roth,eva@example.de,Sommer Social,,paid_social\n"
        "Max Kern,max@example.de,Herbst,tee,cpc\n"
        "Ute Lang,ute@example.de,Sommer Social,sonne,email\n"
        "Jo Bach,jo@example.de,Winter,,\n"
    )
    dry = crm("import", "csv", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "Would create campaign 'Sommer Social' (social)." in dry.stderr
    assert "Would create campaign 'Winter' (other)." in dry.stderr
    assert "Would create keyword 'tee' of campaign Herbst." in dry.stderr
    assert "columns not imported" not in dry.stderr
    assert crm("list", "campaigns", "-o", "json").json()[0]["name"] == "Herbst"  # dry: nothing
    r = crm("import", "csv", str(path), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "New campaign 'Sommer Social' (social)." in r.stderr
    assert r.json()["campaigns_new"] == [
        {"name": "Sommer Social", "channel": "social"}, {"name": "Winter", "channel": "other"},
    ]  # fmt: skip
    # The medium is the channel of a campaign the import creates, never a stored one's.
    assert crm("show", "campaign", "Herbst", "-o", "json").json()["channel"] == "print"
    assert crm("show", "campaign", "sommer", "-o", "json").json()["channel"] == "social"
    again = crm("import", "csv", str(path))
    assert "New campaign" not in again.stderr and "New keyword" not in again.stderr
    helped = " ".join(crm("import", "csv", "--help").stdout.split())
    assert "tag, consent, campaign, keyword, medium, field:KEY" in helped
    assert "utm_campaign" in helped


def test_costs_outside_the_campaigns_period_are_kept_with_a_warning(marketing):
    r = marketing("add", "cost", "google", "10", "--at", "1.1.2020", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "crm: warning: a cost entry dated 2020-01-01 is outside the campaign's period" in (
        r.stderr
    )
    entry = r.json()
    assert (entry["amount"], entry["spent_on"], entry["campaign_id"]) == ("10.00", "2020-01-01", 1)
    r = marketing("add", "cost", "google", "10", "--at", "2.10.2026")
    assert r.exit_code == 0 and "warning" not in r.stderr
    r = marketing("edit", "campaign", "google", "--from", "1.1.2030", "--until", "31.12.2030")
    assert r.exit_code == 0, r.stderr
    assert "crm: warning: 4 cost entries dated 2020-01-01 – 2026-11-01 are outside" in r.stderr
    r = marketing("add", "cost", "google", "5", "--keyword", "neu")
    assert "New keyword 'neu' of campaign Google Ads Kaffee." in r.stderr


def _terminal(monkeypatch, width: int) -> None:
    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", str(width))


def test_roi_on_a_terminal_keeps_group_names_whole_and_names_the_bar(marketing, monkeypatch):
    marketing("add", "cost", "google", "10", "--at", "2.10.2026", "--keyword", "kaffee kaufen")
    _terminal(monkeypatch, 160)
    wide = marketing("report", "roi").stdout
    assert "REVENUE / COST" in wide.upper() and "█" in wide
    _terminal(monkeypatch, 80)
    narrow = marketing("report", "roi", "--by", "keyword").stdout
    assert "Google Ads Kaffee: Kaffee kaufen" in narrow  # not cut short
    assert "Google Ads Kaffee: (no keyword)" in narrow
    assert max(len(line) for line in re.sub(r"\x1b\[[0-9;]*m", "", narrow).splitlines()) <= 80
    card = marketing("show", "campaign", "google").stdout
    keyword_rows = card[card.index("By keyword") : card.index("Costs")]
    assert "espresso" in keyword_rows and "Google Ads Kaffee:" not in keyword_rows


def test_roi_by_source_on_a_terminal_says_why_it_has_no_cost(marketing, monkeypatch):
    piped = marketing("report", "roi", "--by", "source")
    assert piped.exit_code == 0 and "Costs are booked to campaigns" not in piped.stderr
    _terminal(monkeypatch, 80)
    shown = marketing("report", "roi", "--by", "source")
    assert "Costs are booked to campaigns, not to lead sources: --by campaign" in shown.stderr
    assert "Costs are booked" not in marketing("report", "roi").stderr


def test_roi_on_margin_warns_of_products_sold_without_a_purchase_price(marketing):
    r = marketing("report", "roi", "--margin", "-o", "json")
    assert r.exit_code == 0 and r.json()["products_without_cost"] == 1
    assert "crm: warning: 1 product sold without a purchase price: on margin its lines" in r.stderr
    assert "purchase price" not in marketing("report", "roi").stderr  # not on revenue
    assert marketing("edit", "product", "KAF", "--cost", "600").exit_code == 0
    r = marketing("report", "roi", "--margin", "-o", "json")
    assert r.json()["products_without_cost"] == 0 and "warning" not in r.stderr
