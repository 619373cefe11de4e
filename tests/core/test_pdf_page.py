"""The shared frame of document PDFs: the font read for the document's own characters only, and
a character set outside the declared text still printed (drawn again with the whole font)."""

from __future__ import annotations

import io
import logging

import pytest
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


def cjk_measure(s: str) -> float:
    """One unit per Chinese character or full-width mark, half a unit for anything else."""
    return sum(1.0 if ord(c) > 0x2000 else 0.5 for c in s)


@pytest.mark.parametrize(
    "text,width",
    [
        # the receipt's sentence: fpdf2 broke it at the space and left "。" alone at the end
        (
            "您于 2026年12月08日 01:42 提交的“食品经营许可”申请已收到，鼓楼区市场监督管理局将依法审查是否受理。",
            37,
        ),
        ("一二三四五六七八九十。", 10),  # exactly one character too long: the "。" must not go alone
        ("一二三四五六七八九十。”", 10),  # two closing marks in a row
        ("一二三四五六七八九，十一二三四五六七八九。", 10),
        ("一二三四五六七八（九十）", 10),  # an opening bracket at the end of a line
        ("受理日期：2026年12月08日；办理期限：2026年12月22日。", 24),
    ],
)
def test_wrap_never_starts_a_line_with_closing_punctuation(text, width):
    lines = pdf_page.wrap(text, width, cjk_measure)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for i, line in enumerate(lines):
        assert line and cjk_measure(line) <= width
        assert len(line) > 1, f"a lone character on line {i}: {lines}"
        if i:
            assert line[0] not in pdf_page.NO_LINE_START, lines
        if i < len(lines) - 1:
            assert line[-1] not in pdf_page.NO_LINE_END, lines


def test_wrap_keeps_dates_and_latin_runs_whole():
    lines = pdf_page.wrap(
        "办理期限：2026年12月22日。请凭编号 35010220261208000001-SL01 查询。", 20, cjk_measure
    )
    assert any("2026年12月22日。" in line for line in lines), lines
    assert any("35010220261208000001-SL01" in line for line in lines), lines


def test_wrap_hangs_punctuation_only_when_nothing_can_be_carried():
    assert pdf_page.wrap("一。", 1, cjk_measure) == ["一。"]
    assert pdf_page.wrap("", 10, cjk_measure) == []


def test_paragraph_sets_the_receipt_sentence_without_a_lone_full_stop():
    import shutil
    import subprocess

    sentence = (
        "您于 2026年12月08日 01:42 提交的“食品经营许可”申请已收到，鼓楼区市场监督管理局将依法审查是否受理。"
    )

    def draw(pdf: FPDF) -> None:
        pdf.set_margins(20, 20, 20)
        pdf.set_font(pdf_page.FONT, size=12)
        pdf_page.paragraph(pdf, sentence, 8)

    data = pdf_page.render("测试文书", sentence, draw)
    if not shutil.which("pdftotext"):
        pytest.skip("needs poppler-utils")
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout
    lines = [line.strip() for line in out.decode().splitlines() if line.strip()]
    assert len(lines) == 2 and all(len(line) > 3 for line in lines), lines
    assert lines[0].startswith("您于 2026年12月08日 01:42 提交的")
