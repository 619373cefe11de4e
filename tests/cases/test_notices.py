from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
from pypdf import PdfReader

from yiwang.cases import actions, notices
from yiwang.cases.models import Notice, NoticeKind
from yiwang.core import fonts

from .conftest import submitted_case


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # fpdf2 writes the CID-keyed Noto font's 2-byte codes through an embedded CMap; pypdf maps
    # each code to the right character but emits a NUL before it (poppler's pdftotext does
    # not). Compare without NULs and whitespace.
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))


def embedded_fonts(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    names = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for d in font.get("/DescendantFonts", [font]):
                desc = d.get_object()["/FontDescriptor"].get_object()
                if any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.append(str(d.get_object()["/BaseFont"]))
    return names


def read(notice: Notice) -> bytes:
    with notice.file.open("rb") as fh:
        return fh.read()


@pytest.mark.parametrize("kind", [NoticeKind.RECEIPT, NoticeKind.ACCEPTANCE, NoticeKind.DECISION])
def test_notice_pdf_has_extractable_chinese_and_embedded_font(world, kind, caplog):
    case = submitted_case(world)
    if kind != NoticeKind.RECEIPT:
        case = actions.Accept(case, world.clerk).run()
    if kind == NoticeKind.DECISION:
        case = actions.Review(case, world.approver, decision="pass").run()
        case = actions.Decide(case, world.head, decision="deny", reasons="经营场所面积不足").run()
    with caplog.at_level(logging.WARNING, logger="yiwang.core.pdf_page"):
        notice = notices.issue(case, kind)
    assert not caplog.records  # every character it sets was declared: no second drawing
    data = read(notice)
    assert data.startswith(b"%PDF-")
    text = text_of(data)
    assert case.number in text and case.check_code in text
    assert str(notices.TITLES[kind]).replace("（", "(")[:4] in text.replace("（", "(")
    assert world.person.name in text and case.item_name in text
    fonts = embedded_fonts(data)
    assert fonts and all("NotoSansSC" in f for f in fonts)
    assert len(data) < 200_000  # a subset, not the 8 MB font
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
        assert case.number in out.decode() and world.person.name in out.decode()
    if kind == NoticeKind.DECISION:
        assert (
            "不予行政许可决定书" in text
            and "决定不予行政许可" in text
            and "行政复议" in text
            and "六个月" in text
        )
    if kind == NoticeKind.ACCEPTANCE:
        assert f"{case.due_date:%Y年%m月%d日}" in text


def test_correction_notice_lists_every_item_and_qr_links_to_verification(world, caplog):
    case = submitted_case(world)
    case = actions.RequestCorrection(
        case,
        world.clerk,
        items=[{"material": "营业执照", "reason": "已过有效期"}, {"field": "phone", "reason": "号码有误"}],
    ).run()
    with caplog.at_level(logging.WARNING, logger="yiwang.core.pdf_page"):
        notice = notices.issue(case, NoticeKind.CORRECTION)
    assert not caplog.records
    text = text_of(read(notice))
    assert "1.营业执照：已过有效期" in text and "2.联系电话：号码有误" in text
    url = urlparse(notices.verify_url(notice.number, case))
    assert url.scheme in ("http", "https") and url.netloc  # absolute: a phone scans it
    assert url.path == f"/verify/{notice.number}/"
    assert parse_qs(url.query) == {"code": [case.check_code]}
    reader = PdfReader(io.BytesIO(read(notice)))
    assert any(True for _ in reader.pages[0].images)  # the QR code


def test_notices_are_issued_after_commit_once(world, django_capture_on_commit_callbacks):
    from yiwang.cases import services

    from .conftest import filled_application

    app = filled_application(world)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.submit(app, user=world.applicant)
    assert list(case.notices.values_list("kind", flat=True)) == ["receipt"]
    again = notices.issue(case, NoticeKind.RECEIPT)
    assert case.notices.count() == 1 and again.number.endswith("HZ01")


def test_rare_name_character_falls_back_to_the_full_font(world):
    assert fonts.font_for("受理通知书 福州市鼓楼区") == fonts.SUBSET
    assert fonts.font_for("王喆") == fonts.full_font()  # 喆 is not in GB 2312
    case = submitted_case(world)
    case.applicant_name = "王喆"
    case.save(update_fields=["applicant_name"])
    text = text_of(read(notices.issue(case, NoticeKind.RECEIPT)))
    assert "王喆" in text


def test_notices_lost_with_their_job_are_made_by_the_sweep(world):
    """In a test transaction the after-commit jobs never run: exactly the case of a web process
    killed between a step's commit and its job's publish. The periodic sweep makes what each
    case should have, once, and leaves young cases to their own jobs."""
    import datetime as dt

    from django.utils import timezone

    decided = submitted_case(world)
    for step in (
        actions.Accept(decided, world.clerk),
        actions.Review(decided, world.approver, decision="pass"),
        actions.Decide(decided, world.head, decision="approve"),
    ):
        decided = step.run()
    refused = actions.RefuseToAccept(submitted_case(world), world.clerk, reasons="不属于本部门职责").run()
    young = submitted_case(world)
    assert not Notice.objects.exists()

    assert notices.issue_missing() == 0  # within the grace period: the steps' own jobs may run
    later = timezone.now() + dt.timedelta(minutes=5)
    assert notices.issue_missing(now=later) == 6
    kinds = lambda c: sorted(c.notices.values_list("kind", flat=True))  # noqa: E731
    assert kinds(decided) == ["acceptance", "decision", "receipt"]
    assert kinds(refused) == ["receipt", "refusal"]
    assert kinds(young) == ["receipt"]
    assert notices.issue_missing(now=later) == 0  # nothing twice
    assert notices.issue_missing(now=later + dt.timedelta(days=notices.SWEEP_DAYS + 1)) == 0
