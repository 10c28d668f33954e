"""services/documents.py and document_pdf.py: documents from the built-in templates as
Markdown, HTML and PDF (umlauts and € in an embedded font), German sums, the sender's data,
one clear error for each way it goes wrong, and the record on the timeline."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from crmcli.errors import Invalid, NotFound
from crmcli.models import Activity
from crmcli.services import contacts, deals, documents, orders, products
from crmcli.services.orders import Item
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def no_user_templates(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config" / "templates" / "doc"


@pytest.fixture
def shop(db):
    """A sender, a customer at a company with an address, a deal and an order at two rates."""
    documents.set_sender({
        "name": "Kaffeerösterei Süß GmbH", "street": "Hafenstraße 3", "zip": "20457",
        "city": "Hamburg", "iban": "DE89 3704 0044 0532 0130 00", "vat_id": "DE123456789",
        "email": "info@suess.de", "phone": "040 123456", "bank": "Hamburger Sparkasse",
    })  # fmt: skip
    person = contacts.add_contact(
        "Jürgen Müller", company="Bäckerei Größe KG", street="Königstraße 5", zip="50667",
        city="Köln", owner="Anna Weiß", fields=[("anrede", "Herr"), ("titel", "Dr.")], now=NOW,
    )  # fmt: skip
    deal = deals.add_deal(
        "Kaffeevollautomat für die Filiale", contact_id=person["id"], amount_cents=123450, now=NOW
    )
    products.add_product("KAF-500", "Kaffee Äthiopien 500 g", price_cents=899, vat_bp=700, now=NOW)
    products.add_product("MUEHLE", "Kaffeemühle", price_cents=4990, now=NOW)
    order = orders.add_order(
        person["id"], [Item("KAF-500", 3), Item("MUEHLE", 1)], discount_bp=1000, now=NOW
    )
    return {"contact": person, "deal": deal, "order": order}


def render(name, ref, fmt="md", **kwargs):
    return documents.render_document(name, ref, fmt=fmt, now=NOW, **kwargs)


def pdf_text(content: bytes) -> tuple[str, list[str]]:
    """The text of every page and the names of the fonts embedded (FontFile2: TrueType)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    embedded = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                embedded.append(str(descriptor["/FontName"]))
    return text, embedded


# ---------------------------------------------------------------- each built-in template


def test_an_offer_from_a_deal_prices_its_amount_net_with_vat(shop):
    doc = render("offer", str(shop["deal"]["id"]))
    text = doc.content.decode()
    assert doc.subject == f"Angebot A-{shop['deal']['id']}: Kaffeevollautomat für die Filiale"
    assert "Sehr geehrter Herr Dr. Müller," in text
    assert "| 1 | Kaffeevollautomat für die Filiale | 1 pauschal | 1.234,50 € | 19 % |" in text
    assert "Summe netto: **1.234,50 €**" in text
    assert "zzgl. 19 % USt auf 1.234,50 €: 234,56 €" in text  # 234,555 rounded half up
    assert "**Gesamtbetrag: 1.469,06 €**" in text
    assert "Dieses Angebot gilt bis zum 23.12.2026" in text
    # the letter around it: return line, address block, info block
    assert "Kaffeerösterei Süß GmbH · Hafenstraße 3 · 20457 Hamburg" in text
    assert "Bäckerei Größe KG  \nJürgen Müller  \nKönigstraße 5  \n50667 Köln  \n" in text
    assert "Ihr Ansprechpartner: Anna Weiß" in text
    assert "Datum: 23.11.2026" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert doc.target.contact_id == shop["contact"]["id"]
    assert doc.target.deal_id == shop["deal"]["id"]


def test_an_order_confirmation_lists_lines_and_vat_per_rate(shop):
    order = shop["order"]
    doc = render("confirmation", str(order["id"]), "html")
    html = doc.content.decode()
    # 3 × 8,99 = 26,97 − 10 % (2,70) = 24,27 at 7 %; 49,90 − 4,99 = 44,91 at 19 %
    assert "Kaffee Äthiopien 500 g" in html and "3 Stück" in html
    assert "24,27 €" in html and "44,91 €" in html
    assert "zzgl. 19 % USt auf 44,91 €" in html and "8,53 €" in html
    assert "zzgl. 7 % USt auf 24,27 €" in html and "1,70 €" in html
    assert f"{order['gross']:.2f}".replace(".", ",") + " €" in html
    assert "abzgl. Rabatt 10 %" in html and "-7,69 €" in html and "darin" not in html
    assert "Warenwert" in html and "76,87 €" in html  # 26,97 + 49,90, before the discount
    assert html.startswith("<!DOCTYPE html>") and "top: 45mm; left: 20mm" in html
    assert '<p class="subject">Auftragsbestätigung zu Ihrer Bestellung vom 23.11.2026</p>' in html


def test_a_letter_takes_its_text_and_escapes_it_in_html(shop):
    doc = render(
        "letter", "Müller", "html", text="Erster Absatz <b>fett?</b>\n\nZweiter & letzter",
        subject="Ihr Besuch",
    )  # fmt: skip
    html = doc.content.decode()
    assert "<p>Erster Absatz &lt;b&gt;fett?&lt;/b&gt;</p>" in html
    assert "<p>Zweiter &amp; letzter</p>" in html
    assert "Ihr Besuch" in html and doc.subject == "Ihr Besuch"


def test_a_contract_with_a_deal(shop):
    doc = render(
        "contract", "Müller", deal=str(shop["deal"]["id"]), values={"frist": "sechs Wochen"}
    )
    text = doc.content.decode()
    assert "# Dienstleistungsvertrag" in text
    assert "1.234,50 € netto zuzüglich der gesetzlichen Umsatzsteuer, insgesamt 1.469,06 €" in text
    assert "Frist von sechs Wochen" in text
    assert "Hamburg, den 23.11.2026" in text


@pytest.mark.parametrize("name", ["letter", "offer", "confirmation", "contract"])
def test_every_builtin_template_makes_a_pdf_with_its_font_embedded(shop, name):
    ref = {"offer": shop["deal"]["id"], "confirmation": shop["order"]["id"]}.get(name, "Müller")
    doc = render(name, str(ref), "pdf", text="Grüße aus Köln: 1.234,50 € für Straße & Söhne")
    assert doc.content.startswith(b"%PDF-")
    text, fonts = pdf_text(doc.content)
    assert "Müller" in text and "€" in text
    assert "Kaffeerösterei Süß GmbH" in text
    assert fonts and all("DejaVuSans" in f for f in fonts)
    if name in ("letter", "offer", "confirmation"):
        assert "Grüße aus Köln: 1.234,50 € für Straße & Söhne" in text or name != "letter"
        assert "Datum:" in text and "23.11.2026" in text


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("name", ["letter", "offer", "confirmation", "contract"])
def test_every_builtin_template_as_markdown_and_html(shop, name, fmt):
    ref = {"offer": shop["deal"]["id"], "confirmation": shop["order"]["id"]}.get(name, "Müller")
    content = render(name, str(ref), fmt).content.decode()
    assert "Jürgen Müller" in content and "Kaffeerösterei Süß GmbH" in content
    if name in ("offer", "confirmation"):
        assert "Gesamtbetrag" in content and "€" in content
    if fmt == "html":
        assert content.startswith("<!DOCTYPE html>") and content.rstrip().endswith("</html>")
        assert "{{" not in content and "{%" not in content


def test_a_long_pdf_numbers_its_pages(shop):
    doc = render("letter", "Müller", "pdf", text="\n\n".join(["Ein Absatz. " * 40] * 12))
    text, _ = pdf_text(doc.content)
    assert "Seite 2 von 2" in text and "Seite 1" not in text  # DIN 5008: from page two


# ---------------------------------------------------------------- whom and what it is about


def test_a_deal_of_a_company_alone_is_addressed_to_the_company(db):
    from crmcli.services.companies import add_company

    firm = add_company("Größe & Partner GmbH", street="Domplatz 1", zip="50667", city="Köln")
    deal = deals.add_deal("Beratung", company_id=firm["id"], amount_cents=50000, now=NOW)
    doc = render("offer", str(deal["id"]))
    text = doc.content.decode()
    assert "Sehr geehrte Damen und Herren," in text
    assert "Größe & Partner GmbH  \nDomplatz 1  \n50667 Köln" in text
    assert (doc.target.contact_id, doc.target.company_id) == (None, firm["id"])


def test_a_contact_template_finds_its_contact_through_the_deal(shop):
    doc = render("contract", None, deal=str(shop["deal"]["id"]))
    assert doc.target.contact_id == shop["contact"]["id"]
    assert "Jürgen Müller" in doc.content.decode()


def test_salutations():
    person = {"name": "Anna Weber", "fields": {"Anrede": "Frau"}}
    assert documents.salutation(person) == "Sehr geehrte Frau Weber,"
    assert documents.salutation({"name": "Anna Weber", "fields": {}}) == "Guten Tag Anna Weber,"
    assert documents.salutation(None) == "Sehr geehrte Damen und Herren,"


def test_refs_of_the_wrong_kind_or_another_customer_are_refused(shop):
    with pytest.raises(NotFound, match="no deal"):
        render("offer", "999")
    with pytest.raises(NotFound, match="no contact"):
        render("letter", "Niemand")
    with pytest.raises(Invalid, match="is for a deal: name one"):
        render("offer", None)
    other = contacts.add_contact("Erika Fremd", now=NOW)
    with pytest.raises(Invalid, match="another customer"):
        render("letter", str(other["id"]), deal=str(shop["deal"]["id"]))
    with pytest.raises(Invalid, match="another customer"):
        render("letter", str(other["id"]), order=str(shop["order"]["id"]))


def test_an_order_whose_contact_is_gone_cannot_be_addressed(shop):
    contacts.delete_contact(shop["contact"]["id"])
    with pytest.raises(Invalid, match="has no contact to write to"):
        render("confirmation", str(shop["order"]["id"]))


def test_an_unknown_template_names_how_to_list_them(shop):
    with pytest.raises(NotFound) as caught:
        render("mahnung", "Müller")
    assert caught.value.action == "list_doc_templates"


# ---------------------------------------------------------------- the user's own templates


def test_a_user_template_shadows_the_builtin_and_its_errors_are_one_line(shop, no_user_templates):
    no_user_templates.mkdir(parents=True)
    (no_user_templates / "letter.md").write_text(
        "---\ntitle: Mein Brief\nlayout: none\n---\nHallo {{ contact.name }}\n"
    )
    assert render("letter", "Müller").content.decode() == "Hallo Jürgen Müller\n"
    (no_user_templates / "bad.md").write_text("---\nlayout: none\n---\n\n{{ kunde.name }}\n")
    with pytest.raises(Invalid, match="template bad: line 5: 'kunde' is undefined"):
        render("bad", "Müller")
    (no_user_templates / "escape.md").write_text("{{ contact.__class__.__mro__ }}")
    with pytest.raises(Invalid, match="not allowed in a template"):
        render("escape", "Müller")
    (no_user_templates / "odd.md").write_text("---\nlayout: poster\n---\nx")
    with pytest.raises(Invalid, match="layout: poster is not one of"):
        render("odd", "Müller")
    (no_user_templates / "textonly.md").write_text("x")
    with pytest.raises(Invalid, match="has no html part for PDF"):
        render("textonly", "Müller", "pdf")


def test_a_template_sets_how_long_an_offer_is_valid(shop, no_user_templates):
    no_user_templates.mkdir(parents=True)
    (no_user_templates / "kurz.md").write_text("---\nvalid_days: 14\n---\n{{ valid_until|date }}")
    assert render("kurz", "Müller").content.decode() == "07.12.2026"
    (no_user_templates / "kurz.md").write_text("---\nvalid_days: bald\n---\nx")
    with pytest.raises(Invalid, match="valid_days: 'bald' is not 1 to 3650 days"):
        render("kurz", "Müller")


def test_html_a_pdf_cannot_lay_out_is_one_error(shop, no_user_templates):
    no_user_templates.mkdir(parents=True)
    (no_user_templates / "table.html").write_text("<table><tr><td>a<br>b</td></tr></table>")
    with pytest.raises(Invalid, match="template table: cannot lay out its HTML part as PDF"):
        render("table", "Müller", "pdf")


def test_a_pdf_never_fetches_pictures_from_the_network(shop, no_user_templates):
    no_user_templates.mkdir(parents=True)
    (no_user_templates / "pic.html").write_text('<p>x</p><img src="http://127.0.0.1:9/logo.png">')
    with pytest.raises(Invalid, match="template pic: image 'http://127.0.0.1:9/logo.png': a "
                       "document's pictures are files, not addresses"):  # fmt: skip
        render("pic", "Müller", "pdf")


# ---------------------------------------------------------------- the timeline


def test_a_rendered_document_is_recorded_on_the_timeline(shop):
    doc = render("offer", str(shop["deal"]["id"]), "pdf")
    written = []
    activity = documents.record_document(
        doc, "/tmp/angebot.pdf", lambda: written.append(True), now=NOW
    )
    assert written == [True]
    assert activity["kind"] == "document"
    assert activity["direction"] == "out"
    assert activity["subject"] == doc.subject
    assert "Template: offer (Angebot)" in activity["body"]
    assert "File: /tmp/angebot.pdf" in activity["body"]
    row = Activity.get_by_id(activity["id"])
    assert (row.contact_id, row.deal_id) == (shop["contact"]["id"], shop["deal"]["id"])


def test_an_order_document_names_the_order_on_the_timeline(shop):
    doc = render("confirmation", str(shop["order"]["id"]))
    activity = documents.record_document(doc, None, lambda: None, now=NOW)
    assert f"Order: #{shop['order']['id']}" in activity["body"]
    assert "File: standard output" in activity["body"]
    assert activity["order_id"] == shop["order"]["id"]  # linked: `crm show order` lists it


def test_nothing_is_recorded_when_the_writing_fails(shop):
    doc = render("letter", "Müller")
    before = Activity.select().count()

    def fail() -> None:
        raise PermissionError(13, "Permission denied")

    with pytest.raises(PermissionError):
        documents.record_document(doc, "/root/x.md", fail, now=NOW)
    assert Activity.select().count() == before


# ---------------------------------------------------------------- the sender


def test_the_sender_is_checked_and_cleared(db):
    me = documents.set_sender({"iban": "de89 3704 0044 0532 0130 00", "vat_rate": "7"})
    assert me["iban"] == "DE89370400440532013000"
    assert me["vat_bp"] == 700
    with pytest.raises(Invalid, match="check digits"):
        documents.set_sender({"iban": "DE88 3704 0044 0532 0130 00"})
    with pytest.raises(Invalid, match="not a sender field"):
        documents.set_sender({"slogan": "x"})
    me = documents.set_sender({"iban": "", "vat_rate": ""})
    assert me["iban"] is None and me["vat_bp"] == 1900
    assert documents.sender()["line"] == ""


def test_a_deal_is_taxed_at_the_senders_rate(shop):
    documents.set_sender({"vat_rate": "7"})
    text = render("offer", str(shop["deal"]["id"])).content.decode()
    assert "zzgl. 7 % USt auf 1.234,50 €: 86,42 €" in text


@pytest.mark.parametrize(
    ("path", "fmt", "chosen"),
    [("x.pdf", None, "pdf"), ("x.HTML", None, "html"), ("-", None, "md"), (None, None, "pdf"),
     ("-", "html", "html"), ("x.txt", "md", "md")],
)  # fmt: skip
def test_the_format_comes_from_the_file_name(path, fmt, chosen):
    assert documents.format_of(path, fmt) == chosen


@pytest.mark.parametrize(("path", "fmt"), [("x.txt", None), ("-", "pdf"), ("x", "docx")])
def test_formats_that_cannot_be(path, fmt):
    with pytest.raises(Invalid):
        documents.format_of(path, fmt)


def test_money_in_the_context_is_decimal(shop):
    doc = render("offer", str(shop["deal"]["id"]))
    assert doc.context["totals"]["gross"] == Decimal("1469.06")


def test_amounts_are_in_the_orders_own_currency(shop):
    """A USD order's confirmation prints dollars: `money` takes the document's currency."""
    from crmcli.models import SalesOrder

    SalesOrder.update(currency="USD").where(SalesOrder.id == shop["order"]["id"]).execute()
    for fmt in ("md", "html"):
        text = render("confirmation", str(shop["order"]["id"]), fmt=fmt).content.decode()
        assert "$" in text and "€" not in text, text


def test_markdown_prints_formatted_numbers_as_they_are_and_escapes_names():
    from crmcli.services import templating

    source = "{{ x|money }}\n{{ n|number }}\n{{ name }}\n{{ none|date }}|"
    context = {"x": -1, "n": -3, "name": "- Karl *fett*", "none": None}
    text = templating.render_string(source, {**context, templating.MARKDOWN_KEY: True})
    assert text.splitlines() == ["-1,00 €", "-3", "\\- Karl \\*fett\\*", "|"]
    plain = templating.render_string(source, context)
    assert plain.splitlines() == ["-1,00 €", "-3", "- Karl *fett*", "|"]
