"""A notice's QR code holds the absolute address of its verification page, and that page says
whether the document is genuine: 真实有效 with its record for a real notice, 未找到 for a number
or check code that does not match, and whether a posted file is the stored one."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageChops
from pypdf import PdfReader

from yiwang.cases import actions, notices
from yiwang.cases.models import NoticeKind
from yiwang.core import pdf_page

from .conftest import submitted_case
from .test_notices import read


def qr_in(data: bytes) -> Image.Image:
    (image,) = PdfReader(io.BytesIO(data)).pages[0].images
    return image.image.convert("1")


def same_image(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@pytest.fixture
def notice(world, settings):
    settings.YIWANG_PUBLIC_URL = "https://zwfw.example.gov.cn/"
    case = actions.Accept(submitted_case(world), world.clerk).run()
    return notices.issue(case, NoticeKind.ACCEPTANCE)


def test_qr_code_holds_the_absolute_verification_address(notice):
    url = notices.verify_url(notice.number, notice.case)
    assert url == f"https://zwfw.example.gov.cn/verify/{notice.number}/?code={notice.case.check_code}"
    # the image in the PDF is the QR code of exactly that address
    assert same_image(qr_in(read(notice)), Image.open(pdf_page.qr_png(url)).convert("1"))
    assert not same_image(qr_in(read(notice)), Image.open(pdf_page.qr_png(url + "x")).convert("1"))


def test_public_address_defaults_to_the_demo_server(settings):
    settings.YIWANG_PUBLIC_URL = ""
    assert notices.public_base_url() == "http://127.0.0.1:8000"


def test_verification_page_confirms_a_real_notice(notice):
    url = urlsplit(notices.verify_url(notice.number, notice.case))
    r = Client().get(url.path + "?" + url.query)
    body = r.content.decode()
    assert r.status_code == 200
    assert "真实有效" in body and "未找到" not in body
    case = notice.case
    for shown in (
        notice.number,
        "受理通知书",
        case.number,
        case.department.name,
        case.item_name,
        notice.sha256,
    ):
        assert shown in body
    assert case.applicant_name not in body and case.applicant_name[0] + "*" in body  # masked


def test_verification_page_refuses_a_tampered_number_or_code(notice):
    case = notice.case
    forged = notice.number[:-1] + ("2" if notice.number[-1] != "2" else "3")
    wrong_code = "AAAAAA" if case.check_code != "AAAAAA" else "BBBBBB"
    for path, code in ((f"/verify/{forged}/", case.check_code), (f"/verify/{notice.number}/", wrong_code)):
        r = Client().get(path, {"code": code})
        body = r.content.decode()
        assert r.status_code == 404
        assert "未找到该文书" in body and "真实有效" not in body
        # nothing of the record beyond what the visitor typed
        assert "verify-result" not in body and notice.sha256 not in body
        assert case.applicant_name not in body and case.department.name not in body


def test_posted_file_is_compared_with_the_stored_one(notice):
    path = f"/verify/{notice.number}/"
    code = notice.case.check_code
    genuine = read(notice)
    r = Client().post(path, {"code": code, "document": SimpleUploadedFile("a.pdf", genuine)})
    assert r.status_code == 200 and "与存档一致" in r.content.decode()
    altered = genuine.replace(b"%%EOF", b"%%EOF\n%x")
    r = Client().post(path, {"code": code, "document": SimpleUploadedFile("a.pdf", altered)})
    assert r.status_code == 200 and "与存档不一致" in r.content.decode()
    r = Client().post(path, {"code": code})
    assert "请选择要比对的文书文件" in r.content.decode()


def test_verification_form_finds_a_notice_by_typed_number_and_code(notice):
    assert "文书真伪核验" in Client().get("/verify/").content.decode()
    r = Client().get("/verify/", {"number": notice.number, "code": notice.case.check_code.lower()})
    assert r.status_code == 200 and "真实有效" in r.content.decode()


def test_serve_names_its_own_address_for_documents():
    from yiwang.core.management.commands.serve import serving_address

    assert serving_address("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert serving_address("0.0.0.0", 8100) == "http://127.0.0.1:8100"
    assert serving_address("::1", 8000) == "http://[::1]:8000"
