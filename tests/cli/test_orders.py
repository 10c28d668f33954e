"""crm add/list/show/edit product and order: output, exit codes, bad input that writes nothing."""

from __future__ import annotations

import pytest


@pytest.fixture
def shop(crm):
    for args in (
        ("add", "contact", "Jürgen Müller", "-e", "jm@example.de"),
        ("add", "product", "KAF-500", "Kaffee 500 g", "--price", "8,90", "--vat", "7",
         "--category", "Kaffee"),
        ("add", "product", "MUEHLE", "Kaffeemühle", "--price", "49,90"),
    ):  # fmt: skip
        r = crm(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return crm


def test_add_order_prices_it_and_shows_it_everywhere(shop):
    r = shop(
        "add", "order", "müller", "--item", "KAF-500:2", "--item", "MUEHLE:1:39,90",
        "--discount", "10%", "--channel", "Shop", "--status", "paid", "--at", "1.11.2026",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert r.stderr == "Added order #1 for Jürgen Müller (59,87 € gross).\n"
    card = shop("show", "order", "1", "-o", "json").json()
    assert (card["net"], card["vat"], card["gross"]) == ("51.93", "7.94", "59.87")
    assert [(r["vat_rate"], r["vat"]) for r in card["vat_by_rate"]] == [
        ("19.00", "6.82"), ("7.00", "1.12"),
    ]  # fmt: skip
    assert card["ordered_at"] == "2026-10-31T23:00:00+00:00"  # 1.11. 0:00 in Berlin
    table = shop("show", "order", "1").stdout
    assert "51,93 €" in table and "VAT" in table and "19 %" in table
    rows = shop("list", "orders", "-C", "jm@example.de", "-o", "json").json()
    assert [(o["id"], o["items"], o["channel"]) for o in rows] == [(1, 2, "shop")]
    contact = shop("show", "müller", "-o", "json").json()
    assert [o["gross"] for o in contact["orders"]] == ["59.87"]
    assert "Orders" in shop("show", "müller").stdout


def test_list_and_edit_products(shop):
    assert [p["sku"] for p in shop("list", "products", "-o", "json").json()] == [
        "KAF-500", "MUEHLE",
    ]  # fmt: skip
    r = shop("edit", "product", "kaf-500", "--price", "9,40", "--inactive")
    assert r.exit_code == 0, r.stderr
    assert [p["sku"] for p in shop("list", "products", "-o", "json").json()] == ["MUEHLE"]
    every = shop("list", "products", "--all", "-o", "json").json()
    assert (every[0]["price"], every[0]["active"]) == ("9.40", False)
    r = shop("show", "product", "KAF-500")
    assert r.exit_code == 0 and "9,40 €" in r.stdout and "inactive" in r.stdout


def test_edit_order_status(shop):
    shop("add", "order", "müller", "--item", "KAF-500:1")
    r = shop("edit", "order", "1", "--status", "shipped", "--note", "DHL")
    assert r.exit_code == 0, r.stderr
    assert shop("show", "order", "1", "-o", "json").json()["status"] == "shipped"
    r = shop("edit", "order", "1", "--price", "1")
    assert r.exit_code == 1 and "--price does not apply to a order" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--item", "NOPE:1"), "no product with SKU 'NOPE'"),
        (("--item", "KAF-500:0"), "quantity must be 1 or more"),
        (("--item", "KAF-500:-1"), "quantity must be 1 or more"),
        (("--item", "KAF-500:1", "--discount", "120%"), "discount: '120%' is more than 100 %"),
        (("--item", "KAF-500:1", "--status", "lost"), "not one of open, paid"),
    ],
)
def test_bad_orders_are_one_line_errors_and_write_nothing(shop, args, message):
    r = shop("add", "order", "müller", *args)
    assert r.exit_code == 1 and message in r.stderr
    assert r.stderr.startswith("crm: error: ") and r.stderr.count("\n") == 1
    assert shop("list", "orders", "-o", "json").json() == []


def test_an_order_for_an_unknown_contact_writes_nothing(shop):
    r = shop("add", "order", "niemand", "--item", "KAF-500:1")
    assert r.exit_code == 1 and r.stderr.startswith("crm: error: ") and "niemand" in r.stderr
    assert shop("list", "orders", "-o", "json").json() == []


def test_a_vat_rate_of_250_percent_is_refused(shop):
    r = shop("add", "product", "X-1", "Teuer", "--price", "1", "--vat", "250")
    assert r.exit_code == 1 and "vat: '250' is more than 100 %" in r.stderr
    assert [p["sku"] for p in shop("list", "products", "-o", "json").json()] == [
        "KAF-500", "MUEHLE",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "keys"),
    [(("list", "orders"), "ORDER_KEYS"), (("list", "products"), "PRODUCT_KEYS")],
)
def test_json_keys_and_csv_header_are_the_field_set(shop, args, keys):
    import csv
    import io

    from crmcli.commands import orders as order_commands

    shop("add", "order", "müller", "--item", "KAF-500:1")
    expected = list(getattr(order_commands, keys))
    assert [list(r) for r in shop(*args, "-o", "json").json()][0] == expected
    assert next(csv.reader(io.StringIO(shop(*args, "-o", "csv").stdout))) == expected
    card = shop("show", "order", "1", "-o", "json").json()
    assert list(card) == list(order_commands.ORDER_CARD_KEYS)


def test_orders_are_entries_of_the_contacts_timeline(shop):
    for args in (
        ("log", "call", "müller", "-m", "Beratung", "--at", "2.11.2026 10:00"),
        ("add", "order", "müller", "--item", "KAF-500:1", "--at", "3.11.2026 10:00",
         "--channel", "shop", "-s", "paid"),
        ("log", "note", "müller", "-m", "Dankeschön", "--at", "4.11.2026 10:00"),
    ):  # fmt: skip
        assert shop(*args).exit_code == 0, args
    timeline = shop("show", "müller").stdout.split("Timeline")[1]
    first, entry, last = (timeline.index(t) for t in ("Dankeschön", "Order #1", "Beratung"))
    assert first < entry < last  # newest first, the order among the activities
    assert "9,52 € gross (shop)" in timeline and " order " in timeline
    cut = shop("show", "müller", "--limit", "1").stdout.split("Timeline")[1]
    assert "Dankeschön" in cut and "Order #1" not in cut  # older than what is shown
    card = shop("show", "müller", "-o", "json").json()
    assert [a["kind"] for a in card["timeline"]] == ["note", "call"]  # JSON: activities only


def test_log_a_return_about_an_order(shop):
    shop("add", "order", "müller", "--item", "KAF-500:2", "--at", "1.11.2026")
    r = shop("log", "return", "--order", "1", "-m", "Bohnen alt")
    assert r.exit_code == 0 and r.stderr == "Logged return #1 with Jürgen Müller.\n"
    card = shop("show", "order", "1", "-o", "json").json()
    assert [(a["kind"], a["order_id"], a["body"]) for a in card["activities"]] == [
        ("return", 1, "Bohnen alt"),
    ]
    assert "About this order" in shop("show", "order", "1").stdout
    assert "order #1: Bohnen alt" in shop("show", "müller").stdout
    r = shop("log", "return", "--order", "7")
    assert r.exit_code == 1 and r.stderr == "crm: error: no order with id or external id '7'\n"
