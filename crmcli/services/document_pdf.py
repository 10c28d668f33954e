"""A document as PDF, drawn with fpdf2 (pure Python) in DejaVu Sans, embedded (umlauts, ß, €).

The `din5008` layout is a letter after DIN 5008, form B: the letterhead, the address field 20
mm from the left and 45 mm from the top (85 × 45 mm: the return address line at the foot of
its 17.7 mm note zone, then the address), the info block at 125 mm beside it from 50 mm down,
the subject in bold at 98.46 mm, the text, and a footer with the sender's address, bank and
tax data on every page; fold marks at 105 and 210 mm and the hole mark at 148.5 mm. The
`document` layout is a page with a letterhead and the same footer; `none` the text alone.
The text is the template's HTML part, which fpdf2 writes (paragraphs, bold, headings, lists,
tables for line items). fpdf2 is imported here only, when a PDF is made.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmcli.errors import Invalid

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FAMILY = "dejavu"
FONTS = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}
# Millimetres on an A4 page (210 × 297), after DIN 5008 form B.
LEFT, RIGHT, TOP = 25.0, 20.0, 20.0
WINDOW_X, WINDOW_Y, WINDOW_W = 20.0, 45.0, 85.0
NOTE_ZONE = 17.7  # the return address and notes above the address proper
INFO_X, INFO_Y, INFO_W = 125.0, 50.0, 75.0
LABEL_W = 33.0  # the info block's labels (Ihr Ansprechpartner:)
SUBJECT_Y = 98.46
FOOTER_H = 22.0
MARKS = ((105.0, 5.0), (148.5, 7.0), (210.0, 5.0))  # fold, hole, fold
SIZE = 10  # points: the text
LINE = 4.5  # mm: a line of 10 pt text


# What fpdf2 imports but a document of text, tables and pictures never runs, deferred
# (crmcli.deferred: each runs the first time something reads one of its names, so fpdf2 misses
# nothing): fontTools.varLib, the variable-font machinery (fpdf2 imports its instancer for
# add_font(variations=...), and its colour fonts and fontTools.subset a few helper modules of
# it, which load alone), Pillow's EXIF tag tables and its colour management: ~115 million
# instructions, ~20 ms, of a PDF (bench/README.md). Not deferred: modules that do their work
# as they are imported (Pillow's image plugins register themselves).
DEFERRED = ("fontTools.varLib", "fontTools.varLib.instancer", "PIL.ExifTags", "PIL.ImageCms")


def _load_fpdf() -> None:
    """Import fpdf2 the cheap way, once a process. Its modules and what they import live as
    long as the process and make no garbage, so the collector waits meanwhile (as it does
    while crm starts: crmcli.collector) and then leaves them alone (gc.freeze). numpy is
    hidden unless something loaded it already: fpdf2 imports it whenever it is installed
    (crm's CLV fits install it) only to decode large images faster, ~80 ms (a logo is decoded
    without it); a None in sys.modules is how Python marks a module as missing."""
    if "fpdf" in sys.modules:
        return
    import gc

    from crmcli.deferred import defer

    collecting = gc.isenabled()
    gc.disable()
    for name in DEFERRED:
        defer(name)
    hide_numpy = "numpy" not in sys.modules
    if hide_numpy:
        sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import fpdf  # noqa: F401
    finally:
        if hide_numpy:
            del sys.modules["numpy"]
        if collecting:
            gc.freeze()
            gc.enable()


# Loggers of the libraries that draw the PDF: what they note (a width fpdf2 ignores, a glyph
# fontTools drops) is for the template's author to see in the PDF, never lines on stderr.
QUIET = ("fpdf", "fontTools")


@contextmanager
def _quiet() -> Iterator[None]:
    """The drawing libraries' logging off while a PDF is made, as it was afterwards."""
    loggers = [logging.getLogger(name) for name in QUIET]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def pdf_bytes(body_html: str, context: Mapping[str, Any], *, layout: str) -> bytes:
    """The PDF of a document whose text is `body_html`, on the page `layout` draws."""
    with _quiet():
        return _pdf_bytes(body_html, context, layout=layout)


def _pdf_bytes(body_html: str, context: Mapping[str, Any], *, layout: str) -> bytes:
    _load_fpdf()
    from fpdf import FPDF
    from fpdf.enums import ResourceAccessPolicy
    from fpdf.errors import FPDFException

    footer = context.get("footer") or []
    me = context["sender"]

    class Page(FPDF):
        def footer(self) -> None:  # fpdf2 calls it as each page ends
            if layout != "none":
                _footer(self, footer)

    pdf = Page(format="A4", unit="mm")
    # A template may show a picture from a file (a logo), never fetch one from the network:
    # rendering a letter is no reason to tell a server that it was rendered.
    pdf.resource_access_policy = ResourceAccessPolicy.LOCAL_FILES
    pdf.set_creation_date(_utc(context["now"]))
    pdf.set_creator("crmcli")
    pdf.set_title(context.get("subject") or context["doc"]["title"])
    if me.get("name"):
        pdf.set_author(me["name"])
    styles = ["", "B"]
    lowered = body_html.lower()
    if "<i" in lowered or "<em" in lowered:  # the two italic fonts only when needed
        styles += ["I", "BI"]
    for style in styles:
        pdf.add_font(FAMILY, style, str(FONT_DIR / FONTS[style]))
    pdf.alias_nb_pages()
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=FOOTER_H + 8 if layout != "none" else 20)
    pdf.add_page()
    if layout == "din5008":
        _letter(pdf, context)
    elif layout == "document":
        _letterhead(pdf, me)
    pdf.set_font(FAMILY, size=SIZE)
    pdf.set_text_color(0)
    try:
        pdf.write_html(
            body_html,
            font_family=FAMILY,
            tag_styles=_tag_styles(),
            table_line_separators=True,
            warn_on_tags_not_matching=False,
        )
    except (FPDFException, ValueError, KeyError, NotImplementedError) as exc:
        raise Invalid(
            f"template {context['doc']['template']}", f"cannot lay out its HTML part as PDF: {exc}"
        ) from None
    return bytes(pdf.output())


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _tag_styles() -> dict:
    """Headings in black and bold at sizes a letter uses (fpdf2's own are red and large)."""
    from fpdf.fonts import TextStyle

    return {
        tag: TextStyle(font_size_pt=size, t_margin=top, color="#000000", font_style="B", b_margin=1)
        for tag, size, top in (("h1", 16, 4), ("h2", 11.5, 4), ("h3", 10.5, 3))
    }


def _letter(pdf, context: Mapping[str, Any]) -> None:
    """The parts of a DIN 5008 letter above its text; leaves the cursor where the text goes."""
    me = context["sender"]
    _marks(pdf)
    _letterhead(pdf, me, compact=True)
    # The address field: the return address in small type at the foot of the note zone.
    if me.get("line"):
        pdf.set_font(FAMILY, "", 7)
        pdf.set_xy(WINDOW_X + 5, WINDOW_Y + NOTE_ZONE - 4.5)
        pdf.cell(WINDOW_W - 5, 3.5, _fit(pdf, me["line"], WINDOW_W - 5), border="B")
    pdf.set_font(FAMILY, "", SIZE)
    y = WINDOW_Y + NOTE_ZONE
    for line in context["recipient"]["lines"][:6]:  # the address zone holds six lines
        pdf.set_xy(WINDOW_X + 5, y)
        pdf.cell(WINDOW_W - 5, LINE - 0.27, _fit(pdf, line, WINDOW_W - 5))
        y += LINE - 0.27
    # The info block beside it.
    pdf.set_font(FAMILY, "", 8.5)
    y = INFO_Y
    for label, value in context.get("info") or []:
        pdf.set_xy(INFO_X, y)
        pdf.cell(LABEL_W, 4, f"{label}:")
        pdf.cell(INFO_W - LABEL_W - 5, 4, _fit(pdf, str(value), INFO_W - LABEL_W - 5))
        y += 4
    # The subject, bold, then the text two lines below it.
    pdf.set_xy(LEFT, SUBJECT_Y)
    if context.get("subject"):
        pdf.set_font(FAMILY, "B", SIZE)
        pdf.multi_cell(0, LINE, context["subject"])
        pdf.ln(LINE)
    pdf.set_font(FAMILY, "", SIZE)


def _letterhead(pdf, me: Mapping[str, Any], *, compact: bool = False) -> None:
    """The sender's name (and on a plain page the return line) at the top right."""
    if not me.get("name"):
        if not compact:
            pdf.set_y(TOP)
        return
    pdf.set_xy(LEFT, 15 if compact else TOP)
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 7, me["name"], align="R")
    if not compact and me.get("line"):
        pdf.ln(7)
        pdf.set_font(FAMILY, "", 8)
        pdf.cell(0, 4, me["line"], align="R")
    pdf.ln(12)


def _marks(pdf) -> None:
    pdf.set_draw_color(140)
    pdf.set_line_width(0.2)
    for y, width in MARKS:
        pdf.line(3, y, 3 + width, y)
    pdf.set_draw_color(0)


def _footer(pdf, columns: list[list[str]]) -> None:
    """The sender's address, contact, bank and tax data in columns."""
    top = 297 - FOOTER_H
    pdf.set_draw_color(140)
    pdf.set_line_width(0.2)
    pdf.line(LEFT, top, 210 - RIGHT, top)
    pdf.set_font(FAMILY, "", 6.5)
    pdf.set_text_color(60)
    if columns:
        # Each column as wide as its longest line asks, shrunk alike when they do not fit.
        wants = [max(pdf.get_string_width(line) for line in col) + 3 for col in columns]
        scale = min(1.0, (210 - LEFT - RIGHT) / sum(wants))
        x = LEFT
        for column, want in zip(columns, wants, strict=True):
            width = want * scale
            for j, line in enumerate(column[:4]):
                pdf.set_xy(x, top + 1.5 + j * 3)
                pdf.cell(width - 2, 3, _fit(pdf, line, width - 2))
            x += width
    if pdf.page_no() > 1:  # DIN 5008 numbers the pages that follow the first
        pdf.set_xy(LEFT, 297 - 8)
        pdf.cell(0, 3, f"Seite {pdf.page_no()} von {{nb}}", align="R")
    pdf.set_text_color(0)


def _fit(pdf, text: str, width: float) -> str:
    """`text` cut (with …) to fit `width` mm in the current font: an address field, an info
    block and a footer column have fixed widths."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"
