"""Every kind of notice drawn as a person sees it: made through the real steps, read back with
poppler (``pdftotext -layout``) and rendered to a PNG (``pdftoppm``). No line of the page may be,
or begin with, closing punctuation (避头尾), and page 1 must carry ink."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from yiwang.cases import actions, notices
from yiwang.cases.models import NoticeKind
from yiwang.core.pdf_page import NO_LINE_START

from .conftest import submitted_case
from .test_notices import read

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")), reason="needs poppler-utils"
)

LONG_REASON = "经现场核查，申请人提交的经营场所平面图与实际不符，且食品处理区面积不足规定标准。"


def make_notice(world, which: str):
    """The case at the step that issues ``which``, and the notice that step issues."""
    case = submitted_case(world)
    if which == "receipt":
        return case, notices.issue(case, NoticeKind.RECEIPT)
    if which == "refusal":
        case = actions.RefuseToAccept(case, world.clerk, reasons=LONG_REASON).run()
        return case, notices.issue(case, NoticeKind.REFUSAL)
    if which == "correction":
        case = actions.RequestCorrection(
            case,
            world.clerk,
            items=[
                {"material": "营业执照", "reason": "已过有效期"},
                {"field": "phone", "reason": "号码有误"},
            ],
        ).run()
        return case, notices.issue(case, NoticeKind.CORRECTION)
    case = actions.Accept(case, world.clerk).run()
    if which == "acceptance":
        return case, notices.issue(case, NoticeKind.ACCEPTANCE)
    case = actions.Review(case, world.approver, decision="pass").run()
    if which == "decision-approve":
        case = actions.Decide(case, world.head, decision="approve", reasons=LONG_REASON).run()
    else:
        case = actions.Decide(case, world.head, decision="deny", reasons=LONG_REASON).run()
    return case, notices.issue(case, NoticeKind.DECISION)


def layout_lines(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def page_image(pdf: Path) -> Image.Image:
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(pdf.with_suffix(""))], check=True
    )
    (png,) = pdf.parent.glob(pdf.stem + "*.png")
    return Image.open(png).convert("L")


WHICH = ["receipt", "acceptance", "refusal", "correction", "decision-approve", "decision-deny"]


@pytest.mark.parametrize("which", WHICH)
def test_notice_page_reads_and_renders_without_orphan_punctuation(world, which, tmp_path):
    case, notice = make_notice(world, which)
    pdf = tmp_path / f"{which}.pdf"
    pdf.write_bytes(read(notice))
    lines = layout_lines(pdf)
    text = "".join(lines).replace(" ", "")
    assert notices.title_of(case, notice.kind) in text
    assert case.number in text and case.check_code in text and notice.number in text
    assert case.item_name in text and case.applicant_name in text
    for line in lines:
        # -layout keeps columns apart with runs of spaces: each run is a line's own text
        for piece in line.split("  "):
            piece = piece.strip()
            assert not piece or piece[0] not in NO_LINE_START, (
                f"{which}: line starts with punctuation: {line!r}"
            )
    if which == "receipt":
        assert f"{case.submitted_at.astimezone().year}年" in text and "依法审查是否受理。" in text
    if which in ("refusal", "decision-deny", "decision-approve"):
        assert LONG_REASON in text
    if which == "correction":
        assert "1.营业执照：已过有效期" in text and "2.联系电话：号码有误" in text

    image = page_image(pdf)
    assert image.width > 400 and image.height > 600  # A4 at 60 dpi: 496 x 702
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "page 1 is blank"
    # the text block is not one glyph wide: ink reaches past the middle of the page
    right_half = image.crop((image.width // 2, 0, image.width, image.height))
    assert sum(right_half.histogram()[:128]) > 200
