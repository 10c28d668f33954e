"""Walk findings on customer value (issue 18): the VAT report's corrections, one meaning of
--until, the order card's discount, forecasts, shipping lines, customer status, margin."""

from __future__ import annotations

import pytest


@pytest.fixture
def coffee(crm):
    for args in (
        ("add", "contact", "Karl Kunde"),
        ("add", "product", "P", "Kaffee 500 g", "--price", "100"),
    ):
        r = crm(*args)
        assert r.exit_code == 0, r.stderr
    return crm


def test_a_return_later_leaves_the_filed_quarter_and_corrects_the_current(coffee):
    crm = coffee
    assert (
        crm("add", "order", "karl", "--item", "P:1", "--at", "15.8.2026", "-s", "paid").exit_code
        == 0
    )

    def totals(quarter):
        r = crm("report", "vat", "--quarter", quarter, "-o", "json")
        assert r.exit_code == 0, r.stderr
        return r.json()

    assert totals("2026-Q3")["total"] == {"net": "100.00", "vat": "19.00", "gross": "119.00"}
    r = crm("edit", "order", "1", "--status", "returned")
    assert r.exit_code == 0, r.stderr
    assert totals("2026-Q3")["total"] == {"net": "100.00", "vat": "19.00", "gross": "119.00"}
    q4 = totals("2026-Q4")
    assert q4["total"] == {"net": "-100.00", "vat": "-19.00", "gross": "-119.00"}
    assert [(c["order_id"], c["old_status"], c["status"]) for c in q4["corrections"]] == [
        (1, "paid", "returned")
    ]
    table = crm("report", "vat", "--quarter", "2026-Q4").stdout
    assert "-100,00 €" in table and "§ 17 UStG" in table and "2026-08-15" in table


def test_until_a_day_includes_it_in_every_value_report(coffee):
    """`--until 29.11.2026` counted the 29th in rfm and next-purchase but not in value."""
    crm = coffee
    for at in ("1.11.2026 10:00", "20.11.2026 10:00", "20.11.2026 18:00"):
        assert crm("add", "order", "karl", "--item", "P:1", "--at", at, "-s", "paid").exit_code == 0
    assert crm("log", "complaint", "karl", "-m", "kalt", "--at", "20.11.2026 12:00").exit_code == 0

    def value(*args):
        r = crm("report", "value", *args, "-o", "json")
        assert r.exit_code == 0, r.stderr
        return r.json()["total"]["orders"]

    assert value("--until", "20.11.2026") == 3
    assert value("--until", "19.11.2026") == 1
    assert value("--since", "20.11.2026", "--until", "20.11.2026") == 2
    assert value("--until", "20.11.2026 12:00") == 2  # a moment is the end itself
    rfm = crm("report", "rfm", "--until", "20.11.2026", "-o", "json").json()
    assert [r["monetary"] for r in rfm["customers"]] == ["300.00"]

    def complaints(*args):
        r = crm("report", "service", "--by", "kind", *args, "-o", "json")
        assert r.exit_code == 0, r.stderr
        return r.json()["total"]["received"]

    assert complaints("--until", "20.11.2026") == 1
    assert complaints("--until", "19.11.2026") == 0


@pytest.fixture
def discounted(crm, monkeypatch):
    for args in (
        ("add", "contact", "Karl Kunde", "--street", "Weg 1", "--zip", "50667", "--city", "Köln"),
        ("add", "product", "KAF-500", "Kaffee 500 g", "--price", "3,33", "--vat", "7"),
        ("add", "product", "MUEHLE", "Kaffeemühle", "--price", "49,90"),
        ("add", "product", "MUEHLE-EDEL", "Kaffeemühle Edelstahl mit Kegelmahlwerk und Timer",
         "--price", "149,90"),
        ("add", "order", "karl", "--item", "KAF-500:3", "--item", "MUEHLE:1",
         "--item", "MUEHLE-EDEL:1", "--discount", "10%", "-s", "paid"),
        ("add", "order", "karl", "--item", "KAF-500:3", "--discount", "10%", "-s", "paid"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def test_the_confirmation_shows_the_discount_so_the_sums_add_up(discounted):
    r = discounted("doc", "render", "confirmation", "2", "-o", "-", "--format", "md")
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert "darin" not in text
    assert "| 1 | Kaffee 500 g | 3 Stück | 3,33 € | 7 % | 9,99 € | -1,00 € | 8,99 € |" in text
    goods, discount, net = (text.index(s) for s in (
        "Warenwert: 9,99 €", "abzgl. Rabatt 10 %: -1,00 €", "Summe netto: **8,99 €**"))  # fmt: skip
    assert goods < discount < net
    html = discounted("doc", "render", "confirmation", "2", "-o", "-", "--format", "html").stdout
    assert "darin" not in html and "abzgl. Rabatt 10 %" in html and "Warenwert" in html


def test_show_order_at_80_columns_keeps_names_and_the_discount(discounted, monkeypatch):
    import re

    from crmcli import env

    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    monkeypatch.setenv("COLUMNS", "80")
    r = discounted("show", "order", "1")
    assert r.exit_code == 0, r.stderr
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in r.stdout.splitlines()]
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text
    assert "DISCOUNT" in text.upper() and "-1,00 €" in text and "-14,99 €" in text
    assert "Kaffee 500 g" in text and "Kaffeemühle " in text
    assert "Kegelmahlwerk" in text  # the long name wraps onto a second line
    assert "10 % (-20,98 € of 209,79 €)" in text


def test_show_order_at_80_columns_wraps_names_at_spaces(discounted, monkeypatch):
    """Walkthrough: 'Espressomasc' / 'hine': a word of a name was cut where it did not fit."""
    import re

    from crmcli import env

    name = "Sehr langer Produktname Espressomaschine Deluxe Edition Schwarz"
    assert discounted("add", "product", "C1", name, "--price", "1234,56").exit_code == 0
    assert discounted("add", "product", "A1", "Buch", "--price", "10", "--vat", "7").exit_code == 0
    r = discounted("add", "order", "karl", "--item", "C1:2", "--item", "A1:3",
                   "--discount", "12,5%")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    monkeypatch.setattr(env, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("PAGER", "cat")
    monkeypatch.setenv("COLUMNS", "80")
    r = discounted("show", "order", "3")
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in r.stdout.splitlines()]
    assert max(len(line) for line in lines) <= 80
    words = {word for line in lines for word in line.split()}
    assert {"Sehr", "Produktname", "Espressomaschine", "Deluxe", "Schwarz"} <= words, lines


def test_remind_and_next_purchase_name_their_estimates_and_share_the_usual_day(coffee):
    crm = coffee
    for at in ("1.9.2026", "1.10.2026", "31.10.2026"):
        assert crm("add", "order", "karl", "--item", "P:1", "--at", at, "-s", "paid").exit_code == 0
    crm("add", "contact", "Otto Einmal")
    assert (
        crm("add", "order", "otto", "--item", "P:1", "--at", "1.2.2025", "-s", "paid").exit_code
        == 0
    )
    crm("add", "contact", "Berta Zweimal")  # a second repeat buyer: enough to fit the model
    for at in ("1.3.2026", "1.10.2026"):  # next in May 2027: not due
        assert crm("add", "order", "berta", "--item", "P:1", "--at", at).exit_code == 0
    assert crm("db", "setting", "remind.next_purchase", "on").exit_code == 0
    r = crm("remind", "--within", "30d", "-o", "json")
    assert r.exit_code == 0, r.stderr
    (item,) = [i for i in r.json() if i["kind"] == "purchase"]
    assert item["text"] == "Karl Kunde is due to buy again (usual interval: every 30 days)"
    assert item["usual_interval_days"] == 30
    report = crm("report", "next-purchase", "-o", "json").json()
    rows = {r["contact"]: r for r in report["rows"]}
    assert rows["Karl Kunde"]["usual_next"] == "2026-11-30"  # the day remind reminds of
    assert rows["Otto Einmal"]["expected_next"] is None and rows["Otto Einmal"]["beyond_horizon"]
    table = crm("report", "next-purchase").stdout
    assert "Usual rhythm" in table and "not within 2 years" in table


def test_next_purchase_says_why_it_fits_no_model_on_one_repeat_buyer(coffee):
    crm = coffee
    for at in ("1.9.2026", "1.10.2026"):
        assert crm("add", "order", "karl", "--item", "P:1", "--at", at, "-s", "paid").exit_code == 0
    crm("add", "contact", "Otto Einmal")
    assert crm("add", "order", "otto", "--item", "P:1", "--at", "1.2.2026").exit_code == 0
    report = crm("report", "next-purchase", "-o", "json").json()
    assert report["model"] is None and {r["method"] for r in report["rows"]} == {"interval", "none"}
    table = " ".join(crm("report", "next-purchase").stdout.split())
    assert "too little history to fit: 1 customer bought again, the model needs 2" in table


def test_shipping_lines_are_no_product_but_count_in_what_was_spent(crm, tmp_path):
    """`report customer` and the card's Buys line counted the shop's "Versand" line as a
    product: its price in the unit price range, its quantity in the category's."""
    crm("add", "product", "KAF-500", "Kaffee 500 g", "--price", "8,90", "--vat", "7",
        "--category", "Kaffee", "--cost", "5")  # fmt: skip
    path = tmp_path / "shop.csv"
    path.write_text(
        "Name,Email,Financial Status,Shipping,Created at,Lineitem quantity,Lineitem price,"
        "Lineitem sku\n"
        "#1,sd@example.de,paid,5.00,2026-11-03 14:22:10 +0100,2,8.90,KAF-500\n"
        "#2,sd@example.de,paid,5.00,2026-11-10 14:22:10 +0100,1,8.90,KAF-500\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders", "--prices", "net")
    assert r.exit_code == 0, r.stderr
    lines = crm("show", "order", "#1", "-o", "json").json()["lines"]
    assert [(ln["name"], ln["net"]) for ln in lines] == [
        ("Kaffee 500 g", "17.80"), ("Versand", "5.00"),
    ]  # fmt: skip
    report = crm("report", "customer", "sd@example.de", "-o", "json").json()
    assert [(c["category"], c["qty"], c["net"], c["share"]) for c in report["categories"]] == [
        ("Kaffee", 3, "26.70", "1.0000"),
    ]  # fmt: skip
    assert report["price_range"]["lines"] == 2
    assert (report["price_range"]["min"], report["price_range"]["max"]) == ("8.90", "8.90")
    # spent: both orders whole, shipping too; cost 3 × 5,00; no line without a purchase price
    assert (report["spent"], report["cost"], report["margin"]) == ("36.70", "15.00", "21.70")
    assert report["uncosted_lines"] == 0
    card = crm("show", "sd@example.de").stdout
    assert (
        "8,90 € to 8,90 € a unit" in card and "5,00 €" not in card.split("Buys")[1].split("\n")[0]
    )


def status_of(crm, ref):
    r = crm("show", ref, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()["status"]


def test_a_customer_is_someone_with_an_order_that_counts(coffee):
    """A contact whose only order was cancelled or refunded still had status customer."""
    crm = coffee
    assert status_of(crm, "karl") == "lead"
    assert crm("add", "order", "karl", "--item", "P:1", "-s", "cancelled").exit_code == 0
    assert status_of(crm, "karl") == "lead"  # a cancelled order buys nothing
    assert crm("add", "order", "karl", "--item", "P:1", "-s", "paid").exit_code == 0
    assert status_of(crm, "karl") == "customer"
    assert crm("edit", "order", "2", "--status", "returned").exit_code == 0
    assert status_of(crm, "karl") == "prospect"  # ordered, and took it all back
    assert crm("edit", "order", "1", "--status", "paid").exit_code == 0
    assert status_of(crm, "karl") == "customer"
    # set by hand, without orders, or inactive: an order's change leaves it alone
    crm("add", "contact", "Ina Aktiv", "--status", "inactive")
    assert crm("add", "order", "ina", "--item", "P:1", "-s", "paid").exit_code == 0
    assert status_of(crm, "ina") == "inactive"
    crm("add", "contact", "Hans Hand", "--status", "customer")
    assert crm("add", "order", "hans", "--item", "P:1", "-s", "cancelled").exit_code == 0
    assert status_of(crm, "hans") == "customer"  # no order of his made him one


def test_a_won_deal_and_a_merge_settle_the_status_too(coffee):
    crm = coffee
    crm("add", "contact", "Lea Lead", "-e", "lea@example.de")
    assert crm("add", "deal", "Dach", "--contact", "lea").exit_code == 0
    assert status_of(crm, "lea") == "lead"
    assert crm("won", "dach").exit_code == 0
    assert status_of(crm, "lea") == "customer"  # a won deal makes a customer
    crm("add", "contact", "Kai Käufer", "-e", "kai@example.de")
    assert crm("add", "order", "kai", "--item", "P:1", "-s", "open").exit_code == 0
    crm("add", "contact", "Kai Kaeufer", "-e", "kai.k@example.de")
    keep = crm("show", "kai.k@example.de", "-o", "json").json()["id"]
    other = crm("show", "kai@example.de", "-o", "json").json()["id"]
    r = crm("merge", str(keep), str(other), "--yes", "--force")
    assert r.exit_code == 0, r.stderr
    assert status_of(crm, str(keep)) == "customer"  # it took over an open order


def test_an_imported_contact_whose_only_order_was_refunded_is_no_customer(crm, tmp_path):
    path = tmp_path / "woo.csv"
    path.write_text(
        "Order Number,Email,Status,Order Total,Order Date\n"
        "1,weg@example.de,refunded,19.00,2026-11-03\n"
        "2,ab@example.de,cancelled,19.00,2026-11-03\n"
        "3,ab@example.de,completed,19.00,2026-11-04\n"
        "4,cart@example.de,abandoned,19.00,2026-11-04\n",
        encoding="utf-8",
    )
    r = crm("import", "csv", str(path), "--kind", "orders")
    assert r.exit_code == 0, r.stderr
    assert [status_of(crm, e) for e in ("weg@example.de", "ab@example.de", "cart@example.de")] == [
        "prospect", "customer", "prospect",
    ]  # fmt: skip


def test_margin_is_over_the_lines_with_known_costs_only(crm):
    """A line without a purchase price counted as pure margin, silently."""
    for args in (
        ("add", "contact", "Anna"),
        ("add", "product", "KAF", "Kaffee", "--price", "10", "--cost", "6"),
        ("add", "product", "TEE", "Tee", "--price", "5"),
        ("add", "order", "anna", "--item", "KAF:2", "--item", "TEE:1", "-s", "paid", "--cost", "1"),
        ("add", "order", "anna", "--item", "TEE:1", "-s", "paid"),
    ):
        assert crm(*args).exit_code == 0, args
    card = crm("show", "order", "1", "-o", "json").json()
    # 25,00 net − the TEE line 5,00 (no purchase price) − goods 12,00 − own cost 1,00
    assert (card["margin"], card["uncosted_lines"], card["goods_lines"]) == ("7.00", 1, 2)
    assert "costs known for 1 of 2 lines" in crm("show", "order", "1").stdout
    only_tea = crm("show", "order", "2", "-o", "json").json()
    assert only_tea["margin"] is None
    assert "unknown: no line has a purchase price" in crm("show", "order", "2").stdout
    r = crm("report", "value", "-o", "json")
    assert r.json()["total"]["margin"] == "7.00" and r.json()["total"]["uncosted_lines"] == 2
    r = crm("report", "value")
    assert "7,00 € (costs known for 1 of 3 lines" in r.stdout
    assert "crm: warning: margin: 2 order lines without a purchase price" in r.stderr
    customer = crm("report", "customer", "anna", "-o", "json").json()
    assert (customer["margin"], customer["uncosted_lines"], customer["lines"]) == ("7.00", 2, 3)


def test_with_no_purchase_price_at_all_the_cost_is_unknown_like_the_margin(crm):
    """Walkthrough: 'Goods cost: 0,00 € (3 lines without a purchase price)', 'Cost: 0,00 €'
    and CSV 0.00 while the margin was unknown."""
    for args in (
        ("add", "contact", "Anna"),
        ("add", "product", "TEE", "Tee", "--price", "5"),
        ("add", "order", "anna", "--item", "TEE:3", "-s", "paid"),
    ):
        assert crm(*args).exit_code == 0, args
    assert crm("show", "order", "1", "-o", "json").json()["goods_cost"] is None
    shown = crm("show", "order", "1").stdout
    assert "Goods cost: unknown (1 line without a purchase price)" in " ".join(shown.split())
    assert "0,00 €" not in shown
    assert crm("report", "value", "-o", "json").json()["total"]["cost"] is None
    assert "Cost: unknown" in " ".join(crm("report", "value").stdout.split())
    csv = crm("report", "value", "-o", "csv").stdout
    assert "0.00" not in csv


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--item", "BER:1,5"), "quantities are whole units: for part of an hour or a kilo give "
         "the product a smaller unit"),
        (("--item", "BER:1:0,125"), "'0,125' has more than 2 decimal places (money is kept in "
         "whole cents)"),
        (("--item", "BER:1", "--discount", "33,333%"), "'33,333%' has more than 2 decimal places "
         "(a percentage is kept to 0,01 %, e.g. 33,33 %)"),
    ],
)  # fmt: skip
def test_what_an_order_cannot_hold_is_said_plainly(crm, args, says):
    """Decimal quantities (1,5 h), sub-cent prices and 3-decimal discounts are not stored:
    the error says what is accepted instead of only what is wrong, and nothing is written."""
    crm("add", "contact", "Xaver")
    assert crm("add", "product", "BER", "Beratung", "--unit", "h", "--price", "95").exit_code == 0
    r = crm("add", "order", "xaver", *args)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("crm: error: ") and says in r.stderr and r.stderr.count("\n") == 1
    assert crm("list", "orders", "-o", "json").json() == []
