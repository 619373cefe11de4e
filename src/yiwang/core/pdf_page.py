"""The frame every document PDF shares (notices, e-certificates): an A4 fpdf2 document with its
title, the embedded Chinese font, and a QR code as an image.

The font is read only for the characters the document sets. fpdf2 looks up the width and glyph
id of every character a font maps (7,445 in the shipped GB 2312 cut) each time a font is added;
given the document's own characters (``unicode_range``) it reads only those, and the cut's
charstrings have no subroutines to resolve (``core.fonts.build``). The caller passes all the
text it will set; a character it sets outside that text would print as an empty box, so the
document is then drawn again with the whole font, and a warning names the characters.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import segno
from fpdf import FPDF

from . import fonts

FONT = "notosanssc"
# Characters a page may set beyond its own text: dates and numbers.
DIGITS = "年月日0123456789"

logger = logging.getLogger(__name__)


def _start(title: str, font: Path, codepoints: list[int] | None) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("yiwang")
    pdf.add_page()
    pdf.add_font(FONT, "", str(font), unicode_range=codepoints)
    # fontTools would recompute the bounding boxes of the embedded subset (every glyph's outline
    # run through a pen, twice: about 40 % of a notice's CPU). The whole font's boxes, kept,
    # still bound every glyph of the subset, which is all a viewer needs of them.
    pdf.fonts[FONT].ttfont.recalcBBoxes = False
    return pdf


def render(title: str, text: str, draw: Callable[[FPDF], None]) -> bytes:
    """The PDF that ``draw`` makes on a fresh A4 page; ``text`` holds every character it sets."""
    text += DIGITS
    codepoints = sorted({ord(c) for c in text} | {ord(" ")})
    pdf = _start(title, fonts.font_for(text), codepoints)
    draw(pdf)
    missing = pdf.fonts[FONT].missing_glyphs
    if missing:
        logger.warning(
            "PDF %r sets characters outside the text it declared (%s): drawn again with the whole font",
            title,
            "".join(chr(c) for c in missing[:20]),
        )
        pdf = _start(title, fonts.full_font(), None)
        draw(pdf)
    return bytes(pdf.output())


def qr_png(data: str) -> io.BytesIO:
    """``data`` as a QR code (error correction M), a PNG ready for ``FPDF.image``."""
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=4, border=2)
    buf.seek(0)
    return buf
