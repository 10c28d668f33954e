"""crm doc render -o FILE.pdf as a whole process: crm imports fpdf2 with the parts it never needs
deferred (services/document_pdf.py, crmcli/deferred.py), and the PDF is byte for byte the one
fpdf2 makes when it is imported whole, valid and complete (read back with pypdf): text with
umlauts and €, line items, italics, a logo with a colour profile, the page count."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tests.conftest import NOW

PROBE = """
import json, sys
if {whole}:
    import fpdf  # fpdf2 as it imports itself: every module at once
sys.argv = ["crm", *{argv!r}]
from crmcli.launch import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
from crmcli.deferred import is_deferred
from crmcli.services.document_pdf import DEFERRED
deferred = [name for name in DEFERRED if is_deferred(name)]
loaded = sorted(sys.modules)
# What was deferred still works when it is needed after all: each runs now, in full.
from fontTools.varLib import instancer
from PIL import ExifTags, ImageCms
import fontTools.varLib
late = [callable(instancer.instantiateVariableFont), callable(fontTools.varLib.build),
        ExifTags.Base.Orientation == 274, callable(ImageCms.createProfile)]
sys.stderr.write("STATE:" + json.dumps({{
    "deferred": deferred, "loaded": loaded, "late": late,
    "still_deferred": [name for name in DEFERRED if is_deferred(name)],
}}) + "\\n")
"""

OWN = """---
title: Mit Logo
layout: document
for: contact
subject: Logo und Kursives
---
{{ salutation }}
--- html ---
<img src="LOGO" width="30">
<p>{{ salutation }} <i>kursiv: Größe 1.234,50 €</i>, <b><i>fett und kursiv: Ärger</i></b>.</p>
<table><thead><tr><th>Pos.</th><th>Was</th></tr></thead>
<tbody><tr><td>1</td><td>Süßes für Öhringen</td></tr></tbody></table>
"""


@pytest.fixture
def shop(db_path, db, tmp_path, monkeypatch):
    """The sender, a customer, a deal and an order at two VAT rates, and a template of one's
    own with a logo (a PNG with an ICC colour profile: fpdf2 reads it through Pillow's
    colour management, a module crm defers)."""
    from PIL import Image, ImageCms

    from crmcli.services import contacts, deals, documents, orders, products
    from crmcli.services.orders import Item

    documents.set_sender({
        "name": "Kaffeerösterei Süß GmbH", "street": "Hafenstraße 3", "zip": "20457",
        "city": "Hamburg", "iban": "DE89370400440532013000",
    })  # fmt: skip
    person = contacts.add_contact(
        "Jürgen Müller", company="Bäckerei Größe KG", street="Königstraße 5", zip="50667",
        city="Köln", now=NOW,
    )  # fmt: skip
    deals.add_deal("Kaffeevollautomat", contact_id=person["id"], amount_cents=123450, now=NOW)
    products.add_product("KAF-500", "Kaffee Äthiopien 500 g", price_cents=899, vat_bp=700, now=NOW)
    products.add_product("MUEHLE", "Kaffeemühle", price_cents=4990, now=NOW)
    orders.add_order(person["id"], [Item("KAF-500", 3), Item("MUEHLE", 1)], now=NOW)
    folder = tmp_path / "config" / "templates" / "doc"
    folder.mkdir(parents=True)
    logo = folder / "logo.png"  # pictures come from the config directory only
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    Image.new("RGB", (60, 20), (20, 120, 200)).save(logo, icc_profile=profile.tobytes())
    (folder / "logo.jinja").write_text(OWN.replace("LOGO", str(logo)))
    monkeypatch.setenv("CRM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CRM_NOW", NOW.isoformat())
    monkeypatch.chdir(tmp_path)
    return str(db_path)


def render(db: str, args: list[str], out: str, *, whole: bool) -> tuple[bytes, dict]:
    """`crm doc render ARGS -o OUT --no-log` in a new process; the PDF and what the process
    had loaded, with fpdf2 imported whole first or the way crm imports it."""
    argv = ["--db", db, "doc", "render", *args, "-o", out, "--no-log"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(whole=whole, argv=argv)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    state = json.loads(done.stderr.split("STATE:")[-1])
    with open(out, "rb") as pdf:
        return pdf.read(), state


def read_back(content: bytes) -> tuple[str, int, int]:
    """Text of every page, the page count and the number of pictures, read with pypdf."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, len(reader.pages), sum(len(page.images) for page in reader.pages)


LETTER = "Grüße aus Köln: 1.234,50 € für Straße & Söhne. Łódź, Ærø, Ωμέγα, Привет."
CASES = {
    "letter": (["letter", "müller", "-m", LETTER], [LETTER, "Jürgen Müller", "Königstraße 5"]),
    "offer": (["offer", "1"], ["Kaffeevollautomat", "1.234,50 €", "234,56 €", "1.469,06 €"]),
    "confirmation": (
        ["confirmation", "1"],
        ["Kaffee Äthiopien 500 g", "Kaffeemühle", "26,97 €", "49,90 €", "zzgl. 7 % USt"],
    ),
    "contract": (["contract", "müller", "--deal", "1"], ["Dienstleistungsvertrag", "1.469,06 €"]),
    "logo": (
        ["logo", "müller"],
        ["kursiv: Größe 1.234,50 €", "fett und kursiv: Ärger", "Öhringen"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_pdf_is_the_one_fpdf2_makes_imported_whole(shop, tmp_path, case):
    args, expected = CASES[case]
    content, state = render(shop, args, str(tmp_path / "deferred.pdf"), whole=False)
    whole, _ = render(shop, args, str(tmp_path / "whole.pdf"), whole=True)
    assert content == whole
    text, pages, pictures = read_back(content)
    assert pages == 1 and pictures == (1 if case == "logo" else 0)
    assert "Kaffeerösterei Süß GmbH" in text
    for words in expected:
        assert words in text, (words, text)
    if case == "logo":  # the colour profile was read: Pillow's ImageCms ran when needed
        assert "PIL.ImageCms" not in state["deferred"] and b"/ICCBased" in content


def test_a_long_letter_numbers_its_pages(shop, tmp_path):
    message = "\n\n".join(["Ein Absatz über Größe und Maß, 12,00 € das Stück. " * 30] * 10)
    content, _ = render(shop, ["letter", "müller", "-m", message], "long.pdf", whole=False)
    text, pages, _ = read_back(content)
    assert pages == 4 and "Seite 2 von 4" in text and "Seite 4 von 4" in text
    assert "Seite 1" not in text  # DIN 5008 numbers the pages after the first


def test_a_plain_letter_runs_none_of_what_crm_defers(shop, tmp_path):
    """What makes the PDF fast stays so: fpdf2 did not need the deferred modules, fontTools
    read the fonts' own glyph names (no Adobe Glyph List), numpy stayed hidden."""
    from crmcli.services.document_pdf import DEFERRED

    _, state = render(shop, ["letter", "müller", "-m", LETTER], "x.pdf", whole=False)
    assert state["deferred"] == list(DEFERRED)
    assert state["late"] == [True] * 4 and state["still_deferred"] == []
    assert "fpdf" in state["loaded"] and "fontTools.subset" in state["loaded"]
    assert not {"fontTools.agl", "numpy"} & set(state["loaded"])


def test_a_confirmation_with_a_discount_fits_its_eight_columns(shop, tmp_path):
    """With a discount the line table has eight columns: headers stay whole words, an amount
    keeps its € on the same line, and nothing of fpdf2's own logging reaches stderr."""
    from crmcli.services import contacts, orders, products
    from crmcli.services.orders import Item

    vera = contacts.add_contact("Vera", email="v@t.de", now=NOW)
    name = "Sehr langer Produktname Espressomaschine Deluxe Edition Schwarz"
    products.add_product("C1", name, price_cents=123456, now=NOW)
    products.add_product("A1", "Buch", price_cents=1000, vat_bp=700, now=NOW)
    order = orders.add_order(vera["id"], [Item("C1", 2), Item("A1", 3)], discount_bp=1250, now=NOW)
    out = str(tmp_path / "c.pdf")
    argv = ["--db", shop, "doc", "render", "confirmation", str(order["id"]), "-o", out, "--no-log"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(whole=False, argv=argv)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    said = done.stderr.split("STATE:")[0].splitlines()
    assert [line for line in said if not line.startswith("Wrote ")] == [], said
    with open(out, "rb") as pdf:
        text, pages, _ = read_back(pdf.read())
    assert pages == 1
    lines = text.splitlines()
    assert "Pos Bezeichnung Menge Preis USt Betrag Rabatt Netto" in lines, text
    assert "1.234,56 €" in text and "2.469,12 €" in text, text
    assert not any(line.strip() in {"€", "."} for line in lines), text
