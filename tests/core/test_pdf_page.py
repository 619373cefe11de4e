"""The shared frame of document PDFs: the font read for the document's own characters only, and
a character set outside the declared text still printed (drawn again with the whole font)."""

from __future__ import annotations

import io
import logging

from fpdf import FPDF
from pypdf import PdfReader

from tests.cases.test_notices import embedded_fonts, text_of
from yiwang.core import fonts, pdf_page


def glyph_count(data: bytes) -> int:
    """Glyphs in the embedded font program (the CFF's CharStrings)."""
    from fontTools.cffLib import CFFFontSet

    reader = PdfReader(io.BytesIO(data))
    font = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
    desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    program = desc["/FontFile3"].get_object().get_data()
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(program), None)
    return len(cff[cff.fontNames[0]].CharStrings)


def page(text: str, *, declared: str | None = None) -> bytes:
    def draw(pdf: FPDF) -> None:
        pdf.set_font(pdf_page.FONT, size=12)
        pdf.multi_cell(w=0, h=8, text=text)

    return pdf_page.render("测试文书", text if declared is None else declared, draw)


def test_page_embeds_only_the_characters_it_sets(monkeypatch):
    text = "准予行政许可决定书 2026年11月26日"
    added = []
    original = FPDF.add_font

    def spy(self, *args, **kwargs):
        added.append(kwargs.get("unicode_range"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FPDF, "add_font", spy)
    data = page(text)
    assert text.replace(" ", "") in text_of(data)
    assert all("NotoSansSC" in f for f in embedded_fonts(data))
    # the font was read for the declared characters (and the digits), not its 7,445
    assert len(added) == 1 and set(added[0]) == {ord(c) for c in text + pdf_page.DIGITS}
    assert glyph_count(data) < len(set(text)) + 5


def test_character_outside_the_declared_text_is_still_printed(caplog):
    with caplog.at_level(logging.WARNING, logger="yiwang.core.pdf_page"):
        data = page("申请人陈玉亭", declared="申请人")
    assert "申请人陈玉亭" in text_of(data)
    assert "陈玉亭" in caplog.text  # the warning names what was left out


def test_rare_character_uses_the_full_font():
    assert fonts.font_for("王喆") == fonts.full_font()
    assert "王喆" in text_of(page("王喆"))


def test_shipped_subset_has_no_subroutines():
    """Subsetting a font with subroutines costs a third more per document (fonts.build)."""
    from fontTools.ttLib import TTFont

    cff = TTFont(str(fonts.SUBSET))["CFF "].cff
    top = cff[cff.fontNames[0]]
    assert len(cff.GlobalSubrs) == 0
    assert all(len(getattr(fd.Private, "Subrs", [])) == 0 for fd in top.FDArray)
