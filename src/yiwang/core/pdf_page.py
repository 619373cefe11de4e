"""The frame every document PDF shares (notices, e-certificates): an A4 fpdf2 document with its
title, the embedded Chinese font, and a QR code as an image.

The font is read only for the characters the document sets. fpdf2 looks up the width and glyph
id of every character a font maps (7,445 in the shipped GB 2312 cut) each time a font is added;
given the document's own characters (``unicode_range``) it reads only those, and the cut's
charstrings have no subroutines to resolve (``core.fonts.build``). The caller passes all the
text it will set; a character it sets outside that text would print as an empty box, so the
document is then drawn again with the whole font, and a warning names the characters.

Paragraphs are set by ``paragraph`` (not fpdf2's ``multi_cell``): fpdf2 breaks a line only at a
space, so a Chinese sentence with one space in it ("您于 2026年…") was broken at that space, the
short first line justified across the page, and the rest cut wherever it overflowed, down to a
lone "。". ``wrap`` breaks between any two Chinese characters, keeps a run of Latin letters and
digits together, and follows the 避头尾 rules: closing punctuation never starts a line and an
opening bracket never ends one (the character before is carried down with it). Lines are set flush
left and never stretched.
"""

from __future__ import annotations

import io
import logging
import re
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


# 避头尾: what may not start a line (closing punctuation) and what may not end one (openings).
NO_LINE_START = frozenset("。，、；：？！）」』》〉】〕〗”’…—～·%‰℃.,;:?!)]}'\"")
NO_LINE_END = frozenset("（「『《〈【〔〖“‘([{")


def _units(text: str) -> list[str]:
    """``text`` cut where a line may break: each Chinese character alone, a date
    (``2026年12月22日``) and a run of Latin letters, digits and their joiners (``17:41``, ``3.5``,
    ``SL01``) kept whole, each space alone."""
    return re.findall(r"(?:\d{4}年)?\d{1,2}月\d{1,2}日|[A-Za-z0-9][A-Za-z0-9.:/\-_@]*[A-Za-z0-9]|\s|.", text)


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (as ``measure`` gives a string's width),
    by the rules in the module's docstring. A unit wider than a line alone is cut by character;
    a line is let overflow by its closing punctuation only when carrying a character down would
    leave it empty."""
    units: list[str] = []
    for unit in _units(text):
        if len(unit) > 1 and measure(unit) > width:
            units.extend(unit)
        else:
            units.append(unit)
    lines: list[list[str]] = []
    line: list[str] = []
    for unit in units:
        if not line and unit.isspace():
            continue  # no line starts with a space
        if not line or measure("".join(line) + unit) <= width:
            line.append(unit)
            continue
        # Closing punctuation may not start the next line, nor an opening end this one: carry
        # the characters before it down, as long as something stays on this line.
        carried: list[str] = []
        while len(line) > 1 and (carried[0] if carried else unit) in NO_LINE_START:
            carried.insert(0, line.pop())
        while len(line) > 1 and line[-1] in NO_LINE_END:
            carried.insert(0, line.pop())
        if (carried[0] if carried else unit) in NO_LINE_START:
            line += [*carried, unit]  # nothing could be carried down: the punctuation hangs
            continue
        lines.append(line)
        line = [*carried, unit]
        while line and line[0].isspace():
            line.pop(0)
    if line:
        lines.append(line)
    return ["".join(units_).rstrip() for units_ in lines]


def paragraph(pdf: FPDF, text: str, h: float, *, x: float | None = None, w: float = 0) -> None:
    """``text`` set flush left in lines of height ``h`` from ``x`` (default: the left margin) across
    ``w`` (0: to the right margin); the cursor ends at the start of the next line."""
    x = pdf.l_margin if x is None else x
    width = (w or pdf.w - pdf.r_margin - x) - 2 * pdf.c_margin
    for line in wrap(text, width, pdf.get_string_width) or [""]:
        pdf.set_x(x)
        pdf.cell(w=width + 2 * pdf.c_margin, h=h, text=line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x)


DEMO_PUBLIC_URL = "http://127.0.0.1:8000"  # what `make demo` serves


def public_url(path: str) -> str:
    """``path`` on the platform's public address (settings.YIWANG_PUBLIC_URL): what a document's
    QR code holds, absolute, since a phone scanning paper has nothing to resolve a path against."""
    from django.conf import settings

    base = (getattr(settings, "YIWANG_PUBLIC_URL", "") or DEMO_PUBLIC_URL).rstrip("/")
    return base + "/" + path.lstrip("/")


def qr_png(data: str) -> io.BytesIO:
    """``data`` as a QR code (error correction M), a PNG ready for ``FPDF.image``."""
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=4, border=2)
    buf.seek(0)
    return buf
